"""Putting a job's outputs on disk beside the batch's thread instead of in its way.

Creating a file is the dearest step of saving an output on some disks (ext4 looks for a free
inode past the ones deleted in the last seconds: 0.05 to 0.3 ms a file on a busy disk, a quarter
of a download on loopback). A batch knows where each output of a job goes before it asks for the
first, so one worker thread makes each output's part file ahead (see
:mod:`dagkit.core.partfiles`) and renames it over its target once its download is complete, while
the batch's thread talks to the server.

The guarantees are those of a download made alone: an output appears under its name only whole,
a part file left by a killed run is swept by the next one, and :meth:`JobOutputs.finish` returns
only once every downloaded output is in place (the batch records a job's files as done only
after it).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from dagkit.core import atomic, partfiles
from dagkit.errors import DagkitError

Part = atomic.PendingFile[BinaryIO]


def new_worker() -> ThreadPoolExecutor:
    """The thread a batch's outputs are made and put in place on (one: they stay in order)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="dagkit-outputs")


class JobOutputs:
    """The outputs of one job, to go to ``targets`` (by index), made on ``worker``.

    Used as a context manager: leaving the block waits for the worker and removes every part
    file that was not put in place (an output never downloaded, an error on the way).
    """

    def __init__(self, worker: ThreadPoolExecutor, targets: Sequence[Path]) -> None:
        self._worker = worker
        self._parts: dict[int, Future[Part]] = {
            index: worker.submit(_make, target.parent) for index, target in enumerate(targets)
        }
        self._placed: list[Future[Path]] = []

    def part(self, index: int) -> Part:
        """The part file of output ``index``, open for writing (made ahead; waits if it is
        not made yet). Raises :class:`DagkitError` when it could not be made."""
        return self._parts.pop(index).result()

    def place(self, part: Part, target: Path) -> None:
        """Put the complete ``part`` in place as ``target`` (on the worker; :meth:`finish`
        waits for it)."""
        self._placed.append(self._worker.submit(_place, part, target))

    def finish(self) -> None:
        """Wait until every output given to :meth:`place` is in place; raise the first error."""
        placed, self._placed = self._placed, []
        errors = [exc for exc in (f.exception() for f in placed) if exc is not None]
        if errors:
            raise errors[0]

    def __enter__(self) -> JobOutputs:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for placing in self._placed:
            placing.exception()  # wait; an error is the caller's only through finish()
        for making in self._parts.values():
            if not making.cancel() and making.exception() is None:
                making.result().discard()
        self._parts.clear()


def _make(directory: Path) -> Part:
    try:  # exclusive: never writes through a file (or link) that is already there
        return atomic.create(directory, partfiles.new_name(), binary=True, make_parents=True)
    except OSError as exc:
        raise DagkitError(
            f"cannot save the download in {directory}: {exc.strerror or exc}"
        ) from None


def _place(part: Part, target: Path) -> Path:
    with part:  # a part that cannot be put in place is removed
        try:
            return part.commit(target)
        except OSError as exc:
            raise DagkitError(
                f"cannot save the download as {target}: {exc.strerror or exc}"
            ) from None
