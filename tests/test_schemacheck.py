"""Schema findings: codes, pointers and sentences for broken documents; valid ones cost nothing."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from samples import QUICKSTART

from dagkit import schemacheck, schemas
from dagkit.errors import SchemaError

ROOT = Path(__file__).resolve().parent.parent


def changed(path: list[str | int], value: Any = ..., *, drop: bool = False) -> dict[str, Any]:
    """The quickstart with the value at ``path`` replaced (or removed)."""
    doc = copy.deepcopy(QUICKSTART)
    target: Any = doc
    for token in path[:-1]:
        target = target[token]
    if drop:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


def unstructured_api(settings: dict[str, Any]) -> dict[str, Any]:
    node = {"name": "P", "type": "partition", "subtype": "unstructured_api", "settings": settings}
    return {"job_nodes": [node]}


BROKEN = [
    # (case, document, [(code, pointer), ...], words the first message must contain)
    ("neither key", {}, [("DK207", "")], "neither"),
    ("both keys", {"template_id": "t", **QUICKSTART}, [("DK207", "")], "both"),
    ("no nodes", {"job_nodes": []}, [("DK208", "/job_nodes")], "empty"),
    ("empty template id", {"template_id": ""}, [("DK206", "/template_id")], "empty"),
    ("not an object", [1], [("DK202", "")], "must be an object"),
    ("unknown top key", {"template_id": "t", "foo": 1}, [("DK205", "/foo")], '"foo"'),
    (
        "unknown node key",
        changed(["job_nodes", 0, "colour"], "red"),
        [("DK205", "/job_nodes/0/colour")],
        '"colour"',
    ),
    (
        "unknown key that needs escaping",
        changed(["job_nodes", 2, "x~/y"], 1),
        [("DK205", "/job_nodes/2/x~0~1y")],
        '"x~/y"',
    ),
    (
        "bad node type",
        changed(["job_nodes", 1, "type"], "chunker"),
        [("DK203", "/job_nodes/1/type")],
        '"chunker"',
    ),
    (
        "missing subtype",
        changed(["job_nodes", 1, "subtype"], drop=True),
        [("DK201", "/job_nodes/1")],
        '"subtype"',
    ),
    (
        "bad chunk subtype",
        changed(["job_nodes", 1, "subtype"], "by_title"),
        [("DK203", "/job_nodes/1/subtype")],
        "chunk_by_title",
    ),
    (
        "quoted integer",
        changed(["job_nodes", 1, "settings", "max_characters"], "2048"),
        [("DK202", "/job_nodes/1/settings/max_characters")],
        "integer",
    ),
    (
        "zero max_characters",
        changed(["job_nodes", 1, "settings", "max_characters"], 0),
        [("DK204", "/job_nodes/1/settings/max_characters")],
        "greater than 0",
    ),
    (
        "boolean in quotes",
        changed(["job_nodes", 0, "settings", "is_dynamic"], "true"),
        [("DK202", "/job_nodes/0/settings/is_dynamic")],
        "true or false",
    ),
    (
        "auto without allow_fast",
        changed(["job_nodes", 0, "settings", "allow_fast"], drop=True),
        [("DK201", "/job_nodes/0/settings")],
        '"allow_fast"',
    ),
    (
        "unknown strategy",
        unstructured_api({"strategy": "fastest"}),
        [("DK203", "/job_nodes/0/settings/strategy")],
        '"fastest"',
    ),
    (
        "node is a number",
        {"job_nodes": [5]},
        [("DK202", "/job_nodes/0")],
        "object",
    ),
    (
        "settings is a list",
        changed(["job_nodes", 1, "settings"], [1]),
        [("DK202", "/job_nodes/1/settings")],
        "an object or null",
    ),
    (
        "several problems",
        changed(["job_nodes", 2, "name"], 5) | {"skip_preflight": "yes"},
        [("DK202", "/job_nodes/2/name"), ("DK202", "/skip_preflight")],
        "string",
    ),
]


@pytest.mark.parametrize(
    ("document", "expected", "words"),
    [pytest.param(doc, exp, words, id=case) for case, doc, exp, words in BROKEN],
)
def test_broken_request_data(document: Any, expected: list[tuple[str, str]], words: str) -> None:
    findings = schemacheck.check("request-data", document)
    assert [(f.code, f.pointer) for f in findings] == expected
    assert words in findings[0].message
    assert all(f.severity == "error" and f.hint for f in findings)
    assert not schemas.validator("request-data").is_valid(document)


def test_valid_request_data_has_no_findings() -> None:
    assert schemacheck.check("request-data", QUICKSTART) == []
    assert schemacheck.check("request-data", {"template_id": "t", "skip_preflight": True}) == []


def test_messages_read_as_one_sentence_with_a_hint() -> None:
    (f,) = schemacheck.check("request-data", unstructured_api({"strategy": "fastest"}))
    assert f.message == (
        'job_nodes[0].settings.strategy must be one of "hi_res", "fast"; got "fastest"'
    )
    assert f.hint == 'did you mean "fast"?'
    (f,) = schemacheck.check("request-data", changed(["job_nodes", 0, "colour"], "red"))
    assert f.message == 'job_nodes[0] has an unknown key "colour"'
    assert "name, type, subtype, settings, id" in f.hint


def test_base_pointer_prefixes_every_pointer() -> None:
    doc = changed(["job_nodes", 1, "settings", "overlap"], -1)
    (f,) = schemacheck.check("request-data", doc, base_pointer="/request_data")
    assert f.pointer == "/request_data/job_nodes/1/settings/overlap"


@settings(max_examples=60, deadline=None)
@given(
    path=st.sampled_from(
        [
            ["job_nodes", 0, "settings", "is_dynamic"],
            ["job_nodes", 1, "settings", "max_characters"],
            ["job_nodes", 1, "subtype"],
            ["job_nodes", 2, "type"],
            ["job_nodes", 2, "settings"],
            ["job_nodes", 0],
        ]
    ),
    value=st.one_of(
        st.none(), st.booleans(), st.integers(-5, 5000), st.text(max_size=5), st.just({})
    ),
)
def test_findings_exist_exactly_when_jsonschema_says_invalid(path: list[Any], value: Any) -> None:
    doc = changed(path, value)
    findings = schemacheck.check("request-data", doc)
    assert (findings == []) is schemas.validator("request-data").is_valid(doc)
    order = [
        [(0, int(t)) if t.isdigit() else (1, t) for t in f.pointer.split("/")[1:]] for f in findings
    ]
    assert order == sorted(order)
    for f in findings:
        assert f.code.startswith("DK2") and f.message


# -- any schema ----------------------------------------------------------------------------------


def test_one_of_is_reduced_to_the_most_relevant_branch() -> None:
    schema = {
        "oneOf": [
            {
                "type": "object",
                "properties": {"kind": {"const": "a"}, "size": {"type": "integer"}},
                "required": ["kind"],
            },
            {"type": "string"},
        ]
    }
    findings = schemacheck.check_schema(schema, {"kind": "a", "size": "big"})
    assert [(f.code, f.pointer) for f in findings] == [("DK202", "/size")]


def test_branches_failing_only_on_type_merge_into_one_sentence() -> None:
    schema = {"properties": {"runtime": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    (f,) = schemacheck.check_schema(schema, {"runtime": 5})
    assert (f.code, f.pointer) == ("DK202", "/runtime")
    assert f.message == "runtime must be a string or null; got the number 5"


def test_branches_each_requiring_a_key_merge_into_one_sentence() -> None:
    schema = {"properties": {"s": {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}}}
    (f,) = schemacheck.check_schema(schema, {"s": {}})
    assert (f.code, f.pointer) == ("DK201", "/s")
    assert f.message == 's needs at least one of "a", "b"'


def test_formats_are_asserted() -> None:
    schema = {"properties": {"id": {"type": "string", "format": "uuid"}}}
    assert schemacheck.check_schema(schema, {"id": "123e4567-e89b-12d3-a456-426614174000"}) == []
    (f,) = schemacheck.check_schema(schema, {"id": "nope"})
    assert (f.code, f.pointer) == ("DK206", "/id") and "uuid" in f.message


def test_response_schemas_with_refs_to_components() -> None:
    schema = schemas.response_schema("get_job", 200)
    assert schema is not None
    job = {
        "id": "123e4567-e89b-12d3-a456-426614174000",
        "workflow_id": "123e4567-e89b-12d3-a456-426614174001",
        "workflow_name": "w",
        "status": "SCHEDULED",
        "created_at": "2025-01-31T12:00:00Z",
    }
    assert schemacheck.check_schema(schema, job) == []
    findings = schemacheck.check_schema(schema, job | {"status": "REJECTED", "created_at": "x"})
    assert [(f.code, f.pointer) for f in findings] == [
        ("DK206", "/created_at"),
        ("DK203", "/status"),
    ]


def test_every_error_is_reported_in_a_stable_order() -> None:
    schema = {
        "type": "object",
        "properties": {"b": {"type": "integer"}, "a": {"type": "array", "items": {"minimum": 0}}},
        "required": ["c"],
    }
    doc = {"b": "x", "a": [-1, 1, -2] + [0] * 8 + [-3]}
    findings = schemacheck.check_schema(schema, doc)
    assert [(f.code, f.pointer) for f in findings] == [
        ("DK201", ""),
        ("DK204", "/a/0"),
        ("DK204", "/a/2"),
        ("DK204", "/a/11"),
        ("DK202", "/b"),
    ]
    assert schemacheck.check_schema(schema, doc) == findings


def test_keywords_outside_the_fast_subset_still_get_findings() -> None:
    (f,) = schemacheck.check_schema({"minProperties": 2}, {"a": 1})
    assert f.code == "DK200"
    assert schemacheck.check_schema({"minProperties": 1}, {"a": 1}) == []


def test_a_broken_schema_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        schemacheck.check_schema({"type": 5}, {})
    with pytest.raises(SchemaError):
        schemacheck.check("no-such-schema", {})


def test_deep_nesting_is_a_finding_not_a_crash() -> None:
    schema = {
        "$defs": {"n": {"type": "array", "items": {"$ref": "#/$defs/n"}}},
        "$ref": "#/$defs/n",
    }
    deep: Any = []
    for _ in range(5000):
        deep = [deep, 1]
    findings = schemacheck.check_schema(schema, deep)
    assert [f.code for f in findings] == ["DK103"]


def test_huge_numbers_do_not_crash() -> None:
    assert schemacheck.check_schema({"multipleOf": 0.5}, 10**400) == []
    (f,) = schemacheck.check_schema({"maximum": 3}, 10**400)
    assert f.code == "DK204"


def test_valid_documents_never_import_jsonschema() -> None:
    code = (
        "import sys; from dagkit import schemacheck; "
        f"assert schemacheck.check('request-data', {QUICKSTART!r}) == []; "
        "assert 'jsonschema' not in sys.modules, 'jsonschema imported'; "
        "assert 'referencing' not in sys.modules, 'referencing imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_template_or_nodes_rule_belongs_to_request_data_only() -> None:
    found = schemacheck.check_schema({"title": "Config", "required": ["job_nodes"]}, {})
    assert [f.code for f in found] == ["DK201"]
    assert schemacheck.check("request-data", {})[0].code == "DK207"
