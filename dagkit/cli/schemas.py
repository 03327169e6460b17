"""``dagkit schemas``: list, show, generate and check the schemas dagkit holds."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dagkit.cli import Group
from dagkit.cli._options import examples, out_option
from dagkit.devtools import schemafiles
from dagkit.errors import SchemaError
from dagkit.schemas import store as lib

_DIR = click.Path(file_okay=False, path_type=Path)


@click.group(
    "schemas",
    cls=Group,
    epilog=examples(
        "dagkit schemas list", "dagkit schemas show request-data", "dagkit schemas check"
    ),
)
def schemas() -> None:
    """List, show, generate and check the schemas."""


@schemas.command(
    "list", epilog=examples("dagkit schemas list", "dagkit schemas list | grep generated")
)
def list_() -> None:
    """Show every schema: its name, title and where it comes from."""
    try:
        rows = [lib.schema_info(name) for name in lib.schema_names()]
    except SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    width_name = max(len("NAME"), *(len(r.name) for r in rows))
    width_title = max(len("TITLE"), *(len(r.title) for r in rows))
    click.echo(f"{'NAME':<{width_name}}  {'TITLE':<{width_title}}  SOURCE")
    for row in rows:
        click.echo(f"{row.name:<{width_name}}  {row.title:<{width_title}}  {row.source}")


@schemas.command(
    "show",
    epilog=examples(
        "dagkit schemas show request-data", "dagkit schemas show Body_create_job > body.schema.json"
    ),
)
@click.argument("name")
def show(name: str) -> None:
    """Print the schema NAME (see `dagkit schemas list`) as JSON."""
    try:
        schema = lib.load_schema(name)
    except SchemaError as exc:
        raise click.BadParameter(str(exc), param_hint="NAME") from None
    click.echo(json.dumps(schema, indent=2, ensure_ascii=False))


@schemas.command(
    "generate",
    epilog=examples(
        "dagkit schemas generate --spec openapi.json --out schemas/",
        "dagkit schemas generate --catalogue",
    ),
)
@click.option("--spec", "spec_path", type=click.Path(path_type=Path),
              help="The OpenAPI 3.1 JSON document to read.")  # fmt: skip
@out_option("out_dir", "Where to write one <Name>.schema.json per component.",
            type=_DIR, metavar="DIR")  # fmt: skip
@click.option("--catalogue", is_flag=True,
              help="Write the files generated from the node catalogue "
              "(dagkit/model/catalogue/source.py) into this source checkout.")  # fmt: skip
def generate(spec_path: Path | None, out_dir: Path | None, catalogue: bool) -> None:
    """Write one JSON Schema file per component the spec's operations use (--spec, --out), and
    with --catalogue, request-data.schema.json and the catalogue's Python data."""
    if (spec_path is None) != (out_dir is None):
        raise click.UsageError("--spec and --out go together")
    if spec_path is None and not catalogue:
        raise click.UsageError("say what to generate: --spec and --out, or --catalogue")
    written: list[Path] = []
    if spec_path is not None and out_dir is not None:
        try:
            spec = schemafiles.read_openapi(spec_path)
        except SchemaError as exc:
            raise click.BadParameter(str(exc), param_hint="--spec") from None
        try:
            written += schemafiles.generate_component_schemas(spec, out_dir)
        except SchemaError as exc:
            raise click.ClickException(str(exc)) from None
    if catalogue:
        try:
            written += schemafiles.generate_catalogue(schemafiles.checkout_root())
        except SchemaError as exc:
            raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(str(path))
    click.echo(f"wrote {len(written)} files", err=True)


@schemas.command(
    "check", epilog=examples("dagkit schemas check", "dagkit schemas check --dir schemas/")
)
@click.option("--dir", "schemas_dir", type=_DIR, default=None,
              help="A schemas/ directory to check instead of the installed one.")  # fmt: skip
def check(schemas_dir: Path | None) -> None:
    """Check for drift from the OpenAPI document, metaschema errors and broken $refs."""
    if schemas_dir is not None and not schemas_dir.is_dir():
        raise click.BadParameter(f"{schemas_dir}: no such directory", param_hint="--dir")
    problems = schemafiles.check_schemas(schemas_dir)
    if problems:
        for problem in problems:
            click.echo(problem)
        raise click.ClickException(f"{len(problems)} problem(s) found")
    click.echo(f"{len(lib.schema_names(schemas_dir))} schemas OK")
