"""Findings for whole create-job bodies and captured HTTP requests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit.findings import CODES, REQUEST_DATA_PART, Finding, Part
from dagkit.validate.body import PROBLEM_CODES, validate_body
from dagkit.validate.capture import looks_like_http_request, validate_http_request
from dagkit.wire.multipart import FileSpec, MultipartEncoder, ProblemKind

B = "bnd"
CT = f"multipart/form-data; boundary={B}"
REQUEST_DATA = b'{"template_id": "hi_res_and_enrichment"}'


def text_part(name: str, content: bytes, extra: str = "") -> bytes:
    return f'Content-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode() + content


def file_part(
    filename: str | None,
    content: bytes = b"%PDF-1.4",
    *,
    name: str = "input_files",
    ctype: str | None = "application/pdf",
) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"Content-Disposition: {disposition}\r\n"
    if ctype is not None:
        head += f"Content-Type: {ctype}\r\n"
    return (head + "\r\n").encode() + content


def body(*parts: bytes, boundary: str = B) -> bytes:
    delim = f"--{boundary}".encode()
    return b"".join(delim + b"\r\n" + p + b"\r\n" for p in parts) + delim + b"--\r\n"


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> Finding:
    """The one finding with ``code``, after checking it is the only finding."""
    assert codes(findings) == [code], findings
    return findings[0]


RD = text_part("request_data", REQUEST_DATA)


# ----------------------------------------------------------------------------- valid bodies


def test_valid_body_has_no_findings() -> None:
    assert validate_body(body(RD, file_part("a.pdf"), file_part("b.docx")), CT) == []


def test_body_from_the_encoder_with_real_files_is_valid(tmp_path: Path) -> None:
    paths = []
    for name in ("report.pdf", "slides.pptx", "scan.png"):
        path = tmp_path / name
        path.write_bytes(name.encode() * 1000)
        paths.append(FileSpec(path))
    encoder = MultipartEncoder([("request_data", REQUEST_DATA.decode())], paths)
    assert validate_body(iter(encoder), encoder.content_type) == []
    with (tmp_path / "body.bin").open("wb") as f:
        for block in encoder:
            f.write(block)
    with (tmp_path / "body.bin").open("rb") as f:
        assert validate_body(f, encoder.content_type, file="body.bin") == []


def test_body_given_as_bytes_blocks_or_file_gives_the_same_findings() -> None:
    data = body(RD, file_part("a.exe"), file_part("a.exe"))
    expected = validate_body(data, CT)
    assert codes(expected) == ["DK418", "DK416", "DK418"]
    assert validate_body(io.BytesIO(data), CT) == expected
    assert validate_body((data[i : i + 3] for i in range(0, len(data), 3)), CT) == expected


# ----------------------------------------------------------------------- one test per code


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "", "multipart/form-data", "multipart/form-data; boundary="],
)
def test_dk400_content_type(content_type: str) -> None:
    f = only(validate_body(body(RD), content_type), "DK400")
    assert f.part is None and f.hint


def test_dk401_illegal_boundary_is_reported_and_the_body_still_checked() -> None:
    boundary = "x" * 71
    data = body(RD, file_part("a.exe"), boundary=boundary)
    found = validate_body(data, f"multipart/form-data; boundary={boundary}")
    assert codes(found) == ["DK401", "DK418"]
    assert found[0].part is None


def test_each_kind_of_multipart_problem_has_one_code_of_matching_severity() -> None:
    assert set(PROBLEM_CODES) == set(ProblemKind)
    assert len(set(PROBLEM_CODES.values())) == len(ProblemKind)
    for kind, code in PROBLEM_CODES.items():
        assert (CODES[code].severity == "error") == kind.breaks_body, kind


def test_dk402_broken_part_header() -> None:
    data = body(RD, file_part("a.pdf").replace(b"Content-Type", b"Content Type oops"))
    f = only(validate_body(data, CT), "DK402")
    assert f.part == Part.placed("part", 1, None)


def test_dk402_lf_line_endings() -> None:
    found = validate_body(body(RD, file_part("a.pdf")).replace(b"\r\n", b"\n"), CT)
    assert set(codes(found)) == {"DK402", "DK406"}
    assert "CRLF" in found[0].message


def test_dk403_truncated_body() -> None:
    data = body(RD, file_part("a.pdf", b"x" * 100))[:-20]
    f = only(validate_body(data, CT), "DK403")
    assert f.part == Part.file(0, "a.pdf")


def test_dk404_bytes_after_the_closing_delimiter() -> None:
    f = only(validate_body(body(RD) + b"junk", CT), "DK404")
    assert f.severity == "warning" and f.part is None


def test_dk405_part_without_content_disposition() -> None:
    data = body(RD, b"Content-Type: text/plain\r\n\r\nhello")
    f = only(validate_body(data, CT), "DK405")
    assert f.part == Part.placed("part", 1, None)


def test_dk406_request_data_missing() -> None:
    f = only(validate_body(body(file_part("a.pdf")), CT), "DK406")
    assert f.part == REQUEST_DATA_PART


def test_dk407_request_data_repeated() -> None:
    f = only(validate_body(body(RD, RD), CT), "DK407")
    assert f.part == REQUEST_DATA_PART and "part 1" in f.message


def test_dk408_request_data_sent_as_file() -> None:
    data = body(text_part("request_data", REQUEST_DATA, '; filename="rd.json"'))
    f = only(validate_body(data, CT), "DK408")
    assert f.part == REQUEST_DATA_PART


def test_dk409_file_without_filename() -> None:
    f = only(validate_body(body(RD, file_part(None)), CT), "DK409")
    assert f.part == Part.file(0, None)


def test_dk409_file_with_empty_filename() -> None:
    f = only(validate_body(body(RD, file_part("")), CT), "DK409")
    assert f.part == Part.file(0, "")


def test_dk410_file_without_content_type() -> None:
    f = only(validate_body(body(RD, file_part("a.pdf", ctype=None)), CT), "DK410")
    assert f.part == Part.file(0, "a.pdf") and "application/pdf" in f.hint


def test_input_files_with_brackets_as_the_official_sdk_sends_get_nothing() -> None:
    data = body(
        RD, file_part("a.pdf", name="input_files[]"), file_part("b.pdf", name="input_files[]")
    )
    assert validate_body(data, CT) == []
    files = [file_part(f"f{i}.pdf", name="input_files[]") for i in range(11)]
    f = only(validate_body(body(RD, *files), CT), "DK413")  # still files, still counted
    assert f.part == Part.file(10, "f10.pdf")


def test_a_create_job_without_files_gets_nothing() -> None:
    assert validate_body(body(RD), CT) == []


def test_dk412_unknown_part() -> None:
    data = body(RD, file_part("a.pdf"), text_part("extra", b"1"))
    f = only(validate_body(data, CT), "DK412")
    assert f.part == Part.placed("part", 2, "extra") and f.severity == "warning"


def test_dk413_too_many_files() -> None:
    files = [file_part(f"f{i}.pdf") for i in range(11)]
    f = only(validate_body(body(RD, *files), CT), "DK413")
    assert f.part == Part.file(10, "f10.pdf")
    assert "11 files" in f.message


def test_dk413_limit_is_configurable() -> None:
    files = [file_part(f"f{i}.pdf") for i in range(3)]
    assert validate_body(body(RD, *files), CT) == []
    f = only(validate_body(body(RD, *files), CT, max_files=2), "DK413")
    assert f.part == Part.file(2, "f2.pdf")


def test_dk414_file_too_large() -> None:
    data = body(RD, file_part("a.pdf", b"x" * 11))
    assert validate_body(data, CT, max_file_size=11) == []
    f = only(validate_body(data, CT, max_file_size=10), "DK414")
    assert f.part == Part.file(0, "a.pdf")


def _big_body(size: int) -> Iterator[bytes]:
    """A body with one file of ``size`` bytes, streamed in blocks, never materialised."""
    yield b"--bnd\r\n" + RD + b"\r\n--bnd\r\n" + file_part("big.pdf", b"")
    remaining = size
    while remaining:
        n = min(remaining, 1 << 20)
        yield b"x" * n
        remaining -= n
    yield b"\r\n--bnd--\r\n"


def test_dk414_default_limit_on_a_streamed_body() -> None:
    # over 10 MB read either way (10 MiB is 10,485,760 bytes)
    f = only(validate_body(_big_body(10_485_761), CT), "DK414")
    assert "10,485,761" in f.message and f.part == Part.file(0, "big.pdf")
    assert f.severity == "error"


@pytest.mark.parametrize("size", [10_000_001, 10_485_760])
def test_dk421_between_the_two_readings_of_10_mb_is_a_warning(size: int) -> None:
    f = only(validate_body(_big_body(size), CT), "DK421")
    assert f.severity == "warning" and f"{size:,}" in f.message


def test_exactly_10_mb_passes() -> None:
    assert validate_body(_big_body(10_000_000), CT) == []


def test_dk415_empty_file() -> None:
    f = only(validate_body(body(RD, file_part("a.pdf", b"")), CT), "DK415")
    assert f.part == Part.file(0, "a.pdf") and f.severity == "warning"


def test_dk416_duplicate_filename() -> None:
    data = body(RD, file_part("a.pdf"), file_part("b.pdf"), file_part("a.pdf"))
    f = only(validate_body(data, CT), "DK416")
    assert f.part == Part.file(2, "a.pdf") and "input_files[0]" in f.message


@pytest.mark.parametrize("name", ["dir/a.pdf", "C:\\\\x\\\\a.pdf", "a\x01.pdf", "..", "a\x7f.pdf"])
def test_dk417_unsafe_filename(name: str) -> None:
    found = validate_body(body(RD, file_part(name)), CT)
    assert "DK417" in codes(found)
    assert set(codes(found)) <= {"DK417", "DK418"}
    assert all(f.part and f.part.file_index == 0 for f in found)


def test_dk418_unsupported_extension() -> None:
    found = validate_body(body(RD, file_part("a.exe"), file_part("README")), CT)
    assert codes(found) == ["DK418", "DK418"]
    assert [f.part for f in found] == [Part.file(0, "a.exe"), Part.file(1, "README")]
    assert [f.part.label for f in found if f.part] == [
        'input_files[0] "a.exe"',
        'input_files[1] "README"',
    ]
    assert "'.exe'" in found[0].message and "without an extension" in found[1].message


def test_dk419_unreadable_request_head() -> None:
    f = only(validate_http_request(b"hello there\r\n\r\nbody", file="req.http"), "DK419")
    assert f.file == "req.http"


def test_dk102_request_data_not_utf8() -> None:
    data = body(text_part("request_data", b'{\n  "template_id": "caf\xe9"\n}'))
    f = only(validate_body(data, CT, file="b.bin"), "DK102")
    assert (f.part, f.file, f.line, f.column) == (REQUEST_DATA_PART, "b.bin", 2, 22)


def test_request_data_findings_carry_part_file_and_place() -> None:
    data = body(text_part("request_data", b'{\n  "template_id": ,\n  "x": 1\n}'))
    found = validate_body(data, CT, file="capture.bin")
    assert found and found[0].code == "DK100"
    assert all(f.part == REQUEST_DATA_PART and f.file == "capture.bin" for f in found)
    assert found[0].line == 2


def test_every_finding_carries_the_file() -> None:
    data = body(file_part("a.exe"), file_part(None), text_part("x", b""))[:-5]
    found = validate_body(data, CT, file="f.bin")
    assert len(found) >= 4 and all(f.file == "f.bin" for f in found)


def test_text_mode_stream_is_a_finding_not_a_crash() -> None:
    found = validate_body(io.StringIO("--bnd--\r\n"), CT)  # type: ignore[arg-type]
    assert codes(found) == ["DK402"]


# ------------------------------------------------------------------------ captured requests


def http(head: str, payload: bytes) -> bytes:
    return head.replace("\n", "\r\n").encode() + b"\r\n" + payload


VALID = body(RD, file_part("a.pdf"))


def test_captured_request_with_content_length() -> None:
    req = http(
        f"POST /api/v1/jobs/ HTTP/1.1\nContent-Type: {CT}\nContent-Length: {len(VALID)}\n", VALID
    )
    assert looks_like_http_request(req)
    assert validate_http_request(io.BytesIO(req)) == []


def test_captured_request_chunked() -> None:
    chunks = b"".join(
        f"{len(VALID[i : i + 10]):x}\r\n".encode() + VALID[i : i + 10] + b"\r\n"
        for i in range(0, len(VALID), 10)
    )
    req = http(
        f"POST /api/v1/jobs/ HTTP/1.1\nContent-Type: {CT}\nTransfer-Encoding: chunked\n",
        chunks + b"0\r\n\r\n",
    )
    assert validate_http_request(req) == []
    broken = req.replace(b"\r\na\r\n", b"\r\nzz\r\n", 1)
    assert "DK419" in codes(validate_http_request(broken))


def test_captured_request_with_lf_only_head_is_read() -> None:
    req = f"POST /x HTTP/1.1\nContent-Type: {CT}\n\n".encode() + VALID
    assert validate_http_request(req) == []


def test_captured_request_problems() -> None:
    no_type = http("POST /x HTTP/1.1\nHost: h\n", VALID)
    assert codes(validate_http_request(no_type)) == ["DK400"]
    short = http(f"POST /x HTTP/1.1\nContent-Type: {CT}\nContent-Length: {len(VALID) + 5}\n", VALID)
    assert codes(validate_http_request(short)) == ["DK419"]
    extra = http(
        f"POST /x HTTP/1.1\nContent-Type: {CT}\nContent-Length: {len(VALID)}\n", VALID + b"xx"
    )
    assert codes(validate_http_request(extra)) == ["DK404"]
    gzip = http(f"POST /x HTTP/1.1\nContent-Type: {CT}\nContent-Encoding: gzip\n", VALID)
    assert codes(validate_http_request(gzip)) == ["DK419"]
    endless = b"POST /x HTTP/1.1\r\n" + b"X-A: b\r\n" * 10_000
    assert codes(validate_http_request(endless)) == ["DK419"]
    bad_header = http(f"POST /x HTTP/1.1\nContent-Type: {CT}\nno colon here\n", VALID)
    assert codes(validate_http_request(bad_header)) == ["DK419"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"POST /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\n", True),
        (b"GET / HTTP/1.0\n", True),
        (b"--boundary\r\n", False),
        (b'{"job_nodes": []}', False),
        (b"post / HTTP/1.1\r\n", False),
        (b"", False),
    ],
)
def test_looks_like_http_request(head: bytes, expected: bool) -> None:
    assert looks_like_http_request(head) is expected


# ------------------------------------------------------------------------------------ fuzz

VALID_BODY = body(RD, file_part("a.pdf", b"%PDF\r\n-- x"), file_part("b.txt", b"hi"))


@st.composite
def mutated(draw: st.DrawFn, base: bytes = VALID_BODY) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 5))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(
                st.sampled_from([b"\r\n", b"--bnd", b'"', b"\xff", b";", b"\r\n--bnd\r\n"])
            )
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 10))]
        else:
            del data[at:]
    return bytes(data)


content_types = st.one_of(
    st.just(CT),
    st.text(max_size=60),
    st.builds(lambda b: f"multipart/form-data; boundary={b}", st.text(max_size=80)),
)


def check_findings(found: list[Finding]) -> None:
    assert isinstance(found, list)
    for f in found:
        assert f.code in CODES and f.severity in ("error", "warning")


@settings(max_examples=200)
@given(data=mutated(), content_type=content_types)
def test_mutated_bodies_give_findings_only(data: bytes, content_type: str) -> None:
    check_findings(validate_body(data, content_type))


@settings(max_examples=200)
@given(data=st.binary(max_size=1500), content_type=content_types)
def test_arbitrary_bytes_give_findings_only(data: bytes, content_type: str) -> None:
    check_findings(validate_body(data, content_type))


@settings(max_examples=200)
@given(data=mutated(base=http(f"POST /x HTTP/1.1\nContent-Type: {CT}\n", VALID_BODY)))
def test_mutated_captured_requests_give_findings_only(data: bytes) -> None:
    check_findings(validate_http_request(data))


@settings(max_examples=100)
@given(data=st.binary(max_size=500))
def test_arbitrary_captured_requests_give_findings_only(data: bytes) -> None:
    check_findings(validate_http_request(b"POST / HTTP/1.1\r\n" + data))
    check_findings(validate_http_request(data))


def test_dk420_request_data_too_large_is_not_parsed() -> None:
    from dagkit.validate.body import MAX_REQUEST_DATA_BYTES

    data = body(text_part("request_data", b" " * (MAX_REQUEST_DATA_BYTES + 1)))
    f = only(validate_body(data, CT), "DK420")
    assert f.part == REQUEST_DATA_PART and f"{MAX_REQUEST_DATA_BYTES:,} bytes" in f.message


def test_body_checker_gives_the_parts_and_the_same_findings_in_one_parse() -> None:
    from dagkit.validate.body import BodyChecker
    from dagkit.wire.multipart import MultipartParser, PartData

    data = body(
        text_part("request_data", b'{"template_id": "t"}'),
        text_part("input_files[]", b"hello", '; filename="a.txt"'),
    )
    checker = BodyChecker(CT)
    events = []
    for i in range(0, len(data), 7):
        events += checker.feed(data[i : i + 7])
    events += checker.close()
    reference = MultipartParser(B)
    expected = reference.feed(data) + reference.close()
    joined = [
        (type(e).__name__, getattr(e, "index", None)) for e in events if not isinstance(e, PartData)
    ]
    assert joined == [
        (type(e).__name__, getattr(e, "index", None))
        for e in expected
        if not isinstance(e, PartData)
    ]
    assert b"".join(e.data for e in events if isinstance(e, PartData)) == b"".join(
        e.data for e in expected if isinstance(e, PartData)
    )
    assert checker.finish() == validate_body(data, CT)
    assert [f.code for f in checker.finish()] == ["DK410"]  # a file part without Content-Type


# ------------------------------------------------------------ url-encoded (no files, the SDK)

FORM = "application/x-www-form-urlencoded"


def urlencoded(*fields: tuple[str, bytes]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(list(fields)).encode()


def test_urlencoded_request_data_alone_gets_nothing() -> None:
    assert validate_body(urlencoded(("request_data", REQUEST_DATA)), FORM) == []
    assert validate_body(urlencoded(("request_data", REQUEST_DATA)), FORM + "; charset=utf-8") == []


def test_urlencoded_request_data_is_checked_with_positions_inside_the_decoded_text() -> None:
    text = b'{\n  "job_nodes": [\n    {"name": "P", "type": "partition", "subtype": "nope"}\n  ]\n}'
    findings = validate_body(urlencoded(("request_data", text)), FORM, file="b.form")
    assert findings and all(f.part == REQUEST_DATA_PART and f.file == "b.form" for f in findings)
    subtype = [f for f in findings if f.pointer == "/job_nodes/0/subtype"]
    assert subtype and subtype[0].is_error and subtype[0].line == 3


@pytest.mark.parametrize(
    ("data", "code", "part"),
    [
        (b"", "DK406", "request_data"),
        (b"x=1&request_data=%7B%22template_id%22%3A%22t%22%7D", "DK412", 'field[0] "x"'),
        (urlencoded(("input_files", b"a.pdf"), ("request_data", REQUEST_DATA)), "DK409", None),
        (urlencoded(("request_data", b'{"template_id": "t"')), "DK100", "request_data"),
        (b"request_data=%ff", "DK102", "request_data"),
    ],
)
def test_urlencoded_findings(data: bytes, code: str, part: str | None) -> None:
    findings = validate_body(data, FORM)
    assert code in codes(findings)
    if part is not None:
        assert [f.part.label for f in findings if f.code == code and f.part] == [part]


def test_urlencoded_request_data_twice() -> None:
    data = urlencoded(("request_data", REQUEST_DATA), ("request_data", REQUEST_DATA))
    f = only(validate_body(data, FORM), "DK407")
    assert f.part == REQUEST_DATA_PART


def test_urlencoded_bodies_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagkit.validate import body as body_module

    too_many = b"&".join(b"a=1" for _ in range(body_module.MAX_URLENCODED_FIELDS + 1))
    f = only(validate_body(too_many, FORM), "DK402")
    assert "fields" in f.message
    monkeypatch.setattr(body_module, "MAX_URLENCODED_BYTES", 1000)
    blocks = iter([b"request_data=" + b"%20" * 400] * 3)
    f = only(validate_body(blocks, FORM), "DK420")
    assert f.part == REQUEST_DATA_PART


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_urlencoded_request_data_gets_what_the_same_text_gets_alone(text: str) -> None:
    from dagkit.validate.request_data import validate_request_data

    alone = validate_request_data(text, part=REQUEST_DATA_PART)
    sent = validate_body(urlencoded(("request_data", text.encode("utf-8", "surrogatepass"))), FORM)
    assert [(f.code, f.pointer, f.line, f.column) for f in sent] == [
        (f.code, f.pointer, f.line, f.column) for f in alone
    ]


def test_a_captured_urlencoded_request_gets_nothing() -> None:
    head = b"POST /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode()
    payload = urlencoded(("request_data", REQUEST_DATA))
    capture = head + b"\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload
    assert validate_http_request(capture) == []


# ------------------------------------------------------------- limits at their edges


def test_file_part_messages_say_which_name_is_missing() -> None:
    found = validate_body(body(text_part("request_data", REQUEST_DATA), file_part(None)), CT)
    dk409 = [f for f in found if f.code == "DK409"]
    assert [(f.message, f.hint) for f in dk409] == [
        ("a file part without a filename", "give every input_files part a filename")
    ]
    found = validate_body(
        body(text_part("request_data", REQUEST_DATA), file_part("", ctype=None)), CT
    )
    assert [(f.code, f.message) for f in found if f.code in ("DK409", "DK410")] == [
        ("DK409", "a file with an empty name"),
        ("DK410", "a file part without a Content-Type"),
    ]
    found = validate_body(
        body(text_part("request_data", REQUEST_DATA), file_part("a.pdf", ctype=None)), CT
    )
    assert [f.hint for f in found if f.code == "DK410"] == ["send Content-Type: application/pdf"]


def test_a_limit_that_is_not_whole_megabytes_has_one_reading() -> None:
    # 1,000,001 bytes: no mebibyte reading, so one byte over is plainly over (DK414, not DK421)
    parts = (text_part("request_data", REQUEST_DATA), file_part("a.pdf", b"x" * 1_000_002))
    found = validate_body(body(*parts), CT, max_file_size=1_000_001)
    assert "DK414" in codes(found) and "DK421" not in codes(found)


@pytest.mark.parametrize(("size", "too_big"), [(1_000_000, False), (1_000_001, True)])
def test_request_data_at_and_over_its_limit(size: int, too_big: bool) -> None:
    from dagkit.core.limits import MAX_REQUEST_DATA_BYTES

    assert size - too_big == MAX_REQUEST_DATA_BYTES
    text = b'{"template_id": "' + b"x" * (size - 19) + b'"}'
    assert len(text) == size
    raw = body(text_part("request_data", text))
    # fed in small blocks, so that request_data arrives in many pieces, some after the limit
    found = validate_body(iter([raw[i : i + 4096] for i in range(0, len(raw), 4096)]), CT)
    assert ("DK420" in codes(found)) is too_big


def _http(length: str, payload: bytes) -> bytes:
    head = (
        "POST /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: {CT}\r\nContent-Length: {length}\r\n\r\n"
    )
    return head.encode() + payload


def test_content_length_that_is_not_a_number() -> None:
    raw = _http("abc", body(text_part("request_data", REQUEST_DATA)))
    found = validate_http_request(raw)
    assert [f.message for f in found if f.code == "DK419"] == [
        "Content-Length 'abc' is not a number"
    ]


def test_bytes_missing_or_left_over_after_content_length_are_counted() -> None:
    payload = body(text_part("request_data", REQUEST_DATA))
    raw = _http(str(len(payload)), payload) + b"y" * 5000
    blocks = [raw[i : i + 1000] for i in range(0, len(raw), 1000)]  # the extra spans blocks
    found = validate_http_request(iter(blocks))
    assert [(f.code, f.message) for f in found if f.code in ("DK404", "DK419")] == [
        ("DK404", "5,000 bytes after the Content-Length are not part of the body")
    ]
    raw = _http(str(len(payload) + 7), payload)
    found = validate_http_request(iter([raw[i : i + 10] for i in range(0, len(raw), 10)]))
    assert "the body is 7 bytes shorter than its Content-Length" in " ".join(
        f.message for f in found if f.code == "DK419"
    )


def test_parts_whose_headers_break_still_count_toward_the_limit() -> None:
    raw = (
        b"".join(b"--bnd\r\nBroken header line\r\n\r\nx\r\n" for _ in range(2100)) + b"--bnd--\r\n"
    )
    found = validate_body(raw, CT)
    assert found[0].code == "DK422"
    assert "more than 1,000 fields" in found[0].message


@pytest.mark.parametrize(
    ("fields", "files", "over"),
    [(999, 1000, None), (1000, 0, "fields"), (0, 1001, "files"), (1001, 0, "fields")],
)
def test_the_services_part_limits_at_their_edge(fields: int, files: int, over: str | None) -> None:
    parts = [text_part("request_data", REQUEST_DATA)]
    parts += [text_part(f"f{i}", b"x") for i in range(fields)]
    parts += [file_part(f"{i}.pdf") for i in range(files)]
    found = validate_body(body(*parts), CT, file="big.bin")
    dk422 = [f for f in found if f.code == "DK422"]
    if over is None:
        assert dk422 == []
        return
    kind = "parts without a filename" if over == "fields" else "parts with a filename"
    answer = f"Too many {over}. Maximum number of {over} is 1000."
    assert found[0] is dk422[0] and len(dk422) == 1
    assert (dk422[0].message, dk422[0].hint, dk422[0].file) == (
        f"the body has more than 1,000 {over} ({kind}); the service answers 400 "
        f"{answer!r} and dagkit reads it no further",
        "a create-job has one request_data part and at most 10 files",
        "big.bin",
    )


def test_a_part_whose_headers_break_ends_without_harm() -> None:
    raw = body(b"Broken header line\r\n\r\nx", text_part("request_data", REQUEST_DATA))
    assert "DK402" in codes(validate_body(raw, CT))


def test_a_file_between_the_two_readings_of_the_limit() -> None:
    parts = (text_part("request_data", REQUEST_DATA), file_part("a.pdf", b"x" * 1_000_001))
    found = [f for f in validate_body(body(*parts), CT, max_file_size=1_000_000)]
    assert [(f.code, f.part, f.hint) for f in found if f.code == "DK421"] == [
        ("DK421", Part.file(0, "a.pdf"), "keep files under the decimal limit to be sure")
    ]


# ------------------------------------------------------- the size and count checks, exactly


def test_one_block_larger_than_a_parse_slice_gives_every_event() -> None:
    from dagkit.validate.body import _SLICE, BodyChecker
    from dagkit.wire.multipart import MultipartParser, PartEnd, PartStart

    data = body(RD, file_part("a.pdf", b"x" * (3 * _SLICE)), file_part("b.pdf", b"y"))
    checker = BodyChecker(CT)
    events = checker.feed(data) + checker.close()
    reference = MultipartParser(B)
    expected = reference.feed(data) + reference.close()

    def outline(found: list) -> list:  # type: ignore[type-arg]
        return [(type(e).__name__, e.index) for e in found if isinstance(e, PartStart | PartEnd)]

    parts = [(kind, index) for index in range(3) for kind in ("PartStart", "PartEnd")]
    assert outline(events) == outline(expected) == parts


def test_one_part_more_than_both_limits_together_is_over_one_of_them() -> None:
    """1,000 fields and 1,000 files are within the service's limits; a 2,001st part is over
    one of them whatever it is counted as, even one whose headers cannot be read."""
    parts = [RD] + [text_part(f"f{i}", b"x") for i in range(999)]
    parts += [file_part(f"{i}.pdf") for i in range(1000)]
    assert "DK422" not in codes(validate_body(body(*parts), CT))
    found = validate_body(body(*parts, b"Broken header line\r\n\r\nx"), CT)
    assert found[0].code == "DK422"
    assert "more than 1,000 fields" in found[0].message


def test_a_body_given_up_is_read_no_further_even_when_closed() -> None:
    from dagkit.validate.body import BodyChecker

    parts = [RD] + [text_part(f"f{i}", b"x") for i in range(1001)]
    truncated = body(*parts)[: -len(f"--{B}--\r\n")] + f"--{B}\r\n".encode() + RD[:20]
    checker = BodyChecker(CT)
    checker.feed(truncated)
    assert checker.too_many == "Too many fields. Maximum number of fields is 1000."
    assert checker.close() == []  # no DK403 for the end nobody read
    assert checker.feed(b"more") == []
    assert codes(checker.finish())[0] == "DK422" and "DK403" not in codes(checker.finish())


def test_finish_twice_gives_the_same_findings() -> None:
    from dagkit.validate.body import BodyChecker

    checker = BodyChecker(CT)
    checker.feed(body(*[file_part(f"f{i}.pdf", b"") for i in range(1100)]))
    checker.close()
    first = checker.finish()
    assert codes(first)[0] == "DK422" and first[-1].code == "DK900"
    assert checker.finish() == first
    checker = BodyChecker(CT)
    checker.feed(body(file_part("a.pdf")))
    checker.close()
    assert codes(checker.finish()) == codes(checker.finish()) == ["DK406"]


def test_request_data_over_its_limit_is_not_kept_whatever_its_bytes() -> None:
    """Past the limit the bytes are dropped as they come: not decoded (no DK102 for bytes that
    are not UTF-8), not held, only counted (DK420)."""
    from dagkit.core.limits import MAX_REQUEST_DATA_BYTES
    from dagkit.validate.body import BodyChecker

    raw = body(text_part("request_data", b"\xff" * (MAX_REQUEST_DATA_BYTES + 10)), RD)
    checker = BodyChecker(CT)
    for start in range(0, len(raw), 4096):
        checker.feed(raw[start : start + 4096])
    checker.close()
    assert codes(checker.finish()) == ["DK420", "DK407"]
    assert checker.request_data is None


def test_size_findings_say_the_sizes_and_the_fix() -> None:
    rd = text_part("request_data", REQUEST_DATA)
    found = validate_body(body(rd, file_part("a.pdf", b"x" * 1_000_001)), CT, max_file_size=10**6)
    assert [(f.code, f.message, f.hint) for f in found] == [
        (
            "DK421",
            "the file is 1,000,001 bytes: over 1,000,000, within 1,048,576; the docs do not say "
            "whether their MB is 10^6 or 2^20 bytes",
            "keep files under the decimal limit to be sure",
        )
    ]
    found = validate_body(body(rd, file_part("a.pdf", b"x" * 12)), CT, max_file_size=10)
    assert [(f.code, f.message, f.hint) for f in found] == [
        (
            "DK414",
            "the file is 12 bytes; the limit is 10",
            "split or compress the file, or raise the limit (--max-file-size 50MB) "
            "if your account allows more",
        )
    ]
    found = validate_body(body(rd, file_part("a.pdf", b"")), CT)
    assert [(f.code, f.message, f.hint) for f in found] == [
        ("DK415", "the file is empty", "the platform has nothing to process")
    ]


def test_count_findings_say_the_counts_and_the_fix() -> None:
    found = validate_body(body(file_part("a.pdf")), CT)
    assert [(f.code, f.message, f.hint) for f in found] == [
        (
            "DK406",
            "the body has no request_data part",
            'add a form field request_data holding the job JSON, e.g. {"template_id": "..."}',
        )
    ]
    files = [file_part(f"f{i}.pdf") for i in range(10)]
    assert validate_body(body(RD, *files), CT) == []  # exactly the limit
    found = validate_body(body(RD, *files, file_part("f10.pdf"), file_part("f11.pdf")), CT)
    assert [(f.code, f.message, f.part, f.hint) for f in found] == [
        (
            "DK413",
            "12 files; one job takes at most 10",
            Part.file(10, "f10.pdf"),
            "split the files over several jobs (dagkit batch does this)",
        )
    ]


def test_a_file_part_without_name_or_type_is_told_the_generic_type() -> None:
    found = validate_body(body(RD, file_part(None, ctype=None)), CT)
    assert [(f.code, f.hint) for f in found] == [
        ("DK409", "give every input_files part a filename"),
        ("DK410", "send Content-Type: application/octet-stream"),
    ]


def test_findings_past_the_cap_are_counted_not_kept_while_reading() -> None:
    from dagkit.core.limits import MAX_FINDINGS
    from dagkit.validate.body import BodyChecker

    # 1,000 empty files of a type the platform does not process: two warnings each
    files = [file_part(f"f{i}.bin", b"") for i in range(1000)]
    checker = BodyChecker(CT)
    checker.feed(body(RD, *files))
    checker.close()
    assert len(checker.state.findings) == MAX_FINDINGS  # the first 1,000 warnings, no more
    found = checker.finish()
    # the error is kept, in its place, and a warning less
    assert codes(found[-3:]) == ["DK418", "DK413", "DK900"] and len(found) == MAX_FINDINGS + 1
    assert (found[-1].severity, found[-1].message) == (
        "warning",
        "1,001 more findings are not listed (dagkit lists the first 1,000 of a file)",
    )
