"""The packaged schemas: drift, metaschemas, references, formats, operations and the CLI."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from dagkit.cli import main
from dagkit.devtools import schemafiles
from dagkit.errors import SchemaError
from dagkit.schemas import store as schemas

REPO = Path(__file__).resolve().parents[1]
SCHEMAS_DIR = REPO / "schemas"
SPEC_FILE = SCHEMAS_DIR / "openapi" / "jobs-api.openapi.json"
COMPONENTS = SCHEMAS_DIR / "components"

UUID = "0b3f5f1a-2222-4333-8444-555555555555"
JOB = {
    "id": UUID,
    "workflow_id": "9e8d7c6b-5a49-4382-b716-a5f4e3d2c1b0",
    "workflow_name": "job-0b3f5f1a",
    "status": "COMPLETED",
    "created_at": "2025-06-22T11:37:21.648Z",
    "runtime": "PT2M30S",
    "input_file_ids": ["a.pdf"],
    "output_node_files": [
        {"node_id": UUID, "file_id": "a.pdf", "node_type": "partition", "node_subtype": "vlm"}
    ],
    "job_type": "ephemeral",
}

#: The create-job operation exactly as the platform docs publish it (their YAML, as JSON).
PUBLISHED_CREATE_JOB: dict[str, Any] = {
    "tags": ["jobs"],
    "summary": "Create Job",
    "description": "Create a new on-demand job using either a template (with persistent job "
    "optimization) or custom DAG.",
    "operationId": "create_job",
    "parameters": [
        {
            "name": "unstructured-api-key",
            "in": "header",
            "required": False,
            "schema": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "title": "Unstructured-Api-Key",
            },
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {"schema": {"$ref": "#/components/schemas/Body_create_job"}}
        },
    },
    "responses": {
        "200": {
            "description": "Successful Response",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/JobInformation"}}
            },
        },
        "422": {
            "description": "Validation Error",
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
            },
        },
    },
}

OPERATIONS = {
    "create_job": ("POST", "/api/v1/jobs/"),
    "list_jobs": ("GET", "/api/v1/jobs/"),
    "get_job": ("GET", "/api/v1/jobs/{job_id}"),
    "get_job_details": ("GET", "/api/v1/jobs/{job_id}/details"),
    "get_job_failed_files": ("GET", "/api/v1/jobs/{job_id}/failed-files"),
    "download_job_output": ("GET", "/api/v1/jobs/{job_id}/download"),
    "cancel_job": ("POST", "/api/v1/jobs/{job_id}/cancel"),
    "list_templates": ("GET", "/api/v1/templates/"),
    "get_template": ("GET", "/api/v1/templates/{template_id}"),
    "create_workflow": ("POST", "/api/v1/workflows/"),
    "list_workflows": ("GET", "/api/v1/workflows/"),
    "get_workflow": ("GET", "/api/v1/workflows/{workflow_id}"),
    "update_workflow": ("PUT", "/api/v1/workflows/{workflow_id}"),
    "delete_workflow": ("DELETE", "/api/v1/workflows/{workflow_id}"),
    "run_workflow": ("POST", "/api/v1/workflows/{workflow_id}/run"),
}

COMPONENT_NAMES = [
    "Body_create_job",
    "Body_run_workflow",
    "CreateWorkflow",
    "CronTabEntry",
    "FailedFile",
    "HTTPValidationError",
    "JobDetails",
    "JobFailedFiles",
    "JobInformation",
    "JobNodeDetails",
    "JobProcessingStatus",
    "JobStatus",
    "NodeFileMetadata",
    "SortDirection",
    "TemplateDetail",
    "TemplateListItem",
    "TemplateNode",
    "UpdateWorkflow",
    "ValidationError",
    "WorkflowInformation",
    "WorkflowJobType",
    "WorkflowNode",
    "WorkflowSchedule",
    "WorkflowState",
    "WorkflowType",
]


def committed_components() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(COMPONENTS.glob("*.schema.json"))}


# --- drift and metaschemas -----------------------------------------------------------------------


def test_regenerating_the_components_gives_the_committed_bytes(tmp_path: Path) -> None:
    spec = schemafiles.read_openapi(SPEC_FILE)
    written = schemafiles.generate_component_schemas(spec, tmp_path / "out")
    regenerated = {p.name: p.read_bytes() for p in written}
    assert sorted(regenerated) == sorted(committed_components())
    for name, data in committed_components().items():
        assert regenerated[name] == data, f"{name} drifted: run dagkit schemas generate"


def test_generation_is_deterministic_and_keeps_spec_order(tmp_path: Path) -> None:
    spec = schemafiles.read_openapi(SPEC_FILE)
    first = schemafiles.render_component_schemas(spec)
    second = schemafiles.render_component_schemas(copy.deepcopy(spec))
    assert first == second
    job = json.loads(first["JobInformation.schema.json"])
    assert list(job)[:2] == ["$schema", "$id"]
    assert list(job)[2:] == list(spec["components"]["schemas"]["JobInformation"])
    assert all(data.endswith(b"}\n") and b"\r" not in data for data in first.values())


def test_the_operations_use_exactly_the_expected_components() -> None:
    assert schemafiles.used_components(schemas.openapi_document()) == COMPONENT_NAMES
    assert schemas.schema_names() == ["request-data", *COMPONENT_NAMES, "openapi"]


def test_packaged_schemas_pass_every_check() -> None:
    assert schemafiles.check_schemas() == []
    assert schemafiles.check_schemas(SCHEMAS_DIR) == []


@pytest.mark.parametrize("name", ["request-data", *COMPONENT_NAMES])
def test_every_schema_file_passes_its_metaschema_and_has_its_id(name: str) -> None:
    schema = schemas.load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == schemas.SCHEMA_BASE + schemas.schema_path(name)
    assert schema["$id"] == schemas.schema_id(name)
    assert schema.get("title")


@pytest.mark.parametrize("name", COMPONENT_NAMES)
def test_component_files_keep_titles_and_point_refs_at_siblings(name: str) -> None:
    spec_schema = schemas.openapi_document()["components"]["schemas"][name]
    schema = schemas.load_schema(name)
    assert schema["title"] == spec_schema["title"] == name
    assert schema.get("description") == spec_schema.get("description")
    text = json.dumps(schema)
    assert "#/components/" not in text
    resolver = schemas.registry().resolver(base_uri=schema["$id"])
    for ref in _refs(schema):
        assert ref.endswith(".schema.json") and "/" not in ref
        assert (COMPONENTS / ref).is_file()
        resolver.lookup(ref)  # raises if it does not resolve


def _refs(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for k, v in node.items() if k != "$ref" for r in _refs(v)]
    return []


def copy_schemas(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_check_names_each_drifted_missing_and_extra_file(tmp_path: Path) -> None:
    root = copy_schemas(tmp_path)
    spec = json.loads((root / "openapi/jobs-api.openapi.json").read_text())
    spec["components"]["schemas"]["JobStatus"]["title"] = "Changed"
    (root / "openapi/jobs-api.openapi.json").write_text(json.dumps(spec))
    (root / "components/FailedFile.schema.json").unlink()
    (root / "components/Stale.schema.json").write_text(
        json.dumps({"$schema": schemas.DIALECT, "$id": schemas.SCHEMA_BASE + "x", "title": "S"})
    )
    problems = schemafiles.check_schemas(root)
    assert any(p.startswith("components/JobStatus.schema.json: differs") for p in problems)
    assert any(p.startswith("components/FailedFile.schema.json: missing") for p in problems)
    assert any(p.startswith("components/Stale.schema.json: not generated") for p in problems)
    assert any('components/Stale.schema.json: "$id" must be' in p for p in problems)
    assert not any("JobInformation.schema.json" in p for p in problems)


def test_check_finds_metaschema_id_and_reference_errors(tmp_path: Path) -> None:
    root = copy_schemas(tmp_path)
    rd = root / "request-data.schema.json"
    schema = json.loads(rd.read_text())
    schema["type"] = 5
    schema["$id"] = "https://elsewhere.invalid/x.json"
    schema["properties"] = {"x": {"$ref": "#/$defs/nowhere"}}
    rd.write_text(json.dumps(schema))
    job = root / "components/JobInformation.schema.json"
    job.write_text(job.read_text().replace('"JobStatus.schema.json"', '"NoSuch.schema.json"'))
    problems = schemafiles.check_schemas(root)
    assert any(
        "request-data.schema.json: breaks the 2020-12 metaschema at $.type" in p for p in problems
    )
    assert any('request-data.schema.json: "$id" must be' in p for p in problems)
    assert any("request-data.schema.json: $ref '#/$defs/nowhere'" in p for p in problems)
    assert any("JobInformation.schema.json: $ref 'NoSuch.schema.json'" in p for p in problems)
    assert any("JobInformation.schema.json: differs" in p for p in problems)


def test_check_reports_a_broken_openapi_document(tmp_path: Path) -> None:
    root = copy_schemas(tmp_path)
    spec = json.loads((root / "openapi/jobs-api.openapi.json").read_text())
    get_job = spec["paths"]["/api/v1/jobs/{job_id}"]["get"]
    get_job["parameters"] = [p for p in get_job["parameters"] if p["name"] != "job_id"]
    spec["paths"]["/api/v1/jobs/{job_id}/details"]["get"]["operationId"] = "get_job"
    spec["components"]["schemas"]["FailedFile"]["required"] = "document"
    (root / "openapi/jobs-api.openapi.json").write_text(json.dumps(spec))
    problems = "\n".join(schemafiles.check_schemas(root))
    assert "GET /api/v1/jobs/{job_id}: path parameter {job_id} is not declared" in problems
    assert 'operationId "get_job" is also used by GET /api/v1/jobs/{job_id}' in problems
    assert "components.schemas.FailedFile: breaks the 2020-12 metaschema" in problems

    (root / "openapi/jobs-api.openapi.json").write_text("{not json")
    assert schemafiles.check_schemas(root)[0].startswith(
        "openapi/jobs-api.openapi.json: not valid JSON"
    )


# --- the OpenAPI document ------------------------------------------------------------------------


def test_create_job_is_exactly_the_published_operation() -> None:
    doc = schemas.openapi_document()
    assert doc["paths"]["/api/v1/jobs/"]["post"] == PUBLISHED_CREATE_JOB
    assert doc["openapi"] == "3.1.0"


def test_every_operation_sits_at_its_path_with_parameters_and_key_header() -> None:
    doc = schemas.openapi_document()
    assert schemas.operation_ids() == list(OPERATIONS)
    assert schemas.operation_routes() == OPERATIONS
    for op_id, (method, path) in OPERATIONS.items():
        operation = doc["paths"][path][method.lower()]
        assert operation["operationId"] == op_id
        params = {(p["name"], p["in"]): p for p in operation["parameters"]}
        assert ("unstructured-api-key", "header") in params
        for name in path.split("{")[1:]:
            declared = params[(name.split("}")[0], "path")]
            assert declared["required"] is True
        for response in operation["responses"].values():
            assert set(response["content"]) == {"application/json"}
    scheme = doc["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "unstructured-api-key"}
    assert doc["security"] == [{"ApiKeyAuth": []}]


def test_the_document_holds_no_excerpt_bookkeeping_and_keeps_the_seed_facts() -> None:
    text = SPEC_FILE.read_text()
    for leftover in ("_provenance", "_notes", "$ref_schema", "_note", "content_type_expected"):
        assert leftover not in text
    components = schemas.openapi_document()["components"]["schemas"]
    job = components["JobInformation"]
    assert job["required"] == ["id", "workflow_id", "workflow_name", "status", "created_at"]
    assert job["properties"]["runtime"]["anyOf"][0] == {"type": "string", "format": "duration"}
    assert job["properties"]["job_type"]["default"] == "ephemeral"
    assert components["JobStatus"]["enum"] == [
        "SCHEDULED",
        "IN_PROGRESS",
        "COMPLETED",
        "STOPPED",
        "FAILED",
    ]
    assert components["NodeFileMetadata"]["properties"]["node_id"]["format"] == "uuid"
    detail = components["HTTPValidationError"]["properties"]["detail"]
    assert [branch.get("type") for branch in detail["anyOf"]] == ["array", "string"]
    assert "Job not found" in detail["description"]


def test_openapi_document_passes_an_independent_openapi_validator() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(json.loads(SPEC_FILE.read_text()))


# --- loading and naming --------------------------------------------------------------------------


def test_unknown_names_say_what_exists_and_guess() -> None:
    with pytest.raises(SchemaError, match='Did you mean "JobStatus"') as caught:
        schemas.load_schema("jobstatus")
    assert "request-data" in str(caught.value) and "openapi" in str(caught.value)
    with pytest.raises(SchemaError, match='Did you mean "JobInformation"'):
        schemas.load_schema("JobInformaton")
    with pytest.raises(SchemaError, match="no schema named"):
        schemas.schema_info("nothing-like-it")


def test_schema_info_tells_where_each_schema_comes_from() -> None:
    infos = {name: schemas.schema_info(name) for name in schemas.schema_names()}
    assert infos["openapi"].path == "openapi/jobs-api.openapi.json"
    assert infos["openapi"].source == "hand-written"
    assert infos["openapi"].title == "Platform API"
    assert infos["request-data"].source == "generated from dagkit/model/catalogue/source.py"
    assert infos["request-data"].path == "request-data.schema.json"
    for name in COMPONENT_NAMES:
        assert infos[name].source == "generated from openapi/jobs-api.openapi.json"
        assert infos[name].path == f"components/{name}.schema.json"
        assert infos[name].id == schemas.SCHEMA_BASE + infos[name].path
        assert infos[name].title == name


def test_loading_is_cached_and_matches_the_files() -> None:
    assert schemas.load_schema("JobStatus") is schemas.load_schema("JobStatus")
    assert schemas.load_schema("JobStatus") == json.loads(
        (COMPONENTS / "JobStatus.schema.json").read_text()
    )
    assert schemas.openapi_document() == json.loads(SPEC_FILE.read_text())
    assert schemas.schema_by_id(schemas.schema_id("JobStatus") + "#/enum/0") == "SCHEDULED"
    with pytest.raises(SchemaError):
        schemas.schema_by_id("https://dagkit.invalid/schemas/nothing.json")


def test_importing_and_loading_do_not_import_jsonschema() -> None:
    code = (
        "import sys, dagkit.schemas.store as s\n"
        "assert 'jsonschema' not in sys.modules and 'referencing' not in sys.modules\n"
        "[s.load_schema(n) for n in s.schema_names()]\n"
        "s.operation_for('GET', '/api/v1/jobs/')\n"
        "assert 'jsonschema' not in sys.modules, 'loading imported jsonschema'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# --- validation through the registry -------------------------------------------------------------


def test_a_job_validates_through_its_component_references() -> None:
    validator = schemas.validator("JobInformation")
    assert list(validator.iter_errors(JOB)) == []
    assert not validator.is_valid({**JOB, "status": "DONE"})  # via JobStatus.schema.json
    assert not validator.is_valid({**JOB, "job_type": "weekly"})  # via WorkflowJobType
    broken_file = {**JOB, "output_node_files": [{"node_id": UUID}]}  # via NodeFileMetadata
    assert not validator.is_valid(broken_file)
    assert schemas.validator("JobInformation") is validator


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("id", "0b3f5f1a22224333844455555555555"),
        ("workflow_id", "not-a-uuid"),
        ("created_at", "2025-06-22 11:37:21"),
        ("created_at", "2025-02-30T10:00:00Z"),
        ("runtime", "2m30s"),
        ("runtime", "PT"),
    ],
)
def test_formats_are_asserted(key: str, value: str) -> None:
    errors = list(schemas.validator("JobInformation").iter_errors({**JOB, key: value}))
    assert errors, f"{key}={value!r} passed"
    assert all(list(e.absolute_path) == [key] for e in errors)


@pytest.mark.parametrize(
    ("name", "instance", "valid"),
    [
        ("HTTPValidationError", {"detail": "Job not found"}, True),
        ("HTTPValidationError", {"detail": [{"loc": ["body", 0], "msg": "m", "type": "t"}]}, True),
        ("HTTPValidationError", {"detail": [{"loc": ["body"], "msg": "m"}]}, False),
        ("HTTPValidationError", {"detail": 404}, False),
        ("JobDetails", {"id": "j", "processing_status": "SUCCESS", "node_stats": []}, True),
        ("JobDetails", {"id": "j", "processing_status": "DONE", "node_stats": []}, False),
        ("JobFailedFiles", {"failed_files": [{"document": "a.pdf", "error": "bad"}]}, True),
        ("JobFailedFiles", {"failed_files": [{"document": "a.pdf"}]}, False),
        (
            "TemplateDetail",
            {
                "id": "t",
                "name": "n",
                "version": "1",
                "last_updated": "x",
                "description": "d",
                "nodes": [{"id": "1", "name": "P", "type": "partition", "subtype": "vlm"}],
            },
            True,
        ),
        (
            "TemplateDetail",
            {
                "id": "t",
                "name": "n",
                "version": "1",
                "last_updated": "x",
                "description": "d",
                "nodes": [{"id": "1"}],
            },
            False,
        ),
        ("Body_create_job", {"request_data": "{}"}, True),
        ("Body_create_job", {"input_files": None}, False),
    ],
)
def test_components_accept_and_reject_samples(name: str, instance: Any, valid: bool) -> None:
    assert schemas.validator(name).is_valid(instance) is valid


def test_the_openapi_document_is_not_a_validator() -> None:
    with pytest.raises(SchemaError, match="not a schema"):
        schemas.validator("openapi")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
JOB_VALUES = st.sampled_from(
    [UUID, "PT1S", "2025-01-01T00:00:00Z", "COMPLETED", "REJECTED", "template", None, []]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["JobInformation", "JobDetails", "HTTPValidationError", "TemplateDetail"]),
    changes=st.dictionaries(
        st.sampled_from([*JOB, "detail", "nodes", "processing_status", "node_stats"]),
        JOB_VALUES | JSON_VALUES,
        max_size=3,
    ),
    drop=st.sets(st.sampled_from(list(JOB)), max_size=2),
)
def test_component_files_judge_like_the_openapi_document(
    name: str, changes: dict[str, Any], drop: set[str]
) -> None:
    """Rewriting references into sibling files changes no verdict."""
    instance = {k: v for k, v in {**JOB, **changes}.items() if k not in drop}
    in_document = Draft202012Validator(
        {"$ref": schemas.schema_id("openapi") + f"#/components/schemas/{name}"},
        registry=schemas.registry(),
        format_checker=schemas.format_checker(),
    )
    assert schemas.validator(name).is_valid(instance) == in_document.is_valid(instance)


# --- responses and operations --------------------------------------------------------------------

WORKFLOW = {
    "id": UUID,
    "name": "w",
    "sources": [],
    "destinations": [],
    "status": "active",
    "created_at": "2025-01-01T00:00:00Z",
    "workflow_nodes": [{"name": "P", "type": "partition", "subtype": "vlm"}],
}

SAMPLE_BODIES = {
    ("create_job", "200"): (JOB, [JOB]),
    ("list_jobs", "200"): ([JOB], JOB),
    ("get_job", "200"): (JOB, {"id": UUID}),
    ("get_job_details", "200"): (
        {"id": "j", "processing_status": "IN_PROGRESS", "node_stats": []},
        {"id": "j"},
    ),
    ("get_job_failed_files", "200"): ({"failed_files": []}, {"failed_files": [1]}),
    ("download_job_output", "200"): ([{"type": "Title", "text": "x"}], None),
    ("cancel_job", "200"): ({"id": UUID, "status": "cancelled"}, None),
    ("list_templates", "200"): ([], [{"id": "t"}]),
    ("get_template", "200"): (
        {
            "id": "t",
            "name": "n",
            "version": "1",
            "last_updated": "x",
            "description": "",
            "nodes": [],
        },
        {"id": "t"},
    ),
    ("create_workflow", "200"): (WORKFLOW, [WORKFLOW]),
    ("list_workflows", "200"): ([WORKFLOW], WORKFLOW),
    ("get_workflow", "200"): (WORKFLOW, {"id": UUID}),
    ("update_workflow", "200"): (WORKFLOW, {**WORKFLOW, "status": "paused"}),
    ("delete_workflow", "200"): ({"detail": "Workflow deleted"}, None),
}


@pytest.mark.parametrize(
    ("operation", "status"),
    [(op, status) for op in OPERATIONS for status in ("200", "401", "404", "422")],
)
def test_response_schema_for_every_operation_and_status(operation: str, status: str) -> None:
    listed = schemas.openapi_document()["paths"][OPERATIONS[operation][1]][
        OPERATIONS[operation][0].lower()
    ]["responses"]
    schema = schemas.response_schema(operation, int(status))
    if status not in listed:
        assert schema is None
        assert schemas.response_validator(operation, status) is None
        return
    assert schema is not None
    assert schema == schemas.response_schema(operation, status)
    assert "#/components" not in json.dumps(schema)
    Draft202012Validator.check_schema(schema)
    validator = schemas.response_validator(operation, status)
    assert validator is not None
    if status == "200":
        good, bad = SAMPLE_BODIES[(operation, status)]
        assert validator.is_valid(good)
        if bad is not None:
            assert not validator.is_valid(bad)
    else:
        assert validator.is_valid({"detail": "Job not found"})
        assert not validator.is_valid({"detail": {"nested": 1}})
    assert schemas.response_statuses(operation) == sorted(listed)


def test_response_schema_refs_resolve_with_the_registry() -> None:
    resolver = schemas.registry().resolver()
    for operation in schemas.operation_ids():
        for status in schemas.response_statuses(operation):
            for ref in _refs(schemas.response_schema(operation, status)):
                assert ref.startswith(schemas.SCHEMA_BASE + "components/")
                resolver.lookup(ref)
    with pytest.raises(Unresolvable):
        resolver.lookup(schemas.SCHEMA_BASE + "components/Nope.schema.json")


def test_response_schema_of_an_unknown_operation_is_an_error() -> None:
    with pytest.raises(SchemaError, match='Did you mean "get_job"'):
        schemas.response_schema("get_jobs", 200)
    assert schemas.response_schema("get_job", 599) is None
    assert schemas.response_schema("get_job", "teapot") is None


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/api/v1/jobs/", "create_job"),
        ("post", "/api/v1/jobs", "create_job"),
        ("GET", "/api/v1/jobs/?status=COMPLETED", "list_jobs"),
        ("GET", f"/api/v1/jobs/{UUID}", "get_job"),
        ("GET", f"/api/v1/jobs/{UUID}/", "get_job"),
        ("GET", f"/api/v1/jobs/{UUID}/details", "get_job_details"),
        ("GET", f"/api/v1/jobs/{UUID}/failed-files", "get_job_failed_files"),
        ("GET", f"/api/v1/jobs/{UUID}/download?file_id=a.pdf", "download_job_output"),
        ("POST", f"/api/v1/jobs/{UUID}/cancel", "cancel_job"),
        ("GET", "/api/v1/templates/", "list_templates"),
        ("GET", "/api/v1/templates/hi_res_partition", "get_template"),
        ("DELETE", f"/api/v1/jobs/{UUID}", None),
        ("GET", f"/api/v1/jobs/{UUID}/cancel", None),
        ("GET", "/api/v1/jobs//details", None),
        ("GET", "/api/v2/jobs/", None),
        ("GET", "/", None),
        ("GET", "", None),
    ],
)
def test_operation_for_maps_requests_to_operations(
    method: str, path: str, expected: str | None
) -> None:
    assert schemas.operation_for(method, path) == expected


SEGMENT = st.text(
    st.characters(blacklist_characters="/?#", blacklist_categories=("Cs",)), min_size=1, max_size=12
)


@settings(max_examples=100, deadline=None)
@given(
    operation=st.sampled_from(list(OPERATIONS)), values=st.lists(SEGMENT, min_size=1, max_size=1)
)
def test_operation_for_finds_every_templated_path(operation: str, values: list[str]) -> None:
    method, template = OPERATIONS[operation]
    path = "/".join(values[0] if part.startswith("{") else part for part in template.split("/"))
    assert schemas.operation_for(method, path) == operation
    assert schemas.operation_for(method.lower(), path + "?x=1#top") == operation


# --- formats -------------------------------------------------------------------------------------

OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(timezones=OFFSETS))
def test_every_isoformat_timestamp_is_a_date_time(moment: datetime) -> None:
    text = moment.isoformat()
    assert schemas.is_date_time(text)
    assert schemas.is_date_time(text.replace("T", "t"))
    assert not schemas.is_date_time(text.replace("T", " "))
    assert not schemas.is_date_time(text[: text.rindex(":") - 3])  # offset cut off


_STAMP_CHARS = "0123456789-:TZtz.+ "


@st.composite
def stamps(draw: st.DrawFn) -> str:
    """Date-times as servers write them (offset or Z, any case, fractions), each kept whole or
    changed in one place, so valid and invalid texts both come up, most of them close calls."""
    moment = draw(st.datetimes(timezones=OFFSETS))
    text = moment.isoformat(timespec=draw(st.sampled_from(["seconds", "milliseconds", "auto"])))
    if text.endswith("+00:00") and draw(st.booleans()):
        text = text[:-6] + "Z"
    if draw(st.booleans()):
        text = text.replace("T", "t").replace("Z", "z")
    edit = draw(st.sampled_from(["none", "replace", "delete", "insert"]))
    if edit != "none":
        at = draw(st.integers(0, len(text) - 1))
        new = draw(st.sampled_from(_STAMP_CHARS))
        text = text[:at] + ("" if edit == "delete" else new) + text[at + (edit != "insert") :]
    return text


@settings(max_examples=300)
@given(st.one_of(stamps(), st.text(alphabet=_STAMP_CHARS, max_size=30)))
def test_date_time_agrees_with_rfc3339_validator(text: str) -> None:
    rfc3339 = pytest.importorskip("rfc3339_validator")
    leap = len(text) > 18 and text[17:19] == "60"  # that library rejects every leap second
    if not leap:
        valid = rfc3339.validate_rfc3339(text.upper())
        event(f"the validator says {'valid' if valid else 'invalid'}")
        assert schemas.is_date_time(text) == valid


def test_date_time_examples_include_valid_ones() -> None:
    """The agreement test above compares acceptances too, not only rejections."""
    rfc3339 = pytest.importorskip("rfc3339_validator")
    seen: list[bool] = []

    @settings(max_examples=100, database=None)
    @given(stamps())
    def record(text: str) -> None:
        seen.append(bool(rfc3339.validate_rfc3339(text.upper())))

    record()
    assert seen.count(True) >= 10 and seen.count(False) >= 10


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("1998-12-31T23:59:60Z", True),
        ("1998-12-31T15:59:60.123-08:00", True),
        ("1998-12-31T22:59:60Z", False),
        ("1998-12-31T23:59:61Z", False),
        ("2024-02-29T00:00:00Z", True),
        ("2023-02-29T00:00:00Z", False),
        ("2000-02-29T00:00:00+00:00", True),
        ("1900-02-29T00:00:00+00:00", False),
        ("2025-04-31T00:00:00Z", False),
        ("2025-01-01T24:00:00Z", False),
        ("2025-01-01T00:00:00+24:00", False),
        ("2025-01-01T00:00:00", False),
        ("2025-01-01T00:00:00Z\n", False),
        ("２０２５-01-01T00:00:00Z", False),
    ],
)
def test_date_time_edges(text: str, valid: bool) -> None:
    assert schemas.is_date_time(text) is valid


def duration_parts() -> st.SearchStrategy[str]:
    number = st.integers(0, 10**6).map(str)
    date = st.tuples(*(st.none() | number.map(lambda n, u=u: n + u) for u in "YMD"))
    time = st.tuples(*(st.none() | number.map(lambda n, u=u: n + u) for u in "HMS"))

    def build(parts: tuple[tuple[str | None, ...], tuple[str | None, ...]]) -> str:
        d = "".join(p for p in parts[0] if p)
        t = "".join(p for p in parts[1] if p)
        return "P" + d + ("T" + t if t else "")

    return st.tuples(date, time).map(build).filter(lambda s: s != "P") | number.map(
        lambda n: f"P{n}W"
    )


@settings(max_examples=200, deadline=None)
@given(duration_parts(), st.integers(0, 999))
def test_generated_durations_are_durations(text: str, fraction: int) -> None:
    assert schemas.is_duration(text)
    with_fraction = f"{text[:-1]}.{fraction}{text[-1]}"
    assert schemas.is_duration(with_fraction)
    assert not schemas.is_duration(text.lower())
    assert not schemas.is_duration(text + "T")


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("PT2M30S", True),
        ("P1DT12H", True),
        ("PT36H", True),
        ("P0D", True),
        ("PT0.5S", True),
        ("PT1,5S", True),
        ("P2W", True),
        ("P", False),
        ("PT", False),
        ("P1DT", False),
        ("PT1.5M30S", False),
        ("P1W1D", False),
        ("P1M1Y", False),
        ("-PT1S", False),
        ("pt1s", False),
        ("PT1S\n", False),
        ("P１D", False),
        ("2 minutes", False),
    ],
)
def test_duration_edges(text: str, valid: bool) -> None:
    assert schemas.is_duration(text) is valid


@settings(max_examples=200, deadline=None)
@given(st.uuids(), st.text(max_size=40))
def test_uuid_format(value: Any, noise: str) -> None:
    text = str(value)
    assert schemas.is_uuid(text) and schemas.is_uuid(text.upper())
    assert not schemas.is_uuid(text.replace("-", ""))
    assert not schemas.is_uuid("{" + text + "}")
    for check in schemas.FORMATS.values():
        check(noise)  # any text: an answer, never an exception


def test_format_checker_asserts_exactly_dagkits_formats() -> None:
    checker = schemas.format_checker()
    assert set(checker.checkers) == {"uuid", "date-time", "duration"}
    assert checker.conforms(5, "uuid")  # formats constrain strings only
    assert not checker.conforms("PT", "duration")
    assert checker.conforms("anything", "email")  # not asserted: an annotation


# --- generation from other documents -------------------------------------------------------------


def spec_with(components: dict[str, Any], operations: dict[str, list[str]]) -> dict[str, Any]:
    paths = {
        f"/{op}": {
            "get": {
                "operationId": op,
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "anyOf": [{"$ref": f"#/components/schemas/{n}"} for n in refs]
                                }
                            }
                        },
                    }
                },
            }
        }
        for op, refs in operations.items()
    }
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": {"schemas": components}}  # fmt: skip


NAMES = st.sampled_from(["A", "B", "C", "D", "E", "F"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    links=st.dictionaries(NAMES, st.lists(NAMES, max_size=3), min_size=1),
    used=st.dictionaries(st.sampled_from(["op1", "op2"]), st.lists(NAMES, max_size=2), max_size=2),
)
def test_generation_follows_references_transitively(
    links: dict[str, list[str]], used: dict[str, list[str]]
) -> None:
    names = set(links) | {n for targets in links.values() for n in targets}
    names |= {n for refs in used.values() for n in refs}
    components = {
        name: {
            "title": name,
            "type": "object",
            "properties": {f"p{i}": {"$ref": f"#/components/schemas/{t}"}
                           for i, t in enumerate(links.get(name, []))},
            "default": {"$ref": "#/components/schemas/Z"},  # data, not a reference
        }
        for name in sorted(names)
    }  # fmt: skip
    spec = spec_with(components, used)
    reachable: set[str] = set()
    frontier = [n for refs in used.values() for n in refs]
    while frontier:
        name = frontier.pop()
        if name not in reachable:
            reachable.add(name)
            frontier += links.get(name, [])
    files = schemafiles.render_component_schemas(spec)
    assert sorted(files) == sorted(f"{n}.schema.json" for n in reachable)
    loaded = {name: json.loads(data) for name, data in files.items()}
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resources(
        (s["$id"], DRAFT202012.create_resource(s)) for s in loaded.values()
    )
    for schema in loaded.values():
        assert schema["default"] == {"$ref": "#/components/schemas/Z"}
        for ref in _refs({k: v for k, v in schema.items() if k != "default"}):
            registry.resolver(base_uri=schema["$id"]).lookup(ref)


def test_names_that_look_like_keywords_are_still_followed() -> None:
    spec = spec_with(
        {
            "A": {"properties": {"default": {"$ref": "#/components/schemas/B"}}},
            "B": {"enum": [{"$ref": "#/components/schemas/Z"}]},
            "C": {"title": "C"},
        },
        {"op": ["A"]},
    )
    only = spec["paths"]["/op"]["get"]["responses"]
    media = {"schema": {"$ref": "#/components/schemas/C"}, "example": {"$ref": "#/nowhere"}}
    only["default"] = {"description": "d", "content": {"application/json": media}}
    files = schemafiles.render_component_schemas(spec)
    assert sorted(files) == ["A.schema.json", "B.schema.json", "C.schema.json"]
    a = json.loads(files["A.schema.json"])
    assert a["properties"]["default"] == {"$ref": "B.schema.json"}
    b = json.loads(files["B.schema.json"])
    assert b["enum"] == [{"$ref": "#/components/schemas/Z"}]  # data stays data


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "not valid JSON: Expecting value (line 1, column 1)"),
        ("[1, 2]", "an OpenAPI document is a JSON object"),
        ('{"openapi": "3.0.3", "paths": {}}', "from OpenAPI 3.1 documents"),
        ('{"openapi": "3.1.0", "paths": []}', '"paths" must be an object'),
        ('{"openapi": "3.1.0", "paths": {}, "components": {"schemas": []}}', "components.schemas"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_bad_spec_files_are_clear_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "spec.json"
    path.write_text(content)
    with pytest.raises(SchemaError, match=r"spec\.json: ") as caught:
        schemafiles.read_openapi(path)
    assert message in str(caught.value)


def test_missing_spec_and_missing_component_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="no such file"):
        schemafiles.read_openapi(tmp_path / "absent.json")
    with pytest.raises(SchemaError, match="is a directory"):
        schemafiles.read_openapi(tmp_path)
    with pytest.raises(SchemaError, match='missing component "Ghost"'):
        schemafiles.generate_component_schemas(spec_with({}, {"op": ["Ghost"]}), tmp_path / "out")
    with pytest.raises(SchemaError, match="cannot be a file name"):
        schemafiles.render_component_schemas(spec_with({"a/b": {}}, {"op": ["a~1b"]}))


# --- the CLI -------------------------------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["schemas", *args])


def test_cli_list_shows_every_schema_with_title_and_source() -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "TITLE", "SOURCE"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert list(rows) == schemas.schema_names()
    assert rows["JobStatus"].endswith("generated from openapi/jobs-api.openapi.json")
    assert rows["openapi"].endswith("hand-written") and "Platform API" in rows["openapi"]


def test_cli_show_prints_the_schema_and_refuses_unknown_names() -> None:
    result = run("show", "JobInformation")
    assert result.exit_code == 0
    assert json.loads(result.output) == schemas.load_schema("JobInformation")
    result = run("show", "JobInfo")
    assert result.exit_code == 2
    assert 'Did you mean "JobInformation"' in result.output
    assert isinstance(result.exception, SystemExit)


def test_cli_generate_writes_the_committed_files(tmp_path: Path) -> None:
    result = run("generate", "--spec", str(SPEC_FILE), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    written = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}
    assert written == committed_components()
    assert f"wrote {len(COMPONENT_NAMES)} files" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("{broken", "not valid JSON"), ('{"openapi": "2.0"}', "OpenAPI 3.1")],
)
def test_cli_generate_with_a_bad_spec_exits_2_without_traceback(
    tmp_path: Path, content: str | None, message: str
) -> None:
    spec = tmp_path / "spec.json"
    if content is not None:
        spec.write_text(content)
    result = run("generate", "--spec", str(spec), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "Invalid value for" in result.output and "--spec" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_cli_generate_requires_its_options() -> None:
    result = run("generate")
    assert result.exit_code == 2 and "--spec" in result.output and "--catalogue" in result.output
    result = run("generate", "--spec", str(SPEC_FILE))
    assert result.exit_code == 2 and "go together" in result.output


def test_cli_check_passes_on_the_packaged_schemas_and_fails_on_drift(tmp_path: Path) -> None:
    result = run("check")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{len(schemas.schema_names())} schemas OK"
    root = copy_schemas(tmp_path)
    (root / "components/JobStatus.schema.json").write_text("{}\n")
    result = run("check", "--dir", str(root))
    assert result.exit_code == 1
    assert "components/JobStatus.schema.json: differs" in result.output
    assert run("check", "--dir", str(tmp_path / "nowhere")).exit_code == 2


def test_python_dash_m_dagkit_schemas_list() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dagkit", "schemas", "list"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "JobInformation" in done.stdout and "request-data" in done.stdout
