"""The HTTP side of the local jobs API: routing, authentication, limits and the operations.

Requests are checked with the validators the client and ``dagkit validate`` use, and errors
have the platform's status codes and body shapes: FastAPI's 422 ``{"detail": [{"type", "loc",
"msg", "input"}]}`` for a bad request (a body that is not multipart has no request_data),
401/404 ``{"detail": "<message>"}``, 405, and 429 with ``Retry-After``.

A create-job body is read once from the socket, in blocks (see :mod:`dagkit.server.upload`);
its files go straight to where the new job keeps them, and a rejected request leaves nothing.
"""

from __future__ import annotations

import contextlib
import hmac
import http.client
import io
import json
import re
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from dagkit.core import jsontext, limits
from dagkit.findings import ACCEPTED_AT_CREATE, Finding
from dagkit.model.nodes import Node, node_from_dict
from dagkit.schemas import store as schemas
from dagkit.server import views
from dagkit.server.connections import DeadlineReader
from dagkit.server.engine import ClockSpec, Engine
from dagkit.server.faults import Fault, Faults
from dagkit.server.ids import new_uuid
from dagkit.server.replies import (
    UUID,
    Reply,
    bad_uuid,
    detail,
    disk_full,
    invalid,
    retry_after,
)
from dagkit.server.store import Job, Store, StoredFile, is_disk_full
from dagkit.server.templates import TEMPLATES
from dagkit.server.upload import (
    MISSING_REQUEST_DATA,
    StagedFile,
    Upload,
    error_item,
    prepare,
    receive_form,
    rejection,
)
from dagkit.server.workflows import WorkflowsAPI
from dagkit.wire.http1 import FramingError, coalesce, dechunk
from dagkit.wire.multipart import parse_content_type

API_KEY_HEADER = "unstructured-api-key"
MULTIPART = "multipart/form-data"
#: FastAPI reads its form fields from this too: the official SDK sends a job without files so.
URLENCODED = "application/x-www-form-urlencoded"
MISSING_KEY = "API key is missing, please provide an API key in the header."
WRONG_KEY = "API key is not valid."
JOB_STATUSES = ("SCHEDULED", "IN_PROGRESS", "COMPLETED", "STOPPED", "FAILED")
_BLOCK = 1 << 20
#: An answer up to this long goes out with its head in one send.
_ONE_SEND = 64 * 1024
#: Why a body that broke a limit is refused, should the validator not have said.
_OVER_LIMIT = Finding("DK414", "a file is over the size limit, or there are too many files")
#: Every operation the server implements, straight from the packaged OpenAPI document:
#: operationId -> (method, path template).
OPERATIONS: dict[str, tuple[str, str]] = schemas.operation_routes()


@dataclass
class ServerConfig:
    """How the local server behaves. The API key is never shown in a repr."""

    api_key: str | None = field(default=None, repr=False)
    rate_limit: bool = True
    max_running: int = limits.MAX_RUNNING_JOBS
    clock: ClockSpec | str = "realtime"
    max_file_size: int = limits.MAX_FILE_SIZE
    max_files: int = limits.MAX_FILES_PER_JOB
    min_launch_interval: float = limits.MIN_LAUNCH_INTERVAL
    #: Tests only: ``rewrite(operation, body)`` -> the JSON body actually sent for a successful
    #: answer, to play a server whose answers depart from the spec.
    rewrite: Callable[[str, Any], Any] | None = field(default=None, repr=False)
    #: Connections open at once (see :mod:`dagkit.server.connections`).
    max_connections: int = 256
    #: Seconds for a request head to arrive, from the moment the connection is idle.
    header_timeout: float = 10.0
    #: Seconds for a whole request body to arrive, and the longest silence within it.
    body_timeout: float = 300.0
    idle_timeout: float = 30.0


class LaunchLimiter:
    """At least ``interval`` seconds between two accepted create-job requests.

    A request reserves its launch when it arrives; if it is then rejected the reservation is
    given back, so a bad request does not delay the next good one.
    """

    def __init__(self, interval: float, *, enabled: bool = True) -> None:
        self.interval = interval
        self.enabled = enabled
        self._lock = threading.Lock()
        self._last: float | None = None

    def reserve(self) -> tuple[tuple[float | None, float] | None, float]:
        """(a reservation, 0) when a launch may go ahead now, else (None, seconds to wait)."""
        if not self.enabled:
            return None, 0.0
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last < self.interval:
                return None, self.interval - (now - self._last)
            reservation = (self._last, now)
            self._last = now
            return reservation, 0.0

    def release(self, reservation: tuple[float | None, float] | None) -> None:
        """Give a reservation back, unless a later launch has been reserved since."""
        if reservation is None:
            return
        previous, at = reservation
        with self._lock:
            if self._last == at:
                self._last = previous


class JobsAPI:
    """The operations of the jobs API over a :class:`Store` and an :class:`Engine`."""

    def __init__(
        self,
        store: Store,
        engine: Engine,
        config: ServerConfig,
        faults: Faults,
        *,
        stopping: threading.Event,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.engine = engine
        self.config = config
        self.faults = faults
        self.stopping = stopping
        self.log = log
        self.limiter = LaunchLimiter(config.min_launch_interval, enabled=config.rate_limit)
        prepare()
        self._counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()
        self._jobs_created = 0
        #: The workflow operations (their own module), dispatched to by operationId too.
        self.workflows = WorkflowsAPI(self)

    # -- bookkeeping for tests

    def count(self, operation: str | None = None) -> int:
        """How many requests reached an operation (or any operation)."""
        with self._counts_lock:
            return self._counts[operation] if operation else sum(self._counts.values())

    def _seen(self, operation: str) -> None:
        with self._counts_lock:
            self._counts[operation] += 1

    @property
    def jobs_created(self) -> int:
        with self._counts_lock:
            return self._jobs_created

    def job_created(self, job_id: str) -> bool:
        """Count a new (stored) job and let the engine start it; whether the engine may have
        changed it already. The job exists whatever the engine meets (a full disk): it is
        answered as it stands, and the clock tries again."""
        with self._counts_lock:
            self._jobs_created += 1
        try:
            return self.engine.job_created()
        except Exception as exc:
            print(f"dagkit serve: job {job_id} could not run yet: {exc}", file=sys.stderr)
            return True

    # -- the entry point

    def handle(self, request: Handler) -> None:
        split = request.path.split("?", 1)
        path = split[0]
        query = parse_query(split[1]) if len(split) > 1 else {}
        operation, params = route(request.command, path)
        if operation is None:
            allowed = allowed_methods(path)
            if allowed:
                raise detail(405, "Method Not Allowed", {"Allow": ", ".join(allowed)})
            raise detail(404, "Not Found")
        self._seen(operation)
        request.operation = operation
        fault = self.faults.take(operation)
        if fault is not None:
            self._fault(request, fault)
        self._authenticate(request)
        handler = getattr(self, operation, None) or getattr(self.workflows, operation)
        handler(request, params, query)

    def _fault(self, request: Handler, fault: Fault) -> None:
        if fault.kind == "stall":
            self.stopping.wait(fault.stall)
            return
        if fault.kind == "drop":
            raise DropConnection()
        if fault.kind == "429":
            wait = fault.retry_after if fault.retry_after is not None else 1.0
            raise detail(
                429, "Too many requests (a fault injected for testing).", retry_after(wait)
            )
        if fault.kind == "503":
            headers = retry_after(fault.retry_after) if fault.retry_after is not None else {}
            raise detail(503, "Service unavailable (a fault injected for testing).", headers)
        raise detail(500, "Internal server error")

    def _authenticate(self, request: Handler) -> None:
        key = request.headers.get(API_KEY_HEADER)
        if not key:
            raise detail(401, MISSING_KEY)
        expected = self.config.api_key
        if expected is not None and not hmac.compare_digest(
            key.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
        ):
            raise detail(401, WRONG_KEY)

    # -- jobs

    def create_job(self, request: Handler, params: dict[str, str], query: dict[str, str]) -> None:
        content_type = request.headers.get("Content-Type", "")
        mime, _ = parse_content_type(content_type)
        if mime not in (MULTIPART, URLENCODED) or request.body_is_empty():
            # FastAPI reads no form from such a body: request_data is missing (never a 415,
            # which the spec does not declare)
            raise invalid(MISSING_REQUEST_DATA)
        reservation, wait = self.limiter.reserve()
        if wait > 0:
            message = (
                f"Rate limit exceeded: leave at least {self.config.min_launch_interval:g} s "
                "between job launches."
            )
            raise detail(429, message, retry_after(wait))
        try:
            job = self._receive_job(request, content_type, mime)
        except BaseException as exc:
            self.limiter.release(reservation)
            if is_disk_full(exc):  # nothing was kept: say so, and when to try again
                raise disk_full() from None
            raise
        if self.job_created(job.id):
            # The clock has moved the job on (instant clock): answer with its state now.
            job = self.store.get(job.id) or job
        request.reply(200, views.job_information(job))

    def _receive_job(self, request: Handler, content_type: str, mime: str) -> Job:
        # The files go straight to where the new job keeps them (named by fresh file ids); if
        # the request is rejected, they go and no job row is ever written.
        job_id = new_uuid()
        inputs = self.store.new_inputs(job_id)
        try:
            staged: list[StagedFile] = []
            if mime == URLENCODED:
                # a form without files, as the official SDK sends a job without files
                request_data, findings = receive_form(request.body_blocks())
                errors = _errors(findings)
            else:
                upload = Upload(
                    inputs.path,
                    content_type,
                    max_file_size=self.config.max_file_size,
                    max_files=self.config.max_files,
                )
                findings = upload.receive(request.body_blocks())
                if upload.too_many is not None:
                    raise detail(400, upload.too_many)  # as the service's form parser answers
                request_data, staged = upload.request_data, upload.files
                errors = _errors(findings)
                if upload.over_limit and not errors:
                    # a file between the two readings of the size limit: the validator only
                    # warns (DK421), but this server reads the limit in decimal and has
                    # removed the files, so the job cannot be kept
                    errors = [f for f in findings if f.code == "DK421"] or [_OVER_LIMIT]
            if errors:
                raise invalid(*(rejection(f) for f in errors))
            if request_data is None:  # a form without it: FastAPI's answer
                raise invalid(MISSING_REQUEST_DATA)
            nodes = job_nodes(request_data)
            job = Job(
                id=job_id,
                workflow_id=new_uuid(),
                # as the platform names an on-demand job's workflow, template or not
                workflow_name=f"Job {job_id[:8]}",
                job_type="ephemeral",
                status="SCHEDULED",
                created_at=time.time(),
                nodes=tuple(nodes),
                files=tuple(
                    StoredFile(i, f.file_id, f.filename, f.size) for i, f in enumerate(staged)
                ),
            )
            self.store.add_job(job)
        except BaseException:
            inputs.discard()
            raise
        return job

    def list_jobs(self, request: Handler, params: dict[str, str], query: dict[str, str]) -> None:
        workflow_id = query.get("workflow_id")
        if workflow_id is not None and not UUID.match(workflow_id):
            raise invalid(bad_uuid(["query", "workflow_id"], workflow_id))
        status = query.get("status")
        if status is not None:
            status = status.upper()
            if status not in JOB_STATUSES:
                allowed = ", ".join(JOB_STATUSES)
                raise invalid(
                    error_item(
                        ["query", "status"],
                        f"Input should be one of {allowed}",
                        "enum",
                        expected=allowed,
                    )
                )
        if workflow_id is not None:
            workflow_id = str(uuid.UUID(workflow_id))
        jobs = self.store.list(status=status, workflow_id=workflow_id)
        request.reply(200, [views.job_information(j) for j in jobs])

    def _job(self, params: dict[str, str]) -> Job:
        job_id = params["job_id"]
        if not UUID.match(job_id):
            raise invalid(bad_uuid(["path", "job_id"], job_id))
        job = self.store.get(str(uuid.UUID(job_id)))
        if job is None:
            raise detail(404, "Job not found")
        return job

    def get_job(self, request: Handler, params: dict[str, str], query: dict[str, str]) -> None:
        request.reply(200, views.job_information(self._job(params)))

    def get_job_details(
        self, request: Handler, params: dict[str, str], query: dict[str, str]
    ) -> None:
        request.reply(200, views.job_details(self._job(params)))

    def get_job_failed_files(
        self, request: Handler, params: dict[str, str], query: dict[str, str]
    ) -> None:
        request.reply(200, views.failed_files(self._job(params)))

    def download_job_output(
        self, request: Handler, params: dict[str, str], query: dict[str, str]
    ) -> None:
        job = self._job(params)
        file_id = query.get("file_id")
        if not file_id:
            raise invalid(error_item(["query", "file_id"], "Field required", "missing"))
        stored = next((f for f in job.files if f.file_id == file_id), None)
        if stored is None:
            raise detail(404, f"File {file_id} not found in this job")
        node_id = query.get("node_id") or job.nodes[-1].id or ""
        node = next((n for n in job.nodes if n.id == node_id), None)
        if node is None:
            raise detail(404, f"Node {node_id} not found in this job")
        data = self.store.read_output_bytes(job.id, node_id, file_id)
        if data is None:
            if stored.error is not None:
                raise detail(404, f"File {stored.filename} failed: {stored.error}")
            raise detail(404, f"No output yet for file {file_id} at node {node.name!r}")
        request.reply_bytes(200, data, "application/json")

    def cancel_job(self, request: Handler, params: dict[str, str], query: dict[str, str]) -> None:
        job = self._job(params)
        if self.engine.cancel(job.id):
            body = {"id": job.id, "status": "cancelled", "message": "Job successfully cancelled."}
        else:
            current = self.store.get(job.id) or job
            body = {
                "id": job.id,
                "status": current.status.lower(),
                "message": f"Job is already {current.status}; nothing to cancel.",
            }
        request.reply(200, body)

    # -- templates

    def list_templates(
        self, request: Handler, params: dict[str, str], query: dict[str, str]
    ) -> None:
        request.reply(200, [t.summary().to_dict() for t in TEMPLATES.values()])

    def get_template(self, request: Handler, params: dict[str, str], query: dict[str, str]) -> None:
        template = TEMPLATES.get(params["template_id"])
        if template is None:
            raise detail(404, f"Template {params['template_id']} not found")
        request.reply(200, template.to_dict())


def job_nodes(text: str) -> list[Node]:
    """The nodes of a validated request_data: a template's own (with the template's node ids,
    as the platform lists them), or the job_nodes with fresh ids.

    Raises a 422 :class:`Reply` for a template the server does not have.
    """
    doc = jsontext.loads(text)
    template_id = doc.get("template_id") if isinstance(doc, dict) else None
    if isinstance(template_id, str):
        template = TEMPLATES.get(template_id)
        if template is None:
            known = ", ".join(TEMPLATES)
            raise invalid(
                error_item(
                    ["body", "request_data", "template_id"],
                    f"Template {template_id} not found (known: {known})",
                    "value_error",
                )
            )
        return list(template.nodes)
    raw = doc.get("job_nodes") if isinstance(doc, dict) else None
    parsed = [node_from_dict(item) for item in raw] if isinstance(raw, list) else []
    nodes = [n for n in parsed if n is not None]
    if not nodes or len(nodes) != len(parsed):  # the validator lets neither through
        message = "request_data has no readable job_nodes"
        raise invalid(error_item(["body", "request_data"], message, "value_error"))
    return [Node(n.name, n.type, n.subtype, dict(n.settings), new_uuid()) for n in nodes]


def _errors(findings: list[Finding]) -> list[Finding]:
    """The findings that make the platform refuse a create-job request."""
    return [f for f in findings if f.is_error and f.code not in ACCEPTED_AT_CREATE]


class DropConnection(Exception):
    """Close the connection without answering (fault injection)."""


# ----------------------------------------------------------------------------- routing


def _pattern(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template.rstrip("/")))
    return re.compile(f"^{regex}/?$")


_COMPILED = [(op, method, _pattern(path)) for op, (method, path) in OPERATIONS.items()]


def route(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    """The operation for ``method path`` and its path parameters (a trailing slash is optional)."""
    for operation, op_method, pattern in _COMPILED:
        match = pattern.match(path)
        if match and op_method == method:
            return operation, {
                k: urllib.parse.unquote(v, errors="replace") for k, v in match.groupdict().items()
            }
    return None, {}


def allowed_methods(path: str) -> list[str]:
    return sorted({m for _, m, pattern in _COMPILED if pattern.match(path)})


def parse_query(text: str) -> dict[str, str]:
    """A query string as a dict (the first value of each name wins)."""
    out: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(text, keep_blank_values=True, errors="replace"):
        out.setdefault(name, value)
    return out


# ------------------------------------------------------------------------------ handler


class RequestHead(http.client.HTTPMessage):
    """A request's headers, parsed by the stdlib as ever, minus one step that costs ~0.5 ms a
    request: for a multipart Content-Type, the email parser beneath http.server also splits the
    (empty) text after the head into parts, compiling a regex for each new boundary. The body
    is read and checked by the server itself, never by that parser, so while the head is being
    parsed the type is reported as text; afterwards it is the real one again."""

    head_parsed = False

    def get_content_maintype(self) -> str:
        return super().get_content_maintype() if self.head_parsed else "text"


class Handler(BaseHTTPRequestHandler):
    """One connection. ``api`` is set on the subclass made for each server."""

    api: JobsAPI
    MessageClass = RequestHead
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "dagkit-local"
    sys_version = ""
    timeout = 120
    operation = ""

    # -- the connection: bounded in number (by the server) and in time (here)

    def setup(self) -> None:
        super().setup()
        plain = self.rfile
        self._reader = DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader, 1 << 16)
        plain.close()

    def handle_one_request(self) -> None:
        """Wait for the next request head (within the header timeout), then serve it."""
        config = self.api.config
        if not self.server.connections.waiting(self.connection):  # type: ignore[attr-defined]
            self.close_connection = True
            return
        self._reader.deadline = time.monotonic() + config.header_timeout
        self._reader.idle = None
        super().handle_one_request()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        head = getattr(self, "headers", None)  # not there if the request line was refused
        if isinstance(head, RequestHead):
            head.head_parsed = True
        return parsed

    def _arrived(self) -> bool:
        """The head is in: the connection is busy, and the body gets its own time."""
        config = self.api.config
        self._reader.deadline = time.monotonic() + config.body_timeout
        self._reader.idle = config.idle_timeout  # an answer gets it too (see reply_bytes)
        return bool(self.server.connections.busy(self.connection))  # type: ignore[attr-defined]

    # Every method is served by one entry point.
    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def __getattr__(self, name: str) -> Any:
        """Any other method (HEAD, TRACE, QUERY, ...) is routed too, so it gets 405 with Allow
        as FastAPI answers it, not the stdlib's 501."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        self._body_left = 0  # of a body with a Content-Length; a chunked one says 0
        self._chunked = False
        self._replied = False
        self._status = 0
        started = time.monotonic()
        status = 0
        if not self._arrived():  # closed to make room at the very moment the head arrived
            self.close_connection = True
            return
        try:
            self._prepare_body()
            self.api.handle(self)
        except Reply as reply:
            status = reply.status
            self.drain()  # whatever of the body was not read, so the connection can be reused
            self.reply(reply.status, reply.body, reply.headers)
        except DropConnection:
            status = -1
            self.drain()  # the whole request arrived; only the answer is lost
            self.close_connection = True
        except BadRequest as exc:
            status = 400
            self.close_connection = True
            self.reply(400, {"detail": str(exc)})
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            return
        except Exception as exc:  # a bug: answer 500 and say what, but keep serving
            status = 500
            self._note(
                f"internal error in {self.operation or self.path}: {type(exc).__name__}: {exc}"
            )
            self.close_connection = True
            if not self._replied:
                self.reply(500, {"detail": "Internal server error"})
        finally:
            if status == 0:
                status = self._status
            if self.api.log is not None:
                took = (time.monotonic() - started) * 1000
                shown = "dropped" if status == -1 else str(status)
                self.api.log(f"{self.command} {self.path.split('?', 1)[0]} {shown} {took:.0f} ms")

    # -- the body

    def _prepare_body(self) -> None:
        encoding = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in encoding:
            self._chunked = True
            return
        length = self.headers.get("Content-Length")
        if length is None:
            return
        digits = length.strip()
        if not (digits.isascii() and digits.isdigit()):  # "²".isdigit() is True
            raise BadRequest(f"Content-Length {length[:40]!r} is not a number")
        self._body_left = int(digits)

    def body_is_empty(self) -> bool:
        """True when the request says it has no body (no Content-Length, or 0, not chunked)."""
        return not self._chunked and not self._body_left

    def body_blocks(self) -> Iterator[bytes]:
        """The request body in blocks, read from the socket as they are asked for."""
        if self._chunked:
            yield from self._chunks()
            return
        while self._body_left:
            block = self.rfile.read(min(_BLOCK, self._body_left))
            if not block:  # the client stopped short: what is left unread closes the connection
                return
            self._body_left -= len(block)
            yield block

    def _chunks(self) -> Iterator[bytes]:
        try:
            yield from coalesce(dechunk(self.rfile))
        except FramingError:
            self.close_connection = True  # the body ends here; the validator says what is missing
        self._chunked = False

    def drain(self, limit: int = 1 << 30) -> None:
        """Read and drop the rest of the body so the connection can be reused. A body longer
        than ``limit`` is left unread, as is the rest of one whose client went away or stopped
        sending: what is left unread closes the connection (see :meth:`reply_bytes`)."""
        if self._body_left > limit:
            return
        with contextlib.suppress(OSError):
            for _ in self.body_blocks():
                pass

    # -- answering

    _status = 0

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        rewrite = self.api.config.rewrite
        if rewrite is not None and self.operation and 200 <= status < 300:
            body = rewrite(self.operation, body)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self.reply_bytes(status, data, "application/json", headers)

    def reply_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        if self._replied:
            return
        self._replied = True
        self._status = status
        if self._body_left or self._chunked:
            self.close_connection = True  # the rest of the body was not read
        try:
            self.connection.settimeout(self.api.config.idle_timeout)  # a reader must keep up
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            if self.command == "HEAD":
                data = b""
            if len(data) <= _ONE_SEND and self.request_version != "HTTP/0.9":
                # Head and body in one send (end_headers' blank line, then the body): one system
                # call and one wait for the GIL, not two; a busy server's threads queue for it
                # after every call that drops it.
                self._headers_buffer.append(b"\r\n" + data)
                self.flush_headers()
            else:
                self.end_headers()
                self.wfile.write(data)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the stdlib finds in the request line and headers, as JSON like the rest."""
        self.close_connection = True
        self._body_left, self._chunked, self._replied = 0, False, False
        self.request_version = self.protocol_version  # answer with a status line, not as 0.9
        self.reply(code, {"detail": message or self.responses.get(code, ("Error",))[0]})

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request log; :class:`JobsAPI` logs one line per request."""

    def _note(self, message: str) -> None:
        if self.api.log is not None:
            self.api.log(message)
        else:
            print(f"dagkit serve: {message}", file=sys.stderr)


class BadRequest(Exception):
    """The request cannot be read as HTTP (answered 400, connection closed)."""
