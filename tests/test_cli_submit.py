"""``dagkit submit``, ``dagkit jobs`` and ``dagkit templates``: exit codes, output shapes, and the
API key never appearing in any output. Against a real loopback server (tests/httpfaults.py), the
embedded jobs API for ``--local``, and one real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from httpfaults import FaultServer, RefusedPort, Reply

from dagkit.cli import main
from dagkit.http.transport import RetryPolicy

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KEY = "cli-secret-Hk29fLq0"
JOBS = "/api/v1/jobs/"
JOB_ID = "6f1c2e4a-8b3d-4c5e-9f70-1a2b3c4d5e6f"
FILE_IDS = ["f-0001"]


def job_json(status: str = "SCHEDULED", job_id: str = JOB_ID) -> dict[str, Any]:
    return {
        "id": job_id,
        "workflow_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "workflow_name": "on-demand",
        "status": status,
        "created_at": "2026-01-02T03:04:05Z",
        "input_file_ids": FILE_IDS,
        "output_node_files": [],
        "job_type": "ephemeral",
    }


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, server: FaultServer) -> None:
    monkeypatch.setenv("UNSTRUCTURED_API_URL", server.url)
    monkeypatch.setenv("UNSTRUCTURED_API_KEY", KEY)
    # retries happen at once: these tests are about what the user sees, not about waiting
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, failures: 0.0)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("Notes\n\nA paragraph.\n")
    return path


def run(*args: str | os.PathLike[str]) -> Result:
    """Run the CLI in-process; whatever happens, the key is in none of its output."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert KEY not in result.stdout
    assert KEY not in result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a bug: every error must be a message
    return result


QUICKSTART = EXAMPLES / "quickstart.py"


# ------------------------------------------------------------------------------ submit


def test_submit_prints_the_job(server: FaultServer, sample: Path) -> None:
    server.script(JOBS, Reply(200, json=job_json()))
    result = run("submit", QUICKSTART, sample)
    assert result.exit_code == 0, result.output
    assert f"created job {JOB_ID} (SCHEDULED)" in result.stdout
    assert server.count(JOBS) == 1


def test_submit_json_shape(server: FaultServer, sample: Path) -> None:
    server.script(JOBS, Reply(200, json=job_json()))
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("COMPLETED")))
    server.script(f"{JOBS}{JOB_ID}/failed-files", Reply(200, json={"failed_files": []}))
    result = run("submit", QUICKSTART, sample, "--wait", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    [job] = out["jobs"]
    assert set(job) == {
        "id",
        "workflow_id",
        "workflow_name",
        "status",
        "created_at",
        "runtime",
        "input_file_ids",
        "output_node_files",
        "job_type",
        "failed_files",
    }
    assert (job["id"], job["status"]) == (JOB_ID, "COMPLETED")


def test_submit_template(server: FaultServer, sample: Path) -> None:
    server.script(JOBS, Reply(200, json=job_json()))
    result = run("submit", "--template-id", "hi_res_partition", sample)
    assert result.exit_code == 0, result.output
    body = server.requests(JOBS)[0].body
    assert b'{"template_id":"hi_res_partition"}' in body
    assert b'filename="notes.txt"' in body


def test_dry_run_sends_nothing_and_hides_the_key(server: FaultServer, sample: Path) -> None:
    result = run("submit", "--dry-run", QUICKSTART, sample, "--api-key", KEY)
    assert result.exit_code == 0, result.output
    assert "unstructured-api-key: ***" in result.stdout
    assert "curl" in result.stdout
    assert server.count() == 0


def test_dry_run_in_a_real_process(server: FaultServer, sample: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "UNSTRUCTURED_API_URL": server.url,
        "UNSTRUCTURED_API_KEY": KEY,
    }
    done = subprocess.run(
        [sys.executable, "-m", "dagkit", "submit", "--dry-run", str(QUICKSTART), str(sample)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"POST {server.url}/api/v1/jobs/" in done.stdout
    assert KEY not in done.stdout + done.stderr
    assert server.count() == 0


def test_a_branching_dag_submits_every_job(server: FaultServer, sample: Path) -> None:
    other = "7f1c2e4a-8b3d-4c5e-9f70-1a2b3c4d5e6f"
    server.script(JOBS, Reply(200, json=job_json()), Reply(200, json=job_json(job_id=other)))
    result = run("submit", EXAMPLES / "compare_chunkers.py", sample, "--json")
    assert result.exit_code == 0, result.output
    assert [j["id"] for j in json.loads(result.stdout)["jobs"]] == [JOB_ID, other]


def test_progress_is_shown_on_a_terminal(
    server: FaultServer, sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagkit.cli.submit

    monkeypatch.setattr(dagkit.cli.submit, "is_tty", lambda stream: True)
    server.script(JOBS, Reply(200, json=job_json()), Reply(200, json=job_json()))
    result = run("submit", EXAMPLES / "compare_chunkers.py", sample)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("\ruploading") >= 2
    assert result.stderr.count("100%\n") == 2  # one finished line per job's upload


def test_no_progress_when_not_a_terminal(server: FaultServer, sample: Path) -> None:
    server.script(JOBS, Reply(200, json=job_json()))
    assert "uploading" not in run("submit", QUICKSTART, sample).stderr


# ------------------------------------------------------------------------------ exit codes


def test_exit_1_for_an_invalid_dag(server: FaultServer, sample: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"job_nodes": [{"name": "P", "type": "partition", "subtype": "unstructured_api", '
        '"settings": {"strategy": "hi_res"}},\n {"name": "X", "type": "structured_data_extractor", '
        '"subtype": "regex", "settings": {"regex_patterns": []}}]}'
    )
    result = run("submit", bad, sample)
    assert result.exit_code == 1
    assert f"{bad}:2:104: DK208" in result.stderr
    assert "    at: part request_data, /job_nodes/1/settings/regex_patterns\n" in result.stderr
    assert server.count() == 0
    as_json = json.loads(run("submit", bad, sample, "--json").stdout)
    assert as_json["error"]["exit_code"] == 1
    assert [f["code"] for f in as_json["error"]["findings"]] == ["DK208"]


def test_exit_1_for_too_many_files(server: FaultServer, tmp_path: Path) -> None:
    files = []
    for i in range(11):
        files.append(tmp_path / f"f{i}.txt")
        files[-1].write_bytes(b"hello")
    result = run("submit", QUICKSTART, *files)
    assert result.exit_code == 1
    assert "DK413" in result.stderr
    assert server.count() == 0


def test_exit_1_when_the_server_rejects_the_request(server: FaultServer, sample: Path) -> None:
    loc = ["body", "request_data", "job_nodes", 0, "settings"]
    server.script(JOBS, Reply(422, json={"detail": [{"loc": loc, "msg": "bad", "type": "x"}]}))
    result = run("submit", QUICKSTART, sample)
    assert result.exit_code == 1
    assert "DK510" in result.stderr
    assert "no job was created" in result.stderr


@pytest.mark.parametrize(("status", "code"), [("COMPLETED", 0), ("FAILED", 1), ("STOPPED", 1)])
def test_submit_wait_exit_code_follows_the_job(
    status: str, code: int, server: FaultServer, sample: Path
) -> None:
    server.script(JOBS, Reply(200, json=job_json()))
    server.script(JOBS + JOB_ID, Reply(200, json=job_json(status)))
    server.script(f"{JOBS}{JOB_ID}/failed-files", Reply(200, json={"failed_files": []}))
    result = run("submit", QUICKSTART, sample, "--wait")
    assert result.exit_code == code, result.output
    assert f"job {JOB_ID}: {status}" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["submit", "missing.json"],
        ["submit", str(QUICKSTART), "missing.pdf"],
        ["submit"],
        ["submit", f"{QUICKSTART}:nothing"],
        ["submit", "--local", "--url", "http://127.0.0.1:9", str(QUICKSTART)],
        ["submit", "--url", "ftp://example.com", str(QUICKSTART)],
        ["submit", "--url", "http://example.com", str(QUICKSTART)],  # the key over plain http
        ["jobs", "download", JOB_ID, "--dest", ".", "--node-id", "n"],
    ],
)
def test_exit_2_for_usage_errors(args: list[str], server: FaultServer) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert server.count() == 0


def test_exit_3_when_nothing_reached_the_server(sample: Path) -> None:
    refused = RefusedPort()
    try:
        result = run("submit", QUICKSTART, sample, "--url", refused.url)
    finally:
        refused.close()
    assert result.exit_code == 3
    assert "nothing reached the server: no job was created" in result.stderr


def test_exit_3_when_the_job_may_exist(server: FaultServer, sample: Path) -> None:
    server.script(JOBS, Reply(500, json={"detail": "Internal server error"}))
    result = run("submit", QUICKSTART, sample, "--json")
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "AmbiguousRequestError"
    assert error["reached_server"] is True
    assert "dagkit jobs list" in error["message"]
    assert server.count(JOBS) == 1


def test_exit_3_for_an_answer_it_cannot_use(server: FaultServer) -> None:
    server.script(JOBS + JOB_ID, Reply(200, json={"id": "not-a-uuid"}))  # no status
    result = run("jobs", "get", JOB_ID)
    assert result.exit_code == 3
    assert "cannot be used" in result.stderr and '"status"' in result.stderr


def test_exit_3_for_an_unknown_job(server: FaultServer) -> None:
    server.script(JOBS + JOB_ID, Reply(404, json={"detail": "Job not found"}))
    result = run("jobs", "get", JOB_ID, "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["status"] == 404


def test_the_key_given_as_an_option_is_never_printed(server: FaultServer) -> None:
    server.script(JOBS + JOB_ID, Reply(401, json={"detail": f"key {KEY} is not valid"}))
    result = run("jobs", "get", JOB_ID, "--api-key", KEY)
    assert result.exit_code == 3
    assert "***" in result.stderr


# ------------------------------------------------------------------------------ jobs, templates


def test_jobs_get_and_wait(server: FaultServer) -> None:
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("IN_PROGRESS")))
    result = run("jobs", "get", JOB_ID)
    assert result.exit_code == 0
    assert "IN_PROGRESS" in result.stdout and JOB_ID in result.stdout
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("FAILED")))
    assert run("jobs", "wait", JOB_ID).exit_code == 1
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("COMPLETED")))
    out = run("jobs", "wait", JOB_ID, "--json")
    assert out.exit_code == 0 and json.loads(out.stdout)["status"] == "COMPLETED"


def test_jobs_details_failed_files_cancel_list(server: FaultServer) -> None:
    server.script(
        f"{JOBS}{JOB_ID}/details",
        Reply(
            200,
            json={
                "id": JOB_ID,
                "processing_status": "SUCCESS",
                "node_stats": [
                    {"node_name": "P", "ready": 0, "in_progress": 0, "success": 2, "failure": 0}
                ],
            },
        ),
    )
    server.script(
        f"{JOBS}{JOB_ID}/failed-files",
        Reply(200, json={"failed_files": [{"document": "a.png", "error": "no"}]}),
    )
    server.script(f"{JOBS}{JOB_ID}/cancel", Reply(200, json={"message": "Job cancelled."}))
    server.script(JOBS, Reply(200, json=[job_json("COMPLETED")]))
    assert "success 2" in run("jobs", "details", JOB_ID).stdout
    assert run("jobs", "failed-files", JOB_ID).stdout == "a.png: no\n"
    assert run("jobs", "cancel", JOB_ID).stdout == "Job cancelled.\n"
    listed = run("jobs", "list", "--status", "completed", "--json")
    assert [j["id"] for j in json.loads(listed.stdout)] == [JOB_ID]
    assert server.requests(JOBS)[0].target == f"{JOBS}?status=COMPLETED"


def test_jobs_download(server: FaultServer, tmp_path: Path) -> None:
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("COMPLETED")))
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[]"), Reply(200, body=b"[1]"))
    result = run("jobs", "download", JOB_ID, "--dest", tmp_path / "all", "--json")
    assert json.loads(result.stdout) == {"downloads": [str(tmp_path / "all" / "f-0001.json")]}
    one = tmp_path / "one.json"
    result = run("jobs", "download", JOB_ID, "--file-id", "f-0001", "--dest", one)
    assert result.exit_code == 0 and one.read_bytes() == b"[1]"


def test_templates_list_and_get(server: FaultServer) -> None:
    item = {
        "id": "hi_res_partition",
        "name": "High res",
        "description": "d",
        "version": "1",
        "last_updated": "2026-01-01",
    }
    node = {"id": "n1", "name": "P", "type": "partition", "subtype": "unstructured_api"}
    server.script("/api/v1/templates/", Reply(200, json=[item]))
    server.script("/api/v1/templates/hi_res_partition", Reply(200, json={**item, "nodes": [node]}))
    assert "hi_res_partition  High res v1: d" in run("templates", "list").stdout
    shown = run("templates", "get", "hi_res_partition").stdout
    assert "1. P (partition/unstructured_api)" in shown


# ------------------------------------------------------------------------------ end to end


def test_submit_local_end_to_end(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The README's first command: the embedded server, real files, wait, download."""
    import functools

    import dagkit.server

    # jobs finish as they are created, so the test does not wait on the job clock
    instant = functools.partial(dagkit.server.serve_in_thread, clock="instant")
    monkeypatch.setattr(dagkit.server, "serve_in_thread", instant)
    monkeypatch.delenv("UNSTRUCTURED_API_URL")
    files = sorted((EXAMPLES / "files").glob("*.txt")) + sorted((EXAMPLES / "files").glob("*.md"))
    out = tmp_path / "out"
    result = run("submit", "--local", QUICKSTART, *files, "--wait", "--download", out, "--json")
    assert result.exit_code == 0, result.output
    assert "local jobs API running at http://127.0.0.1:" in result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["status"] == "COMPLETED"
    saved = sorted(Path(p).name for p in job["downloads"])
    assert saved == sorted(f"{f.name}.json" for f in files)
    for name in saved:
        elements = json.loads((out / name).read_text())
        assert elements and all("text" in e and "embeddings" in e for e in elements)


# ------------------------------------------------------------------------------ ambiguous creates


@pytest.mark.parametrize(
    ("answer", "flags"),
    [
        (Reply(200, json={"id": "not-a-uuid", "status": 7}), []),
        (Reply(200, body=b"<html>signed in</html>"), []),
        (Reply(200, body=b"<html>signed in</html>"), ["--no-validate"]),
        (Reply(200, json={"status": "SCHEDULED"}), ["--no-validate"]),
    ],
    ids=["breaks-the-schema", "not-json", "not-json-unvalidated", "no-id-unvalidated"],
)
def test_an_unreadable_2xx_create_is_ambiguous(
    server: FaultServer, sample: Path, answer: Reply, flags: list[str]
) -> None:
    server.script(JOBS, answer)
    result = run("submit", QUICKSTART, sample, "--json", *flags)
    assert result.exit_code == 3
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "AmbiguousRequestError"
    assert error["reached_server"] is True
    assert "a job may already have been created" in error["message"]
    assert "dagkit jobs list" in error["message"]
    assert "--no-validate" not in result.stdout + result.stderr  # a rerun would duplicate
    assert server.count(JOBS) == 1


# ------------------------------------------------------------------- downloads stay inside


def test_job_ids_from_the_server_cannot_lead_downloads_out_of_the_folder(
    server: FaultServer, sample: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    ids = ["../../escaped", str(outside), "a/../../twin", "b/../../twin"]
    compare = EXAMPLES / "compare_chunkers.py"  # plans two jobs: one folder per job
    for first, second in [ids[:2], ids[2:]]:
        server.script(JOBS, *(Reply(200, json=job_json(job_id=i)) for i in (first, second)))
        for job_id in (first, second):
            segment = urllib.parse.quote(job_id, safe="")
            done = {**job_json("COMPLETED", job_id)}
            server.script(JOBS + segment, Reply(200, json=done))
            server.script(f"{JOBS}{segment}/download", Reply(200, body=b"[]"))
        out = tmp_path / "runs" / "out"
        result = run("submit", compare, sample, "--no-validate", "--download", out, "--json")
        assert result.exit_code == 0, result.output
        saved = [Path(p) for j in json.loads(result.stdout)["jobs"] for p in j["downloads"]]
        assert len(set(saved)) == 2
        for path in saved:
            assert path.resolve().is_relative_to(out.resolve()) and path.is_file()
    assert not outside.exists()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["out"]
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "twin").exists()
