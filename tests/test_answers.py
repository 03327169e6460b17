"""One representation of each answer for both ends: the embedded server sends the records of
dagkit.wire.answers, the client reads answers back into the same records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import dagkit.client.jobs as client_jobs
from dagkit.client.jobs import JobsClient
from dagkit.client.workflows import WorkflowsClient
from dagkit.model.nodes import Chunk, Partition
from dagkit.server import serve_in_thread
from dagkit.wire import answers
from dagkit.wire.answers import (
    FailedFile,
    JobDetails,
    JobInfo,
    NodeFile,
    NodeStats,
    Template,
    TemplateDetail,
    WorkflowInfo,
    read_failed_files,
)

ROOT = Path(__file__).resolve().parent.parent
KEY = "answers-test-key"

_text = st.none() | st.text(max_size=8)
_node_files = st.builds(NodeFile, _text, _text, _text, _text)
_jobs = st.builds(
    JobInfo,
    id=st.text(min_size=1, max_size=8),
    workflow_id=_text,
    workflow_name=_text,
    status=st.sampled_from(["SCHEDULED", "IN_PROGRESS", "COMPLETED", "FAILED", "PAUSED"]),
    created_at=_text,
    runtime=_text,
    input_file_ids=st.none() | st.lists(st.text(max_size=8), max_size=3),
    output_node_files=st.none() | st.lists(_node_files, max_size=3),
    job_type=_text,
)
_counts = st.integers(min_value=0, max_value=10**6)
_stats = st.builds(NodeStats, _text, _text, _text, _counts, _counts, _counts, _counts)
_details = st.builds(
    JobDetails,
    id=_text,
    processing_status=st.sampled_from(["SUCCESS", "COMPLETED_WITH_ERRORS", "NEW_ONE"]),
    node_stats=st.lists(_stats, max_size=3),
    message=_text,
)


@given(_jobs)
def test_a_job_read_back_is_the_job_sent(job: JobInfo) -> None:
    assert JobInfo.from_dict(job.to_dict()) == job


@given(_details)
def test_job_details_read_back_are_the_details_sent(details: JobDetails) -> None:
    assert JobDetails.from_dict(details.to_dict()) == details


@given(st.lists(st.builds(FailedFile, _text, _text), max_size=3))
def test_failed_files_read_back_are_the_files_sent(files: list[FailedFile]) -> None:
    assert read_failed_files(answers.failed_files_answer(files)) == files


def test_the_client_and_the_server_share_the_records() -> None:
    for name in ("JobInfo", "JobDetails", "NodeFile", "NodeStats", "FailedFile", "Template"):
        assert getattr(client_jobs, name) is getattr(answers, name)


def test_every_answer_of_the_server_reads_back_into_what_it_sent(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one paragraph\n")
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # fails with the fast strategy
    with serve_in_thread(api_key=KEY, clock="instant", rate_limit=False) as server:
        client = JobsClient(url=server.url, api_key=KEY)
        from dagkit.model.nodes import Partition

        job = client.wait(
            client.create_job(Partition.fast(), [tmp_path / "a.txt", tmp_path / "b.png"])
        )
        sent: list[tuple[dict[str, Any] | list[Any], Any]] = [
            (job.raw, JobInfo.from_dict(job.raw).to_dict()),
            (client.job_details(job).raw, client.job_details(job).to_dict()),
        ]
        failed = client.failed_files(job)
        assert [f.document for f in failed] == ["b.png"]
        for template in client.list_templates():
            sent.append((template.raw, Template.from_dict(template.raw).to_dict()))
            detail = client.get_template(template.id)
            sent.append((detail.raw, TemplateDetail.from_dict(detail.raw).to_dict()))
    for raw, read_back in sent:
        # every field the server sent, in its order, and no other
        assert json.dumps(read_back) == json.dumps(raw)


def test_a_template_lists_as_its_summary() -> None:
    detail = TemplateDetail("t", "T", "d", "1.0.0", "2025-12-10T00:00:00+00:00", nodes=[])
    assert detail.summary() == Template("t", "T", "d", "1.0.0", "2025-12-10T00:00:00+00:00")
    assert list(detail.to_dict()) == [*detail.summary().to_dict(), "nodes"]


def test_a_workflow_answer_reads_back_into_what_the_server_sent() -> None:
    with serve_in_thread(api_key=KEY, clock="instant", rate_limit=False) as server:
        client = WorkflowsClient(url=server.url, api_key=KEY)
        dag = Partition.fast() >> Chunk.by_title()
        plain = client.create_workflow(dag, name="plain")
        scheduled = client.create_workflow(
            dag, name="nightly", source_id="src-1", destination_id="dst-1", schedule="daily"
        )
        listed = client.list_workflows()
    assert {w.id for w in listed} == {plain.id, scheduled.id}
    for info in (plain, scheduled, *listed):
        assert isinstance(info, WorkflowInfo)
        assert json.dumps(WorkflowInfo.from_dict(info.raw).to_dict()) == json.dumps(info.raw)
    assert scheduled.sources == ["src-1"] and scheduled.crontab
    assert [n.name for n in plain.nodes] == [n.name for n in dag]
