"""Every example DAG rebuilds to the bytes of its golden request_data file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagkit.model.dag import JobDAG
from dagkit.wire.serialize import load_dag, plan_request_data

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def golden(script: Path) -> Path:
    """The request_data an example builds to: ``.request_data.json``, or ``.jsonl`` (one job
    per line) for a DAG that plans several jobs."""
    one = script.with_suffix(".request_data.json")
    return one if one.exists() else script.with_suffix(".request_data.jsonl")


SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if golden(p).exists())


def test_there_are_at_least_four_examples() -> None:
    assert len(SCRIPTS) >= 4


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_matches_its_golden_request_data(script: Path) -> None:
    dag = load_dag(script)
    assert isinstance(dag, JobDAG)
    assert dag.check() == []
    texts = plan_request_data(dag)
    assert golden(script).suffix == (".jsonl" if len(texts) > 1 else ".json")
    assert "\n".join(texts) + "\n" == golden(script).read_text(encoding="utf-8")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_dagkit_build_prints_the_golden_bytes(script: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "dagkit", "build", str(script)],
        capture_output=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout == golden(script).read_bytes()


def test_run_local_example_runs_the_main_job_end_to_end(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "run_local.py"), str(tmp_path / "out")],
        env={**os.environ, "PYTHONPATH": str(EXAMPLES.parent)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    inputs = sorted(p.name + ".json" for p in (EXAMPLES / "files").iterdir())
    assert outputs == inputs
    assert run.stdout.rstrip().endswith(
        f"COMPLETED: {len(inputs)} outputs in {tmp_path / 'out'}, 0 failed files"
    )
