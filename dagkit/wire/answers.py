"""The answers of the jobs and templates API as records, one definition for both ends: the
embedded server builds them and sends :meth:`to_dict`, the client reads an answer into them
with :meth:`from_dict`.

``from_dict`` is lenient, as a client must be: only what the client cannot use (not an
object, a job without ``id`` or ``status``, a template without ``id``) raises
:class:`~dagkit.errors.ResponseError`; a missing or mistyped field it does not need is None
(0 for counts), a status it does not know is kept as a plain ``str``, unknown fields are
ignored and the whole answer is kept in ``raw``. Reporting those departures (DK502/DK504) is
the validator's work, not this module's. ``to_dict`` gives the answer's JSON fields in the
order the spec lists them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from dagkit.errors import ResponseError
from dagkit.model.nodes import Node
from dagkit.wire.workflows import Workflow, from_workflow

__all__ = [
    "NAIVE_DATE_TIME",
    "RUNNING_STATUSES",
    "FailedFile",
    "JobDetails",
    "JobInfo",
    "JobStatus",
    "NodeFile",
    "NodeStats",
    "ProcessingStatus",
    "Template",
    "TemplateDetail",
    "WorkflowInfo",
    "failed_files_answer",
    "read_date_time",
    "read_failed_files",
    "read_list",
]


class JobStatus(StrEnum):
    """The job statuses the spec lists. A status outside them is kept as a plain ``str``."""

    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


class ProcessingStatus(StrEnum):
    """The processing statuses of job details. Others are kept as plain ``str``."""

    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESS = "SUCCESS"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


#: While a job has one of these statuses it is still going; any other status ends a wait,
#: including ones the spec does not list yet, so a new status never makes a wait loop forever.
RUNNING_STATUSES = frozenset({JobStatus.SCHEDULED, JobStatus.IN_PROGRESS})

_E = TypeVar("_E", bound=StrEnum)


def _enum(kind: type[_E], value: Any) -> _E | str:
    if not isinstance(value, str):
        return "UNKNOWN" if value is None else str(value)
    try:
        return kind(value)
    except ValueError:
        return value


def _str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ResponseError(f"expected {what} as a JSON object, got {type(data).__name__}")
    return data


def read_list(data: Any, what: str) -> list[dict[str, Any]]:
    """The objects of an answer that is a list of ``what`` (entries that are not objects
    skipped); an answer that is not a list raises :class:`ResponseError`."""
    if not isinstance(data, list):
        raise ResponseError(f"expected a JSON list of {what}, got {type(data).__name__}")
    return _dicts(data)


@dataclass(frozen=True)
class NodeFile:
    """One output of one node for one input file (``output_node_files``)."""

    node_id: str | None = None
    file_id: str | None = None
    node_type: str | None = None
    node_subtype: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeFile:
        return cls(
            _str(data, "node_id"),
            _str(data, "file_id"),
            _str(data, "node_type"),
            _str(data, "node_subtype"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "file_id": self.file_id,
            "node_type": self.node_type,
            "node_subtype": self.node_subtype,
        }


@dataclass(frozen=True)
class JobInfo:
    """A job as the API reports it (``JobInformation``); ``raw`` is the whole answer."""

    id: str
    workflow_id: str | None = None
    workflow_name: str | None = None
    status: JobStatus | str = "UNKNOWN"
    created_at: str | None = None
    runtime: str | None = None
    input_file_ids: list[str] | None = None
    output_node_files: list[NodeFile] | None = None
    job_type: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        """True once the job is no longer scheduled or in progress (whatever the status)."""
        return self.status not in RUNNING_STATUSES

    @property
    def succeeded(self) -> bool:
        return self.status == JobStatus.COMPLETED

    @property
    def created(self) -> datetime | None:
        """``created_at`` as an aware datetime; one without a UTC offset is read as UTC."""
        if self.created_at is None:
            return None
        return read_date_time(self.created_at)

    @classmethod
    def from_dict(cls, data: Any) -> JobInfo:
        doc = _object(data, "a job")
        job_id = _str(doc, "id")
        if not job_id:
            raise ResponseError("the server's job has no id")
        if not isinstance(doc.get("status"), str) or not doc["status"]:
            raise ResponseError(f'the server\'s job {job_id} has no "status"')
        ids = doc.get("input_file_ids")
        outputs = doc.get("output_node_files")
        return cls(
            id=job_id,
            workflow_id=_str(doc, "workflow_id"),
            workflow_name=_str(doc, "workflow_name"),
            status=_enum(JobStatus, doc.get("status")),
            created_at=_str(doc, "created_at"),
            runtime=_str(doc, "runtime"),
            input_file_ids=[str(i) for i in ids] if isinstance(ids, list) else None,
            output_node_files=(
                [NodeFile.from_dict(d) for d in _dicts(outputs)]
                if isinstance(outputs, list)
                else None
            ),
            job_type=_str(doc, "job_type"),
            raw=doc,
        )

    def to_dict(self) -> dict[str, Any]:
        """The parsed fields as plain JSON values (what ``--json`` prints)."""
        return {
            "id": self.id,
            "workflow_id": self.workflow_id,
            "workflow_name": self.workflow_name,
            "status": str(self.status),
            "created_at": self.created_at,
            "runtime": self.runtime,
            "input_file_ids": self.input_file_ids,
            "output_node_files": None
            if self.output_node_files is None
            else [f.to_dict() for f in self.output_node_files],
            "job_type": self.job_type,
        }


@dataclass(frozen=True)
class NodeStats:
    """How many files one node has ready, in progress, done and failed."""

    node_name: str | None = None
    node_type: str | None = None
    node_subtype: str | None = None
    ready: int = 0
    in_progress: int = 0
    success: int = 0
    failure: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeStats:
        return cls(
            _str(data, "node_name"),
            _str(data, "node_type"),
            _str(data, "node_subtype"),
            _int(data, "ready"),
            _int(data, "in_progress"),
            _int(data, "success"),
            _int(data, "failure"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_name": self.node_name,
            "node_type": self.node_type,
            "node_subtype": self.node_subtype,
            "ready": self.ready,
            "in_progress": self.in_progress,
            "success": self.success,
            "failure": self.failure,
        }


@dataclass(frozen=True)
class JobDetails:
    """Per-node progress of a job (``JobDetails``)."""

    id: str | None
    processing_status: ProcessingStatus | str = "UNKNOWN"
    node_stats: list[NodeStats] = field(default_factory=list)
    message: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any) -> JobDetails:
        doc = _object(data, "job details")
        return cls(
            id=_str(doc, "id"),
            processing_status=_enum(ProcessingStatus, doc.get("processing_status")),
            node_stats=[NodeStats.from_dict(d) for d in _dicts(doc.get("node_stats"))],
            message=_str(doc, "message"),
            raw=doc,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "processing_status": str(self.processing_status),
            "node_stats": [s.to_dict() for s in self.node_stats],
            "message": self.message,
        }


@dataclass(frozen=True)
class FailedFile:
    """An input file the job could not process, and why."""

    document: str | None = None
    error: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FailedFile:
        return cls(_str(data, "document"), _str(data, "error"))

    def to_dict(self) -> dict[str, Any]:
        return {"document": self.document, "error": self.error}


def read_failed_files(data: Any) -> list[FailedFile]:
    """The files of a get-failed-files answer (``JobFailedFiles``)."""
    return [
        FailedFile.from_dict(d) for d in _dicts(_object(data, "failed files").get("failed_files"))
    ]


def failed_files_answer(files: Sequence[FailedFile]) -> dict[str, Any]:
    """A get-failed-files answer (``JobFailedFiles``) listing ``files``."""
    return {"failed_files": [f.to_dict() for f in files]}


@dataclass(frozen=True)
class Template:
    """A workflow template as listed (``TemplateListItem``)."""

    id: str
    name: str | None = None
    description: str | None = None
    version: str | None = None
    last_updated: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def _fields(cls, data: Any) -> dict[str, Any]:
        doc = _object(data, "a template")
        template_id = _str(doc, "id")
        if not template_id:
            raise ResponseError("the server's template has no id")
        return {
            "id": template_id,
            "name": _str(doc, "name"),
            "description": _str(doc, "description"),
            "version": _str(doc, "version"),
            "last_updated": _str(doc, "last_updated"),
            "raw": doc,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Template:
        return cls(**cls._fields(data))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "last_updated": self.last_updated,
        }


@dataclass(frozen=True)
class TemplateDetail(Template):
    """A template with its nodes (entries the client cannot read as nodes are skipped)."""

    nodes: list[Node] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any) -> TemplateDetail:
        fields = cls._fields(data)
        nodes = [_node(d) for d in _dicts(fields["raw"].get("nodes"))]
        return cls(**fields, nodes=[n for n in nodes if n is not None])

    def to_dict(self) -> dict[str, Any]:
        """The template as get-template sends it (``TemplateDetail``), its nodes as
        ``TemplateNode``: id (empty when it has none), name, type, subtype, settings."""
        return {**super().to_dict(), "nodes": [_template_node(n) for n in self.nodes]}

    def summary(self) -> Template:
        """The template as list-templates shows it (no nodes)."""
        return Template(**{f.name: getattr(self, f.name) for f in dataclasses.fields(Template)})


def _template_node(node: Node) -> dict[str, Any]:
    return {
        "id": node.id or "",
        "name": node.name,
        "type": node.type,
        "subtype": node.subtype,
        "settings": dict(node.settings),
    }


def _node(data: dict[str, Any]) -> Node | None:
    name, type_, subtype = data.get("name"), data.get("type"), data.get("subtype")
    if not all(isinstance(v, str) for v in (name, type_, subtype)):
        return None
    settings = data.get("settings")
    return Node(
        name=str(name),
        type=str(type_),
        subtype=str(subtype),
        settings=settings if isinstance(settings, dict) else {},
        id=_str(data, "id"),
    )


@dataclass(frozen=True)
class WorkflowInfo:
    """A workflow as the API reports it (``WorkflowInformation``); ``raw`` is the whole answer.

    ``nodes`` are the answer's ``workflow_nodes`` as listed (entries that are not nodes are
    skipped); ``workflow`` reads the answer back as a DAG, nodes in processing order, and its
    fields; ``crontab`` holds the schedule's cron expressions.
    """

    id: str
    name: str | None = None
    status: str | None = None
    workflow_type: str | None = None
    sources: list[str] = field(default_factory=list)
    destinations: list[str] = field(default_factory=list)
    crontab: list[str] = field(default_factory=list)
    reprocess_all: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None
    nodes: list[Node] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def workflow(self) -> Workflow:
        return from_workflow(self.raw or self.to_dict())

    @property
    def has_source(self) -> bool:
        """Whether the workflow reads a source connector (then a run takes no files)."""
        return bool(self.sources)

    @classmethod
    def from_dict(cls, data: Any) -> WorkflowInfo:
        if not isinstance(data, dict):
            raise ResponseError("the server's answer is not a workflow (a JSON object)")
        workflow_id = _str(data, "id")
        if not workflow_id:
            raise ResponseError("the server's workflow has no id")
        listed = data.get("workflow_nodes")
        read = from_workflow(data) if isinstance(listed, list) else None
        reprocess = data.get("reprocess_all")
        nodes = [_node(d) for d in _dicts(listed)]
        return cls(
            id=workflow_id,
            name=_str(data, "name"),
            status=_str(data, "status"),
            workflow_type=_str(data, "workflow_type"),
            sources=list(read.sources) if read else _strings(data.get("sources")),
            destinations=list(read.destinations) if read else _strings(data.get("destinations")),
            crontab=list(read.crontab) if read else [],
            reprocess_all=reprocess if isinstance(reprocess, bool) else None,
            created_at=_str(data, "created_at"),
            updated_at=_str(data, "updated_at"),
            nodes=[n for n in nodes if n is not None],
            raw=data,
        )

    def to_dict(self) -> dict[str, Any]:
        """The workflow as get-workflow sends it (``WorkflowInformation``)."""
        return {
            "id": self.id,
            "name": self.name,
            "sources": list(self.sources),
            "destinations": list(self.destinations),
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "workflow_nodes": [n.to_dict() for n in self.nodes],
            "workflow_type": self.workflow_type,
            "schedule": {"crontab_entries": [{"cron_expression": c} for c in self.crontab]},
            "reprocess_all": self.reprocess_all,
        }


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


#: A date-time without offset, as the platform's get-job sends ``created_at``.
NAIVE_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def read_date_time(text: str) -> datetime | None:
    """An answer's date-time as an aware datetime: one without a UTC offset is read as UTC
    (the platform's get-job sends such), a ``Z`` is UTC. None when it is not a date-time."""
    try:
        value = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        if not NAIVE_DATE_TIME.fullmatch(text):
            return None  # a date alone is not a date-time
        value = value.replace(tzinfo=UTC)
    return value
