"""The ``dagkit`` command group: thin click commands over the library.

Each command lives in its own module and is imported only when it runs, so ``dagkit validate``
does not pay for networkx or the HTTP stack. Every command exits with a
:class:`dagkit.errors.ExitCode`; an error no command handled is turned into its message (or, with
``--json``, an ``{"error": ...}`` object) and its code here, in one place. The command line
reaches this group through :func:`dagkit.cli.run`, which answers ``dagkit validate PATH...``
without click when that cannot change what the command does.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from dagkit import __version__
from dagkit.cli._options import examples
from dagkit.core.suggest import did_you_mean
from dagkit.errors import DagkitError, ExitCode, exit_code
from dagkit.http.redact import redact_output

#: command name -> (module, attribute, one-line help shown by ``dagkit --help``)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "build": ("dagkit.cli.build", "build", "Print the request_data of a DAG (one line per job)."),
    "graph": ("dagkit.cli.build", "graph", "Draw a DAG as text, Mermaid or Graphviz dot."),
    "schemas": ("dagkit.cli.schemas", "schemas", "List, show, generate and check the schemas."),
    "validate": ("dagkit.cli.validate", "validate", "Check request_data, bodies and responses."),
    "submit": ("dagkit.cli.submit", "submit", "Submit a DAG and its files as a job."),
    "jobs": ("dagkit.cli.jobs", "jobs", "Get, wait for, download, cancel and list jobs."),
    "templates": ("dagkit.cli.jobs", "templates", "List and get workflow templates."),
    "workflows": (
        "dagkit.cli.workflows",
        "workflows",
        "Deploy a DAG as a workflow; get, list, update, delete and run workflows.",
    ),
    "serve": ("dagkit.cli.serve", "serve", "Run the embedded local jobs API."),
    "batch": ("dagkit.cli.batch", "batch", "Run many files through many jobs, resumably."),
}


class Group(click.Group):
    """A group that answers a mistyped subcommand with the closest name."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if self.get_command(ctx, name) is not None or name.startswith("-") or ctx.resilient_parsing:
            return super().resolve_command(ctx, args)

        hint = did_you_mean(name, self.list_commands(ctx))
        ctx.fail(f"no command {name!r}" + (f"; {hint}" if hint else "; see dagkit --help"))


class LazyGroup(Group):
    """A group whose subcommands are imported on first use, and the one place where errors
    that no command handled become a message and an exit code."""

    _json = False

    def main(self, args: Sequence[str] | None = None, *a: Any, **kw: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        # --json asks for JSON errors too, even when the command line itself is wrong
        self._json = "--json" in (argv[: argv.index("--")] if "--" in argv else argv)
        return super().main(argv, *a, **kw)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:
            if not self._json:
                raise
            self._fail(exc, exc.exit_code)
        except DagkitError as exc:
            self._fail(exc, exit_code(exc))
        except KeyboardInterrupt as exc:  # a JobsInterrupted says which jobs exist
            self._fail(exc, ExitCode.INTERRUPTED)

    def _fail(self, exc: BaseException, code: int) -> NoReturn:
        # lazy: only a command that fails needs the error printer and what it imports
        from dagkit.cli._common import show_error

        show_error(exc, as_json=self._json, code=code)
        sys.exit(code)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not self._available(cmd_name):
            return None
        module, attr, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from COMMANDS so `dagkit --help` imports no command module.
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    @staticmethod
    def _available(name: str) -> bool:
        return importlib.util.find_spec(COMMANDS[name][0]) is not None


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=examples(
        "dagkit validate requests/ examples/quickstart.py",
        "dagkit submit --local examples/quickstart.py examples/files/* --wait --out out",
        "dagkit jobs list --status FAILED",
    )
    + "\n\nEach command's --help shows its own examples.",
)
@click.version_option(__version__, prog_name="dagkit")
def main(**_: Any) -> None:
    """Build, validate and submit Unstructured Platform on-demand job DAGs."""
    # The one place output is made safe: every secret the process knows (the key, proxy
    # passwords) is hidden from whatever any command prints, logs or lets escape.
    redact_output()
