"""``dagkit validate``: check request_data files, multipart bodies and responses, for CI.

Thin: parse the options and call :func:`dagkit.cli._check.check`, the command's one body
(validate, render, print), which :func:`dagkit.cli.run` also calls without click for a bare
``dagkit validate PATH...``; exit 0 (all valid), 1 (something invalid; with ``--strict``
warnings count) or 2 (usage error: a missing file, a bad option).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from dagkit.cli._check import Handover, check
from dagkit.cli._options import examples, limit_options, max_file_size, out_option
from dagkit.core.suggest import did_you_mean, shortlist
from dagkit.errors import InputPathError, UsageError
from dagkit.findings import CODES, codes_matching
from dagkit.report import FORMATS
from dagkit.schemas.store import operation_ids
from dagkit.validate.files import KINDS


def _codes(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """Each pattern must name at least one code: a typo must not silently select nothing."""
    for pattern in value:
        if not codes_matching(pattern):
            hint = did_you_mean(pattern, [*CODES, *(r.name for r in CODES.values())])
            hint = f"; {hint}" if hint else ""
            raise click.BadParameter(f'"{pattern}" names no finding code{hint}')
    return value


@click.command(
    epilog=examples(
        "dagkit validate requests/ examples/quickstart.py",
        "dagkit validate . --exclude node_modules --strict --format github",
        "dagkit validate requests/ --format sarif --out dagkit.sarif",
    )
)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    help="Treat every file as this kind instead of telling it from the content.",
)
@click.option(
    "--content-type",
    metavar="CT",
    help="Content-Type of multipart bodies (default: the boundary of the first delimiter line).",
)
@click.option(
    "--status", type=click.IntRange(100, 599), help="HTTP status of responses (default: guessed)."
)
@click.option(
    "--operation",
    metavar="OP",
    help="Operation that responses answer, e.g. get_job (default: guessed from the shape).",
)
@limit_options
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Leave out what a directory or pattern finds that matches GLOB (a path, a path inside "
    "the directory, or a name, e.g. 'node_modules' or '*.schema.json'). Repeatable.",
)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option(
    "--select",
    "selected",
    multiple=True,
    metavar="CODE",
    callback=_codes,
    help="Report only these codes: a code (DK305), a prefix (DK3) or a name. Repeatable.",
)
@click.option(
    "--ignore",
    "ignored",
    multiple=True,
    metavar="CODE",
    callback=_codes,
    help="Never report these codes (as --select). Repeatable; wins over --select.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Report format.",
)
@out_option(
    "output",
    "Write the report to this file (atomically) instead of standard output.",
    aliases=("--output",),
    type=click.Path(dir_okay=False),
    metavar="FILE",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Processes to use (default: both cores only for thousands of files).",
)
def validate(
    paths: tuple[str, ...],
    kind: Any,
    content_type: str | None,
    status: int | None,
    operation: str | None,
    exclude: tuple[str, ...],
    strict: bool,
    selected: tuple[str, ...],
    ignored: tuple[str, ...],
    fmt: str,
    output: str | None,
    jobs: int | None,
) -> None:
    """Check request_data files, multipart bodies, captured HTTP requests and API responses.

    PATH may be a file, a directory (its *.json, *.jsonl, *.multipart, *.http, *.bin and *.dag.py
    files, recursively), a glob pattern, - for standard input, or a Python DAG source (path.py or
    path.py:attr), which is loaded, built and checked. A *.jsonl file holds one request_data per
    line, as `dagkit build` prints a DAG of several jobs. What each file holds is told from its
    content unless --kind says; JSON files a directory walk finds that are none of dagkit's kinds
    (package.json, tsconfig.json, JSON Schemas, OpenAPI documents) are skipped and listed. Exit
    status: 0 all valid, 1 something invalid, 2 usage error.
    """

    ctx = click.get_current_context()
    if operation is not None:
        _check_operation(operation)
    try:
        if isinstance(ctx.obj, Handover):  # what `dagkit.cli.run` began without click
            raise ctx.obj.error
        code = check(
            paths,
            echo=_echo,
            kind=kind,
            content_type=content_type,
            operation=operation,
            status=status,
            max_file_size=max_file_size(),
            exclude=exclude,
            strict=strict,
            selected=selected,
            ignored=ignored,
            fmt=fmt,
            output=output,
            jobs=jobs,
        )
    except (InputPathError, UsageError) as exc:
        raise click.UsageError(str(exc)) from None
    sys.exit(code)


def _echo(text: str, err: bool) -> None:
    click.echo(text, nl=False, err=err)


def _check_operation(operation: str) -> None:
    known = operation_ids()
    if operation not in known:
        raise click.BadParameter(
            f'"{operation}" is not an operation of the jobs API; '
            + (did_you_mean(operation, known) or f"use one of {shortlist(known)}"),
            param_hint="--operation",
        )
