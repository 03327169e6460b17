"""Hostile and huge input costs bounded work: findings are capped, sizes limited, nothing crashes.

Each input here made dagkit slow or made it crash before; the tests assert only the results
(how many findings, which status, no traceback), never a time. The inputs that took minutes
are run by hand, with time and memory, in ``tests/bench/bench_hostile.py``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagkit.client.jobs import safe_filename
from dagkit.core.limits import MAX_FINDINGS, MAX_REQUEST_DATA_BYTES
from dagkit.findings import MORE_FINDINGS, cap_findings, finding
from dagkit.server import RunningServer, ServerConfig, serve_in_thread
from dagkit.validate.body import BodyChecker, validate_body
from dagkit.validate.request_data import validate_request_data
from dagkit.validate.response import rejection_findings, validate_response

KEY = "test-key-bounded"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="manual") as running:
        yield running


def _more(findings: list) -> str:  # type: ignore[type-arg]
    assert findings[-1].code == MORE_FINDINGS
    return str(findings[-1].message)


# -------------------------------------------------------------------------- the cap itself


def test_cap_keeps_errors_first_and_counts_the_rest() -> None:
    warnings = [finding("DK101", f"w{i}") for i in range(MAX_FINDINGS)]
    errors = [finding("DK202", f"e{i}") for i in range(5)]
    capped = cap_findings([*warnings, *errors])
    assert len(capped) == MAX_FINDINGS + 1
    assert sum(f.code == "DK202" for f in capped) == 5  # no error hides behind warnings
    assert _more(capped).startswith("5 more findings are not listed")
    assert capped[-1].severity == "warning"  # only warnings were left out


def test_nested_counts_add_up_and_an_error_left_out_makes_the_count_an_error() -> None:
    inner = cap_findings([finding("DK202", "e")] * (MAX_FINDINGS + 7))
    outer = cap_findings([finding("DK101", "w"), *inner])
    assert _more(outer).startswith("8 more findings")
    assert outer[-1].is_error
    assert sum(f.code == MORE_FINDINGS for f in outer) == 1


# -------------------------------------------------------------------------- request_data


def test_repeated_keys_deep_inside_are_capped() -> None:
    # Took minutes at 900 levels and 100,000 keys: every repeat rebuilt its whole path.
    depth, keys = 200, 3000
    text = '{"a":' * depth + "{" + ",".join('"k":1' for _ in range(keys)) + "}" + "}" * depth
    findings = validate_request_data(text)
    assert len(findings) == MAX_FINDINGS + 1
    repeats = [f for f in findings if f.code == "DK101"]
    assert repeats[0].pointer == "/a" * depth + "/k"
    assert repeats[0].line == 1 and repeats[0].column == 5 * depth + 8
    errors = [f for f in findings if f.is_error and f.code != MORE_FINDINGS]
    assert errors, "the schema's error is listed, not hidden among the repeats"
    listed = len(repeats) + len(errors)
    assert _more(findings).startswith(f"{keys - 1 + len(errors) - listed:,} more findings")


def test_request_data_over_the_limit_is_one_finding_naming_it() -> None:
    text = '{"job_nodes": [], "x": "' + "y" * MAX_REQUEST_DATA_BYTES + '"}'
    findings = validate_request_data(text)
    assert [f.code for f in findings] == ["DK420"]
    assert f"{MAX_REQUEST_DATA_BYTES:,} bytes" in findings[0].message


def test_many_unknown_keys_are_capped() -> None:
    doc = {"template_id": "t", **{f"key{i}": 1 for i in range(5000)}}
    findings = validate_request_data(json.dumps(doc))
    assert len(findings) == MAX_FINDINGS + 1
    assert findings[-1].is_error and "more finding" in findings[-1].message


# ------------------------------------------------------------------------------- answers


def test_an_answer_list_that_breaks_the_schema_is_capped() -> None:
    bad = [{"id": "not-a-uuid", "status": "WHAT", "created_at": "yesterday"}] * 2000
    findings = validate_response(json.dumps(bad), operation="list_jobs", status=200)
    assert len(findings) == MAX_FINDINGS + 1
    assert "at least 1 more finding" in _more(findings)
    # what the schema says of an answer is read around (warnings), and so is what it counts
    assert not any(f.is_error for f in findings)


def test_a_422_detail_of_many_entries_is_capped() -> None:
    detail = [{"loc": ["body", "x"], "msg": "bad", "type": "value_error"}] * 5000
    findings = rejection_findings({"detail": detail}, '{"job_nodes": []}')
    assert len(findings) == MAX_FINDINGS + 1
    assert _more(findings).startswith(f"{5000 - MAX_FINDINGS:,} more findings")


# ------------------------------------------------------------------------ multipart bodies

CT = "multipart/form-data; boundary=xx"


def _tiny_parts(count: int, disposition: bytes = b'form-data; name="p"') -> bytes:
    part = b"--xx\r\nContent-Disposition: " + disposition + b"\r\n\r\n\r\n"
    return part * count


def test_a_body_of_many_parts_keeps_no_state_per_ended_part() -> None:
    checker = BodyChecker(CT)
    checker.feed(_tiny_parts(900))
    assert len(checker.state.parts) <= 1 and len(checker.state.open_files) <= 1
    assert len(checker.state.findings) == 900  # one DK412 per part, nothing else kept


def test_a_body_of_a_million_parts_is_read_only_past_the_services_limit() -> None:
    checker = BodyChecker(CT)
    for _ in range(100):
        checker.feed(_tiny_parts(10_000, b"form-data"))  # no name: an error each
    checker.close()
    findings = checker.finish()
    assert checker.too_many == "Too many fields. Maximum number of fields is 1000."
    assert findings[0].code == "DK422" and len(findings) == MAX_FINDINGS + 1
    assert checker._parser is not None and checker._parser.parts < 10_000  # of 10^6


def test_more_than_a_thousand_files_is_the_services_other_limit() -> None:
    part = b'--xx\r\nContent-Disposition: form-data; name="input_files"; filename="a.txt"\r\n\r\n'
    findings = validate_body((part + b"x\r\n") * 1001 + b"--xx--\r\n", CT)
    assert findings[0].code == "DK422"
    assert "Too many files. Maximum number of files is 1000." in findings[0].message


def test_the_server_answers_too_many_parts_as_the_service_does(server: RunningServer) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
    body = _tiny_parts(20_000, b"form-data") + b"--xx--\r\n"
    connection.request(
        "POST", "/api/v1/jobs/", body, {"Content-Type": CT, "unstructured-api-key": KEY}
    )
    answer = connection.getresponse()
    assert answer.status == 400
    assert json.loads(answer.read()) == {
        "detail": "Too many fields. Maximum number of fields is 1000."
    }


def test_the_server_caps_the_detail_of_a_422(server: RunningServer) -> None:
    request_data = json.dumps({"template_id": "t", **{f"key{i}": 1 for i in range(3000)}})
    body = (
        b'--xx\r\nContent-Disposition: form-data; name="request_data"\r\n\r\n'
        + request_data.encode()
        + b'\r\n--xx\r\nContent-Disposition: form-data; name="input_files"; filename="a.txt"'
        + b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--xx--\r\n"
    )
    connection = http.client.HTTPConnection(server.host, server.port, timeout=60)
    connection.request(
        "POST", "/api/v1/jobs/", body, {"Content-Type": CT, "unstructured-api-key": KEY}
    )
    answer = connection.getresponse()
    detail = json.loads(answer.read())["detail"]
    assert answer.status == 422
    assert len(detail) == MAX_FINDINGS + 1
    assert "more finding" in detail[-1]["msg"]


# ------------------------------------------------------------------------- odd small input


def test_a_content_length_that_is_not_ascii_digits_is_400_before_authentication(
    server: RunningServer,
) -> None:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    connection.putrequest("POST", "/api/v1/jobs/")
    connection.putheader("Content-Length", b"\xb2")  # "²" once read as latin-1
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 400
    assert "Content-Length" in json.loads(answer.read())["detail"]


@pytest.mark.parametrize("validate", [True, False])
def test_a_job_id_that_is_not_text_is_an_answer_not_a_traceback(
    server: RunningServer, validate: bool
) -> None:
    args = [sys.executable, "-m", "dagkit", "jobs", "get", os.fsdecode(b"\xff")]
    args += ["--url", server.url, "--api-key", KEY] + ([] if validate else ["--no-validate"])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert "Traceback" not in done.stderr
    assert done.returncode == 1
    assert "422" in done.stderr and "%FF" in done.stderr


@pytest.mark.parametrize("name", [". .", " . ", ".. ..", ". . ."])
def test_a_name_of_only_dots_and_spaces_gets_the_fallback(name: str) -> None:
    assert safe_filename(name, "output.json") == "output.json"


# ------------------------------------------------------------------------- answer size


class _EndlessAnswer:
    """A loopback server answering every connection 200 with a JSON body that never ends
    (no Content-Length), counting the bytes it managed to send."""

    def __init__(self, *, declared: int | None = None) -> None:
        import threading

        self.declared = declared
        self.sent = 0
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        self.connections += 1
        self._answer(connection)
        self._listener.settimeout(1.0)  # a second connection would be a resend
        with contextlib.suppress(OSError):
            again, _ = self._listener.accept()
            self.connections += 1
            again.close()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            length = b"" if self.declared is None else b"Content-Length: %d\r\n" % self.declared
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + length
            connection.sendall(head + b"Connection: close\r\n\r\n[")
            block = b'"' + b"x" * 65_000 + b'",'
            with contextlib.suppress(OSError):  # the client stopped reading
                while self.sent < 200_000_000:
                    connection.sendall(block)
                    self.sent += len(block)

    def close(self) -> None:
        self._thread.join(timeout=30)
        self._listener.close()


@pytest.mark.parametrize("declared", [None, 500_000_000])
def test_a_json_answer_longer_than_the_limit_stops_the_read(declared: int | None) -> None:
    from dagkit.errors import AnswerTooLargeError
    from dagkit.http.transport import Request, Transport

    server = _EndlessAnswer(declared=declared)
    try:
        transport = Transport(base_url=server.url, max_answer_bytes=1_000_000)
        with pytest.raises(AnswerTooLargeError, match="DAGKIT_MAX_ANSWER_BYTES") as caught:
            transport.send(Request("GET", transport.url("/jobs/")))
        assert "1,000,000 bytes" in str(caught.value)
    finally:
        server.close()
    assert server.sent < 50_000_000  # the client hung up early instead of reading it all


def test_the_answer_limit_is_read_from_the_environment(server: RunningServer) -> None:
    args = [sys.executable, "-m", "dagkit", "jobs", "list", "--url", server.url]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "UNSTRUCTURED_API_KEY": KEY}
    small = subprocess.run(
        args,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**env, "DAGKIT_MAX_ANSWER_BYTES": "1"},
    )
    assert small.returncode != 0 and "Traceback" not in small.stderr
    assert "longer than 1 bytes" in small.stderr and "DAGKIT_MAX_ANSWER_BYTES" in small.stderr
    default = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60, env=env)
    assert default.returncode == 0, default.stderr


# -------------------------------------------------------------------- slow connections


def _slow_sockets(server: RunningServer, count: int) -> list[socket.socket]:
    """Connections that start a request head and never finish it."""
    out = []
    for _ in range(count):
        sock = socket.create_connection((server.host, server.port), timeout=30)
        sock.sendall(b"GET /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\n")
        out.append(sock)
    return out


def _get_jobs(server: RunningServer) -> int:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        connection.request("GET", "/api/v1/jobs/", headers={"unstructured-api-key": KEY})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def _get_jobs_settled(server: RunningServer) -> int:
    """One GET, then wait until the server's thread has let go of that connection: the client
    has its answer a moment before the thread that sent it marks the connection done, and on a
    loaded machine the next GET could find the fast client's own finished connections still
    busy (a 503 that says nothing about slow clients)."""
    status = _get_jobs(server)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.connections.busy_count():
        time.sleep(0.01)
    return status


def test_slow_clients_do_not_keep_a_fast_one_out() -> None:
    config = ServerConfig(api_key=KEY, max_connections=4, header_timeout=60.0)
    with RunningServer(config=config).start() as server:
        slow = _slow_sockets(server, 12)
        try:
            # every slow connection started a head; the fast client's head arrives first
            assert [_get_jobs_settled(server) for _ in range(5)] == [200] * 5
            assert len(server.connections) <= 4
            assert server.connections.evicted >= 8
        finally:
            for sock in slow:
                sock.close()


def test_a_request_head_must_arrive_in_time() -> None:
    config = ServerConfig(api_key=KEY, header_timeout=0.5)
    with RunningServer(config=config).start() as server:
        (sock,) = _slow_sockets(server, 1)
        with sock:
            closed = False
            for _ in range(100):  # a byte every 0.2 s: each read is quick, the head never ends
                readable, _, _ = select.select([sock], [], [], 0.2)
                if readable:
                    closed = sock.recv(1024) == b""
                    break
                sock.sendall(b"X")
            assert closed, "the server still waits for a head that has taken 20 s"


def test_when_every_connection_is_busy_a_new_one_gets_503() -> None:
    config = ServerConfig(api_key=KEY, max_connections=2, rate_limit=False)
    with RunningServer(config=config).start() as server:
        busy = []
        for _ in range(2):  # heads complete, bodies promised but not sent
            sock = socket.create_connection((server.host, server.port), timeout=30)
            sock.sendall(
                b"POST /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\nunstructured-api-key: "
                + KEY.encode()
                + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                + b"Content-Length: 1000\r\n\r\n"
            )
            busy.append(sock)
        try:
            for _ in range(500):
                if server.requests("create_job") == 2:
                    break
                time.sleep(0.02)
            assert _get_jobs(server) == 503
            assert server.connections.refused == 1
        finally:
            for sock in busy:
                sock.close()
        for _ in range(500):
            if len(server.connections) == 0:
                break
            time.sleep(0.02)
        assert _get_jobs(server) == 200  # room again once they are gone


def test_a_create_whose_answer_is_too_long_is_ambiguous_and_not_sent_again() -> None:
    from dagkit.errors import AmbiguousRequestError
    from dagkit.http.transport import Request, Transport

    server = _EndlessAnswer()
    try:
        transport = Transport(base_url=server.url, max_answer_bytes=1_000_000)
        with pytest.raises(AmbiguousRequestError, match="longer than 1,000,000 bytes"):
            transport.send(Request("POST", transport.url("/jobs/"), body=b"{}"))
    finally:
        server.close()
    assert server.connections == 1


def test_a_workflow_with_thousands_of_findings_is_capped_before_they_are_placed() -> None:
    from dagkit.validate.workflow import validate_workflow

    node = {"type": "chunk", "subtype": "chunk_by_title", "settings": {"bogus": 1}}
    nodes = [dict(node, name=f"n{i}") for i in range(MAX_FINDINGS + 500)]
    text = json.dumps({"name": "x", "workflow_type": "custom", "workflow_nodes": nodes})
    findings = validate_workflow(text)
    assert len(findings) == MAX_FINDINGS + 1
    assert findings[-1].code == MORE_FINDINGS
    assert all(f.line is not None for f in findings[:-1])
