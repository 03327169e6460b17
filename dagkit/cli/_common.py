"""What the network commands share: connection options, the client they make, and turning
errors into messages and exit codes (the codes are :class:`dagkit.errors.ExitCode`).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from dagkit.cli._options import max_file_size
from dagkit.cli._terminal import colour_ok
from dagkit.errors import (
    AmbiguousRequestError,
    APIError,
    DagkitError,
    ExitCode,
    OutputsFailed,
    TransportError,
    UsageError,
)
from dagkit.errors import exit_code as exit_code
from dagkit.http.redact import REDACTED, register

if TYPE_CHECKING:
    from dagkit.client.jobs import JobInfo, JobsClient
    from dagkit.findings import Finding

EXIT_INVALID = ExitCode.INVALID
EXIT_USAGE = ExitCode.USAGE
EXIT_NETWORK = ExitCode.NETWORK
EXIT_INTERRUPTED = ExitCode.INTERRUPTED


@dataclass(frozen=True)
class ClientOptions:
    """The connection options every network command takes. ``repr`` hides the key."""

    url: str | None
    api_key: str | None
    timeout: float | None
    ca_bundle: str | None
    validate: bool
    json: bool
    allow_insecure_key: bool

    def __repr__(self) -> str:
        key = None if self.api_key is None else REDACTED
        return f"ClientOptions(url={self.url!r}, api_key={key!r}, validate={self.validate!r})"


_OPTIONS = [
    click.option(
        "--url",
        metavar="URL",
        help="API URL, with or without /api/v1 [default: $UNSTRUCTURED_API_URL, else "
        "https://platform.unstructuredapp.io].",
    ),
    click.option(
        "--api-key",
        metavar="KEY",
        help="API key [default: $UNSTRUCTURED_API_KEY]. Prefer the environment variable: "
        "other users can read command lines.",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Connect and read timeout of each request [default: 10 s connect, 120 s read].",
    ),
    click.option(
        "--ca-bundle",
        type=click.Path(exists=True, dir_okay=False),
        help="A PEM file of extra CA certificates (for networks that inspect TLS).",
    ),
    click.option(
        "--allow-insecure-key",
        is_flag=True,
        help="Allow sending the key over plain http to a host that is not this machine.",
    ),
    click.option(
        "--no-validate",
        is_flag=True,
        help="Send requests and accept answers without checking them against the spec.",
    ),
    click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON."),
]


def client_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the connection options to a command; it receives them as ``opts``."""

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        register(kwargs["api_key"])  # hidden from all output from now on
        opts = ClientOptions(
            url=kwargs.pop("url"),
            api_key=kwargs.pop("api_key"),
            timeout=kwargs.pop("timeout"),
            ca_bundle=kwargs.pop("ca_bundle"),
            validate=not kwargs.pop("no_validate"),
            json=kwargs.pop("as_json"),
            allow_insecure_key=kwargs.pop("allow_insecure_key"),
        )
        return command(opts=opts, **kwargs)

    for option in reversed(_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def make_client(
    opts: ClientOptions, *, client_class: type[JobsClient] | None = None, **overrides: Any
) -> JobsClient:
    """A client from the options (``overrides`` win); a bad URL or key setting exits 2.
    ``client_class`` makes a subclass instead (``WorkflowsClient``)."""
    from dagkit.client.jobs import JobsClient

    settings: dict[str, Any] = {
        "url": opts.url,
        "api_key": opts.api_key,
        "timeout": opts.timeout,
        "ca_bundle": opts.ca_bundle,
        "validate": opts.validate,
        "allow_insecure_key": opts.allow_insecure_key,
    }
    settings["max_file_size"] = max_file_size()  # --max-file-size, where the command has it
    settings.update(overrides)
    from dagkit.http.transport import BadURLError

    try:
        return (client_class or JobsClient)(**settings)
    except BadURLError as exc:
        fail(opts, BadURLError(f"--url: {exc}") if opts.url is not None else exc, EXIT_USAGE)
    except DagkitError as exc:
        fail(opts, exc, EXIT_USAGE)


@contextmanager
def reporting(opts: ClientOptions, *, creating: bool = False) -> Iterator[None]:
    """Turn dagkit errors raised inside into a message (or JSON) and the matching exit code.

    ``creating`` adds whether a job can exist after a network failure of a create-job request.
    """
    try:
        yield
    except DagkitError as exc:
        note = _creation_note(exc) if creating else ""
        fail(opts, exc, exit_code(exc), note)


def fail(opts: ClientOptions, exc: DagkitError, code: int, note: str = "") -> NoReturn:
    """Print ``exc`` (findings, notes and ``note`` included) and exit with ``code``."""
    show_error(exc, as_json=opts.json, code=code, note=note)
    sys.exit(code)


def show_error(exc: BaseException, *, as_json: bool, code: int, note: str = "") -> None:
    """``exc`` as ``error:``/``note:`` lines on stderr (its findings first), or with
    ``as_json`` as ``{"error": {...}}`` on stdout."""
    findings = list(exc.findings) if isinstance(exc, DagkitError) else []
    notes = [*getattr(exc, "__notes__", []), *([note] if note else [])]
    message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
    if isinstance(exc, KeyboardInterrupt):
        message = "interrupted"
    if as_json:
        details = exc.to_dict() if isinstance(exc, DagkitError) else {"type": type(exc).__name__}
        error = {**details, "message": message, "notes": notes, "exit_code": int(code)}
        error.setdefault("findings", [])
        click.echo(json.dumps({"error": error}, indent=2, ensure_ascii=False))
        return
    print_findings(findings)
    if isinstance(exc, OutputsFailed):
        for path in exc.saved:
            click.echo(f"saved {path}")
        for f in exc.failed:
            click.echo(f"failed {f.document}: {f.error}", err=True)
    click.echo(f"error: {message}", err=True)
    for line in notes:
        click.echo(f"note: {line}", err=True)


def _creation_note(exc: DagkitError) -> str:
    if isinstance(exc, AmbiguousRequestError):
        return ""  # its message already says the job may exist and how to check
    if isinstance(exc, TransportError):
        if exc.reached_server:
            return "the job may have been created: check with `dagkit jobs list`"
        return "nothing reached the server: no job was created"
    if isinstance(exc, APIError) and exc.status < 500:
        return "the server refused the request: no job was created"
    return ""


def print_findings(findings: list[Finding]) -> None:
    """Findings as ``file:line:col: CODE severity: message`` lines on stderr."""
    if not findings:
        return
    from dagkit.report import text_lines

    for line in text_lines(findings, colour=colour_ok(sys.stderr)):
        click.echo(line, err=True)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@contextmanager
def local_server(local: bool, opts: ClientOptions) -> Iterator[dict[str, Any]]:
    """With --local, a local jobs API for the duration of the command (and a throwaway key):
    yields the client options that point at it."""
    if not local:
        yield {}
        return
    if opts.url is not None:
        raise click.UsageError("--local and --url cannot be used together")
    from dagkit.server import serve_in_thread

    key = secrets.token_urlsafe(24)
    with serve_in_thread(api_key=key, max_file_size=max_file_size()) as server:
        click.echo(f"local jobs API running at {server.url} (stops with this command)", err=True)
        yield {"url": server.url, "api_key": key}


def check_writable_dir(folder: str, option: str) -> None:
    """A folder that exists and can be written, or one that can be made (its nearest existing
    parent can be written); else a usage error naming ``option``."""
    path = Path(folder)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{option} {folder}: {existing} is not a folder; nothing was sent")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {folder}: {existing} cannot be written; nothing was sent")


class Follow:
    """Ctrl-C while a job is being sent or followed: say whether a job may exist, its id when
    known and the command that goes on from there, then exit 130."""

    def __init__(self, opts: ClientOptions) -> None:
        self.opts = opts
        self.jobs: list[JobInfo] | None = None

    @contextmanager
    def interrupts(self) -> Iterator[None]:
        try:
            yield
        except KeyboardInterrupt:
            if self.jobs is None:
                message = "interrupted while sending: a job may have been created"
                note = "check with `dagkit jobs list` before submitting again"
            else:
                ids = ", ".join(info.id for info in self.jobs)
                message = f"interrupted: job {ids} keeps running on the server"
                note = " and ".join(f"`dagkit jobs wait {info.id}`" for info in self.jobs)
                note = f"follow it with {note}"
            if self.opts.json:
                error: dict[str, Any] = {
                    "type": "KeyboardInterrupt",
                    "message": message,
                    "notes": [note],
                    "exit_code": int(ExitCode.INTERRUPTED),
                    "findings": [],
                }
                if self.jobs is not None:
                    error["jobs"] = [info.to_dict() for info in self.jobs]
                echo_json({"error": error})
            else:
                click.echo(f"\nerror: {message}", err=True)
                click.echo(f"note: {note}", err=True)
            sys.exit(ExitCode.INTERRUPTED)


def announce_updates(opts: ClientOptions) -> Callable[[JobInfo], None] | None:
    """A ``wait`` callback that prints each status a job moves to (not with --json)."""
    if opts.json:
        return None

    def announce(info: JobInfo) -> None:
        click.echo(f"job {info.id}: {info.status}", err=True)

    return announce
