"""Writing a file whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from dagkit.errors import DagkitError


def write_text(path: str | os.PathLike[str], text: str, *, durable: bool = False) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same directory, so readers
    see the old file or the new one, never a partial one. The file gets the permissions a
    plain ``open`` would give (the umask's). ``durable`` syncs it to disk before the rename.

    Raises :class:`DagkitError` (naming the path) when it cannot be written.
    """
    target = Path(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=".dagkit-", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise DagkitError(f"{target}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes it 0600
        os.replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise DagkitError(f"{target}: cannot write: {exc.strerror or exc}") from None
        raise
    return target
