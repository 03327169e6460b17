"""Findings for a workflow document: a create/update body, or a get-workflow answer.

The document is checked against its schema from the OpenAPI document (``CreateWorkflow``,
``UpdateWorkflow`` or ``WorkflowInformation``); its ``workflow_nodes`` get every check a job's
``job_nodes`` gets (node schema, catalogue, job rules), reported at ``/workflow_nodes/<i>``; and
the workflow rules (DK6xx) say what differs for workflows. An answer's nodes are judged in
processing order, since the platform lists them in no fixed order; a finding still names the
node where the answer has it.
"""

from __future__ import annotations

import re
from typing import Any

from dagkit.core import jsonlocate, jsontext
from dagkit.findings import DocPath, Finding, NodeRef, Part, cap_findings, finding
from dagkit.model import rules
from dagkit.schemas import check as schemacheck
from dagkit.validate.request_data import decoded
from dagkit.wire.workflows import WORKFLOW_TYPES, is_answer, processing_order

__all__ = [
    "check_workflow_document",
    "validate_workflow",
    "workflow_operation",
]

#: The operation whose schema a document is checked against, by what it is.
_SCHEMAS = {
    "create_workflow": "CreateWorkflow",
    "update_workflow": "UpdateWorkflow",
    "get_workflow": "WorkflowInformation",
}
_JOB_NODE = re.compile(r"job_nodes\[(\d+)\]")
_FIELD = "workflow_nodes"


def validate_workflow(
    text: str | bytes,
    *,
    operation: str | None = None,
    part: Part | None = None,
    file: str | None = None,
) -> list[Finding]:
    """Every finding for one workflow document's text, with path, line and column.

    ``operation`` says what the text is (``create_workflow``, ``update_workflow`` or
    ``get_workflow`` for an answer); by default an object with answer-only keys (``sources``,
    ``status``, ``created_at``, ...) is an answer and anything else a create body.
    """
    readable = decoded(text, "the workflow", part=part, file=file)
    if isinstance(readable, list):
        return readable
    text = readable
    try:
        doc, repeated = jsontext.loads_noting_duplicates(text)
    except RecursionError:
        return jsonlocate.place(
            [finding("DK103", "the JSON nests too deeply to check")], None, part=part, file=file
        )
    except ValueError:
        syntax = jsonlocate.syntax_error(text)
        found = [syntax or finding("DK100", "the text is not valid JSON")]
        return jsonlocate.place(found, text, part=part, file=file)
    duplicates = jsonlocate.Locator(text).duplicates if repeated else []
    findings = cap_findings(duplicates + check_workflow_document(doc, operation=operation))
    return jsonlocate.place(findings, text, part=part, file=file)


def workflow_operation(doc: Any, operation: str | None = None) -> str:
    """The operation a workflow document belongs to: as given, else guessed from its keys."""
    if operation in _SCHEMAS:
        return operation
    return "get_workflow" if is_answer(doc) else "create_workflow"


def check_workflow_document(doc: Any, *, operation: str | None = None) -> list[Finding]:
    """Every finding for a parsed workflow document, unplaced (paths only)."""
    if not isinstance(doc, dict):
        return [finding("DK202", "a workflow must be a JSON object")]
    operation = workflow_operation(doc, operation)
    answer = operation == "get_workflow"
    found: list[Finding] = []
    nodes = doc.get(_FIELD)
    if isinstance(nodes, list):
        order = processing_order(nodes) if answer else list(range(len(nodes)))
        in_order = {"job_nodes": [nodes[i] for i in order]}
        found += [_as_workflow(f, order) for f in rules.check_document(in_order)]
    found += schemacheck.check(_SCHEMAS[operation], doc)
    if not answer:
        found += _workflow_rules(doc, creating=operation == "create_workflow")
    # the node schema and the workflow schema may both see a node's broken shape: say it once
    seen: set[tuple[str, DocPath]] = set()
    out = []
    for f in found:
        if (f.code, f.path) not in seen:
            seen.add((f.code, f.path))
            out.append(f)
    return out


def _workflow_rules(doc: dict[str, Any], *, creating: bool) -> list[Finding]:
    out: list[Finding] = []
    nodes, template = doc.get(_FIELD), doc.get("template_id")
    workflow_type = doc.get("workflow_type")
    if isinstance(nodes, list) and isinstance(template, str):
        out.append(
            finding(
                "DK601",
                "the workflow has both workflow_nodes and template_id",
                path=("template_id",),
                hint="send either the nodes (a custom workflow) or a template, not both",
            )
        )
    if creating and workflow_type == "custom" and nodes is None and template is None:
        out.append(
            finding(
                "DK600",
                "a custom workflow needs workflow_nodes (or a template_id); it has neither",
                path=("workflow_type",),
                hint="add the nodes: dagkit workflows create SOURCE writes them from a DAG",
            )
        )
    if (
        isinstance(nodes, list)
        and nodes
        and workflow_type in WORKFLOW_TYPES
        and workflow_type != "custom"
    ):
        out.append(
            finding(
                "DK602",
                f"workflow_nodes on a {workflow_type!r} workflow; the platform chooses the nodes "
                "of a workflow that is not custom",
                path=("workflow_type",),
                hint='set workflow_type to "custom" to run these nodes',
            )
        )
    if creating and doc.get("schedule") is not None and doc.get("source_id") is None:
        out.append(
            finding(
                "DK604",
                "the workflow has a schedule but no source connector: a scheduled run has no "
                "files to read",
                path=("schedule",),
                hint="add source_id, or leave out the schedule and run it with files",
            )
        )
    return out


def _as_workflow(f: Finding, order: list[int]) -> Finding:
    """A job_nodes finding restated for workflow_nodes, indices as the document has them."""

    def index(i: int) -> int:
        return order[i] if 0 <= i < len(order) else i

    def text(value: str) -> str:
        value = _JOB_NODE.sub(lambda m: f"{_FIELD}[{index(int(m[1]))}]", value)
        return value.replace("job_nodes", _FIELD)

    path = f.path
    if path[:1] == ("job_nodes",):
        head = path[1:2]
        if head and isinstance(head[0], int):
            head = (index(head[0]),)
        path = (_FIELD, *head, *path[2:])
    node = f.node
    if node is not None:
        node = NodeRef(index(node.index), node.name, _FIELD)
    return f.replace(path=path, message=text(f.message), hint=text(f.hint), node=node)
