"""``--max-file-size``: one option, on every command that checks files, with the same effect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.py"


def dagkit(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("UNSTRUCTURED_")}
    environ.update(PYTHONPATH=str(ROOT), UNSTRUCTURED_API_KEY="key-for-tests")
    return subprocess.run(
        [sys.executable, "-m", "dagkit", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize(
    "command", [["validate"], ["submit"], ["batch"], ["workflows", "run"], ["serve"]]
)
def test_every_command_that_checks_files_takes_the_limit(command: list[str]) -> None:
    result = dagkit(*command, "--help")
    assert result.returncode == 0
    assert "--max-file-size BYTES" in result.stdout


def test_submit_applies_the_limit_it_is_given(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("a note of more than a hundred bytes. " * 4)
    refused = dagkit("submit", str(QUICKSTART), str(note), "--max-file-size", "100", "--dry-run")
    assert refused.returncode == 1
    assert "DK414" in refused.stderr and "the limit is 100" in refused.stderr
    assert "--max-file-size" in refused.stderr  # the hint names the option that exists here
    taken = dagkit("submit", str(QUICKSTART), str(note), "--max-file-size", "1KiB", "--dry-run")
    assert taken.returncode == 0, taken.stderr
    assert "DK414" not in taken.stderr


def test_batch_applies_the_limit_it_is_given(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("a note of more than a hundred bytes. " * 4)
    out = tmp_path / "out"
    dagkit(
        "batch", str(QUICKSTART), str(note), "--out", str(out), "--local",
        "--max-file-size", "100", "--min-interval", "0",
    )  # fmt: skip
    report = json.loads((out / "dagkit-batch-report.json").read_text())
    assert "the limit is 100" in json.dumps(report)


def test_a_bad_size_is_a_usage_error() -> None:
    result = dagkit("submit", str(QUICKSTART), "--max-file-size", "ten", "--dry-run")
    assert result.returncode == 2
    assert "is not a size" in result.stderr
