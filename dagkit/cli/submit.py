"""``dagkit submit``: send a DAG (or a template) and its files as job(s), and optionally follow
them to the end and download their outputs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dagkit.cli._common import (
    ClientOptions,
    Follow,
    announce_updates,
    check_writable_dir,
    client_options,
    echo_json,
    local_server,
    make_client,
    print_findings,
    reporting,
)
from dagkit.cli._options import examples, follow_options, limit_options
from dagkit.cli._terminal import is_tty
from dagkit.errors import ExitCode, UsageError, ValidationFailed
from dagkit.findings import Finding, has_errors

if TYPE_CHECKING:
    from dagkit.client.jobs import JobInfo, JobsClient
    from dagkit.model.dag import JobDAG
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
    job = _load(source, template_id)
    if template_id is not None and source is not None:
        if not Path(source).is_file():
            raise click.BadParameter(f"{source}: no such file", param_hint="FILES")
        files = (source, *files)
    with local_server(local, opts) as overrides:
        client = make_client(opts, **overrides)
        with reporting(opts):
            findings = client.check(job, files) if opts.validate else []
            findings = [_in_file(f, source) for f in findings]
            if has_errors(findings):
                errors = sum(f.is_error for f in findings)
                raise ValidationFailed(f"not submitted: {errors} error(s)", findings)
            if findings and not opts.json:
                print_findings(findings)  # warnings: shown, not fatal
            if dry_run:
                text = client.dry_run(job, files)
                if opts.json:
                    echo_json({"dry_run": text})
                else:
                    click.echo(text, nl=False)
                return
            ready_to_send(client, download)
        follow = Follow(opts)
        with follow.interrupts(), reporting(opts, creating=True):
            jobs = client.create_jobs(job, files, progress=_progress_bar())
        follow.jobs = jobs
        if not opts.json:
            for info in jobs:
                click.echo(f"created job {info.id} ({info.status})")
        if wait or download is not None or wait_timeout is not None:
            with follow.interrupts(), reporting(opts):
                for n, info in enumerate(jobs):
                    jobs[n] = client.wait(
                        info, timeout=wait_timeout, on_update=announce_updates(opts)
                    )
        results: dict[str, dict[str, Any]] = {}
        if wait or download is not None or wait_timeout is not None:
            folders = _job_folders(jobs)
            with follow.interrupts(), reporting(opts):
                for info, folder in zip(jobs, folders, strict=True):
                    if not info.succeeded:
                        continue
                    if download is None:
                        results[info.id] = _failed_files(client, info)
                        continue
                    where = Path(download) / folder if len(jobs) > 1 else Path(download)
                    results[info.id] = _download(client, info, where, opts)
    _finish(jobs, results, opts, waited=wait or download is not None)


def ready_to_send(client: JobsClient, download: str | None) -> None:
    """What would make a job sent in vain, found before anything is sent: no API key (the
    platform and ``dagkit serve`` refuse a request without one), a --download folder that
    cannot be written."""
    if not client.transport.has_api_key:
        raise UsageError(
            "no API key: set UNSTRUCTURED_API_KEY (or pass --api-key); nothing was sent"
        )
    if download is not None:
        check_writable_dir(download, "--download")


def _failed_files(client: JobsClient, info: JobInfo) -> dict[str, Any]:
    """A COMPLETED job's failed files: the platform completes a job even when every one of
    its files failed."""
    failed = client.failed_files(info)
    return {"failed_files": [{"document": f.document, "error": f.error} for f in failed]}


def _download(
    client: JobsClient, info: JobInfo, where: Path, opts: ClientOptions
) -> dict[str, Any]:
    """Every output of a COMPLETED job saved in ``where``; the failed files listed."""
    from dagkit.errors import OutputsFailed

    try:
        paths = client.download_all(info, where)
        failed = []
    except OutputsFailed as exc:
        paths, failed = exc.saved, exc.failed
    if not opts.json:
        for path in paths:
            click.echo(f"saved {path}")
    return {
        "downloads": [str(p) for p in paths],
        "failed_files": [{"document": f.document, "error": f.error} for f in failed],
    }


def _job_folders(jobs: list[JobInfo]) -> list[str]:
    """A folder per job inside --download DIR, named after its id. The server chose the id, so
    it is reduced to one plain name (``../x`` or ``/etc`` cannot leave DIR) and kept unique."""
    from dagkit.client.jobs import safe_filename

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


def _load(source: str | None, template_id: str | None) -> JobDAG | TemplateJob | str:
    """The job to send. A request_data file is sent as written, byte for byte (numbers and key
    order kept), once it is known to load; a Python source is built into a DAG."""
    from dagkit.wire.serialize import TemplateJob, read_source

    if template_id is not None:
        return TemplateJob(template_id)
    if source is None:
        raise click.UsageError("give a SOURCE (a .json or .py DAG file) or --template-id")
    job, text = read_source(source)  # a source that cannot be loaded: its error and exit code
    return job if text is None else text


def _is_python(source: str) -> bool:
    from dagkit.wire.serialize import is_python_source

    return is_python_source(source)


def _in_file(f: Finding, source: str | None) -> Finding:
    """Place request_data findings in the SOURCE file when it is the text that is sent."""
    if source is None or _is_python(source) or f.part != "request_data" or f.file is not None:
        return f
    return f.replace(file=source)


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


def _finish(
    jobs: list[JobInfo], results: dict[str, dict[str, Any]], opts: ClientOptions, *, waited: bool
) -> None:
    """Print the jobs; exit 1 when one did not complete or has failed files."""
    if opts.json:
        out = []
        for info in jobs:
            entry = info.to_dict()
            entry.update(results.get(info.id, {}))
            out.append(entry)
        echo_json({"jobs": out})
    bad = False
    for info in jobs:
        if not waited:
            continue
        follow = f"see `dagkit jobs details {info.id}` and `dagkit jobs failed-files {info.id}`"
        failed = results.get(info.id, {}).get("failed_files", [])
        if not info.succeeded:
            bad = True
            if not opts.json:
                click.echo(f"job {info.id} ended {info.status}: {follow}", err=True)
        elif failed:
            bad = True
            if not opts.json:
                total = len(info.input_file_ids or []) or len(failed)
                click.echo(
                    f"job {info.id} ended {info.status}, but {len(failed)} of {total} file(s) "
                    "failed:",
                    err=True,
                )
                for f in failed:
                    click.echo(f"  {f['document']}: {f['error']}", err=True)
    if bad:
        sys.exit(ExitCode.INVALID)
