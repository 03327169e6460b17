"""The README stays true: its commands are the ones CI runs, its example code runs."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dagkit.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quickstart_commands() -> list[str]:
    section = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = quickstart_commands()
    assert len(commands) == 2
    install_and_run, test = commands
    # a venv first: Debian 12's Python (PEP 668) refuses `pip install` outside one
    venv = "python3 -m venv .venv && . .venv/bin/activate && "
    assert install_and_run.startswith(venv + "pip install . && dagkit submit --local ")
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


# -- every command the README shows -------------------------------------------------------------


def readme_commands() -> list[str]:
    """Each ``dagkit ...`` command in the README's sh blocks (comments and pipes cut off)."""
    found = []
    for block in re.findall(r"```sh\n(.+?)\n```", README, re.S):
        for line in block.splitlines():
            line = re.split(r"\s+#\s", line)[0].split(" | ")[0].split(" > ")[0]
            found += [c.strip() for c in line.split("&&") if c.strip().startswith("dagkit ")]
    return found


def _resolve(words: list[str]) -> tuple[click.Command, list[str]]:
    command: click.Command = main
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        found = command.get_command(click.Context(command), words[0])
        assert found is not None, f"no command {words[0]!r}"
        command, words = found, words[1:]
    return command, words


def test_the_readme_shows_many_commands() -> None:
    shown = {c.split()[1] for c in readme_commands()}
    assert {"submit", "validate", "serve", "batch", "jobs", "workflows"} <= shown


@pytest.mark.parametrize("line", readme_commands())
def test_every_readme_command_is_one_dagkit_takes(line: str) -> None:
    command, args = _resolve(shlex.split(line)[1:])
    # every option in the command is one it takes: an unknown or misspelled one raises
    command.make_parser(click.Context(command)).parse_args([a for a in args if a != "&"])


def test_the_serve_in_thread_example_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    section = README.split("## A local jobs API", 1)[1].split("\n## ", 1)[0]
    (code,) = [
        c for c in re.findall(r"```python\n(.+?)\n```", section, re.S) if "serve_in_thread" in c
    ]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})


def test_request_files_and_the_server_data_dir_are_different_folders() -> None:
    data_dirs = set(re.findall(r"--data-dir\s+(\S+)", README))
    validated = set()
    for line in readme_commands():
        if line.startswith("dagkit validate "):
            validated |= {w for w in shlex.split(line)[2:] if not w.startswith("-")}
    norm = {d.strip("./").rstrip("/") for d in data_dirs}
    assert data_dirs and not norm & {v.strip("./").rstrip("/") for v in validated}


def test_the_pre_commit_snippet_names_a_revision_that_can_exist() -> None:
    yaml = pytest.importorskip("yaml")
    section = README.split("### pre-commit", 1)[1].split("\n### ", 1)[0]
    snippet = re.search(r"```yaml\n(.+?)\n```", section, re.S)
    assert snippet is not None
    (repo,) = yaml.safe_load(snippet.group(1))
    # no tag is published: a full commit sha (explained below the snippet), never "v0.1.0"
    assert re.fullmatch(r"[0-9a-f]{40}", str(repo["rev"])), repo["rev"]
    assert "sha" in section and "no release tags" in section
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in repo["hooks"]] == [hook["id"]]


WORKFLOW = ROOT / "examples" / "github-actions" / "dagkit-validate.yml"


def test_the_github_actions_example_validates_and_uploads_sarif(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    assert str(WORKFLOW.relative_to(ROOT)) in README
    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow["permissions"]["security-events"] == "write"
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    (validate,) = [s["run"] for s in steps if str(s.get("run", "")).startswith("dagkit validate")]
    (upload,) = [
        s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")
    ]
    assert upload["if"] == "always()"
    words = shlex.split(validate)
    sarif = words[words.index("--out") + 1]
    assert upload["with"]["sarif_file"] == sarif
    # the command as written, on a folder of the repository's examples
    folder = tmp_path / "requests"
    folder.mkdir()
    for example in sorted((ROOT / "examples").glob("*.request_data.json*")):
        (folder / example.name).write_bytes(example.read_bytes())  # .jsonl: a job per line
    for example in ("quickstart", "extract"):
        (folder / f"{example}.dag.py").write_bytes(
            (ROOT / "examples" / f"{example}.py").read_bytes()
        )
    result = subprocess.run(
        [sys.executable, "-m", "dagkit", *words[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / sarif).read_text())
    assert report["version"] == "2.1.0"
    assert "7 files, 0 errors" in result.stderr or "files, 0 errors" in result.stderr


def test_a_mistyped_command_as_the_readme_shows_it() -> None:
    result = CliRunner().invoke(main, ["sumbit"])
    assert 'did you mean "submit"?' in result.output
