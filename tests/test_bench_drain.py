"""The upload benchmark's drain server counts every body byte exactly, by each of its drains.

Its figure is only the client's if the server reads each body to its end and no further; these
tests send real requests over loopback sockets (timing lives in ``tests/bench/``).
"""

from __future__ import annotations

import importlib.util
import json
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).parent / "bench" / "bench_upload.py"


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_upload", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


@pytest.fixture(params=bench.DRAINS)
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    handler = type("Drain", (bench.Drain,), {"drain": request.param})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _head(length: int) -> bytes:
    return f"POST /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()


def _answers(sock: socket.socket, count: int) -> list[dict[str, object]]:
    """``count`` answers read from ``sock``, each parsed from its JSON body."""
    reader = sock.makefile("rb")
    answers = []
    for _ in range(count):
        assert reader.readline().startswith(b"HTTP/1.1 200")
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        answers.append(json.loads(reader.read(length)))
    return answers


def test_a_body_larger_than_the_pipe_arrives_whole(port: int) -> None:
    # Head and first body bytes in one send: some of the body is read with the head.
    size = 3 * (1 << 20) + 17
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_head(size) + b"x" * size)
        (answer,) = _answers(sock, 1)
    assert answer["received"] == size
    assert isinstance(answer["cpu"], float)


def test_pipelined_requests_each_get_only_their_own_body(port: int) -> None:
    sizes = [5, 2 * (1 << 20) + 3, 0, 11]
    wire = b"".join(_head(n) + bytes([65 + i]) * n for i, n in enumerate(sizes))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(wire)
        answers = _answers(sock, len(sizes))
    assert [a["received"] for a in answers] == sizes


def test_a_client_that_stops_early_is_counted_as_far_as_it_sent(port: int) -> None:
    size, sent = 4 * (1 << 20), 1 << 20
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(_head(size) + b"y" * sent)
        sock.shutdown(socket.SHUT_WR)
        (answer,) = _answers(sock, 1)
    assert answer["received"] == sent
