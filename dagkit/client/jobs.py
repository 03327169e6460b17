"""The jobs and templates operations: validate, encode, send, validate, typed result.

:class:`JobsClient` is what a user of the jobs API calls::
    client = JobsClient()                       # UNSTRUCTURED_API_URL / UNSTRUCTURED_API_KEY
    job = client.create_job(dag, ["report.pdf"])
    job = client.wait(job)
    paths = client.download_all(job, "out/")

Requests are checked with the same validators ``dagkit validate`` and the embedded server use
before anything is sent (an invalid job never reaches the server). Answers are read leniently
into frozen dataclasses: only an answer the client cannot use (not JSON, a job without ``id`` or
``status``) raises :class:`~dagkit.errors.ResponseError`. Anything else that departs from the
API's schemas is read around and logged once per client as a warning, in the words of
``dagkit validate --kind response``: a ``created_at`` without UTC offset (read as UTC), an id
that is not a UUID, a status the client does not know yet (kept as a plain string), a missing
or mistyped field it does not need (None). Unknown fields are ignored. ``validate=False`` turns
the request checks and these warnings off.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Self, TypeAlias, TypeVar

from dagkit.core import limits, partfiles
from dagkit.errors import (
    Advice,
    AdviceKind,
    AmbiguousRequestError,
    APIError,
    DagError,
    DagkitError,
    DagkitValueError,
    JobsInterrupted,
    JobWaitTimeout,
    NotFoundError,
    OutputsFailed,
    ResponseError,
    TransportError,
    ValidationFailed,
)
from dagkit.findings import REQUEST_DATA_PART, DocPath, Finding, finding, has_errors
from dagkit.http.redact import protected_logger
from dagkit.http.retry import Backoff
from dagkit.http.servertime import ServerClock
from dagkit.http.transport import (
    FormFile,
    Request,
    Response,
    RetryPolicy,
    Transport,
    ambiguous_advice,
)
from dagkit.model.dag import JobDAG, as_dag
from dagkit.model.nodes import Node
from dagkit.validate.body import BodyChecker
from dagkit.validate.response import rejection_findings, validate_response
from dagkit.wire.answers import (
    RUNNING_STATUSES,
    FailedFile,
    JobDetails,
    JobInfo,
    JobStatus,
    NodeFile,
    NodeStats,
    ProcessingStatus,
    Template,
    TemplateDetail,
    read_failed_files,
    read_list,
)
from dagkit.wire.multipart import FileSpec, MultipartEncoder, quote_param
from dagkit.wire.serialize import JobLines, TemplateJob, plan_request_data, to_request_data

__all__ = [
    "RUNNING_STATUSES",
    "FailedFile",
    "JobDetails",
    "JobInfo",
    "JobStatus",
    "JobWaitTimeout",
    "JobsClient",
    "NodeFile",
    "NodeStats",
    "Outputs",
    "ProcessingStatus",
    "Template",
    "TemplateDetail",
    "match_input_files",
    "safe_filename",
]

logger = protected_logger("dagkit.client.jobs")

#: A job to create: a DAG (or nodes), a template job, or request_data text sent as is.
JobSource: TypeAlias = JobDAG | TemplateJob | JobLines | Node | Sequence[Node] | str
#: A file to upload: a path, or a :class:`~dagkit.wire.multipart.FileSpec` for a name or type of
#: its own.
FileArg: TypeAlias = str | os.PathLike[str] | FileSpec
Progress: TypeAlias = Callable[[int, int], None]

_T = TypeVar("_T")


# ------------------------------------------------------------------------------ results
# The answers (JobInfo, JobDetails, Template, ...) are dagkit.wire.answers', shared with the
# embedded server; re-exported here, where a client's user looks for them.


@dataclass
class Outputs:
    """What :meth:`JobsClient.save_outputs` did with each input file of a finished job, by
    its index in the list it was given: the path of its saved output, or why there is none
    (the platform's reason when it gave one). ``reasons`` holds every failed file the
    platform listed, by document name (empty when no file was missing)."""

    saved: dict[int, Path]
    failed: dict[int, str]
    reasons: dict[str, str]


#: A missing output whose file the platform does not list as failed.
NO_OUTPUT = "the server produced no output for it"


# ------------------------------------------------------------------------------ file names


_UNSAFE_NAME_CHARS = frozenset('<>:"|?*')
#: UTF-8 bytes of a name: file systems take 255, and ".json" or "-<n>" may still be added.
_MAX_NAME_BYTES = 200


def safe_filename(name: str | None, fallback: str) -> str:
    """A name that stays inside its directory: the last path component of ``name`` with control
    and reserved characters removed and no leading dots, else ``fallback``. A long name is cut
    to 200 bytes of UTF-8, keeping a short extension."""
    text = (name or "").replace("\\", "/").rpartition("/")[2]
    text = "".join(c for c in text if c.isprintable() and c not in _UNSAFE_NAME_CHARS)
    text = text.lstrip(". ").strip()  # ". ." is no name either
    if not text:
        return fallback
    if len(text.encode()) > _MAX_NAME_BYTES:
        _, dot, ext = text.rpartition(".")
        keep = f".{ext}" if dot and len(ext) < 16 else ""
        room = _MAX_NAME_BYTES - len(keep.encode())
        # the stem alone is longer than the room; a character split in two is dropped whole
        text = text.encode()[:room].decode(errors="ignore") + keep
    return text


def _disposition_filename(value: str | None) -> str | None:
    """The filename of a Content-Disposition header (RFC 6266, ``filename*`` included)."""
    if not value:
        return None
    from email.message import Message

    message = Message()
    message["content-disposition"] = value
    try:
        return message.get_filename()
    except (ValueError, LookupError):
        return None


#: A platform file id: the uploaded name's stem, a dash, 8 hex digits, the extension
#: (``250713305v1.pdf`` -> ``250713305v1-d88db765.pdf``).
_FILE_ID = re.compile(r"(?P<stem>.+)-[0-9a-fA-F]{8}(?P<ext>\.[^.]*)?")


def match_input_files(file_ids: Sequence[str], names: Sequence[str]) -> list[int | None]:
    """For each file id of a job, the index in ``names`` (the uploaded file names, in upload
    order) of the file it was made from, or None.

    A platform file id carries the uploaded name, so ids are matched to names by it, whatever
    order the server lists them in; two uploads of one name take its ids in order. Only when
    no id carries any of the names (a server whose ids are opaque) and there are as many ids
    as names does the upload order decide.
    """
    free: dict[str | None, list[int]] = {}  # None: an id that carries no name finds nothing
    for index, name in enumerate(names):
        free.setdefault(name, []).append(index)
    out: list[int | None] = []
    for file_id in file_ids:
        candidates = free.get(_carried(file_id))
        out.append(candidates.pop(0) if candidates else None)
    if all(i is None for i in out) and len(file_ids) == len(names):
        return list(range(len(names)))
    return out


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``<stem>-<n>.<ext>`` with the smallest ``n`` >= 2 that no earlier name of
    the same call has. Names are compared as case-insensitive, normalization-insensitive file
    systems (macOS, Windows) compare them, so two outputs never land in one file anywhere."""
    candidate, n = name, 1
    stem, _, ext = name.rpartition(".")  # no stem: no dot, or only a leading one
    while _name_key(candidate) in taken:
        n += 1
        candidate = f"{stem}-{n}.{ext}" if stem else f"{name}-{n}"
    taken.add(_name_key(candidate))
    return candidate


def _name_key(name: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _path_segment(value: str, what: str) -> str:
    """``value`` percent-encoded as one URL path segment (an id can never add a path level)."""
    if not isinstance(value, str) or value in ("", ".", ".."):
        raise DagkitValueError(f"{what} must be a non-empty string, not {value!r}")
    return "".join(c if c in _UNRESERVED else "".join(f"%{b:02X}" for b in _utf8(c)) for c in value)


def _utf8(char: str) -> bytes:
    """A character's UTF-8 bytes; a lone surrogate (an undecodable byte of the command line, or
    an odd id in an answer) is still sent, as the byte it stands for, for the server to judge."""
    try:
        return char.encode("utf-8")
    except UnicodeEncodeError:
        escaped = "\udc80" <= char <= "\udcff"
        return char.encode("utf-8", "surrogateescape" if escaped else "surrogatepass")


# ------------------------------------------------------------------------------ the client


class JobsClient:
    """The jobs and templates operations of the Unstructured API.

    The URL and key come from ``UNSTRUCTURED_API_URL`` and ``UNSTRUCTURED_API_KEY`` unless given
    (or pass a ready :class:`~dagkit.http.transport.Transport`). ``validate`` checks requests before
    they are sent and answers when they arrive; ``max_file_size`` is the per-file limit those
    checks apply (10 MB as documented; some accounts have 50 MB). ``sleep`` and ``clock`` are
    used for polling, for spacing launches a second apart, and by the transport's retries;
    tests inject them.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        api_key: str | None = None,
        transport: Transport | None = None,
        timeout: float | tuple[float, float] | None = None,
        ca_bundle: str | os.PathLike[str] | None = None,
        validate: bool = True,
        retry: RetryPolicy | None = None,
        allow_insecure_key: bool = False,
        max_file_size: int = limits.MAX_FILE_SIZE,
        min_launch_interval: float = limits.MIN_LAUNCH_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        options: dict[str, Any] = {
            "base_url": url,
            "api_key": api_key,
            "timeout": timeout,
            "ca_bundle": ca_bundle,
            "retry": retry,
        }
        if transport is None:
            given = {k: v for k, v in options.items() if v is not None}
            transport = Transport.from_env(
                **given, allow_insecure_key=allow_insecure_key, sleep=sleep, clock=clock
            )
        elif any(v is not None for v in options.values()):
            raise DagkitValueError("give either a transport or its options (url, api_key, ...)")
        self.transport = transport
        self.validate = validate
        self.max_file_size = max_file_size
        #: Seconds this client leaves between two launches (the API asks for one).
        self.min_launch_interval = min_launch_interval
        self._sleep = sleep
        self._clock = clock
        self._last_launch: float | None = None
        # job id -> the names of the files uploaded with it, to name downloads after them
        self._uploaded: dict[str, list[str]] = {}
        # job id -> the input_file_ids of the create answer
        self._input_ids: dict[str, list[str]] = {}
        # the answer departures already logged: each is logged once, not at every poll
        self._departures: set[tuple[str, str, DocPath]] = set()
        #: The server's time as its answers tell it (their Date headers), for comparing with
        #: the times in its answers without trusting this machine's clock.
        self.server_clock = ServerClock(clock)
        self._swept: set[Path] = set()  # directories cleared of stale part files

    def __repr__(self) -> str:
        return f"JobsClient(transport={self.transport!r}, validate={self.validate!r})"

    def close(self) -> None:
        """Close the connections kept for reuse (the client stays usable: a next request opens a
        new one). Leaving a ``with JobsClient(...) as client:`` block does it."""
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ creating jobs

    def check(
        self,
        job: JobSource | None = None,
        files: Sequence[FileArg] = (),
        *,
        template_id: str | None = None,
    ) -> list[Finding]:
        """Every finding about the request(s) that :meth:`create_jobs` would send, warnings
        included; nothing is sent. A DAG that cannot be planned gives its graph findings."""
        texts, dag_findings = self._plan(job, template_id, check=True)
        if has_errors(dag_findings):
            return dag_findings
        specs = _specs(files)
        lines = job.lines if isinstance(job, JobLines) else (1,) * len(texts)
        return [
            _below(f, line - 1)
            for text, line in zip(texts, lines, strict=True)
            for f in self._body_findings(text, specs)
        ]

    def create_job(
        self,
        job: JobSource | None = None,
        files: Sequence[FileArg] = (),
        *,
        template_id: str | None = None,
        progress: Progress | None = None,
    ) -> JobInfo:
        """Create one job from a DAG, request_data text or ``template_id``, uploading ``files``.

        With ``validate`` on, the request is checked first and :class:`ValidationFailed`
        (carrying the findings) is raised instead of sending an invalid one. A DAG that plans
        into several jobs is refused: :meth:`create_jobs` sends those. ``progress(sent, total)``
        is called as the upload goes out.
        """
        texts = self._texts(job, template_id)
        if len(texts) != 1:
            raise DagError(
                f"this DAG plans into {len(texts)} jobs (one per branch) and create_job() sends "
                "one; use create_jobs() to create them all"
            )
        specs = _specs(files)
        self._require_valid(texts[0], specs)
        return self._create(texts[0], specs, progress)

    def create_jobs(
        self,
        job: JobSource | None = None,
        files: Sequence[FileArg] = (),
        *,
        template_id: str | None = None,
        progress: Progress | None = None,
        on_created: Callable[[JobInfo], None] | None = None,
    ) -> list[JobInfo]:
        """One job per job the DAG plans into, each with all ``files``, in plan order.

        Every request is checked before the first is sent; ``on_created`` hears of each job as
        soon as it exists. If creating one fails, the error carries a note naming the jobs
        already created; Ctrl-C raises :class:`JobsInterrupted` naming them.
        """
        texts = self._texts(job, template_id)
        specs = _specs(files)
        for text in texts:
            self._require_valid(text, specs)
        created: list[JobInfo] = []
        for text in texts:
            try:
                created.append(self._create(text, specs, progress))
                if on_created is not None:
                    on_created(created[-1])
            except KeyboardInterrupt as exc:
                inside = exc if isinstance(exc, JobsInterrupted) else None  # one more may exist
                if not created and inside is None:
                    raise  # before the first request: nothing was sent
                since = inside.since if inside is not None else None
                raise JobsInterrupted(
                    created, sending=inside is not None, planned=len(texts), since=since
                ) from None
            except DagkitError as exc:
                if created:
                    ids = ", ".join(j.id for j in created)
                    exc.add_note(f"jobs already created by this submission: {ids}")
                raise
        return created

    def dry_run(
        self,
        job: JobSource | None = None,
        files: Sequence[FileArg] = (),
        *,
        template_id: str | None = None,
    ) -> str:
        """The exact request(s) that would be sent, and an equivalent curl command; sends nothing.

        Shows the method, URL, headers (the key as ``***``), each multipart part with its
        headers, request_data in full, and each file as its size and SHA-256.
        """
        texts = self._texts(job, template_id)
        specs = _specs(files)
        sections = []
        for n, text in enumerate(texts, 1):
            self._require_valid(text, specs)
            encoder = _encoder(text, specs, None)
            request = self._create_request(encoder)
            lines = [f"# job {n} of {len(texts)}"] if len(texts) > 1 else []
            lines += [self.transport.describe(request), ""]
            for part in encoder.describe():
                lines.append(f"--{encoder.boundary}")
                disposition = f"form-data; name={quote_param(part.name)}"
                if part.filename is not None:
                    disposition += f"; filename={quote_param(part.filename)}"
                lines.append(f"Content-Disposition: {disposition}")
                if part.content_type is not None:
                    lines.append(f"Content-Type: {part.content_type}")
                lines.append("")
                if part.filename is None:
                    lines.append(text)
                else:
                    lines.append(f"<{part.size} bytes, sha256 {part.sha256}>")
            lines.append(f"--{encoder.boundary}--")
            lines.append("")
            lines.append("# the same request with curl (the boundary differs on every send):")
            form_files = [_form_file(spec) for spec in specs]
            lines.append(
                self.transport.curl_command(
                    request, fields=[("request_data", text)], files=form_files
                )
            )
            sections.append("\n".join(lines))
        return "\n\n".join(sections) + "\n"

    def _texts(self, job: JobSource | None, template_id: str | None) -> list[str]:
        texts, findings = self._plan(job, template_id, check=self.validate)
        if has_errors(findings):
            raise ValidationFailed(_summary("the DAG", findings), findings)
        return texts

    def _plan(
        self, job: JobSource | None, template_id: str | None, *, check: bool
    ) -> tuple[list[str], list[Finding]]:
        """The request_data texts to send and, for a DAG with errors, its graph findings."""
        if template_id is not None:
            if job is not None:
                raise _exactly_one("got both a job and a template id")
            return [to_request_data(TemplateJob(template_id))], []
        if job is None:
            raise _exactly_one("got neither a job nor a template id")
        if isinstance(job, str):
            return [job], []
        if isinstance(job, JobLines):  # each line sent as written
            return list(job.texts), []
        if isinstance(job, TemplateJob):
            return [to_request_data(job)], []
        dag = as_dag(job)
        if check:
            findings = dag.check()
            if has_errors(findings):
                return [], findings
        return plan_request_data(dag), []

    def _body_findings(self, text: str | None, specs: Sequence[FileSpec]) -> list[Finding]:
        """What the server's own validator would say about this body (it is the same one).

        ``text=None`` is a body of files only (a workflow run): no request_data is expected.
        """
        # The encoder's framing is proven by property tests against the parser, so the parts
        # are checked from its outline: the files are read once, when they are sent.
        encoder = _encoder(text, specs, None)
        checker = BodyChecker(encoder.content_type, max_file_size=self.max_file_size)
        checker.feed_events(encoder.outline())
        findings = checker.finish()
        return findings if text is not None else [f for f in findings if f.code != "DK406"]

    def _require_valid(self, text: str, specs: Sequence[FileSpec]) -> None:
        if not self.validate:
            return
        findings = self._body_findings(text, specs)
        if has_errors(findings):
            raise ValidationFailed(_summary("the request", findings), findings)
        for f in findings:
            logger.warning("%s", f)

    def _create_request(self, encoder: MultipartEncoder) -> Request:
        return Request(
            "POST",
            self.transport.url("/jobs/"),
            headers={"Content-Type": encoder.content_type},
            body=encoder,
        )

    def _create(self, text: str, specs: Sequence[FileSpec], progress: Progress | None) -> JobInfo:
        encoder = _encoder(text, specs, progress)
        return self._launch(self._create_request(encoder), "create_job", specs, text)

    def _launch(
        self,
        request: Request,
        operation: str,
        specs: Sequence[FileSpec],
        request_data: str | None = None,
    ) -> JobInfo:
        """Send a request that starts a job (create-job, or a workflow run) a launch interval
        after the last one. It is a POST: the transport never sends it twice (see the README)."""
        self._space_launch()
        started = datetime.now(UTC)
        try:
            response = self.transport.send(request)
        except KeyboardInterrupt:
            raise JobsInterrupted(sending=True, since=started) from None
        except APIError as exc:
            if exc.status == 422:
                exc.findings = rejection_findings({"detail": exc.detail}, request_data)
            _note_launch_failure(exc)
            raise
        except TransportError as exc:
            _note_launch_failure(exc)
            raise
        finally:
            self._last_launch = self._clock()
        try:
            info = self._result(response, operation, JobInfo.from_dict)
        except ResponseError as exc:
            # The server accepted the request: a job may well exist even though its answer
            # cannot be read. Sending again (say with validation off) could make a second one.
            raise AmbiguousRequestError(
                f"POST {response.url} answered {response.status}, but the answer is not a job "
                f"dagkit can read ({_reason(exc)}).",
                reached_server=True,
                advice=[ambiguous_advice(started)],
            ) from exc
        self._uploaded[info.id] = [_spec_name(spec) for spec in specs]
        if info.input_file_ids is not None:  # get-job may not list them again
            self._input_ids[info.id] = info.input_file_ids
        return info

    def _space_launch(self) -> None:
        """Leave the documented second between two launches from this client."""
        if self._last_launch is None:
            return
        gap = self.min_launch_interval - (self._clock() - self._last_launch)
        if gap > 0:
            self._sleep(gap)

    # ------------------------------------------------------------------ following jobs

    def get_job(self, job: JobInfo | str) -> JobInfo:
        return self._get(f"/jobs/{_job_segment(job)}", "get_job", JobInfo.from_dict)

    def wait(
        self,
        job: JobInfo | str,
        *,
        timeout: float | None = None,
        poll_initial: float = 1.0,
        poll_max: float = 15.0,
        on_update: Callable[[JobInfo], None] | None = None,
    ) -> JobInfo:
        """Poll until the job is no longer SCHEDULED or IN_PROGRESS and return its last state.

        The pause between polls starts at ``poll_initial`` seconds and grows by half each time, up
        to ``poll_max``. ``on_update`` is called with the first state and each change of status.
        After ``timeout`` seconds :class:`JobWaitTimeout` is raised with the last state seen;
        Ctrl-C raises :class:`JobsInterrupted` with it (the job keeps running on the server).
        """
        job_id = _job_id(job)
        deadline = None if timeout is None else self._clock() + timeout
        polls = Backoff(poll_initial, poll_max, factor=1.5)
        pause = max(poll_initial, 0.0)
        info = job if isinstance(job, JobInfo) else JobInfo(job_id)
        last_status: str | None = None
        try:
            while True:
                info = self.get_job(job_id)
                if on_update is not None and info.status != last_status:
                    on_update(info)
                last_status = info.status
                if info.is_terminal:
                    return info
                if deadline is not None:
                    remaining = deadline - self._clock()
                    if remaining <= 0:
                        raise JobWaitTimeout(
                            f"job {job_id} is still {info.status} after {timeout:g} s.",
                            info,
                            advice=[Advice.of(AdviceKind.FOLLOW_JOB, job_id=job_id)],
                        )
                    self._sleep(min(pause, remaining))
                else:
                    self._sleep(pause)
                pause = polls.grow(pause)
        except KeyboardInterrupt:
            raise JobsInterrupted([info], sending=False) from None

    def job_details(self, job: JobInfo | str) -> JobDetails:
        return self._get(
            f"/jobs/{_job_segment(job)}/details", "get_job_details", JobDetails.from_dict
        )

    def failed_files(self, job: JobInfo | str) -> list[FailedFile]:
        return self._get(
            f"/jobs/{_job_segment(job)}/failed-files", "get_job_failed_files", read_failed_files
        )

    def cancel_job(self, job: JobInfo | str) -> dict[str, Any]:
        """Ask the server to stop the job; returns its answer (the spec does not type it)."""
        request = Request(
            "POST", self.transport.url(f"/jobs/{_job_segment(job)}/cancel"), idempotent=True
        )
        response = self.transport.send(request)

        def parse(data: Any) -> dict[str, Any]:
            return data if isinstance(data, dict) else {"answer": data}

        if not response.body.strip():
            return {}
        return self._result(response, "cancel_job", parse)

    def list_jobs(
        self, *, workflow_id: str | None = None, status: JobStatus | str | None = None
    ) -> list[JobInfo]:
        params = {
            "workflow_id": workflow_id,
            "status": None if status is None else str(status).upper(),
        }
        return self._get(
            "/jobs/",
            "list_jobs",
            lambda data: [JobInfo.from_dict(d) for d in read_list(data, "jobs")],
            params,
        )

    # ------------------------------------------------------------------ outputs

    def download_output(
        self,
        job: JobInfo | str,
        file_id: str,
        node_id: str | None = None,
        *,
        dest: str | os.PathLike[str],
    ) -> Path:
        """Save one output to ``dest`` and return its path.

        ``dest`` is a directory (existing, or written with a trailing slash), where the file is
        named by the server's Content-Disposition if any (reduced to a plain name that cannot
        leave the directory), else ``<file_id>.json``; or a file path. Without ``node_id`` the
        last node's output is fetched. The body streams to a temporary file in the same
        directory that replaces the target only once complete: an interrupted download leaves
        no file behind. No output (a failed file, an unknown id) is the server's 404,
        :class:`~dagkit.errors.NotFoundError`; :meth:`download_one` tells the two apart.
        """
        target = Path(dest)
        if target.is_dir() or not os.path.basename(dest):  # a trailing separator: a folder
            return self._download(_job_id(job), file_id, node_id, target, None)
        return self._download(_job_id(job), file_id, node_id, target.parent, target.name)

    def download_one(
        self,
        job: JobInfo | str,
        file_id: str,
        node_id: str | None = None,
        *,
        dest: str | os.PathLike[str],
    ) -> Path:
        """:meth:`download_output` for an output someone asked for by id, which tells a file
        the platform failed from an id the job does not have: both are a 404, and only the
        job's failed-files list tells them apart. A failed file raises
        :class:`~dagkit.errors.OutputsFailed` with the platform's reason (as
        :meth:`download_all` reports failed files); any other 404 is raised as it came."""
        try:
            return self.download_output(job, file_id, node_id, dest=dest)
        except NotFoundError:
            job_id = _job_id(job)
            document = self._input_name(job_id, file_id)
            try:
                reason = self.failure_reasons(job).get(document)
            except DagkitError:
                reason = None  # the 404 of the download says more than this one
            if reason is None:
                raise
            raise OutputsFailed(
                f"job {job_id}: file {document} failed, so it has no output: {reason}",
                saved=[],
                failed=[FailedFile(document, reason)],
            ) from None

    def failure_reasons(self, job: JobInfo | str) -> dict[str, str]:
        """The platform's reason for each input file of ``job`` that failed, by file name (as
        its failed-files list names them)."""
        return {f.document: f.error or "failed" for f in self.failed_files(job) if f.document}

    def _input_name(self, job_id: str, file_id: str) -> str:
        """The name ``file_id`` was uploaded as: from this client's upload when it made the
        job, else the name the id carries."""
        uploaded, ids = self._uploaded.get(job_id), self._input_ids.get(job_id)
        if uploaded and ids and file_id in ids:
            index = match_input_files(ids, uploaded)[ids.index(file_id)]
            if index is not None:
                return uploaded[index]
        return _carried_name(file_id)

    def save_outputs(
        self,
        job: JobInfo,
        file_ids: Sequence[str | None],
        names: Sequence[str],
        save: Callable[[int, str], Path],
    ) -> Outputs:
        """Save the output of each input file of a finished ``job`` that has one, and say why
        the others have none.

        ``file_ids[i]`` is the platform's id of the file uploaded as ``names[i]`` (None: the
        job has no id for it); ``save(i, file_id)`` downloads its output and returns the path.
        A file whose output is not found does not stop the others: once all are tried, the
        job's failed-files list gives the reasons. (``output_node_files`` cannot tell: the
        platform lists every input there from the create answer on.)
        """
        saved: dict[int, Path] = {}
        missing: list[int] = []
        for index, file_id in enumerate(file_ids):
            if file_id is None:
                missing.append(index)
                continue
            try:
                saved[index] = save(index, file_id)
            except NotFoundError:  # the platform answers 404 for a file that failed
                missing.append(index)
        reasons = self.failure_reasons(job) if missing else {}
        failed = {i: reasons.get(names[i]) or NO_OUTPUT for i in missing}
        return Outputs(saved, failed, reasons)

    def download_all(self, job: JobInfo | str, dest_dir: str | os.PathLike[str]) -> list[Path]:
        """Download the final output of every input file of ``job`` into ``dest_dir``.

        Files are named after the uploaded file (``report.pdf`` -> ``report.pdf.json``) when this
        client uploaded it, matched by the file id, which carries the uploaded name
        (:func:`match_input_files`); else as :meth:`download_output` names them. The ids come
        from ``job``, else from the create answer this client got, else from get-job. Two
        inputs of one name (compared ignoring case and Unicode normalization) give two files,
        in upload order: ``report.pdf.json``, then ``report.pdf-2.json``, ``report.pdf-3.json``.
        The same job downloaded again gets the same names (and replaces the files).

        Input files without an output (the platform failed them) do not stop the others: every
        output there is gets saved, then :class:`~dagkit.errors.OutputsFailed` says which files
        failed and why, and carries the saved paths.
        """
        job_id = _job_id(job)
        info = job if isinstance(job, JobInfo) else None
        file_ids = None if info is None else info.input_file_ids
        if file_ids is None:
            file_ids = self._input_ids.get(job_id)
        if file_ids is None or info is None:
            info = _with_ids(self.get_job(job_id), file_ids)
            file_ids = info.input_file_ids
        if file_ids is None:
            raise ResponseError(
                f"the server lists no input_file_ids for job {job_id}, so there is nothing to "
                "download by; download one output with its file id instead"
            )
        uploaded = self._uploaded.get(job_id, [])
        uploads = match_input_files(file_ids, uploaded)
        names = [
            _carried_name(file_id) if (upload := uploads[i]) is None else uploaded[upload]
            for i, file_id in enumerate(file_ids)
        ]
        taken: set[str] = set()

        def save(index: int, file_id: str) -> Path:
            upload = uploads[index]
            name = None if upload is None else safe_filename(uploaded[upload], file_id) + ".json"
            return self._download(job_id, file_id, None, Path(dest_dir), name, taken)

        outputs = self.save_outputs(info, file_ids, names, save)
        paths = [outputs.saved[i] for i in sorted(outputs.saved)]
        if outputs.failed:
            failed = [FailedFile(names[i], outputs.failed[i]) for i in sorted(outputs.failed)]
            raise OutputsFailed(
                f"job {job_id}: {len(failed)} of {len(file_ids)} file(s) failed: "
                + ", ".join(names[i] for i in sorted(outputs.failed))
                + f"; {len(paths)} output(s) saved",
                saved=paths,
                failed=failed,
            )
        return paths

    def download_into(
        self,
        job: JobInfo | str,
        file_id: str,
        sink: BinaryIO,
        node_id: str | None = None,
    ) -> Response:
        """Write one output into ``sink``, an open binary file, and return the answer (its
        body left empty). For a caller that puts the file in place itself, as
        :meth:`download_output` does: a file the caller shows under its final name only once
        this returns holds the output whole. Errors as :meth:`download_output`'s."""
        request = Request(
            "GET",
            self.transport.url(
                f"/jobs/{_job_segment(job)}/download",
                {"file_id": file_id, "node_id": node_id},
            ),
        )
        return self.transport.stream(request, sink)

    def _download(
        self,
        job_id: str,
        file_id: str,
        node_id: str | None,
        directory: Path,
        name: str | None,
        taken: set[str] | None = None,
    ) -> Path:
        _job_segment(job_id)  # a bad id is refused before any file is made
        if directory not in self._swept:  # once per directory: what a killed download left
            self._swept.add(directory)
            partfiles.remove_stale(directory)
        with partfiles.create(directory) as pending:
            response = self.download_into(job_id, file_id, pending.file, node_id)
            if name is None:
                fallback = f"{file_id}.{node_id}.json" if node_id else f"{file_id}.json"
                served = _disposition_filename(response.headers.get("content-disposition"))
                name = safe_filename(served, safe_filename(fallback, "output.json"))
            if taken is not None:
                name = _unique(name, taken)
            if not _plain_name(name):
                raise DagkitValueError(
                    f"refusing to write the download outside {directory}: {name!r}"
                )
            return partfiles.put_in_place(pending, directory / name)

    # ------------------------------------------------------------------ templates

    def list_templates(self) -> list[Template]:
        return self._get(
            "/templates/",
            "list_templates",
            lambda data: [Template.from_dict(d) for d in read_list(data, "templates")],
        )

    def get_template(self, template_id: str) -> TemplateDetail:
        segment = _path_segment(template_id, "the template id")
        return self._get(f"/templates/{segment}", "get_template", TemplateDetail.from_dict)

    # ------------------------------------------------------------------ answers

    def _get(
        self,
        path: str,
        operation: str,
        parse: Callable[[Any], _T],
        params: Mapping[str, object | None] | None = None,
    ) -> _T:
        response = self.transport.send(Request("GET", self.transport.url(path, params)))
        return self._result(response, operation, parse)

    def _result(self, response: Response, operation: str, parse: Callable[[Any], _T]) -> _T:
        """Check an answer against the spec (if validating), then parse it leniently."""
        self.server_clock.observe_date(response.headers.get("date"))
        if self.validate:
            findings = validate_response(response.body, operation=operation, status=response.status)
            # A status the spec does not describe for a successful answer is reported, not fatal.
            errors = [f for f in findings if f.is_error and f.code != "DK503"]
            if errors:
                raise ResponseError(
                    f"the answer to {operation} from {response.url} cannot be used: "
                    f"{errors[0].message} (at {errors[0].pointer or 'the top level'})"
                    + (f" and {len(errors) - 1} more problem(s)" if len(errors) > 1 else ""),
                    findings,
                )
            for f in findings:
                self._log_departure(operation, f)
        return parse(response.json())

    def _log_departure(self, operation: str, f: Finding) -> None:
        """Log a departure the first time this client meets it (per operation, code and field,
        whichever item of a list it is in)."""
        key = (operation, f.code, tuple("*" if isinstance(t, int) else t for t in f.path))
        if key not in self._departures:
            self._departures.add(key)
            logger.warning("%s answer: %s %s", operation, f.code, f.message)


# ------------------------------------------------------------------------------ helpers


def _specs(files: Sequence[FileArg]) -> list[FileSpec]:
    if isinstance(files, str | bytes | os.PathLike):
        raise DagkitValueError("files must be a list of paths, not a single path")
    return [f if isinstance(f, FileSpec) else FileSpec(os.fspath(f)) for f in files]


def _spec_name(spec: FileSpec) -> str:
    if spec.filename is not None:
        return spec.filename
    if isinstance(spec.source, bytes):
        return "file"
    return os.path.basename(os.fspath(spec.source))


def _form_file(spec: FileSpec) -> FormFile:
    name = _spec_name(spec)
    path = name if isinstance(spec.source, bytes) else os.fspath(spec.source)
    content_type = spec.content_type or limits.guess_content_type(name)
    return FormFile(path, content_type, spec.filename, spec.field)


def _encoder(
    text: str | None, specs: Sequence[FileSpec], progress: Progress | None
) -> MultipartEncoder:
    fields = [] if text is None else [("request_data", text)]
    return MultipartEncoder(fields, specs, progress=progress)


def _with_ids(info: JobInfo, file_ids: Sequence[str] | None) -> JobInfo:
    """``info``, with the input file ids this client knows when the server listed none."""
    if info.input_file_ids is not None or file_ids is None:
        return info
    return dataclasses.replace(info, input_file_ids=list(file_ids))


def _below(f: Finding, lines: int) -> Finding:
    """A request_data finding moved ``lines`` down: its text starts on a later line of a file
    (a line of JSON Lines)."""
    if not lines or f.part != REQUEST_DATA_PART or f.line is None:
        return f
    return f.replace(line=f.line + lines)


def _carried(file_id: str) -> str | None:
    """The uploaded name a platform file id carries (``a-d88db765.pdf`` -> ``a.pdf``), or None."""
    match = _FILE_ID.fullmatch(file_id)
    return match["stem"] + (match["ext"] or "") if match else None


def _carried_name(file_id: str) -> str:
    """The uploaded name a platform file id carries, else the id itself: how the failed-files
    list names the file."""
    return _carried(file_id) or file_id


def _job_id(job: JobInfo | str) -> str:
    return job.id if isinstance(job, JobInfo) else job


def _job_segment(job: JobInfo | str) -> str:
    return _path_segment(_job_id(job), "the job id")


def _exactly_one(what: str) -> ValidationFailed:
    message = f"a job needs exactly one of a DAG (or request_data) and a template id; {what}"
    return ValidationFailed(message, [finding("DK207", message)])


def _summary(what: str, findings: Sequence[Finding]) -> str:
    errors = [f for f in findings if f.is_error]
    first = errors[0]
    more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
    return f"{what} is not valid, nothing was sent: {first.code} {first.message}{more}"


def _note_launch_failure(exc: DagkitError) -> None:
    """Say on a failed create-job (or workflow run) whether a job can exist: the one thing
    to know before sending it again."""
    if isinstance(exc, AmbiguousRequestError):
        return  # its message already says the job may exist and how to check
    if isinstance(exc, TransportError):
        if exc.reached_server:
            exc.advice = (*exc.advice, Advice.of(AdviceKind.JOB_MAY_EXIST))
        else:
            exc.add_note("nothing reached the server: no job was created")
    elif isinstance(exc, APIError) and exc.status < 500:
        exc.add_note("the server refused the request: no job was created")


def _reason(exc: ResponseError) -> str:
    """Why an answer could not be read, without advice that does not fit a create."""
    errors = [f for f in exc.findings if f.is_error]
    if errors:
        first = errors[0]
        return f"{first.message} at {first.pointer or 'the top level'}"
    return str(exc)


def _plain_name(name: str) -> bool:
    """A name that stays inside its directory. Names come from :func:`safe_filename` or
    ``Path.name``, which never hold this system's separators: what is left is ``..``, a
    backslash (a separator on Windows) and NUL (no system takes it)."""
    return name != ".." and "\\" not in name and "\0" not in name
