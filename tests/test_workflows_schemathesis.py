"""schemathesis, driven by the workflow operations of the OpenAPI document, finds no failure in
``dagkit serve``.

Its command line runs against a server in this process: the examples, coverage (missing bodies,
wrong media types, unsupported methods, boundary values) and fuzzing phases of the operations
tagged ``workflows``, with a bounded number of examples and deterministic generation, so the run
is the same every time. A real workflow's id is given for ``workflow_id``, so get, update, run
and delete are driven past their 404s. The checks are those an API owes its spec: no server
error, only documented status codes, the documented content type, bodies that match their
schema.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagkit.client.workflows import WorkflowsClient
from dagkit.server import serve_in_thread
from dagkit.wire.serialize import load_dag

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "schemas" / "openapi" / "jobs-api.openapi.json"
KEY = "schemathesis-workflows-7Qx2"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)

pytest.importorskip("schemathesis", reason="schemathesis is in the test extra")


def test_schemathesis_finds_no_failure_in_the_workflow_operations(tmp_path: Path) -> None:
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        client = WorkflowsClient(url=server.url, api_key=KEY)
        dag = load_dag(ROOT / "examples" / "quickstart.py")
        kept, deleted = (client.create_workflow(dag, name=n) for n in ("kept", "deleted"))
        # delete_workflow gets a workflow of its own, so the others keep theirs
        (tmp_path / "schemathesis.toml").write_text(
            f'[parameters]\n"path.workflow_id" = "{kept.id}"\n\n'
            '[[operations]]\ninclude-operation-id = "delete_workflow"\n'
            f'parameters = {{ "path.workflow_id" = "{deleted.id}" }}\n'
        )
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "schemathesis.cli",
                "run",
                str(SPEC),
                "--include-tag",
                "workflows",
                "--url",
                server.url,
                "--header",
                f"unstructured-api-key: {KEY}",
                "--checks",
                ",".join(CHECKS),
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "15",
                "--generation-deterministic",
                "--workers",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )
        operations = {server.api.count(op) > 0 for op in ("create_workflow", "run_workflow")}
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Coverage" in done.stdout and "Fuzzing" in done.stdout
    assert "schemathesis.toml" in done.stdout
    assert "returned 404" not in done.stdout, done.stdout[-3000:]  # the real ids were used
    assert operations == {True}
