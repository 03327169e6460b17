"""The README stays true: its commands are the ones CI runs, its example code runs."""

from __future__ import annotations

import re
from pathlib import Path

from dagkit.cli import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = quickstart_commands()
    assert len(commands) == 2
    install_and_run, test = commands
    assert install_and_run.startswith("pip install . && dagkit submit --local ")
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci_lines, "CI must run the README's test command exactly as written"


def test_library_example_runs() -> None:
    section = README.split("## Build a DAG in Python", 1)[1]
    code = re.search(r"```python\n(.+?)\n```", section, re.S)
    assert code is not None
    exec(compile(code.group(1), "README.md", "exec"), {})


def test_cli_table_lists_every_command() -> None:
    table = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for name in COMMANDS:
        assert f"`dagkit {name}" in table, f"README's CLI table misses dagkit {name}"
