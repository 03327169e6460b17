"""The official Python SDK (``unstructured-client``) drives a workflow through ``dagkit serve``:
the workflow's nodes come from ``dagkit workflows create examples/quickstart.py`` and come back
equal to the DAG's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dagkit import JobDAG, load_dag
from dagkit.server import serve_in_thread
from dagkit.wire.workflows import dumps_workflow, from_workflow, to_workflow

sdk = pytest.importorskip(
    "unstructured_client", reason="unstructured-client (the official SDK) is not installed"
)
from unstructured_client.models import shared  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.py"


def without_ids(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in n.items() if k != "id"} for n in nodes]


def cli_body(name: str) -> dict[str, Any]:
    """The create body ``dagkit workflows create examples/quickstart.py --dry-run`` shows."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "UNSTRUCTURED_API_KEY": "k"}
    env.pop("UNSTRUCTURED_API_URL", None)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagkit",
            "workflows",
            "create",
            str(QUICKSTART),
            "--name",
            name,
            "--dry-run",
            "--url",
            "http://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith('{"name":'))
    body: dict[str, Any] = json.loads(line)
    return body


def test_the_sdk_creates_gets_lists_runs_and_deletes_a_dagkit_workflow() -> None:
    dag = load_dag(QUICKSTART)
    assert isinstance(dag, JobDAG)
    body = cli_body("sdk-quickstart")
    assert json.dumps(body) == json.dumps(to_workflow(dag, name="sdk-quickstart"))
    with serve_in_thread(clock="instant", rate_limit=False) as server:
        client = sdk.UnstructuredClient(server_url=server.url, api_key_auth="local-key")
        created = client.workflows.create_workflow(
            request={
                "create_workflow": {
                    "name": body["name"],
                    "workflow_type": shared.WorkflowType.CUSTOM,
                    "workflow_nodes": body["workflow_nodes"],
                }
            }
        ).workflow_information
        assert created is not None and created.workflow_type == shared.WorkflowType.CUSTOM
        assert created.status == shared.WorkflowState.ACTIVE

        got = client.workflows.get_workflow(request={"workflow_id": created.id})
        info = got.workflow_information
        assert info is not None and info.id == created.id
        read_back = [n.model_dump(exclude_unset=True) for n in info.workflow_nodes]
        assert without_ids(read_back) == without_ids(body["workflow_nodes"])
        assert all(n["id"] for n in read_back)  # the server gave every node an id
        # and dagkit reads the SDK's answer back into the very same DAG
        read = from_workflow(got.raw_response.json())
        assert read.dag is not None
        assert [n.to_dict() | {"id": None} for n in read.dag] == [
            n.to_dict() | {"id": None} for n in dag
        ]

        listed = client.workflows.list_workflows(request={}).response_list_workflows
        assert [w.id for w in listed or []] == [created.id]

        files = [
            {
                "content": b"Notes\n\nThe first paragraph.\n",
                "file_name": "notes.txt",
                "content_type": "text/plain",
            },
            {
                "content": (ROOT / "examples" / "files" / "faq.html").read_bytes(),
                "file_name": "faq.html",
                "content_type": "text/html",
            },
        ]
        run = client.workflows.run_workflow(
            request={"workflow_id": created.id, "body_run_workflow": {"input_files": files}}
        )
        assert run.status_code == 202
        job = run.job_information
        assert job is not None and job.workflow_id == created.id
        assert len(job.input_file_ids or []) == 2
        followed = client.jobs.get_job(request={"job_id": job.id}).job_information
        assert followed is not None and followed.status == shared.JobStatus.COMPLETED
        jobs = client.jobs.list_jobs(request={"workflow_id": created.id}).response_list_jobs
        assert [j.id for j in jobs or []] == [job.id]
        output = client.jobs.download_job_output(
            request={"job_id": job.id, "file_id": (job.input_file_ids or [])[0]}
        )
        assert output.any and all("embeddings" in e for e in output.any)

        client.workflows.delete_workflow(request={"workflow_id": created.id})
        assert client.workflows.list_workflows(request={}).response_list_workflows == []
    assert dumps_workflow(body).startswith('{"name":"sdk-quickstart","workflow_type":"custom"')
