"""The README's "From a local try to a deployed workflow" runs end to end against ``dagkit
serve``, as written (only the port is a free one), and so does examples/deploy_workflow.py."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from dagkit import JobDAG, load_dag
from dagkit.wire.workflows import from_workflow, to_workflow

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## From a local try to a deployed workflow", 1)[1].split("\n## ", 1)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_commands_deploy_and_run_the_quickstart(tmp_path: Path) -> None:
    script = re.search(r"```sh\n(.+?)\n```", SECTION, re.S)
    assert script is not None
    lines = script.group(1)
    assert "dagkit workflows create examples/quickstart.py" in lines
    port = str(free_port())
    lines = lines.replace("8765", port)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    # `dagkit` as an installed command would be: a process of its own, so `&` and kill work
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dagkit").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m dagkit "$@"\n')
    (bin_dir / "dagkit").chmod(0o755)
    shell = "set -eu\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + lines + "\n"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("UNSTRUCTURED_API_URL", None)
    done = subprocess.run(
        ["bash", "-c", shell],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    inputs = sorted(p.name + ".json" for p in (ROOT / "examples" / "files").iterdir())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == inputs
    assert "started job " in done.stdout and "deleted workflow " in done.stdout
    assert '"workflow_type":"custom"' in done.stdout  # the dry run printed the body
    assert "nodes (processing order):" in done.stdout


def test_the_readme_python_builds_the_body_and_reads_it_back() -> None:
    dag = load_dag(ROOT / "examples" / "quickstart.py")
    assert isinstance(dag, JobDAG)
    body = to_workflow(dag, name="docs", destination_id="...", schedule="daily")
    assert from_workflow(body).dag == dag
    assert "assert from_workflow(body).dag == dag" in SECTION


def test_deploy_workflow_example_runs_end_to_end(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "deploy_workflow.py"), str(tmp_path / "out")],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.rstrip().endswith("same as the try: True")
    inputs = sorted(p.name + ".json" for p in (ROOT / "examples" / "files").iterdir())
    assert sorted(p.name for p in (tmp_path / "out" / "deployed").iterdir()) == inputs
