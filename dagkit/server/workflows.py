"""The workflow operations of the local API: create, list, get, update, delete and run.

Workflows are kept one JSON file each under ``<data dir>/workflows/`` (written atomically), so
``dagkit serve --data-dir`` keeps them across restarts like its jobs. Bodies are checked with
the validators ``dagkit validate`` uses, and a rejected one gets the platform's 422 with a
``loc`` into the body (``["body", "workflow_nodes", 2, "settings", "strategy"]``).

Running a workflow makes a job that the engine processes like an on-demand job: a workflow
without a source connector takes its files in the run request (multipart ``input_files``); one
with a source connector takes none, and since this server has no connectors its job completes
with no files and says so in its details.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagkit.core import atomic, jsontext
from dagkit.findings import ACCEPTED_AT_CREATE, Finding
from dagkit.model.nodes import Node, node_from_dict
from dagkit.schemas.store import is_date_time
from dagkit.server import views
from dagkit.server.ids import new_uuid
from dagkit.server.replies import UUID, bad_uuid, detail, disk_full, invalid
from dagkit.server.store import WORKFLOWS, Job, StoredFile, is_disk_full
from dagkit.server.templates import TEMPLATES
from dagkit.server.upload import Upload, error_item, rejection
from dagkit.validate.workflow import check_workflow_document
from dagkit.wire.answers import WorkflowInfo
from dagkit.wire.multipart import parse_content_type
from dagkit.wire.workflows import SCHEDULES

if TYPE_CHECKING:
    from dagkit.server.app import Handler, JobsAPI

#: A workflow body is a few kilobytes; one over this is refused unread.
MAX_BODY = 1 << 20
NO_CONNECTORS = (
    "This workflow reads its files from source connector {source}; the local server has no "
    "connectors, so the job ran no files."
)
_SORT_KEYS = ("id", "name", "created_at", "updated_at")
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class Workflow:
    id: str
    name: str
    workflow_type: str
    nodes: tuple[Node, ...]
    created_at: float
    updated_at: float
    source_id: str | None = None
    destination_id: str | None = None
    schedule: str | None = None
    reprocess_all: bool = False
    status: str = "active"

    def information(self) -> dict[str, Any]:
        """The WorkflowInformation answer, built as the client reads it back."""
        return WorkflowInfo(
            id=self.id,
            name=self.name,
            status=self.status,
            workflow_type=self.workflow_type,
            sources=[self.source_id] if self.source_id else [],
            destinations=[self.destination_id] if self.destination_id else [],
            crontab=[SCHEDULES[self.schedule]] if self.schedule else [],
            reprocess_all=self.reprocess_all,
            created_at=views.timestamp(self.created_at),
            updated_at=views.timestamp(self.updated_at),
            nodes=list(self.nodes),
        ).to_dict()

    def to_json(self) -> str:
        fields = {k: v for k, v in self.__dict__.items() if k != "nodes"}
        return jsontext.dumps({**fields, "nodes": [n.to_dict() for n in self.nodes]})

    @classmethod
    def from_json(cls, text: str) -> Workflow:
        data = jsontext.loads(text)
        nodes = tuple(n for n in map(node_from_dict, data.pop("nodes")) if n is not None)
        return cls(nodes=nodes, **data)


class WorkflowsAPI:
    """The workflow operations, beside the jobs API whose store, engine and config they share."""

    def __init__(self, jobs: JobsAPI) -> None:
        self.jobs = jobs
        self.root = jobs.store.root / WORKFLOWS
        self.root.mkdir(exist_ok=True)
        self._lock = threading.Lock()

    # -- storage

    def _path(self, workflow_id: str) -> Path:
        return self.root / f"{workflow_id}.json"

    def _save(self, workflow: Workflow) -> None:
        atomic.write_text(self._path(workflow.id), workflow.to_json())

    def _load(self, params: dict[str, str]) -> Workflow:
        workflow_id = params["workflow_id"]
        if not UUID.match(workflow_id):
            raise invalid(bad_uuid(["path", "workflow_id"], workflow_id))
        try:
            text = self._path(str(uuid.UUID(workflow_id))).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise detail(404, "Workflow not found") from None
        return Workflow.from_json(text)

    def _all(self) -> list[Workflow]:
        found = []
        for path in self.root.glob("*.json"):
            try:
                found.append(Workflow.from_json(path.read_text(encoding="utf-8")))
            except FileNotFoundError:  # deleted meanwhile
                continue
        return sorted(found, key=lambda w: (w.created_at, w.id))

    # -- the operations

    def create_workflow(self, request: Handler, params: dict[str, str], query: Any) -> None:
        doc = self._json_body(request, "create_workflow")
        now = time.time()
        workflow = Workflow(
            id=new_uuid(),
            name=doc["name"],
            workflow_type=doc["workflow_type"],
            nodes=_nodes(doc),
            created_at=now,
            updated_at=now,
            source_id=doc.get("source_id"),
            destination_id=doc.get("destination_id"),
            schedule=doc.get("schedule"),
            reprocess_all=bool(doc.get("reprocess_all")),
        )
        with self._lock:
            self._save(workflow)
        request.reply(200, workflow.information())

    def list_workflows(
        self, request: Handler, params: dict[str, str], query: dict[str, str]
    ) -> None:
        problems: list[dict[str, Any]] = []
        status = query.get("status")
        if status is not None and status not in ("active", "inactive"):
            problems.append(_enum_error("status", ("active", "inactive")))
        since = _when(query, "created_since", problems)
        before = _when(query, "created_before", problems)
        page = _integer(query, "page", problems)
        page_size = _integer(query, "page_size", problems)
        sort_by = query.get("sort_by", "id")
        if sort_by not in _SORT_KEYS:
            problems.append(_enum_error("sort_by", _SORT_KEYS))
        direction = query.get("sort_direction", "asc")
        if direction not in ("asc", "desc"):
            problems.append(_enum_error("sort_direction", ("asc", "desc")))
        deleted = _boolean(query, "show_only_soft_deleted", problems)
        _boolean(query, "show_recommender_workflows", problems)
        if problems:
            raise invalid(*problems)
        workflows = [] if deleted else self._all()  # deleted workflows are not kept
        for key in ("source_id", "destination_id", "name", "status"):
            if query.get(key) is not None:
                workflows = [w for w in workflows if getattr(w, key) == query[key]]
        node_config = query.get("dag_node_configuration_id")
        if node_config is not None:
            workflows = [w for w in workflows if any(n.id == node_config for n in w.nodes)]
        if since is not None:
            workflows = [w for w in workflows if w.created_at >= since]
        if before is not None:
            workflows = [w for w in workflows if w.created_at < before]
        workflows.sort(key=lambda w: getattr(w, sort_by), reverse=direction == "desc")
        if page is not None or page_size is not None:
            size = page_size or 20
            start = ((page or 1) - 1) * size
            workflows = workflows[start : start + size]
        request.reply(200, [w.information() for w in workflows])

    def get_workflow(self, request: Handler, params: dict[str, str], query: Any) -> None:
        request.reply(200, self._load(params).information())

    def update_workflow(self, request: Handler, params: dict[str, str], query: Any) -> None:
        self._load(params)  # 404 before reading a body for nothing
        doc = self._json_body(request, "update_workflow")
        with self._lock:
            workflow = self._load(params)
            changes: dict[str, Any] = {"updated_at": time.time()}
            for key in ("name", "workflow_type"):
                if doc.get(key) is not None:
                    changes[key] = doc[key]
            for key in ("source_id", "destination_id", "schedule"):
                if key in doc:
                    changes[key] = doc[key]
            if doc.get("reprocess_all") is not None:
                changes["reprocess_all"] = doc["reprocess_all"]
            if doc.get("workflow_nodes") is not None or doc.get("template_id") is not None:
                changes["nodes"] = _nodes(doc)
            workflow = replace(workflow, **changes)
            self._save(workflow)
        request.reply(200, workflow.information())

    def delete_workflow(self, request: Handler, params: dict[str, str], query: Any) -> None:
        workflow = self._load(params)
        with self._lock:
            self._path(workflow.id).unlink(missing_ok=True)
        body = {"id": workflow.id, "status": "deleted", "message": "Workflow deleted."}
        request.reply(200, body)

    def run_workflow(self, request: Handler, params: dict[str, str], query: Any) -> None:
        workflow = self._load(params)
        if not workflow.nodes:
            raise invalid(
                error_item(
                    ["path", "workflow_id"],
                    f"workflow {workflow.id} is of type {workflow.workflow_type!r} and has no "
                    "nodes: the platform chooses the nodes of such a workflow, and the local "
                    "server has none to run",
                    "value_error",
                )
            )
        try:
            job = self._receive_run(request, workflow)
        except BaseException as exc:
            if is_disk_full(exc):  # nothing was kept: say so, and when to try again
                raise disk_full() from None
            raise
        if workflow.source_id:
            # the engine completes a job with no files; its details say why there were none
            message = NO_CONNECTORS.format(source=workflow.source_id)
            try:
                self.jobs.store.update(job.id, expect=("SCHEDULED",), message=message)
            except Exception as exc:  # the job is stored: a note that does not fit can wait
                if not is_disk_full(exc):
                    raise
        self.jobs.job_created(job.id)
        request.reply(202, views.job_information(self.jobs.store.get(job.id) or job))

    # -- reading requests

    def _json_body(self, request: Handler, operation: str) -> dict[str, Any]:
        data = bytearray()
        for block in request.body_blocks():
            data += block
            if len(data) > MAX_BODY:
                message = f"the body is over {MAX_BODY >> 20} MiB; a workflow is a few kilobytes"
                raise invalid(error_item(["body"], message, "too_long"))
        if not data.strip():
            raise invalid(error_item(["body"], "Field required", "missing"))
        try:
            text = bytes(data).decode("utf-8")
            doc = jsontext.loads(text)
        except (ValueError, RecursionError) as exc:
            raise invalid(
                error_item(["body"], f"JSON decode error: {exc}", "json_invalid")
            ) from None
        findings = check_workflow_document(doc, operation=operation)
        errors = [f for f in findings if f.is_error]
        if errors:
            raise invalid(*(_rejection(f) for f in errors))
        assert isinstance(doc, dict)
        template = doc.get("template_id")
        if isinstance(template, str) and template not in TEMPLATES:
            known = ", ".join(TEMPLATES)
            raise invalid(
                error_item(
                    ["body", "template_id"],
                    f"Template {template} not found (known: {known})",
                    "value_error",
                )
            )
        return doc

    def _receive_run(self, request: Handler, workflow: Workflow) -> Job:
        store, config = self.jobs.store, self.jobs.config
        job_id = new_uuid()
        inputs = store.new_inputs(job_id)
        try:
            files: list[StoredFile] = []
            content_type = request.headers.get("Content-Type", "")
            if parse_content_type(content_type)[0] == "multipart/form-data":
                upload = Upload(
                    inputs.path,
                    content_type,
                    max_file_size=config.max_file_size,
                    max_files=config.max_files,
                )
                # a run has no request_data (DK406); everything else is judged as for create-job
                found = upload.receive(request.body_blocks())
                errors = [
                    f for f in found if f.is_error and f.code not in ACCEPTED_AT_CREATE | {"DK406"}
                ]
                if errors:
                    raise invalid(*(rejection(f) for f in errors))
                files = [
                    StoredFile(i, f.file_id, f.filename, f.size) for i, f in enumerate(upload.files)
                ]
            else:
                request.drain()  # a run without files may send an empty or a form body
            if workflow.source_id and files:
                raise invalid(
                    error_item(
                        ["body", "input_files"],
                        f"workflow {workflow.id} reads source connector {workflow.source_id} "
                        "and takes no input files",
                        "value_error",
                        code="DK603",
                    )
                )
            if not workflow.source_id and not files:
                raise invalid(
                    error_item(
                        ["body", "input_files"],
                        "a workflow without a source connector needs input files to run",
                        "missing",
                    )
                )
            job = Job(
                id=job_id,
                workflow_id=workflow.id,
                workflow_name=workflow.name,
                job_type="persistent",
                status="SCHEDULED",
                created_at=time.time(),
                nodes=workflow.nodes,
                files=tuple(files),
            )
            store.add_job(job)
        except BaseException:
            inputs.discard()
            raise
        return job


# ------------------------------------------------------------------------------ helpers


def _nodes(doc: dict[str, Any]) -> tuple[Node, ...]:
    """The nodes a validated body names, each with a fresh id (as the platform assigns)."""
    template = doc.get("template_id")
    if isinstance(template, str):
        nodes: list[Node] = list(TEMPLATES[template].nodes)
    else:
        raw = doc.get("workflow_nodes") or []
        nodes = [n for n in map(node_from_dict, raw) if n is not None]
    return tuple(Node(n.name, n.type, n.subtype, dict(n.settings), new_uuid()) for n in nodes)


def _rejection(f: Finding) -> dict[str, Any]:
    """A finding about a JSON body as a validation error with its ``loc`` in the body."""
    item = rejection(f.replace(part=None))
    item["loc"] = ["body", *f.path]
    return item


def _enum_error(name: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    shown = ", ".join(allowed)
    return error_item(["query", name], f"Input should be one of {shown}", "enum", expected=shown)


def _when(query: dict[str, str], name: str, problems: list[dict[str, Any]]) -> float | None:
    value = query.get(name)
    if value is None:
        return None
    if not is_date_time(value):
        problems.append(
            error_item(["query", name], "Input should be a valid datetime", "datetime_parsing")
        )
        return None
    return dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00")).timestamp()


def _integer(query: dict[str, str], name: str, problems: list[dict[str, Any]]) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    text = value.strip()
    if not (text.lstrip("-").isdigit() and text.isascii()) or int(text) < 1:
        problems.append(
            error_item(
                ["query", name], "Input should be a whole number of 1 or more", "int_parsing"
            )
        )
        return None
    return int(text)


def _boolean(query: dict[str, str], name: str, problems: list[dict[str, Any]]) -> bool | None:
    value = query.get(name)
    if value is None:
        return None
    parsed = _BOOLEANS.get(value.strip().lower())
    if parsed is None:
        problems.append(
            error_item(["query", name], "Input should be a valid boolean", "bool_parsing")
        )
    return parsed


__all__ = ["NO_CONNECTORS", "Workflow", "WorkflowsAPI"]
