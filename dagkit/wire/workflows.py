"""DAG ⇄ workflow bodies: the same DAG deployed as a platform workflow.

A workflow (``POST /api/v1/workflows/``) runs one ordered list of nodes, ``workflow_nodes``,
between a source connector and a destination connector, on a schedule or when asked. Its nodes
are the very objects a job's ``job_nodes`` holds, written by the same serializer
(:meth:`Node.to_dict`), so a DAG tried with ``dagkit submit --local`` deploys unchanged.

What differs from a job:
- a workflow is one chain: a DAG that branches plans into several jobs, and
  :func:`to_workflow` refuses it; :func:`plan_workflows` gives one workflow per planned path;
- a workflow with a source connector reads its files from there and takes none when it is run;
  one without takes them in the run request, like an on-demand job;
- the platform's answers list a workflow's nodes in no fixed order (seen in the saved outputs
  of six official notebooks), so :func:`from_workflow` reads an answer's nodes back in
  processing order: partition, enrichments (in the order given), chunk, embed, extract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dagkit.core import jsontext
from dagkit.errors import Advice, AdviceKind, DagError, RequestDataError
from dagkit.findings import DocPath, finding
from dagkit.model.dag import JobDAG, as_dag
from dagkit.model.nodes import Node, node_from_dict
from dagkit.model.rules import RANK
from dagkit.wire.serialize import parse_json

__all__ = [
    "ANSWER_KEYS",
    "SCHEDULES",
    "WORKFLOW_TYPES",
    "Workflow",
    "dumps_workflow",
    "from_workflow",
    "is_answer",
    "plan_workflows",
    "processing_order",
    "to_workflow",
]

#: ``workflow_type`` values (the SDK's WorkflowType). Only ``custom`` workflows carry nodes.
WORKFLOW_TYPES = ("basic", "advanced", "platinum", "custom")
#: The schedules a create or update body may name, with the cron expression dagkit's local
#: server answers for each (the platform's own expressions are not published).
SCHEDULES: dict[str, str] = {
    "every 15 minutes": "*/15 * * * *",
    "every hour": "0 * * * *",
    "every 2 hours": "0 */2 * * *",
    "every 4 hours": "0 */4 * * *",
    "every 6 hours": "0 */6 * * *",
    "every 8 hours": "0 */8 * * *",
    "every 10 hours": "0 */10 * * *",
    "every 12 hours": "0 */12 * * *",
    "daily": "0 0 * * *",
    "weekly": "0 0 * * 0",
    "monthly": "0 0 1 * *",
}
#: Keys only a get-workflow answer (WorkflowInformation) has; a create/update body has none.
ANSWER_KEYS = frozenset({"sources", "destinations", "status", "created_at", "updated_at"})


@dataclass(frozen=True)
class Workflow:
    """A workflow read from a create/update body or from an answer.

    ``dag`` is None when the document has no ``workflow_nodes`` (a template or a non-custom
    workflow). Fields only an answer has (``id``, ``status``, ``crontab``, times) are None or
    empty for a body. ``raw`` is the document as read.
    """

    dag: JobDAG | None
    name: str | None = None
    workflow_type: str | None = None
    source_id: str | None = None
    destination_id: str | None = None
    schedule: str | None = None
    reprocess_all: bool | None = None
    template_id: str | None = None
    id: str | None = None
    status: str | None = None
    sources: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()
    crontab: tuple[str, ...] = ()
    created_at: str | None = None
    updated_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def body(self) -> dict[str, Any]:
        """This workflow as a create body (what :func:`to_workflow` would give)."""
        if self.dag is None:
            raise DagError("this workflow has no nodes to write as workflow_nodes")
        return to_workflow(
            self.dag,
            name=self.name,
            source_id=self.source_id,
            destination_id=self.destination_id,
            schedule=self.schedule,
            reprocess_all=self.reprocess_all,
            workflow_type=self.workflow_type or "custom",
        )


def to_workflow(
    dag: JobDAG | Node | list[Node],
    *,
    name: str | None,
    source_id: str | None = None,
    destination_id: str | None = None,
    schedule: str | None = None,
    reprocess_all: bool | None = None,
    workflow_type: str = "custom",
) -> dict[str, Any]:
    """The create-workflow body for a DAG that is one chain (an update body too: send it with
    PUT). Keys in the order name, workflow_type, source_id, destination_id, schedule,
    reprocess_all, workflow_nodes; a field left None is not sent. ``name=None`` leaves the name
    out, for an update that keeps it. A branching DAG is refused: see :func:`plan_workflows`.
    ``skip_preflight`` is an option of on-demand jobs and has no place in a workflow body.
    """
    jobs = as_dag(dag).plan()
    if len(jobs) != 1:
        raise DagError(
            f"this DAG branches into {len(jobs)} paths and a workflow runs one ordered list of "
            "nodes.",
            advice=[Advice.of(AdviceKind.PLAN_WORKFLOWS)],
        )
    return _body(jobs[0], name, source_id, destination_id, schedule, reprocess_all, workflow_type)


def plan_workflows(
    dag: JobDAG | Node | list[Node],
    *,
    name: str,
    source_id: str | None = None,
    destination_id: str | None = None,
    schedule: str | None = None,
    reprocess_all: bool | None = None,
) -> list[dict[str, Any]]:
    """One create body per path the DAG plans into (:meth:`JobDAG.plan` order). With several
    paths the names are ``<name>-1``, ``<name>-2``, ...; with one, ``name`` itself."""
    jobs = as_dag(dag).plan()
    names = [name] if len(jobs) == 1 else [f"{name}-{i}" for i in range(1, len(jobs) + 1)]
    return [
        _body(nodes, n, source_id, destination_id, schedule, reprocess_all, "custom")
        for n, nodes in zip(names, jobs, strict=True)
    ]


def _body(
    nodes: list[Node],
    name: str | None,
    source_id: str | None,
    destination_id: str | None,
    schedule: str | None,
    reprocess_all: bool | None,
    workflow_type: str,
) -> dict[str, Any]:
    if schedule is not None and schedule not in SCHEDULES:
        raise DagError(
            f"schedule {schedule!r} is not one the platform takes: " + ", ".join(SCHEDULES)
        )
    if workflow_type not in WORKFLOW_TYPES:
        raise DagError(
            f"workflow_type {workflow_type!r} is not one of " + ", ".join(WORKFLOW_TYPES)
        )
    fields = {
        "name": name,
        "workflow_type": workflow_type,
        "source_id": source_id,
        "destination_id": destination_id,
        "schedule": schedule,
        "reprocess_all": reprocess_all,
    }
    body: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    body["workflow_nodes"] = [n.to_dict() for n in nodes]
    return body


def dumps_workflow(body: dict[str, Any]) -> str:
    """A body as canonical JSON text: compact, keys as given, numbers as written."""
    try:
        return jsontext.dumps(body)
    except (TypeError, ValueError) as exc:
        raise DagError(f"a node setting cannot be written as JSON: {exc}") from None


def is_answer(doc: Any) -> bool:
    """Whether a parsed document is a workflow answer (WorkflowInformation), not a body."""
    return isinstance(doc, dict) and not ANSWER_KEYS.isdisjoint(doc)


def processing_order(nodes: list[Any]) -> list[int]:
    """Indices of ``nodes`` (node dicts or :class:`Node`) in processing order: by node type's
    rank, ties (enrichments) in the order given; unknown types last."""

    def rank(i: int) -> int:
        node = nodes[i]
        type_ = node.get("type") if isinstance(node, dict) else getattr(node, "type", None)
        return RANK.get(type_, len(RANK)) if isinstance(type_, str) else len(RANK)

    return sorted(range(len(nodes)), key=rank)


def from_workflow(document: dict[str, Any] | str | bytes) -> Workflow:
    """Read a create/update body or a get-workflow answer (a dict or its JSON text).

    Lenient about settings and unknown fields (``dagkit validate`` judges those), strict about
    the shape it builds from: an object whose ``workflow_nodes``, if present, is a list of
    nodes with string name, type and subtype. Anything else raises
    :class:`~dagkit.errors.RequestDataError` with a finding that says where.
    """
    if isinstance(document, str | bytes):
        document = parse_json(document)
    if not isinstance(document, dict):
        raise _bad("a workflow must be a JSON object", ())
    doc = document
    answer = is_answer(doc)
    raw_nodes = doc.get("workflow_nodes")
    dag = None
    if raw_nodes is not None:
        if not isinstance(raw_nodes, list):
            raise _bad("workflow_nodes must be a list of nodes", ("workflow_nodes",))
        nodes = []
        for i, raw in enumerate(raw_nodes):
            node = node_from_dict(raw)
            if node is None:
                raise _bad(
                    f"workflow_nodes[{i}] is not a node: it needs string name, type and "
                    "subtype, and settings that are an object",
                    ("workflow_nodes", i),
                )
            nodes.append(node)
        if answer:
            nodes = [nodes[i] for i in processing_order(nodes)]
        dag = JobDAG.chain(*nodes)
    sources = _strings(doc.get("sources"))
    destinations = _strings(doc.get("destinations"))
    crontab = _crontab(doc.get("schedule"))
    schedule = _text(doc.get("schedule"))
    if answer and schedule is None and len(crontab) == 1:
        schedule = next((k for k, v in SCHEDULES.items() if v == crontab[0]), None)
    reprocess = doc.get("reprocess_all")
    return Workflow(
        dag=dag,
        name=_text(doc.get("name")),
        workflow_type=_text(doc.get("workflow_type")),
        source_id=_text(doc.get("source_id")) or (sources[0] if len(sources) == 1 else None),
        destination_id=_text(doc.get("destination_id"))
        or (destinations[0] if len(destinations) == 1 else None),
        schedule=schedule,
        reprocess_all=reprocess if isinstance(reprocess, bool) else None,
        template_id=_text(doc.get("template_id")),
        id=_text(doc.get("id")),
        status=_text(doc.get("status")),
        sources=sources,
        destinations=destinations,
        crontab=crontab,
        created_at=_text(doc.get("created_at")),
        updated_at=_text(doc.get("updated_at")),
        raw=doc,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _crontab(value: Any) -> tuple[str, ...]:
    entries = value.get("crontab_entries") if isinstance(value, dict) else None
    if not isinstance(entries, list):
        return ()
    found = (e.get("cron_expression") for e in entries if isinstance(e, dict))
    return tuple(c for c in found if isinstance(c, str))


def _bad(message: str, path: DocPath) -> RequestDataError:
    return RequestDataError(message, [finding("DK202", message, path=path)])
