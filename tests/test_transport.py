"""The transport against a real loopback server that misbehaves on cue.

Every test checks what the user sees (exception, message, status, ``reached_server``) and how many
requests reached the server: a create-job request must never arrive twice.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dagkit
from dagkit.wire import multipart

sys.path.insert(0, str(Path(__file__).parent))

from httpfaults import (
    ChunkedBody,
    Close,
    FaultServer,
    RefusedPort,
    Reply,
    Reset,
    Stall,
    Truncate,
    redirect,
)

from dagkit.errors import (
    AdviceKind,
    AmbiguousRequestError,
    APIError,
    AuthenticationError,
    ConnectError,
    DagkitError,
    MultipartError,
    NotFoundError,
    RateLimitError,
    RemoteProtocolError,
    ResponseError,
    ServerError,
)
from dagkit.errors import TimeoutError as RequestTimeoutError
from dagkit.http.transport import (
    API_KEY_HEADER,
    FormFile,
    Headers,
    Request,
    RetryPolicy,
    Transport,
    normalize_base_url,
    parse_retry_after,
)
from dagkit.wire.multipart import FileSpec, MultipartEncoder

KEY = "dk-test-7f3a9c2e4b1d8f60aa"
JOBS = "/api/v1/jobs/"
JOB_CREATED = {"id": "6c9d5b58-1d7c-4bd5-9a31-6b6f6d1c0a11", "status": "SCHEDULED"}


class FakeClock:
    """A monotonic clock that only moves when the transport sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "REQUEST_METHOD"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(url: str, clock: FakeClock, **options: Any) -> Transport:
    options.setdefault("api_key", KEY)
    options.setdefault("retry", RetryPolicy(jitter=False))
    options.setdefault("timeout", (2.0, 2.0))
    return Transport(base_url=url, sleep=clock.sleep, clock=clock, **options)


def upload(blocks: int = 4, size: int = 100_000) -> ChunkedBody:
    return ChunkedBody([bytes([65 + i]) * size for i in range(blocks)])


def create_job(transport: Transport, body: ChunkedBody) -> Request:
    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    return Request("POST", transport.url("/jobs/"), headers, body)


# --------------------------------------------------------------------------- happy paths


def test_get_sends_key_and_defaults_and_parses_json(server: FaultServer, clock: FakeClock) -> None:
    server.script(JOBS, Reply(200, json=[JOB_CREATED], headers=(("X-Request-Id", "r-1"),)))
    transport = make(server.url, clock)
    response = transport.send(Request("GET", transport.url("/jobs/", {"status": "COMPLETED"})))
    assert response.status == 200
    assert response.json() == [JOB_CREATED]
    assert response.request_id == "r-1"
    assert response.headers["content-type"] == response.headers["CONTENT-TYPE"]
    (seen,) = server.requests(JOBS)
    assert seen.target == "/api/v1/jobs/?status=COMPLETED"
    assert seen.header(API_KEY_HEADER) == KEY
    assert seen.header("Accept") == "application/json"
    assert seen.header("User-Agent") == f"dagkit/{dagkit.__version__}"
    assert seen.header("Expect") is None


def test_streamed_body_arrives_whole_with_exact_length(
    server: FaultServer, clock: FakeClock
) -> None:
    server.script(JOBS, Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    body = ChunkedBody([b"--xyz\r\n", b"a" * 70_000, b"b" * 3, b"c" * 200_000, b"\r\n--xyz--\r\n"])
    response = transport.send(create_job(transport, body))
    assert response.json() == JOB_CREATED
    (seen,) = server.requests(JOBS)
    assert seen.body == b"".join(body.blocks)
    assert seen.header("Content-Length") == str(body.content_length)
    assert seen.header("Content-Type") == "multipart/form-data; boundary=xyz"


def test_stream_writes_the_body_to_the_sink(server: FaultServer, clock: FakeClock) -> None:
    payload = bytes(range(256)) * 12_000
    server.script("/api/v1/jobs/j/download", Reply(200, body=payload))
    transport = make(server.url, clock)
    sink = io.BytesIO()
    response = transport.stream(Request("GET", transport.url("/jobs/j/download")), sink)
    assert response.status == 200 and response.body == b""
    assert sink.getvalue() == payload


def test_stream_retry_rewinds_the_sink(server: FaultServer, clock: FakeClock) -> None:
    payload = b"0123456789" * 1000
    server.script("/api/v1/out", Truncate(200, payload[:5000], 5000), Reply(200, body=payload))
    transport = make(server.url, clock)
    sink = io.BytesIO(b"keep:")
    sink.seek(0, io.SEEK_END)
    transport.stream(Request("GET", transport.url("/out")), sink)
    assert sink.getvalue() == b"keep:" + payload
    assert server.count("/api/v1/out") == 2


# ------------------------------------------------------------------ create-job: never sent twice


@pytest.mark.parametrize("status", [500, 502, 504, 503])
def test_create_job_server_error_is_ambiguous_and_sent_once(
    server: FaultServer, clock: FakeClock, status: int
) -> None:
    detail = {"detail": "database unavailable"}
    server.script(JOBS, Reply(status, json=detail, headers=(("x-amzn-requestid", "req-77"),)))
    transport = make(server.url, clock)
    with pytest.raises(AmbiguousRequestError) as caught:
        transport.send(create_job(transport, upload()))
    error = caught.value
    message = str(error)
    assert str(status) in message and "req-77" in message and "database unavailable" in message
    # advice in Python terms from the library; the CLI words it as `dagkit jobs list`
    assert "may" in message and "JobsClient.list_jobs()" in message
    assert "dagkit jobs list" not in message
    assert [a.kind for a in error.advice] == [AdviceKind.LOOK_FOR_JOB]
    assert error.reached_server is True
    assert isinstance(error.__cause__, ServerError)
    assert error.__cause__.status == status and error.__cause__.request_id == "req-77"
    assert server.count(JOBS) == 1
    assert clock.sleeps == []


def test_create_job_429_then_success_waits_retry_after(
    server: FaultServer, clock: FakeClock
) -> None:
    server.script(
        JOBS,
        Reply(429, json={"detail": "slow down"}, headers=(("Retry-After", "3"),)),
        Reply(200, json=JOB_CREATED),
    )
    transport = make(server.url, clock)
    body = upload()
    response = transport.send(create_job(transport, body))
    assert response.json() == JOB_CREATED
    first, second = server.requests(JOBS)
    assert first.body == second.body == b"".join(body.blocks)
    assert clock.sleeps == [3.0]


def test_create_job_503_with_retry_after_is_retried(server: FaultServer, clock: FakeClock) -> None:
    server.script(JOBS, Reply(503, headers=(("Retry-After", "2"),)), Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    transport.send(create_job(transport, upload()))
    assert server.count(JOBS) == 2
    assert clock.sleeps == [2.0]


def test_create_job_429_until_attempts_run_out(server: FaultServer, clock: FakeClock) -> None:
    server.script(JOBS, *[Reply(429, headers=(("Retry-After", "1"),))] * 3)
    transport = make(server.url, clock, retry=RetryPolicy(max_attempts=3, jitter=False))
    with pytest.raises(RateLimitError) as caught:
        transport.send(create_job(transport, upload()))
    assert caught.value.status == 429 and caught.value.retry_after == 1.0
    assert "Gave up after 3 attempts" in str(caught.value)
    assert server.count(JOBS) == 3
    assert clock.sleeps == [1.0, 1.0]


def test_retry_after_beyond_budget_raises_without_sleeping(
    server: FaultServer, clock: FakeClock
) -> None:
    server.script(JOBS, Reply(429, headers=(("Retry-After", "120"),)))
    transport = make(server.url, clock, retry=RetryPolicy(total_budget=60, jitter=False))
    with pytest.raises(RateLimitError) as caught:
        transport.send(create_job(transport, upload()))
    assert caught.value.retry_after == 120.0
    assert "120" in str(caught.value) and "budget" in str(caught.value)
    assert clock.sleeps == []
    assert server.count(JOBS) == 1


def test_retry_after_http_date_is_measured_against_the_server_date(
    server: FaultServer, clock: FakeClock
) -> None:
    now = 1_800_000_000
    headers = (
        ("Date", formatdate(now, usegmt=True)),
        ("Retry-After", formatdate(now + 7, usegmt=True)),
    )
    server.script(JOBS, Reply(429, headers=headers), Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    transport.send(create_job(transport, upload()))
    assert clock.sleeps == [7.0]
    assert server.count(JOBS) == 2


def test_create_job_connection_closed_without_answer_is_ambiguous(
    server: FaultServer, clock: FakeClock
) -> None:
    server.script(JOBS, Close(), Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    with pytest.raises(AmbiguousRequestError, match="did not answer") as caught:
        transport.send(create_job(transport, upload()))
    assert caught.value.reached_server is True
    assert server.count(JOBS) == 1


def test_create_job_reset_during_upload_is_ambiguous(server: FaultServer, clock: FakeClock) -> None:
    server.script(JOBS, Reset(after=100_000), Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    body = ChunkedBody([b"x" * 256 * 1024] * 32)  # 8 MiB: more than the socket buffers hold
    with pytest.raises(AmbiguousRequestError) as caught:
        transport.send(create_job(transport, body))
    assert "job may already have been created" in str(caught.value)
    (seen,) = server.requests(JOBS)
    assert len(seen.body) == 100_000
    assert body.iterations == 1


def test_create_job_read_timeout_is_ambiguous(server: FaultServer, clock: FakeClock) -> None:
    server.script(JOBS, Stall(5), Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock, timeout=(2.0, 0.3))
    with pytest.raises(AmbiguousRequestError, match=r"read timeout of 0\.3 s") as caught:
        transport.send(create_job(transport, upload()))
    assert isinstance(caught.value.__cause__, builtins.TimeoutError)
    assert server.count(JOBS) == 1


def test_create_job_truncated_answer_is_ambiguous(server: FaultServer, clock: FakeClock) -> None:
    server.script(JOBS, Truncate(200, b'{"id": "6c9d', 50))
    transport = make(server.url, clock)
    with pytest.raises(AmbiguousRequestError, match="answered 200 but the body was cut off"):
        transport.send(create_job(transport, upload()))
    assert server.count(JOBS) == 1


def test_create_job_connection_refused_is_retried_and_says_nothing_arrived(
    clock: FakeClock,
) -> None:
    refused = RefusedPort()
    try:
        transport = make(refused.url, clock, retry=RetryPolicy(max_attempts=3, jitter=False))
        with pytest.raises(ConnectError) as caught:
            transport.send(create_job(transport, upload()))
    finally:
        refused.close()
    assert not isinstance(caught.value, AmbiguousRequestError)
    assert caught.value.reached_server is False
    assert "refused" in str(caught.value) and "Gave up after 3 attempts" in str(caught.value)
    assert clock.sleeps == [0.5, 1.0]


def test_dns_failure_is_a_connect_error(clock: FakeClock) -> None:
    transport = make("http://dagkit-test.invalid", clock, api_key=None)
    transport.retry = RetryPolicy(max_attempts=2, jitter=False)
    with pytest.raises(ConnectError, match=r"resolve the host name dagkit-test\.invalid") as caught:
        transport.send(Request("POST", transport.url("/jobs/"), body=b"{}"))
    assert caught.value.reached_server is False
    assert clock.sleeps == [0.5]


def test_body_that_lies_about_its_length_is_refused(server: FaultServer, clock: FakeClock) -> None:
    class Short(ChunkedBody):
        @property
        def content_length(self) -> int:
            return 1000

    server.script(JOBS, Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    with pytest.raises(DagkitError, match="ended after 10 of its declared 1000 bytes"):
        transport.send(create_job(transport, Short([b"0123456789"])))
    with pytest.raises(DagkitError, match="longer than its declared 1000 bytes"):
        transport.send(create_job(transport, Short([b"x" * 600, b"y" * 600])))


# --------------------------------------------------------------------------- idempotent retries


def test_get_503_503_200_retries_with_backoff(server: FaultServer, clock: FakeClock) -> None:
    server.script("/api/v1/jobs/j", Reply(503), Reply(503), Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    response = transport.send(Request("GET", transport.url("/jobs/j")))
    assert response.json() == JOB_CREATED
    assert server.count("/api/v1/jobs/j") == 3
    assert clock.sleeps == [0.5, 1.0]


def test_get_500_is_not_retried(server: FaultServer, clock: FakeClock) -> None:
    server.script("/api/v1/jobs/j", Reply(500, json={"detail": "boom"}), Reply(200))
    transport = make(server.url, clock)
    with pytest.raises(ServerError) as caught:
        transport.send(Request("GET", transport.url("/jobs/j")))
    assert caught.value.status == 500 and caught.value.detail == "boom"
    assert server.count("/api/v1/jobs/j") == 1


def test_backoff_stops_when_the_budget_is_spent(server: FaultServer, clock: FakeClock) -> None:
    server.script("/api/v1/jobs/j", *[Reply(502)] * 5)
    policy = RetryPolicy(total_budget=1.0, backoff_initial=0.5, jitter=False)
    transport = make(server.url, clock, retry=policy)
    with pytest.raises(ServerError, match="budget"):
        transport.send(Request("GET", transport.url("/jobs/j")))
    assert clock.sleeps == [0.5]
    assert server.count("/api/v1/jobs/j") == 2


@pytest.mark.parametrize(
    "fault",
    [Close(), Reset(), Stall(5), Truncate()],
    ids=["closed", "reset", "stalled", "truncated"],
)
def test_get_network_faults_are_retried(server: FaultServer, clock: FakeClock, fault: Any) -> None:
    server.script("/api/v1/jobs/j", fault, Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock, timeout=(2.0, 0.3))
    assert transport.send(Request("GET", transport.url("/jobs/j"))).json() == JOB_CREATED
    assert server.count("/api/v1/jobs/j") == 2
    assert clock.sleeps == [0.5]


@pytest.mark.parametrize(
    ("fault", "error", "text", "read_timeout"),
    [
        (Close(), RemoteProtocolError, "closed without answering", 30.0),
        (Stall(5), RequestTimeoutError, "no answer within the read timeout", 0.3),
        # a short read timeout only where the fault is a silence: on a busy machine the server
        # thread may take longer than 0.3 s to send its cut-off answer
        (Truncate(), RemoteProtocolError, "cut off", 30.0),
    ],
)
def test_get_network_faults_when_not_retried(
    server: FaultServer,
    clock: FakeClock,
    fault: Any,
    error: type[Exception],
    text: str,
    read_timeout: float,
) -> None:
    server.script("/api/v1/jobs/j", fault)
    policy = RetryPolicy(max_attempts=1)
    transport = make(server.url, clock, timeout=(2.0, read_timeout), retry=policy)
    with pytest.raises(error, match=text) as caught:
        transport.send(Request("GET", transport.url("/jobs/j")))
    assert caught.value.reached_server is True  # type: ignore[attr-defined]
    assert server.count("/api/v1/jobs/j") == 1


def test_idempotent_upload_reset_is_resent_whole(server: FaultServer, clock: FakeClock) -> None:
    server.script(JOBS, Reset(after=1000), Reply(200))
    transport = make(server.url, clock)
    body = ChunkedBody([b"p" * 65536, b"q" * 65536])
    request = Request("PUT", transport.url("/jobs/"), body=body)
    transport.send(request)
    first, second = server.requests(JOBS)
    assert len(first.body) == 1000
    assert second.body == b"".join(body.blocks)


# --------------------------------------------------------------------------- kept connections


@pytest.fixture
def kept() -> Iterator[FaultServer]:
    """A server that keeps connections open between requests, and closes one idle for 0.2 s."""
    with FaultServer(keep_alive=True, idle_timeout=0.2) as running:
        yield running


def wait_until(condition: Callable[[], bool]) -> None:
    """Wait (up to 10 s) for something the server does in its own time."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the server did not get there in 10 s"
        time.sleep(0.01)


def test_sequential_requests_share_one_connection(kept: FaultServer, clock: FakeClock) -> None:
    payload = b"output " * 50_000
    kept.script("/api/v1/jobs/j", Reply(200, json=JOB_CREATED), Reply(200, json=JOB_CREATED))
    kept.script("/api/v1/jobs/j/download", Reply(200, body=payload))
    kept.script(JOBS, Reply(200, json=[]))
    kept.script("/api/v1/jobs/gone", Reply(404, json={"detail": "no such job"}))
    with make(kept.url, clock) as transport:
        transport.send(Request("GET", transport.url("/jobs/j")))
        sink = io.BytesIO()
        transport.stream(Request("GET", transport.url("/jobs/j/download")), sink)
        assert transport.send(Request("GET", transport.url("/jobs/"))).json() == []
        with pytest.raises(NotFoundError):  # an error answer read to its end keeps it too
            transport.send(Request("GET", transport.url("/jobs/gone")))
        transport.send(Request("GET", transport.url("/jobs/j")))
        assert sink.getvalue() == payload
        assert kept.count() == 5 and kept.connections == 1
    wait_until(lambda: kept.closed == 1)  # close() hung up the kept connection


def test_a_create_goes_on_a_new_connection(kept: FaultServer, clock: FakeClock) -> None:
    kept.script("/api/v1/jobs/j", *[Reply(200, json=JOB_CREATED)] * 3)
    kept.script(JOBS, Reply(200, json=JOB_CREATED))
    transport = make(kept.url, clock)
    transport.send(Request("GET", transport.url("/jobs/j")))
    transport.send(create_job(transport, upload()))
    assert kept.connections == 2
    transport.send(Request("GET", transport.url("/jobs/j")))  # the create's connection is kept
    transport.send(Request("GET", transport.url("/jobs/j")))
    assert kept.connections == 2 and kept.count() == 4


def test_a_create_after_kept_requests_is_still_sent_once(
    kept: FaultServer, clock: FakeClock
) -> None:
    # The server reads the create and hangs up without answering: ambiguous, never resent,
    # though a GET on a connection closed that way would be.
    kept.script("/api/v1/jobs/j", Reply(200, json=JOB_CREATED))
    kept.script(JOBS, Close(), Reply(200, json=JOB_CREATED))
    transport = make(kept.url, clock)
    transport.send(Request("GET", transport.url("/jobs/j")))
    with pytest.raises(AmbiguousRequestError, match="did not answer"):
        transport.send(create_job(transport, upload()))
    assert kept.count(JOBS) == 1
    assert clock.sleeps == []


def test_a_connection_the_server_closed_while_idle_is_replaced(
    kept: FaultServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dagkit.http.transport")
    kept.script("/api/v1/jobs/j", *[Reply(200, json=JOB_CREATED)] * 2)
    transport = make(kept.url, clock)
    transport.send(Request("GET", transport.url("/jobs/j")))
    wait_until(lambda: kept.closed == 1)  # idle past the server's timeout
    assert transport.send(Request("GET", transport.url("/jobs/j"))).json() == JOB_CREATED
    assert kept.connections == 2 and kept.count() == 2
    assert clock.sleeps == []  # not a failure: no attempt spent, no wait
    assert "kept connection was closed" not in caplog.text  # seen before sending on it


def test_a_get_whose_kept_connection_closes_unanswered_goes_again_on_a_new_one(
    kept: FaultServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    # What a client sees when the server closes an idle connection just as a request goes out.
    caplog.set_level(logging.DEBUG, logger="dagkit.http.transport")
    kept.script("/api/v1/jobs/j", Reply(200), Close(), Reply(200, json=JOB_CREATED))
    transport = make(kept.url, clock, retry=RetryPolicy(max_attempts=1))
    transport.send(Request("GET", transport.url("/jobs/j")))
    assert transport.send(Request("GET", transport.url("/jobs/j"))).json() == JOB_CREATED
    assert kept.connections == 2 and kept.count() == 3
    assert clock.sleeps == []
    assert "kept connection was closed" in caplog.text


def test_a_kept_connection_fails_over_once_then_the_policy_decides(
    kept: FaultServer, clock: FakeClock
) -> None:
    kept.script("/api/v1/jobs/j", Reply(200), Close(), Close())
    transport = make(kept.url, clock, retry=RetryPolicy(max_attempts=1))
    transport.send(Request("GET", transport.url("/jobs/j")))
    with pytest.raises(RemoteProtocolError, match="closed without answering"):
        transport.send(Request("GET", transport.url("/jobs/j")))
    assert kept.connections == 2 and kept.count() == 3


def test_a_connection_idle_too_long_is_not_reused(clock: FakeClock) -> None:
    with FaultServer(keep_alive=True) as server:  # one that never closes idle connections
        server.script("/api/v1/jobs/j", *[Reply(200)] * 3)
        transport = make(server.url, clock)
        transport.send(Request("GET", transport.url("/jobs/j")))
        clock.now += 3
        transport.send(Request("GET", transport.url("/jobs/j")))
        assert server.connections == 1
        clock.now += 30  # dropped on the way without either end knowing, for all dagkit knows
        transport.send(Request("GET", transport.url("/jobs/j")))
        assert server.connections == 2


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, json=JOB_CREATED, headers=(("Connection", "close"),)),
        redirect(307, "/api/v1/jobs/k"),  # its body is not read
        Reply(500, body=b"x" * (2 << 20)),  # read only in part
    ],
    ids=["connection-close", "redirect", "long-error"],
)
def test_a_connection_not_read_to_its_end_is_not_kept(
    kept: FaultServer, clock: FakeClock, reply: Reply
) -> None:
    kept.script("/api/v1/jobs/j", reply)
    kept.script("/api/v1/jobs/k", Reply(200), Reply(200))
    transport = make(kept.url, clock, retry=RetryPolicy(max_attempts=1))
    with contextlib.suppress(ServerError):
        transport.send(Request("GET", transport.url("/jobs/j")))
    transport.send(Request("GET", transport.url("/jobs/k")))
    assert kept.connections == 2


def test_threads_sharing_a_transport_never_share_a_connection(
    kept: FaultServer, clock: FakeClock
) -> None:
    kept.script("/api/v1/jobs/j", *[Reply(200, json=JOB_CREATED)] * 200)
    transport = make(kept.url, clock)
    answers: list[Any] = []

    def poll() -> None:
        for _ in range(50):
            answers.append(transport.send(Request("GET", transport.url("/jobs/j"))).json())

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [JOB_CREATED] * 200 and kept.count() == 200
    assert kept.connections <= 4  # never more than were in use at once


# --------------------------------------------------------------------------- status errors


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, APIError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (413, APIError),
        (422, APIError),
    ],
)
def test_error_statuses_map_to_the_error_tree(
    server: FaultServer, clock: FakeClock, status: int, error: type[APIError]
) -> None:
    detail = [{"loc": ["body", "request_data"], "msg": "field required", "type": "missing"}]
    server.script(JOBS, Reply(status, json={"detail": detail}, headers=(("request-id", "q9"),)))
    transport = make(server.url, clock)
    with pytest.raises(error) as caught:
        transport.send(create_job(transport, upload()))
    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.detail == detail
    assert caught.value.request_id == "q9"
    assert "body.request_data: field required" in str(caught.value)
    assert server.count(JOBS) == 1


def test_missing_key_says_so(server: FaultServer, clock: FakeClock) -> None:
    server.script(JOBS, Reply(401, json={"detail": "Unauthorized"}))
    transport = make(server.url, clock, api_key=None)
    with pytest.raises(AuthenticationError, match="No API key was sent"):
        transport.send(Request("GET", transport.url("/jobs/")))
    assert server.requests(JOBS)[0].header(API_KEY_HEADER) is None


def test_non_json_answers(server: FaultServer, clock: FakeClock) -> None:
    html = b"<html><body>Bad gateway</body></html>"
    server.script(JOBS, Reply(200, body=html, headers=(("Content-Type", "text/html"),)))
    server.script("/api/v1/jobs/j", Reply(502, body=html))
    transport = make(server.url, clock, retry=RetryPolicy(max_attempts=1))
    response = transport.send(Request("GET", transport.url("/jobs/")))
    with pytest.raises(ResponseError, match="not JSON") as caught:
        response.json()
    assert "text/html" in str(caught.value)
    with pytest.raises(ServerError) as failed:
        transport.send(Request("GET", transport.url("/jobs/j")))
    assert failed.value.detail == html.decode()


# --------------------------------------------------------------------------- redirects


@pytest.mark.parametrize("status", [307, 308])
def test_307_308_resend_the_whole_body(server: FaultServer, clock: FakeClock, status: int) -> None:
    server.script(JOBS, redirect(status, "/api/v1/jobs-moved/"))
    server.script("/api/v1/jobs-moved/", Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    body = ChunkedBody([bytes([i]) * 300_000 for i in range(5)])
    assert transport.send(create_job(transport, body)).json() == JOB_CREATED
    (first,) = server.requests(JOBS)
    (second,) = server.requests("/api/v1/jobs-moved/")
    assert first.body == second.body == b"".join(body.blocks)
    assert second.method == "POST" and second.header(API_KEY_HEADER) == KEY
    assert body.iterations == 2
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [301, 302, 303])
def test_idempotent_post_redirected_by_301_302_303_becomes_get(
    server: FaultServer, clock: FakeClock, status: int
) -> None:
    server.script("/api/v1/jobs/j/cancel", redirect(status, "/api/v1/elsewhere"))
    server.script("/api/v1/elsewhere", Reply(200, json=[]))
    transport = make(server.url, clock)
    headers = {"Content-Type": "application/json"}
    cancel = Request("POST", transport.url("/jobs/j/cancel"), headers, b"{}", idempotent=True)
    transport.send(cancel)
    (moved,) = server.requests("/api/v1/elsewhere")
    assert moved.method == "GET" and moved.body == b""
    assert moved.header("Content-Type") is None


def test_redirect_to_another_origin_drops_the_key(server: FaultServer, clock: FakeClock) -> None:
    with FaultServer() as other:
        other.script("/files/out", Reply(200, body=b"data"))
        server.script("/api/v1/jobs/j/download", redirect(302, f"{other.url}/files/out"))
        transport = make(server.url, clock)
        sink = io.BytesIO()
        transport.stream(Request("GET", transport.url("/jobs/j/download")), sink)
        assert sink.getvalue() == b"data"
        assert server.requests()[0].header(API_KEY_HEADER) == KEY
        assert other.requests()[0].header(API_KEY_HEADER) is None


def test_redirect_loop_stops(server: FaultServer, clock: FakeClock) -> None:
    server.script("/api/v1/a", *[redirect(307, "/api/v1/a")] * 10)
    transport = make(server.url, clock)
    with pytest.raises(RemoteProtocolError, match="more than 5 redirects"):
        transport.send(Request("GET", transport.url("/a")))
    assert server.count("/api/v1/a") == 6


@pytest.mark.parametrize("status", [301, 302, 303])
def test_a_create_redirected_by_301_302_303_is_ambiguous(
    server: FaultServer, clock: FakeClock, status: int
) -> None:
    # Following would GET another page and return it as the created job.
    server.script(JOBS, redirect(status, "/api/v1/elsewhere"))
    server.script("/api/v1/elsewhere", Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    with pytest.raises(AmbiguousRequestError, match=r"JobsClient\.list_jobs\(\)") as caught:
        transport.send(create_job(transport, upload()))
    assert caught.value.reached_server is True
    assert f"answered {status}" in str(caught.value)
    assert server.count(JOBS) == 1 and server.count("/api/v1/elsewhere") == 0


def test_a_create_redirected_to_another_origin_keeps_the_key_home(
    server: FaultServer, clock: FakeClock
) -> None:
    with FaultServer() as other:
        other.script(JOBS, Reply(200, json=JOB_CREATED))
        server.script(JOBS, redirect(307, f"{other.url}{JOBS}"))
        transport = make(server.url, clock)
        body = upload()
        assert transport.send(create_job(transport, body)).json() == JOB_CREATED
        (moved,) = other.requests(JOBS)
        assert moved.body == b"".join(body.blocks)
        assert moved.header(API_KEY_HEADER) is None
        assert server.requests(JOBS)[0].header(API_KEY_HEADER) == KEY


@pytest.fixture
def secure(certificate: tuple[Path, Path]) -> Iterator[FaultServer]:
    import ssl

    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with FaultServer(tls=context) as running:
        yield running


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_no_redirect_leaves_https_for_plain_http(
    secure: FaultServer,
    server: FaultServer,
    certificate: tuple[Path, Path],
    clock: FakeClock,
    status: int,
    method: str,
) -> None:
    # A 307/308 would resend the files in clear; any other would fetch the answer in clear.
    secure.script(JOBS, redirect(status, f"{server.url}{JOBS}"))
    server.script(JOBS, Reply(200, json=JOB_CREATED))
    transport = make(f"https://localhost:{secure.port}", clock, ca_bundle=certificate[0])
    if method == "POST":
        with pytest.raises(AmbiguousRequestError, match=r"JobsClient\.list_jobs\(\)"):
            transport.send(create_job(transport, upload()))
    else:
        with pytest.raises(RemoteProtocolError, match="refusing to leave https"):
            transport.send(Request("GET", transport.url("/jobs/")))
    assert secure.count(JOBS) == 1
    assert server.count() == 0


# --------------------------------------------------------------------------- the key never leaks


def test_key_never_appears_in_errors_logs_or_reprs(
    server: FaultServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dagkit.http.transport")
    echo = {"detail": f"invalid key {KEY}"}
    server.script(JOBS, Reply(503), Reply(401, json=echo), Reply(500, body=KEY.encode()))
    server.script("/api/v1/x", Close(), Reply(429, headers=(("Retry-After", "999"),)))
    transport = make(server.url, clock)
    errors: list[BaseException] = []
    for request in [
        Request("GET", transport.url("/jobs/")),
        create_job(transport, upload()),
        Request("GET", transport.url("/x")),
    ]:
        with pytest.raises(DagkitError) as caught:
            transport.send(request)
        errors.append(caught.value)
    assert isinstance(errors[0], AuthenticationError) and "***" in str(errors[0])
    assert errors[0].detail == "invalid key ***"
    assert isinstance(errors[1], AmbiguousRequestError)
    shown = [str(e) + repr(e) + str(e.__cause__) + repr(e.__cause__) for e in errors]
    shown += [repr(transport), transport.describe(create_job(transport, upload()))]
    shown += [caplog.text, repr(Request("GET", "http://x/", {API_KEY_HEADER: KEY}))]
    assert "attempt 1/5" in caplog.text
    for text in shown:
        assert KEY not in text
    assert "***" in transport.describe(Request("GET", transport.url("/jobs/")))


def test_key_over_plain_http_to_a_remote_host_is_refused(server: FaultServer) -> None:
    # 0.0.0.0 reaches this loopback server, but it is not a loopback address
    url = f"http://0.0.0.0:{server.port}"
    server.script(JOBS, Reply(200, json=[]))
    with pytest.raises(DagkitError, match="refusing to send the API key over plain http") as caught:
        Transport(base_url=url, api_key=KEY)
    assert KEY not in str(caught.value)
    assert server.count() == 0
    Transport(base_url=url)  # no key: nothing to protect
    Transport(base_url="http://localhost:1", api_key=KEY)
    Transport(base_url="http://[::1]:1", api_key=KEY)
    allowed = Transport(base_url=url, api_key=KEY, allow_insecure_key=True)
    allowed.send(Request("GET", allowed.url("/jobs/")))
    assert server.requests(JOBS)[0].header(API_KEY_HEADER) == KEY


@pytest.mark.parametrize("bad", ["two words", "line\nbreak", "caf\u00e9"])
def test_unsendable_key_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(DagkitError, match="API key") as caught:
        Transport(api_key=bad)
    assert bad not in str(caught.value)


# --------------------------------------------------------------------------- configuration


def test_from_env_reads_url_and_key(server: FaultServer) -> None:
    server.script(JOBS, Reply(200, json=[]), Reply(200, json=[]))
    environ = {"UNSTRUCTURED_API_URL": server.url + "/api/v1/", "UNSTRUCTURED_API_KEY": KEY}
    transport = Transport.from_env(environ=environ)
    assert transport.base_url == server.url + "/api/v1"
    transport.send(Request("GET", transport.url("/jobs/")))
    assert server.requests(JOBS)[0].header(API_KEY_HEADER) == KEY
    other = Transport.from_env(environ=environ, api_key="explicit-key", base_url=server.url)
    other.send(Request("GET", other.url("/jobs/")))
    assert server.requests(JOBS)[1].header(API_KEY_HEADER) == "explicit-key"


def test_from_env_defaults() -> None:
    transport = Transport.from_env(
        environ={"UNSTRUCTURED_API_URL": " ", "UNSTRUCTURED_API_KEY": ""}
    )
    assert transport.base_url == "https://platform.unstructuredapp.io/api/v1"
    assert not transport.has_api_key
    assert transport.timeout == (10.0, 120.0)
    assert Transport.from_env(environ={}, timeout=5).timeout == (5.0, 5.0)


@pytest.mark.parametrize(
    "url",
    ["platform.unstructuredapp.io", "ftp://host", "https://", "https://u:p@host", "http://h:x"],
)
def test_bad_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(DagkitError, match="API URL"):
        Transport(base_url=url)


@pytest.mark.parametrize("timeout", [0, -1, (1, 0), (1, 2, 3), "10", True])
def test_bad_timeouts_are_clear_errors(timeout: Any) -> None:
    with pytest.raises(DagkitError, match="timeout"):
        Transport(timeout=timeout)


_hosts = st.sampled_from(["platform.unstructuredapp.io", "127.0.0.1", "api.example.com", "[::1]"])
_prefixes = st.sampled_from(["", "/unstructured", "/a/b"])


@settings(max_examples=60)
@given(
    host=_hosts,
    port=st.sampled_from(["", ":443", ":8443"]),
    prefix=_prefixes,
    with_api=st.booleans(),
    slashes=st.integers(0, 3),
    path=st.sampled_from(["/jobs/", "jobs/", "/jobs/abc/download", "/templates/"]),
)
def test_url_normalisation_gives_the_same_request_url(
    host: str, port: str, prefix: str, with_api: bool, slashes: int, path: str
) -> None:
    plain = f"https://{host}{port}{prefix}"
    given_url = plain + ("/api/v1" if with_api else "") + "/" * slashes
    transport = Transport(base_url=given_url)
    expected_origin = f"https://{host}{'' if port == ':443' else port}"
    assert transport.base_url == f"{expected_origin}{prefix}/api/v1"
    assert transport.url(path) == f"{expected_origin}{prefix}/api/v1/{path.lstrip('/')}"
    assert normalize_base_url(transport.base_url) == transport.base_url  # idempotent


# --------------------------------------------------------------------------- parsers and policy


@settings(max_examples=50)
@given(seconds=st.integers(0, 10**6))
def test_retry_after_delta_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == float(seconds)
    assert parse_retry_after(f" {seconds} ") == float(seconds)


@settings(max_examples=50)
@given(base=st.integers(10**9, 2 * 10**9), delta=st.integers(-3600, 86400))
def test_retry_after_http_date(base: int, delta: int) -> None:
    value = formatdate(base + delta, usegmt=True)
    expected = float(max(delta, 0))
    assert parse_retry_after(value, date=formatdate(base, usegmt=True)) == expected
    assert parse_retry_after(value, now=base) == expected


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1e3", "Mon, 99 Foo 2020"])
def test_retry_after_unreadable(value: str | None) -> None:
    assert parse_retry_after(value) is None


@settings(max_examples=50)
@given(
    initial=st.floats(0, 10),
    cap=st.floats(0, 100),
    failures=st.integers(1, 200),
)
def test_backoff_stays_within_the_exponential_cap(
    initial: float, cap: float, failures: int
) -> None:
    bound = min(cap, initial * 2.0 ** (failures - 1))
    jittered = RetryPolicy(backoff_initial=initial, backoff_max=cap)
    assert 0 <= jittered.backoff(failures) <= bound
    fixed = RetryPolicy(backoff_initial=initial, backoff_max=cap, jitter=False)
    assert fixed.backoff(failures) == bound


@pytest.mark.parametrize(
    "options", [{"max_attempts": 0}, {"total_budget": -1}, {"backoff_max": float("nan")}]
)
def test_bad_retry_policy(options: dict[str, Any]) -> None:
    ((name, value),) = options.items()
    with pytest.raises(DagkitError) as caught:
        RetryPolicy(**options)
    message = str(caught.value)
    assert message.startswith(name) and repr(value) in message


def test_headers_are_case_insensitive() -> None:
    headers = Headers([("Content-Type", "a"), ("X-A", "1"), ("x-a", "2")])
    assert headers["content-type"] == headers["CONTENT-TYPE"] == "a"
    assert headers["X-a"] == "1, 2"
    assert "x-A" in headers and len(headers) == 2
    assert headers.raw_items()[2] == ("x-a", "2")


def test_request_idempotence() -> None:
    assert Request("get", "http://h/").is_idempotent
    assert Request("DELETE", "http://h/").is_idempotent
    assert not Request("POST", "http://h/").is_idempotent
    assert Request("POST", "http://h/", idempotent=True).is_idempotent


# --------------------------------------------------------------------------- dry run and curl


def test_describe_shows_the_exact_request(server: FaultServer, clock: FakeClock) -> None:
    transport = make(server.url, clock)
    body = upload(blocks=2, size=10)
    text = transport.describe(create_job(transport, body))
    lines = text.splitlines()
    assert lines[0] == f"POST {server.url}/api/v1/jobs/"
    assert f"{API_KEY_HEADER}: ***" in lines
    assert "Content-Length: 20" in lines
    assert "Content-Type: multipart/form-data; boundary=xyz" in lines
    assert f"Host: 127.0.0.1:{server.port}" in lines
    # what describe() shows is what the server receives
    server.script(JOBS, Reply(200, json=JOB_CREATED))
    transport.send(create_job(transport, body))
    received = server.requests(JOBS)[0]
    for line in lines[1:]:
        name, value = line.split(": ", 1)
        assert received.header(name) == (KEY if value == "***" else value)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_command_sends_the_same_request(
    server: FaultServer, clock: FakeClock, tmp_path: Path
) -> None:
    odd = tmp_path / 'we"ird;name,1.pdf'
    odd.write_bytes(b"%PDF-1.7 fake")
    plain = tmp_path / "notes.txt"
    plain.write_bytes(b"hello")
    request_data = '{"job_nodes": [{"name": "p; type=x", "note": "@file <in"}]}'
    server.script(JOBS, Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    command = transport.curl_command(
        Request("POST", transport.url("/jobs/"), body=b"..."),
        fields=[("request_data", request_data)],
        files=[FormFile(odd, "application/pdf"), FormFile(plain, filename="renamed.txt")],
    )
    assert KEY not in command
    assert '-H "unstructured-api-key: $UNSTRUCTURED_API_KEY"' in command
    environ = {"UNSTRUCTURED_API_KEY": KEY, "PATH": "/usr/bin:/bin"}
    subprocess.run(["bash", "-c", command], check=True, env=environ, capture_output=True)
    (seen,) = server.requests(JOBS)
    assert seen.method == "POST"
    assert seen.header(API_KEY_HEADER) == KEY and seen.header("Expect") is None
    assert request_data.encode() in seen.body
    assert b"%PDF-1.7 fake" in seen.body and b"hello" in seen.body
    assert b'filename="renamed.txt"' in seen.body
    assert b"Content-Type: application/pdf" in seen.body


def test_curl_command_for_a_get(server: FaultServer, clock: FakeClock) -> None:
    transport = make(server.url, clock)
    command = transport.curl_command(Request("GET", transport.url("/jobs/", {"status": "FAILED"})))
    assert command.startswith(f"curl -sS '{server.url}/api/v1/jobs/?status=FAILED'")
    assert "-X" not in command and "Expect" not in command
    cancel = transport.curl_command(Request("POST", transport.url("/jobs/j/cancel")))
    assert "-X POST" in cancel


# --------------------------------------------------------------------------- proxies and TLS


def test_http_proxy_gets_absolute_uri_requests(
    server: FaultServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", server.url)
    server.script(JOBS, Reply(200, json=[]))
    transport = make("http://api.dagkit-test.invalid", clock, api_key=None)
    transport.send(Request("GET", transport.url("/jobs/")))
    (seen,) = server.requests(JOBS)
    assert seen.target == "http://api.dagkit-test.invalid/api/v1/jobs/"
    assert seen.header("Host") == "api.dagkit-test.invalid"


def test_https_goes_through_a_connect_tunnel(
    server: FaultServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("https_proxy", f"http://user:s3cret@127.0.0.1:{server.port}")
    server.script("api.dagkit-test.invalid:443", Reply(407))
    transport = make("https://api.dagkit-test.invalid", clock)
    with pytest.raises(ConnectError, match="refused the tunnel") as caught:
        transport.send(Request("GET", transport.url("/jobs/")))
    assert caught.value.reached_server is False
    assert "s3cret" not in str(caught.value)
    (seen,) = server.requests()
    assert seen.method == "CONNECT" and seen.target == "api.dagkit-test.invalid:443"
    assert seen.header("Proxy-Authorization") == "Basic dXNlcjpzM2NyZXQ="
    assert seen.header(API_KEY_HEADER) is None  # the key travels only inside the tunnel
    assert clock.sleeps == []  # a proxy refusing credentials is not retried


def test_no_proxy_bypasses_the_proxy(
    server: FaultServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", server.url)
    monkeypatch.setenv("no_proxy", "dagkit-test.invalid")
    transport = make("http://api.dagkit-test.invalid", clock, api_key=None)
    transport.retry = RetryPolicy(max_attempts=1)
    with pytest.raises(ConnectError, match="resolve"):
        transport.send(Request("GET", transport.url("/jobs/")))
    assert server.count() == 0


def test_tls_is_verified(certificate: tuple[Path, Path], clock: FakeClock) -> None:
    import ssl

    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with FaultServer(tls=context) as secure:
        secure.script(JOBS, Reply(200, json=[]))
        url = f"https://localhost:{secure.port}"
        untrusted = make(url, clock)
        with pytest.raises(ConnectError, match="certificate") as caught:
            untrusted.send(Request("GET", untrusted.url("/jobs/")))
        assert caught.value.reached_server is False
        assert clock.sleeps == [] and secure.count() == 0
        trusted = make(url, clock, ca_bundle=cert)
        assert trusted.send(Request("GET", trusted.url("/jobs/"))).json() == []
        assert secure.requests(JOBS)[0].header(API_KEY_HEADER) == KEY


def test_missing_ca_bundle_is_a_clear_error(clock: FakeClock, tmp_path: Path) -> None:
    transport = make("https://localhost:1", clock, ca_bundle=tmp_path / "none.pem")
    with pytest.raises(DagkitError, match="cannot load the CA bundle"):
        transport.send(Request("GET", transport.url("/jobs/")))


# --------------------------------------------------------------------------- files by sendfile


def _encoder(tmp_path: Path, **options: Any) -> MultipartEncoder:
    small = tmp_path / "small.pdf"
    small.write_bytes(bytes(range(256)) * 37)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(300_001))
    (tmp_path / "empty.txt").write_bytes(b"")
    files = [FileSpec(small), FileSpec(big), FileSpec(tmp_path / "empty.txt")]
    files.append(FileSpec(b"inline bytes", filename="inline.txt"))
    return MultipartEncoder([("request_data", '{"job_nodes": []}')], files, **options)


@pytest.fixture
def sendfile_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The byte counts each ``socket.sendfile`` call was asked to send."""
    calls: list[int] = []
    original = socket.socket.sendfile

    def spy(self: socket.socket, file: Any, offset: int = 0, count: int | None = None) -> int:
        calls.append(count or 0)
        return original(self, file, offset, count)

    monkeypatch.setattr(socket.socket, "sendfile", spy)
    return calls


def test_files_go_by_sendfile_and_arrive_as_the_encoder_yields_them(
    server: FaultServer,
    clock: FakeClock,
    tmp_path: Path,
    sendfile_calls: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(multipart, "SENDFILE_SLICE", 65536)  # several slices per file
    seen_progress: list[tuple[int, int]] = []
    encoder = _encoder(tmp_path, progress=lambda sent, total: seen_progress.append((sent, total)))
    server.script(JOBS, Reply(307, headers=(("Location", JOBS),)), Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    request = Request(
        "POST", transport.url("/jobs/"), {"Content-Type": encoder.content_type}, encoder
    )
    expected = b"".join(encoder)  # the bytes the encoder yields
    seen_progress.clear()
    assert transport.send(request).json() == JOB_CREATED
    first, again = server.requests(JOBS)  # a 307 resends the whole body, from the first byte
    assert first.body == again.body == expected
    assert first.header("Content-Length") == str(len(expected))
    assert sendfile_calls and sum(sendfile_calls) == 2 * (256 * 37 + 300_001)
    assert max(sendfile_calls) <= 65536
    total = len(expected)
    assert [s for s, _ in seen_progress].count(total) == 2  # once per send
    assert all(0 < sent <= total and of == total for sent, of in seen_progress)


def test_a_caller_boundary_is_still_looked_for_in_each_file(
    server: FaultServer, clock: FakeClock, tmp_path: Path, sendfile_calls: list[int]
) -> None:
    (tmp_path / "trap.txt").write_bytes(b"x" * 70_000 + b"--fixed-boundary" + b"y" * 10)
    encoder = MultipartEncoder(
        [("request_data", "{}")], [FileSpec(tmp_path / "trap.txt")], boundary="fixed-boundary"
    )
    server.script(JOBS, Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    request = Request(
        "POST", transport.url("/jobs/"), {"Content-Type": encoder.content_type}, encoder
    )
    with pytest.raises(MultipartError, match="contains the boundary"):
        transport.send(request)
    assert sendfile_calls == []


def test_a_file_that_changed_size_is_refused_before_its_bytes_go(
    server: FaultServer, clock: FakeClock, tmp_path: Path, sendfile_calls: list[int]
) -> None:
    encoder = _encoder(tmp_path)
    (tmp_path / "big.bin").write_bytes(b"shorter")
    server.script(JOBS, Reply(200, json=JOB_CREATED))
    transport = make(server.url, clock)
    request = Request(
        "POST", transport.url("/jobs/"), {"Content-Type": encoder.content_type}, encoder
    )
    with pytest.raises(MultipartError, match=r"big\.bin"):
        transport.send(request)
    assert len(sendfile_calls) == 1  # the first file only
    assert all(len(seen.body) < encoder.content_length for seen in server.requests(JOBS))


def test_tls_sends_files_through_python(
    secure: FaultServer,
    certificate: tuple[Path, Path],
    clock: FakeClock,
    tmp_path: Path,
    sendfile_calls: list[int],
) -> None:
    encoder = _encoder(tmp_path)
    secure.script(JOBS, Reply(200, json=JOB_CREATED))
    transport = make(f"https://localhost:{secure.port}", clock, ca_bundle=certificate[0])
    request = Request(
        "POST", transport.url("/jobs/"), {"Content-Type": encoder.content_type}, encoder
    )
    assert transport.send(request).json() == JOB_CREATED
    assert secure.requests(JOBS)[0].body == b"".join(encoder)
    assert sendfile_calls == []


# --------------------------------------------------------------------------- the resend decision


def test_the_log_tells_each_attempt_and_why_it_stops(
    server: FaultServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dagkit.http.transport")
    server.script("/api/v1/a", Close(), Reply(503), Reply(200))
    server.script("/api/v1/b", Reply(400))
    server.script("/api/v1/c", Reply(502), Reply(502), Reply(502))
    server.script("/api/v1/d", Reply(503, headers=(("Retry-After", "999"),)))
    transport = make(server.url, clock, retry=RetryPolicy(max_attempts=3, jitter=False))
    a, b, c, d = (transport.url(f"/{name}") for name in "abcd")
    transport.send(Request("GET", a))
    for url in (b, d, c):
        with pytest.raises(APIError):
            transport.send(Request("GET", url))
    closed = f"GET {a}: the server did not answer (closed without answering)."
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", f"GET {a} -> {closed} (attempt 1/3); retrying in 0.50 s"),
        ("INFO", f"GET {a} -> 503 Service Unavailable (attempt 2/3); retrying in 1.00 s"),
        ("DEBUG", f"GET {a} -> 200 OK (attempt 3/3)"),
        ("DEBUG", f"GET {b} -> 400 Bad Request (attempt 1/3); not retried"),
        (
            "INFO",
            f"GET {d} -> 503 Service Unavailable (attempt 1/3); next wait 999.00 s exceeds "
            "the budget",
        ),
        ("INFO", f"GET {c} -> 502 Bad Gateway (attempt 1/3); retrying in 0.50 s"),
        ("INFO", f"GET {c} -> 502 Bad Gateway (attempt 2/3); retrying in 1.00 s"),
        ("INFO", f"GET {c} -> 502 Bad Gateway (attempt 3/3); giving up"),
    ]


def test_a_download_that_cannot_start_over_is_not_sent_again(
    server: FaultServer, clock: FakeClock
) -> None:
    # A pipe keeps what went into it: a second copy after half of the first would corrupt it.
    server.script("/api/v1/out", Truncate(200, b"half of it", 100), Reply(200, body=b"all"))
    transport = make(server.url, clock)
    url = transport.url("/out")
    read_end, write_end = os.pipe()
    with open(read_end, "rb") as reader, open(write_end, "wb", buffering=0) as sink:
        with pytest.raises(RemoteProtocolError) as caught:
            transport.stream(Request("GET", url), sink)
        sink.close()
        assert reader.read() == b"half of it"
    assert str(caught.value) == (
        f"GET {url}: the server answered 200 but the body was cut off (100 bytes missing)."
    )
    assert caught.value.reached_server is True
    assert server.count("/api/v1/out") == 1 and clock.sleeps == []


@pytest.mark.skipif(not Path("/dev/null").is_char_device(), reason="needs /dev/null")
def test_a_download_whose_output_cannot_be_cut_back_says_so(
    server: FaultServer, clock: FakeClock
) -> None:
    # /dev/null seeks but cannot be truncated: the retry cannot empty what the first try wrote.
    server.script("/api/v1/out", Truncate(200, b"half", 10), Reply(200, body=b"all"))
    transport = make(server.url, clock)
    with open("/dev/null", "wb") as sink, pytest.raises(DagkitError) as caught:
        transport.stream(Request("GET", transport.url("/out")), sink)
    assert str(caught.value) == "cannot restart the download: the output cannot be rewound"
    assert server.count("/api/v1/out") == 1


def test_the_ambiguous_advice_gives_utc_whatever_the_local_zone(
    server: FaultServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    from datetime import UTC, datetime, timedelta

    local = os.environ.get("TZ")
    monkeypatch.setenv("TZ", "NPT-05:45")  # POSIX for UTC+05:45: no zone files needed
    time.tzset()
    try:
        server.script(JOBS, Truncate())
        transport = make(server.url, clock)
        before = datetime.now(UTC).replace(microsecond=0)
        with pytest.raises(AmbiguousRequestError) as caught:
            transport.send(create_job(transport, upload()))
        after = datetime.now(UTC)
    finally:
        if local is None:
            monkeypatch.delenv("TZ")
        else:
            monkeypatch.setenv("TZ", local)
        time.tzset()
    stamp = str(caught.value).split("created since ", 1)[1][:20]
    since = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= since <= after


def test_a_failed_create_says_what_happened_then_what_to_do(
    server: FaultServer, clock: FakeClock
) -> None:
    server.script(JOBS, Truncate())
    transport = make(server.url, clock)
    with pytest.raises(AmbiguousRequestError) as caught:
        transport.send(create_job(transport, upload()))
    assert str(caught.value).startswith(
        f"POST {transport.url('/jobs/')}: the server answered 200 but the body was cut off "
        "(100 bytes missing). dagkit did not send it again because the server may have acted"
    )
    assert caught.value.reached_server is True


def test_redirects_are_not_attempts_and_a_loop_is_cut_short(
    server: FaultServer, clock: FakeClock
) -> None:
    server.script("/api/v1/a", Reply(503), redirect(307, "/api/v1/b"))
    server.script("/api/v1/b", Reply(503), Reply(200, json=JOB_CREATED))
    server.script("/api/v1/loop", *[redirect(308, "/api/v1/loop")] * 6)
    transport = make(server.url, clock, retry=RetryPolicy(max_attempts=2, jitter=False))
    assert transport.send(Request("GET", transport.url("/a"))).json() == JOB_CREATED
    assert clock.sleeps == [0.5, 0.5]  # each URL starts again from its first attempt
    with pytest.raises(RemoteProtocolError) as caught:
        transport.send(Request("GET", transport.url("/loop")))
    assert caught.value.reached_server is True


def test_a_failure_given_up_on_keeps_its_advice(server: FaultServer, clock: FakeClock) -> None:
    from dagkit.errors import AdviceKind

    server.script("/api/v1/jobs/j", Stall(5))
    transport = make(server.url, clock, timeout=(2.0, 0.3), retry=RetryPolicy(max_attempts=1))
    with pytest.raises(RequestTimeoutError) as caught:
        transport.send(Request("GET", transport.url("/jobs/j")))
    assert [a.kind for a in caught.value.advice] == [AdviceKind.RAISE_READ_TIMEOUT]
