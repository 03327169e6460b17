"""``dagkit submit``: send a DAG (or a template) and its files as job(s), and optionally follow
them to the end and download their outputs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dagkit.cli._common import (
    ClientOptions,
    client_options,
    echo_json,
    local_server,
    make_client,
    print_findings,
    reporting,
)
from dagkit.cli._options import examples, follow_options, limit_options
from dagkit.cli._terminal import is_tty
from dagkit.errors import ExitCode
from dagkit.wire.serialize import TemplateJob

if TYPE_CHECKING:
    from dagkit.client.jobs import JobInfo
    from dagkit.client.submission import SubmitResult
    from dagkit.findings import Finding
    from dagkit.wire.serialize import TemplateJob


@click.command(
    epilog=examples(
        "dagkit submit --local examples/quickstart.py examples/files/* --wait --out out",
        "dagkit submit pipeline.py report.pdf --dry-run",
        "dagkit submit --template-id hi_res_and_enrichment report.pdf --json",
    )
)
@click.argument("source", required=False)
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--template-id", metavar="ID", help="Run a workflow template instead of a DAG (no SOURCE)."
)
@follow_options
@click.option(
    "--dry-run", is_flag=True, help="Print the request(s) and a curl command; send nothing."
)
@click.option(
    "--local",
    is_flag=True,
    help="Start the embedded jobs API for the duration of this command and submit to it.",
)
@limit_options
@client_options
def submit(
    source: str | None,
    files: tuple[str, ...],
    template_id: str | None,
    wait: bool,
    download: str | None,
    wait_timeout: float | None,
    dry_run: bool,
    local: bool,
    opts: ClientOptions,
) -> None:
    """Submit SOURCE (a request_data .json file or path.py[:attr]) with FILES as a job.

    With --template-id, every argument is a file. A DAG that plans into several jobs (one per
    branch) submits them all. Exit codes: 0 success, 1 invalid input or a job that ended
    FAILED/STOPPED or with failed files, 2 usage error, 3 network or server error, 4 the
    --wait-timeout ran out, 130 interrupted.
    """
    # lazy: the client and the HTTP stack load when the command runs, not for --help
    from dagkit.client.submission import submit as send

    job: Path | TemplateJob
    if template_id is not None:
        if source is not None:
            if not Path(source).is_file():
                raise click.BadParameter(f"{source}: no such file", param_hint="FILES")
            files = (source, *files)
        job = TemplateJob(template_id)
    elif source is None:
        raise click.UsageError("give a SOURCE (a .json or .py DAG file) or --template-id")
    else:
        job = Path(source)
    with local_server(local, opts) as overrides, reporting(opts):
        result = send(
            job,
            files,
            client=make_client(opts, **overrides),
            wait=wait,
            out=download,
            wait_timeout=wait_timeout,
            dry_run=dry_run,
            listener=Printer(opts),
        )
    if result.dry_run is not None and not opts.json:
        click.echo(result.dry_run, nl=False)
        return
    finish(result, opts)


class Printer:
    """A :class:`~dagkit.client.submission.Listener` that prints what a submission tells as it
    happens (nothing but the upload's progress with --json): warnings, progress on a terminal,
    jobs, status changes, saves."""

    def __init__(self, opts: ClientOptions, *, started: str = "created") -> None:
        self.opts = opts
        self.started = started  # a workflow's job is "started"
        self._bar = _progress_bar()

    def checked(self, findings: Sequence[Finding]) -> None:
        if findings and not self.opts.json:
            print_findings(list(findings))  # warnings: shown, not fatal

    def uploading(self, sent: int, total: int) -> None:
        if self._bar is not None:
            self._bar(sent, total)

    def created(self, job: JobInfo) -> None:
        if not self.opts.json:
            click.echo(f"{self.started} job {job.id} ({job.status})")

    def updated(self, job: JobInfo) -> None:
        if not self.opts.json:
            click.echo(f"job {job.id}: {job.status}", err=True)

    def saved(self, path: Path) -> None:
        if not self.opts.json:
            click.echo(f"saved {path}")

    def said(self, job: JobInfo, message: str) -> None:
        if not self.opts.json:
            click.echo(message, err=True)


def _progress_bar() -> Callable[[int, int], None] | None:
    """An upload progress line on stderr when it is a terminal."""
    if not is_tty(sys.stderr):
        return None
    shown = -1

    def progress(sent: int, total: int) -> None:
        nonlocal shown
        percent = 100 if total == 0 else sent * 100 // total
        if percent == shown:
            return
        done = sent >= total
        shown = -1 if done else percent  # the next job's upload starts a fresh line
        end = "\n" if done else ""
        sys.stderr.write(f"\ruploading {sent / 1e6:8.1f} / {total / 1e6:.1f} MB {percent:3d}%{end}")
        sys.stderr.flush()

    return progress


def finish(result: SubmitResult, opts: ClientOptions) -> None:
    """Print the jobs (with --json, the result); exit 1 when a followed job did not complete
    or has failed files."""
    if opts.json:
        echo_json(result.to_dict())
    for outcome in result.jobs:
        info = outcome.job
        if outcome.ok or opts.json:
            continue
        if not info.succeeded:
            follow = f"see `dagkit jobs details {info.id}` and `dagkit jobs failed-files {info.id}`"
            click.echo(f"job {info.id} ended {info.status}: {follow}", err=True)
            continue
        failed = outcome.failed_files or []
        total = len(info.input_file_ids or []) or len(failed)
        click.echo(
            f"job {info.id} ended {info.status}, but {len(failed)} of {total} file(s) failed:",
            err=True,
        )
        for f in failed:
            click.echo(f"  {f.document}: {f.error}", err=True)
    if not result.ok:
        sys.exit(ExitCode.INVALID)
