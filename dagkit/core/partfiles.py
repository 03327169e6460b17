"""The temporary files downloads stream into, and removing the ones a killed process left.

A download writes ``.dagkit-<pid>-<host>-<random>.part`` next to its target and renames it into
place once complete, so a reader never sees half an output. A process killed with ``kill -9``
cannot remove its part file; the next download into the same directory does, under two rules
that never touch a file someone else is still writing:

- only names of exactly that shape (``.dagkit-<digits>-<6 hex>-<16 hex>.part``, or
  ``.dagkit-<16 hex>.part`` as older dagkit named them) are considered, nothing else;
- such a file goes when the process that wrote it is gone (its pid is not alive on this
  machine; ``<host>`` tells this machine's files from another's on a shared disk), or when it has
  not been written to for :data:`STALE_AFTER` seconds. A live download never stays silent that
  long: it fails after its read timeout (120 s) and its retries.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
import re
import secrets
import socket
import sys
import time
from pathlib import Path
from typing import BinaryIO

from dagkit.core import atomic
from dagkit.errors import DagkitError

PREFIX = ".dagkit-"
SUFFIX = ".part"
#: Seconds without a write after which a part file is abandoned, whoever wrote it.
STALE_AFTER = 3600.0
_NAME = re.compile(r"^\.dagkit-(?:(\d{1,10})-([0-9a-f]{6})-)?[0-9a-f]{16}\.part$")


@functools.cache
def _host_tag() -> str:
    """Six hex digits that tell this machine's part files from another's on a shared disk."""
    return hashlib.sha256(os.fsencode(socket.gethostname())).hexdigest()[:6]


#: The random part of this process's part file names: a random start, one more for each name
#: (a download makes one per output; asking the system for randomness each time is work for
#: nothing, as the pid already tells processes apart and files are created exclusively).
_serial = itertools.count(secrets.randbits(63))


def new_name() -> str:
    """A fresh part file name for this process (never one it gave before)."""
    serial = next(_serial) & 0xFFFF_FFFF_FFFF_FFFF
    return f"{PREFIX}{os.getpid()}-{_host_tag()}-{serial:016x}{SUFFIX}"


Part = atomic.PendingFile[BinaryIO]


def create(directory: Path) -> Part:
    """A new part file in ``directory`` (made if missing), open for writing; DagkitError if it
    cannot be made."""
    try:  # exclusive: never writes through a file (or link) that is already there
        return atomic.create(directory, new_name(), binary=True, make_parents=True)
    except OSError as exc:
        raise DagkitError(
            f"cannot save the download in {directory}: {exc.strerror or exc}"
        ) from None


def put_in_place(part: Part, target: Path) -> Path:
    """Put the complete ``part`` in place as ``target`` (closed first), and return ``target``;
    DagkitError if it cannot be (the part is then removed by its owner's ``with`` block)."""
    try:
        return part.commit(target)
    except OSError as exc:
        raise DagkitError(f"cannot save the download as {target}: {exc.strerror or exc}") from None


def is_stale(path: Path, *, now: float | None = None) -> bool:
    """Whether ``path`` is a part file of a download that is certainly over."""
    match = _NAME.match(path.name)
    if match is None:
        return False
    try:
        info = path.lstat()
    except OSError:
        return False
    if not _is_regular(info.st_mode):
        return False
    if (time.time() if now is None else now) - info.st_mtime > STALE_AFTER:
        return True
    pid, host = match.group(1), match.group(2)
    return pid is not None and host == _host_tag() and not _alive(int(pid))


def remove_stale(directory: Path) -> int:
    """Remove the stale part files directly in ``directory``; how many went."""
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        path = Path(entry.path)
        if is_stale(path):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (unknown counts as alive)."""
    if sys.platform == "win32":
        return True  # no cheap check (os.kill would end the process): the age rule decides
    try:
        os.kill(pid, 0)  # signal 0 asks whether it exists; 0 is this process's own group
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # someone else's process; or a number no pid can be
        return True
    return True
