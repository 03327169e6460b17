"""A job sent and followed in one call, as ``dagkit submit`` and ``dagkit workflows run`` do:
check, dry-run or create, wait, download (a folder per job when a DAG plans into several).

::

    from pathlib import Path
    from dagkit import submit

    result = submit(Path("pipeline.py"), ["report.pdf"], wait=True, out="out/")
    if not result.ok:
        ...  # a job that did not complete, or files it failed: result.jobs says which

Nothing is sent when the request would be refused: findings with errors raise
:class:`~dagkit.errors.ValidationFailed`, a client without an API key or an ``out`` folder that
cannot be written raise :class:`~dagkit.errors.UsageError`. A failed create says whether a job
can exist (a note on the error); Ctrl-C raises :class:`~dagkit.errors.JobsInterrupted`, which
names the jobs that exist and whether one more may.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeAlias

from dagkit.client.jobs import FailedFile, FileArg, JobInfo, JobsClient, JobSource, safe_filename
from dagkit.client.workflows import WorkflowInfo, WorkflowsClient
from dagkit.errors import (
    Advice,
    AdviceKind,
    DagkitValueError,
    JobsInterrupted,
    OutputsFailed,
    UsageError,
    ValidationFailed,
)
from dagkit.findings import REQUEST_DATA_PART, Finding, has_errors
from dagkit.wire.serialize import JobLines, is_python_source, read_source

__all__ = [
    "JobOutcome",
    "Listener",
    "QuietListener",
    "SubmitResult",
    "SubmitSource",
    "check_writable_dir",
    "run_workflow",
    "submit",
]

#: What :func:`submit` sends: a DAG source file (a ``Path`` to a request_data ``.json``, sent
#: byte for byte, or to ``pipeline.py`` / ``pipeline.py:attr``, built), or anything
#: :meth:`JobsClient.create_jobs` takes (a DAG, nodes, a template job, request_data text).
SubmitSource: TypeAlias = JobSource | os.PathLike[str]


class Listener(Protocol):
    """What :func:`submit` tells as it goes. Subclass :class:`QuietListener` to hear only some
    of it."""

    def checked(self, findings: Sequence[Finding]) -> None: ...
    def uploading(self, sent: int, total: int) -> None: ...
    def created(self, job: JobInfo) -> None: ...
    def updated(self, job: JobInfo) -> None: ...
    def saved(self, path: Path) -> None: ...
    def said(self, job: JobInfo, message: str) -> None: ...


class QuietListener:
    """A :class:`Listener` that hears nothing: each method does nothing unless overridden."""

    def checked(self, findings: Sequence[Finding]) -> None:
        """The request was checked: these are its warnings (errors raise instead)."""

    def uploading(self, sent: int, total: int) -> None:
        """``sent`` of ``total`` bytes of a create-job body are out."""

    def created(self, job: JobInfo) -> None:
        """The server created ``job``."""

    def updated(self, job: JobInfo) -> None:
        """A followed job was first seen, or moved to a new status."""

    def saved(self, path: Path) -> None:
        """An output was saved at ``path``."""

    def said(self, job: JobInfo, message: str) -> None:
        """What the details of a finished job say (a workflow run with no files)."""


@dataclass(frozen=True)
class JobOutcome:
    """One job of a submission as it was last seen, and what became of its files.

    ``followed``: the job was followed to its end. ``failed_files`` is None unless it then
    COMPLETED (the platform completes a job even when every file failed); ``folder`` and
    ``downloads`` are set once its outputs were fetched into ``out``.
    """

    job: JobInfo
    followed: bool = False
    failed_files: list[FailedFile] | None = None
    folder: Path | None = None
    downloads: list[Path] | None = None

    @property
    def ok(self) -> bool:
        """Completed with every file, or not followed at all (only created)."""
        return not self.followed or (self.job.succeeded and not self.failed_files)

    def to_dict(self) -> dict[str, Any]:
        """The job as ``--json`` prints it, with ``downloads`` and ``failed_files`` once known."""
        entry = self.job.to_dict()
        if self.downloads is not None:
            entry["downloads"] = [str(p) for p in self.downloads]
        if self.failed_files is not None:
            entry["failed_files"] = [f.to_dict() for f in self.failed_files]
        return entry


@dataclass(frozen=True)
class SubmitResult:
    """What :func:`submit` did: the jobs it created (each as last seen), the warnings of the
    check, and for a dry run the requests it would have sent (``dry_run``; no job)."""

    jobs: list[JobOutcome] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    dry_run: str | None = None
    followed: bool = False

    @property
    def ok(self) -> bool:
        """Every job completed with all its files (when followed); a dry run is ok."""
        return all(outcome.ok for outcome in self.jobs)

    def to_dict(self) -> dict[str, Any]:
        """The result as ``dagkit submit --json`` prints it."""
        if self.dry_run is not None:
            return {"dry_run": self.dry_run}
        return {"jobs": [outcome.to_dict() for outcome in self.jobs]}


def submit(
    source: SubmitSource,
    files: Sequence[FileArg] = (),
    *,
    client: JobsClient | None = None,
    wait: bool = False,
    out: str | os.PathLike[str] | None = None,
    wait_timeout: float | None = None,
    dry_run: bool = False,
    listener: Listener | None = None,
) -> SubmitResult:
    """Check ``source`` with ``files``, then create its job(s) (one per branch of a DAG that
    plans into several), and follow them when asked.

    ``wait`` follows each job until it ends; ``out`` (implies waiting) saves every output
    there, in a folder per job named after its id when there are several; ``wait_timeout``
    bounds each wait (:class:`~dagkit.errors.JobWaitTimeout`, the job keeps running).
    ``dry_run`` returns the requests that would be sent, and sends nothing. ``client``
    defaults to ``JobsClient()`` (``UNSTRUCTURED_API_URL`` / ``UNSTRUCTURED_API_KEY``); with
    its ``validate`` off nothing is checked before sending.
    """
    client = JobsClient() if client is None else client
    listener = QuietListener() if listener is None else listener
    job, sent_file = _job(source)
    findings = _checked(client, job, files, sent_file)
    listener.checked(findings)
    if dry_run:
        return SubmitResult(findings=findings, dry_run=client.dry_run(job, files))
    _ready_to_send(client, out)
    jobs = client.create_jobs(job, files, progress=listener.uploading, on_created=listener.created)
    return _follow(client, jobs, findings, wait, out, wait_timeout, listener)


def run_workflow(
    workflow: WorkflowInfo | str,
    files: Sequence[FileArg] = (),
    *,
    client: WorkflowsClient | None = None,
    wait: bool = False,
    out: str | os.PathLike[str] | None = None,
    wait_timeout: float | None = None,
    listener: Listener | None = None,
) -> SubmitResult:
    """Start a job of ``workflow`` (uploading ``files`` if it has no source connector) and
    follow it as :func:`submit` does. A run with no files that completed: what its details say
    goes to :meth:`Listener.said` (a source connector's run is explained there)."""
    client = WorkflowsClient() if client is None else client
    listener = QuietListener() if listener is None else listener
    _ready_to_send(client, out)
    job = client.run_workflow(workflow, files, progress=listener.uploading)
    listener.created(job)
    result = _follow(client, [job], [], wait, out, wait_timeout, listener)
    ended = result.jobs[0].job
    if result.followed and ended.succeeded and not ended.input_file_ids:
        message = client.job_details(ended).message
        if message:
            listener.said(ended, message)
    return result


# ------------------------------------------------------------------------------ before sending


def _job(source: SubmitSource) -> tuple[JobSource, str | None]:
    """The job to send and, for a request_data file sent as written, its name (where its
    findings are). A file is read through :func:`dagkit.wire.serialize.read_source`, the one place
    that tells a source sent byte for byte from one that is built."""
    if isinstance(source, str) and _names_a_file(source):
        raise DagkitValueError(
            f"{source!r} looks like a file name, and a str is request_data text: pass the file "
            f"as a Path, submit(Path({source!r}), ...)"
        )
    if not isinstance(source, os.PathLike):
        return source, None
    job, text = read_source(os.fspath(source))  # one that cannot be loaded: its own error
    if isinstance(job, JobLines):  # each line sent as written: findings at its line there
        return job, os.fspath(source)
    return (job, None) if text is None else (text, os.fspath(source))


def _names_a_file(text: str) -> bool:
    """A str that is a DAG source's name rather than request_data (which is a JSON object)."""
    named = is_python_source(text) or text.endswith((".json", ".jsonl"))
    return named and not text.lstrip("\ufeff \t\r\n").startswith("{")


def _checked(
    client: JobsClient, job: JobSource, files: Sequence[FileArg], sent_file: str | None
) -> list[Finding]:
    """The findings about what would be sent (none with validation off); errors raise."""
    if not client.validate:
        return []
    findings = [_in_file(f, sent_file) for f in client.check(job, files)]
    if has_errors(findings):
        errors = sum(f.is_error for f in findings)
        raise ValidationFailed(f"not submitted: {errors} error(s)", findings)
    return findings


def _in_file(f: Finding, sent_file: str | None) -> Finding:
    """A request_data finding placed in the file whose text is sent."""
    if sent_file is None or f.part != REQUEST_DATA_PART or f.file is not None:
        return f
    return f.replace(file=sent_file)


def _ready_to_send(client: JobsClient, out: str | os.PathLike[str] | None) -> None:
    """What would make a job sent in vain, found before anything is sent: no API key (the
    platform and ``dagkit serve`` refuse a request without one), an ``out`` folder that cannot
    be written."""
    if not client.transport.has_api_key:
        raise UsageError(
            "no API key; nothing was sent.", advice=[Advice.of(AdviceKind.SEND_API_KEY)]
        )
    if out is not None:
        check_writable_dir(out, "--out")


def check_writable_dir(folder: str | os.PathLike[str], what: str) -> None:
    """A folder that exists and can be written, or one that can be made (its nearest existing
    parent can be written); else a :class:`UsageError` naming ``what`` (the option)."""
    path = Path(folder)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{what} {folder}: {existing} is not a folder; nothing was sent")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {folder}: {existing} cannot be written; nothing was sent")


# ------------------------------------------------------------------------------ following


def _follow(
    client: JobsClient,
    jobs: list[JobInfo],
    findings: list[Finding],
    wait: bool,
    out: str | os.PathLike[str] | None,
    wait_timeout: float | None,
    listener: Listener,
) -> SubmitResult:
    """Each job followed to its end (if asked), then its outputs saved or its failed files
    listed. Ctrl-C names every job of the submission, each of which keeps running."""
    if not (wait or out is not None or wait_timeout is not None):
        return SubmitResult([JobOutcome(info) for info in jobs], findings)
    try:
        for n, info in enumerate(jobs):
            jobs[n] = client.wait(info, timeout=wait_timeout, on_update=listener.updated)
        folders = _job_folders(jobs)
        outcomes = []
        for info, folder in zip(jobs, folders, strict=True):
            if not info.succeeded:
                outcomes.append(JobOutcome(info, followed=True))
            elif out is None:
                outcomes.append(JobOutcome(info, True, client.failed_files(info)))
            else:
                where = Path(out) / folder if len(jobs) > 1 else Path(out)
                outcomes.append(_download(client, info, where, listener))
    except KeyboardInterrupt:
        raise JobsInterrupted(jobs, sending=False) from None
    return SubmitResult(outcomes, findings, followed=True)


def _download(client: JobsClient, info: JobInfo, where: Path, listener: Listener) -> JobOutcome:
    """Every output of a COMPLETED job saved in ``where``; the files it failed listed."""
    try:
        paths = client.download_all(info, where)
        failed: list[FailedFile] = []
    except OutputsFailed as exc:
        paths, failed = exc.saved, exc.failed
    for path in paths:
        listener.saved(path)
    return JobOutcome(info, True, failed, where, paths)


def _job_folders(jobs: Sequence[JobInfo]) -> list[str]:
    """A folder per job inside ``out``, named after its id. The server chose the id, so it is
    reduced to one plain name (``../x`` or ``/etc`` cannot leave ``out``) and kept unique."""
    taken: set[str] = set()
    folders = []
    for n, info in enumerate(jobs, 1):
        name = base = safe_filename(info.id, fallback=f"job-{n}")
        while name in taken:
            name = f"{base}-{n}"
            n += len(jobs)
        taken.add(name)
        folders.append(name)
    return folders
