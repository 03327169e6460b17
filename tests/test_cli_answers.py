"""The CLI against a real loopback server whose answers depart from the spec as the platform's
do: a ``created_at`` without UTC offset and ids that are not UUIDs. Every command that reads a
job succeeds, exits 0 and warns once per departure."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dagkit.cli import main
from dagkit.server import RunningServer, serve_in_thread

KEY = "answers-secret-Vb71kQ"
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
_OFFSET = re.compile(r"(Z|[+-]\d\d:\d\d)$")


def platform_like(operation: str, body: Any) -> Any:
    """An answer as the platform's get-job shapes it: naive created_at, non-UUID ids."""
    jobs = body if isinstance(body, list) else [body]
    for job in jobs:
        if isinstance(job, dict) and "created_at" in job:
            job["created_at"] = _OFFSET.sub("", job["created_at"]) + "033"  # microseconds
            job["workflow_id"] = "wf-" + job["workflow_id"][:8]
            for output in job.get("output_node_files") or []:
                output["node_id"] = "n1a2b3c4-" + output["node_id"][:4]
    return body


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", rewrite=platform_like
    ) as s:
        yield s


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, server: RunningServer) -> None:
    monkeypatch.setenv("UNSTRUCTURED_API_URL", server.url)
    monkeypatch.setenv("UNSTRUCTURED_API_KEY", KEY)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("Notes\n\nA paragraph.\n")
    return path


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def warned(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """How many of the client's warnings say ``text``."""
    found = [r for r in caplog.records if r.name == "dagkit.client.jobs" and text in r.getMessage()]
    assert all(r.levelno == logging.WARNING for r in found)
    return len(found)


def created_job(sample: Path) -> str:
    result = run("submit", EXAMPLES / "quickstart.py", sample, "--json")
    assert result.exit_code == 0, result.output
    [job] = json.loads(result.stdout)["jobs"]
    return str(job["id"])


def test_submit_wait_succeeds_on_platform_like_answers(
    sample: Path, caplog: pytest.LogCaptureFixture
) -> None:
    result = run("submit", EXAMPLES / "quickstart.py", sample, "--wait", "--json")
    assert result.exit_code == 0, result.output
    [job] = json.loads(result.stdout)["jobs"]
    assert job["status"] == "COMPLETED"
    assert not _OFFSET.search(job["created_at"])
    assert warned(caplog, "get_job answer: DK504 created_at") == 1


def test_jobs_get_and_wait_succeed_on_platform_like_answers(
    sample: Path, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = created_job(sample)
    caplog.clear()
    got = run("jobs", "get", job_id)
    assert got.exit_code == 0, got.output
    assert job_id in got.stdout and "COMPLETED" in got.stdout
    assert warned(caplog, "has no UTC offset; read as UTC") == 1
    assert warned(caplog, "is not a UUID; used as given") == 2  # workflow_id, node_id
    waited = run("jobs", "wait", job_id)
    assert waited.exit_code == 0, waited.output
    assert "COMPLETED" in waited.stdout


def test_jobs_list_succeeds_and_warns_once(sample: Path, caplog: pytest.LogCaptureFixture) -> None:
    created_job(sample)
    created_job(sample)
    caplog.clear()
    listed = run("jobs", "list")
    assert listed.exit_code == 0, listed.output
    assert warned(caplog, "has no UTC offset; read as UTC") == 1


def test_a_user_sees_the_warning_and_exit_0(server: RunningServer, sample: Path) -> None:
    job_id = created_job(sample)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "dagkit", "jobs", "get", job_id],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "COMPLETED" in done.stdout
    assert done.stderr.count("has no UTC offset; read as UTC") == 1
    assert KEY not in done.stdout + done.stderr


def test_validate_response_words_the_departures_as_the_client_does(
    server: RunningServer, sample: Path, tmp_path: Path
) -> None:
    from dagkit.client.jobs import JobsClient

    job_id = created_job(sample)
    answer = JobsClient(url=server.url, api_key=KEY).get_job(job_id).raw
    path = tmp_path / "job.response.json"
    path.write_text(json.dumps(answer, indent=2))
    result = run("validate", "--kind", "response", path)
    assert result.exit_code == 0, result.output
    assert f'created_at "{answer["created_at"]}" has no UTC offset; read as UTC' in result.output
    assert "DK504" in result.output


def test_batch_saves_every_output_when_get_job_lists_no_file_ids(tmp_path: Path) -> None:
    """The platform's get-job may leave input_file_ids out (the create answer has them), and
    nothing promises their order: batch keeps the create answer's ids and matches by name."""
    from test_batch import HI_RES, assert_outputs, make_tree

    def platform_get_job(operation: str, body: Any) -> Any:
        if operation == "create_job":
            body["input_file_ids"].reverse()
        elif operation in ("get_job", "list_jobs"):
            for job in body if isinstance(body, list) else [body]:
                job.pop("input_file_ids", None)
        return body

    docs = tmp_path / "docs"
    rels = make_tree(docs, 6, extras=False)
    dag = tmp_path / "dag.json"
    dag.write_text(HI_RES, encoding="utf-8")
    out = tmp_path / "out"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock=0.05, rewrite=platform_get_job) as s:
        result = run("batch", dag, docs, "--out", out, "--url", s.url, "--min-interval", "0")
    assert result.exit_code == 0, result.output
    assert "6 done" in result.output
    assert_outputs(out, docs, rels)
