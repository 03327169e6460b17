"""``dagkit workflows``: deploy a DAG as a workflow, and one command per workflow operation.

Exit codes as for the jobs commands: 0 success, 1 invalid input (or a run that did not
complete, with --wait), 2 usage error, 3 network or server error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dagkit.cli import Group
from dagkit.cli._common import (
    ClientOptions,
    client_options,
    echo_json,
    make_client,
    reporting,
)
from dagkit.cli._options import examples, follow_options, limit_options
from dagkit.cli.submit import Printer, finish
from dagkit.errors import SourceError
from dagkit.model.dag import JobDAG
from dagkit.validate.files import detect_kind
from dagkit.wire.serialize import is_python_source, load_dag
from dagkit.wire.workflows import SCHEDULES, from_workflow

if TYPE_CHECKING:
    from dagkit.client.workflows import WorkflowInfo, WorkflowsClient
    from dagkit.model.dag import JobDAG


def _client(opts: ClientOptions) -> WorkflowsClient:
    # lazy: the client and the HTTP stack load when a command talks to the API, not for --help
    from dagkit.client.workflows import WorkflowsClient

    client = make_client(opts, client_class=WorkflowsClient)
    assert isinstance(client, WorkflowsClient)
    return client


def _load(source: str) -> JobDAG:
    """A DAG from SOURCE: ``path.py[:attr]``, a request_data ``.json``, or a workflow ``.json``
    (a create body or a get-workflow answer: its nodes)."""

    # a source that cannot be loaded raises its own error: its message and exit code
    if not is_python_source(source) and _is_workflow(source):
        try:
            read = from_workflow(Path(source).read_bytes())
        except OSError as exc:
            raise SourceError(f"{source}: cannot read: {exc.strerror}") from None
        if read.dag is None:
            raise SourceError(f"{source}: has no workflow_nodes")
        return read.dag
    job = load_dag(source)
    if not isinstance(job, JobDAG):
        raise SourceError(f"{source}: a template job cannot be deployed as a custom workflow")
    return job


def _is_workflow(source: str) -> bool:
    path = Path(source)
    if not path.is_file():
        return False
    with open(path, "rb") as stream:
        return detect_kind(stream.read(64 * 1024), source) == "workflow"


_schedule = click.option(
    "--schedule",
    type=click.Choice(list(SCHEDULES)),
    help="Run by itself this often (needs a source connector to read from).",
)
_source_id = click.option(
    "--source-id", metavar="ID", help="The source connector to read files from."
)
_destination_id = click.option(
    "--destination-id", metavar="ID", help="The destination connector to write results to."
)
_reprocess = click.option(
    "--reprocess-all/--no-reprocess-all",
    default=None,
    help="Process every file of the source on each run, not only new ones.",
)


@click.group(
    cls=Group,
    epilog=examples(
        "dagkit workflows create examples/quickstart.py --name quickstart",
        "dagkit workflows list --status active",
        "dagkit workflows run 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60 report.pdf --wait --out out/",
    ),
)
def workflows() -> None:
    """Deploy a DAG as a workflow; get, list, update, delete and run workflows."""


@workflows.command(
    "create",
    epilog=examples(
        "dagkit workflows create examples/quickstart.py --name quickstart",
        "dagkit workflows create pipeline.py --name nightly --source-id SRC "
        "--destination-id DST --schedule 'every hour'",
        "dagkit workflows create examples/compare_chunkers.py --name compare --each-path --dry-run",
    ),
)
@click.argument("source")
@click.option("--name", required=True, help="The workflow's name.")
@_source_id
@_destination_id
@_schedule
@_reprocess
@click.option(
    "--each-path",
    is_flag=True,
    help="A DAG that branches: one workflow per path, named NAME-1, NAME-2, ...",
)
@click.option("--dry-run", is_flag=True, help="Print the request(s) and a curl line; send nothing.")
@client_options
def create(
    source: str,
    name: str,
    source_id: str | None,
    destination_id: str | None,
    schedule: str | None,
    reprocess_all: bool | None,
    each_path: bool,
    dry_run: bool,
    opts: ClientOptions,
) -> None:
    """Deploy SOURCE (path.py[:attr], a request_data or workflow .json) as a custom workflow.

    Without --source-id the workflow is run with files (`dagkit workflows run ID FILES`).
    """
    dag = _load(source)
    fields: dict[str, Any] = {
        "source_id": source_id,
        "destination_id": destination_id,
        "schedule": schedule,
        "reprocess_all": reprocess_all,
    }
    client = _client(opts)
    with reporting(opts):
        if each_path:
            bodies = client.workflow_bodies(dag, name=name, update=False, each_path=True, **fields)
        else:
            bodies = [client.workflow_body(dag, name=name, **fields)]
        if dry_run:
            text = "\n\n".join(client.dry_run_workflow("POST", "/workflows/", b) for b in bodies)
            if opts.json:
                echo_json({"dry_run": text})
            else:
                click.echo(text, nl=False)
            return
    with reporting(opts):
        if each_path:
            created = client.create_workflows(dag, name=name, **fields)
        else:
            created = [client.create_workflow(dag, name=name, **fields)]
    if opts.json:
        echo_json({"workflows": [w.to_dict() for w in created]})
        return
    for info in created:
        click.echo(f"created workflow {info.id} ({info.name})")


@workflows.command(
    "update",
    epilog=examples(
        "dagkit workflows update 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60 pipeline.py",
        "dagkit workflows update 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60 --name renamed --dry-run",
    ),
)
@click.argument("workflow_id")
@click.argument("source", required=False)
@click.option("--name", help="A new name.")
@_source_id
@_destination_id
@_schedule
@_reprocess
@click.option("--dry-run", is_flag=True, help="Print the request and a curl line; send nothing.")
@client_options
def update(
    workflow_id: str,
    source: str | None,
    name: str | None,
    source_id: str | None,
    destination_id: str | None,
    schedule: str | None,
    reprocess_all: bool | None,
    dry_run: bool,
    opts: ClientOptions,
) -> None:
    """Change a workflow: its nodes from SOURCE (if given) and the fields given."""
    dag = _load(source) if source is not None else None
    fields: dict[str, Any] = {
        "name": name,
        "source_id": source_id,
        "destination_id": destination_id,
        "schedule": schedule,
        "reprocess_all": reprocess_all,
    }
    if dag is None and all(v is None for v in fields.values()):
        raise click.UsageError("nothing to change: give a SOURCE or a field to set")
    client = _client(opts)
    with reporting(opts):
        if dry_run:
            if dag is not None:
                body = client.workflow_body(dag, update=True, **fields)
            else:
                body = {k: v for k, v in fields.items() if v is not None}
            # lazy: the client and the HTTP stack load when a command talks to the API
            from dagkit.client.jobs import _path_segment

            path = f"/workflows/{_path_segment(workflow_id, 'the workflow id')}"
            text = client.dry_run_workflow("PUT", path, body)
            if opts.json:
                echo_json({"dry_run": text})
            else:
                click.echo(text, nl=False)
            return
        info = client.update_workflow(workflow_id, dag, **fields)
    _show(info, opts, "updated workflow")


@workflows.command(
    "get",
    epilog=examples(
        "dagkit workflows get 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60",
        "dagkit workflows get 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60 --json",
    ),
)
@click.argument("workflow_id")
@client_options
def get(workflow_id: str, opts: ClientOptions) -> None:
    """Show a workflow and its nodes."""
    with reporting(opts):
        info = _client(opts).get_workflow(workflow_id)
    _show(info, opts)


@workflows.command(
    "list",
    epilog=examples(
        "dagkit workflows list",
        "dagkit workflows list --status active --sort-by created_at --sort-direction desc",
    ),
)
@_source_id
@_destination_id
@click.option("--status", type=click.Choice(["active", "inactive"]), help="Only in this state.")
@click.option("--name", help="Only workflows with this name.")
@click.option(
    "--created-since", metavar="TIME", help="Only created at or after this RFC 3339 time."
)
@click.option("--created-before", metavar="TIME", help="Only created before this RFC 3339 time.")
@click.option("--page", type=click.IntRange(min=1), help="The page to show (from 1).")
@click.option("--page-size", type=click.IntRange(min=1), help="Workflows per page.")
@click.option("--sort-by", metavar="FIELD", help="Sort by this field (e.g. name, created_at).")
@click.option("--sort-direction", type=click.Choice(["asc", "desc"]), help="Sort order.")
@client_options
def list_workflows(opts: ClientOptions, **filters: Any) -> None:
    """List workflows, optionally filtered."""
    with reporting(opts):
        found = _client(opts).list_workflows(**filters)
    if opts.json:
        echo_json([w.to_dict() for w in found])
        return
    if not found:
        click.echo("no workflows")
    for w in found:
        source = "source " + ",".join(w.sources) if w.sources else "run with files"
        click.echo(f"{w.id}  {w.status or '-':<8}  {w.name or ''}  ({source})")


@workflows.command(
    "delete",
    epilog=examples(
        "dagkit workflows delete 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60",
        "dagkit workflows delete 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60 --json",
    ),
)
@click.argument("workflow_id")
@client_options
def delete(workflow_id: str, opts: ClientOptions) -> None:
    """Delete a workflow (its jobs stay listed)."""
    with reporting(opts):
        answer = _client(opts).delete_workflow(workflow_id)
    if opts.json:
        echo_json(answer)
    else:
        click.echo(f"deleted workflow {workflow_id}")


@workflows.command(
    "run",
    epilog=examples(
        "dagkit workflows run 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60 report.pdf --wait",
        "dagkit workflows run 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60 report.pdf --out out/",
        "dagkit workflows run 4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60",
    ),
)
@click.argument("workflow_id")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@follow_options
@limit_options
@client_options
def run(
    workflow_id: str,
    files: tuple[str, ...],
    wait: bool,
    download: str | None,
    wait_timeout: float | None,
    opts: ClientOptions,
) -> None:
    """Start a job of a workflow, uploading FILES if it has no source connector.

    The job is followed like any other: `dagkit jobs get|wait|download JOB_ID`.
    """
    # lazy: the client and the HTTP stack load when the command runs, not for --help
    from dagkit.client.submission import run_workflow

    with reporting(opts):
        result = run_workflow(
            workflow_id,
            files,
            client=_client(opts),
            wait=wait,
            out=download,
            wait_timeout=wait_timeout,
            listener=Printer(opts, started="started"),
        )
    finish(result, opts)


# ----------------------------------------------------------------------------- text output


def _show(info: WorkflowInfo, opts: ClientOptions, title: str = "workflow") -> None:
    if opts.json:
        echo_json(info.to_dict())
        return
    rows = [
        (title, info.id),
        ("name", info.name or "-"),
        ("status", info.status or "-"),
        ("type", info.workflow_type or "-"),
        ("sources", ", ".join(info.sources) or "none (run with files)"),
        ("destinations", ", ".join(info.destinations) or "none"),
        ("schedule", ", ".join(info.crontab) or "none"),
        ("created", info.created_at or "-"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        click.echo(f"{key:<{width}}  {value}")
    read = info.workflow
    if read.dag is not None:
        click.echo("nodes (processing order):")
        for i, node in enumerate(read.dag):
            click.echo(f"  {i}. {node.name}  {node.type}/{node.subtype}  {node.id or ''}".rstrip())
