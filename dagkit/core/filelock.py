"""One exclusive lock on a file, held while a directory is in use by one process: a batch's
out dir (its journal), a server's data directory.

The lock is the operating system's (``flock`` on POSIX, ``msvcrt.locking`` on Windows), so it
goes when its process does, even one that was killed: there is never a stale lock to delete.
While held, the file names its holder (process id, host, since when), so the process that finds
it taken can say who has it; nothing else is written there (no command line: it could hold a
key).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from dagkit.errors import Advice, DagkitError

__all__ = ["FileLock", "hold"]

_WINDOWS_LOCKED_BYTE = 1 << 30


class FileLock:
    """A held lock; :meth:`release` (or the end of a ``with``) lets it go."""

    def __init__(self, path: Path, handle: IO[bytes]) -> None:
        self.path = path
        self._handle: IO[bytes] | None = handle

    @property
    def held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        """Let the lock go (once; later calls do nothing)."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        with contextlib.suppress(OSError):  # a holder named after it let go would mislead
            handle.truncate(0)
        handle.close()  # closing the file releases the lock

    def __enter__(self) -> FileLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<FileLock {str(self.path)!r} {'held' if self.held else 'released'}>"


def hold(
    path: str | os.PathLike[str],
    *,
    user: str,
    advice: Advice,
    error: Callable[..., DagkitError] = DagkitError,
) -> FileLock:
    """Take the exclusive lock on ``path`` (created if missing) without waiting.

    When another process holds it, raises ``error(message, advice=[advice])``: ``"{user} is
    using {folder} ({holder})."``, the holder as its lock file names it. ``user`` says who the
    holder is (``"another dagkit batch"``), ``advice`` what to do. A lock file that cannot be
    opened raises ``error`` too.
    """
    where = Path(path)
    try:
        handle = open(where, "a+b")  # noqa: SIM115 - held open for as long as the lock is
    except OSError as exc:
        raise error(f"{where}: cannot open the lock file: {exc.strerror or exc}") from None
    if not _try_lock(handle):
        holder = _holder(handle)
        handle.close()
        shown = f"{holder}, holding {where}" if holder else f"it holds {where}"
        raise error(f"{user} is using {where.parent} ({shown}).", advice=[advice])
    try:
        handle.truncate(0)
        handle.write(_me().encode("utf-8"))
        handle.flush()
    except OSError:
        pass  # held all the same; only the holder's name is missing
    return FileLock(where, handle)


def _try_lock(handle: IO[bytes]) -> bool:
    """Lock the file without waiting: False when another process holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            # a byte far past the holder's note: Windows locks bytes against reading too
            handle.seek(_WINDOWS_LOCKED_BYTE)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _me() -> str:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})


def _holder(handle: IO[bytes]) -> str | None:
    """Who holds the lock, as its file says: ``process 4242 on host-a since 18:02:11``."""
    try:
        handle.seek(0)
        note = json.loads(handle.read(4096).decode("utf-8"))
        pid, host, since = int(note["pid"]), str(note["host"]), float(note["since"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # written by an older dagkit, or not yet written
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))
    here = "" if host == socket.gethostname() else f" on {host}"
    return f"process {pid}{here} since {when}"
