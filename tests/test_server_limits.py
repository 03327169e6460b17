"""The embedded server's limits through real sockets: connections, deadlines, body sizes.

The units (:class:`Connections`, :class:`DeadlineReader`) are driven with real socket pairs;
the rest through a running server on loopback. A deadline is tested by what the server does
once it has passed (it closes, it answers), never by how long anything took.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from test_server import API, KEY, PARTITION, THREE_NODES

from dagkit.core.limits import MAX_REQUEST_DATA_BYTES
from dagkit.server import RunningServer, ServerConfig
from dagkit.server.connections import Connections, DeadlineReader
from dagkit.wire.multipart import FileSpec, MultipartEncoder

Pair = tuple[socket.socket, socket.socket]


@pytest.fixture
def pairs() -> Iterator[list[Pair]]:
    """Four connected socket pairs: (the server's end, the client's end)."""
    made = [socket.socketpair() for _ in range(4)]
    yield made
    for server_end, client_end in made:
        server_end.close()
        client_end.close()


def _later() -> None:
    """Return once the monotonic clock has moved on, so that two marks never tie."""
    start = time.monotonic()
    while time.monotonic() == start:
        pass


def _shut(client_end: socket.socket) -> bool:
    """Whether the server's end was shut down (the client reads end of file at once)."""
    client_end.settimeout(10)
    try:
        return client_end.recv(1) == b""
    except TimeoutError:
        return False


def _open(client_end: socket.socket) -> bool:
    client_end.setblocking(False)
    try:
        client_end.recv(1)
    except BlockingIOError:
        return True
    return False


# ----------------------------------------------------------------------- the connection limit


def test_room_is_made_by_closing_the_connection_that_has_waited_longest(
    pairs: list[Pair],
) -> None:
    (a, a_client), (b, b_client), (c, c_client), (d, d_client) = pairs
    connections = Connections(3)
    assert connections.admit(a) and connections.admit(b)
    _later()
    assert connections.admit(c)
    assert len(connections) == 3
    _later()
    assert connections.busy(a)  # busy with a request: never closed for room
    assert connections.waiting(b)  # b waits for its next head from now: c has waited longer
    _later()
    assert connections.admit(d)
    assert (len(connections), connections.evicted, connections.refused) == (3, 1, 0)
    assert _shut(c_client)
    assert _open(a_client) and _open(b_client) and _open(d_client)
    assert not connections.busy(c) and not connections.waiting(c)  # its thread is told so
    assert connections.busy(b) and connections.waiting(a)


def test_a_newcomer_is_refused_only_when_every_connection_is_busy(pairs: list[Pair]) -> None:
    (a, a_client), (b, b_client), (c, _), _ = pairs
    connections = Connections(2)
    assert connections.admit(a) and connections.busy(a)
    assert connections.admit(b) and connections.busy(b)
    assert not connections.admit(c) and not connections.admit(c)
    assert (len(connections), connections.evicted, connections.refused) == (2, 0, 2)
    assert _open(a_client) and _open(b_client)
    connections.release(a)
    connections.release(a)  # twice is harmless
    assert len(connections) == 1
    assert connections.admit(c)
    assert (len(connections), connections.evicted, connections.refused) == (2, 0, 2)


def test_an_unknown_connection_is_neither_waiting_nor_busy(pairs: list[Pair]) -> None:
    connections = Connections(1)
    assert not connections.waiting(pairs[0][0]) and not connections.busy(pairs[0][0])
    assert len(connections) == 0


# --------------------------------------------------------------------------- reading in time


@pytest.mark.parametrize(
    ("idle", "deadline_in", "wait"),
    [
        (None, None, None),  # no limit: a blocking read
        (0.5, None, 0.5),
        (0.5, 60.0, 0.5),  # the silence allowed is shorter than the time left
        (60.0, 0.5, 0.5),  # the time left is shorter
        (None, 60.0, 60.0),
    ],
)
def test_each_read_waits_for_the_shorter_of_the_silence_allowed_and_the_time_left(
    pairs: list[Pair], idle: float | None, deadline_in: float | None, wait: float | None
) -> None:
    server_end, client_end = pairs[0]
    reader = DeadlineReader(server_end)
    reader.idle = idle
    reader.deadline = None if deadline_in is None else time.monotonic() + deadline_in
    client_end.sendall(b"hello")
    buffer = bytearray(16)
    assert reader.readinto(buffer) == 5 and buffer[:5] == b"hello"
    timeout = server_end.gettimeout()
    if wait is None:
        assert timeout is None
    else:  # the time left shrinks while the test runs
        assert timeout is not None and wait - 5 < timeout <= wait


def test_a_read_past_the_deadline_fails_without_reading(pairs: list[Pair]) -> None:
    server_end, client_end = pairs[0]
    reader = DeadlineReader(server_end)
    reader.deadline = time.monotonic() - 0.001
    client_end.sendall(b"late")
    with pytest.raises(TimeoutError, match=r"^the request did not arrive in time$"):
        reader.readinto(bytearray(16))
    assert server_end.recv(16) == b"late"


# ------------------------------------------------------------------- through a running server


def _server(**config: Any) -> RunningServer:
    return RunningServer(config=ServerConfig(rate_limit=False, clock="instant", **config)).start()


def _form(api: API, body: bytes) -> tuple[int, Any]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return api.call("POST", "/api/v1/jobs/", body=body, headers=headers)


def test_a_url_encoded_form_too_long_for_request_data_is_refused_naming_the_limit() -> None:
    """The longest form read holds request_data at its limit with every byte percent-encoded;
    one byte more is refused before it is parsed, and the answer says the limit."""
    from dagkit.server.upload import _MAX_FORM

    text = b"A" * MAX_REQUEST_DATA_BYTES  # at the limit, and not JSON
    encoded = b"request_data=" + b"".join(b"%%%02X" % c for c in text)
    pad = b"&pad="
    at_bound = encoded + pad + b"x" * (_MAX_FORM - len(encoded) - len(pad))
    assert len(at_bound) == _MAX_FORM
    with _server() as server:
        api = API(server)
        status, answer = _form(api, at_bound)
        assert status == 422 and [d["ctx"]["code"] for d in answer["detail"]] == ["DK100"]
        status, answer = _form(api, at_bound + b"x")
        assert (status, answer["detail"]) == (
            422,
            [
                {
                    "type": "value_error",
                    "loc": ["body", "request_data"],
                    "msg": "request_data is over 1,000,000 bytes, dagkit's limit for it (a "
                    "job's request_data is a few kilobytes); it is not checked further",
                    "input": None,
                    "ctx": {
                        "code": "DK420",
                        "hint": "check that the file is request_data; long prompts or schemas "
                        "belong in files",
                    },
                }
            ],
        )
        assert server.jobs_created == 0


def test_a_url_encoded_request_data_is_read_as_utf_8_the_last_one_winning() -> None:
    named = json.dumps({"job_nodes": [{**PARTITION, "name": "Zerleger für Berichte"}]})
    with _server() as server:
        api = API(server)
        body = urlencode([("request_data", "{}"), ("request_data", named)]).encode()
        status, created = _form(api, body)
        assert status == 200, created
        job = server.store.get(created["id"])
        assert job is not None and [n.name for n in job.nodes] == ["Zerleger für Berichte"]
        status, answer = _form(api, b"request_data=%7B%22job_nodes%22%3A%FF%7D")
        assert status == 422
        assert [d["ctx"]["code"] for d in answer["detail"]] == ["DK102"]


def test_files_at_the_limits_are_kept_and_one_more_is_refused_with_nothing_kept() -> None:
    with _server(max_files=2, max_file_size=100) as server:
        api = API(server)
        status, created = api.create(files=[("a.txt", b"a" * 100), ("b.txt", b"b" * 100)])
        assert status == 200, created
        job = server.store.get(created["id"])
        assert job is not None and [f.size for f in job.files] == [100, 100]
        status, answer = api.create(files=[("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")])
        assert status == 422
        assert [(d["loc"], d["ctx"]["code"]) for d in answer["detail"]] == [
            (["body", "input_files", 2], "DK413")
        ]
        status, answer = api.create(files=[("a.txt", b"a" * 101)])
        assert status == 422
        assert [(d["loc"], d["ctx"]["code"]) for d in answer["detail"]] == [
            (["body", "input_files", 0], "DK414")
        ]
        assert server.jobs_created == 1
        # on disk, the stored job's alone: its input files (and the folder of its outputs)
        assert {p.name[:36] for p in (server.data_dir / "jobs").iterdir()} == {created["id"]}


def test_a_file_between_the_two_readings_of_the_limit_is_refused_by_name() -> None:
    """This server reads a limit of whole megabytes in decimal, so it cannot keep a file just
    over it (the validator only warns, DK421): the answer names the file and its size."""
    with _server(max_file_size=1_000_000) as server:
        api = API(server)
        status, answer = api.create(files=[("a.txt", b"a"), ("big.txt", b"b" * 1_000_001)])
        assert status == 422
        assert [(d["loc"], d["ctx"]["code"], d["msg"]) for d in answer["detail"]] == [
            (
                ["body", "input_files", 1],
                "DK421",
                "the file is 1,000,001 bytes: over 1,000,000, within 1,048,576; the docs do not "
                "say whether their MB is 10^6 or 2^20 bytes",
            )
        ]
        assert server.jobs_created == 0 and list((server.data_dir / "jobs").iterdir()) == []


def test_file_parts_named_as_the_official_sdk_names_them_are_kept() -> None:
    fields = [("request_data", THREE_NODES)]
    files = [FileSpec(b"one", filename="a.txt", field="input_files[]")]
    files.append(FileSpec(b"two!", filename="b.txt", field="input_files[]"))
    encoder = MultipartEncoder(fields, files)
    with _server() as server:
        api = API(server)
        status, created = api.call(
            "POST", "/api/v1/jobs/", body=b"".join(encoder), headers=encoder.headers
        )
        assert status == 200, created
        job = server.store.get(created["id"])
        assert job is not None
        assert [(f.filename, f.size) for f in job.files] == [("a.txt", 3), ("b.txt", 4)]


def test_an_error_inside_request_data_is_located_by_its_keys_even_numeric_ones() -> None:
    request_data = json.dumps({**json.loads(THREE_NODES), "7": 1})
    with _server() as server:
        status, answer = API(server).create(request_data)
        assert status == 422
        assert [d["loc"] for d in answer["detail"]] == [["body", "request_data", "7"]]


# ------------------------------------------------------------------ bodies that come in time


def _head(length: int | None = None, *, chunked: bool = False) -> bytes:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {length}"
    return (
        "POST /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nunstructured-api-key: {KEY}\r\n"
        f"{framing}\r\n\r\n"
    ).encode()


def _closed_by_server(sock: socket.socket, *, trickle: bool = False) -> bool:
    """Whether the server closes the connection without answering; ``trickle`` sends a byte of
    body every 0.1 s meanwhile. Gives up (False) after 20 s."""
    sock.settimeout(0.1 if trickle else 20)
    for _ in range(200 if trickle else 1):
        try:
            return sock.recv(1024) == b""
        except TimeoutError:
            if trickle:
                sock.sendall(b"x")
        except ConnectionResetError:
            return True
    return False


def _nothing_created(server: RunningServer) -> bool:
    return server.jobs_created == 0 and list((server.data_dir / "jobs").iterdir()) == []


def test_a_body_must_arrive_within_the_body_timeout_however_steadily() -> None:
    with _server(body_timeout=0.5) as server:  # idle_timeout (30 s) never passes
        with socket.create_connection((server.host, server.port)) as sock:
            sock.sendall(_head(100_000) + b"--b\r\n")
            assert _closed_by_server(sock, trickle=True)
        assert server.requests("create_job") == 1 and _nothing_created(server)


def test_a_body_may_not_fall_silent_for_longer_than_the_idle_timeout() -> None:
    with _server(idle_timeout=0.3) as server:  # body_timeout (300 s) never passes
        with socket.create_connection((server.host, server.port)) as sock:
            sock.sendall(_head(100_000) + b"--b\r\n")
            assert _closed_by_server(sock)
        assert server.requests("create_job") == 1 and _nothing_created(server)


def test_between_requests_a_connection_waits_the_header_timeout_not_the_idle_one() -> None:
    with _server(idle_timeout=0.1, header_timeout=60.0) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        for _ in range(2):
            connection.request("GET", "/api/v1/jobs/", headers={"unstructured-api-key": KEY})
            answer = connection.getresponse()
            assert answer.status == 200 and answer.getheader("Connection") is None
            answer.read()
            time.sleep(0.5)  # five idle timeouts, well within the header timeout
        connection.close()


def test_a_chunked_body_keeps_the_connection_and_a_broken_one_closes_it() -> None:
    encoder = MultipartEncoder([("request_data", THREE_NODES)], [FileSpec(b"hi", "a.txt")])
    with _server() as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        headers = {**encoder.headers, "unstructured-api-key": KEY}
        del headers["Content-Length"]
        for _ in range(2):  # the second on the same connection
            connection.request("POST", "/api/v1/jobs/", iter(encoder), headers, encode_chunked=True)
            answer = connection.getresponse()
            assert answer.status == 200 and answer.getheader("Connection") is None
            answer.read()
        connection.close()
        with socket.create_connection((server.host, server.port), timeout=30) as sock:
            sock.sendall(_head(chunked=True) + b"5\r\n--b\r\n\r\nnot-a-size\r\n")
            raw = sock.makefile("rb").read()  # to the end: the server closes
        head, _, _ = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 422 ") and b"\r\nConnection: close" in head
        assert server.jobs_created == 2


# ------------------------------------------------------------------------ jobs running at once


def test_a_restart_with_a_lower_running_limit_starts_nothing_until_below_it(
    tmp_path: Path,
) -> None:
    config = ServerConfig(rate_limit=False, clock="manual", max_running=3)
    with RunningServer(data_dir=tmp_path, config=config).start() as server:
        ids = [API(server).create()[1]["id"] for _ in range(5)]
        server.step()
    config = ServerConfig(rate_limit=False, clock="manual", max_running=1)
    with RunningServer(data_dir=tmp_path, config=config).start() as server:
        history = []
        for _ in range(12):
            statuses = [server.store.get(i).status for i in ids]  # type: ignore[union-attr]
            history.append("".join(s[0] for s in statuses))  # S, I(N_PROGRESS), C
            server.step()
    # the three running go on to the end before a fourth starts, then one at a time
    assert history == ["IIISS"] * 3 + ["CCCIS"] * 3 + ["CCCCI"] * 3 + ["CCCCC"] * 3


# ------------------------------------------------------------- what is left of a refused body


def test_a_refused_body_is_read_to_its_end_so_the_connection_serves_the_next_request() -> None:
    encoder = MultipartEncoder([("request_data", THREE_NODES)], [FileSpec(b"hi", "a.txt")])
    with _server() as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
        connection.request("POST", "/api/v1/jobs/", b"".join(encoder), encoder.headers)  # no key
        answer = connection.getresponse()
        assert answer.status == 401 and answer.getheader("Connection") is None
        answer.read()
        connection.request("GET", "/api/v1/jobs/", headers={"unstructured-api-key": KEY})
        assert connection.getresponse().status == 200
        connection.close()


def test_a_refused_body_of_more_than_a_gigabyte_is_not_waited_for() -> None:
    """The answer comes at once, and the connection closes: the server does not read (and
    wait for) two gigabytes it will drop."""
    with _server(idle_timeout=300.0, body_timeout=300.0) as server:
        with socket.create_connection((server.host, server.port), timeout=30) as sock:
            head = _head(2_000_000_000).replace(f"unstructured-api-key: {KEY}\r\n".encode(), b"")
            sock.sendall(head + b"--b\r\n")
            answer = sock.makefile("rb").read()  # to the end: the server closes
        head, _, _ = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401 ") and b"\r\nConnection: close" in head


def test_an_upload_holds_one_file_open_at_a_time(tmp_path: Path) -> None:
    from dagkit.server.upload import Upload

    files = [FileSpec(bytes([65 + i]) * 300, f"f{i}.txt") for i in range(4)]
    encoder = MultipartEncoder([("request_data", THREE_NODES)], files)
    upload = Upload(
        lambda file_id: tmp_path / file_id, encoder.content_type, max_file_size=1000, max_files=4
    )
    data = b"".join(encoder)
    open_at_once = []

    def blocks() -> Iterator[bytes]:
        for start in range(0, len(data), 100):
            open_at_once.append(len(upload._writing))
            yield data[start : start + 100]

    assert upload.receive(blocks()) == []
    assert max(open_at_once) == 1 and upload._writing == {}
    assert sorted(p.read_bytes() for p in tmp_path.iterdir()) == [
        bytes([65 + i]) * 300 for i in range(4)
    ]


def test_a_refused_body_that_stops_coming_is_answered_once_the_idle_timeout_passes() -> None:
    with _server(idle_timeout=0.3) as server:
        with socket.create_connection((server.host, server.port), timeout=30) as sock:
            head = _head(1000).replace(f"unstructured-api-key: {KEY}\r\n".encode(), b"")
            sock.sendall(head + b"--b\r\n")  # then nothing more
            answer = sock.makefile("rb").read()  # to the end: the server closes
        head, _, _ = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401 ") and b"\r\nConnection: close" in head


def test_a_content_length_that_is_not_a_number_is_quoted_to_forty_characters() -> None:
    with _server() as server:
        with socket.create_connection((server.host, server.port), timeout=30) as sock:
            sock.sendall(_head(1).replace(b"Content-Length: 1", b"Content-Length: " + b"9x" * 30))
            answer = sock.makefile("rb").read()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert json.loads(body) == {"detail": f"Content-Length {'9x' * 20!r} is not a number"}
