"""Many files through many jobs within the API's limits, resumable, never a job twice.

::
    from dagkit.batch import run

    report = run("pipeline.py", ["docs/"], "out/")
    print(report.counts)          # {'done': 2990, 'failed': 4, 'skipped': 6, ...}

:func:`run` groups the input files into jobs (at most ``files_per_job`` files and
``max_job_bytes`` bytes each), launches them no faster than ``min_interval`` seconds apart with at
most ``max_running`` unfinished, follows them, downloads every output into the out dir at the
input's relative path plus ``.json``, and writes a JSON report of every file there. A journal
(sqlite3, in the out dir) records each job before it is sent and every state after, so running
the same call again after a crash, a Ctrl-C or a reboot carries on where it stopped: finished
files are not sent again, running jobs are followed again, and a job whose creation is in doubt
is looked for among the account's jobs before anything is sent again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dagkit.batch.inputs import InputFile, find_inputs, skip_reason
from dagkit.batch.journal import JOURNAL_NAME, Journal
from dagkit.batch.report import REPORT_NAME, BatchReport, FileResult, JobResult
from dagkit.batch.runner import (
    Progress,
    Runner,
    Settings,
    group_files,
    output_path,
)
from dagkit.client.jobs import JobsClient
from dagkit.core import limits
from dagkit.errors import (
    BatchAborted,
    BatchInputError,
    ConfigDriftError,
    JournalError,
)
from dagkit.model.dag import JobDAG
from dagkit.model.nodes import Node
from dagkit.wire.serialize import JobLines, TemplateJob, plan_request_data, read_source

if TYPE_CHECKING:
    from dagkit.client.jobs import JobsClient
    from dagkit.model.dag import JobDAG
    from dagkit.model.nodes import Node
    from dagkit.wire.serialize import TemplateJob

__all__ = [
    "DEFAULT_MAX_JOB_BYTES",
    "JOURNAL_NAME",
    "REPORT_NAME",
    "BatchAborted",
    "BatchInputError",
    "BatchReport",
    "ConfigDriftError",
    "FileResult",
    "InputFile",
    "JobResult",
    "JournalError",
    "Progress",
    "find_inputs",
    "group_files",
    "output_path",
    "run",
    "skip_reason",
]

#: Bytes of files per job unless told: ten files at the per-file limit.
DEFAULT_MAX_JOB_BYTES = limits.MAX_FILES_PER_JOB * limits.MAX_FILE_SIZE


def run(
    source_or_job: str | os.PathLike[str] | JobDAG | TemplateJob | Node | Sequence[Node],
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    client: JobsClient | None = None,
    files_per_job: int = limits.MAX_FILES_PER_JOB,
    max_job_bytes: int = DEFAULT_MAX_JOB_BYTES,
    min_interval: float = limits.MIN_LAUNCH_INTERVAL,
    max_running: int = limits.MAX_RUNNING_JOBS,
    retry_failed: bool = False,
    journal: str | os.PathLike[str] | None = None,
    report: str | os.PathLike[str] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    max_file_size: int | None = None,
    poll_initial: float = 1.0,
    poll_max: float = 10.0,
    reconcile_grace: float = 2.0,
    network_patience: float = 300.0,
    clock: Callable[[], float] = time.time,
) -> BatchReport:
    """Run every input file through the job, resumably; the report of every file.

    ``source_or_job`` is a DAG source (a request_data ``.json`` file, or ``path.py[:attr]``), a
    :class:`~dagkit.model.dag.JobDAG`, nodes, or a :class:`~dagkit.wire.serialize.TemplateJob`.
    A DAG that plans into several jobs runs every file through each, its outputs under
    ``branch-<n>/``.
    ``inputs`` are files, directories (walked recursively, in sorted order) and glob patterns.
    Files the platform cannot take are skipped, with the reason in the report.

    ``client`` defaults to a :class:`~dagkit.client.jobs.JobsClient` from the environment.
    ``journal`` defaults to ``out_dir/.dagkit-batch.sqlite3``, ``report`` to
    ``out_dir/dagkit-batch-report.json``. ``retry_failed`` sends the files that failed in an
    earlier run again. ``on_progress`` is called after every event. Setting ``stop`` (from
    another thread, or a signal handler) stops launching and returns soon after with
    ``interrupted`` set; the journal is consistent and the same call resumes.

    Polling starts ``poll_initial`` s after a change and backs off to ``poll_max`` s.
    A job whose creation is in doubt is looked for once ``reconcile_grace`` s have passed since
    it was sent. Network and server errors are waited out for up to ``network_patience`` s in a
    row before the last one is raised. ``clock`` is this machine's wall clock (tests shift it):
    the batch only ever compares it with itself; whether a job on the server came from a
    request is decided on the server's time alone (its ``Date`` headers and ``created_at``).

    Raises :class:`ConfigDriftError` when the out dir holds a batch of another DAG,
    :class:`JournalError` when another batch is using it, :class:`BatchInputError` for an input
    that names nothing, :class:`~dagkit.errors.SourceError` for a source that cannot be loaded,
    :class:`BatchAborted` when the server refuses the job itself, and the client's errors when
    the network stays down (the journal stays consistent in every case).
    """
    _check_numbers(files_per_job, max_job_bytes, min_interval, max_running)
    texts, templates = _request_data(source_or_job)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise BatchInputError(f"{out}: exists and is not a directory")
    if client is None:
        client = JobsClient()
    size_limit = client.max_file_size if max_file_size is None else max_file_size
    found = find_inputs(inputs, exclude=out, max_file_size=size_limit)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchInputError(f"{out}: cannot create the out dir: {exc.strerror or exc}") from None
    started = time.monotonic()
    book = Journal(Path(journal) if journal is not None else out / JOURNAL_NAME)
    try:
        _check_drift(book, texts, out)
    except BaseException:
        book.close()
        raise
    runner: Runner | None = None
    try:
        book.sync_inputs(len(texts), found, retry_failed=retry_failed)
        settings = Settings(
            files_per_job=files_per_job,
            max_job_bytes=max_job_bytes,
            min_interval=min_interval,
            max_running=max_running,
            poll_initial=poll_initial,
            poll_max=poll_max,
            reconcile_grace=reconcile_grace,
            network_patience=network_patience,
        )
        runner = Runner(
            client=client,
            journal=book,
            texts=texts,
            templates=templates,
            out_dir=out,
            settings=settings,
            stop=stop if stop is not None else threading.Event(),
            on_progress=on_progress,
            clock=clock,
        )
        # The runner paces launches itself; the client's own spacing must not slow it below
        # min_interval. The caller's client gets its setting back afterwards.
        spacing = client.min_launch_interval
        client.min_launch_interval = min(spacing, min_interval)
        try:
            runner.run()
        finally:
            client.min_launch_interval = spacing
    finally:
        try:
            result = _report(book, out, len(texts), runner, time.monotonic() - started)
            result.write(Path(report) if report is not None else out / REPORT_NAME)
        finally:
            book.close()
    return result


def _check_numbers(
    files_per_job: int, max_job_bytes: int, min_interval: float, max_running: int
) -> None:
    if not 1 <= files_per_job <= limits.MAX_FILES_PER_JOB:
        raise BatchInputError(
            f"files_per_job must be between 1 and {limits.MAX_FILES_PER_JOB}, not {files_per_job}"
        )
    if max_job_bytes < 1:
        raise BatchInputError(f"max_job_bytes must be at least 1, not {max_job_bytes}")
    if not min_interval >= 0:
        raise BatchInputError(f"min_interval must be a number of seconds >= 0, not {min_interval}")
    if max_running < 1:
        raise BatchInputError(f"max_running must be at least 1, not {max_running}")


def _request_data(
    job: str | os.PathLike[str] | JobDAG | TemplateJob | Node | Sequence[Node],
) -> tuple[list[str], list[bool]]:
    """The request_data of each planned job, and whether each runs a template.

    A request_data ``.json`` source is sent as written (once it is known to load), as
    ``dagkit submit`` does; anything else is serialized canonically.
    """

    loaded: JobDAG | TemplateJob | JobLines | Node | Sequence[Node]
    if isinstance(job, str | os.PathLike):
        loaded, text = read_source(os.fspath(job))
        if text is not None:
            return [text], [isinstance(loaded, TemplateJob)]
        if isinstance(loaded, JobLines):  # each line as written
            return list(loaded.texts), [isinstance(j, TemplateJob) for j in loaded.jobs]
    else:
        loaded = job
    if isinstance(loaded, TemplateJob):
        return plan_request_data(loaded), [True]
    texts = plan_request_data(loaded if isinstance(loaded, JobDAG | Node) else list(loaded))
    return texts, [False] * len(texts)


def _check_drift(book: Journal, texts: list[str], out: Path) -> None:
    """Refuse an out dir that holds a batch of another DAG (its hash is in the journal)."""
    digest = hashlib.sha256(json.dumps(texts).encode("utf-8")).hexdigest()
    stored = book.read_meta("request_data_sha256")
    if stored is None:
        book.write_meta("request_data_sha256", digest)
        book.write_meta("request_data", json.dumps(texts))
        return
    if stored != digest and not book.jobs("sending", "running", "ended", "done"):
        # nothing was ever created with the old DAG (say, it was refused): take the new one
        book.write_meta("request_data_sha256", digest)
        book.write_meta("request_data", json.dumps(texts))
    elif stored != digest:
        raise ConfigDriftError(
            f"{out} holds a batch of another DAG (its request_data differs from this one's); "
            f"its outputs would mix two pipelines. Use another out dir, or delete "
            f"{book.path} (and the outputs) to start this one over."
        )


def _report(
    book: Journal, out: Path, plans: int, runner: Runner | None, elapsed: float
) -> BatchReport:
    jobs = book.jobs()
    job_ids = {j.seq: j.job_id for j in jobs}
    files = [
        FileResult(
            source=f.source,
            path=f.path,
            state=f.state,
            reason=f.reason,
            output=f.output,
            job_id=job_ids.get(f.job) if f.job is not None else None,
            branch=f.plan + 1,
        )
        for f in book.files()
    ]
    job_results = [
        JobResult(
            id=j.job_id,
            state=j.state,
            status=j.status,
            files=[f.path for f in book.files_of(j.seq)],
            reason=j.reason,
            reconciled=j.reconciled,
            branch=j.plan + 1,
        )
        for j in jobs
    ]
    return BatchReport(
        out_dir=out,
        files=files,
        jobs=job_results,
        interrupted=runner is None or runner.interrupted,
        elapsed=elapsed,
        launched=0 if runner is None else runner.launched,
        branches=plans,
        journal_path=book.path,
    )
