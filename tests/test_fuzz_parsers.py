"""Bad input at every parser: findings (or a clear dagkit error), never a crash, never a hang.

Arbitrary bytes, truncations, broken UTF-8, deep nesting, huge numbers and random mutations of
the valid example files go to validate_request_data, validate_body, validate_http_request,
validate_response, validate_http_response and the whole ``dagkit validate`` command. How long
the worst inputs take is measured by the benchmarks in ``tests/bench/``, not asserted here.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagkit.cli import main
from dagkit.findings import CODES, Finding
from dagkit.validate.body import validate_body
from dagkit.validate.capture import validate_http_request
from dagkit.validate.files import FileResult, validate_file
from dagkit.validate.request_data import validate_request_data
from dagkit.validate.response import validate_http_response, validate_response

VALID = Path(__file__).resolve().parent / "data" / "valid"
SAMPLES = {p.name: p.read_bytes() for p in sorted(VALID.iterdir())}
REQUEST_DATA = [v for k, v in SAMPLES.items() if k.endswith("request_data.json")]
BODY = SAMPLES["create-job.multipart"]
BODY_TYPE = "multipart/form-data; boundary=dagkit-example-7MA4YWxkTrZu0gW"
HTTP_REQUESTS = [SAMPLES["create-job.http"], SAMPLES["create-job-chunked.http"]]
RESPONSES = [v for k, v in SAMPLES.items() if ".response." in k]

FUZZ = settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True, scope="module")
def _warm_up() -> None:
    """Import jsonschema and build the validators once, so no example pays for it."""
    validate_request_data('{"job_nodes": 1}')
    validate_response(b"{}", operation="get_job", status=200)
    validate_body(BODY, BODY_TYPE)


def _sound(findings: list[Finding]) -> None:
    assert isinstance(findings, list)
    for f in findings:
        assert isinstance(f, Finding) and f.code in CODES
        assert f.severity in ("error", "warning") and f.message


# --- inputs ----------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, samples: list[bytes]) -> bytes:
    """A sample with a few random edits: bytes flipped, inserted, deleted, cut, duplicated."""
    data = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat", "utf8"]))
        if edit == "flip":
            data[i] = draw(st.integers(0, 255))
        elif edit == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[i : i + draw(st.integers(1, 16))]
        elif edit == "truncate":
            del data[i:]
        elif edit == "repeat":
            data[i:i] = data[i : i + draw(st.integers(1, 64))]
        else:  # a broken UTF-8 sequence
            data[i:i] = draw(st.sampled_from([b"\xc3", b"\xe2\x82", b"\xff", b"\xed\xa0\x80"]))
    return bytes(data)


def _nested(depth: int, open_: str, close: str) -> str:
    return open_ * depth + close * depth


NASTY_JSON = [
    _nested(100_000, "[", "]"),
    '{"job_nodes": ' + _nested(5_000, "[", "]") + "}",
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"job_nodes": [{"name": "P", "type": "chunk", "subtype": "chunk_by_title", '
    '"settings": {"max_characters": 1' + "0" * 5000 + "}}]}",
    '{"job_nodes": [{"name": "P", "type": "partition", "subtype": "vlm", '
    '"settings": {"is_dynamic": true, "allow_fast": 1e999999}}]}',
    '{"job_nodes": [{"name": "P", "type": "partition", "subtype": "vlm", '
    '"settings": {"is_dynamic": true, "allow_fast": -0.0, "x": NaN}}]}',
    '{"template_id": "\\ud800"}',  # valid: a lone surrogate escape is legal JSON
    '{"job_nodes": [{"name": "\\udfff\\u0000", "type": "partition", "subtype": "vlm"}]}',
    '"just a string"',
    "1" * 10_000,
    "[" * 100_000,
    '{"id": "' + "a" * 1_000_000 + '"}',
]


# --- request_data ----------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2_000))
def test_request_data_arbitrary_bytes(data: bytes) -> None:
    _sound(validate_request_data(data))


@FUZZ
@given(st.text(max_size=2_000))
def test_request_data_arbitrary_text(text: str) -> None:
    _sound(validate_request_data(text))


@FUZZ
@given(mutated(REQUEST_DATA))
def test_request_data_mutations(data: bytes) -> None:
    _sound(validate_request_data(data))
    _sound(validate_request_data(data.decode("utf-8", "replace")))


@pytest.mark.parametrize("text", NASTY_JSON, ids=range(len(NASTY_JSON)))
def test_request_data_nasty_json(text: str) -> None:
    findings = validate_request_data(text)
    _sound(findings)
    # the others are all invalid; a vlm partitioner without settings runs on the platform's
    # defaults, whatever its name
    valid = (
        '{"template_id": "\\ud800"}',
        '{"job_nodes": [{"name": "\\udfff\\u0000", "type": "partition", "subtype": "vlm"}]}',
    )
    assert findings or text in valid


# --- bodies and captured requests ------------------------------------------------------------


@FUZZ
@given(mutated([BODY]))
def test_body_mutations(data: bytes) -> None:
    _sound(validate_body(data, BODY_TYPE))


@FUZZ
@given(st.binary(max_size=2_000), st.text(max_size=100))
def test_body_arbitrary_bytes_and_content_type(data: bytes, content_type: str) -> None:
    _sound(validate_body(data, content_type))
    _sound(validate_body(data, BODY_TYPE))


@FUZZ
@given(st.integers(0, len(BODY)), st.lists(st.integers(1, 64), min_size=1, max_size=20))
def test_body_truncated_and_fed_in_odd_blocks(cut: int, sizes: list[int]) -> None:
    data = BODY[:cut]
    blocks, i = [], 0
    while i < len(data):
        size = sizes[len(blocks) % len(sizes)]
        blocks.append(data[i : i + size])
        i += size
    findings = validate_body(iter(blocks), BODY_TYPE)
    _sound(findings)
    if cut < len(BODY) - 2:
        assert any(f.is_error for f in findings)


@FUZZ
@given(mutated(HTTP_REQUESTS))
def test_http_request_mutations(data: bytes) -> None:
    _sound(validate_http_request(data))


@FUZZ
@given(st.binary(max_size=2_000))
def test_http_request_arbitrary_bytes(data: bytes) -> None:
    _sound(validate_http_request(b"POST /api/v1/jobs/ HTTP/1.1\r\n" + data))


# --- responses -------------------------------------------------------------------------------


OPERATIONS = st.sampled_from(
    ["create_job", "list_jobs", "get_job", "get_job_details", "get_job_failed_files",
     "list_templates", "get_template", "cancel_job", "download_job_output", "no_such_op"]
)  # fmt: skip


@FUZZ
@given(mutated(RESPONSES), OPERATIONS, st.sampled_from([200, 401, 404, 422, 500]))
def test_response_mutations(data: bytes, operation: str, status: int) -> None:
    _sound(validate_response(data, operation=operation, status=status))
    _sound(validate_http_response(data))


@FUZZ
@given(st.binary(max_size=2_000), OPERATIONS)
def test_response_arbitrary_bytes(data: bytes, operation: str) -> None:
    _sound(validate_response(data, operation=operation, status=200))
    _sound(validate_http_response(b"HTTP/1.1 200 OK\r\n" + data))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@FUZZ
@given(JSON_VALUES, OPERATIONS, st.text(max_size=200) | st.none())
def test_response_arbitrary_parsed_values(value: object, operation: str, rd: str | None) -> None:
    _sound(validate_response(value, operation=operation, status=422, request_data=rd))
    _sound(validate_response(value, operation=operation, status=200))


@pytest.mark.parametrize("text", NASTY_JSON, ids=range(len(NASTY_JSON)))
def test_response_nasty_json(text: str) -> None:
    _sound(validate_response(text, operation="get_job", status=200))


# --- the whole command -----------------------------------------------------------------------


KINDS = st.sampled_from([None, "request-data", "body", "http", "response"])


@settings(FUZZ, max_examples=40)
@given(
    st.one_of(
        st.binary(max_size=1_000),
        mutated(REQUEST_DATA),
        mutated([BODY]),
        mutated(HTTP_REQUESTS),
        mutated(RESPONSES),
    ),
    KINDS,
    st.sampled_from(["text", "json", "github", "sarif", "junit"]),
)
def test_cli_on_fuzzed_files(data: bytes, kind: str | None, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "fuzz.json")
        with open(path, "wb") as out:
            out.write(data)
        result: FileResult = validate_file(path)
        _sound(result.findings)
        args = ["validate", path, "--format", fmt] + (["--kind", kind] if kind else [])
        run = CliRunner().invoke(main, args)
        if run.exception is not None and not isinstance(run.exception, SystemExit):
            raise run.exception
        assert run.exit_code in (0, 1), run.output
        assert "Traceback" not in run.output


@pytest.mark.parametrize("size", [b"-4", b"+4", b"0x4", b" -1"])
def test_a_signed_chunk_size_in_a_captured_response_is_a_finding_not_a_hang(size: bytes) -> None:
    from dagkit.validate.response import validate_http_response

    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + size + b"\r\nabcd\r\n0\r\n\r\n"
    findings = validate_http_response(raw, operation="get_job", status=200)
    assert findings and all(f.is_error for f in findings)


def test_a_non_ascii_content_length_in_a_captured_request_is_a_finding() -> None:
    raw = (
        b"POST /api/v1/jobs/ HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: \xb2\r\n\r\n--b--\r\n"
    )
    findings = validate_http_request(raw)
    assert any(f.code == "DK419" and "Content-Length" in f.message for f in findings)
