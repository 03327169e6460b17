"""Jobs as the API shows them: JobInformation, JobDetails, JobFailedFiles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dagkit.server.store import TERMINAL, Job


def timestamp(seconds: float) -> str:
    """An RFC 3339 date-time in UTC with milliseconds."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def job_information(job: Job) -> dict[str, Any]:
    runtime = None
    if job.status in TERMINAL and job.started_at is not None and job.finished_at is not None:
        runtime = f"PT{max(0, round(job.finished_at - job.started_at))}S"
    return {
        "id": job.id,
        "workflow_id": job.workflow_id,
        "workflow_name": job.workflow_name,
        "status": job.status,
        "created_at": timestamp(job.created_at),
        "runtime": runtime,
        "input_file_ids": [f.file_id for f in job.files],
        "output_node_files": output_node_files(job),
        "job_type": job.job_type,
    }


def output_node_files(job: Job) -> list[dict[str, str]]:
    """One entry per input file and node, file by file, from the moment the job is created (as
    the platform's create answer lists them): what can be downloaded once the node has run."""
    return [
        {
            "node_id": node.id or "",
            "file_id": f.file_id,
            "node_type": node.type,
            "node_subtype": node.subtype,
        }
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
    return {
        "id": job.id,
        "processing_status": processing,
        "node_stats": [_node_stats(job, i) for i in range(len(job.nodes))],
        "message": job.message,
    }


def _node_stats(job: Job, index: int) -> dict[str, Any]:
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
    return {
        "node_name": node.name,
        "node_type": node.type,
        "node_subtype": node.subtype,
        "ready": ready,
        "in_progress": in_progress,
        "success": success,
        "failure": failure,
    }


def failed_files(job: Job) -> dict[str, Any]:
    return {
        "failed_files": [
            {"document": f.filename, "error": f.error} for f in job.files if f.error is not None
        ]
    }
