"""The rules of one job: what a ``job_nodes`` list may contain, in which order.

The docs state these rules only in prose. They apply to a list of nodes, so they need no graph
library: :class:`dagkit.model.dag.JobDAG` runs them on every job it plans into, and
``dagkit validate`` runs them on a parsed request_data. :func:`check_document` is the one entry
point both use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dagkit.findings import Finding, NodeRef, finding
from dagkit.model import base as catalogue
from dagkit.model.base import NodeBase, node_fields
from dagkit.model.catalogue.data import ASSUMED_OPTIONS
from dagkit.schemas import check as schemacheck

#: Where each node type may stand in a job; a node may not follow one of a higher rank.
RANK = {"partition": 0, "prompter": 1, "chunk": 2, "embed": 3, "structured_data_extractor": 4}
_ROLE = {
    "partition": "a partitioner",
    "prompter": "an enrichment",
    "chunk": "a chunker",
    "embed": "an embedder",
    "structured_data_extractor": "an extractor",
}
#: Enrichment tasks that need the element images/tables only Auto and hi_res produce.
NEEDS_HI_RES = {"image_description", "table_description", "table_to_html", "generative_ocr"}
_ONCE = ("partition", "chunk", "embed", "structured_data_extractor")


def check_document(doc: Any) -> list[Finding]:
    """Every finding for a parsed request_data document: schema, catalogue and job rules.

    The schema decides first; the catalogue and job rules run on the nodes whose shape is sound
    enough to read (a node without a string ``type`` is reported once, by the schema). A node
    whose type and subtype look swapped gets one error saying so, and is then checked as if
    written the right way round, so that nothing else is reported because of the swap.
    """
    swapped, doc = _unswapped(doc)
    findings = swapped + schemacheck.check("request-data", doc)
    if not isinstance(doc, dict):
        return findings
    findings += _assumed_options(doc)
    if not isinstance(doc.get("job_nodes"), list):
        return findings
    job = [_node(raw) for raw in doc["job_nodes"]]
    readable = [n for n in job if n is not None]
    if len(readable) == len(job):  # else the schema has said what is wrong
        for i, node in enumerate(readable):
            ref = NodeRef(i, node.name)
            findings += catalogue.catalogue_findings(node, ref, ("job_nodes", i))
        findings += check_chain(readable)
    return attach_nodes(findings, doc)


def _unswapped(doc: Any) -> tuple[list[Finding], Any]:
    """DK203 for each node whose ``type`` is no node type but whose ``subtype`` is one, and the
    document with those two swapped back (the same object when there are none)."""
    raw_nodes = doc.get("job_nodes") if isinstance(doc, dict) else None
    if not isinstance(raw_nodes, list):
        return [], doc
    for raw in raw_nodes:  # the common case, cheaply: every type is a node type
        type_ = raw.get("type") if isinstance(raw, dict) else None
        if not (isinstance(type_, str) and type_ in RANK):
            break
    else:
        return [], doc
    found: list[Finding] = []
    fixed = list(raw_nodes)
    for i, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict):
            continue
        type_, subtype = raw.get("type"), raw.get("subtype")
        if (
            isinstance(type_, str)
            and isinstance(subtype, str)
            and type_ not in RANK
            and subtype in RANK
        ):
            found.append(
                finding(
                    "DK203",
                    f'job_nodes[{i}].type "{type_}" is not a node type, but its subtype '
                    f'"{subtype}" is: type and subtype look swapped',
                    hint=f'write "type": "{subtype}", "subtype": "{type_}"',
                    path=("job_nodes", i, "type"),
                    node=NodeRef(i, _name_of(raw)),
                )
            )
            fixed[i] = {**raw, "type": subtype, "subtype": type_}
    if not found:
        return [], doc
    return found, {**doc, "job_nodes": fixed}


def _assumed_options(doc: dict[str, Any]) -> list[Finding]:
    """DK215 for each request_data option that is dagkit's own assumption."""
    return [
        finding(
            "DK215",
            f'"{key}" is dagkit\'s own assumption: no public request or answer shows the '
            "platform reading it",
            hint=f"leave {key} out unless your server documents it",
            path=(key,),
        )
        for key in ASSUMED_OPTIONS
        if key in doc
    ]


def _name_of(raw: Any) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) else "?"


def _node(raw: Any) -> NodeBase | None:
    fields = node_fields(raw)
    return None if fields is None else NodeBase(*fields)


def check_chain(job: Sequence[NodeBase]) -> list[Finding]:
    """The ordering and cross-node rules for one job, in processing order."""
    if not job:
        return [
            finding(
                "DK308",
                "job_nodes is empty",
                path=("job_nodes",),
                hint="start the job with a partition node, e.g. Partition.auto()",
            )
        ]
    out: list[Finding] = []

    def ref(i: int) -> NodeRef:  # made only for a finding: a valid job needs none
        return NodeRef(i, job[i].name)

    def at(i: int, *tokens: str | int) -> dict[str, Any]:
        return {"node": ref(i), "path": ("job_nodes", i, *tokens)}

    if job[0].type != "partition":
        out.append(
            finding(
                "DK303",
                f"{ref(0)} is {_ROLE.get(job[0].type, repr(job[0].type))}; a job starts with a "
                "partition node",
                hint="put a partition node (e.g. Partition.auto()) first",
                **at(0, "type"),
            )
        )

    first_named: dict[str, int] = {}
    for i, node in enumerate(job):
        if node.name in first_named:
            out.append(
                finding(
                    "DK302",
                    f"{ref(i)} has the same name as {ref(first_named[node.name])}",
                    hint="give every node its own name; job details report nodes by name",
                    **at(i, "name"),
                )
            )
        first_named.setdefault(node.name, i)

    seen: dict[str, int] = {}
    highest = -1
    for i, node in enumerate(job):
        rank = RANK.get(node.type)
        if rank is None:
            continue  # an unknown type: the schema reports it
        if node.type in _ONCE and node.type in seen:
            out.append(
                finding(
                    "DK307",
                    f"{ref(i)} is a second {node.type} node "
                    f"(the first is {ref(seen[node.type])}); a job takes one",
                    hint="remove one, or split the work into two jobs (a branching JobDAG)",
                    **at(i),
                )
            )
        elif (
            rank < highest
            and node.type == "prompter"
            and highest < RANK["structured_data_extractor"]
        ):
            later = next(n for n in job[:i] if RANK.get(n.type, -1) == highest)
            out.append(
                finding(
                    "DK315",
                    f"{ref(i)} enriches after {_ROLE[later.type]}; the docs say enrichments "
                    "should come before the chunker, or results may be incomplete",
                    hint=f"move {ref(i)} before every {later.type} node",
                    **at(i),
                )
            )
        elif rank < highest:
            later = next(n for n in job[:i] if RANK.get(n.type, -1) == highest)
            out.append(
                finding(
                    "DK304",
                    f"{ref(i)} ({node.type}) comes after {_ROLE[later.type]}; the order is "
                    "partition, enrichments, chunk, embed, extract",
                    hint=f"move {ref(i)} before every {later.type} node",
                    **at(i),
                )
            )
        seen.setdefault(node.type, i)
        highest = max(highest, rank)

    if "embed" in seen and not (0 <= seen.get("chunk", -1) < seen["embed"]):
        i = seen["embed"]
        out.append(
            finding(
                "DK305",
                f"{ref(i)} embeds without a chunker before it",
                hint="add a chunker (e.g. Chunk.by_title(max_characters=2048)) before the embedder",
                **at(i),
            )
        )
    if "structured_data_extractor" in seen:
        i = seen["structured_data_extractor"]
        if i != len(job) - 1:
            out.append(
                finding(
                    "DK306",
                    f"{ref(i)} is an extractor but not the last node",
                    hint="move the structured_data_extractor node to the end of job_nodes",
                    **at(i),
                )
            )

    out += _cross_node_rules(job, at)
    return out


def _cross_node_rules(job: Sequence[NodeBase], at: Any) -> list[Finding]:
    out: list[Finding] = []
    strategy = catalogue.partition_strategy(job[0]) if job[0].type == "partition" else None
    partitioner = job[0]
    chunk_index = next((i for i, n in enumerate(job) if n.type == "chunk"), None)

    for i, node in enumerate(job):
        task = catalogue.enrichment_task(node) if node.type == "prompter" else None
        if task in NEEDS_HI_RES and strategy in ("fast", "vlm"):
            out.append(
                finding(
                    "DK310",
                    f'{NodeRef(i, node.name)} ({node.subtype}) gets nothing from a "{strategy}" '
                    "partitioner: image, table and OCR enrichments need Auto or hi_res",
                    hint="use Partition.auto() or Partition.hi_res(), or drop this enrichment",
                    **at(i),
                )
            )
        if (
            task == "generative_ocr"
            and strategy == "hi_res"
            and not partitioner.settings.get("extract_image_block_types")
        ):
            out.append(
                finding(
                    "DK313",
                    f"{NodeRef(i, node.name)} runs generative OCR, but the hi_res partitioner "
                    "sets no extract_image_block_types, so OCR has no element images to read",
                    hint="set extract_image_block_types on the partitioner, "
                    'e.g. ["Image", "Table"]',
                    **at(i),
                )
            )
        if node.type == "embed" and chunk_index is not None and chunk_index < i:
            out += _chunk_fits_model(job, chunk_index, i, at)
        if node.type == "chunk":
            out += _chunker_raises(node, i, at)

    if strategy == "fast" and partitioner.settings.get("pdf_infer_table_structure") is True:
        out.append(
            finding(
                "DK314",
                f"{NodeRef(0, partitioner.name)} uses the fast strategy, which ignores "
                "pdf_infer_table_structure",
                hint="use the hi_res strategy for tables, or drop pdf_infer_table_structure",
                **at(0, "settings", "pdf_infer_table_structure"),
            )
        )
    return out


def _chunk_fits_model(job: Sequence[NodeBase], c: int, e: int, at: Any) -> list[Finding]:
    chunker, embedder = job[c], job[e]
    model = catalogue.embedding_model(embedder)
    size = chunker.settings.get("max_characters")
    if size is None:
        return [
            finding(
                "DK312",
                f"{NodeRef(c, chunker.name)} sets no max_characters before embedder "
                f"{NodeRef(e, embedder.name)}; the docs require a size within the model's limit",
                hint="set max_characters"
                + (f" to at most {model.max_characters}" if model is not None else ""),
                **at(c, "settings"),
            )
        ]
    if model is not None and isinstance(size, int | float) and size > model.max_characters:
        name = embedder.settings.get("model_name")
        return [
            finding(
                "DK311",
                f"{NodeRef(c, chunker.name)} makes chunks of up to {size} characters, but "
                f'{embedder.subtype} model "{name}" takes at most {model.max_characters}',
                hint=f"set max_characters to {model.max_characters} or less",
                **at(c, "settings", "max_characters"),
            )
        ]
    return []


def _chunker_raises(chunker: NodeBase, i: int, at: Any) -> list[Finding]:
    """DK316 for size settings the chunker raises on (unstructured's ChunkingOptions)."""
    settings = chunker.settings
    size: Any = settings.get("max_characters")
    if not is_int(size) or size <= 0:
        return []  # unset (the chunker's default) or a wrong value the schema reports
    out = []
    overlap: Any = settings.get("overlap")
    if is_int(overlap) and overlap >= size:
        out.append(
            finding(
                "DK316",
                f"{NodeRef(i, chunker.name)} repeats {overlap} characters between chunks of at "
                f"most {size}; the chunker raises unless overlap is less than max_characters",
                hint=f"set overlap below {size}",
                **at(i, "settings", "overlap"),
            )
        )
    combine: Any = settings.get("combine_text_under_n_chars")
    if is_int(combine) and combine > size:
        out.append(
            finding(
                "DK316",
                f"{NodeRef(i, chunker.name)} merges sections under {combine} characters into "
                f"chunks of at most {size}; the chunker raises when combine_text_under_n_chars "
                "exceeds max_characters",
                hint=f"set combine_text_under_n_chars to {size} or less",
                **at(i, "settings", "combine_text_under_n_chars"),
            )
        )
    return out


def is_int(value: Any) -> bool:
    """A JSON integer (``2048`` or ``2048.0``), not a boolean."""
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def attach_nodes(findings: list[Finding], doc: Any) -> list[Finding]:
    """Give every finding that points into ``/job_nodes/N`` of ``doc`` the node it concerns."""
    raw_nodes = doc.get("job_nodes") if isinstance(doc, dict) else None
    if not findings or not isinstance(raw_nodes, list):
        return findings
    out = []
    for f in findings:
        head = f.path[1] if len(f.path) > 1 and f.path[0] == "job_nodes" else None
        if f.node is None and isinstance(head, int) and 0 <= head < len(raw_nodes):
            f = f.replace(node=NodeRef(head, _name_of(raw_nodes[head])))
        out.append(f)
    return out
