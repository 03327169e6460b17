"""The server's small parsers: query strings, percent-escapes, routes, finding paths as ``loc``,
clock and fault specs."""

from __future__ import annotations

import http.client
import io
import urllib.parse
import uuid
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dagkit.core import pointers
from dagkit.findings import REQUEST_DATA_PART, Part, finding
from dagkit.server.app import OPERATIONS, Handler, RequestHead, parse_query, route
from dagkit.server.engine import step_seconds
from dagkit.server.faults import parse_fault_spec
from dagkit.server.upload import rejection

TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=100)
@given(text=TEXT)
def test_routing_undoes_percent_encoding_of_path_parameters(text: str) -> None:
    def template_id(path_text: str) -> str:
        operation, params = route("GET", "/api/v1/templates/" + path_text)
        assert operation == "get_template"
        return params["template_id"]

    assume(text and "/" not in text.replace("%", ""))
    assert template_id(urllib.parse.quote(text, safe="")) == text
    plain = text.replace("%", "")
    assume(plain)
    assert template_id(urllib.parse.quote(plain, safe="")) == plain


@settings(max_examples=100)
@given(query=st.dictionaries(TEXT, TEXT, max_size=5))
def test_parse_query_reads_what_urlencode_writes(query: dict[str, str]) -> None:
    assert parse_query(urllib.parse.urlencode(query)) == {k: v for k, v in query.items()}


def test_parse_query_keeps_the_first_value() -> None:
    assert parse_query("a=1&a=2&&b=&c") == {"a": "1", "b": "", "c": ""}


@settings(max_examples=50)
@given(job=st.uuids(), template=TEXT.filter(lambda t: t != ""), slash=st.booleans())
def test_routes_find_operations_and_parameters(job: uuid.UUID, template: str, slash: bool) -> None:
    for operation, (method, path) in OPERATIONS.items():
        quoted = urllib.parse.quote(template, safe="")
        concrete = path.replace("{job_id}", str(job)).replace("{template_id}", quoted)
        concrete = concrete.rstrip("/") + ("/" if slash else "")
        found, params = route(method, concrete)
        assert found == operation
        assert params.get("job_id", str(job)) == str(job)
        assert params.get("template_id", template) == template
    assert route("PUT", "/api/v1/jobs/") == (None, {})
    assert route("GET", "/api/v1/jobs/a/b/c") == (None, {})


def _paths(doc: Any, prefix: list[str | int]) -> list[list[str | int]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, [*prefix, key])
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out += _paths(value, [*prefix, index])
    return out


@settings(max_examples=100)
@given(doc=JSON)
def test_rejections_carry_the_path_of_a_finding_as_its_loc(doc: Any) -> None:
    for path in _paths(doc, []):
        f = finding("DK203", "bad", part=REQUEST_DATA_PART, path=tuple(path))
        assert rejection(f)["loc"] == ["body", "request_data", *path]
        assert pointers.split(f.pointer) == [str(token) for token in path]


def test_rejections_locate_parts_and_pointers() -> None:
    f = finding("DK203", "bad", part=REQUEST_DATA_PART, path=("job_nodes", 0, "settings", "0"))
    item = rejection(f)
    assert item["loc"] == ["body", "request_data", "job_nodes", 0, "settings", "0"]
    assert item["type"] == "enum" and item["ctx"]["code"] == "DK203"
    file = rejection(finding("DK414", "big", part=Part.file(3, "a.pdf")))
    assert file["loc"] == ["body", "input_files", 3]
    missing = rejection(finding("DK406", "no request_data", part=REQUEST_DATA_PART))
    assert (missing["loc"], missing["msg"], missing["type"]) == (
        ["body", "request_data"],
        "Field required",
        "missing",
    )
    assert rejection(finding("DK402", "framing"))["loc"] == ["body"]
    # a part known by its place only, even one named input_files, is no file of the job
    unknown = finding("DK409", "no file", part=Part.placed("field", 0, "input_files"))
    assert rejection(unknown)["loc"] == ["body"]


@pytest.mark.parametrize(
    ("clock", "seconds"),
    [("realtime", 1.0), ("instant", 0.0), ("manual", None), (0.25, 0.25), ("2", 2.0)],
)
def test_clock_specs(clock: Any, seconds: float | None) -> None:
    assert step_seconds(clock) == seconds


@pytest.mark.parametrize("clock", ["fast", "-1", "nan", "inf", True])
def test_bad_clock_specs(clock: Any) -> None:
    with pytest.raises(ValueError):
        step_seconds(clock)


def test_fault_specs() -> None:
    assert parse_fault_spec("create_job:500") == ("create_job", "500", 1)
    assert parse_fault_spec("get_job:stall:3") == ("get_job", "stall", 3)
    for bad in ("create_job", "create_job:404", "create_job:500:0", "create_job:500:x", ":500"):
        # the spec, not a flag: the library is also called from Python (serve(faults=...))
        with pytest.raises(ValueError, match=f"^{bad!r}: "):
            parse_fault_spec(bad)


def test_a_request_head_is_parsed_as_the_stdlib_does_without_splitting_a_body() -> None:
    head = (
        b"Content-Type: multipart/form-data; boundary=dagkit-1f2e\r\nContent-Length: 3\r\n"
        b"X-Twice: a\r\nX-Twice: b\r\nX-Folded: one\r\n two\r\n\r\n"
    )
    ours = http.client.parse_headers(io.BytesIO(head), _class=Handler.MessageClass)
    stdlib = http.client.parse_headers(io.BytesIO(head))
    assert isinstance(ours, RequestHead)
    assert ours.items() == stdlib.items()
    # The stdlib parser split the empty text after the head as multipart (and found it broken):
    # the work (a regex compiled per boundary) that the server's own parser makes useless.
    assert stdlib.defects and ours.defects == []
    ours.head_parsed = True  # as Handler.parse_request sets it
    assert ours.get_content_maintype() == "multipart"
    assert ours.get_boundary() == "dagkit-1f2e"
