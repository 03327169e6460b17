"""``dagkit workflows`` and ``WorkflowsClient`` against the embedded server, over real sockets:
every command, its --json, its exit codes, and the never-twice rule for creating and running."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from httpfaults import FaultServer, Reply

from dagkit import JobDAG, load_dag
from dagkit.cli import main
from dagkit.cli._common import CLI_WORDS
from dagkit.client.workflows import WorkflowsClient
from dagkit.errors import AdviceKind, AmbiguousRequestError, ValidationFailed
from dagkit.http.transport import RetryPolicy
from dagkit.server import RunningServer, serve_in_thread
from dagkit.server.workflows import NO_CONNECTORS

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.py"
FILES = sorted((ROOT / "examples" / "files").iterdir())
KEY = "wf-secret-8Jd2kLq"
SOURCE = "0c363dec-3c70-45ee-8041-481044a6e1cc"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    with serve_in_thread(api_key=KEY, clock="instant", rate_limit=False) as running:
        monkeypatch.setenv("UNSTRUCTURED_API_URL", running.url)
        monkeypatch.setenv("UNSTRUCTURED_API_KEY", KEY)
        monkeypatch.setattr(RetryPolicy, "backoff", lambda self, failures: 0.0)
        yield running


def run(*args: str | os.PathLike[str]) -> Result:
    """The CLI in-process; the key is in none of its output and no error is a traceback."""
    result = CliRunner().invoke(main, ["workflows", *(str(a) for a in args)])
    assert KEY not in result.stdout and KEY not in result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def created_id(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["workflows"][0]["id"])


def test_deploy_run_download_and_delete(server: RunningServer, tmp_path: Path) -> None:
    result = run("create", QUICKSTART, "--name", "docs", "--json")
    workflow_id = created_id(result)
    got = run("get", workflow_id, "--json")
    assert got.exit_code == 0
    nodes = json.loads(got.stdout)["workflow_nodes"]
    dag = load_dag(QUICKSTART)
    assert isinstance(dag, JobDAG)
    assert [{k: v for k, v in n.items() if k != "id"} for n in nodes] == [
        {k: v for k, v in n.to_dict().items() if k != "id"} for n in dag
    ]
    text = run("get", workflow_id)
    assert "nodes (processing order):" in text.stdout and "none (run with files)" in text.stdout

    out = tmp_path / "out"
    ran = run("run", workflow_id, *FILES, "--download", out)
    assert ran.exit_code == 0, ran.output
    assert sorted(p.name for p in out.iterdir()) == [f"{f.name}.json" for f in FILES]
    job_id = ran.stdout.split()[2]
    followed = CliRunner().invoke(main, ["jobs", "get", job_id, "--json"])
    assert json.loads(followed.stdout)["workflow_id"] == workflow_id

    listed = run("list", "--json")
    assert [w["id"] for w in json.loads(listed.stdout)] == [workflow_id]
    assert json.loads(run("list", "--name", "other", "--json").stdout) == []
    assert run("list").stdout.startswith(workflow_id)

    updated = run("update", workflow_id, "--name", "renamed", "--schedule", "daily", "--json")
    assert json.loads(updated.stdout)["name"] == "renamed"
    assert run("delete", workflow_id).stdout == f"deleted workflow {workflow_id}\n"
    assert run("get", workflow_id).exit_code == 3  # 404, as for jobs
    assert run("get", "not-a-uuid").exit_code == 1  # 422


def test_a_workflow_with_a_source_takes_no_files(server: RunningServer) -> None:
    workflow_id = created_id(
        run("create", QUICKSTART, "--name", "s3", "--source-id", SOURCE, "--json")
    )
    refused = run("run", workflow_id, FILES[0])
    assert refused.exit_code == 1
    assert "DK603" in refused.stderr and "nothing was sent" in refused.stderr
    assert server.api.count("run_workflow") == 0
    ran = run("run", workflow_id, "--wait")
    assert ran.exit_code == 0
    assert NO_CONNECTORS.format(source=SOURCE) in ran.stderr


def test_invalid_dags_and_usage_errors(server: RunningServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from dagkit import Chunk, Embed\n"
        "dag = Embed.azure_openai('text-embedding-3-large') >> Chunk.by_title()\n"
    )
    result = run("create", bad, "--name", "bad")
    assert result.exit_code == 1 and "DK303" in result.stderr
    branching = run("create", ROOT / "examples" / "compare_chunkers.py", "--name", "cmp")
    assert branching.exit_code == 1 and "--each-path" in branching.stderr
    assert run("create", tmp_path / "missing.py", "--name", "x").exit_code == 2
    assert run("create", QUICKSTART).exit_code == 2  # --name is required
    assert run("update", "0c363dec-3c70-45ee-8041-481044a6e1cc").exit_code == 2  # nothing to change
    assert server.api.count("create_workflow") == 0


def test_each_path_deploys_one_workflow_per_path(server: RunningServer) -> None:
    result = run(
        "create",
        ROOT / "examples" / "compare_chunkers.py",
        "--name",
        "cmp",
        "--each-path",
        "--json",
    )
    names = [w["name"] for w in json.loads(result.stdout)["workflows"]]
    assert names == ["cmp-1", "cmp-2"]


def test_dry_run_sends_nothing_and_hides_the_key(server: RunningServer) -> None:
    result = run("create", QUICKSTART, "--name", "dry", "--source-id", SOURCE, "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"POST {server.url}/api/v1/workflows/\n")
    assert "unstructured-api-key: ***" in result.stdout
    assert '-H "unstructured-api-key: $UNSTRUCTURED_API_KEY"' in result.stdout
    assert server.api.count() == 0


def test_a_workflow_json_file_is_a_source(server: RunningServer, tmp_path: Path) -> None:
    body = ROOT / "tests" / "data" / "valid" / "quickstart.workflow.json"
    result = run("create", body, "--name", "from-json", "--json")
    assert created_id(result)
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps(json.loads(result.stdout)["workflows"][0]))
    again = run("create", answer, "--name", "from-answer", "--json")
    assert [n["name"] for n in json.loads(again.stdout)["workflows"][0]["workflow_nodes"]] == [
        "Partitioner",
        "Chunker",
        "Embedder",
    ]


# --- never twice ---------------------------------------------------------------------------------


def client(server: RunningServer) -> WorkflowsClient:
    return WorkflowsClient(url=server.url, api_key=KEY, min_launch_interval=0)


@pytest.mark.parametrize("fault", ["drop", "500"])
def test_a_create_whose_answer_is_lost_is_not_sent_again(server: RunningServer, fault: str) -> None:
    server.faults.inject("create_workflow", fault, 3)
    with pytest.raises(AmbiguousRequestError) as caught:
        client(server).create_workflow(load_dag(QUICKSTART), name="once")  # type: ignore[arg-type]
    assert server.api.count("create_workflow") == 1
    # a workflow may exist, not a job: the advice says how to look for it, in each one's words
    assert [a.kind for a in caught.value.advice] == [AdviceKind.LOOK_FOR_WORKFLOW]
    assert "WorkflowsClient.list_workflows(name='once')" in str(caught.value)
    assert "`dagkit workflows list --name once`" in caught.value.describe(CLI_WORDS)


@pytest.mark.parametrize("fault", ["drop", "500"])
def test_a_run_whose_answer_is_lost_is_not_sent_again(server: RunningServer, fault: str) -> None:
    api = client(server)
    workflow = api.create_workflow(load_dag(QUICKSTART), name="run-once")  # type: ignore[arg-type]
    server.faults.inject("run_workflow", fault, 3)
    with pytest.raises(AmbiguousRequestError):
        api.run_workflow(workflow, FILES[:1])
    assert server.api.count("run_workflow") == 1


def test_a_run_refused_with_retry_after_is_sent_again(server: RunningServer) -> None:
    api = client(server)
    workflow = api.create_workflow(load_dag(QUICKSTART), name="retry")  # type: ignore[arg-type]
    server.faults.inject("run_workflow", "429", 1)
    job = api.run_workflow(workflow, FILES[:2])
    assert server.api.count("run_workflow") == 2
    assert api.wait(job).succeeded
    paths = api.download_all(job, server.data_dir / "dl")
    assert [p.name for p in paths] == [f"{f.name}.json" for f in FILES[:2]]


def test_the_client_checks_before_sending(server: RunningServer) -> None:
    api = client(server)
    body: dict[str, Any] = {"name": "x", "workflow_type": "custom", "workflow_nodes": []}
    with pytest.raises(ValidationFailed) as caught:
        api.create_workflow(body)
    assert {f.code for f in caught.value.findings} == {"DK208", "DK308"}  # an empty list
    assert server.api.count("create_workflow") == 0
    workflow = api.create_workflow(load_dag(QUICKSTART), name="files")  # type: ignore[arg-type]
    many = [FILES[0]] * 11
    with pytest.raises(ValidationFailed) as too_many:
        api.run_workflow(workflow, many)
    assert "DK413" in [f.code for f in too_many.value.findings]
    assert server.api.count("run_workflow") == 0
    updated = api.update_workflow(workflow, name="new name")
    assert updated.name == "new name" and updated.workflow.dag == workflow.workflow.dag


def test_a_create_answered_with_something_unreadable_is_ambiguous() -> None:
    with FaultServer() as fake:
        fake.script("/api/v1/workflows/", Reply(200, json={"no": "id"}))
        api = WorkflowsClient(url=fake.url, api_key=KEY)
        with pytest.raises(AmbiguousRequestError, match=r"list_workflows\(name='odd'\)"):
            api.create_workflow(load_dag(QUICKSTART), name="odd")  # type: ignore[arg-type]
        assert fake.count("/api/v1/workflows/") == 1
