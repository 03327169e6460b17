"""What the network commands share: connection options, the client they make, and turning
errors into messages and exit codes.

Exit codes: 0 success, 1 invalid input or a job that did not complete, 2 usage (a bad option, a
missing file, a source that cannot be loaded, a bad URL), 3 a network or server error.
"""

from __future__ import annotations

import functools
import json
import secrets
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import click

from dagkit.cli._terminal import colour_ok
from dagkit.errors import (
    AmbiguousRequestError,
    APIError,
    DagkitError,
    ResponseError,
    SourceError,
    TransportError,
)
from dagkit.redact import REDACTED, register

if TYPE_CHECKING:
    from dagkit.client import JobInfo, JobsClient
    from dagkit.findings import Finding

EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3


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
    from dagkit.client import JobsClient

    settings: dict[str, Any] = {
        "url": opts.url,
        "api_key": opts.api_key,
        "timeout": opts.timeout,
        "ca_bundle": opts.ca_bundle,
        "validate": opts.validate,
        "allow_insecure_key": opts.allow_insecure_key,
    }
    settings.update(overrides)
    try:
        return (client_class or JobsClient)(**settings)
    except DagkitError as exc:
        fail(opts, exc, EXIT_USAGE)


def exit_code(exc: DagkitError) -> int:
    """The exit code for an error (see the module docstring)."""
    if isinstance(exc, SourceError):
        return EXIT_USAGE
    if isinstance(exc, APIError):
        return EXIT_INVALID if exc.status == 422 else EXIT_NETWORK
    if isinstance(exc, TransportError | ResponseError):
        return EXIT_NETWORK
    # ValidationFailed, RequestDataError, DagError, MultipartError...: the input is the problem
    return EXIT_INVALID


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
    findings: list[Finding] = list(getattr(exc, "findings", []) or [])
    notes = [*getattr(exc, "__notes__", []), *([note] if note else [])]
    if opts.json:
        error = {
            "type": type(exc).__name__,
            "message": str(exc),
            "notes": notes,
            "exit_code": code,
            "findings": [f.to_dict() for f in findings],
        }
        if isinstance(exc, APIError):
            error["status"] = exc.status
            error["request_id"] = exc.request_id
        if isinstance(exc, TransportError):
            error["reached_server"] = exc.reached_server
        click.echo(json.dumps({"error": error}, indent=2, ensure_ascii=False))
    else:
        print_findings(findings)
        click.echo(f"error: {exc}", err=True)
        for line in notes:
            click.echo(f"note: {line}", err=True)
    sys.exit(code)


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
    with serve_in_thread(api_key=key) as server:
        click.echo(f"local jobs API running at {server.url} (stops with this command)", err=True)
        yield {"url": server.url, "api_key": key}


def announce_updates(opts: ClientOptions) -> Callable[[JobInfo], None] | None:
    """A ``wait`` callback that prints each status a job moves to (not with --json)."""
    if opts.json:
        return None

    def announce(info: JobInfo) -> None:
        click.echo(f"job {info.id}: {info.status}", err=True)

    return announce
