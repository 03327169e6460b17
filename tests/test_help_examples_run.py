"""Every example at the end of a command's --help runs as written, against a local jobs API.

tests/test_cli_help.py checks that each example parses; here each one runs, in a folder laid
out as the examples assume (a checkout's examples/, requests/, pipeline.py, report.pdf, docs/),
with the placeholder ids replaced by a job and a workflow that exist on the server.
"""

from __future__ import annotations

import glob
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_cli_help import _commands, _examples

from dagkit import JobsClient, WorkflowsClient, load_dag
from dagkit.cli import main
from dagkit.server import serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
JOB_ID = "0b7d3f1e-5b0a-4d6e-9b8f-2f1d3c4a5e6f"
WORKFLOW_ID = "4f7c2a1d-8e3b-4c5d-9a6f-1b2c3d4e5f60"
#: Examples that cannot run inside a test, and why.
NOT_RUN = {
    "dagkit serve": "serves until Ctrl-C (tests/test_server_cli.py runs the command)",
    "dagkit schemas generate --catalogue": "rewrites dagkit's own source files",
}


def help_examples() -> list[str]:
    found: list[str] = []
    for path in _commands():
        text = CliRunner().invoke(main, [*path, "--help"], terminal_width=200).output
        found += [line for line in _examples(text) if line not in found]
    return found


def _words(line: str) -> list[str]:
    """The example's words as a shell would pass them: quotes, globs; pipes and > cut off."""
    words: list[str] = []
    for word in shlex.split(line.split(" | ")[0].split(" > ")[0])[1:]:
        words += sorted(glob.glob(word)) if "*" in word and "/" in word else [word]
    return words


@pytest.fixture
def checkout_like(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")  # a copy: an example writes there
    (tmp_path / "requests").mkdir()
    shutil.copy(ROOT / "examples" / "quickstart.request_data.json", tmp_path / "requests")
    shutil.copy(ROOT / "examples" / "quickstart.py", tmp_path / "pipeline.py")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n%a test document\n")
    shutil.copytree(ROOT / "examples" / "files", tmp_path / "docs")
    (tmp_path / "inbox" / "scans").mkdir(parents=True)
    (tmp_path / "inbox" / "scans" / "a.pdf").write_bytes(b"%PDF-1.4\n")
    shutil.copy(ROOT / "schemas" / "openapi" / "jobs-api.openapi.json", tmp_path / "openapi.json")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


@pytest.mark.parametrize("line", help_examples())
def test_every_help_example_runs(
    line: str, checkout_like: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if line.startswith(tuple(NOT_RUN)):
        pytest.skip(next(why for start, why in NOT_RUN.items() if line.startswith(start)))
    words = _words(line)
    with serve_in_thread(clock="instant", rate_limit=False) as server:
        monkeypatch.setenv("UNSTRUCTURED_API_URL", server.url)
        monkeypatch.setenv("UNSTRUCTURED_API_KEY", "help-example-key")
        job = JobsClient().create_job(load_dag("pipeline.py"), ["report.pdf"])
        # a run without files is a run of a workflow that reads a source connector
        source = "src" if words[:2] == ["workflows", "run"] and len(words) == 3 else None
        workflow = WorkflowsClient().create_workflow(
            load_dag("pipeline.py"), name="example", source_id=source
        )
        file_id = (job.input_file_ids or [""])[0]
        words = [
            {JOB_ID: job.id, "JOB_ID": job.id, WORKFLOW_ID: workflow.id, "FILE_ID": file_id}.get(
                w, w
            )
            for w in words
        ]
        result = CliRunner().invoke(main, words)
    assert result.exit_code == 0, f"{line}\n{result.output}"
    assert not (ROOT / "schemas" / "JobInformation.schema.json").exists()  # nothing written there


def test_the_examples_that_do_not_run_are_still_shown() -> None:
    shown = help_examples()
    for start in NOT_RUN:
        assert any(line.startswith(start) for line in shown), f"no example starts {start!r}"
