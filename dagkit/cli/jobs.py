"""``dagkit jobs`` and ``dagkit templates``: one command per API operation."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dagkit.cli import Group
from dagkit.cli._common import (
    ClientOptions,
    client_options,
    echo_json,
    make_client,
    reporting,
)
from dagkit.cli._options import examples, out_option

if TYPE_CHECKING:
    from dagkit.client.jobs import JobDetails, JobInfo, TemplateDetail


@click.group(
    cls=Group,
    epilog=examples(
        "dagkit jobs list --status FAILED",
        "dagkit jobs wait 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f",
        "dagkit jobs download 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f --out out/",
    ),
)
def jobs() -> None:
    """Get, wait for, download, cancel and list jobs."""


@jobs.command(
    "get",
    epilog=examples(
        "dagkit jobs get 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f",
        "dagkit jobs get 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f --json",
    ),
)
@click.argument("job_id")
@client_options
def get(job_id: str, opts: ClientOptions) -> None:
    """Show one job."""
    with reporting(opts):
        info = make_client(opts).get_job(job_id)
    _show_job(info, opts)


@jobs.command(
    "wait",
    epilog=examples(
        "dagkit jobs wait 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f",
        "dagkit jobs wait 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f --wait-timeout 600",
    ),
)
@click.argument("job_id")
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Give up after this long (the job keeps running) [default: no limit].",
)
@client_options
def wait(job_id: str, wait_timeout: float | None, opts: ClientOptions) -> None:
    """Follow a job until it ends; exit 1 unless it COMPLETED."""

    def announce(info: JobInfo) -> None:
        if not opts.json:
            click.echo(f"job {info.id}: {info.status}", err=True)

    with reporting(opts):  # Ctrl-C: the client says the job keeps running, and how to follow it
        info = make_client(opts).wait(job_id, timeout=wait_timeout, on_update=announce)
    _show_job(info, opts)
    if not info.succeeded:
        sys.exit(1)


@jobs.command(
    "details",
    epilog=examples(
        "dagkit jobs details 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f",
        "dagkit jobs details 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f --json",
    ),
)
@click.argument("job_id")
@client_options
def details(job_id: str, opts: ClientOptions) -> None:
    """Show a job's progress per node."""
    with reporting(opts):
        result = make_client(opts).job_details(job_id)
    if opts.json:
        echo_json(result.to_dict())
    else:
        _show_details(result)


@jobs.command(
    "failed-files",
    epilog=examples(
        "dagkit jobs failed-files 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f",
        "dagkit jobs failed-files 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f --json",
    ),
)
@click.argument("job_id")
@client_options
def failed_files(job_id: str, opts: ClientOptions) -> None:
    """List the input files a job could not process, and why."""
    with reporting(opts):
        failed = make_client(opts).failed_files(job_id)
    if opts.json:
        echo_json([f.to_dict() for f in failed])
    elif not failed:
        click.echo("no failed files")
    else:
        for f in failed:
            click.echo(f"{f.document}: {f.error}")


@jobs.command(
    "download",
    epilog=examples(
        "dagkit jobs download 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f --out out/",
        "dagkit jobs download JOB_ID --file-id FILE_ID --out report.json",
    ),
)
@click.argument("job_id")
@out_option(
    "dest",
    "A directory for the outputs (or, with --file-id, a file path).",
    aliases=("--dest",),
    required=True,
    type=click.Path(),
    metavar="DIR",
)
@click.option("--file-id", metavar="ID", help="Only this input file's output.")
@click.option("--node-id", metavar="ID", help="With --file-id: this node's output, not the last.")
@client_options
def download(
    job_id: str, dest: str, file_id: str | None, node_id: str | None, opts: ClientOptions
) -> None:
    """Save a job's outputs: every input file's final output, or one with --file-id."""
    if node_id is not None and file_id is None:
        raise click.UsageError("--node-id needs --file-id")
    # lazy: the client and the HTTP stack load when a command talks to the API, not for --help
    from dagkit.client.submission import check_writable_dir

    with reporting(opts):
        client = make_client(opts)
        check_writable_dir(dest if file_id is None else str(Path(dest).parent), "--dest")
        if file_id is None:
            paths = client.download_all(job_id, dest)
        else:
            paths = [client.download_one(job_id, file_id, node_id, dest=dest)]
    if opts.json:
        echo_json({"downloads": [str(p) for p in paths]})
    else:
        for path in paths:
            click.echo(f"saved {path}")


@jobs.command(
    "cancel",
    epilog=examples(
        "dagkit jobs cancel 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f",
        "dagkit jobs cancel 0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f --json",
    ),
)
@click.argument("job_id")
@client_options
def cancel(job_id: str, opts: ClientOptions) -> None:
    """Ask the server to stop a job."""
    with reporting(opts):
        answer = make_client(opts).cancel_job(job_id)
    if opts.json:
        echo_json(answer)
    else:
        message = answer.get("message") if isinstance(answer.get("message"), str) else None
        click.echo(message or f"cancel requested for job {job_id}")


@jobs.command(
    "list",
    epilog=examples(
        "dagkit jobs list",
        "dagkit jobs list --status COMPLETED --json",
        "dagkit jobs list --workflow-id 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60",
    ),
)
@click.option("--workflow-id", metavar="ID", help="Only jobs of this workflow.")
@click.option(
    "--status", metavar="STATUS", help="Only jobs with this status (e.g. COMPLETED, FAILED)."
)
@client_options
def list_jobs(workflow_id: str | None, status: str | None, opts: ClientOptions) -> None:
    """List jobs, optionally only those of one workflow or status."""
    with reporting(opts):
        found = make_client(opts).list_jobs(workflow_id=workflow_id, status=status)
    if opts.json:
        echo_json([info.to_dict() for info in found])
        return
    if not found:
        click.echo("no jobs")
        return
    # one write for the whole list: an account's list may hold tens of thousands of jobs
    click.echo("\n".join(_job_line(info) for info in found))


def _job_line(info: JobInfo) -> str:
    created = info.created_at or "-"
    return f"{info.id}  {info.status!s:<11}  {created}  {info.workflow_name or ''}".rstrip()


@click.group(
    cls=Group,
    epilog=examples("dagkit templates list", "dagkit templates get hi_res_and_enrichment"),
)
def templates() -> None:
    """List and get workflow templates."""


@templates.command("list", epilog=examples("dagkit templates list", "dagkit templates list --json"))
@client_options
def list_templates(opts: ClientOptions) -> None:
    """List the workflow templates."""
    with reporting(opts):
        found = make_client(opts).list_templates()
    if opts.json:
        echo_json([t.to_dict() for t in found])
        return
    if not found:
        click.echo("no templates")
    for t in found:
        version = f" v{t.version}" if t.version else ""
        about = f": {t.description}" if t.description else ""
        click.echo(f"{t.id}  {t.name or ''}{version}{about}")


@templates.command(
    "get",
    epilog=examples(
        "dagkit templates get hi_res_and_enrichment",
        "dagkit templates get hi_res_and_enrichment --json",
    ),
)
@click.argument("template_id")
@client_options
def get_template(template_id: str, opts: ClientOptions) -> None:
    """Show a template and its nodes."""
    with reporting(opts):
        detail = make_client(opts).get_template(template_id)
    if opts.json:
        echo_json(detail.to_dict())
    else:
        _show_template(detail)


# ----------------------------------------------------------------------------- text output


def _show_job(info: JobInfo, opts: ClientOptions) -> None:
    if opts.json:
        echo_json(info.to_dict())
        return
    rows = [
        ("job", info.id),
        ("status", str(info.status)),
        ("workflow", _join(info.workflow_name, info.workflow_id)),
        ("created", info.created_at),
        ("runtime", info.runtime),
        ("job type", info.job_type),
    ]
    if info.input_file_ids is not None:
        rows.append(("input files", ", ".join(info.input_file_ids) or "none"))
    for label, value in rows:
        if value:
            click.echo(f"{label:<12} {value}")
    for f in info.output_node_files or []:
        kind = "/".join(k for k in (f.node_type, f.node_subtype) if k)
        click.echo(f"{'output':<12} file {f.file_id} node {f.node_id} ({kind})")


def _show_details(result: JobDetails) -> None:
    click.echo(f"{'job':<12} {result.id}")
    click.echo(f"{'processing':<12} {result.processing_status}")
    if result.message:
        click.echo(f"{'message':<12} {result.message}")
    for s in result.node_stats:
        kind = "/".join(k for k in (s.node_type, s.node_subtype) if k)
        click.echo(
            f"node {s.node_name or '?'} ({kind}): ready {s.ready}, in progress {s.in_progress}, "
            f"success {s.success}, failure {s.failure}"
        )


def _show_template(detail: TemplateDetail) -> None:
    click.echo(f"{'template':<12} {detail.id}")
    for label, value in (
        ("name", detail.name),
        ("version", detail.version),
        ("updated", detail.last_updated),
        ("description", detail.description),
    ):
        if value:
            click.echo(f"{label:<12} {value}")
    for n, node in enumerate(detail.nodes, 1):
        settings = json.dumps(node.settings, ensure_ascii=False) if node.settings else ""
        click.echo(f"{n}. {node.name} ({node.type}/{node.subtype}) {settings}".rstrip())


def _join(name: str | None, ident: str | None) -> str | None:
    if name and ident:
        return f"{name} ({ident})"
    return name or ident


__all__ = ["jobs", "templates"]
