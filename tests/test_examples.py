"""Every example DAG rebuilds to the bytes of its golden request_data file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagkit.dag import JobDAG
from dagkit.serialize import load_dag, plan_request_data

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if p.with_suffix(".request_data.json").exists())


def test_there_are_at_least_four_examples() -> None:
    assert len(SCRIPTS) >= 4


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_matches_its_golden_request_data(script: Path) -> None:
    dag = load_dag(script)
    assert isinstance(dag, JobDAG)
    assert dag.check() == []
    golden = script.with_suffix(".request_data.json").read_text(encoding="utf-8")
    assert "\n".join(plan_request_data(dag)) + "\n" == golden


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_dagkit_build_prints_the_golden_bytes(script: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "dagkit", "build", str(script)],
        capture_output=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout == script.with_suffix(".request_data.json").read_bytes()
