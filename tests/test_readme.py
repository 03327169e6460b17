"""The README stays true: its commands are the ones CI runs, its example code runs."""

from __future__ import annotations

import ast
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from dagkit import JobsClient, load_dag
from dagkit.cli import COMMANDS, main
from dagkit.server import serve_in_thread

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


# -- every Python block the README shows ---------------------------------------------------------

PYTHON_BLOCKS = re.findall(r"```python\n(.+?)\n```", README, re.S)


@pytest.fixture
def like_a_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What a reader of a block has around it: a checkout's examples/ in the current folder, a
    report.pdf, an API URL and key in the environment (a local server, never the platform), and
    the names the prose before a block has given (``dag``, an answer ``job``)."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n%a test document\n")
    monkeypatch.chdir(tmp_path)
    with serve_in_thread(clock="instant", rate_limit=False) as server:
        monkeypatch.setenv("UNSTRUCTURED_API_URL", server.url)
        monkeypatch.setenv("UNSTRUCTURED_API_KEY", "readme-reader-key")
        job = JobsClient().create_job(load_dag("examples/quickstart.py"), ["report.pdf"])
        yield {"dag": load_dag("examples/quickstart.py"), "job": job.raw}


def test_the_readme_shows_python_blocks() -> None:
    assert len(PYTHON_BLOCKS) >= 7
    assert any("from dagkit import Chunk, Embed, Partition" in b for b in PYTHON_BLOCKS)


@pytest.mark.parametrize(
    "code",
    PYTHON_BLOCKS,
    ids=[f"{i}-{b.split(chr(10))[0][:40]}" for i, b in enumerate(PYTHON_BLOCKS)],
)
def test_every_python_block_runs_as_written(code: str, like_a_reader: dict[str, Any]) -> None:
    namespace = dict(like_a_reader)
    exec(compile(code, "README.md", "exec"), namespace)
    # a block that defines a property test (dagkit.testing) shows it to be run: run it
    for name, value in namespace.items():
        if name.startswith("test_") and callable(value):
            value()


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
    hooks_text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    # the usage the hooks file itself shows names no tag either
    assert all(not re.match(r"v?\d", rev) for rev in re.findall(r"rev:\s*(\S+)", hooks_text))
    (hook,) = yaml.safe_load(hooks_text)
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


# -- "Only model.dag imports networkx, ..." (Development) ------------------------------------------

#: The third-party (and stdlib HTTP client) modules the README says only some modules import.
ONLY_IMPORTED_BY = {
    "networkx": ("dagkit.model.dag",),
    "jsonschema": ("dagkit.schemas.", "dagkit.devtools."),
    "jsonschema_rs": ("dagkit.schemas.check",),
    "click": ("dagkit.cli.",),
    "http.client": ("dagkit.http.transport", "dagkit.server."),
    "ssl": ("dagkit.http.transport",),
    "urllib.request": ("dagkit.http.transport",),
}


def test_only_the_modules_the_readme_names_import_each_library() -> None:
    development = " ".join(README.split("## Development", 1)[1].split())
    for claim in (
        "Only `model.dag` imports networkx",
        "only `schemas` and `devtools` import jsonschema",
        "only `schemas.check` imports jsonschema-rs",
        "only `http.transport` imports the HTTP client stack",
        "only `cli` imports click",
    ):
        assert claim in development
    importers: dict[str, set[str]] = {library: set() for library in ONLY_IMPORTED_BY}
    for path in (ROOT / "dagkit").rglob("*.py"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                for library in ONLY_IMPORTED_BY:
                    if name == library or name.startswith(library + "."):
                        importers[library].add(module)
    for library, allowed in ONLY_IMPORTED_BY.items():
        assert importers[library], f"nothing imports {library}: the README's claim is stale"
        strays = {m for m in importers[library] if not m.startswith(allowed) and m not in allowed}
        assert not strays, f"{sorted(strays)} import {library}; the README says only {allowed}"


# -- every --option the README names ----------------------------------------------------------

#: Options the README names that belong to other tools, with the tool.
OTHER_TOOLS_OPTIONS = {
    "--check": "ruff format --check",
    "--freeze": "pre-commit autoupdate --freeze",
    "--no-cache": "check-jsonschema --no-cache",
    "--rounds": "bench_batch.py --rounds",
    "--peer": "bench_server.py --peer",
    "--only": "--only manual --requests 1000",
    "--requests": "--requests 1000 --rounds 5",
    "--tool": "valgrind --tool=cachegrind",
    "--cache-sim": "--cache-sim=no python",
}


def _all_options(command: click.Command, ctx: click.Context) -> set[str]:
    found = {o for p in command.get_params(ctx) for o in (*p.opts, *p.secondary_opts)}
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            found |= _all_options(sub, click.Context(sub, parent=ctx))
    return found


def test_every_option_the_readme_names_is_one_dagkit_takes() -> None:
    """Prose names options too (`--files-per-job`, `--header-timeout`): each must still exist."""
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", README))
    for option, usage in OTHER_TOOLS_OPTIONS.items():
        assert usage in README, f"{option} is no longer named as {usage!r}: update the list"
    unknown = named - _all_options(main, click.Context(main)) - set(OTHER_TOOLS_OPTIONS)
    assert not unknown, f"the README names options no dagkit command takes: {sorted(unknown)}"
