"""How many connections the embedded server keeps, and how long a request may take to arrive.

A thread serves each connection, so connections are what the server rations. At most
``max_connections`` are open at once. When one more arrives and all are taken, the connection
that has waited longest for a request head is closed to make room: a client sending its head
slowly, or an idle keep-alive connection, gives way to a client that is ready. Only when every
connection is busy with a request is the newcomer answered 503 with ``Retry-After``.

A request must arrive in time: its head within ``header_timeout`` seconds of the connection
becoming idle, its body within ``body_timeout`` seconds, with no silence longer than
``idle_timeout`` (the last two bound an upload; an answer must also be taken within
``idle_timeout``). A deadline covers the whole head, not each read, so a client that sends a
byte a second cannot hold a connection.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from dataclasses import dataclass

__all__ = ["BUSY_ANSWER", "Connections", "DeadlineReader"]

_BUSY_BODY = b'{"detail":"Too many connections; try again in a moment."}'
#: The answer to a connection the server has no room for (sent without reading the request).
BUSY_ANSWER = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
    % (len(_BUSY_BODY), _BUSY_BODY)
)


class DeadlineReader(io.RawIOBase):
    """Reads a socket, each read waiting at most until ``deadline`` (``time.monotonic()``) and
    at most ``idle`` seconds; past the deadline it raises :class:`TimeoutError`."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self.deadline: float | None = None
        self.idle: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        wait = self.idle
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request did not arrive in time")
            wait = left if wait is None else min(wait, left)
        self._sock.settimeout(wait)
        return self._sock.recv_into(buffer)


@dataclass
class _Entry:
    waiting: bool  # for a request head (evictable), not busy with a request
    since: float


class Connections:
    """The open connections, each waiting for a request head or busy with a request."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)
        self._open: dict[socket.socket, _Entry] = {}
        self._closing = False
        self.evicted = 0  #: connections closed to make room (for tests and logs)
        self.refused = 0  #: connections answered 503

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)

    def busy_count(self) -> int:
        """How many connections are busy with a request (not evictable)."""
        with self._lock:
            return sum(not entry.waiting for entry in self._open.values())

    def admit(self, sock: socket.socket) -> bool:
        """Take a new connection, making room if one is waiting for a head; False if full."""
        now = time.monotonic()
        with self._lock:
            if len(self._open) >= self.limit:
                waiting = [s for s, e in self._open.items() if e.waiting]
                victim = min(waiting, key=lambda s: self._open[s].since, default=None)
                if victim is None:
                    self.refused += 1
                    return False
                del self._open[victim]
                self.evicted += 1
                _shut(victim)
            self._open[sock] = _Entry(True, now)
            return True

    def waiting(self, sock: socket.socket) -> bool:
        """The connection waits for its next request head; False if it was closed for room."""
        return self._mark(sock, waiting=True)

    def busy(self, sock: socket.socket) -> bool:
        """A request head arrived; False if the connection was closed for room meanwhile."""
        return self._mark(sock, waiting=False)

    def _mark(self, sock: socket.socket, *, waiting: bool) -> bool:
        with self._lock:
            entry = self._open.get(sock)
            if entry is None or (waiting and self._closing):
                return False
            entry.waiting, entry.since = waiting, time.monotonic()
            return True

    def release(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.pop(sock, None)
            self._released.notify_all()

    def close(self, grace: float) -> None:
        """For a stopping server: close every connection waiting for a request head now, give
        those busy with a request ``grace`` seconds to answer (none then waits for another), then
        close what is left, so that no thread of the server stays behind on a kept connection."""
        with self._lock:
            self._closing = True
            for sock, entry in list(self._open.items()):
                if entry.waiting:
                    _shut(sock)
            if not self._released.wait_for(lambda: not self._open, timeout=grace):
                for sock in self._open:
                    _shut(sock)
                self._released.wait_for(lambda: not self._open, timeout=grace)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # its thread sees the end and leaves
        sock.shutdown(socket.SHUT_RDWR)
