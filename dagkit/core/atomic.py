"""Writing a file whole or not at all: the one way dagkit puts a file in place.

A file is written under a temporary name in its target's directory and renamed over the
target once complete, so readers see the old file or the new one, never a partial one.

The temporary file is created with ``os.open(..., 0o666)``, so the kernel applies the umask
itself and the file gets the permissions a plain ``open`` would give. The process umask is
never read by setting it (``os.umask`` changes it for every thread: the server's and the batch
runner's threads would create files with a wrong mode in between).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Generic, Literal, TextIO, TypeVar, cast, overload

from dagkit.errors import DagkitError

_File = TypeVar("_File", BinaryIO, TextIO)
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def temp_name() -> str:
    """A fresh name for a temporary file (hidden, never one that is already there)."""
    return f".dagkit-{secrets.token_hex(8)}.tmp"


class PendingFile(Generic[_File]):
    """A new file under a temporary name, open for writing, put in place by :meth:`commit`.

    Used as a context manager: leaving the block without a commit (an error, an early
    return) closes and removes the temporary file.
    """

    def __init__(self, temp: Path, file: _File, *, durable: bool) -> None:
        self.temp = temp
        self.file: _File = file
        self._durable = durable
        self._done = False

    def commit(self, target: str | os.PathLike[str]) -> Path:
        """Close the file (synced first when durable) and rename it over ``target``.

        Raises :class:`OSError` when that fails; the temporary file is then removed on exit.
        """
        if not self.file.closed:
            if self._durable:
                self.file.flush()
                os.fsync(self.file.fileno())
            self.file.close()
        final = Path(target)
        os.replace(self.temp, final)
        self._done = True
        return final

    def discard(self) -> None:
        """Close and remove the temporary file unless it was committed."""
        if not self.file.closed:
            with contextlib.suppress(OSError):
                self.file.close()
        if not self._done:
            self._done = True
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp)

    def __enter__(self) -> PendingFile[_File]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.discard()


@overload
def create(
    directory: str | os.PathLike[str],
    name: str | None = ...,
    *,
    binary: Literal[False] = ...,
    durable: bool = ...,
    make_parents: bool = ...,
) -> PendingFile[TextIO]: ...
@overload
def create(
    directory: str | os.PathLike[str],
    name: str | None = ...,
    *,
    binary: Literal[True],
    durable: bool = ...,
    make_parents: bool = ...,
) -> PendingFile[BinaryIO]: ...
def create(
    directory: str | os.PathLike[str],
    name: str | None = None,
    *,
    binary: bool = False,
    durable: bool = False,
    make_parents: bool = False,
) -> PendingFile[BinaryIO] | PendingFile[TextIO]:
    """A new temporary file ``name`` (default :func:`temp_name`) in ``directory``.

    Created exclusively (never writing through a file or link already there), with the mode a
    plain ``open`` gives. ``make_parents`` creates a missing directory. Text files are UTF-8
    with newlines written as given. Raises :class:`OSError` when it cannot be created.
    """
    folder = Path(directory)
    temp = folder / (name or temp_name())
    try:
        fd = os.open(temp, _FLAGS, 0o666)
    except FileNotFoundError:
        if not make_parents:
            raise
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, _FLAGS, 0o666)
    try:
        if binary:
            return PendingFile(temp, cast(BinaryIO, os.fdopen(fd, "wb")), durable=durable)
        text = cast(TextIO, os.fdopen(fd, "w", encoding="utf-8", newline=""))
        return PendingFile(temp, text, durable=durable)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_text(path: str | os.PathLike[str], text: str, *, durable: bool = False) -> Path:
    """Write ``text`` to ``path`` whole or not at all (see the module's docstring).
    ``durable`` syncs it to disk before the rename.

    Raises :class:`DagkitError` (naming the path) when it cannot be written.
    """
    target = Path(path)
    try:
        with create(target.parent, durable=durable) as pending:
            pending.file.write(text)
            return pending.commit(target)
    except OSError as exc:
        raise DagkitError(f"{target}: cannot write: {exc.strerror or exc}") from None
