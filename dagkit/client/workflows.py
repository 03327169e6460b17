"""The workflow operations: create, list, get, update, delete and run.

:class:`WorkflowsClient` is a :class:`~dagkit.client.jobs.JobsClient` that also deploys DAGs as
workflows, so the job a run starts is followed with the same client::
    client = WorkflowsClient()                             # URL and key from the environment
    workflow = client.create_workflow(dag, name="docs")     # no source: run it with files
    job = client.run_workflow(workflow, ["report.pdf"])
    job = client.wait(job)
    client.download_all(job, "out/")

Bodies are checked before they are sent with the validators ``dagkit validate`` and the local
server use (``validate=False`` turns that off, and the checks on answers). Creating a workflow
and running one are POSTs: like create-job, they are never sent twice (a lost answer raises
:class:`~dagkit.errors.AmbiguousRequestError`); update, get, list and delete are retried. A run
with files goes through create-job's streaming encoder and launch spacing.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Sequence
from typing import Any, TypeAlias

from dagkit.client.jobs import FileArg, JobInfo, JobsClient, Progress, _path_segment, _specs
from dagkit.client.jobs import _summary as summary
from dagkit.core import pointers
from dagkit.errors import (
    Advice,
    AdviceKind,
    AmbiguousRequestError,
    APIError,
    DagError,
    ResponseError,
    ValidationFailed,
)
from dagkit.findings import Finding, finding, has_errors
from dagkit.http.transport import Request
from dagkit.model.dag import JobDAG, as_dag
from dagkit.model.nodes import Node
from dagkit.validate.workflow import check_workflow_document
from dagkit.wire.answers import WorkflowInfo, read_list
from dagkit.wire.multipart import MultipartEncoder
from dagkit.wire.serialize import TemplateJob
from dagkit.wire.workflows import (
    dumps_workflow,
    plan_workflows,
    to_workflow,
)

__all__ = ["WorkflowInfo", "WorkflowsClient"]

logger = logging.getLogger("dagkit.client.jobs")

#: What a workflow is made from: a DAG (or nodes), or a create/update body as a dict.
WorkflowSource: TypeAlias = JobDAG | Node | Sequence[Node] | dict[str, Any]


class WorkflowsClient(JobsClient):
    """The jobs and templates operations, and the workflow operations."""

    # ------------------------------------------------------------------ bodies

    def workflow_body(
        self,
        source: WorkflowSource,
        *,
        name: str | None,
        source_id: str | None = None,
        destination_id: str | None = None,
        schedule: str | None = None,
        reprocess_all: bool | None = None,
        update: bool = False,
    ) -> dict[str, Any]:
        """The body :meth:`create_workflow` (or, with ``update``, :meth:`update_workflow`)
        would send, checked; raises :class:`ValidationFailed` with the findings if invalid."""
        [body] = self.workflow_bodies(
            source,
            name=name,
            source_id=source_id,
            destination_id=destination_id,
            schedule=schedule,
            reprocess_all=reprocess_all,
            update=update,
        )
        return body

    def workflow_bodies(
        self,
        source: WorkflowSource,
        *,
        name: str | None,
        source_id: str | None,
        destination_id: str | None,
        schedule: str | None,
        reprocess_all: bool | None,
        update: bool = False,
        each_path: bool = False,
    ) -> list[dict[str, Any]]:
        """The checked bodies: one, or with ``each_path`` one per planned path."""
        fields: dict[str, Any] = {
            "source_id": source_id,
            "destination_id": destination_id,
            "schedule": schedule,
            "reprocess_all": reprocess_all,
        }
        if isinstance(source, dict):
            bodies = [{**source, **{k: v for k, v in fields.items() if v is not None}}]
            if name is not None:
                bodies[0]["name"] = name
        else:
            if isinstance(source, TemplateJob):
                raise DagError("a template job cannot be deployed as a custom workflow")
            dag = as_dag(source)
            if self.validate:
                findings = dag.check()
                if has_errors(findings):
                    raise ValidationFailed(_summary("the DAG", findings), findings)
            if each_path:
                bodies = plan_workflows(dag, name=name or "", **fields)
            else:
                bodies = [to_workflow(dag, name=name, **fields)]
        operation = "update_workflow" if update else "create_workflow"
        for body in bodies:
            self._require_valid_workflow(body, operation)
        return bodies

    def _require_valid_workflow(self, body: dict[str, Any], operation: str) -> None:
        if not self.validate:
            return

        findings = check_workflow_document(body, operation=operation)
        if has_errors(findings):
            raise ValidationFailed(_summary("the workflow", findings), findings)
        for f in findings:
            logger.warning("%s", f)

    # ------------------------------------------------------------------ operations

    def create_workflow(
        self,
        source: WorkflowSource,
        *,
        name: str | None = None,
        source_id: str | None = None,
        destination_id: str | None = None,
        schedule: str | None = None,
        reprocess_all: bool | None = None,
    ) -> WorkflowInfo:
        """Deploy a DAG that is one chain (or send a body) as a custom workflow.

        A DAG that branches is refused: :meth:`create_workflows` deploys one workflow per path.
        """
        body = self.workflow_body(
            source,
            name=name,
            source_id=source_id,
            destination_id=destination_id,
            schedule=schedule,
            reprocess_all=reprocess_all,
        )
        return self._send_workflow("POST", "/workflows/", body, "create_workflow")

    def create_workflows(
        self,
        source: WorkflowSource,
        *,
        name: str,
        source_id: str | None = None,
        destination_id: str | None = None,
        schedule: str | None = None,
        reprocess_all: bool | None = None,
    ) -> list[WorkflowInfo]:
        """One workflow per path the DAG plans into (named ``<name>-1``, ``<name>-2``, ...).
        Every body is checked before the first is sent; a failure names the ones created."""
        bodies = self.workflow_bodies(
            source,
            name=name,
            source_id=source_id,
            destination_id=destination_id,
            schedule=schedule,
            reprocess_all=reprocess_all,
            update=False,
            each_path=True,
        )
        created: list[WorkflowInfo] = []
        for body in bodies:
            try:
                created.append(self._send_workflow("POST", "/workflows/", body, "create_workflow"))
            except Exception as exc:
                if created:
                    exc.add_note("workflows already created: " + ", ".join(w.id for w in created))
                raise
        return created

    def update_workflow(
        self,
        workflow: WorkflowInfo | str,
        source: WorkflowSource | None = None,
        *,
        name: str | None = None,
        source_id: str | None = None,
        destination_id: str | None = None,
        schedule: str | None = None,
        reprocess_all: bool | None = None,
    ) -> WorkflowInfo:
        """Change a workflow: its nodes (from ``source``) and any field given; the rest stays."""
        if source is None:
            fields = {
                "name": name,
                "source_id": source_id,
                "destination_id": destination_id,
                "schedule": schedule,
                "reprocess_all": reprocess_all,
            }
            body = {k: v for k, v in fields.items() if v is not None}
            self._require_valid_workflow(body, "update_workflow")
        else:
            body = self.workflow_body(
                source,
                name=name,
                source_id=source_id,
                destination_id=destination_id,
                schedule=schedule,
                reprocess_all=reprocess_all,
                update=True,
            )
        path = f"/workflows/{_segment(workflow)}"
        return self._send_workflow("PUT", path, body, "update_workflow")

    def get_workflow(self, workflow: WorkflowInfo | str) -> WorkflowInfo:
        return self._get(f"/workflows/{_segment(workflow)}", "get_workflow", WorkflowInfo.from_dict)

    def list_workflows(
        self,
        *,
        source_id: str | None = None,
        destination_id: str | None = None,
        status: str | None = None,
        name: str | None = None,
        created_since: str | None = None,
        created_before: str | None = None,
        page: int | None = None,
        page_size: int | None = None,
        sort_by: str | None = None,
        sort_direction: str | None = None,
    ) -> list[WorkflowInfo]:
        """The account's workflows, filtered as the API allows (None leaves a filter out)."""
        params = {
            "source_id": source_id,
            "destination_id": destination_id,
            "status": status,
            "name": name,
            "created_since": created_since,
            "created_before": created_before,
            "page": page,
            "page_size": page_size,
            "sort_by": sort_by,
            "sort_direction": sort_direction,
        }
        return self._get(
            "/workflows/",
            "list_workflows",
            lambda data: [WorkflowInfo.from_dict(d) for d in read_list(data, "workflows")],
            params,
        )

    def delete_workflow(self, workflow: WorkflowInfo | str) -> Any:
        """Delete a workflow; the server's answer (its shape is not specified)."""
        request = Request("DELETE", self.transport.url(f"/workflows/{_segment(workflow)}"))
        response = self.transport.send(request)
        if not response.body.strip():
            return {}
        return self._result(response, "delete_workflow", lambda data: data)

    def run_workflow(
        self,
        workflow: WorkflowInfo | str,
        files: Sequence[FileArg] = (),
        *,
        progress: Progress | None = None,
    ) -> JobInfo:
        """Start a job of the workflow and return it (follow it with :meth:`wait`).

        A workflow with a source connector reads its files there and takes none (with
        ``validate`` on, giving files to one is refused before anything is sent: DK603); one
        without takes them here, checked and streamed like create-job's.
        """
        specs = _specs(files)
        if specs and self.validate:
            info = workflow if isinstance(workflow, WorkflowInfo) else self.get_workflow(workflow)
            if info.has_source:
                message = (
                    f"workflow {info.id} reads source connector {', '.join(info.sources)} and "
                    "takes no input files"
                )
                found = [
                    finding(
                        "DK603",
                        message,
                        hint="run it without files, or deploy the DAG without --source-id",
                    )
                ]
                raise ValidationFailed(f"{message}; nothing was sent", found)
            findings = self._body_findings(None, specs)
            if has_errors(findings):
                raise ValidationFailed(_summary("the request", findings), findings)
            for f in findings:
                logger.warning("%s", f)
        url = self.transport.url(f"/workflows/{_segment(workflow)}/run")
        if specs:
            encoder = MultipartEncoder([], specs, progress=progress)
            request = Request("POST", url, {"Content-Type": encoder.content_type}, encoder)
        else:
            request = Request("POST", url)
        return self._launch(request, "run_workflow", specs)

    def dry_run_workflow(self, method: str, path: str, body: dict[str, Any]) -> str:
        """The exact request that would be sent, and an equivalent curl command; sends nothing."""
        text = dumps_workflow(body)
        request = self._workflow_request(method, path, text)
        return "\n".join(
            [
                self.transport.describe(request),
                "",
                text,
                "",
                "# the same request with curl:",
                self.transport.curl_command(request) + " --data-binary " + shlex.quote(text),
                "",
            ]
        )

    # ------------------------------------------------------------------ plumbing

    def _workflow_request(self, method: str, path: str, text: str) -> Request:
        return Request(
            method,
            self.transport.url(path),
            headers={"Content-Type": "application/json"},
            body=text.encode("utf-8"),
        )

    def _send_workflow(
        self, method: str, path: str, body: dict[str, Any], operation: str
    ) -> WorkflowInfo:
        request = self._workflow_request(method, path, dumps_workflow(body))
        check = Advice.of(AdviceKind.LOOK_FOR_WORKFLOW, name=str(body.get("name", "")))
        try:
            response = self.transport.send(request)
        except APIError as exc:
            if exc.status == 422:
                exc.findings = _rejections(exc.detail)
            raise
        except AmbiguousRequestError as exc:
            if method == "POST":  # a workflow may exist, not a job
                exc.advice = (*(a for a in exc.advice if a.kind != AdviceKind.LOOK_FOR_JOB), check)
            raise
        try:
            return self._result(response, operation, WorkflowInfo.from_dict)
        except ResponseError as exc:
            if method != "POST":
                raise
            # accepted, but the answer is not a workflow dagkit can read: one may exist
            raise AmbiguousRequestError(
                f"POST {response.url} answered {response.status}, but the answer is not a "
                f"workflow dagkit can read ({exc}).",
                reached_server=True,
                advice=[check],
            ) from exc


def _segment(workflow: WorkflowInfo | str) -> str:
    workflow_id = workflow.id if isinstance(workflow, WorkflowInfo) else workflow
    return _path_segment(workflow_id, "the workflow id")


def _summary(what: str, findings: Sequence[Finding]) -> str:
    return summary(what, findings)


def _rejections(detail: Any) -> list[Finding]:
    """DK510 findings for a 422 on a workflow body: ``loc`` ``["body", "workflow_nodes", 2,
    ...]`` becomes the path ``("workflow_nodes", 2, ...)`` into the body that was sent."""
    if isinstance(detail, str):
        return [finding("DK510", f"the server rejected the workflow: {detail}")]
    out = []
    for entry in detail if isinstance(detail, list) else []:
        if not isinstance(entry, dict):
            continue
        loc = entry.get("loc")
        tokens = [t for t in loc if isinstance(t, str | int)] if isinstance(loc, list) else []
        if tokens[:1] == ["body"]:
            tokens = tokens[1:]
        path = tuple(tokens)
        pointer = pointers.join("", *path)
        msg = entry.get("msg")
        out.append(
            finding(
                "DK510",
                f"the server rejected {pointer or 'the workflow'}: "
                + (msg if isinstance(msg, str) else "(no message)"),
                path=path,
                hint="fix this value and send the request again",
            )
        )
    return out
