"""``dagkit batch``: many files through many jobs within the API's limits, resumably.

Exit codes (:class:`dagkit.errors.ExitCode`): 0 every file done (skipped files are reported, not
failures), 1 some file failed, the server refused the job or the source is wrong, 2 usage (bad
option, missing input, inputs that would share an output, an out dir of another DAG or in use),
3 network or server error, 130 interrupted (run the same command again to resume).
"""

from __future__ import annotations

import contextlib
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

from dagkit.cli._common import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_USAGE,
    ClientOptions,
    client_options,
    echo_json,
    exit_code,
    fail,
    local_server,
    make_client,
)
from dagkit.cli._options import examples, limit_options, out_option
from dagkit.cli._terminal import is_tty
from dagkit.errors import DagkitError, SourceError
from dagkit.wire.serialize import TemplateJob

if TYPE_CHECKING:
    from dagkit.batch import BatchReport, Progress

_LISTED = 10  # failed and skipped files listed by name at the end; the report has them all


@click.command(
    epilog=examples(
        "dagkit batch pipeline.py docs/ --out out/",
        "dagkit batch pipeline.py 'inbox/**/*.pdf' --out out/ --max-running 3",
        "dagkit batch pipeline.py docs/ --out out/ --retry-failed",
    )
)
@click.argument("source", required=False)
@click.argument("inputs", nargs=-1)
@out_option(
    "out_dir",
    "Directory for the outputs (mirroring the inputs), the journal and the report.",
    required=True,
    metavar="DIR",
    type=click.Path(file_okay=False),
)
@click.option(
    "--template-id", metavar="ID", help="Run a workflow template instead of a DAG (no SOURCE)."
)
@click.option(
    "--files-per-job",
    type=click.IntRange(1, 10),
    default=10,
    show_default=True,
    help="Files in one job.",
)
@click.option(
    "--max-job-bytes",
    type=click.IntRange(min=1),
    metavar="N",
    help="Bytes of files in one job (a larger single file goes alone) [default: 100,000,000].",
)
@click.option(
    "--min-interval",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between two launches.",
)
@click.option(
    "--max-running",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Jobs unfinished at once.",
)
@click.option(
    "--retry-failed", is_flag=True, help="Send the files that failed in an earlier run again."
)
@click.option(
    "--local",
    is_flag=True,
    help="Start the embedded jobs API for the duration of this command and use it.",
)
@limit_options
@client_options
def batch(
    source: str | None,
    inputs: tuple[str, ...],
    out_dir: str,
    template_id: str | None,
    files_per_job: int,
    max_job_bytes: int | None,
    min_interval: float,
    max_running: int,
    retry_failed: bool,
    local: bool,
    opts: ClientOptions,
) -> None:
    """Run every file of INPUT... through SOURCE (a request_data .json file or path.py[:attr]).

    INPUT are files, directories (walked recursively) and glob patterns (quote them). Outputs go
    to --out at each input's path relative to its input (a directory, or a pattern's fixed
    part) plus .json; dagkit-batch-report.json there lists every file: done, failed (with the
    server's reason) or skipped (with why). A journal in --out records every job before it is
    sent: after a crash or Ctrl-C, the same command carries on without sending anything twice.
    """
    # lazy: the batch runner and the HTTP stack load when the command runs, not for --help
    from dagkit.batch import DEFAULT_MAX_JOB_BYTES, run

    job: Any
    if template_id is not None:
        job = TemplateJob(template_id)
        if source is not None:
            inputs = (source, *inputs)
    elif source is None:
        raise click.UsageError("give a SOURCE (a .json or .py DAG file) or --template-id")
    else:
        job = source
    if not inputs:
        raise click.UsageError("give at least one INPUT (a file, a directory or a pattern)")
    stop = threading.Event()
    display = _Display(sys.stderr, live=is_tty(sys.stderr))
    with local_server(local, opts) as overrides:
        client = make_client(opts, **overrides)
        try:
            with _stop_on_ctrl_c(stop):
                report = run(
                    job,
                    list(inputs),
                    out_dir,
                    client=client,
                    files_per_job=files_per_job,
                    max_job_bytes=max_job_bytes or DEFAULT_MAX_JOB_BYTES,
                    min_interval=min_interval,
                    max_running=max_running,
                    retry_failed=retry_failed,
                    on_progress=display.update,
                    stop=stop,
                )
        except DagkitError as exc:
            display.close()
            _fail(opts, exc)
        except KeyboardInterrupt:  # a second Ctrl-C: the journal is consistent all the same
            display.close()
            click.echo(f"interrupted. Run the same command to resume:\n  {_command()}", err=True)
            sys.exit(EXIT_INTERRUPTED)
    display.close()
    _finish(report, opts)


def _fail(opts: ClientOptions, exc: DagkitError) -> NoReturn:
    # lazy: the batch runner and the HTTP stack load when the command runs, not for --help
    from dagkit.batch import BatchAborted, BatchInputError, JournalError

    if isinstance(exc, BatchInputError | JournalError):
        fail(opts, exc, EXIT_USAGE)
    if isinstance(exc, SourceError):
        fail(opts, exc, exit_code(exc))
    cause = exc.__cause__
    if isinstance(exc, BatchAborted):
        code = exit_code(cause) if isinstance(cause, DagkitError) else EXIT_INVALID
    else:
        code = exit_code(exc)
    fail(
        opts,
        exc,
        code,
        f"the journal is consistent: once the cause is fixed, the same command carries on "
        f"({_command()})",
    )


def _finish(report: BatchReport, opts: ClientOptions) -> None:
    counts = report.counts
    if opts.json:
        data = report.to_dict()
        data["report"] = str(report.report_path)
        echo_json(data)
    else:
        total = len(report.files)
        parts = [f"{counts[s]} {s}" for s in ("done", "failed", "skipped") if counts[s]]
        left = counts["in_job"] + counts["pending"]
        if left:
            parts.append(f"{left} not finished")
        jobs = len([j for j in report.jobs if j.state != "void"])
        click.echo(
            f"{total} file(s): {', '.join(parts) or 'nothing to do'}; {jobs} job(s); "
            f"{report.elapsed:.1f} s"
        )
        for state in ("failed", "skipped"):
            listed = [f for f in report.files if f.state == state]
            for f in listed[:_LISTED]:
                click.echo(f"  {state}: {f.source}: {f.reason}")
            if len(listed) > _LISTED:
                click.echo(f"  ... and {len(listed) - _LISTED} more {state}: see the report")
        click.echo(f"report: {report.report_path}")
    if report.interrupted:
        click.echo(
            f"interrupted: {counts['in_job'] + counts['pending']} file(s) not finished. "
            f"Run the same command to resume:\n  {_command()}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    if counts["failed"]:
        click.echo("some files failed; `--retry-failed` sends them again on the next run", err=True)
        sys.exit(EXIT_INVALID)


def _command() -> str:
    """The command line that was run, ready to paste: a key given with --api-key is replaced by
    the environment variable that holds it (the key itself is never shown)."""
    # lazy: the HTTP stack loads only to name the key's variable in the command line
    from dagkit.http.transport import ENV_KEY

    words = [shlex.quote(arg) for arg in ["dagkit", *sys.argv[1:]]]
    hidden = False
    for i, arg in enumerate(sys.argv[1:], 1):
        if arg == "--api-key" and i + 1 < len(words):
            words[i + 1] = f'"${ENV_KEY}"'
        elif arg.startswith("--api-key="):
            words[i] = f'--api-key="${ENV_KEY}"'
        else:
            continue
        hidden = True
    if hidden:
        words.append(f"  # with {ENV_KEY} set to the key")
    return " ".join(words)


@contextlib.contextmanager
def _stop_on_ctrl_c(stop: threading.Event) -> Iterator[None]:
    """The first Ctrl-C (or SIGTERM) stops launching; a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def first(signum: int, frame: Any) -> None:
        # Only set the event: the handler runs between two bytecodes of the main thread, which
        # may hold the display's lock; the batch itself says that it is stopping.
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous_int = signal.signal(signal.SIGINT, first)
    previous_term = signal.signal(signal.SIGTERM, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


class _Display:
    """Progress on stderr: a status line redrawn in place on a terminal (with trouble printed
    above it), else one log line per event. Called from the batch's thread only."""

    def __init__(self, stream: TextIO, *, live: bool) -> None:
        self.stream = stream
        self.live = live
        self._shown = False
        self._last_draw = 0.0

    def update(self, p: Progress) -> None:
        if not self.live:
            if p.message:
                counts = f"{p.files_done + p.files_failed}/{p.files_total - p.files_skipped}"
                self._write(f"[{p.elapsed:7.1f}s] {p.message} (files settled {counts})\n")
            return
        if p.message and p.warning:
            self._line(p.message)
        now = time.monotonic()
        if p.message or now - self._last_draw >= 0.2:
            self._last_draw = now
            width = shutil.get_terminal_size().columns - 1
            self._write("\r\x1b[K" + status_line(p)[: max(width, 20)])
            self._shown = True

    def close(self) -> None:
        if self._shown:
            self._write("\n")
            self._shown = False

    def _line(self, message: str) -> None:
        if self._shown:
            self._write("\r\x1b[K")
        self._write(message + "\n")
        self._shown = False

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def status_line(p: Progress) -> str:
    """One line: files and jobs done/running/waiting/failed, throughput, time left."""
    files = (
        f"files {p.files_done} done, {p.files_running} running, {p.files_waiting} waiting"
        + (f", {p.files_failed} failed" if p.files_failed else "")
        + (f", {p.files_skipped} skipped" if p.files_skipped else "")
    )
    jobs = f"jobs {p.jobs_done} done, {p.jobs_running} running, {p.jobs_waiting} waiting" + (
        f", {p.jobs_failed} failed" if p.jobs_failed else ""
    )
    speed = f"{p.files_per_second:.1f} files/s" if p.files_per_second else "-- files/s"
    left = f"{_duration(p.seconds_left)} left" if p.seconds_left is not None else "time left --"
    return f"{files} | {jobs} | {speed}, {left}"


def _duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, whole = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{whole:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
