"""Findings: what a check found, where, and how to fix it.

Every finding has a stable ``code`` from :data:`CODES`, like a linter's rule list. The README's
table of codes is generated from this registry and a test keeps the two equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

from dagkit.core import pointers
from dagkit.core.limits import MAX_FINDINGS
from dagkit.core.record import Record

Severity = Literal["error", "warning"]


# The records here are Records, not dataclasses: every ``dagkit validate`` imports this module.
_set = object.__setattr__  # how a record's __init__ sets its fields


class Rule(Record):
    """One finding code: its name, its severity, what it means and why it has that severity."""

    __slots__ = ("code", "name", "severity", "summary", "why")
    code: str
    name: str
    severity: Severity
    summary: str
    why: str

    def __init__(self, code: str, name: str, severity: Severity, summary: str, why: str) -> None:
        _set(self, "code", code)
        _set(self, "name", name)
        _set(self, "severity", severity)
        _set(self, "summary", summary)
        _set(self, "why", why)


def _rules(*rows: tuple[str, str, Severity, str, str]) -> dict[str, Rule]:
    return {row[0]: Rule(*row) for row in rows}


# Why a code has its severity, by the one rule: an *error* is what the platform refuses when
# the job is created, or what certainly fails or certainly does not do what it says; a
# *warning* is accepted but may fail, be ignored or be wasted at run time, or lies outside an
# open documented list; what the platform and its SDK do routinely gets no finding at all.
_BROKEN = "not JSON at all: nothing can read it"
_REFUSED = "the API refuses it when the job is created"
_CLOSED = "a value outside a closed set the API defines: refused"
_OPEN = "an open list that changes often: the platform may well accept it"

#: Every code dagkit reports. Numbering: 1xx JSON text, 2xx schema and settings, 3xx graph
#: rules, 4xx multipart bodies, 5xx responses, 6xx workflows.
CODES: dict[str, Rule] = _rules(
    ("DK100", "json-syntax", "error", "the text is not valid JSON", _BROKEN),
    ("DK101", "duplicate-key", "warning",
     "an object repeats a key; the last value silently wins",
     "JSON parsers accept it, but one of the two values is silently lost"),
    ("DK102", "not-utf8", "error", "the text is not valid UTF-8", _BROKEN),
    ("DK103", "too-deep", "error", "the JSON nests deeper than dagkit will parse",
     "no job is nested that deep; dagkit cannot check it"),
    ("DK104", "python-source", "error",
     "a Python DAG source that cannot be loaded or built (syntax error, exception, no DAG)",
     "no request can be made from it at all"),
    ("DK200", "schema", "error", "a schema rule not covered by a more specific code", _REFUSED),
    ("DK201", "missing-key", "error", "a required key is missing",
     "a key the platform has no default for: refused"),
    ("DK202", "wrong-type", "error", "a value has the wrong JSON type", _REFUSED),
    ("DK203", "not-allowed-value", "error",
     "a value is not one of those allowed (also: type and subtype swapped)", _CLOSED),
    ("DK204", "out-of-range", "error", "a number is outside its allowed range",
     "the API or the chunker refuses it"),
    ("DK205", "unknown-key", "error", "a key the schema does not allow (outside node settings)",
     "a structure the API cannot express: refused"),
    ("DK206", "bad-string", "error", "a string breaks a length, pattern or format rule",
     _REFUSED),
    ("DK207", "template-or-nodes", "error",
     "request_data needs exactly one of template_id and job_nodes",
     "a structure the API cannot express: refused"),
    ("DK208", "bad-array", "error", "an array breaks a length or uniqueness rule", _REFUSED),
    ("DK210", "unknown-setting", "warning",
     "a node setting the catalogue does not know and that is no near miss of one it knows",
     "the platform stores settings it does not know; it may be a setting dagkit has not seen"),
    ("DK211", "unknown-provider", "warning", "a provider outside the documented list", _OPEN),
    ("DK212", "unknown-model", "warning",
     "a model outside the documented list for its provider", _OPEN),
    ("DK213", "unknown-element-type", "warning",
     "an element type outside the documented list (any case)", _OPEN),
    ("DK214", "misspelled-setting", "error",
     "a node setting that is a near miss of a documented one (overlapp)",
     "the platform stores it and ignores it, so the job certainly runs without the setting"),
    ("DK215", "assumed-option", "warning",
     "a request_data option no public request or answer shows (skip_preflight)",
     "dagkit's own assumption: no source says whether the platform reads it"),
    ("DK300", "cycle", "error", "the DAG has a cycle", "a structure the API cannot express"),
    ("DK301", "disconnected", "error", "the DAG falls apart into unconnected pieces",
     "a structure the API cannot express"),
    ("DK302", "duplicate-name", "warning", "two nodes share a name",
     "no source says names must differ, but job details report nodes by name"),
    ("DK303", "partition-first", "error", "a job must start with exactly one partition node",
     "a node order no job can run: the docs state partition first"),
    ("DK304", "node-order", "error",
     "nodes out of the documented order (other than an enrichment after the chunker)",
     "a node order no job can run"),
    ("DK305", "embed-needs-chunk", "warning", "an embed node without a chunker before it",
     "a partitioner feeding an embedder directly is accepted and completes; the elements may "
     "be larger than the model takes"),
    ("DK306", "extract-last", "error", "a structured_data_extractor node that is not last",
     "a node order no job can run: the docs say the extractor goes last"),
    ("DK307", "too-many", "error", "more than one node of a kind that a job takes once",
     "a structure the API cannot express: one of each per job"),
    ("DK308", "empty", "error", "a DAG or job_nodes list with no nodes", _REFUSED),
    ("DK309", "not-plannable", "error", "a DAG shape that is not one chain or a tree of chains",
     "a structure the API cannot express"),
    ("DK310", "enrichment-ineffective", "warning",
     "an enrichment node after a partitioner it cannot use",
     "accepted; the enrichment finds nothing to work on and is wasted"),
    ("DK311", "chunk-exceeds-model", "warning",
     "max_characters above the embedding model's approximate ceiling",
     "the ceiling is approximate (tokens x 3.5); over it, embedding may fail at run time"),
    ("DK312", "chunk-size-unset", "warning",
     "an embedder after a chunker without max_characters",
     "the chunker's default size may not fit the model"),
    ("DK313", "ocr-without-blocks", "warning",
     "generative OCR after hi_res without extract_image_block_types",
     "accepted; OCR has no element images to read, so it is wasted"),
    ("DK314", "setting-conflict", "warning", "settings that contradict each other",
     "accepted; one of them is ignored"),
    ("DK315", "enrichment-after-chunk", "warning", "an enrichment after the chunker",
     "the docs say enrichments 'should' come first; after the chunker results may be "
     "incomplete"),
    ("DK316", "chunker-will-raise", "error",
     "chunk sizes the chunker raises on (overlap >= max_characters, "
     "combine_text_under_n_chars > max_characters)",
     "the open-source chunker the platform runs raises on them: the job certainly fails"),
    ("DK400", "content-type", "error",
     "the Content-Type is not multipart/form-data with a boundary", _REFUSED),
    ("DK401", "bad-boundary", "error", "the boundary breaks RFC 2046 (length or characters)",
     "the body cannot be parsed"),
    ("DK402", "framing", "error", "delimiters, CRLFs or part headers are broken",
     "the body cannot be parsed"),
    ("DK403", "no-closing-delimiter", "error", "the body ends without its closing delimiter",
     "the body cannot be parsed"),
    ("DK404", "after-closing", "warning",
     "bytes after the closing delimiter are ignored by servers",
     "accepted; the bytes are ignored"),
    ("DK405", "part-disposition", "error",
     "a part without Content-Disposition: form-data and a name", "the body cannot be parsed"),
    ("DK406", "request-data-missing", "error", "no request_data part", _REFUSED),
    ("DK407", "request-data-repeated", "error", "more than one request_data part",
     "the API cannot tell which one to run"),
    ("DK408", "request-data-is-file", "error",
     "request_data sent as a file part (with a filename)", _REFUSED),
    ("DK409", "file-no-filename", "error", "an input_files part without a filename", _REFUSED),
    ("DK410", "file-no-content-type", "warning", "an input_files part without a Content-Type",
     "accepted; the type is guessed from the name"),
    # DK411 is retired, never to be reused: file parts named input_files[] are what the
    # official Python SDK sends, and the service reads them as the files.
    ("DK412", "unknown-part", "warning", "a part the create-job operation does not know",
     "accepted and ignored"),
    ("DK413", "too-many-files", "error", "more files than one job takes", _REFUSED),
    ("DK414", "file-too-large", "error", "a file over the per-file size limit", _REFUSED),
    ("DK415", "empty-file", "warning", "an empty file",
     "accepted; the file gives nothing"),
    ("DK416", "duplicate-filename", "warning", "two files with the same name",
     "accepted; outputs are told apart by file id, but people read names"),
    ("DK417", "unsafe-filename", "error",
     "a filename with a path separator or control character",
     "the platform cannot store it under that name"),
    ("DK418", "unsupported-extension", "warning",
     "a file type the platform does not process",
     "accepted at create time; the file fails inside the job"),
    ("DK419", "bad-http-request", "error",
     "a captured HTTP request whose head cannot be read", "the request cannot be parsed"),
    ("DK420", "request-data-too-large", "error",
     "a request_data part too large to be a job", "no job is that large; dagkit stops reading"),
    ("DK421", "file-size-ambiguous", "warning",
     "a file over the limit in decimal MB but within it in binary MiB (10,000,000 to "
     "10,485,760 bytes)",
     "the docs do not say which MB: the platform may take it or refuse it"),
    ("DK422", "too-many-parts", "error", "more form fields or files than the service parses",
     "the service's form parser refuses the body (400)"),
    ("DK500", "response-not-json", "error", "a response body that is not JSON",
     "an answer nothing can use"),
    ("DK501", "response-unusable", "error",
     "an answer the client cannot use: the wrong shape, or a job without id or status",
     "an answer whose fields the client needs are missing or unusable"),
    ("DK502", "unknown-enum-value", "warning",
     "a status or enum value the schema does not list yet",
     "the service adds values over time; the answer is still usable"),
    ("DK503", "unknown-operation", "error",
     "an operation or status the spec does not describe", "an answer nothing can interpret"),
    ("DK504", "response-departure", "warning",
     "an answer departs from its schema where the client reads around it",
     "read leniently: the fields the client needs are present and usable"),
    ("DK510", "server-rejected", "error", "a 422 validation error reported by the server",
     "the server refused the request"),
    ("DK600", "workflow-no-nodes", "error",
     "a custom workflow with neither nodes nor a template",
     "a structure the API cannot express: nothing to run"),
    ("DK601", "nodes-and-template", "error",
     "a workflow with both workflow_nodes and template_id",
     "a structure the API cannot express: which one runs is unknown"),
    ("DK602", "nodes-not-custom", "warning", "workflow_nodes on a workflow that is not custom",
     "the nodes are ignored"),
    ("DK603", "source-takes-no-files", "error",
     "input files for a workflow with a source connector",
     "a structure the API cannot express: the source supplies the files"),
    ("DK604", "schedule-without-source", "warning", "a schedule on a workflow with no source",
     "accepted; a schedule with nothing to read is wasted"),
    ("DK900", "more-findings", "warning", "findings beyond the first 1,000 of a file, counted",
     "a count of findings not listed: an error when any of them is one"),
)  # fmt: skip


class NodeRef(Record):
    """Which node a finding concerns: its index in ``job_nodes`` (or a workflow's
    ``workflow_nodes``: ``field``) and its name."""

    __slots__ = ("field", "index", "name")
    index: int
    name: str
    field: str

    def __init__(self, index: int, name: str, field: str = "job_nodes") -> None:
        _set(self, "index", index)
        _set(self, "name", name)
        _set(self, "field", field)

    def __str__(self) -> str:
        return f'{self.field}[{self.index}] "{self.name}"'


#: Where a finding is inside a JSON document: keys (str) and array indexes (int) from the root,
#: as jsonschema's ``ValidationError.path``. ``()`` is the whole document.
DocPath = tuple[str | int, ...]


class Part(Record):
    """Which part of a form body a finding concerns: the form ``field`` it is sent as, which
    one of that field's parts (``index``), and the ``filename`` it carries.

    ``index`` counts the files of ``input_files`` from 0, as the API's error ``loc`` does
    (``input_files[3] "report.pdf"`` is the fourth file). A part dagkit does not know, or one
    that names no field (``field`` None), is told apart by its place in the body instead:
    ``among`` is ``"part"`` (a multipart body) or ``"field"`` (a url-encoded one) and
    ``index`` its position there (``part[4] "extra"``).
    """

    __slots__ = ("among", "field", "filename", "index")
    field: str | None
    index: int | None
    filename: str | None
    among: Literal["part", "field"] | None

    def __init__(
        self,
        field: str | None,
        index: int | None = None,
        filename: str | None = None,
        among: Literal["part", "field"] | None = None,
    ) -> None:
        _set(self, "field", field)
        _set(self, "index", index)
        _set(self, "filename", filename)
        _set(self, "among", among)

    @classmethod
    def file(cls, index: int, filename: str | None) -> Part:
        """The ``index``-th file of ``input_files`` (from 0)."""
        return cls("input_files", index, filename)

    @classmethod
    def placed(cls, among: Literal["part", "field"], position: int, name: str | None) -> Part:
        """A part known only by its ``position`` in the body and the field ``name`` it has."""
        return cls(name, position, None, among)

    @property
    def file_index(self) -> int | None:
        """Which file of ``input_files`` this part is, or None when it is no file."""
        return self.index if self.field == "input_files" and self.among is None else None

    @property
    def label(self) -> str:
        """The part as reports name it: ``request_data``, ``input_files[3] "report.pdf"``,
        ``part[4]``, ``part[4] "extra"``."""
        if self.among is not None:
            name = "" if self.field is None else f' "{self.field}"'
            return f"{self.among}[{self.index}]{name}"
        text = self.field or ""
        if self.index is not None:
            text += f"[{self.index}]"
        if self.filename is not None:
            text += f' "{self.filename}"'
        return text

    def __str__(self) -> str:
        return self.label


#: The request_data part of a create-job body (multipart or url-encoded).
REQUEST_DATA_PART = Part("request_data")


class Finding(Record):
    """One thing a check found.

    Locations are optional and filled in by whoever knows them: the schema check knows the
    JSON ``path`` (its RFC 6901 text is :attr:`pointer`); the text parser turns it into
    ``line``/``column``; the multipart parser adds the ``part``; the CLI adds the ``file``.
    """

    __slots__ = (
        "code",
        "column",
        "file",
        "hint",
        "line",
        "message",
        "node",
        "part",
        "path",
        "severity",
    )
    code: str
    message: str
    severity: Severity
    hint: str
    path: DocPath
    line: int | None
    column: int | None
    part: Part | None
    node: NodeRef | None
    file: str | None

    def __init__(
        self,
        code: str,
        message: str,
        severity: Severity = "error",
        hint: str = "",
        path: DocPath = (),
        line: int | None = None,
        column: int | None = None,
        part: Part | None = None,
        node: NodeRef | None = None,
        file: str | None = None,
    ) -> None:
        _set(self, "code", code)
        _set(self, "message", message)
        _set(self, "severity", severity)
        _set(self, "hint", hint)
        _set(self, "path", path)
        _set(self, "line", line)
        _set(self, "column", column)
        _set(self, "part", part)
        _set(self, "node", node)
        _set(self, "file", file)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def rule(self) -> Rule:
        return CODES[self.code]

    @property
    def pointer(self) -> str:
        """The RFC 6901 JSON Pointer of :attr:`path` (``/job_nodes/0/settings``; ``""``: the
        whole document)."""
        return pointers.join("", *self.path)

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
        part = f"part {self.part.label}" if self.part is not None else ""
        return ", ".join(s for s in (part, self.pointer) if s)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "pointer": self.pointer,
            "line": self.line,
            "column": self.column,
            "part": None if self.part is None else self.part.label,
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


def codes_matching(pattern: str) -> list[str]:
    """The codes a ``--select``/``--ignore`` pattern names, as linters take them: a code
    (``DK305``), a prefix of codes (``DK3``, ``DK31``) or a name (``embed-needs-chunk``).
    Case does not matter. Empty when it names none."""
    wanted = pattern.strip().upper()
    by_name = [c for c, r in CODES.items() if r.name.upper() == wanted]
    return by_name or [c for c in CODES if wanted and c.startswith(wanted)]


def select_findings(
    findings: Iterable[Finding], select: Iterable[str] = (), ignore: Iterable[str] = ()
) -> list[Finding]:
    """The findings whose code some ``select`` pattern names (all, when none is given) and no
    ``ignore`` pattern names (see :func:`codes_matching`)."""
    select = tuple(select)
    chosen = {c for p in select for c in codes_matching(p)} if select else set(CODES)
    chosen -= {c for p in ignore for c in codes_matching(p)}
    return [f for f in findings if f.code in chosen]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.is_error for f in findings)


# -- capping ------------------------------------------------------------------------------------

#: Errors the platform nonetheless accepts when a job or workflow is created: it stores and
#: ignores a misspelled setting (DK214), the chunker raises only when the job runs (DK316), and
#: a file type it cannot process fails inside the job (DK418). A stand-in of the API accepts
#: these too, and lets the job fail or ignore the setting as the platform would.
ACCEPTED_AT_CREATE = frozenset({"DK214", "DK316", "DK418"})


MORE_FINDINGS = "DK900"
_MORE = r"^(at least )?([0-9,]+) more finding"  # compiled when a DK900 is counted again


def more_findings(count: int, *, errors: bool, exact: bool = True) -> Finding:
    """The one DK900 finding that stands for ``count`` findings not listed (an error if any of
    them is). ``exact=False`` when checking stopped early: at least ``count`` more exist."""
    what = f"{count:,} more finding" + ("s are" if count != 1 else " is")
    return finding(
        MORE_FINDINGS,
        f"{'' if exact else 'at least '}{what} not listed "
        f"(dagkit lists the first {MAX_FINDINGS:,} of a file)",
        severity="error" if errors else "warning",
        hint="fix the ones listed, then check again",
    )


def cap_findings(findings: Iterable[Finding], limit: int = MAX_FINDINGS) -> list[Finding]:
    """At most ``limit`` findings, errors before warnings (each kept in its order), then one
    DK900 finding counting the rest; DK900 findings among them add their own counts. No
    finding is dropped silently."""
    items = list(findings)
    if len(items) <= limit and not any(f.code == MORE_FINDINGS for f in items):
        return items
    listed = [f for f in items if f.code != MORE_FINDINGS]
    chosen = [i for i, f in enumerate(listed) if f.is_error][:limit]
    if len(chosen) < limit:
        warnings = [i for i, f in enumerate(listed) if not f.is_error]
        chosen = sorted(chosen + warnings[: limit - len(chosen)])
    kept = [listed[i] for i in chosen]
    more = len(listed) - len(kept)
    errors = sum(f.is_error for f in listed) > sum(f.is_error for f in kept)
    exact = True
    for f in items:
        if f.code == MORE_FINDINGS:
            counted = re.match(_MORE, f.message)
            more += int(counted.group(2).replace(",", "")) if counted else 1
            exact = exact and counted is not None and not counted.group(1)
            errors = errors or f.is_error
    if more:
        kept.append(more_findings(more, errors=errors, exact=exact))
    return kept
