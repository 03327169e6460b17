"""validate_response, validate_http_response and guess_operation."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit.findings import NodeRef, Part
from dagkit.schemas import store as schemas
from dagkit.validate.response import (
    guess_operation,
    parse_http_response,
    rejection_findings,
    validate_http_response,
    validate_response,
)

VALID = Path(__file__).resolve().parent / "data" / "valid"


def _load(name: str) -> Any:
    return json.loads((VALID / name).read_text(encoding="utf-8"))


JOB = _load("get-job.response.json")
REQUEST_DATA = (VALID / "quickstart.request_data.json").read_text(encoding="utf-8")


def codes(findings: list[Any]) -> list[str]:
    return [f.code for f in findings]


# --- the valid responses ---------------------------------------------------------------------

CASES = [
    ("create-job.response.json", "create_job", 200),
    ("get-job.response.json", "get_job", 200),
    ("list-jobs.response.json", "list_jobs", 200),
    ("get-job-details.response.json", "get_job_details", 200),
    ("get-job-failed-files.response.json", "get_job_failed_files", 200),
    ("list-templates.response.json", "list_templates", 200),
    ("get-template.response.json", "get_template", 200),
    ("create-job-422.response.json", "create_job", 422),
    ("cancel-job.response.json", "cancel_job", 200),
    ("get-workflow.response.json", "get_workflow", 200),
    ("get-workflow.response.json", "create_workflow", 200),
    ("get-workflow.response.json", "update_workflow", 200),
    ("list-workflows.response.json", "list_workflows", 200),
    ("run-workflow.response.json", "run_workflow", 202),
    ("delete-workflow.response.json", "delete_workflow", 200),
]


@pytest.mark.parametrize(("name", "operation", "status"), CASES)
def test_each_operation_has_a_valid_example(name: str, operation: str, status: int) -> None:
    raw = (VALID / name).read_bytes()
    assert validate_response(raw, operation=operation, status=status) == []
    assert validate_response(raw.decode(), operation=operation, status=status) == []
    assert validate_response(json.loads(raw), operation=operation, status=status) == []


def test_every_operation_is_covered_by_an_example() -> None:
    covered = {op for _, op, _ in CASES} | {"download_job_output"}  # any JSON: no schema to break
    assert covered == set(schemas.operation_ids())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("create-job.response.json", ("get_job", 200)),  # same schema as create_job's 200
        ("get-job.response.json", ("get_job", 200)),
        ("list-jobs.response.json", ("list_jobs", 200)),
        ("get-job-details.response.json", ("get_job_details", 200)),
        ("get-job-failed-files.response.json", ("get_job_failed_files", 200)),
        ("list-templates.response.json", ("list_templates", 200)),
        ("get-template.response.json", ("get_template", 200)),
        ("create-job-422.response.json", ("create_job", 422)),
        ("cancel-job.response.json", ("cancel_job", 200)),
        ("download-job-output.response.json", ("download_job_output", 200)),
        ("get-workflow.response.json", ("get_workflow", 200)),
        ("list-workflows.response.json", ("list_workflows", 200)),
        ("run-workflow.response.json", ("get_job", 200)),  # same schema as run_workflow's 202
    ],
)
def test_guess_operation(name: str, expected: tuple[str, int]) -> None:
    assert guess_operation(_load(name)) == expected


@pytest.mark.parametrize("value", [[], [1, 2], {}, {"hello": 1}, "text", 3, None, [{"x": 1}]])
def test_guess_operation_says_none_when_the_shape_says_nothing(value: Any) -> None:
    assert guess_operation(value) is None


# --- what is wrong ---------------------------------------------------------------------------


def test_format_departures_are_warnings_with_pointer_and_line() -> None:
    text = json.dumps(dict(JOB, id="job-42", created_at="yesterday", runtime="PT"), indent=2)
    findings = validate_response(text, operation="get_job", status=200, file="r.json")
    by_pointer = {f.pointer: f for f in findings}
    assert set(by_pointer) == {"/id", "/created_at", "/runtime"}
    assert {f.code for f in findings} == {"DK504"}
    assert by_pointer["/id"].line == 2 and by_pointer["/id"].file == "r.json"
    assert not any(f.is_error for f in findings)


def test_a_created_at_without_offset_is_read_as_utc() -> None:
    # what the platform's get-job sent (notebooks' saved outputs)
    doc = dict(JOB, created_at="2025-10-07T20:17:04.419033")
    (f,) = validate_response(doc, operation="get_job", status=200)
    assert (f.code, f.severity, f.pointer) == ("DK504", "warning", "/created_at")
    assert f.message == 'created_at "2025-10-07T20:17:04.419033" has no UTC offset; read as UTC'


def test_ids_that_are_not_uuids_are_used_as_given() -> None:
    doc = dict(
        JOB,
        id="n1a2b3c4-job",
        workflow_id="wf-1",
        output_node_files=[
            {
                "node_id": "n1a2b3c4-5d6e",
                "file_id": "a-d88db765.pdf",
                "node_type": "partition",
                "node_subtype": "unstructured_api",
            }
        ],
    )
    findings = validate_response(doc, operation="get_job", status=200)
    assert {f.pointer for f in findings} == {"/id", "/workflow_id", "/output_node_files/0/node_id"}
    assert all(f.code == "DK504" and not f.is_error for f in findings)
    by_pointer = {f.pointer: f.message for f in findings}
    assert by_pointer["/id"] == 'id "n1a2b3c4-job" is not a UUID; used as given'


def test_extra_fields_are_nothing() -> None:
    assert (
        validate_response(dict(JOB, new_field=[1], preflight=None), operation="get_job", status=200)
        == []
    )


@pytest.mark.parametrize("key", ["id", "status"])
def test_a_job_without_id_or_status_cannot_be_used(key: str) -> None:
    doc = {k: v for k, v in JOB.items() if k != key}
    findings = validate_response(doc, operation="get_job", status=200)
    errors = [f for f in findings if f.is_error]
    assert codes(errors) == ["DK501"]
    assert f'"{key}"' in errors[0].message
    assert not any(f.code == "DK504" and f'"{key}"' in f.message for f in findings)


def test_an_answer_of_the_wrong_shape_cannot_be_used() -> None:
    (f,) = validate_response([JOB], operation="get_job", status=200)
    assert f.code == "DK501" and f.is_error
    findings = validate_response(
        [JOB, {"id": 5, "status": "COMPLETED"}, 7], operation="list_jobs", status=200
    )
    assert {(f.pointer, f.code) for f in findings if f.is_error} == {
        ("/1/id", "DK501"),
        ("/2", "DK501"),
    }


def test_a_missing_field_the_client_does_not_need_is_a_warning() -> None:
    doc = {k: v for k, v in JOB.items() if k not in ("workflow_id", "workflow_name")}
    findings = validate_response(doc, operation="get_job", status=200)
    assert codes(findings) == ["DK504", "DK504"]
    assert not any(f.is_error for f in findings)


def test_an_unknown_status_value_is_only_a_warning() -> None:
    findings = validate_response(dict(JOB, status="REJECTED"), operation="get_job", status=200)
    assert codes(findings) == ["DK502"]
    assert findings[0].severity == "warning" and findings[0].pointer == "/status"
    assert "REJECTED" in findings[0].message


def test_an_enum_failure_of_the_wrong_type_stays_an_error() -> None:
    findings = validate_response(dict(JOB, status=3), operation="get_job", status=200)
    assert findings and set(codes(findings)) == {"DK501"}
    assert all(f.is_error and f.pointer == "/status" for f in findings)


def test_unknown_operation_lists_the_known_ones() -> None:
    (f,) = validate_response(JOB, operation="get_jobs", status=200)
    assert f.code == "DK503" and 'did you mean "get_job"' in f.hint
    assert "list_templates" in f.hint


def test_unknown_status_lists_the_documented_ones() -> None:
    (f,) = validate_response(JOB, operation="create_job", status=201)
    assert f.code == "DK503" and "201" in f.message
    assert "200, 422" in f.hint


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"<html>oops</html>", "not JSON"),
        (b'{"id": 1,}', "not JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"[" * 100_000, "nests too deeply"),
        (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
    ],
    ids=["empty", "blank", "html", "comma", "utf16", "open", "deep"],
)
def test_not_json_is_dk500(data: bytes, fragment: str) -> None:
    (f,) = validate_response(data, operation="get_job", status=200)
    assert f.code == "DK500" and fragment in f.message


def test_syntax_error_has_line_and_column() -> None:
    (f,) = validate_response('{\n  "id": "x",\n  oops\n}', operation="get_job", status=200)
    assert (f.code, f.line, f.column) == ("DK500", 3, 3)


# --- 422 details mapped back to request_data -------------------------------------------------


def test_422_loc_is_mapped_to_the_node_and_pointer() -> None:
    body = {
        "detail": [
            {
                "loc": ["body", "request_data", "job_nodes", 1, "settings", "max_characters"],
                "msg": "Input should be greater than 0",
                "type": "greater_than",
            },
            {"loc": ["body", "input_files"], "msg": "Field required", "type": "missing"},
        ]
    }
    findings = validate_response(
        body, operation="create_job", status=422, request_data=REQUEST_DATA, file="resp.json"
    )
    first, second = findings
    assert first.code == "DK510" and first.is_error
    assert first.node == NodeRef(1, "Chunker")
    assert first.pointer == "/job_nodes/1/settings/max_characters"
    assert first.part == Part("request_data") and first.file == "resp.json"
    assert "Input should be greater than 0" in first.message
    assert "greater_than" in first.hint
    assert (second.part, second.pointer, second.node) == (Part("input_files"), "", None)


def test_422_without_request_data_is_just_a_valid_response() -> None:
    body = {"detail": [{"loc": ["body", "request_data"], "msg": "bad", "type": "value_error"}]}
    assert validate_response(body, operation="create_job", status=422) == []


def test_422_with_a_string_detail() -> None:
    (f,) = validate_response(
        {"detail": "The fast strategy is not available for image files"},
        operation="create_job",
        status=422,
        request_data=REQUEST_DATA,
    )
    assert f.code == "DK510" and "fast strategy" in f.message


@pytest.mark.parametrize(
    "loc",
    [
        ["body", "request_data", "job_nodes", 99, "settings"],
        ["job_nodes", "x"],
        ["body", "request_data", "job_nodes", "1", "name"],
        [],
        "not a list",
        None,
        [{"weird": 1}, 2.5],
    ],
)
def test_odd_loc_values_never_crash(loc: Any) -> None:
    findings = rejection_findings({"detail": [{"loc": loc, "msg": "m", "type": "t"}]}, REQUEST_DATA)
    assert codes(findings) == ["DK510"]
    node = findings[0].node
    assert node is None or node == NodeRef(1, "Chunker")


def test_loc_index_as_text_still_names_the_node() -> None:
    (f,) = rejection_findings(
        {"detail": [{"loc": ["job_nodes", "2", "subtype"], "msg": "m", "type": "t"}]}, REQUEST_DATA
    )
    assert f.node == NodeRef(2, "Embedder") and f.pointer == "/job_nodes/2/subtype"


def test_request_data_that_is_not_json_gives_no_node() -> None:
    (f,) = rejection_findings(
        {"detail": [{"loc": ["body", "request_data", "job_nodes", 0], "msg": "m", "type": "t"}]},
        "{not json",
    )
    assert f.node is None and f.pointer == "/job_nodes/0"


# --- captured HTTP responses -----------------------------------------------------------------


def _http(status_line: bytes, body: bytes, headers: bytes = b"", eol: bytes = b"\r\n") -> bytes:
    head = status_line + eol + b"Content-Type: application/json" + eol + headers
    return head + eol + body


def test_http_response_status_comes_from_the_status_line() -> None:
    body = json.dumps(JOB).encode()
    assert validate_http_response(_http(b"HTTP/1.1 200 OK", body)) == []
    (f,) = validate_http_response(_http(b"HTTP/1.1 201 Created", body), operation="create_job")
    assert f.code == "DK503" and "201" in f.message


def test_http_response_findings_count_lines_from_the_top_of_the_capture() -> None:
    body = json.dumps(dict(JOB, id="nope"), indent=2).encode()
    (f,) = validate_http_response(_http(b"HTTP/1.1 200 OK", body, eol=b"\n"), file="c.http")
    # status line, one header, the blank line: the body starts on line 4; "id" is its line 2.
    assert (f.code, f.pointer, f.line, f.file) == ("DK504", "/id", 5, "c.http")


def test_http_response_chunked() -> None:
    body = json.dumps(JOB).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:10], body[10:])) + b"0\r\n\r\n"
    raw = _http(b"HTTP/1.1 200 OK", chunked, b"Transfer-Encoding: chunked\r\n")
    assert validate_http_response(raw) == []
    assert codes(validate_http_response(raw[:-20])) == ["DK500"]


def test_http_error_status_is_checked_against_an_operation_that_documents_it() -> None:
    raw = _http(b"HTTP/1.1 404 Not Found", b'{"detail": "Job not found"}')
    assert validate_http_response(raw) == []
    raw = _http(b"HTTP/1.1 503 Service Unavailable", b'{"detail": "down"}')
    (f,) = validate_http_response(raw)
    assert f.code == "DK503" and "503" in f.message


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"HTTP/1.1",
        b"HTTP/1.1 abc OK\r\n\r\n{}",
        b"GET / HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nA: b\r\n",
        b"HTTP/1.1 999 What\r\n\r\n{}",
    ],
)
def test_unreadable_http_head_is_dk500(raw: bytes) -> None:
    (f,) = validate_http_response(raw)
    assert f.code == "DK500"
    with pytest.raises(ValueError):
        parse_http_response(raw)


# --- properties ------------------------------------------------------------------------------

_uuids = st.uuids().map(str)
_offsets = st.builds(timezone, st.integers(-1439, 1439).map(lambda m: timedelta(minutes=m)))
_statuses = st.sampled_from(["SCHEDULED", "IN_PROGRESS", "COMPLETED", "STOPPED", "FAILED"])
_jobs = st.fixed_dictionaries(
    {
        "id": _uuids,
        "workflow_id": _uuids,
        "workflow_name": st.text(max_size=20),
        "status": _statuses,
        "created_at": st.datetimes(timezones=_offsets).map(lambda d: d.isoformat()),
    },
    optional={
        "runtime": st.one_of(st.none(), st.sampled_from(["PT2M30S", "P1D", "PT0.5S", "P2W"])),
        "input_file_ids": st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=3)),
        "job_type": st.sampled_from(["ephemeral", "persistent", "scheduled", "template"]),
    },
)


@settings(max_examples=60, deadline=None)
@given(_jobs)
def test_generated_job_information_is_valid_and_guessed(job: dict[str, Any]) -> None:
    assert validate_response(json.dumps(job), operation="get_job", status=200) == []
    assert guess_operation(job) == ("get_job", 200)
    assert guess_operation([job]) == ("list_jobs", 200)


@settings(max_examples=60, deadline=None)
@given(_jobs, st.sampled_from(["id", "workflow_id", "workflow_name", "status", "created_at"]))
def test_a_missing_required_key_is_found(job: dict[str, Any], key: str) -> None:
    del job[key]
    findings = validate_response(job, operation="get_job", status=200)
    code = "DK501" if key in ("id", "status") else "DK504"  # only id and status are needed
    assert [f.code for f in findings if key in f.message] == [code]


@settings(max_examples=60, deadline=None)
@given(_jobs, st.datetimes())
def test_any_naive_created_at_is_a_warning(job: dict[str, Any], when: Any) -> None:
    job["created_at"] = when.isoformat()
    (f,) = validate_response(json.dumps(job), operation="get_job", status=200)
    assert (f.code, f.pointer) == ("DK504", "/created_at") and "read as UTC" in f.message


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"[A-Z][A-Z_]{0,15}", fullmatch=True))
def test_any_new_status_word_is_a_warning_not_an_error(word: str) -> None:
    findings = validate_response(dict(JOB, status=word), operation="get_job", status=200)
    known = {"SCHEDULED", "IN_PROGRESS", "COMPLETED", "STOPPED", "FAILED"}
    assert codes(findings) == ([] if word in known else ["DK502"])


def test_uuid_case_does_not_matter() -> None:
    upper = str(uuid.uuid4()).upper()
    assert validate_response(dict(JOB, id=upper), operation="get_job", status=200) == []


def test_a_workflow_without_id_cannot_be_used() -> None:
    workflow = {"name": "w", "workflow_type": "custom", "workflow_nodes": []}
    findings = validate_response(workflow, operation="get_workflow", status=200)
    assert [f.code for f in findings if f.is_error] == ["DK501"]
    findings = validate_response([workflow], operation="list_workflows", status=200)
    assert [(f.code, f.pointer) for f in findings if f.is_error] == [("DK501", "/0")]
