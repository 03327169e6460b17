"""The job clock and scheduler: jobs move SCHEDULED -> IN_PROGRESS -> COMPLETED one step at a time.

A step does two things, in this order: every IN_PROGRESS job runs its next node over all of its
files (a job whose last node has run is COMPLETED), then SCHEDULED jobs start, oldest first,
while fewer than ``max_running`` are IN_PROGRESS. A job with N nodes is therefore COMPLETED
N + 1 steps after it was scheduled, if a slot was free.

What a step is depends on the clock:

- a number: a step every that many seconds (``"realtime"`` is one step per second);
- ``"instant"``: steps run inside the create-job request until nothing is left to do, so the job
  is finished when its id comes back;
- ``"manual"``: only when :meth:`Engine.step` is called (for tests that look at every state).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Literal

from dagkit.server import processing
from dagkit.server.store import ACTIVE, Job, Store, is_disk_full

ClockSpec = Literal["realtime", "instant", "manual"] | float
#: Seconds per step of the ``"realtime"`` clock.
REALTIME_STEP = 1.0


def step_seconds(clock: ClockSpec | str) -> float | None:
    """Seconds per step for a clock (0 for instant, None for manual). Raises ValueError."""
    if clock == "realtime":
        return REALTIME_STEP
    if clock == "instant":
        return 0.0
    if clock == "manual":
        return None
    if isinstance(clock, bool):
        raise ValueError(f"unknown clock {clock!r}")
    try:
        seconds = float(clock)
    except (TypeError, ValueError):
        raise ValueError(
            f"unknown clock {clock!r}: use realtime, instant, manual or seconds per step"
        ) from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"clock must be a non-negative number of seconds, not {clock!r}")
    return seconds


class Engine:
    """Moves the jobs of a :class:`Store` along on a clock."""

    def __init__(
        self,
        store: Store,
        *,
        clock: ClockSpec | str = "realtime",
        max_running: int = 5,
    ) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self.store = store
        self.max_running = max_running
        self.seconds = step_seconds(clock)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fail_next = 0

    # -- the clock

    def start(self) -> None:
        """Start stepping (for a timed clock); jobs left unfinished by a previous run resume."""
        if self.seconds == 0.0:
            self.run_until_idle()
        elif self.seconds is not None and self._thread is None:
            self._thread = threading.Thread(target=self._tick, name="dagkit-engine", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _tick(self) -> None:
        assert self.seconds is not None
        while not self._stop.wait(self.seconds):
            try:
                self.step()
            except Exception as exc:  # the store failed (disk full?): keep the clock alive
                print(f"dagkit serve: the job clock could not step: {exc}", file=sys.stderr)

    def job_created(self) -> bool:
        """Called after a job is stored: the instant clock finishes it now. Whether jobs were
        stepped (other clocks step only on their own time)."""
        if self.seconds == 0.0:
            self.run_until_idle()
            return True
        return False

    def run_until_idle(self, max_steps: int = 100_000) -> int:
        """Step until no job is active; returns the number of steps taken."""
        taken = 0
        while taken < max_steps and self.step():
            taken += 1
        return taken

    def fail_next(self, count: int) -> None:
        """Make the next ``count`` jobs that run a node end FAILED (fault injection)."""
        with self._lock:
            self._fail_next += count

    # -- one step

    def step(self) -> bool:
        """Advance every job one step; whether any job changed."""
        with self._lock:
            changed = False
            for job in self.store.list(status="IN_PROGRESS"):
                try:
                    self._advance(job)
                except Exception as exc:  # a bug in a processor must not stall every job
                    self._finish(job, "FAILED", f"internal error: {type(exc).__name__}: {exc}")
                changed = True
            return self._start_waiting() or changed

    def _start_waiting(self) -> bool:
        """Start SCHEDULED jobs, oldest first, while fewer than ``max_running`` are IN_PROGRESS
        (more may be, after a restart with a lower limit); whether any started."""
        free = max(0, self.max_running - self.store.count("IN_PROGRESS"))
        waiting = self.store.list(status="SCHEDULED", limit=free)
        started = time.time()
        return any(
            [  # a list, not a generator: every waiting job starts, not only the first
                self.store.update(
                    job.id, expect=("SCHEDULED",), status="IN_PROGRESS", started_at=started
                )
                for job in waiting
            ]
        )

    def _advance(self, job: Job) -> None:
        if self._fail_next:
            self._fail_next -= 1
            self._finish(job, "FAILED", "The job failed (a fault injected for testing).")
            return
        index = job.step
        node = job.nodes[index]
        assert node.id is not None
        previous = job.nodes[index - 1].id if index else None
        try:
            for file in job.files:
                if file.error is not None:
                    continue
                source = processing.InputFile(
                    file.filename, str(self.store.input_path(job.id, file.file_id)), file.size
                )
                elements = None
                if previous is not None:
                    elements = _load(self.store.read_output_bytes(job.id, previous, file.file_id))
                try:
                    out = processing.run_node(node, elements, source)
                except processing.FileFailed as exc:
                    self.store.fail_file(job.id, file.index, str(exc), index)
                    continue
                self.store.write_output(job.id, node.id, file.file_id, out)
        except (OSError, ValueError) as exc:
            if is_disk_full(exc):
                message = (
                    f"node {node.name!r} could not store its output: the server's disk is full"
                )
            else:
                message = f"node {node.name!r} failed: {exc}"
            self._finish(job, "FAILED", message)
            return
        if index + 1 == len(job.nodes):
            fresh = self.store.get(job.id) or job
            self.store.update(
                job.id,
                expect=("IN_PROGRESS",),
                step=index + 1,
                status="COMPLETED",
                finished_at=time.time(),
                message=_summary(fresh),
            )
        else:
            self.store.update(job.id, expect=("IN_PROGRESS",), step=index + 1)

    def _finish(self, job: Job, status: str, message: str | None) -> None:
        self.store.update(
            job.id, expect=ACTIVE, status=status, finished_at=time.time(), message=message
        )

    # -- cancelling

    def cancel(self, job_id: str) -> bool:
        """Stop an active job; whether it was active."""
        return self.store.update(
            job_id,
            expect=ACTIVE,
            status="STOPPED",
            finished_at=time.time(),
            message="The job was cancelled.",
        )


def _load(data: bytes | None) -> list[processing.Element]:
    """The elements a node wrote for a file (none if it wrote nothing)."""
    if data is None:
        return []
    value = json.loads(data)
    return value if isinstance(value, list) else []


def _summary(job: Job) -> str | None:
    failed = sum(1 for f in job.files if f.error is not None)
    if not failed:
        return job.message  # what was said when the job was made (a workflow run), if anything
    return f"{failed} of {len(job.files)} files failed; see the job's failed files."
