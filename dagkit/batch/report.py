"""What a batch did, file by file: the value :func:`dagkit.batch.run` returns and the JSON report
it writes into the out dir (atomically: a reader never sees half a report)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagkit.core.atomic import write_text

#: The report's file name inside the out dir.
REPORT_NAME = "dagkit-batch-report.json"
#: File states, in the order a summary lists them.
FILE_STATES = ("done", "failed", "skipped", "in_job", "pending")


@dataclass(frozen=True)
class FileResult:
    """One input file (for one planned job of the DAG).

    ``state``: ``done`` (``output`` holds its output), ``failed`` (``reason`` is the server's),
    ``skipped`` (never sent; ``reason`` says why), or, after an interrupted run, ``in_job``
    (sent, not finished) or ``pending`` (not sent yet).
    """

    source: str
    path: str
    state: str
    reason: str | None = None
    output: str | None = None
    job_id: str | None = None
    branch: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "path": self.path,
            "branch": self.branch,
            "state": self.state,
            "reason": self.reason,
            "output": self.output,
            "job_id": self.job_id,
        }


@dataclass(frozen=True)
class JobResult:
    """One job the batch created (or tried to). ``state`` is the journal's: sending, running,
    ended, done or void; ``status`` the server's last word."""

    id: str | None
    state: str
    status: str | None
    files: list[str]
    reason: str | None = None
    reconciled: bool = False
    branch: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "branch": self.branch,
            "state": self.state,
            "status": self.status,
            "files": list(self.files),
            "reason": self.reason,
            "reconciled": self.reconciled,
        }


@dataclass
class BatchReport:
    """Every file and job of a batch (all runs on this out dir, not only the last)."""

    out_dir: Path
    files: list[FileResult]
    jobs: list[JobResult]
    interrupted: bool = False
    elapsed: float = 0.0
    launched: int = 0
    branches: int = 1
    report_path: Path | None = None
    journal_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """How many files are in each state (every state listed, zeros included)."""
        counter = Counter(f.state for f in self.files)
        return {state: counter.get(state, 0) for state in FILE_STATES}

    @property
    def complete(self) -> bool:
        """Every file is settled: done, failed or skipped."""
        counts = self.counts
        return counts["in_job"] == 0 and counts["pending"] == 0

    @property
    def ok(self) -> bool:
        """Complete, and no file failed."""
        return self.complete and self.counts["failed"] == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "out_dir": str(self.out_dir),
            "complete": self.complete,
            "interrupted": self.interrupted,
            "summary": {
                "files": len(self.files),
                **self.counts,
                "jobs": len([j for j in self.jobs if j.state != "void"]),
                "jobs_launched_this_run": self.launched,
                "seconds": round(self.elapsed, 3),
            },
            "notes": list(self.notes),
            "files": [f.to_dict() for f in self.files],
            "jobs": [j.to_dict() for j in self.jobs],
        }

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the report as JSON to ``path`` atomically; the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        write_text(target, text, durable=True)
        self.report_path = target
        return target
