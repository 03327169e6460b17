"""The clients of the jobs and workflows API (:mod:`.jobs`, :mod:`.workflows`), and a job
sent and followed in one call (:mod:`.submission`).

Their public names are importable from here too; each module loads on first use, so importing
one client does not load the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagkit.core.exports import lazy_exports

_MODULES: dict[str, str] = {
    "FailedFile": "dagkit.client.jobs",
    "JobDetails": "dagkit.client.jobs",
    "JobInfo": "dagkit.client.jobs",
    "JobStatus": "dagkit.client.jobs",
    "JobWaitTimeout": "dagkit.client.jobs",
    "JobsClient": "dagkit.client.jobs",
    "NodeFile": "dagkit.client.jobs",
    "NodeStats": "dagkit.client.jobs",
    "Outputs": "dagkit.client.jobs",
    "ProcessingStatus": "dagkit.client.jobs",
    "RUNNING_STATUSES": "dagkit.client.jobs",
    "Template": "dagkit.client.jobs",
    "TemplateDetail": "dagkit.client.jobs",
    "JobOutcome": "dagkit.client.submission",
    "QuietListener": "dagkit.client.submission",
    "SubmitResult": "dagkit.client.submission",
    "submit": "dagkit.client.submission",
    "WorkflowInfo": "dagkit.client.workflows",
    "WorkflowsClient": "dagkit.client.workflows",
    "match_input_files": "dagkit.client.jobs",
    "safe_filename": "dagkit.client.jobs",
}

__all__ = [
    "RUNNING_STATUSES",
    "FailedFile",
    "JobDetails",
    "JobInfo",
    "JobOutcome",
    "JobStatus",
    "JobWaitTimeout",
    "JobsClient",
    "NodeFile",
    "NodeStats",
    "Outputs",
    "ProcessingStatus",
    "QuietListener",
    "SubmitResult",
    "Template",
    "TemplateDetail",
    "WorkflowInfo",
    "WorkflowsClient",
    "match_input_files",
    "safe_filename",
    "submit",
]

if TYPE_CHECKING:
    from dagkit.client.jobs import (
        RUNNING_STATUSES,
        FailedFile,
        JobDetails,
        JobInfo,
        JobsClient,
        JobStatus,
        JobWaitTimeout,
        NodeFile,
        NodeStats,
        Outputs,
        ProcessingStatus,
        Template,
        TemplateDetail,
        match_input_files,
        safe_filename,
    )
    from dagkit.client.submission import JobOutcome, QuietListener, SubmitResult, submit
    from dagkit.client.workflows import (
        WorkflowInfo,
        WorkflowsClient,
    )


__getattr__ = lazy_exports(__name__, _MODULES)
