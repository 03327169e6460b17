"""The workflow operations of the embedded server, over real sockets."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dagkit.schemas import store as schemas
from dagkit.server import RunningServer, serve_in_thread
from dagkit.server.workflows import NO_CONNECTORS
from dagkit.validate.response import validate_response
from dagkit.wire.multipart import FileSpec, MultipartEncoder
from dagkit.wire.serialize import load_dag
from dagkit.wire.workflows import from_workflow, to_workflow

ROOT = Path(__file__).resolve().parent.parent
KEY = "local-key"
SOURCE = "0c363dec-3c70-45ee-8041-481044a6e1cc"


class API:
    """Requests to a running server; every answer is checked against the spec."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            sent = {"unstructured-api-key": KEY, **(headers or {})}
            conn.request(method, path, body=body, headers=sent)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        operation = schemas.operation_for(method, path.split("?", 1)[0])
        assert operation is not None
        assert validate_response(data, operation=operation, status=answer.status) == []
        return answer.status, json.loads(data)

    def send_json(self, method: str, path: str, doc: Any) -> tuple[int, Any]:
        body = json.dumps(doc).encode()
        return self.call(method, path, body, {"Content-Type": "application/json"})

    def run(self, workflow_id: str, files: list[tuple[str, bytes]] = ()) -> tuple[int, Any]:  # type: ignore[assignment]
        path = f"/api/v1/workflows/{workflow_id}/run"
        if not files:
            return self.call("POST", path)
        encoder = MultipartEncoder([], [FileSpec(data, filename=name) for name, data in files])
        return self.call("POST", path, b"".join(encoder), {"Content-Type": encoder.content_type})


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve_in_thread(clock="instant", rate_limit=False) as running:
        yield running


def quickstart_body(**fields: Any) -> dict[str, Any]:
    return to_workflow(load_dag(ROOT / "examples" / "quickstart.py"), **fields)  # type: ignore[arg-type]


def test_create_get_list_update_delete(server: RunningServer) -> None:
    api = API(server)
    status, created = api.send_json(
        "POST",
        "/api/v1/workflows/",
        quickstart_body(name="docs", schedule="daily", source_id=SOURCE),
    )
    assert status == 200
    assert created["sources"] == [SOURCE] and created["destinations"] == []
    assert created["schedule"] == {"crontab_entries": [{"cron_expression": "0 0 * * *"}]}
    assert all(n["id"] for n in created["workflow_nodes"])
    read = from_workflow(created)
    assert read.dag is not None
    assert [n.to_dict() | {"id": None} for n in read.dag] == [
        n | {"id": None} for n in quickstart_body(name="x")["workflow_nodes"]
    ]
    wid = created["id"]
    assert api.call("GET", f"/api/v1/workflows/{wid}") == (200, created)
    status, listed = api.call("GET", "/api/v1/workflows/")
    assert status == 200 and [w["id"] for w in listed] == [wid]
    assert api.call("GET", "/api/v1/workflows/?name=other")[1] == []
    assert len(api.call("GET", f"/api/v1/workflows/?source_id={SOURCE}")[1]) == 1
    status, updated = api.send_json("PUT", f"/api/v1/workflows/{wid}", {"name": "renamed"})
    assert status == 200 and updated["name"] == "renamed"
    assert updated["workflow_nodes"] == created["workflow_nodes"]
    status, _ = api.call("DELETE", f"/api/v1/workflows/{wid}")
    assert status == 200
    assert api.call("GET", f"/api/v1/workflows/{wid}")[0] == 404
    assert api.call("DELETE", f"/api/v1/workflows/{wid}")[0] == 404


def test_a_bad_body_is_a_422_pointing_into_it(server: RunningServer) -> None:
    api = API(server)
    body = quickstart_body(name="bad")
    node = body["workflow_nodes"][1]
    node["type"], node["subtype"] = node["subtype"], node["type"]
    status, answer = api.send_json("POST", "/api/v1/workflows/", body)
    assert status == 422
    assert ["body", "workflow_nodes", 1, "type"] in [d["loc"] for d in answer["detail"]]
    status, answer = api.call("POST", "/api/v1/workflows/", b"{nope", {})
    assert status == 422 and answer["detail"][0]["type"] == "json_invalid"
    assert api.call("GET", "/api/v1/workflows/nope")[0] == 422
    assert api.call("GET", f"/api/v1/workflows/{uuid.uuid4()}")[0] == 404


def test_running_a_workflow_without_a_source_processes_its_files(server: RunningServer) -> None:
    api = API(server)
    _, created = api.send_json("POST", "/api/v1/workflows/", quickstart_body(name="local"))
    status, job = api.run(created["id"], [("notes.txt", b"Title\n\nSome text here.\n")])
    assert status == 202
    assert job["workflow_id"] == created["id"] and job["workflow_name"] == "local"
    assert job["status"] == "COMPLETED" and len(job["input_file_ids"]) == 1
    status, jobs = api.call("GET", f"/api/v1/jobs/?workflow_id={created['id']}")
    assert [j["id"] for j in jobs] == [job["id"]]
    status, no_files = api.run(created["id"])
    assert status == 422 and no_files["detail"][0]["loc"] == ["body", "input_files"]


def test_a_workflow_with_a_source_runs_with_no_files_and_says_so(server: RunningServer) -> None:
    api = API(server)
    _, created = api.send_json(
        "POST", "/api/v1/workflows/", quickstart_body(name="s3", source_id=SOURCE)
    )
    status, job = api.run(created["id"])
    assert status == 202 and job["status"] == "COMPLETED" and job["input_file_ids"] == []
    _, details = api.call("GET", f"/api/v1/jobs/{job['id']}/details")
    assert details["message"] == NO_CONNECTORS.format(source=SOURCE)
    status, refused = api.run(created["id"], [("a.txt", b"x")])
    assert status == 422 and refused["detail"][0]["ctx"]["code"] == "DK603"


def test_workflows_survive_a_restart(tmp_path: Path) -> None:
    with serve_in_thread(data_dir=tmp_path, clock="instant") as first:
        _, created = API(first).send_json("POST", "/api/v1/workflows/", quickstart_body(name="k"))
    with serve_in_thread(data_dir=tmp_path, clock="instant") as second:
        assert API(second).call("GET", f"/api/v1/workflows/{created['id']}") == (200, created)


def test_a_workflow_without_nodes_is_kept_but_cannot_run_here(server: RunningServer) -> None:
    api = API(server)
    status, created = api.send_json(
        "POST",
        "/api/v1/workflows/",
        {"name": "auto", "workflow_type": "basic", "source_id": SOURCE},
    )
    assert status == 200 and created["workflow_nodes"] == []
    status, refused = api.run(created["id"])
    assert status == 422 and "has no nodes" in refused["detail"][0]["msg"]
    assert server.jobs_created == 0
