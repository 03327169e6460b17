"""What the network commands share: connection options, the client they make, and turning
errors into messages and exit codes (the codes are :class:`dagkit.errors.ExitCode`).
"""

from __future__ import annotations

import functools
import json
import secrets
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import click

from dagkit.cli._options import max_file_size
from dagkit.cli._terminal import colour_ok
from dagkit.errors import DagkitError, ExitCode, JobsInterrupted, OutputsFailed, Words
from dagkit.errors import exit_code as exit_code
from dagkit.http.redact import REDACTED, register
from dagkit.report import text_lines

if TYPE_CHECKING:
    from dagkit.client.jobs import JobsClient
    from dagkit.findings import Finding

#: What errors advise, worded for the command line: the flags and commands that do it (the
#: library words the same advice for Python: keyword arguments and methods).
CLI_WORDS: Words = {
    "allow_insecure_key": "--allow-insecure-key",
    "read_timeout": "--timeout",
    "api_key": "--api-key",
    "ca_bundle": "--ca-bundle",
    "list_jobs": "`dagkit jobs list`",
    "wait_job": "`dagkit jobs wait {job_id}`",
    "list_workflows": lambda values: (
        f"`dagkit workflows list --name {shlex.quote(values['name'])}`"
    ),
    "plan_workflows": "`dagkit workflows create --each-path`",
    "out_dir": "--out folder",
    "data_dir": "--data-dir",
}

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
    # lazy: the client and the HTTP stack load when a command talks to the API, not for --help
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
    # lazy: the HTTP stack loads when a command talks to the API, not for --help
    from dagkit.http.transport import BadURLError

    try:
        return (client_class or JobsClient)(**settings)
    except BadURLError as exc:
        fail(opts, BadURLError(f"--url: {exc}") if opts.url is not None else exc, EXIT_USAGE)
    except DagkitError as exc:
        fail(opts, exc, EXIT_USAGE)


@contextmanager
def reporting(opts: ClientOptions) -> Iterator[None]:
    """Turn dagkit errors raised inside into a message (or JSON) and the matching exit code."""
    try:
        yield
    except DagkitError as exc:
        fail(opts, exc, exit_code(exc))


def fail(opts: ClientOptions, exc: DagkitError, code: int, note: str = "") -> NoReturn:
    """Print ``exc`` (findings, notes and ``note`` included) and exit with ``code``."""
    show_error(exc, as_json=opts.json, code=code, note=note)
    sys.exit(code)


def show_error(exc: BaseException, *, as_json: bool, code: int, note: str = "") -> None:
    """``exc`` as ``error:``/``note:`` lines on stderr (its findings first), or with
    ``as_json`` as ``{"error": {...}}`` on stdout."""
    findings = list(exc.findings) if isinstance(exc, DagkitError) else []
    said = exc.notes(CLI_WORDS) if isinstance(exc, JobsInterrupted) else None
    notes = [*(getattr(exc, "__notes__", []) if said is None else said), *([note] if note else [])]
    message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
    if isinstance(exc, DagkitError):
        message = exc.describe(CLI_WORDS)
    if isinstance(exc, KeyboardInterrupt):
        message = message or "interrupted"
    if as_json:
        details: dict[str, Any] = {"type": type(exc).__name__}
        if isinstance(exc, DagkitError | JobsInterrupted):
            details = exc.to_dict()
        error = {**details, "message": message, "notes": notes, "exit_code": int(code)}
        error.setdefault("findings", [])
        click.echo(json.dumps({"error": error}, indent=2, ensure_ascii=False))
        return
    print_findings(findings)
    if isinstance(exc, KeyboardInterrupt):
        click.echo("", err=True)  # off the line ^C (or an upload's progress) left open
    if isinstance(exc, OutputsFailed):
        for path in exc.saved:
            click.echo(f"saved {path}")
        for f in exc.failed:
            click.echo(f"failed {f.document}: {f.error}", err=True)
    click.echo(f"error: {message}", err=True)
    for line in notes:
        click.echo(f"note: {line}", err=True)


def print_findings(findings: list[Finding]) -> None:
    """Findings as ``file:line:col: CODE severity: message`` lines on stderr."""
    if not findings:
        return

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
    # lazy: only --local runs the embedded server (threads, sockets, a store)
    from dagkit.server import serve_in_thread

    key = secrets.token_urlsafe(24)
    with serve_in_thread(api_key=key, max_file_size=max_file_size()) as server:
        click.echo(f"local jobs API running at {server.url} (stops with this command)", err=True)
        yield {"url": server.url, "api_key": key}
