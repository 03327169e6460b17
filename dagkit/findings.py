"""Findings: what a check found, where, and how to fix it.

Every finding has a stable ``code`` from :data:`CODES`, like a linter's rule list. The README's
table of codes is generated from this registry and a test keeps the two equal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str


def _rules(*rows: tuple[str, str, Severity, str]) -> dict[str, Rule]:
    return {code: Rule(code, name, sev, summary) for code, name, sev, summary in rows}


#: Every code dagkit reports. Numbering: 1xx JSON text, 2xx schema and settings, 3xx graph
#: rules, 4xx multipart bodies, 5xx responses, 6xx workflows.
CODES: dict[str, Rule] = _rules(
    ("DK100", "json-syntax", "error", "the text is not valid JSON"),
    ("DK101", "duplicate-key", "warning", "an object repeats a key; the last value silently wins"),
    ("DK102", "not-utf8", "error", "the text is not valid UTF-8"),
    ("DK103", "too-deep", "error", "the JSON nests deeper than dagkit will parse"),
    ("DK200", "schema", "error", "a schema rule not covered by a more specific code"),
    ("DK201", "missing-key", "error", "a required key is missing"),
    ("DK202", "wrong-type", "error", "a value has the wrong JSON type"),
    ("DK203", "not-allowed-value", "error", "a value is not one of those allowed"),
    ("DK204", "out-of-range", "error", "a number is outside its allowed range"),
    ("DK205", "unknown-key", "error", "a key the schema does not allow (outside node settings)"),
    ("DK206", "bad-string", "error", "a string breaks a length, pattern or format rule"),
    (
        "DK207",
        "template-or-nodes",
        "error",
        "request_data needs exactly one of template_id and job_nodes",
    ),
    ("DK208", "bad-array", "error", "an array breaks a length or uniqueness rule"),
    ("DK210", "unknown-setting", "warning", "a node setting the catalogue does not know"),
    ("DK211", "unknown-provider", "warning", "a provider outside the documented list"),
    ("DK212", "unknown-model", "warning", "a model outside the documented list for its provider"),
    ("DK213", "unknown-element-type", "warning", "an element type outside the documented list"),
    ("DK300", "cycle", "error", "the DAG has a cycle"),
    ("DK301", "disconnected", "error", "the DAG falls apart into unconnected pieces"),
    ("DK302", "duplicate-name", "error", "two nodes share a name"),
    ("DK303", "partition-first", "error", "a job must start with exactly one partition node"),
    ("DK304", "node-order", "error", "nodes are out of the documented order"),
    ("DK305", "embed-needs-chunk", "error", "an embed node without a chunker before it"),
    ("DK306", "extract-last", "error", "a structured_data_extractor node that is not last"),
    ("DK307", "too-many", "error", "more than one node of a kind that a job takes once"),
    ("DK308", "empty", "error", "a DAG or job_nodes list with no nodes"),
    ("DK309", "not-plannable", "error", "a DAG shape that is not one chain or a tree of chains"),
    (
        "DK310",
        "enrichment-ineffective",
        "warning",
        "an enrichment node after a partitioner it cannot use",
    ),
    ("DK311", "chunk-exceeds-model", "error", "max_characters above the embedding model's ceiling"),
    ("DK312", "chunk-size-unset", "warning", "an embedder after a chunker without max_characters"),
    (
        "DK313",
        "ocr-without-blocks",
        "warning",
        "generative OCR after hi_res without extract_image_block_types",
    ),
    ("DK314", "setting-conflict", "warning", "settings that contradict each other"),
    (
        "DK400",
        "content-type",
        "error",
        "the Content-Type is not multipart/form-data with a boundary",
    ),
    ("DK401", "bad-boundary", "error", "the boundary breaks RFC 2046 (length or characters)"),
    ("DK402", "framing", "error", "delimiters, CRLFs or part headers are broken"),
    ("DK403", "no-closing-delimiter", "error", "the body ends without its closing delimiter"),
    (
        "DK404",
        "after-closing",
        "warning",
        "bytes after the closing delimiter are ignored by servers",
    ),
    (
        "DK405",
        "part-disposition",
        "error",
        "a part without Content-Disposition: form-data and a name",
    ),
    ("DK406", "request-data-missing", "error", "no request_data part"),
    ("DK407", "request-data-repeated", "error", "more than one request_data part"),
    (
        "DK408",
        "request-data-is-file",
        "error",
        "request_data sent as a file part (with a filename)",
    ),
    ("DK409", "file-no-filename", "error", "an input_files part without a filename"),
    ("DK410", "file-no-content-type", "warning", "an input_files part without a Content-Type"),
    # DK411 is retired, never to be reused: file parts named input_files[] are what the
    # official Python SDK sends, and the service reads them as the files.
    ("DK412", "unknown-part", "warning", "a part the create-job operation does not know"),
    ("DK413", "too-many-files", "error", "more files than one job takes"),
    ("DK414", "file-too-large", "error", "a file over the per-file size limit"),
    ("DK415", "empty-file", "warning", "an empty file"),
    ("DK416", "duplicate-filename", "warning", "two files with the same name"),
    ("DK417", "unsafe-filename", "error", "a filename with a path separator or control character"),
    ("DK418", "unsupported-extension", "error", "a file type the platform does not process"),
    ("DK419", "bad-http-request", "error", "a captured HTTP request whose head cannot be read"),
    ("DK420", "request-data-too-large", "error", "a request_data part too large to be a job"),
    ("DK500", "response-not-json", "error", "a response body that is not JSON"),
    (
        "DK501",
        "response-unusable",
        "error",
        "an answer the client cannot use: the wrong shape, or a job without id or status",
    ),
    (
        "DK502",
        "unknown-enum-value",
        "warning",
        "a status or enum value the schema does not list yet",
    ),
    ("DK503", "unknown-operation", "error", "an operation or status the spec does not describe"),
    (
        "DK504",
        "response-departure",
        "warning",
        "an answer departs from its schema where the client reads around it",
    ),
    ("DK510", "server-rejected", "error", "a 422 validation error reported by the server"),
    ("DK600", "workflow-no-nodes", "error", "a custom workflow with neither nodes nor a template"),
    ("DK601", "nodes-and-template", "error", "a workflow with both workflow_nodes and template_id"),
    ("DK602", "nodes-not-custom", "warning", "workflow_nodes on a workflow that is not custom"),
    (
        "DK603",
        "source-takes-no-files",
        "error",
        "input files for a workflow with a source connector",
    ),
    ("DK604", "schedule-without-source", "warning", "a schedule on a workflow with no source"),
)


@dataclass(frozen=True, slots=True)
class NodeRef:
    """Which node a finding concerns: its index in ``job_nodes`` (or a workflow's
    ``workflow_nodes``: ``field``) and its name."""

    index: int
    name: str
    field: str = "job_nodes"

    def __str__(self) -> str:
        return f'{self.field}[{self.index}] "{self.name}"'


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found.

    Locations are optional and filled in by whoever knows them: the schema check knows the
    JSON ``pointer``; the text parser turns it into ``line``/``column``; the multipart parser
    adds the ``part``; the CLI adds the ``file``.
    """

    code: str
    message: str
    severity: Severity = "error"
    hint: str = ""
    pointer: str = ""
    line: int | None = None
    column: int | None = None
    part: str | None = None
    node: NodeRef | None = None
    file: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def rule(self) -> Rule:
        return CODES[self.code]

    def replace(self, **changes: Any) -> Finding:
        return dataclasses.replace(self, **changes)

    def location(self) -> str:
        """``file:line:col``, as much of it as is known (the form editors and CI jump to)."""
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def inside(self) -> str:
        """Where inside the file: the multipart part and the JSON Pointer, when known."""
        return ", ".join(s for s in (self.part and f"part {self.part}", self.pointer) if s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "pointer": self.pointer,
            "line": self.line,
            "column": self.column,
            "part": self.part,
            "node": None
            if self.node is None
            else {"index": self.node.index, "name": self.node.name},
        }

    def __str__(self) -> str:
        inside = f" (at {self.inside()})" if self.inside() else ""
        return f"{self.location()}: {self.code} {self.message}{inside}"


def finding(code: str, message: str, **where: Any) -> Finding:
    """A finding with the registry's default severity for ``code``."""
    where.setdefault("severity", CODES[code].severity)
    return Finding(code, message, **where)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.is_error for f in findings)


def pointer_join(base: str, *tokens: str | int) -> str:
    """Extend an RFC 6901 JSON Pointer, escaping ``~`` and ``/`` in each token."""
    for token in tokens:
        base += "/" + str(token).replace("~", "~0").replace("/", "~1")
    return base
