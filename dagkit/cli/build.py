"""``dagkit build`` and ``dagkit graph``: a DAG source in, request_data or a drawing out."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from dagkit.cli._options import examples
from dagkit.cli._terminal import colour_ok
from dagkit.findings import has_errors
from dagkit.model.dag import JobDAG
from dagkit.report import text_lines
from dagkit.wire.serialize import check_source, load_dag, plan_request_data

if TYPE_CHECKING:
    from dagkit.model.dag import JobDAG
    from dagkit.wire.serialize import TemplateJob


def _load(source: str) -> JobDAG | TemplateJob:
    return load_dag(source)  # an error: its message and exit code (see dagkit.cli)


@click.command(
    epilog=examples(
        "dagkit build examples/quickstart.py",
        "dagkit build examples/compare_chunkers.py:dag > jobs.jsonl",
        "dagkit build requests/quickstart.request_data.json",
    )
)
@click.argument("source")
def build(source: str) -> None:
    """Print the request_data of SOURCE (a .json file or path.py[:attr]).

    A DAG that plans into several jobs prints one line per job. A DAG with error findings is
    refused like a compiler refuses a program: the findings go to stderr, nothing to stdout,
    exit 1.
    """

    job, findings = check_source(source)  # an error: its message and exit code
    for line in text_lines(findings, colour=colour_ok(sys.stderr)):
        click.echo(line, err=True)
    if has_errors(findings):
        click.echo(f"{source}: not built: {sum(f.is_error for f in findings)} error(s)", err=True)
        sys.exit(1)
    for text in plan_request_data(job):
        click.echo(text)


@click.command(
    epilog=examples(
        "dagkit graph examples/compare_chunkers.py",
        "dagkit graph examples/quickstart.py --format mermaid",
        "dagkit graph examples/quickstart.py --format dot | dot -Tsvg > dag.svg",
    )
)
@click.argument("source")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "mermaid", "dot"]),
    default="text",
    show_default=True,
)
def graph(source: str, fmt: str) -> None:
    """Draw the DAG in SOURCE as text, a Mermaid flowchart or Graphviz dot."""
    job = _load(source)
    if not isinstance(job, JobDAG):
        click.echo(f"template job: {job.template_id}")
        return
    click.echo(job.draw(fmt), nl=False)  # type: ignore[arg-type]
