"""Fresh random ids for the server's jobs, workflows, nodes and files.

They are the ids the platform gives (random UUIDs, version 4; 8 hex digits in a file id), from
the same source as :func:`uuid.uuid4` and :mod:`secrets` (``os.urandom``), but read a few
kilobytes at a time: a job takes five or more ids, and a system call each is, on a busy server,
a handoff of the interpreter lock each.
"""

from __future__ import annotations

import os
import threading

__all__ = ["new_uuid", "random_hex"]

_POOL_BYTES = 4096


class _RandomPool:
    """Bytes from ``os.urandom``, each handed out once (thread-safe; emptied in a forked child,
    which must not hand out its parent's bytes again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes = b""
        self._at = 0

    def take(self, count: int) -> bytes:
        with self._lock:
            if self._at + count > len(self._bytes):
                self._bytes, self._at = os.urandom(max(_POOL_BYTES, count)), 0
            taken = self._bytes[self._at : self._at + count]
            self._at += count
            return taken

    def forget(self) -> None:
        self._bytes, self._at = b"", 0
        self._lock = threading.Lock()


_POOL = _RandomPool()
os.register_at_fork(after_in_child=_POOL.forget)


def new_uuid() -> str:
    """A random UUID (version 4, RFC 4122 variant) as ``str(uuid.uuid4())`` spells it."""
    raw = bytearray(_POOL.take(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def random_hex(count: int) -> str:
    """``count`` random bytes as ``2 * count`` lowercase hex digits, as ``secrets.token_hex``."""
    return _POOL.take(count).hex()
