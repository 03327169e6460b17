"""request_data in JSON Lines, one job per line, as ``dagkit build`` prints a DAG that plans
several jobs: ``dagkit validate`` checks each line with findings at the file's lines, and
``dagkit submit`` sends each line as a job, as the user types the commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dagkit.errors import ExitCode
from dagkit.server import serve_in_thread
from dagkit.validate.request_data import validate_request_lines

ROOT = Path(__file__).resolve().parent.parent
KEY = "json-lines-test-key-0123456789"
#: the golden JSON Lines of the example that plans two jobs
LINES = (ROOT / "examples" / "compare_chunkers.request_data.jsonl").read_text().splitlines()


def dagkit(*args: str | Path, cwd: Path) -> Any:
    """``dagkit ARGS`` in a new process, as typed in a shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNSTRUCTURED_")}
    env.update(PYTHONPATH=str(ROOT), UNSTRUCTURED_API_KEY=KEY)
    return subprocess.run(
        [sys.executable, "-m", "dagkit", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_examples_passes() -> None:
    result = dagkit("validate", "examples/", cwd=ROOT)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert (
        "compare_chunkers.request_data.jsonl"
        in dagkit("validate", "examples/", "--format", "json", cwd=ROOT).stdout
    )


def test_what_build_prints_validates_with_findings_at_their_lines(tmp_path: Path) -> None:
    built = dagkit("build", ROOT / "examples" / "compare_chunkers.py", cwd=tmp_path)
    assert built.returncode == 0 and built.stdout.count("\n") == 2, built.stderr
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(built.stdout)
    ok = dagkit("validate", "jobs.jsonl", cwd=tmp_path)
    assert ok.returncode == ExitCode.OK, ok.stdout
    # a blank line, then the second job with a setting of the wrong type: line 3
    first, second = built.stdout.splitlines()
    bad = second.replace('"max_characters":1000', '"max_characters":"many"')
    jobs.write_text(f"{first}\n\n{bad}\n")
    column = bad.index('"many"') + 1
    found = dagkit("validate", "jobs.jsonl", cwd=tmp_path)
    assert found.returncode == ExitCode.INVALID
    assert f"jobs.jsonl:3:{column}: DK2" in found.stdout, found.stdout
    assert "/job_nodes/1/settings/max_characters" in found.stdout
    report = json.loads(dagkit("validate", "jobs.jsonl", "--format", "json", cwd=tmp_path).stdout)
    [located] = report["files"][0]["findings"]
    assert (located["line"], located["column"]) == (3, column)


def test_several_lines_in_a_json_file_point_to_jsonl(tmp_path: Path) -> None:
    (tmp_path / "jobs.json").write_text("\n".join(LINES) + "\n")
    result = dagkit("validate", "jobs.json", cwd=tmp_path)
    assert result.returncode == ExitCode.INVALID
    assert "jobs.json:2:1: DK100" in result.stdout and "name the file .jsonl" in result.stdout


def test_a_folder_walk_skips_jsonl_that_is_not_request_data(tmp_path: Path) -> None:
    (tmp_path / "dataset.jsonl").write_text('{"text": "a"}\n{"text": "b"}\n')
    (tmp_path / "jobs.jsonl").write_text("\n".join(LINES) + "\n")
    result = dagkit("validate", ".", cwd=tmp_path)
    assert result.returncode == ExitCode.OK, result.stdout
    assert "skipped 1 file" in result.stderr and "dataset.jsonl" in result.stderr
    empty = tmp_path / "empty.request_data.jsonl"
    empty.write_text("\n\n")
    assert "no request_data line" in dagkit("validate", empty, cwd=tmp_path).stdout


def test_submit_sends_each_line_as_a_job(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(LINES) + "\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        sent = dagkit(
            "submit", "jobs.jsonl", "notes.txt", "--url", server.url, "--json", cwd=tmp_path
        )
        assert sent.returncode == ExitCode.OK, sent.stderr
        assert len(json.loads(sent.stdout)["jobs"]) == 2
        # a bad line is found, at its line, before anything is sent
        jobs.write_text(LINES[0] + "\n" + LINES[1].replace('"By page"', '"By page"   ,') + "\n")
        refused = dagkit("submit", "jobs.jsonl", "notes.txt", "--url", server.url, cwd=tmp_path)
        assert refused.returncode == ExitCode.INVALID, refused.stderr
        assert "jobs.jsonl:2:" in refused.stderr
        assert server.requests("create_job") == 2  # the two of the first submission only
    # build and graph take one DAG: a clear refusal, not a JSON error
    for command in (["build"], ["graph"], ["workflows", "create", "--name", "w", "--dry-run"]):
        refused = dagkit(*command, "jobs.jsonl", cwd=tmp_path)
        assert refused.returncode == ExitCode.INVALID, (command, refused.stderr)
        assert "this takes one DAG" in refused.stderr and "Traceback" not in refused.stderr
    # the exit-code contract: a missing file is the command line (2), an empty one the input (1)
    missing = dagkit("submit", "missing.jsonl", "notes.txt", "--json", cwd=tmp_path)
    error = json.loads(missing.stdout)["error"]
    assert (missing.returncode, error["exit_code"], error["type"]) == (2, 2, "SourceError")
    (tmp_path / "empty.jsonl").write_text("\n")
    empty = dagkit("submit", "empty.jsonl", "notes.txt", cwd=tmp_path)
    assert empty.returncode == ExitCode.INVALID and "no request_data line" in empty.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text(LINES[0] + "\n" + LINES[1][:-1] + "\n")
    unloadable = dagkit("submit", "broken.jsonl", "notes.txt", cwd=tmp_path)
    assert unloadable.returncode == ExitCode.INVALID and "broken.jsonl:2:" in unloadable.stderr


@given(
    lines=st.lists(st.sampled_from(LINES), min_size=1, max_size=5),
    blanks=st.lists(st.integers(0, 2), min_size=6, max_size=6),
    broken=st.integers(0, 4),
    crlf=st.booleans(),
)
def test_each_finding_is_at_its_line(
    lines: list[str], blanks: list[int], broken: int, crlf: bool
) -> None:
    broken %= len(lines)
    end = "\r\n" if crlf else "\n"
    text, where = "", 0
    for n, line in enumerate(lines):
        text += end * blanks[n]
        if n == broken:
            where = text.count("\n") + 1
            line = line.replace('"type":"chunk"', '"type":"chunk",,')
        text += line + end
    text += end * blanks[-1]
    [found] = validate_request_lines(text, file="jobs.jsonl")
    assert (found.code, found.line) == ("DK100", where)
    assert found.column == lines[broken].index('"type":"chunk"') + len('"type":"chunk",') + 1
