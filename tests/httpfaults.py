"""A loopback HTTP server for tests: it records every request and misbehaves on cue.

    with FaultServer() as server:
        server.script("/api/v1/jobs/", Reply(500), Reply(200, json={"id": "x"}))
        ...  # send requests to server.url
        assert server.count("/api/v1/jobs/") == 1

Each path has a queue of behaviours, used one per request; a path with an empty queue answers
404. Every request is recorded (method, target, headers, the body bytes that were read) before its
behaviour runs, so a test can count exactly what reached the server.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import socket
import ssl
import struct
import threading
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_BLOCK = 1 << 20


@dataclass(frozen=True)
class Received:
    """One request as the server saw it. ``body`` holds only the bytes that were read."""

    method: str
    target: str  # as in the request line: a path, or an absolute URI through a proxy
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.target).path

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass(frozen=True)
class Reply:
    """Answer after reading the whole body."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    json: Any = None

    def payload(self) -> tuple[bytes, list[tuple[str, str]]]:
        headers = list(self.headers)
        body = self.body
        if self.json is not None:
            body = jsonlib.dumps(self.json).encode()
            headers.append(("Content-Type", "application/json"))
        return body, headers


def redirect(status: int, location: str) -> Reply:
    return Reply(status, headers=(("Location", location),))


@dataclass(frozen=True)
class Close:
    """Read the whole request, then close the connection without answering."""


@dataclass(frozen=True)
class Reset:
    """Read ``after`` bytes of the body, then abort the connection (RST, via SO_LINGER 0)."""

    after: int = 0


@dataclass(frozen=True)
class Stall:
    """Read the whole request, then say nothing for ``seconds`` (past the client's timeout)."""

    seconds: float = 5.0
    then: Reply = field(default_factory=Reply)


@dataclass(frozen=True)
class Truncate:
    """Answer with a Content-Length ``missing`` bytes larger than the body sent, then close."""

    status: int = 200
    body: bytes = b'{"id": "cut'
    missing: int = 100


Behaviour = Reply | Close | Reset | Stall | Truncate


class FaultServer:
    """A ThreadingHTTPServer on 127.0.0.1 (port chosen by the system), scripted per path.

    By default it closes each connection after one request, and says so in its answers
    (``Connection: close``). With ``keep_alive`` it keeps a connection after each :class:`Reply`
    and closes it without a word once it has been idle ``idle_timeout`` seconds (if given).
    ``connections`` counts the connections accepted, ``closed`` those it has closed.
    """

    def __init__(
        self,
        *,
        tls: ssl.SSLContext | None = None,
        keep_alive: bool = False,
        idle_timeout: float | None = None,
    ) -> None:
        self.keep_alive = keep_alive
        self.idle_timeout = idle_timeout
        self.connections = 0
        self.closed = 0
        self.received: list[Received] = []
        self._scripts: dict[str, deque[Behaviour]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.on_close = self._ended
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.port: int = self._httpd.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def script(self, path: str, *behaviours: Behaviour) -> None:
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(behaviours)

    def requests(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self.received if path is None or r.path == path]

    def count(self, path: str | None = None) -> int:
        return len(self.requests(path))

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next(self, path: str) -> Behaviour:
        with self._lock:
            queue = self._scripts.get(path)
            if queue:
                return queue.popleft()
        return Reply(404, json={"detail": f"nothing scripted for {path}"})

    def _record(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def _opened(self) -> None:
        with self._lock:
            self.connections += 1

    def _ended(self) -> None:
        with self._lock:
            self.closed += 1


class _QuietServer(ThreadingHTTPServer):
    on_close: Callable[[], None] | None = None

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)  # the socket is closed when this returns
        if self.on_close is not None:
            self.on_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up or reject our certificate are the point of these tests


def _handler_for(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else ~40 ms stalls per request (Nagle + delayed ACK)

        timeout = server.idle_timeout  # a kept connection idle this long is closed

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def setup(self) -> None:
            server._opened()
            super().setup()

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_CONNECT = do_GET

        def _serve(self) -> None:
            path = urllib.parse.urlsplit(self.path).path if "://" in self.path else self.path
            behaviour = server._next(path.split("?", 1)[0])
            length = int(self.headers.get("Content-Length") or 0)
            wanted = min(length, behaviour.after) if isinstance(behaviour, Reset) else length
            body = self._read_body(wanted)
            server._record(Received(self.command, self.path, list(self.headers.items()), body))
            if not (server.keep_alive and isinstance(behaviour, Reply)):
                self.close_connection = True
            if isinstance(behaviour, Reply):
                self._reply(behaviour)
            elif isinstance(behaviour, Reset):
                self._abort()
            elif isinstance(behaviour, Stall):
                if not server._stop.wait(behaviour.seconds):
                    with contextlib.suppress(OSError):  # the client gave up long ago
                        self._reply(behaviour.then)
            elif isinstance(behaviour, Truncate):
                self.send_response_only(behaviour.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(behaviour.body) + behaviour.missing))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(behaviour.body)
            # Close: say nothing; the connection closes when the handler returns.

        def _read_body(self, length: int) -> bytes:
            chunks = []
            while length > 0:
                chunk = self.rfile.read(min(length, _BLOCK))
                if not chunk:
                    break
                chunks.append(chunk)
                length -= len(chunk)
            return b"".join(chunks)

        def _reply(self, reply: Reply) -> None:
            body, headers = reply.payload()
            names = {name.lower() for name, _ in headers}
            self.send_response_only(reply.status)
            if "date" not in names:
                self.send_header("Date", formatdate(usegmt=True))
            if "content-length" not in names:
                self.send_header("Content-Length", str(len(body)))
            if self.close_connection and "connection" not in names:
                self.send_header("Connection", "close")
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _abort(self) -> None:
            # SO_LINGER with a zero timeout turns close() into a TCP reset. The socket closes
            # only once the buffered file objects let go of it.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.connection.close()

    return Handler


@dataclass
class ChunkedBody:
    """A rewindable request body of fixed blocks, like the multipart encoder (for tests)."""

    blocks: list[bytes]
    iterations: int = 0

    @property
    def content_length(self) -> int:
        return sum(len(b) for b in self.blocks)

    def __iter__(self) -> Iterator[bytes]:
        self.iterations += 1
        return iter(list(self.blocks))


class RefusedPort:
    """A port that is bound but not listening: connecting to it is refused at once."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._socket.close()


class SilentPort:
    """A port whose accept queue is full: a new connection to it is never answered, so a
    connect waits for its timeout (Linux drops the handshake rather than refusing it)."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(0)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._queued: list[socket.socket] = []
        while True:  # queue connections that are never accepted until one is not answered
            queued = socket.socket()
            queued.settimeout(0.2)
            try:
                queued.connect(("127.0.0.1", self.port))
            except TimeoutError:
                queued.close()
                break
            self._queued.append(queued)

    def close(self) -> None:
        for queued in self._queued:
            queued.close()
        self._socket.close()
