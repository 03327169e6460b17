"""The batch loop: group pending files into jobs, launch them within the API's limits, follow
them, fetch their outputs, and keep the journal true at every step.

One thread does everything, in this order of priority: settle a job whose creation is in doubt
(nothing is launched until that is done), fetch the outputs of finished jobs, launch the next
job when the pace and the running limit allow, poll the running jobs. Between steps it sleeps
until the next thing is due, or until ``stop`` is set.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagkit.batch.journal import FileRow, JobRow, Journal
from dagkit.batch.outputs import JobOutputs, new_worker, place
from dagkit.client.jobs import JobInfo, JobsClient, JobStatus, match_input_files
from dagkit.core import partfiles
from dagkit.errors import (
    AmbiguousRequestError,
    APIError,
    AuthenticationError,
    BatchAborted,
    DagkitError,
    MultipartError,
    NotFoundError,
    RateLimitError,
    ResponseError,
    ServerError,
    TransportError,
    ValidationFailed,
)
from dagkit.http.retry import Backoff

#: Waits after failures in a row (a launch or another step): 0.25, 0.5, 1, ... up to 30 s.
_FAILURES = Backoff(0.25, 30.0)
#: Errors worth waiting out: the network or the server is having a bad moment.
_TRANSIENT = (TransportError, ServerError, RateLimitError, ResponseError)


@dataclass(frozen=True)
class Progress:
    """Where a batch stands; passed to ``on_progress`` after every event.

    ``message`` is a one-line account of the event (None for a plain update). Waiting jobs are
    the jobs the pending files will make; failed jobs are jobs that ended FAILED or STOPPED.
    ``files_per_second`` counts files settled by this run; ``seconds_left`` extrapolates it.
    """

    files_total: int
    files_done: int
    files_failed: int
    files_skipped: int
    files_running: int
    files_waiting: int
    jobs_done: int
    jobs_running: int
    jobs_waiting: int
    jobs_failed: int
    elapsed: float
    files_per_second: float | None
    seconds_left: float | None
    message: str | None = None
    #: The message tells of trouble (a refusal, a rate limit, a job in doubt), not routine.
    warning: bool = False


@dataclass(frozen=True)
class Settings:
    """How a batch runs (see :func:`dagkit.batch.run` for each)."""

    files_per_job: int
    max_job_bytes: int
    min_interval: float
    max_running: int
    poll_initial: float = 1.0
    poll_max: float = 10.0
    reconcile_grace: float = 2.0
    #: Seconds before a request's recorded server time that a job it created may still show as
    #: created (the server's ``Date`` and ``created_at`` may come from two of its machines).
    server_clock_margin: float = 2.0
    network_patience: float = 300.0


@dataclass
class _Job:
    """A job the loop is following."""

    row: JobRow
    job_id: str
    status: str | None  #: as last seen (None: the journal had none)
    reconciled: bool
    info: JobInfo | None = None


@dataclass
class _Tally:
    files: dict[str, int] = field(default_factory=dict)
    jobs_ok: int = 0
    jobs_failed: int = 0
    settled: int = 0

    def move(self, source: str, target: str, count: int = 1) -> None:
        self.files[source] = self.files.get(source, 0) - count
        self.files[target] = self.files.get(target, 0) + count


def group_files(
    files: Sequence[FileRow], files_per_job: int, max_job_bytes: int
) -> list[list[FileRow]]:
    """Files in jobs: in order, each job of one planned branch, at most ``files_per_job`` files
    and ``max_job_bytes`` bytes (a single larger file goes alone), no two files of one name
    (the server reports failed files by name, so names must tell them apart)."""
    groups: list[list[FileRow]] = []
    open_groups: dict[int, tuple[list[FileRow], int, set[str]]] = {}
    for f in files:
        current = open_groups.get(f.plan)
        if current is not None:
            members, size, names = current
            fits = (
                len(members) < files_per_job
                and size + f.size <= max_job_bytes
                and f.name not in names
            )
            if fits:
                members.append(f)
                names.add(f.name)
                open_groups[f.plan] = (members, size + f.size, names)
                continue
        members = [f]
        groups.append(members)
        open_groups[f.plan] = (members, f.size, {f.name})
    return groups


class Runner:
    """One run of a batch over an open journal."""

    def __init__(
        self,
        *,
        client: JobsClient,
        journal: Journal,
        texts: Sequence[str],
        templates: Sequence[bool],
        out_dir: Path,
        settings: Settings,
        stop: threading.Event,
        on_progress: Callable[[Progress], None] | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        #: This machine's wall clock: only ever compared with itself (how long since a job was
        #: recorded), never with a time from the server.
        self.clock = clock
        self.journal = journal
        self.texts = list(texts)
        self.templates = list(templates)
        self.out_dir = out_dir
        self.settings = settings
        self.stop = stop
        self.on_progress = on_progress
        self.started = time.monotonic()
        self.launched = 0
        self.interrupted = True  # until the loop runs out of work
        self.queue: deque[list[FileRow]] = deque()
        self.active: dict[int, _Job] = {}
        self.ended: deque[int] = deque()  # finished jobs whose outputs are to be fetched
        self.finished: dict[int, _Job] = {}
        self.unresolved: deque[JobRow] = deque()
        self.tally = _Tally()
        self.interval = settings.min_interval
        self.next_launch = 0.0
        self.next_poll = 0.0
        self.poll_pause = settings.poll_initial
        self.retry_at = 0.0
        self.failing_since: float | None = None
        self.answered = False  # whether the server has answered this run at all
        self.launch_failures = 0  # launches in a row that did not go out
        self.asked_server_time = False  # whether this run asked the server for its time
        self.call_failures = 0  # other steps in a row that met a network or server error
        self._outputs: ThreadPoolExecutor | None = None  # where outputs are made (see .outputs)

    # ------------------------------------------------------------------ the loop

    def run(self) -> None:
        try:
            self._run()
        finally:
            if self._outputs is not None:
                self._outputs.shutdown()

    def _output_worker(self) -> ThreadPoolExecutor:
        if self._outputs is None:
            self._outputs = new_worker()
        return self._outputs

    def _run(self) -> None:
        self._recover()
        while True:
            if self.stop.is_set():
                self.interrupted = True
                self._emit(
                    "stopping: no new job is launched; running jobs go on, the next run "
                    "follows them",
                    warning=True,
                )
                return
            now = time.monotonic()
            if self.unresolved:
                wait = max(self.retry_at - now, self._grace_left(self.unresolved[0]))
                if wait <= 0:
                    self._guard(self._reconcile, self.unresolved[0])
                else:
                    self._sleep(wait)
                continue
            if self.ended and now >= self.retry_at:
                self._guard(self._collect, self.ended[0])
                continue
            can_launch = bool(self.queue) and len(self.active) < self.settings.max_running
            if can_launch and now >= self.next_launch:
                self._launch(self.queue.popleft())
                continue
            if self.active and now >= max(self.next_poll, self.retry_at):
                self._guard(self._poll)
                continue
            if not (self.queue or self.active or self.ended):
                self.interrupted = False
                return
            wake = [self.retry_at] if self.ended else []
            if can_launch:
                wake.append(self.next_launch)
            if self.active:
                wake.append(max(self.next_poll, self.retry_at))
            self._sleep(min(wake) - now if wake else self.settings.poll_initial)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.stop.wait(seconds)

    # ------------------------------------------------------------------ starting over

    def _recover(self) -> None:
        """Take up where the journal says the last run left off."""
        self._cleanup_partial_downloads()
        offset = self.journal.read_meta("created_at_offset")
        with contextlib.suppress(ValueError):  # unreadable: the server's times stay UTC
            self.client.server_clock.naive_offset = float(offset or 0)
        for state, count in self.journal.counts().items():
            self.tally.files[state] = count
        for row in self.journal.jobs():
            if row.state == "sending":
                self.unresolved.append(row)
                self._emit(
                    f"job #{row.seq}: its creation was interrupted; checking the server",
                    warning=True,
                )
            elif row.state in ("running", "ended") and row.job_id is not None:
                job = _Job(row, row.job_id, row.status, row.reconciled)
                if row.state == "running":
                    self.active[row.seq] = job
                else:
                    self._finished(job)
                self._emit(f"job {row.job_id}: followed again ({row.status})")
            elif row.state == "done":
                if row.status == JobStatus.COMPLETED:
                    self.tally.jobs_ok += 1
                else:
                    self.tally.jobs_failed += 1
        self.queue.extend(self._groups(self.journal.pending()))

    def _groups(self, files: Sequence[FileRow]) -> list[list[FileRow]]:
        return group_files(files, self.settings.files_per_job, self.settings.max_job_bytes)

    def _cleanup_partial_downloads(self) -> None:
        """Remove the temporary files of downloads a killed run left behind (only stale ones
        of dagkit's own naming: see :mod:`dagkit.core.partfiles`)."""
        if not self.out_dir.is_dir():
            return
        for directory, _dirs, files in os.walk(self.out_dir):
            if any(n.startswith(partfiles.PREFIX) and n.endswith(partfiles.SUFFIX) for n in files):
                partfiles.remove_stale(Path(directory))

    def _finished(self, job: _Job) -> None:
        """The job has ended on the server: its outputs are next."""
        self.active.pop(job.row.seq, None)
        self.finished[job.row.seq] = job
        self.ended.append(job.row.seq)

    # ------------------------------------------------------------------ launching

    def _launch(self, group: list[FileRow]) -> None:
        if not self._know_server_time(group):
            return
        plan = group[0].plan
        seq = self.journal.begin_job(
            plan,
            [f.id for f in group],
            sent_at=self.clock(),
            server_after=self.client.server_clock.now(),
        )
        self.tally.move("pending", "in_job", len(group))
        try:
            info = self.client.create_job(self.texts[plan], [f.source for f in group])
        except (DagkitError, OSError) as exc:
            self.next_launch = time.monotonic() + self.interval
            self._launch_failed(seq, group, exc)
            return
        self.next_launch = time.monotonic() + self.interval
        self.launched += 1
        self.launch_failures = 0
        self.failing_since = None
        self.answered = True
        self.interval = max(self.settings.min_interval, self.interval * 0.75)
        ended = info.is_terminal
        self.journal.job_created(seq, info.id, str(info.status), ended=ended)
        self._learn_zone(info)
        state = "ended" if ended else "running"
        row = JobRow(seq, plan, state, info.id, str(info.status), self.clock(), False, None)
        job = _Job(row, info.id, str(info.status), False, info)
        if ended:
            self._finished(job)
        else:
            self.active[seq] = job
            self.next_poll = min(self.next_poll, time.monotonic() + self.settings.poll_initial)
            self.poll_pause = self.settings.poll_initial
        self._emit(f"job {info.id}: launched with {len(group)} file(s) ({info.status})")

    def _know_server_time(self, group: list[FileRow]) -> bool:
        """Make sure the server's time is known before a job is recorded as sent (once a run:
        any answer tells it, and a run that has had none asks for the templates). False when
        the question met a network or server error: the group waits for the next launch."""
        if self.asked_server_time or self.client.server_clock.now() is not None:
            return True
        try:
            self.client.list_templates()
        except AuthenticationError:
            raise
        except (TransportError, ServerError, RateLimitError) as exc:
            self.queue.appendleft(group)
            self.launch_failures += 1
            wait = _FAILURES.delay(self.launch_failures)
            self.next_launch = time.monotonic() + wait
            self._emit(f"{_short(exc)}; trying again in {wait:.1f} s", warning=True)
            self._patience(exc)
            return False
        except DagkitError:
            pass  # an answer we cannot use still told the time (its Date); else the next will
        self.asked_server_time = True
        self.answered = True  # the server is there: a failure to reach it next is passing
        return True

    def _learn_zone(self, info: JobInfo) -> None:
        """Learn (and keep in the journal) the zone of the server's naive ``created_at``."""
        clock = self.client.server_clock
        known = clock.naive_offset
        clock.learn_zone(info.created_at)
        if clock.naive_offset != known:  # the journal has the one known (none: 0)
            self.journal.write_meta("created_at_offset", repr(clock.naive_offset))

    def _launch_failed(self, seq: int, group: list[FileRow], exc: DagkitError | OSError) -> None:
        if isinstance(exc, OSError | MultipartError):  # a file that cannot be read, or sent
            self._unreadable(seq, group, exc)
        elif isinstance(exc, RateLimitError | ServerError):  # 429, 503: nothing was created
            self._not_created(seq, group, exc, slow_down=True)
        elif isinstance(exc, ValidationFailed | APIError):
            self._refused(seq, group, exc)
        elif isinstance(exc, AmbiguousRequestError | ResponseError):
            self._in_doubt(seq, exc)  # a ResponseError is a 2xx we cannot read: a job exists
        elif isinstance(exc, TransportError):
            if exc.reached_server:
                self._in_doubt(seq, exc)
            else:
                self._not_created(seq, group, exc, slow_down=False)
        else:  # an error in dagkit before anything was sent (a bad file, an encoding error)
            self.journal.void_job(seq, f"not sent: {_short(exc)}")
            self.tally.move("in_job", "pending", len(group))
            raise exc

    def _in_doubt(self, seq: int, exc: DagkitError) -> None:
        """The request may have created a job: find out before launching anything else."""
        self.journal.job_note(seq, f"creation in doubt: {exc}")
        row = next(r for r in self.journal.jobs("sending") if r.seq == seq)
        self.unresolved.append(row)
        self._emit(
            f"job #{seq}: the server may have created it ({_short(exc)}); checking", warning=True
        )

    def _not_created(
        self, seq: int, group: list[FileRow], exc: DagkitError, *, slow_down: bool
    ) -> None:
        """Nothing was created: put the files back at the front of the queue and wait."""
        self.journal.void_job(seq, f"not created: {_short(exc)}")
        self.tally.move("in_job", "pending", len(group))
        self.queue.appendleft(self._refresh(group))
        self.launch_failures += 1
        retry_after = getattr(exc, "retry_after", None)
        asked = float(retry_after) if isinstance(retry_after, int | float) else 0.0
        if slow_down:  # the server says we go too fast: launch at half the pace from now on
            self.interval = Backoff(max(self.settings.min_interval, 0.1), 60.0).grow(self.interval)
        backoff = _FAILURES.delay(self.launch_failures) if not slow_down else 0.0
        wait = max(asked, backoff, self.interval)
        self.next_launch = time.monotonic() + wait
        self._emit(f"not launched ({_short(exc)}); next launch in {wait:.1f} s", warning=True)
        self._patience(exc)

    def _refresh(self, group: list[FileRow]) -> list[FileRow]:
        ids = {f.id for f in group}
        return [f for f in self.journal.pending() if f.id in ids]

    def _refused(self, seq: int, group: list[FileRow], exc: ValidationFailed | APIError) -> None:
        """The request was refused (it never ran). Files it names are skipped; anything else
        stops the batch, since every later job would be refused the same way."""
        self.journal.void_job(seq, f"refused: {_short(exc)}")
        self.tally.move("in_job", "pending", len(group))
        blamed = _blamed_files(exc, group)
        if blamed:
            for f, reason in blamed.items():
                self.journal.skip([f.id], reason)
                self.tally.move("pending", "skipped")
                self._emit(f"{f.source}: skipped: {reason}", warning=True)
            rest = [f for f in group if f not in blamed]
            if rest:
                self.queue.appendleft(self._refresh(rest))
            return
        who = "dagkit" if isinstance(exc, ValidationFailed) else "the server"
        raise BatchAborted(
            f"{who} refused the job, so the batch stops: {exc.unadvised}",
            exc.findings,
            advice=exc.advice,
        ) from exc

    def _unreadable(self, seq: int, group: list[FileRow], exc: OSError | MultipartError) -> None:
        """The job's body could not be made (a file gone since it was found, or unreadable):
        nothing was created. Files that cannot be opened are skipped, saying why, and the
        others go again; if every file opens, the batch stops (the next job would fail too)."""
        self.journal.void_job(seq, f"not sent: {exc}")
        self.tally.move("in_job", "pending", len(group))
        bad = {f: why for f in group if (why := _read_error(f.source)) is not None}
        for f, why in bad.items():
            self.journal.skip([f.id], f"cannot read it: {why}")
            self.tally.move("pending", "skipped")
        rest = [f for f in group if f not in bad]
        if rest:
            self.queue.appendleft(self._refresh(rest))
        if not bad:
            raise BatchAborted(f"cannot send the files of a job: {exc}") from exc

    # ------------------------------------------------------------------ jobs in doubt

    def _grace_left(self, row: JobRow) -> float:
        """Seconds until the server has had its grace to finish creating the job in doubt
        (this machine's clock against itself: when the job was recorded, and now)."""
        return self.settings.reconcile_grace - (self.clock() - row.sent_at)

    def _reconcile(self, row: JobRow) -> None:
        """Find the job a request in doubt created, if any, among the account's jobs.

        Every time compared is the server's: a candidate was created no earlier than the
        server's time when the request was recorded (less ``server_clock_margin``), is not a job
        this journal already knows, has as many input files (asked for when a list leaves them
        out) and can be an on-demand job of this kind (see :func:`_may_be_on_demand`). The
        earliest such job is taken; its outputs are checked against the file names before they
        are accepted.
        """
        files = self.journal.files_of(row.seq)
        known = self.journal.known_job_ids()
        template = self.templates[row.plan]
        clock = self.client.server_clock
        listed = self.client.list_jobs()
        # Lower bounds on the server's time at the send: the one recorded with it, and the
        # creation of every job the journal knows (all of them older: nothing is launched
        # while a job is in doubt).
        bounds = [clock.created(i.created_at) for i in listed if i.id in known]
        bounds.append(row.server_after)
        known_bounds = [b for b in bounds if b is not None]
        bound = max(known_bounds) - self.settings.server_clock_margin if known_bounds else None
        timed = []
        for info in listed:
            created = clock.created(info.created_at)
            if info.id in known or created is None:
                continue
            if bound is not None and created < bound:
                continue
            if not _may_be_on_demand(info.job_type, template=template):
                continue
            timed.append((created, info))
        chosen: JobInfo | None = None
        for _, info in sorted(timed, key=lambda c: c[0]):
            if info.input_file_ids is None:  # a list may leave them out; the job itself tells
                info = self.client.get_job(info.id)
            if info.input_file_ids is None or len(info.input_file_ids) == len(files):
                chosen = info
                break
        self.unresolved.popleft()
        if chosen is None:
            self.journal.void_job(row.seq, "its request did not create a job")
            self.tally.move("in_job", "pending", len(files))
            self.queue.appendleft(self._refresh(files))
            self._emit(
                f"job #{row.seq}: the server has no such job; its files go again", warning=True
            )
            return
        info = chosen
        ended = info.is_terminal
        self.journal.job_created(row.seq, info.id, str(info.status), ended=ended, reconciled=True)
        job = _Job(row, info.id, str(info.status), True, info)
        if ended:
            self._finished(job)
        else:
            self.active[row.seq] = job
        self._emit(
            f"job #{row.seq}: found on the server as {info.id} ({info.status})", warning=True
        )

    # ------------------------------------------------------------------ following

    def _poll(self) -> None:
        """Ask for the status of every running job: one call each when there are one or two,
        else the lists of scheduled and in-progress jobs (and one call for each that left them)."""
        jobs = list(self.active.values())
        listed: dict[str, JobInfo] = {}
        if len(jobs) > 2:
            for status in (JobStatus.IN_PROGRESS, JobStatus.SCHEDULED):
                listed.update((i.id, i) for i in self.client.list_jobs(status=status))
        changed = False
        for job in jobs:
            try:
                info = listed.get(job.job_id) or self.client.get_job(job.job_id)
            except NotFoundError:
                self._lost(job)
                changed = True
                continue
            if str(info.status) != job.status:
                changed = True
                job.status = str(info.status)
                job.info = _keep_file_ids(info, job.info)
                self.journal.job_status(job.row.seq, job.status, ended=info.is_terminal)
                if info.is_terminal:
                    self._finished(job)
                else:
                    self._emit(f"job {job.job_id}: {job.status}")
        polls = Backoff(self.settings.poll_initial, self.settings.poll_max, factor=1.5)
        self.poll_pause = self.settings.poll_initial if changed else polls.grow(self.poll_pause)
        self.next_poll = time.monotonic() + self.poll_pause
        if not changed:
            self._emit(None)

    def _lost(self, job: _Job) -> None:
        """The server no longer knows the job (another server or account): send its files again."""
        files = [f for f in self.journal.files_of(job.row.seq) if f.state == "in_job"]
        self.active.pop(job.row.seq, None)
        self.journal.void_job(job.row.seq, "the server does not know this job")
        self.tally.move("in_job", "pending", len(files))
        self.queue.appendleft(self._refresh(files))
        self._emit(f"job {job.job_id}: not found on the server; its files go again", warning=True)

    # ------------------------------------------------------------------ outputs

    def _collect(self, seq: int) -> None:
        """Fetch the outputs of a finished job and settle each of its files."""
        job = self.finished[seq]
        everyone = self.journal.files_of(seq)
        files = [f for f in everyone if f.state == "in_job"]
        info = job.info
        if info is None or not info.is_terminal or info.input_file_ids is None:
            info = _keep_file_ids(self.client.get_job(job.job_id), info)
        done: list[tuple[int, str]] = []
        failed: list[tuple[int, str]] = []
        if info.status == JobStatus.COMPLETED:
            ok = self._fetch(job, info, everyone, done, failed)
            if not ok:
                return
        else:
            reason = f"the job ended {info.status}"
            with contextlib.suppress(*_TRANSIENT):
                message = self.client.job_details(info).message
                if message:
                    reason += f": {message}"
            failed = [(f.id, reason) for f in files]
        self.journal.finish_job(seq, done, failed)
        self.ended.popleft()
        del self.finished[seq]
        self.tally.move("in_job", "done", len(done))
        self.tally.move("in_job", "failed", len(failed))
        self.tally.settled += len(done) + len(failed)
        if info.status == JobStatus.COMPLETED:
            self.tally.jobs_ok += 1
        else:
            self.tally.jobs_failed += 1
        summary = f"{len(done)} output(s) saved" + (f", {len(failed)} failed" if failed else "")
        self._emit(f"job {job.job_id}: {info.status}, {summary}", warning=bool(failed))

    def _fetch(
        self,
        job: _Job,
        info: JobInfo,
        everyone: list[FileRow],
        done: list[tuple[int, str]],
        failed: list[tuple[int, str]],
    ) -> bool:
        """Download the final output of each of the job's files (``everyone``, in upload order,
        the unsettled ones); False if the job turned out not to be ours."""
        ids = info.input_file_ids or []
        files = [f for f in everyone if f.state == "in_job"]
        if len(ids) != len(everyone):
            if job.reconciled:
                return self._mismatch(job, [], f"it has {len(ids)} input files")
            reason = f"the server lists {len(ids)} input files for the job, not {len(everyone)}"
            failed.extend((f.id, reason) for f in files)
            return True
        # which id is whose: by the uploaded name each id carries (see match_input_files)
        uploads = match_input_files(ids, [f.name for f in everyone])
        id_of = {
            everyone[u].id: file_id
            for file_id, u in zip(ids, uploads, strict=True)
            if u is not None
        }

        targets = [self.output_path(f) for f in files]
        with JobOutputs(self._output_worker(), targets) as made:

            def save(index: int, file_id: str) -> Path:
                part = made.part(index)
                try:
                    self.client.download_into(info, file_id, part.file)
                except BaseException:
                    part.discard()
                    raise
                return place(part, targets[index])

            outputs = self.client.save_outputs(
                info, [id_of.get(f.id) for f in files], [f.name for f in files], save
            )
        saved = [outputs.saved[i] for i in sorted(outputs.saved)]
        if job.reconciled:
            for i in sorted(outputs.saved):
                if not _output_names(outputs.saved[i], files[i].name):
                    return self._mismatch(
                        job, saved, f"its output for {files[i].name} is another file's"
                    )
            if not set(outputs.reasons) <= {f.name for f in everyone}:
                return self._mismatch(job, saved, "it failed files this batch did not send")
        for i, f in enumerate(files):
            if i in outputs.saved:
                done.append((f.id, os.fspath(outputs.saved[i])))
            else:
                failed.append((f.id, outputs.failed[i]))
        return True

    def _mismatch(self, job: _Job, saved: list[Path], why: str) -> bool:
        """A job taken for a request in doubt is not it: drop what was fetched, send again."""
        for path in saved:
            with contextlib.suppress(OSError):
                path.unlink()
        files = [f for f in self.journal.files_of(job.row.seq) if f.state == "in_job"]
        self.journal.void_job(job.row.seq, f"job {job.job_id} was not this batch's: {why}")
        self.ended.popleft()
        del self.finished[job.row.seq]
        self.tally.move("in_job", "pending", len(files))
        self.queue.appendleft(self._refresh(files))
        self._emit(
            f"job {job.job_id} is not this batch's ({why}); its files go again", warning=True
        )
        return False

    def output_path(self, f: FileRow) -> Path:
        return output_path(self.out_dir, f.plan, f.path, len(self.texts))

    # ------------------------------------------------------------------ errors and progress

    def _guard(self, action: Callable[..., None], *args: Any) -> None:
        """Run one step; a network or server hiccup postpones it instead of ending the batch."""
        try:
            action(*args)
        except AuthenticationError:
            raise
        except _TRANSIENT as exc:
            self.call_failures += 1
            wait = _FAILURES.delay(self.call_failures)
            self.retry_at = time.monotonic() + wait
            self._emit(f"{_short(exc)}; trying again in {wait:.1f} s", warning=True)
            self._patience(exc)
        else:
            self.call_failures = 0
            self.failing_since = None
            self.answered = True

    def _patience(self, exc: DagkitError) -> None:
        """Raise ``exc`` once errors have lasted ``network_patience`` seconds in a row, or at
        once if the server has not answered this run at all (a wrong URL, a server down)."""
        if isinstance(exc, APIError) or getattr(exc, "reached_server", False):
            self.answered = True  # the server is there, only busy or unwell
        if not self.answered:
            raise exc
        now = time.monotonic()
        if self.failing_since is None:
            self.failing_since = now
        elif now - self.failing_since > self.settings.network_patience:
            raise exc

    def progress(self, message: str | None = None, *, warning: bool = False) -> Progress:
        files = self.tally.files
        elapsed = time.monotonic() - self.started
        rate = self.tally.settled / elapsed if self.tally.settled and elapsed > 0 else None
        left = files.get("pending", 0) + files.get("in_job", 0)
        return Progress(
            files_total=sum(files.values()),
            files_done=files.get("done", 0),
            files_failed=files.get("failed", 0),
            files_skipped=files.get("skipped", 0),
            files_running=files.get("in_job", 0),
            files_waiting=files.get("pending", 0),
            jobs_done=self.tally.jobs_ok,
            jobs_running=len(self.active) + len(self.ended) + len(self.unresolved),
            jobs_waiting=len(self.queue),
            jobs_failed=self.tally.jobs_failed,
            elapsed=elapsed,
            files_per_second=rate,
            seconds_left=left / rate if rate else None,
            message=message,
            warning=warning,
        )

    def _emit(self, message: str | None, *, warning: bool = False) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress(message, warning=warning))


def output_path(out_dir: Path, plan: int, path: str, plans: int) -> Path:
    """Where a file's output goes: its relative path plus ``.json`` under the out dir (under
    ``branch-<n>/`` when the DAG plans into several jobs)."""
    parts = [f"branch-{plan + 1}"] if plans > 1 else []
    return Path(os.path.join(out_dir, *parts, *path.split("/")) + ".json")


def _blamed_files(exc: ValidationFailed | APIError, group: list[FileRow]) -> dict[FileRow, str]:
    """The files a refusal names, with the reason: every finding (or 422 ``loc``) must point at
    one file, else the refusal is about the job itself and an empty dict comes back."""
    blamed: dict[FileRow, str] = {}
    findings = [f for f in getattr(exc, "findings", []) if f.is_error]
    if isinstance(exc, APIError) and exc.status == 422 and isinstance(exc.detail, list):
        for item in exc.detail:
            loc = item.get("loc") if isinstance(item, dict) else None
            if not (isinstance(loc, list) and loc[:2] == ["body", "input_files"] and len(loc) > 2):
                return {}
            index = loc[2]
            if not isinstance(index, int) or not 0 <= index < len(group):
                return {}
            blamed[group[index]] = str(item.get("msg") or "the server refused it")
        return blamed
    if not findings:
        return {}
    for finding in findings:
        index = None if finding.part is None else finding.part.file_index
        if index is None or not 0 <= index < len(group):
            return {}
        blamed[group[index]] = f"{finding.code} {finding.message}"
    return blamed


def _read_error(path: str) -> str | None:
    """Why the file at ``path`` cannot be opened for reading (None when it can)."""
    try:
        with open(path, "rb"):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def _output_names(path: Path, name: str) -> bool:
    """Whether an output is the one of file ``name``: the first element that names its file
    (``metadata.filename``) names this one. An output that names no file is given the benefit."""
    try:
        elements = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return True
    if not isinstance(elements, list):
        return True
    for element in elements:
        metadata = element.get("metadata") if isinstance(element, dict) else None
        filename = metadata.get("filename") if isinstance(metadata, dict) else None
        if isinstance(filename, str):
            return filename == name
    return True


#: Job types of a workflow's runs: never an on-demand job.
_WORKFLOW_JOB_TYPES = frozenset({"persistent", "scheduled"})


def _may_be_on_demand(job_type: str | None, *, template: bool) -> bool:
    """Whether a job reported as ``job_type`` can be an on-demand job of a batch that runs a
    template (``template``) or a DAG. The platform reports an on-demand job as ``ephemeral`` even
    when it runs a template (and sometimes as ``template``), so only a workflow's run, or a
    template job for a DAG batch, is ruled out; a type dagkit does not know is not."""
    if job_type in _WORKFLOW_JOB_TYPES:
        return False
    return template or job_type != "template"


def _keep_file_ids(info: JobInfo, earlier: JobInfo | None) -> JobInfo:
    """``info`` with the input_file_ids of an earlier answer (the create answer) when it has
    none: the platform's get-job may leave them out."""
    if info.input_file_ids is not None or earlier is None or earlier.input_file_ids is None:
        return info
    return dataclasses.replace(info, input_file_ids=earlier.input_file_ids)


def _short(exc: BaseException) -> str:
    text = str(exc).split("\n", 1)[0]
    return text if len(text) <= 160 else text[:157] + "..."
