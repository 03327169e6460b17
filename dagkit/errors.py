"""The exceptions dagkit raises, as one tree under :class:`DagkitError`.

Every public exception class is defined here (the modules that raise them re-export theirs);
``tests/test_errors.py`` checks that this drawing is the real class hierarchy. A class in
parentheses is a second base: catch ``ValueError`` for every bad argument or bad input.

::

    DagkitError
    ├── DagkitValueError (ValueError)       a bad argument or bad input: a value dagkit cannot use
    │   ├── NodeSettingsError               a node constructor got an unknown or ill-typed setting
    │   ├── DagError                        a DAG cannot be built or planned into jobs
    │   ├── SourceError                     a DAG source (file, ``path.py:attr``) cannot be loaded
    │   ├── BadURLError                     an API URL that cannot be used (e.g. inside the API)
    │   ├── RequestDataError                request_data text cannot be parsed into a DAG
    │   ├── MultipartError                  a multipart body cannot be encoded or parsed
    │   ├── FramingError                    bytes that do not frame an HTTP message
    │   ├── InputPathError                  a path given to validate names nothing
    │   └── BatchInputError                 a batch input names nothing
    ├── SchemaError                         a packaged schema or an OpenAPI document is unusable
    ├── ValidationFailed                    checks found errors; carries the findings
    ├── TransportError                      the request failed; says whether it reached the server
    │   ├── ConnectError                    nothing reached the server (refused, DNS, TLS handshake)
    │   ├── RemoteProtocolError             the server sent something that is not HTTP
    │   ├── AnswerTooLargeError             a JSON answer longer than the client reads
    │   ├── TimeoutError                    no answer in time
    │   └── AmbiguousRequestError           a non-idempotent request may have been acted on
    ├── APIError                            the server answered with an error status
    │   ├── AuthenticationError             401 / 403
    │   ├── NotFoundError                   404
    │   ├── RateLimitError                  429
    │   └── ServerError                     5xx
    ├── ResponseError                       a 2xx answer that is not what the spec promises
    ├── WaitTimeout                         a wait you bounded (``--wait-timeout``) ran out
    │   └── JobWaitTimeout                  waiting for a job gave up; carries its last state
    ├── OutputsFailed                       a finished job has input files with no output
    ├── UsageError                          the command line cannot work as given
    ├── JournalError                        a batch journal cannot be used
    │   └── ConfigDriftError                the out dir holds a batch of another DAG
    ├── BatchAborted                        the batch cannot go on; the same command resumes it
    ├── DataDirError                        the server's data directory cannot be used
    └── StartupError                        the server cannot start

Ctrl-C stays a ``KeyboardInterrupt`` (``except Exception`` never swallows it): while jobs are
being created or followed it is a :class:`JobsInterrupted`, which says which jobs exist and
whether one more may.

Every error has ``findings`` (empty unless it carries some) and :meth:`DagkitError.to_dict`,
the JSON form the CLI prints. What an error advises is data too (``advice``, :class:`Advice`):
its message words it for a Python caller (``timeout=``, ``JobsClient.list_jobs()``), and the CLI
words the same advice as flags and commands (``--timeout``, ``dagkit jobs list``). Messages
never contain the API key: transports redact it before raising.

Every command exits with one of the :class:`ExitCode` values; :func:`exit_code` maps each error
above to its code, so the contract is written here once.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum, IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagkit.core.record import Record

if TYPE_CHECKING:
    from datetime import datetime

    from dagkit.client.jobs import FailedFile, JobInfo
    from dagkit.findings import Finding


class ExitCode(IntEnum):
    """What every ``dagkit`` command exits with."""

    OK = 0  #: done, and the job (if any) COMPLETED with every file
    INVALID = 1  #: the input or the job is bad: findings, a FAILED job, files that failed
    USAGE = 2  #: the command line is wrong: an unknown option, a missing file, no API key
    NETWORK = 3  #: the network or the server failed (the request may be retried)
    WAIT_TIMEOUT = 4  #: the wait you bounded with ``--wait-timeout`` ran out; the job runs on
    INTERRUPTED = 130  #: Ctrl-C (128 + SIGINT, as shells report it)


class AdviceKind(Enum):
    """The kinds of advice an error gives. Each is a sentence whose ``{slots}`` name an option
    or a command (filled in by whoever words it: :data:`PYTHON_WORDS`, or the CLI's flags) or a
    value the advice carries (``{since}``, ``{job_id}``)."""

    USE_HTTPS = "Use an https:// URL, or pass {allow_insecure_key} if this network is trusted."
    RAISE_READ_TIMEOUT = (
        "If the server is slow rather than down, raise the read timeout ({read_timeout})."
    )
    SEND_API_KEY = "Set UNSTRUCTURED_API_KEY or pass {api_key}."
    CHECK_API_KEY = (
        "Check the API key (UNSTRUCTURED_API_KEY or {api_key}) and that UNSTRUCTURED_API_URL is "
        "the URL issued to your account."
    )
    TRUST_CA = (
        "If your network inspects TLS, give its CA certificate file with {ca_bundle} or "
        "SSL_CERT_FILE."
    )
    LOOK_FOR_JOB = (
        "dagkit did not send it again because the server may have acted on it: a job may "
        "already have been created. Before submitting again, check with {list_jobs} for a job "
        "created since {since} (created_at) with the same input files."
    )
    FOLLOW_JOB = "It keeps running: follow it with {wait_job}."
    JOB_MAY_EXIST = "The job may have been created: check with {list_jobs}."
    CHECK_JOBS_NOTE = "check with {list_jobs}{created_since} before submitting again"
    FOLLOW_JOB_NOTE = "follow job {job_id} with {wait_job}"
    LOOK_FOR_WORKFLOW = (
        "dagkit did not send it again: the workflow may already exist. Check with "
        "{list_workflows} before creating it again."
    )
    PLAN_WORKFLOWS = "Use {plan_workflows} for one workflow per path."
    SEPARATE_OUT_DIRS = "Or run them as separate batches, each with its own {out_dir}."
    BATCH_RUNNING = "Wait for it to finish, or use another {out_dir}."
    SERVER_RUNNING = "Stop it, or give this one another {data_dir}."


class Advice(Record):
    """What to do about an error, as data: its ``kind`` and the values it carries."""

    __slots__ = ("kind", "values")
    kind: AdviceKind
    values: tuple[tuple[str, str], ...]

    def __init__(self, kind: AdviceKind, values: tuple[tuple[str, str], ...] = ()) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "values", values)

    @classmethod
    def of(cls, kind: AdviceKind, **values: str) -> Advice:
        return cls(kind, tuple(values.items()))

    def render(self, words: Words) -> str:
        """The sentence, its option and command slots filled from ``words``: each a template
        over the advice's values (``"dagkit jobs wait {job_id}"``), or a function of them."""
        values = dict(self.values)
        template = self.kind.value
        slots = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        filled = {slot: _word(words[slot], values) for slot in slots - values.keys()}
        return template.format_map({**values, **filled})


#: How options and commands are named, by slot: a template over an advice's values, or a
#: function of them.
Words = Mapping[str, str | Callable[[Mapping[str, str]], str]]


def _word(word: str | Callable[[Mapping[str, str]], str], values: Mapping[str, str]) -> str:
    return word.format_map(values) if isinstance(word, str) else word(values)


#: Advice worded for a Python caller: keyword arguments and methods.
PYTHON_WORDS: Words = {
    "allow_insecure_key": "allow_insecure_key=True",
    "read_timeout": "timeout=(connect, read)",
    "api_key": "api_key=...",
    "ca_bundle": "ca_bundle=...",
    "list_jobs": "JobsClient.list_jobs()",
    "wait_job": "JobsClient.wait({job_id!r})",
    "list_workflows": "WorkflowsClient.list_workflows(name={name!r})",
    "plan_workflows": "plan_workflows()",
    "out_dir": "output folder (out_dir)",
    "data_dir": "data directory (data_dir)",
}


class DagkitError(Exception):
    """Base of every error dagkit raises on purpose.

    ``findings`` are the findings behind it (empty unless the error carries some); ``advice``
    what to do about it, worded at the end of the message (see :meth:`describe`).
    """

    findings: Sequence[Finding] = ()
    advice: tuple[Advice, ...] = ()

    def __init__(self, *args: object, advice: Iterable[Advice] = ()) -> None:
        super().__init__(*args)
        if advice:
            self.advice = tuple(advice)

    @property
    def unadvised(self) -> str:
        """The message without its advice."""
        return super().__str__()

    def describe(self, words: Words = PYTHON_WORDS) -> str:
        """The message followed by its advice, options and commands named by ``words``."""
        return " ".join([self.unadvised, *(a.render(words) for a in self.advice)])

    def __str__(self) -> str:
        return self.describe()

    def to_dict(self) -> dict[str, Any]:
        """The error as JSON: its type, message, notes, findings and the fields of its kind."""
        return {
            "type": type(self).__name__,
            "message": str(self),
            "notes": list(getattr(self, "__notes__", ())),
            "findings": [f.to_dict() for f in self.findings],
        }


class DagkitValueError(DagkitError, ValueError):
    """A bad argument or bad input: a value dagkit cannot use (a ``ValueError``)."""


class NodeSettingsError(DagkitValueError):
    """A node constructor was given a setting it does not know, or of the wrong type."""


class DagError(DagkitValueError):
    """A DAG cannot be built (bad edge) or planned into jobs (merging branches)."""


class SourceError(DagkitValueError):
    """A DAG source cannot be loaded: missing file, bad ``path.py:attr``, wrong object.

    ``missing`` is True when the source names nothing (no such file or attribute): the
    command line is wrong rather than the file. ``reason`` is the message without the place;
    ``line`` the source line it concerns, if any.
    """

    missing: bool = False

    def __init__(
        self,
        message: str,
        *,
        missing: bool = False,
        reason: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.missing = missing
        self.reason = message if reason is None else reason
        self.line = line


class BadURLError(DagkitValueError):
    """An API URL that cannot be used; callers say where it came from (flag or variable)."""


class RequestDataError(DagkitValueError):
    """request_data text that cannot be turned into a DAG; ``findings`` says where and why."""

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


class SchemaError(DagkitError):
    """A packaged schema or a given OpenAPI document cannot be loaded or used."""


class MultipartError(DagkitValueError):
    """A multipart body cannot be encoded (bad field) or parsed (broken framing)."""


class FramingError(DagkitValueError):
    """The bytes do not frame an HTTP message: the message says what is wrong, and where."""


class InputPathError(DagkitValueError):
    """A path given to validate names nothing: no such file, or a pattern matching nothing."""


class BatchInputError(DagkitValueError):
    """An input names nothing: no such file or directory, or a pattern that matches nothing."""


class ValidationFailed(DagkitError):
    """Checks found at least one error; ``findings`` holds every finding, warnings included."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = list(findings)


class TransportError(DagkitError):
    """The request did not complete.

    ``reached_server`` is False when nothing can have been acted on (connection refused, DNS
    failure), True when the server may have received the whole request.
    """

    reached_server: bool = False

    def __init__(
        self, message: str, *, reached_server: bool | None = None, advice: Iterable[Advice] = ()
    ) -> None:
        super().__init__(message, advice=advice)
        if reached_server is not None:
            self.reached_server = reached_server

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "reached_server": self.reached_server}


class ConnectError(TransportError):
    """The connection could not be made; the server saw nothing."""


class RemoteProtocolError(TransportError):
    """The server closed the connection or answered with something that is not HTTP."""


class AnswerTooLargeError(TransportError):
    """A JSON answer longer than the client reads (``DAGKIT_MAX_ANSWER_BYTES``, 16 MB unless
    raised); downloads stream to disk and have no such limit."""

    reached_server = True


class TimeoutError(TransportError):  # dagkit's own: shadows the builtin only inside this module
    """The server did not answer in time."""


class AmbiguousRequestError(TransportError):
    """A non-idempotent request (create-job) failed after it may have been acted on.

    dagkit does not resend it: the job may exist. The message says how to check.
    """

    reached_server = True


class APIError(DagkitError):
    """The server answered with an error status.

    ``status`` is the HTTP status, ``detail`` the server's ``detail`` (a string or the list of
    validation errors), ``request_id`` any request id header the server sent.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        detail: Any = None,
        request_id: str | None = None,
        findings: Sequence[Finding] = (),
        advice: Iterable[Advice] = (),
    ) -> None:
        super().__init__(message, advice=advice)
        self.status = status
        self.detail = detail
        self.request_id = request_id
        self.findings = list(findings)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "status": self.status, "request_id": self.request_id}


class AuthenticationError(APIError):
    """401 or 403: the API key is missing or not accepted."""


class NotFoundError(APIError):
    """404: no such job, template or output."""


class RateLimitError(APIError):
    """429: launches too close together; ``retry_after`` is in seconds when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed."""


class ResponseError(DagkitError):
    """A successful status whose body is not what the spec promises (not JSON, wrong shape)."""

    def __init__(self, message: str, findings: Sequence[Finding] = ()) -> None:
        super().__init__(message)
        self.findings = list(findings)


class WaitTimeout(DagkitError):
    """Waiting for a job ran out of the time it was given; ``job`` is the last state seen.

    Not a transport error: every request got its answer, the job just had not ended."""

    def __init__(self, message: str, job: JobInfo, *, advice: Iterable[Advice] = ()) -> None:
        super().__init__(message, advice=advice)
        self.job = job

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "job": self.job.to_dict()}


class OutputsFailed(DagkitError):
    """A finished job has input files with no output. Every output there was is saved
    (``saved``); ``failed`` lists the other files with the platform's reason."""

    def __init__(
        self, message: str, *, saved: Sequence[Path], failed: Sequence[FailedFile]
    ) -> None:
        super().__init__(message)
        self.saved = list(saved)
        self.failed = list(failed)

    def to_dict(self) -> dict[str, Any]:
        failed = [f.to_dict() for f in self.failed]
        return {**super().to_dict(), "saved": [str(p) for p in self.saved], "failed_files": failed}


class JobsInterrupted(KeyboardInterrupt):
    """Ctrl-C while jobs were being created or followed. Still a ``KeyboardInterrupt``.

    ``jobs`` are the jobs known to exist (they keep running on the server); ``sending`` is True
    when a create-job request was on its way, so one more job may exist: the one after
    ``jobs`` (:attr:`in_doubt`, counted from 1). ``planned`` is how many jobs the submission
    plans (None: not known here), so the jobs after that one were not sent; ``since`` is when
    the request in doubt started. The message says which, and the notes what to do next:
    ``advice`` as data, worded in the notes for Python (:meth:`notes` words it otherwise).
    """

    def __init__(
        self,
        jobs: Sequence[JobInfo] = (),
        *,
        sending: bool,
        planned: int | None = None,
        since: datetime | None = None,
    ) -> None:
        self.jobs = list(jobs)
        self.sending = sending
        self.planned = planned
        self.since = since
        ids = ", ".join(job.id for job in self.jobs)
        several = planned is not None and planned > 1
        of = f" of {planned}" if several else ""
        if sending and several:
            message = f"interrupted while sending job {self.in_doubt}{of}: it may have been created"
        elif sending:
            message = "interrupted while sending: a job may have been created"
            if ids:
                message += f" (and these were: {ids})"
        else:
            message = f"interrupted: job {ids} keeps running on the server"
        super().__init__(message)
        advice = []
        if sending:
            stamp = "" if since is None else f" for a job created since {since:%Y-%m-%dT%H:%M:%SZ}"
            advice.append(Advice.of(AdviceKind.CHECK_JOBS_NOTE, created_since=stamp))
        for job in self.jobs:
            advice.append(Advice.of(AdviceKind.FOLLOW_JOB_NOTE, job_id=job.id))
        self.advice = tuple(advice)
        first = len(self.jobs) + sending + 1  # the first job never sent
        self._unsent: list[str] = []
        if planned is not None and first <= planned:
            unsent = f"job {first}" if first == planned else f"jobs {first} to {planned}"
            self._unsent.append(f"{unsent}{of} {'was' if first == planned else 'were'} not sent")
        for note in self.notes():
            self.add_note(note)

    def notes(self, words: Words = PYTHON_WORDS) -> list[str]:
        """What to do next, options and commands named by ``words``, then what was not sent."""
        return [a.render(words) for a in self.advice] + self._unsent

    @property
    def in_doubt(self) -> int | None:
        """Which job of the submission may exist (from 1), when one was being sent."""
        return len(self.jobs) + 1 if self.sending else None

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`DagkitError.to_dict`, with the jobs known to exist, the one in doubt and
        how many were planned."""
        return {
            "type": type(self).__name__,
            "message": str(self),
            "notes": list(getattr(self, "__notes__", ())),
            "findings": [],
            "jobs": [job.to_dict() for job in self.jobs],
            "in_doubt": self.in_doubt,
            "planned": self.planned,
        }


class JobWaitTimeout(WaitTimeout):
    """:meth:`JobsClient.wait` gave up; ``job`` is the last state it saw."""


class UsageError(DagkitError):
    """The command line cannot work as given (no API key, an unwritable output folder),
    found before anything is sent."""


class JournalError(DagkitError):
    """The journal cannot be used: locked by another batch, unreadable, or for another DAG."""


class ConfigDriftError(JournalError):
    """The out dir holds a batch of another DAG: its outputs would mix two pipelines."""


class BatchAborted(DagkitError):
    """The batch cannot go on (a request the server refuses for every file, a key it rejects);
    the journal is consistent and the same command resumes once the cause is fixed.
    ``findings`` are the refused request's, if it had any."""

    def __init__(
        self, message: str, findings: Sequence[Finding] = (), *, advice: Iterable[Advice] = ()
    ) -> None:
        super().__init__(message, advice=advice)
        self.findings = list(findings)


class DataDirError(DagkitError):
    """The data directory cannot be used: not writable, a broken database, or in use."""


class StartupError(DagkitError):
    """The server cannot start: its data directory or its address cannot be used."""


def exit_code(exc: BaseException) -> ExitCode:
    """The exit code of a command that ends with ``exc``."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, WaitTimeout):
        return ExitCode.WAIT_TIMEOUT
    if isinstance(exc, UsageError):
        return ExitCode.USAGE
    if isinstance(exc, SourceError) and exc.missing:
        return ExitCode.USAGE
    if isinstance(exc, APIError):
        return ExitCode.INVALID if exc.status == 422 else ExitCode.NETWORK
    if isinstance(exc, TransportError | ResponseError):
        return ExitCode.NETWORK
    # ValidationFailed, RequestDataError, DagError, NodeSettingsError, a source that loads
    # but is wrong, OutputsFailed...: the input or the job is the problem
    return ExitCode.INVALID
