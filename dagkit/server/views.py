"""Jobs as the API shows them: JobInformation, JobDetails, JobFailedFiles, built as the records
the client reads them into (:mod:`dagkit.wire.answers`), one definition for both ends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dagkit.server.store import TERMINAL, Job
from dagkit.wire.answers import (
    FailedFile,
    JobDetails,
    JobInfo,
    NodeFile,
    NodeStats,
    failed_files_answer,
)


def timestamp(seconds: float) -> str:
    """An RFC 3339 date-time in UTC with milliseconds."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def job_information(job: Job) -> dict[str, Any]:
    runtime = None
    if job.status in TERMINAL and job.started_at is not None and job.finished_at is not None:
        runtime = f"PT{max(0, round(job.finished_at - job.started_at))}S"
    return JobInfo(
        id=job.id,
        workflow_id=job.workflow_id,
        workflow_name=job.workflow_name,
        status=job.status,
        created_at=timestamp(job.created_at),
        runtime=runtime,
        input_file_ids=[f.file_id for f in job.files],
        output_node_files=output_node_files(job),
        job_type=job.job_type,
    ).to_dict()


def output_node_files(job: Job) -> list[NodeFile]:
    """One entry per input file and node, file by file, from the moment the job is created (as
    the platform's create answer lists them): what can be downloaded once the node has run."""
    return [
        NodeFile(node.id or "", f.file_id, node.type, node.subtype)
        for f in job.files
        for node in job.nodes
    ]


_PROCESSING = {"SCHEDULED": "SCHEDULED", "IN_PROGRESS": "IN_PROGRESS", "STOPPED": "STOPPED"}


def job_details(job: Job) -> dict[str, Any]:
    failed = sum(1 for f in job.files if f.error is not None)
    if job.status == "COMPLETED":
        processing = "COMPLETED_WITH_ERRORS" if failed else "SUCCESS"
    elif job.status == "FAILED":
        processing = "FAILED"
    else:
        processing = _PROCESSING.get(job.status, job.status)
    return JobDetails(
        id=job.id,
        processing_status=processing,
        node_stats=[_node_stats(job, i) for i in range(len(job.nodes))],
        message=job.message,
    ).to_dict()


def _node_stats(job: Job, index: int) -> NodeStats:
    node = job.nodes[index]
    alive = [f for f in job.files if f.failed_at is None or f.failed_at >= index]
    failure = sum(1 for f in alive if f.failed_at == index)
    ready = in_progress = success = 0
    if index < job.step:
        success = len(alive) - failure
    elif job.status == "IN_PROGRESS" and index == job.step:
        in_progress = len(alive)
    elif job.status == "SCHEDULED" and index == 0:
        ready = len(alive)
    return NodeStats(node.name, node.type, node.subtype, ready, in_progress, success, failure)


def failed_files(job: Job) -> dict[str, Any]:
    return failed_files_answer(
        [FailedFile(f.filename, f.error) for f in job.files if f.error is not None]
    )
