"""The official Python SDK (``unstructured-client``) against dagkit: what it sends passes
``dagkit validate --strict``, and it drives ``dagkit serve`` end to end.

The SDK sends file parts named ``input_files[]``, and a create-job without files as
``application/x-www-form-urlencoded``. ``tests/data/real/sdk-*.http`` are its exact bytes,
captured the same way as here (version in ``tests/data/real/SOURCES.md``).
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from dagkit.server import serve_in_thread
from dagkit.validate.capture import validate_http_request

sdk = pytest.importorskip(
    "unstructured_client", reason="unstructured-client (the official SDK) is not installed"
)
from unstructured_client.models import operations, shared  # noqa: E402

REAL = Path(__file__).resolve().parent / "data" / "real"
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
CUSTOM_DAG = {
    "job_nodes": [
        {
            "id": "93fc2ce8-e7c8-424f-a6aa-41460fc5d35d",
            "name": "partition step",
            "type": "partition",
            "subtype": "unstructured_api",
            "settings": {"strategy": "fast", "include_page_breaks": False},
        }
    ]
}
VLM = {
    "job_nodes": [
        {
            "name": "Partitioner",
            "subtype": "vlm",
            "type": "partition",
            "settings": {
                "provider": "vertexai",
                "model": "gemini-2.0-flash-001",
                "is_dynamic": False,
                "allow_fast": True,
            },
        }
    ]
}
ANSWER = json.dumps(
    {
        "id": "fcdc4994-eea5-425c-91fa-e03f2bd8030d",
        "workflow_id": "16b80fee-64dc-472d-8f26-1d7729b6423d",
        "workflow_name": "job-fcdc4994",
        "status": "SCHEDULED",
        "created_at": "2025-06-22T11:37:21.648Z",
    }
).encode()


def _pdf(name: str) -> Any:
    return shared.InputFiles(content=PDF, file_name=name, content_type="application/pdf")


#: (golden capture, request_data, files): the three create-job calls of tests/data/real.
CASES = {
    "sdk-create-job-with-file.http": (
        {"template_id": "hi_res_partition"},
        ["layout-parser-paper-fast.pdf"],
    ),
    "sdk-create-job-no-files.http": (CUSTOM_DAG, []),
    "sdk-create-job-two-files-job-nodes.http": (
        VLM,
        ["2211.12781v1.pdf", "H03-Cryptosystem-proposed-by-Nash.pdf"],
    ),
}


def _receive_one(server: socket.socket, into: list[bytes]) -> None:
    """Read one request (head and Content-Length body) and answer 200 with a job."""
    conn, _ = server.accept()
    with conn:
        conn.settimeout(30)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
        length = int(match.group(1)) if match else 0
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            rest += chunk
        into.append(head + b"\r\n\r\n" + rest)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(ANSWER) + ANSWER
        )


def _capture(request_data: dict[str, Any], files: list[str]) -> bytes:
    """The exact bytes the SDK sends for this create-job, read by a loopback server."""
    captured: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        thread = threading.Thread(target=_receive_one, args=(server, captured))
        thread.start()
        client = sdk.UnstructuredClient(
            api_key_auth="<api-key>", server_url=f"http://127.0.0.1:{server.getsockname()[1]}"
        )
        body = shared.BodyCreateJob(
            request_data=json.dumps(request_data), input_files=[_pdf(f) for f in files] or None
        )
        response = client.jobs.create_job(request=operations.CreateJobRequest(body_create_job=body))
        thread.join()
    assert response.status_code == 200
    return captured[0]


def _normalised(capture: bytes) -> bytes:
    """A capture without what changes from run to run: boundary, port, SDK version headers."""
    head, _, body = capture.partition(b"\r\n\r\n")
    boundary = re.search(rb"boundary=([^\r\n;]+)", head)
    lines = [
        line
        for line in head.split(b"\r\n")
        if not re.match(rb"(?i)(host|user-agent|accept-encoding|connection):", line)
    ]
    text = b"\r\n".join(lines) + b"\r\n\r\n" + body
    return text.replace(boundary.group(1), b"BOUNDARY") if boundary else text


@pytest.mark.parametrize("golden", sorted(CASES))
def test_what_the_sdk_sends_passes_strict(golden: str) -> None:
    request_data, files = CASES[golden]
    assert validate_http_request(_capture(request_data, files)) == []


@pytest.mark.parametrize("golden", sorted(CASES))
def test_the_golden_captures_are_what_the_sdk_sends(golden: str) -> None:
    request_data, files = CASES[golden]
    saved = (REAL / golden).read_bytes()
    assert _normalised(_capture(request_data, files)) == _normalised(saved), (
        f"unstructured-client {version('unstructured-client')} sends something else than "
        f"{golden}: capture it again and note the version in SOURCES.md"
    )


@pytest.fixture
def server() -> Iterator[Any]:
    with serve_in_thread(clock="instant", rate_limit=False) as running:
        yield running


def test_the_sdk_creates_and_gets_a_job_on_dagkit_serve(server: Any) -> None:
    client = sdk.UnstructuredClient(api_key_auth="local-key", server_url=server.url)
    body = shared.BodyCreateJob(
        request_data=json.dumps({"template_id": "hi_res_partition"}),
        input_files=[_pdf("layout-parser-paper-fast.pdf")],
    )
    created = client.jobs.create_job(request=operations.CreateJobRequest(body_create_job=body))
    assert created.status_code == 200
    job = created.job_information
    assert job is not None and job.input_file_ids and len(job.input_file_ids) == 1
    got = client.jobs.get_job(request=operations.GetJobRequest(job_id=str(job.id)))
    assert got.status_code == 200 and got.job_information is not None
    assert str(got.job_information.id) == str(job.id)
    assert got.job_information.status == "COMPLETED"
    listed = client.jobs.list_jobs(request=operations.ListJobsRequest())
    assert str(job.id) in [str(j.id) for j in listed.response_list_jobs or []]


def test_the_sdk_creates_a_job_without_files_on_dagkit_serve(server: Any) -> None:
    client = sdk.UnstructuredClient(api_key_auth="local-key", server_url=server.url)
    body = shared.BodyCreateJob(request_data=json.dumps(CUSTOM_DAG))
    created = client.jobs.create_job(request=operations.CreateJobRequest(body_create_job=body))
    assert created.status_code == 200
    assert created.job_information is not None
