"""Every command's --help: examples at the end, one name for where output goes, lazy imports."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dagkit.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    ctx = click.Context(main)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        out.append((name,))
        if isinstance(command, click.Group):
            out += [(name, sub) for sub in command.list_commands(ctx)]
    return out


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = main
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        found = command.get_command(click.Context(command), words[0])
        assert found is not None, words
        command, words = found, words[1:]
    return command, words


def _examples(help_text: str) -> list[str]:
    assert "Examples:" in help_text
    tail = help_text.rsplit("Examples:", 1)[1]
    return [line.strip() for line in tail.splitlines() if line.strip().startswith("dagkit ")]


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "dagkit")
def test_every_help_ends_with_examples_that_parse(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    lines = _examples(result.output)
    assert 2 <= len(lines) <= 3, lines
    for line in lines:
        words = shlex.split(line.split(" | ")[0].split(" > ")[0])[1:]
        assert tuple(words[: len(path)]) == path, line
        command, args = _resolve(words)
        # every option in the command is one it takes: an unknown or misspelled one raises
        command.make_parser(click.Context(command)).parse_args([a for a in args if a != "&"])


def test_dagkit_help_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from dagkit.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('dagkit.cli.')), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    loaded = eval(result.stderr.strip().splitlines()[-1])
    assert not {f"dagkit.cli.{m}" for m in ("validate", "submit", "jobs", "batch")} & set(loaded)
    assert "Examples:" in result.stdout


@pytest.mark.parametrize(
    ("path", "old"),
    [
        (("validate",), "--output"),
        (("jobs", "download"), "--dest"),
        (("submit",), "--download"),
        (("workflows", "run"), "--download"),
    ],
)
def test_where_output_goes_is_out_everywhere_old_spellings_hidden(
    path: tuple[str, ...], old: str
) -> None:
    text = CliRunner().invoke(main, [*path, "--help"], terminal_width=200).output
    assert "-o, --out" in text
    assert old not in text.split("Examples:")[0]
    command, _ = _resolve(list(path))
    opts, _, _ = command.make_parser(click.Context(command)).parse_args([old, "somewhere", "x"])
    assert "somewhere" in opts.values()


@pytest.mark.parametrize("path", [("batch",), ("schemas", "generate")])
def test_commands_that_had_out_take_o_too(path: tuple[str, ...]) -> None:
    text = CliRunner().invoke(main, [*path, "--help"], terminal_width=200).output
    assert "-o, --out" in text


def test_the_old_report_spelling_still_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "report.sarif"
    quickstart = ROOT / "examples" / "quickstart.request_data.json"
    result = CliRunner().invoke(
        main, ["validate", str(quickstart), "--format", "sarif", "--output", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert report.is_file()
