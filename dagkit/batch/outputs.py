"""Making a job's part files beside the batch's thread instead of in its way.

Creating a file is the dearest step of saving an output on some disks (ext4 without a journal
looks for a free inode past the ones deleted in the last seconds: from 0.01 to 0.7 ms a file on
this project's busy test machine, up to a download's worth on loopback). A batch knows where each
output of a job goes before it asks for the first, so one worker thread makes the part files of
a job's outputs (see :mod:`dagkit.core.partfiles`), in order, while the batch's thread downloads
into the ones made already and renames each into place as soon as it is complete.

The guarantees are those of a download made alone: an output appears under its name only whole
(the rename is the download's last step), and a part file left by a killed run is swept by the
next one. Part files made for outputs that are not downloaded are removed when the job's block
ends.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from dagkit.core import partfiles
from dagkit.core.partfiles import Part
from dagkit.errors import DagkitError


def new_worker() -> ThreadPoolExecutor:
    """The thread a batch's part files are made on."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="dagkit-outputs")


class JobOutputs:
    """The outputs of one job, to go to ``targets`` (by index); their part files are made on
    ``worker``, in order.

    Used as a context manager: leaving the block stops the worker making more and removes every
    part file that was not put in place (an output not downloaded, an error on the way).
    """

    def __init__(self, worker: ThreadPoolExecutor, targets: Sequence[Path]) -> None:
        self._made: queue.SimpleQueue[Part | DagkitError] = queue.SimpleQueue()
        self._next = 0  # the index of the next part to come out of _made
        self._stopped = threading.Event()
        self._making = worker.submit(self._make_all, [target.parent for target in targets])

    def _make_all(self, directories: Sequence[Path]) -> None:
        for directory in directories:
            if self._stopped.is_set():
                return
            try:
                self._made.put(partfiles.create(directory))
            except DagkitError as exc:
                self._made.put(exc)

    def part(self, index: int) -> Part:
        """The part file of output ``index``, open for writing (waits until it is made; the
        parts of outputs skipped on the way are removed). Indexes must grow from call to call.
        Raises :class:`DagkitError` when it could not be made."""
        if index < self._next:
            raise ValueError(f"part {index} was passed already")
        while True:
            made = self._made.get()
            self._next += 1
            if self._next > index:
                if isinstance(made, DagkitError):
                    raise made
                return made
            if not isinstance(made, DagkitError):
                made.discard()

    def __enter__(self) -> JobOutputs:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopped.set()
        self._making.result()  # the worker stops between two parts; _make_all never raises
        while not self._made.empty():
            made = self._made.get()
            if not isinstance(made, DagkitError):
                made.discard()


def place(part: Part, target: Path) -> Path:
    """Put the complete ``part`` in place as ``target``; a part that cannot be is removed, and
    :class:`DagkitError` says why."""
    with part:
        return partfiles.put_in_place(part, target)
