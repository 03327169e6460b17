"""JobsClient against a real loopback server that records what reached it (tests/httpfaults.py).

Each test says what the user sees and how many requests the server received.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from httpfaults import FaultServer, Received, RefusedPort, Reply, Truncate
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit import Chunk, Embed, JobDAG, Partition, TemplateJob, to_request_data
from dagkit.client.jobs import (
    NO_OUTPUT,
    JobDetails,
    JobInfo,
    JobsClient,
    JobStatus,
    JobWaitTimeout,
    NodeFile,
    ProcessingStatus,
    safe_filename,
)
from dagkit.errors import (
    AmbiguousRequestError,
    APIError,
    AuthenticationError,
    DagError,
    DagkitError,
    DagkitValueError,
    NotFoundError,
    OutputsFailed,
    ResponseError,
    TransportError,
    ValidationFailed,
    WaitTimeout,
)
from dagkit.errors import TimeoutError as DagkitTimeoutError
from dagkit.http.transport import RetryPolicy
from dagkit.model.nodes import Node
from dagkit.wire.multipart import FileSpec, iter_parts, parse_content_type

KEY = "test-key-Zq8xW3vN"
JOBS = "/api/v1/jobs/"
JOB_ID = "6f1c2e4a-8b3d-4c5e-9f70-1a2b3c4d5e6f"
FILE_IDS = ["f-0001", "f-0002"]


class FakeTime:
    """An injected clock: sleeping only moves it forward, and each sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def job_json(status: str = "SCHEDULED", job_id: str = JOB_ID, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": job_id,
        "workflow_id": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "workflow_name": "on-demand",
        "status": status,
        "created_at": "2026-01-02T03:04:05Z",
        "runtime": None,
        "input_file_ids": FILE_IDS,
        "output_node_files": [
            {
                "node_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                "file_id": FILE_IDS[0],
                "node_type": "partition",
                "node_subtype": "vlm",
            }
        ],
        "job_type": "ephemeral",
    }
    doc.update(extra)
    return doc


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as s:
        yield s


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(server: FaultServer, fake: FakeTime) -> JobsClient:
    return JobsClient(
        url=server.url,
        api_key=KEY,
        retry=RetryPolicy(jitter=False),
        sleep=fake.sleep,
        clock=fake.clock,
    )


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    a = tmp_path / "notes.txt"
    a.write_text("Kestrel notes\n\nThe first paragraph.\n")
    b = tmp_path / "prices.csv"
    b.write_bytes(b"item,price\nbolt,0.10\n")
    return [a, b]


def quickstart() -> JobDAG:
    return (
        Partition.auto()
        >> Chunk.by_title(max_characters=2048, new_after_n_chars=1500, overlap=160)
        >> Embed.azure_openai("text-embedding-3-large")
    )


def branching() -> JobDAG:
    dag = JobDAG()
    (root,) = dag.add_chain(Partition.auto())
    dag.add_chain(Chunk.by_title(max_characters=1000, name="By title"), after=root)
    dag.add_chain(Chunk.by_page(max_characters=1000, name="By page"), after=root)
    return dag


def parts(received: Received) -> list[tuple[str | None, str | None, str | None, bytes]]:
    """(name, filename, content type, content) of each part of a recorded create-job body."""
    _, params = parse_content_type(received.header("Content-Type") or "")
    return [
        (start.name, start.filename, start.content_type, data)
        for start, data in iter_parts(received.body, params["boundary"])
    ]


# ------------------------------------------------------------------------------ create


def test_create_job_sends_the_dag_and_streams_each_file(
    client: JobsClient, server: FaultServer, files: list[Path]
) -> None:
    server.script(JOBS, Reply(200, json=job_json()))
    info = client.create_job(quickstart(), files)
    assert info.id == JOB_ID
    assert info.status is JobStatus.SCHEDULED
    assert info.input_file_ids == FILE_IDS
    assert info.output_node_files == [
        NodeFile("1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", FILE_IDS[0], "partition", "vlm")
    ]
    [received] = server.requests(JOBS)
    assert received.method == "POST"
    assert received.header("unstructured-api-key") == KEY
    assert parts(received) == [
        ("request_data", None, None, to_request_data(quickstart()).encode()),
        ("input_files", "notes.txt", "text/plain", files[0].read_bytes()),
        ("input_files", "prices.csv", "text/csv", files[1].read_bytes()),
    ]


def test_request_data_text_is_sent_byte_for_byte(
    client: JobsClient, server: FaultServer, files: list[Path]
) -> None:
    text = (
        '{"job_nodes": [{"name": "P", "type": "partition", "subtype": "vlm", '
        '"settings": {"is_dynamic": true, "allow_fast": true}}, {"name": "C", "type": "chunk", '
        '"subtype": "chunk_by_similarity", '
        '"settings": {"similarity_threshold": 0.50000000000000000001, "max_characters": 1e3}}]}'
    )
    server.script(JOBS, Reply(200, json=job_json()))
    client.create_job(text, files[:1])
    assert parts(server.requests(JOBS)[0])[0] == ("request_data", None, None, text.encode())


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_job(template_id="hi_res_partition"),
        lambda c: c.create_job(TemplateJob("hi_res_partition")),
    ],
)
def test_template_jobs(call: Any, client: JobsClient, server: FaultServer) -> None:
    server.script(JOBS, Reply(200, json=job_json(job_type="template")))
    assert call(client).job_type == "template"
    request_data = parts(server.requests(JOBS)[0])[0][3]
    assert json.loads(request_data) == {"template_id": "hi_res_partition"}


def test_an_invalid_dag_never_reaches_the_server(
    client: JobsClient, server: FaultServer, files: list[Path]
) -> None:
    # overlap as large as the chunk: the chunker raises on it
    dag = Partition.hi_res() >> Chunk.by_title(max_characters=100, overlap=100)
    with pytest.raises(ValidationFailed) as caught:
        client.create_job(dag, files)
    assert "DK316" in {f.code for f in caught.value.findings}
    assert "nothing was sent" in str(caught.value)
    assert server.count() == 0


@pytest.mark.parametrize(
    ("names", "code"),
    [
        (["virus.exe"], "DK418"),
        ([f"f{i}.txt" for i in range(11)], "DK413"),
        (["empty.txt"], "DK415"),
    ],
)
def test_file_lists_are_checked_before_sending(
    names: list[str], code: str, client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    paths = []
    for name in names:
        path = tmp_path / name
        path.write_bytes(b"" if name == "empty.txt" else b"hello")
        paths.append(path)
    server.script(JOBS, Reply(200, json=job_json()))
    findings = client.check(quickstart(), paths)
    assert code in {f.code for f in findings}
    if any(f.is_error for f in findings):
        with pytest.raises(ValidationFailed):
            client.create_job(quickstart(), paths)
        assert server.count() == 0
    else:  # a warning (an empty file) is reported, not fatal
        client.create_job(quickstart(), paths)
        assert server.count(JOBS) == 1


def test_a_file_over_the_size_limit_is_refused(
    server: FaultServer, fake: FakeTime, tmp_path: Path
) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    small_limit = JobsClient(url=server.url, api_key=KEY, max_file_size=1024, sleep=fake.sleep)
    with pytest.raises(ValidationFailed) as caught:
        small_limit.create_job(quickstart(), [big])
    assert [f.code for f in caught.value.findings if f.is_error] == ["DK414"]
    assert server.count() == 0


def test_validate_false_sends_what_it_is_given(
    server: FaultServer, fake: FakeTime, files: list[Path]
) -> None:
    client = JobsClient(url=server.url, api_key=KEY, validate=False, sleep=fake.sleep)
    server.script(JOBS, Reply(200, json=job_json()))
    client.create_job('{"job_nodes": []}', files)
    assert server.count(JOBS) == 1


def test_a_job_and_a_template_id_together_are_refused(
    client: JobsClient, server: FaultServer
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        client.create_job(quickstart(), template_id="hi_res_partition")
    assert [f.code for f in caught.value.findings] == ["DK207"]
    with pytest.raises(ValidationFailed):
        client.create_job()
    assert server.count() == 0


def test_a_branching_dag_needs_create_jobs(
    client: JobsClient, server: FaultServer, fake: FakeTime, files: list[Path]
) -> None:
    with pytest.raises(DagError, match="create_jobs"):
        client.create_job(branching(), files)
    assert server.count() == 0
    other = str(uuid.UUID(int=7))
    server.script(JOBS, Reply(200, json=job_json()), Reply(200, json=job_json(job_id=other)))
    created = client.create_jobs(branching(), files)
    assert [j.id for j in created] == [JOB_ID, other]
    sent = [json.loads(parts(r)[0][3]) for r in server.requests(JOBS)]
    assert [d["job_nodes"][1]["name"] for d in sent] == ["By title", "By page"]
    # the second launch waited for the documented second between launches
    assert fake.sleeps == [pytest.approx(1.0)]


def test_create_jobs_names_the_jobs_created_before_a_failure(
    client: JobsClient, server: FaultServer, files: list[Path]
) -> None:
    server.script(JOBS, Reply(200, json=job_json()), Reply(400, json={"detail": "no"}))
    with pytest.raises(APIError) as caught:
        client.create_jobs(branching(), files)
    assert JOB_ID in " ".join(caught.value.__notes__)


def test_a_422_names_the_node_it_concerns(
    client: JobsClient, server: FaultServer, files: list[Path]
) -> None:
    loc = ["body", "request_data", "job_nodes", 1, "settings", "max_characters"]
    server.script(
        JOBS, Reply(422, json={"detail": [{"loc": loc, "msg": "too big", "type": "value_error"}]})
    )
    with pytest.raises(APIError) as caught:
        client.create_job(quickstart(), files)
    assert caught.value.status == 422
    [rejected] = caught.value.findings
    assert rejected.code == "DK510"
    assert rejected.pointer == "/job_nodes/1/settings/max_characters"
    assert rejected.node is not None and rejected.node.name == "Chunker"


def test_a_500_on_create_is_never_sent_again(
    client: JobsClient, server: FaultServer, files: list[Path]
) -> None:
    server.script(JOBS, Reply(500, json={"detail": "Internal server error"}))
    with pytest.raises(AmbiguousRequestError) as caught:
        client.create_job(quickstart(), files)
    assert "JobsClient.list_jobs()" in str(caught.value)
    assert server.count(JOBS) == 1


def test_connection_refused_says_nothing_reached_the_server(
    fake: FakeTime, files: list[Path]
) -> None:
    refused = RefusedPort()
    try:
        client = JobsClient(
            url=refused.url, api_key=KEY, retry=RetryPolicy(max_attempts=2), sleep=fake.sleep
        )
        with pytest.raises(TransportError) as caught:
            client.create_job(quickstart(), files)
    finally:
        refused.close()
    assert caught.value.reached_server is False
    assert KEY not in str(caught.value)


# ------------------------------------------------------------------------------ answers


def test_unknown_status_is_kept_and_extra_fields_ignored(
    client: JobsClient, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(
        JOBS + JOB_ID,
        Reply(200, json=job_json("REJECTED", preflight={"reason": "x"}, new_field=[1, 2])),
    )
    with caplog.at_level(logging.WARNING, logger="dagkit.client.jobs"):
        info = client.get_job(JOB_ID)
    assert info.status == "REJECTED"
    assert type(info.status) is str
    assert info.is_terminal and not info.succeeded
    assert info.raw["new_field"] == [1, 2]
    assert "DK502" in caplog.text


def test_a_job_without_a_status_is_a_response_error(
    client: JobsClient, server: FaultServer, fake: FakeTime
) -> None:
    broken = job_json()
    del broken["status"]
    server.script(JOBS + JOB_ID, Reply(200, json=broken), Reply(200, json=broken))
    with pytest.raises(ResponseError) as caught:
        client.get_job(JOB_ID)
    assert {f.code for f in caught.value.findings} == {"DK501"}
    assert '"status"' in str(caught.value)
    # without the schema check the answer is still one the client cannot use
    unchecked = JobsClient(url=server.url, api_key=KEY, validate=False, sleep=fake.sleep)
    with pytest.raises(ResponseError, match="status"):
        unchecked.get_job(JOB_ID)


def test_departures_the_client_does_not_need_are_read_around(
    client: JobsClient, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    broken = job_json(created_at="yesterday", runtime="PT")
    del broken["workflow_id"]
    server.script(JOBS + JOB_ID, Reply(200, json=broken))
    with caplog.at_level(logging.WARNING, logger="dagkit.client.jobs"):
        info = client.get_job(JOB_ID)
    assert (info.workflow_id, info.created_at, info.created) == (None, "yesterday", None)
    assert caplog.text.count("DK504") == 3


def test_a_platform_answer_is_read_and_each_departure_logged_once(
    client: JobsClient, server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    # what the platform's get-job sends: a created_at without offset; ids that are not UUIDs
    answer = job_json(
        "IN_PROGRESS",
        created_at="2025-10-07T20:17:04.419033",
        workflow_id="wf-1",
        output_node_files=[
            {
                "node_id": "n1a2b3c4-5d6e",
                "file_id": "250713305v1-d88db765.pdf",
                "node_type": "partition",
                "node_subtype": "unstructured_api",
            }
        ],
    )
    done = dict(answer, status="COMPLETED")
    server.script(
        JOBS + JOB_ID, Reply(200, json=answer), Reply(200, json=answer), Reply(200, json=done)
    )
    with caplog.at_level(logging.WARNING, logger="dagkit.client.jobs"):
        info = client.wait(JOB_ID)
    assert info.succeeded and server.count() == 3
    assert info.created == datetime(2025, 10, 7, 20, 17, 4, 419033, tzinfo=UTC)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3, warnings  # one per departure, however many polls
    assert any(
        'created_at "2025-10-07T20:17:04.419033" has no UTC offset; read as UTC' in w
        for w in warnings
    )
    assert any('workflow_id "wf-1" is not a UUID; used as given' in w for w in warnings)


def test_a_non_json_answer_is_a_response_error(client: JobsClient, server: FaultServer) -> None:
    server.script(JOBS + JOB_ID, Reply(200, body=b"<html>login</html>"))
    with pytest.raises(ResponseError):
        client.get_job(JOB_ID)
    assert server.count() == 1


def test_job_details_and_failed_files(client: JobsClient, server: FaultServer) -> None:
    server.script(
        f"{JOBS}{JOB_ID}/details",
        Reply(
            200,
            json={
                "id": JOB_ID,
                "processing_status": "COMPLETED_WITH_ERRORS",
                "node_stats": [
                    {
                        "node_name": "Partitioner",
                        "ready": 0,
                        "in_progress": 0,
                        "success": 1,
                        "failure": 1,
                        "extra": True,
                    },
                ],
                "message": "1 file failed",
            },
        ),
    )
    server.script(
        f"{JOBS}{JOB_ID}/failed-files",
        Reply(200, json={"failed_files": [{"document": "cat.png", "error": "no fast images"}]}),
    )
    details = client.job_details(JOB_ID)
    assert isinstance(details, JobDetails)
    assert details.processing_status is ProcessingStatus.COMPLETED_WITH_ERRORS
    assert (details.node_stats[0].success, details.node_stats[0].failure) == (1, 1)
    assert details.node_stats[0].node_type is None
    [failed] = client.failed_files(JOB_ID)
    assert (failed.document, failed.error) == ("cat.png", "no fast images")


def test_list_jobs_sends_its_filters(client: JobsClient, server: FaultServer) -> None:
    server.script(JOBS, Reply(200, json=[job_json("COMPLETED"), job_json("FAILED")]))
    found = client.list_jobs(workflow_id="wf-1", status="completed")
    assert [j.status for j in found] == ["COMPLETED", "FAILED"]
    [received] = server.requests(JOBS)
    assert received.method == "GET"
    assert received.target == f"{JOBS}?workflow_id=wf-1&status=COMPLETED"


def test_cancel_job_is_a_post(client: JobsClient, server: FaultServer) -> None:
    answer = {"id": JOB_ID, "status": "cancelled", "message": "Job successfully cancelled."}
    server.script(f"{JOBS}{JOB_ID}/cancel", Reply(200, json=answer))
    assert client.cancel_job(JOB_ID) == answer
    assert server.requests()[0].method == "POST"


def test_templates(client: JobsClient, server: FaultServer) -> None:
    item = {
        "id": "hi_res_partition",
        "name": "High res",
        "description": "partition with hi_res",
        "version": "1.0",
        "last_updated": "2026-01-01",
    }
    node = {
        "id": "n1",
        "name": "P",
        "type": "partition",
        "subtype": "unstructured_api",
        "settings": {"strategy": "hi_res"},
    }
    server.script("/api/v1/templates/", Reply(200, json=[item]))
    server.script("/api/v1/templates/hi_res_partition", Reply(200, json={**item, "nodes": [node]}))
    [listed] = client.list_templates()
    assert (listed.id, listed.name) == ("hi_res_partition", "High res")
    detail = client.get_template("hi_res_partition")
    assert detail.nodes == [
        Node("P", "partition", "unstructured_api", {"strategy": "hi_res"}, "n1")
    ]


def test_ids_cannot_change_the_path(client: JobsClient, server: FaultServer) -> None:
    with pytest.raises(NotFoundError):
        client.get_job("../templates/x")
    assert server.requests()[0].path == "/api/v1/jobs/..%2Ftemplates%2Fx"
    with pytest.raises(DagkitError):
        client.get_job("..")


# ------------------------------------------------------------------------------ wait


def test_wait_polls_with_backoff_until_the_job_ends(
    client: JobsClient, server: FaultServer, fake: FakeTime
) -> None:
    statuses = ["SCHEDULED", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]
    server.script(JOBS + JOB_ID, *(Reply(200, json=job_json(s)) for s in statuses))
    seen: list[str] = []
    info = client.wait(JOB_ID, on_update=lambda j: seen.append(str(j.status)))
    assert info.succeeded
    assert seen == ["SCHEDULED", "IN_PROGRESS", "COMPLETED"]
    assert server.count() == 5
    assert fake.sleeps == [1.0, 1.5, 2.25, 3.375]


def test_wait_pauses_are_capped(client: JobsClient, server: FaultServer, fake: FakeTime) -> None:
    server.script(JOBS + JOB_ID, *(Reply(200, json=job_json("IN_PROGRESS")) for _ in range(8)))
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("FAILED")))
    info = client.wait(JOB_ID, poll_initial=2.0, poll_max=5.0)
    assert info.status is JobStatus.FAILED
    assert max(fake.sleeps) == 5.0
    assert fake.sleeps[:3] == [2.0, 3.0, 4.5]


def test_an_unknown_status_ends_the_wait(client: JobsClient, server: FaultServer) -> None:
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("REJECTED")))
    assert client.wait(JOB_ID).status == "REJECTED"
    assert server.count() == 1


def test_wait_times_out_with_the_last_status(
    client: JobsClient, server: FaultServer, fake: FakeTime
) -> None:
    server.script(JOBS + JOB_ID, *(Reply(200, json=job_json("IN_PROGRESS")) for _ in range(20)))
    with pytest.raises(JobWaitTimeout) as caught:
        client.wait(JOB_ID, timeout=5.0)
    # every request was answered: a wait that ran out is not a transport error
    assert isinstance(caught.value, WaitTimeout)
    assert not isinstance(caught.value, DagkitTimeoutError)
    assert caught.value.job.status is JobStatus.IN_PROGRESS
    assert "IN_PROGRESS" in str(caught.value)
    assert sum(fake.sleeps) == pytest.approx(5.0)  # the last pause is cut to the deadline
    assert server.count() == len(fake.sleeps) + 1


# ------------------------------------------------------------------------------ downloads


def test_download_to_a_directory_keeps_server_names_inside_it(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    out = tmp_path / "deep" / "out"
    out.mkdir(parents=True)
    body = b'[{"type": "Title", "text": "x"}]'
    server.script(
        f"{JOBS}{JOB_ID}/download",
        Reply(
            200,
            body=body,
            headers=(("Content-Disposition", 'attachment; filename="../../etc/passwd"'),),
        ),
    )
    path = client.download_output(JOB_ID, FILE_IDS[0], dest=out)
    assert path == out / "passwd"
    assert path.read_bytes() == body
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["passwd"]
    assert server.requests()[0].target == f"{JOBS}{JOB_ID}/download?file_id={FILE_IDS[0]}"


def test_download_to_a_file_path_with_a_node(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[]"))
    path = client.download_output(JOB_ID, "f-1", "node-9", dest=tmp_path / "new" / "x.json")
    assert path == tmp_path / "new" / "x.json" and path.read_bytes() == b"[]"
    assert server.requests()[0].target.endswith("?file_id=f-1&node_id=node-9")


def test_an_interrupted_download_leaves_no_file(
    server: FaultServer, fake: FakeTime, tmp_path: Path
) -> None:
    client = JobsClient(
        url=server.url, api_key=KEY, retry=RetryPolicy(max_attempts=2), sleep=fake.sleep
    )
    target = tmp_path / "out.json"
    target.write_bytes(b"the previous download")
    server.script(f"{JOBS}{JOB_ID}/download", Truncate(body=b"[{" * 1000), Truncate())
    with pytest.raises(TransportError):
        client.download_output(JOB_ID, "f-1", dest=target)
    assert server.count() == 2  # a GET is retried, and the retry starts the file over
    assert target.read_bytes() == b"the previous download"
    assert os.listdir(tmp_path) == ["out.json"]


def test_download_all_names_outputs_after_the_uploaded_files(
    client: JobsClient, server: FaultServer, files: list[Path], tmp_path: Path
) -> None:
    server.script(JOBS, Reply(200, json=job_json()))
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[1]"), Reply(200, body=b"[2]"))
    job = client.create_job(quickstart(), files)
    paths = client.download_all(job, tmp_path / "out")
    assert [p.name for p in paths] == ["notes.txt.json", "prices.csv.json"]
    assert [p.read_bytes() for p in paths] == [b"[1]", b"[2]"]
    targets = [r.target for r in server.requests(f"{JOBS}{JOB_ID}/download")]
    assert targets == [f"{JOBS}{JOB_ID}/download?file_id={f}" for f in FILE_IDS]


def test_download_all_maps_outputs_by_the_ids_not_the_order(
    client: JobsClient, server: FaultServer, files: list[Path], tmp_path: Path
) -> None:
    # the platform's ids carry the uploaded name; here they come back in the other order
    ids = ["prices-61a58972.csv", "notes-d88db765.txt"]
    server.script(JOBS, Reply(200, json=job_json(input_file_ids=ids)))
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[1]"), Reply(200, body=b"[2]"))
    job = client.create_job(quickstart(), files)
    paths = client.download_all(job, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in paths} == {
        "prices.csv.json": b"[1]",
        "notes.txt.json": b"[2]",
    }


def test_download_all_of_two_uploads_with_one_name(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    one, two = tmp_path / "a" / "report.txt", tmp_path / "b" / "report.txt"
    for path in (one, two):
        path.parent.mkdir()
        path.write_text(f"{path.parent.name}\n")
    ids = ["report-0000000a.txt", "report-0000000b.txt"]
    server.script(JOBS, Reply(200, json=job_json(input_file_ids=ids)))
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[1]"), Reply(200, body=b"[2]"))
    job = client.create_job(quickstart(), [one, two])
    paths = client.download_all(job, tmp_path / "out")
    assert [p.name for p in paths] == ["report.txt.json", "report.txt-2.json"]
    targets = [r.target.rsplit("=", 1)[1] for r in server.requests(f"{JOBS}{JOB_ID}/download")]
    assert targets == ids


def test_download_all_uses_the_ids_of_the_create_answer(
    client: JobsClient, server: FaultServer, files: list[Path], tmp_path: Path
) -> None:
    # the platform's get-job may leave input_file_ids out; the create answer had them
    ids = ["notes-d88db765.txt", "prices-61a58972.csv"]
    server.script(JOBS, Reply(200, json=job_json(input_file_ids=ids)))
    done = job_json("COMPLETED")
    del done["input_file_ids"]
    server.script(JOBS + JOB_ID, Reply(200, json=done))
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[1]"), Reply(200, body=b"[2]"))
    job = client.wait(client.create_job(quickstart(), files))
    assert job.input_file_ids is None
    paths = client.download_all(job, tmp_path / "out")
    assert [p.name for p in paths] == ["notes.txt.json", "prices.csv.json"]


def test_download_all_of_a_job_without_file_ids_says_so(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    done = job_json("COMPLETED")
    del done["input_file_ids"]
    server.script(JOBS + JOB_ID, Reply(200, json=done), Reply(200, json=done))
    with pytest.raises(ResponseError) as caught:
        client.download_all(JOB_ID, tmp_path)
    assert str(caught.value) == (
        f"the server lists no input_file_ids for job {JOB_ID}, so there is nothing to "
        "download by; download one output with its file id instead"
    )
    assert not tmp_path.joinpath("out").exists()


def test_download_all_of_a_job_it_did_not_upload(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("COMPLETED")))
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[]"), Reply(200, body=b"[]"))
    paths = client.download_all(JOB_ID, tmp_path)
    assert [p.name for p in paths] == [f"{f}.json" for f in FILE_IDS]


# ------------------------------------------------------------------------------ dry run, key


def test_dry_run_sends_nothing_and_hides_the_key(
    client: JobsClient, server: FaultServer, files: list[Path]
) -> None:
    import hashlib

    text = client.dry_run(quickstart(), files)
    assert server.count() == 0
    assert KEY not in text
    assert "unstructured-api-key: ***" in text
    assert f"POST {server.url}/api/v1/jobs/" in text
    assert to_request_data(quickstart()) in text
    for path in files:
        data = path.read_bytes()
        assert f"<{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}>" in text
        assert f'filename="{path.name}"' in text
    assert "curl" in text and "$UNSTRUCTURED_API_KEY" in text
    assert files[0].read_text() not in text  # contents are elided


def test_dry_run_of_an_invalid_job_is_refused(client: JobsClient, server: FaultServer) -> None:
    with pytest.raises(ValidationFailed):
        client.dry_run('{"job_nodes": "no"}')
    assert server.count() == 0


def test_the_key_never_appears_in_errors_or_reprs(client: JobsClient, server: FaultServer) -> None:
    server.script(JOBS + JOB_ID, Reply(401, json={"detail": f"bad key {KEY}"}))
    with pytest.raises(AuthenticationError) as caught:
        client.get_job(JOB_ID)
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value.detail)
    assert KEY not in repr(client)


def test_options_or_a_transport_not_both(server: FaultServer, client: JobsClient) -> None:
    with pytest.raises(DagkitError):
        JobsClient(transport=client.transport, url=server.url)


def test_url_and_key_come_from_the_environment(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNSTRUCTURED_API_URL", server.url + "/api/v1/")
    monkeypatch.setenv("UNSTRUCTURED_API_KEY", KEY)
    server.script(JOBS + JOB_ID, Reply(200, json=job_json()))
    JobsClient().get_job(JOB_ID)
    assert server.requests()[0].header("unstructured-api-key") == KEY


def test_bytes_files_keep_their_names(client: JobsClient, server: FaultServer) -> None:
    server.script(JOBS, Reply(200, json=job_json()))
    client.create_job(quickstart(), [FileSpec(b"hello", filename="hi.md")])
    assert parts(server.requests(JOBS)[0])[1] == ("input_files", "hi.md", "text/markdown", b"hello")


# ------------------------------------------------------------------------------ properties

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "status",
                "workflow_id",
                "created_at",
                "input_file_ids",
                "output_node_files",
                "job_type",
                "runtime",
                "other",
            ]
        ),
        _json_values,
    )
)
def test_job_parsing_is_lenient_but_never_crashes(doc: dict[str, Any]) -> None:
    try:
        info = JobInfo.from_dict(doc)
    except ResponseError:
        # only a job the client cannot use: no id, or no status
        assert not doc.get("id") or not (isinstance(doc.get("status"), str) and doc["status"])
        return
    assert info.status == doc["status"]
    json.dumps(info.to_dict())  # always printable as JSON


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_safe_filename_stays_inside_its_directory(name: str) -> None:
    base = Path("/srv/out")
    safe = safe_filename(name, fallback="output.json")
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in (".", "..") and not safe.startswith(".")
    assert (base / safe).resolve().parent == base.resolve()


@settings(max_examples=150, deadline=None)
@given(
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=300),
    st.from_regex(r"[a-z0-9]{1,15}", fullmatch=True),
)
def test_a_long_name_is_cut_to_fit_and_keeps_its_extension(stem: str, ext: str) -> None:
    name = f"{stem}.{ext}"
    safe = safe_filename(name, fallback="output.json")
    if len(name.encode("utf-8")) <= 200:
        assert safe == name
    else:
        assert len(safe.encode("utf-8")) <= 200 and safe.endswith(f".{ext}")
        assert name.startswith(safe[: -len(ext) - 1])
        assert len(safe.encode("utf-8")) > 200 - 4  # cut by at most one character


def test_download_into_a_path_under_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    """Not a traceback: a DagkitError that names the directory (the CLI exits with it)."""
    from dagkit.client.jobs import JobsClient
    from dagkit.errors import DagkitError
    from dagkit.server import serve_in_thread

    blocker = tmp_path / "afile"
    blocker.write_text("x")
    source = tmp_path / "a.txt"
    source.write_text("hello")
    with serve_in_thread(clock="instant", rate_limit=False) as server:
        client = JobsClient(url=server.url, api_key="k")
        job = client.create_job('{"template_id":"hi_res_partition"}', [source])
        with pytest.raises(DagkitError) as caught:
            client.download_all(job, blocker / "sub")
    # the system's reason, as words: not an errno and a repeated path
    assert str(caught.value) == (
        f"cannot save the download in {blocker / 'sub'}: {os.strerror(errno.ENOTDIR)}"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "afile"]


def test_a_long_upload_name_still_gives_an_output_file_systems_take(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    # 253 bytes is a valid name, but not once ".json" is added: 255 bytes is the usual limit.
    long = tmp_path / ("日" * 83 + ".txt")
    long.write_text("notes\n", encoding="utf-8")
    server.script(JOBS, Reply(200, json=job_json(input_file_ids=["f-0001"])))
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[1]"))
    job = client.create_job(quickstart(), [long])
    (path,) = client.download_all(job, tmp_path / "out")
    assert path.read_bytes() == b"[1]"
    assert path.name.startswith("日" * 60) and path.name.endswith(".txt.json")
    assert len(path.name.encode("utf-8")) <= 255


def test_a_long_served_name_is_cut_to_fit(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    served = "%E6%97%A5" * 300 + ".json"  # RFC 5987: 300 times 日, 900 bytes
    disposition = f"attachment; filename*=UTF-8''{served}"
    server.script(
        f"{JOBS}{JOB_ID}/download",
        Reply(200, body=b"[]", headers=(("Content-Disposition", disposition),)),
    )
    path = client.download_output(JOB_ID, "f-1", dest=tmp_path)
    assert path.parent == tmp_path and path.read_bytes() == b"[]"
    assert path.name.startswith("日" * 60) and path.name.endswith(".json")
    assert len(path.name.encode("utf-8")) <= 255


def test_a_part_file_naming_no_possible_process_is_left_to_the_age_rule(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    # Ten digits fit the name but no pid of this machine: asking after it must not crash.
    from dagkit.core import partfiles

    host = partfiles.new_name().split("-")[2]
    odd = tmp_path / f".dagkit-9999999999-{host}-{'0' * 16}.part"
    odd.write_bytes(b"whose?")
    server.script(f"{JOBS}{JOB_ID}/download", Reply(200, body=b"[]"))
    assert client.download_output(JOB_ID, "f-1", dest=tmp_path / "x.json").read_bytes() == b"[]"
    assert odd.read_bytes() == b"whose?"


DOWNLOAD = f"{JOBS}{JOB_ID}/download"
FAILED_FILES = f"{JOBS}{JOB_ID}/failed-files"


def failed_files(*pairs: tuple[str, str]) -> Reply:
    return Reply(200, json={"failed_files": [{"document": d, "error": e} for d, e in pairs]})


def test_a_trailing_slash_makes_a_folder_and_a_node_names_its_output(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    server.script(DOWNLOAD, Reply(200, body=b"[]"))
    path = client.download_output(JOB_ID, "f-1", "node-9", dest=f"{tmp_path}/new/")
    assert path == tmp_path / "new" / "f-1.node-9.json" and path.read_bytes() == b"[]"
    assert server.requests()[0].target.endswith("?file_id=f-1&node_id=node-9")


@pytest.mark.parametrize("name", ["..", "a\\b.json", "a\0b.json"])
def test_a_file_name_that_could_leave_its_folder_is_refused(
    client: JobsClient, server: FaultServer, tmp_path: Path, name: str
) -> None:
    server.script(DOWNLOAD, Reply(200, body=b"[]"))
    with pytest.raises(DagkitValueError, match="refusing to write the download outside"):
        client.download_output(JOB_ID, "f-1", dest=f"{tmp_path}/missing/{name}")
    assert [p for p in tmp_path.rglob("*") if not p.is_dir()] == []


def test_save_outputs_tries_every_file_and_gives_each_missing_one_its_reason(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    server.script(DOWNLOAD, Reply(404, json={"detail": "no output"}), Reply(200, body=b"[3]"))
    server.script(FAILED_FILES, failed_files(("a.txt", "unsupported"), ("z.txt", "")))
    job = JobInfo.from_dict(job_json("COMPLETED"))

    def save(index: int, file_id: str) -> Path:
        return client.download_output(job, file_id, dest=tmp_path / f"{index}.json")

    names = ["a.txt", "b.txt", "c.txt"]
    outputs = client.save_outputs(job, [None, "f-2", "f-3"], names, save)
    assert outputs.saved == {2: tmp_path / "2.json"}
    assert outputs.failed == {0: "unsupported", 1: NO_OUTPUT}
    assert outputs.reasons == {"a.txt": "unsupported", "z.txt": "failed"}
    server.script(DOWNLOAD, Reply(200, body=b"[1]"))
    again = client.save_outputs(job, ["f-1"], ["a.txt"], save)
    assert (again.saved, again.failed, again.reasons) == ({0: tmp_path / "0.json"}, {}, {})
    assert server.count(FAILED_FILES) == 1  # asked only when something is missing


def test_download_all_by_the_id_of_a_job_this_client_created(
    client: JobsClient, server: FaultServer, files: list[Path], tmp_path: Path
) -> None:
    # get-job may leave input_file_ids out; the create answer had them
    ids = ["notes-d88db765.txt", "prices-61a58972.csv"]
    server.script(JOBS, Reply(200, json=job_json(input_file_ids=ids)))
    done = job_json("COMPLETED")
    del done["input_file_ids"]
    server.script(JOBS + JOB_ID, Reply(200, json=done))
    server.script(DOWNLOAD, Reply(200, body=b"[1]"), Reply(200, body=b"[2]"))
    client.create_job(quickstart(), files)
    paths = client.download_all(JOB_ID, tmp_path / "out")
    assert [p.name for p in paths] == ["notes.txt.json", "prices.csv.json"]


def test_names_without_an_extension_are_matched_by_the_ids_too(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    uploads = [tmp_path / "README", tmp_path / "LICENSE"]
    for path in uploads:
        path.write_text(f"{path.name}\n")
    ids = ["LICENSE-0000000b", "README-0000000a"]  # listed in the other order
    server.script(JOBS, Reply(200, json=job_json(input_file_ids=ids)))
    server.script(DOWNLOAD, Reply(200, body=b"[1]"), Reply(200, body=b"[2]"))
    job = client.create_job('{"template_id": "hi_res_partition"}', uploads)
    paths = client.download_all(job, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in paths} == {
        "LICENSE.json": b"[1]",
        "README.json": b"[2]",
    }


def test_a_job_it_did_not_upload_names_its_failed_files_as_their_ids_do(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    ids = ["report-0000000a.pdf", "scan-0000000b", "opaque"]
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("COMPLETED", input_file_ids=ids)))
    server.script(DOWNLOAD, Reply(200, body=b"[1]"), Reply(404), Reply(404))
    server.script(FAILED_FILES, failed_files(("scan", "OCR failed"), ("opaque", "empty")))
    with pytest.raises(OutputsFailed) as caught:
        client.download_all(JOB_ID, tmp_path)
    assert [(f.document, f.error) for f in caught.value.failed] == [
        ("scan", "OCR failed"),
        ("opaque", "empty"),
    ]
    assert caught.value.saved == [tmp_path / "report-0000000a.pdf.json"]
    assert str(caught.value).endswith(": 2 of 3 file(s) failed: scan, opaque; 1 output(s) saved")


def test_served_names_that_collide_are_numbered(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    served = (("Content-Disposition", 'attachment; filename="output"'),)
    server.script(JOBS + JOB_ID, Reply(200, json=job_json("COMPLETED")))
    server.script(DOWNLOAD, *[Reply(200, body=b"[]", headers=served)] * 2)
    paths = client.download_all(JOB_ID, tmp_path)
    assert [p.name for p in paths] == ["output", "output-2"]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        (".bashrc", "bashrc"),
        ("Xmas.txt", "Xmas.txt"),
        ("notes.", "notes."),
        ("a" * 250, "a" * 200),  # no extension to keep
        ("a" * 150 + "." + "e" * 16 + "x" * 60, ("a" * 150 + "." + "e" * 16 + "x" * 60)[:200]),
        ("a" * 250 + "." + "e" * 16, ("a" * 250)[:200]),  # 16 characters: not an extension
        ("a" * 250 + "." + "e" * 15, "a" * 184 + "." + "e" * 15),
        ("a" * 250 + ".tar.gz", "a" * 197 + ".gz"),  # the last extension
    ],
)
def test_safe_names(name: str, safe: str) -> None:
    assert safe_filename(name, "fallback") == safe


def test_download_all_of_a_job_it_was_given_asks_nothing_more(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    server.script(DOWNLOAD, Reply(200, body=b"[]"), Reply(200, body=b"[]"))
    job = JobInfo.from_dict(job_json("COMPLETED"))
    paths = client.download_all(job, tmp_path)
    assert [p.name for p in paths] == [f"{f}.json" for f in FILE_IDS]
    assert server.count() == 2


def test_download_all_by_id_reports_a_failed_upload_by_its_name(
    client: JobsClient, server: FaultServer, files: list[Path], tmp_path: Path
) -> None:
    # opaque ids, matched by upload order; get-job lists none
    server.script(JOBS, Reply(200, json=job_json(input_file_ids=["id-1", "id-2"])))
    done = job_json("COMPLETED")
    del done["input_file_ids"]
    server.script(JOBS + JOB_ID, Reply(200, json=done))
    server.script(DOWNLOAD, Reply(200, body=b"[1]"), Reply(404))
    server.script(FAILED_FILES, failed_files(("prices.csv", "bad CSV")))
    client.create_job(quickstart(), files)
    with pytest.raises(OutputsFailed) as caught:
        client.download_all(JOB_ID, tmp_path)
    assert str(caught.value) == (
        f"job {JOB_ID}: 1 of 2 file(s) failed: prices.csv; 1 output(s) saved"
    )
    assert [(f.document, f.error) for f in caught.value.failed] == [("prices.csv", "bad CSV")]
    assert caught.value.saved == [tmp_path / "notes.txt.json"]


def test_an_upload_whose_name_leaves_nothing_is_saved_by_its_id(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    dots = tmp_path / "..."
    dots.write_text("x\n")
    server.script(JOBS, Reply(200, json=job_json(input_file_ids=["f-0001"])))
    server.script(DOWNLOAD, Reply(200, body=b"[]"))
    job = client.create_job('{"template_id": "hi_res_partition"}', [dots])
    assert [p.name for p in client.download_all(job, tmp_path / "out")] == ["f-0001.json"]


def test_an_output_that_cannot_take_its_place_says_why(
    client: JobsClient, server: FaultServer, tmp_path: Path
) -> None:
    (tmp_path / "f-0001.json").mkdir()  # a folder holds the output's name
    server.script(DOWNLOAD, Reply(200, body=b"[]"), Reply(200, body=b"[]"))
    with pytest.raises(DagkitError) as caught:
        client.download_all(JobInfo.from_dict(job_json("COMPLETED")), tmp_path)
    assert str(caught.value) == (
        f"cannot save the download as {tmp_path / 'f-0001.json'}: {os.strerror(errno.EISDIR)}"
    )


@pytest.mark.parametrize("job_id", ["", "..", "."])
def test_a_download_needs_a_job_id_that_is_one_path_segment(
    client: JobsClient, server: FaultServer, tmp_path: Path, job_id: str
) -> None:
    with pytest.raises(DagkitValueError, match=r"^the job id must be a non-empty string"):
        client.download_output(job_id, "f-1", dest=tmp_path)
    assert server.count() == 0


def test_closing_a_client_closes_its_kept_connection() -> None:
    from dagkit.server import serve_in_thread

    with serve_in_thread(clock="manual", rate_limit=False) as running:
        open_connections = running._httpd.connections  # what the server holds open
        with JobsClient(url=running.url, api_key="any-key") as client:
            assert client.list_jobs() == []
            assert len(open_connections) == 1  # kept for the next request
        deadline = time.monotonic() + 2  # less than the 4 s after which an idle one closes
        while len(open_connections) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(open_connections) == 0
        assert client.list_jobs() == []  # still usable: a new connection
