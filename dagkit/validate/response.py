"""Findings for API responses: JSON, what the client needs, the schema, and 422 details.

Answers are read leniently, as the client reads them. Only an answer the client cannot use is an
error (DK500 not JSON; DK501 the wrong shape, or a job without its ``id`` or ``status``).
Everything else the OpenAPI document dagkit ships finds is a warning the client reads around:
a string an enumeration does not list yet (a new job status) is DK502; a date-time without a
UTC offset (read as UTC, as the platform's get-job sends it), an id that is not a UUID, a
missing or mistyped field the client does not need, are DK504. The wording of each finding is
the one the client logs. A status the spec does not describe is reported (DK503) together with
the statuses it does describe.

A 422 answer to create-job names the faulty places of request_data in ``detail[].loc``; given
the request_data that was sent, each becomes a DK510 finding naming the node and the pointer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from dagkit.core import jsonlocate, pointers
from dagkit.core.limits import MAX_FINDINGS
from dagkit.core.suggest import did_you_mean
from dagkit.errors import SchemaError
from dagkit.findings import (
    MORE_FINDINGS,
    REQUEST_DATA_PART,
    DocPath,
    Finding,
    NodeRef,
    Part,
    cap_findings,
    finding,
    more_findings,
)
from dagkit.schemas import check as schemacheck
from dagkit.schemas import store as schemas
from dagkit.wire.answers import NAIVE_DATE_TIME, read_date_time
from dagkit.wire.http1 import BlockReader, FramingError, dechunk, read_head

#: Schema findings that mean "an enumeration does not list this value".
_ENUM_CODE = "DK203"


def validate_response(
    data: bytes | str | Any,
    *,
    operation: str,
    status: int,
    request_data: str | None = None,
    file: str | None = None,
) -> list[Finding]:
    """Every finding for one response body of ``operation`` with HTTP ``status``.

    ``data`` is the body as bytes or JSON text, or the already-parsed JSON value (anything that
    is not ``bytes``/``str``). With text, findings carry line and column in that text.
    ``request_data`` (the text that was sent) lets a 422's ``detail`` name the nodes it concerns.
    """
    if isinstance(data, bytes | bytearray | memoryview | str):
        text, problem = _decode(data)
        if problem is not None:
            return _locate([problem], None, file=file)
        doc, problem = _parse(text)
        if problem is not None:
            return _locate([problem], None, file=file)
        return _locate(_check(doc, operation, status, request_data), text, file=file)
    return _locate(_check(data, operation, status, request_data), None, file=file)


def validate_http_response(
    raw: bytes,
    *,
    operation: str | None = None,
    status: int | None = None,
    request_data: str | None = None,
    file: str | None = None,
) -> list[Finding]:
    """Findings for a captured HTTP response: a status line, headers, a blank line and the body.

    The status comes from the status line (``status`` overrides it), the operation from
    ``operation`` or, when not given, from the body's shape (:func:`guess_operation`). Line
    numbers count from the top of the capture.
    """
    try:
        head_status, body, body_line = parse_http_response(raw)
    except ValueError as exc:
        return [finding("DK500", f"the HTTP response cannot be read: {exc}", file=file)]
    status = head_status if status is None else status
    text, problem = _decode(body)
    doc: Any = None
    if problem is None:
        doc, problem = _parse(text)
    if problem is not None:
        return _locate([problem], None, file=file, line_offset=body_line - 1)
    if operation is None:
        if not any(schemas.response_schema(op, status) for op in schemas.operation_ids()):
            return [_undocumented_status(status, file)]
        operation = _operation_for_status(doc, status)
        if operation is None:
            return [_cannot_tell(file)]
    findings = _check(doc, operation, status, request_data)
    return _locate(findings, text, file=file, line_offset=body_line - 1)


def guess_operation(data: Any) -> tuple[str, int] | None:
    """The operation and status a parsed response body most likely answers, from its shape.

    JobInformation -> ``get_job``/200, a list of them -> ``list_jobs``/200, JobDetails ->
    ``get_job_details``, JobFailedFiles -> ``get_job_failed_files``, a template or a list of
    templates -> ``get_template`` / ``list_templates``, a workflow or a list of workflows ->
    ``get_workflow`` / ``list_workflows``, a body with only ``detail`` ->
    ``create_job``/422, a list of elements -> ``download_job_output``. None when the shape says
    nothing (an empty list, a bare value).
    """
    if isinstance(data, list):
        first = next((item for item in data if isinstance(item, dict)), None)
        if first is None:
            return None
        if "workflow_nodes" in first:
            return ("list_workflows", 200)
        if _is_job(first):
            return ("list_jobs", 200)
        if "last_updated" in first or "version" in first:
            return ("list_templates", 200)
        if {"type", "element_id"} <= first.keys():
            return ("download_job_output", 200)  # a job's output: a list of elements
        return None
    if not isinstance(data, dict):
        return None
    keys = data.keys()
    if "workflow_nodes" in keys and "detail" not in keys:
        return ("get_workflow", 200)
    if _is_job(data):
        return ("get_job", 200)
    if "detail" in keys:
        return ("create_job", 422)
    if "processing_status" in keys or "node_stats" in keys:
        return ("get_job_details", 200)
    if "failed_files" in keys:
        return ("get_job_failed_files", 200)
    if "nodes" in keys and ("last_updated" in keys or "version" in keys):
        return ("get_template", 200)
    if {"id", "status", "message"} <= keys:
        return ("cancel_job", 200)
    return None


def _is_job(data: dict[str, Any]) -> bool:
    return "workflow_id" in data or {"status", "created_at"} <= data.keys()


def rejection_findings(doc: Any, request_data: str | None) -> list[Finding]:
    """DK510 findings for the ``detail`` of a 422 body, located in ``request_data`` if given.

    ``detail[].loc`` such as ``["body", "request_data", "job_nodes", 2, "settings", "x"]``
    becomes the path ``("job_nodes", 2, "settings", "x")`` (part ``request_data``) and the node
    ``job_nodes[2]`` with its name, read from the request_data that was sent.
    """
    detail = doc.get("detail") if isinstance(doc, dict) else None
    if isinstance(detail, str):
        return [
            finding(
                "DK510",
                f"the server rejected the request: {detail}",
                hint="fix what the server names and send the request again",
            )
        ]
    if not isinstance(detail, list):
        return []
    nodes = _job_nodes(request_data)
    out = []
    for entry in detail[:MAX_FINDINGS]:
        if isinstance(entry, dict):
            out.append(_rejection(entry, nodes))
    if len(detail) > MAX_FINDINGS:
        out.append(more_findings(len(detail) - MAX_FINDINGS, errors=True))
    return out


def parse_http_response(raw: bytes) -> tuple[int, bytes, int]:
    """The status, the body and the 1-based line where the body starts, of a captured response.

    Accepts CRLF or bare LF line ends (hand-edited captures) and decodes a chunked body.
    Raises ``ValueError`` saying what is wrong with the head.
    """
    reader = BlockReader([raw])
    try:
        head = read_head(reader, limit=len(raw))
    except FramingError as exc:
        if b"\n" not in raw:
            raise ValueError("no end to the status line") from None
        first = raw.split(b"\n", 1)[0]
        if not _STATUS_LINE.match(first):
            raise ValueError(_NOT_A_STATUS_LINE) from None
        raise ValueError(str(exc)) from None
    match = _STATUS_LINE.match(head.start_line)
    if match is None:
        raise ValueError(_NOT_A_STATUS_LINE)
    status = int(match.group(1))
    if not 100 <= status <= 599:
        raise ValueError(f"status {status} is not an HTTP status")
    body = b"".join(dechunk(reader)) if head.chunked else b"".join(reader.rest())
    return status, body, head.lines + 1


_STATUS_LINE = re.compile(rb"HTTP/\S*[ \t]+([0-9]+)(?:[ \t].*)?\r?$", re.DOTALL)
_NOT_A_STATUS_LINE = 'the first line is not a status line such as "HTTP/1.1 200 OK"'


# --- the checks ----------------------------------------------------------------------------------


def _check(doc: Any, operation: str, status: int, request_data: str | None) -> list[Finding]:
    try:
        schema = schemas.response_schema(operation, status)
    except SchemaError:
        return [_unknown_operation(operation)]
    if schema is None:
        return [_unknown_status(operation, status)]
    unusable, covered = _unusable(doc, operation, status)
    if covered.get(()) is _WHOLE:
        return unusable  # the wrong shape: the schema would only say so again, many times over
    out = list(unusable)
    for f in schemacheck.check_schema(schema, doc):
        if not _is_covered(f, covered):
            out.append(_as_response_finding(f, doc))
    if status == 422 and request_data is not None:
        out += rejection_findings(doc, request_data)
    return out


# --- what the client needs of an answer ------------------------------------------------------

#: What the client needs of each successful answer: "object" or "list" (of objects), and the
#: keys each object must hold, with the JSON type they must have. Any other departure from the
#: schema is read around.
_NEEDS: dict[str, tuple[str, str, dict[str, type]]] = {
    "create_job": ("object", "a job", {"id": str, "status": str}),
    "get_job": ("object", "a job", {"id": str, "status": str}),
    "list_jobs": ("list", "a job", {"id": str, "status": str}),
    "get_job_details": ("object", "the job details", {}),
    "get_job_failed_files": ("object", "the failed files", {"failed_files": list}),
    "list_templates": ("list", "a template", {"id": str}),
    "get_template": ("object", "a template", {"id": str}),
    "create_workflow": ("object", "a workflow", {"id": str}),
    "get_workflow": ("object", "a workflow", {"id": str}),
    "update_workflow": ("object", "a workflow", {"id": str}),
    "list_workflows": ("list", "a workflow", {"id": str}),
}
#: In the map of covered places: the value itself is unusable (not just one of its keys).
_WHOLE: frozenset[str] = frozenset()


def _unusable(
    doc: Any, operation: str, status: int
) -> tuple[list[Finding], dict[DocPath, frozenset[str]]]:
    """DK501 errors for what the client cannot read around, and the places they cover:
    path -> the missing keys there, or :data:`_WHOLE` when the value itself is wrong."""
    need = _NEEDS.get(operation) if 200 <= status < 300 else None
    if need is None:
        return [], {}
    shape, what, keys = need
    out: list[Finding] = []
    covered: dict[DocPath, frozenset[str]] = {}
    items: list[tuple[DocPath, str, Any]]
    if shape == "list":
        if not isinstance(doc, list):
            out.append(_unusable_value((), f"a JSON list of {what.split(' ', 1)[1]}s", doc))
            return out, {(): _WHOLE}
        items = [((i,), f"{what.split(' ', 1)[1]} [{i}]", v) for i, v in enumerate(doc)]
    else:
        items = [((), what, doc)]
    for path, where, item in items:
        if not isinstance(item, dict):
            out.append(_unusable_value(path, f"{what} as a JSON object", item))
            covered[path] = _WHOLE
            continue
        missing = []
        for key, kind in keys.items():
            value = item.get(key)
            if value is None:
                missing.append(key)
                out.append(
                    finding(
                        "DK501",
                        f'{where} has no "{key}"; the client cannot use it without one',
                        hint=f'the answer must carry "{key}"; check the server and the URL',
                        path=path,
                    )
                )
            elif not isinstance(value, kind) or (kind is str and not value):
                covered[(*path, key)] = _WHOLE
                out.append(
                    _unusable_value(
                        (*path, key),
                        "a non-empty string" if kind is str else "a JSON list",
                        value,
                        f'{where}: "{key}"',
                    )
                )
        if missing:
            covered[path] = frozenset(missing)
    return out, covered


def _unusable_value(path: DocPath, expected: str, value: Any, where: str = "") -> Finding:
    prefix = f"{where} must be" if where else "the answer must be"
    return finding(
        "DK501",
        f"{prefix} {expected}; got {_kind(value)}",
        hint="the client cannot use this answer; check the server and the URL",
        path=path,
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return f"the string {_shown(value)}" if value else "an empty string"
    return "a list" if isinstance(value, list) else "an object"


def _is_covered(f: Finding, covered: dict[DocPath, frozenset[str]]) -> bool:
    """Whether a schema finding says again what a DK501 error already says."""
    for path, keys in covered.items():
        if keys is _WHOLE and f.path[: len(path)] == path:
            return True
        if f.path == path and f.code == "DK201" and any(f'"{k}"' in f.message for k in keys):
            return True
    return False


# --- departures the client reads around ------------------------------------------------------


def _as_response_finding(f: Finding, doc: Any) -> Finding:
    """A schema finding as a departure the client reads around: DK502 for a string no enum
    lists yet, DK504 for any other (the client's :data:`_NEEDS` are DK501 errors already)."""
    if f.code.startswith("DK1"):
        return f  # about the JSON text itself (nesting), not the schema
    if f.code == MORE_FINDINGS:
        return f.replace(severity="warning")  # the schema findings it counts are read around
    value = _at(doc, f.path)
    if f.code == _ENUM_CODE and isinstance(value, str):
        return f.replace(
            code="DK502",
            severity="warning",
            hint="the server may have added this value after dagkit's copy of the spec; "
            "the client keeps it as an unknown value",
        )
    message, hint = f.message, "the client does not need this to use the answer and reads around it"
    if f.code == "DK206" and isinstance(value, str):
        where = _label(f.path)
        if (
            "valid date-time" in f.message
            and NAIVE_DATE_TIME.fullmatch(value)
            and read_date_time(value)
        ):
            message = f"{where} {_shown(value)} has no UTC offset; read as UTC"
            hint = (
                "the spec asks for an RFC 3339 date-time with an offset such as "
                "2025-10-07T20:17:04Z; the platform sends some without one"
            )
        elif "valid uuid" in f.message:
            message = f"{where} {_shown(value)} is not a UUID; used as given"
            hint = "the spec types ids as UUIDs; the client treats every id as an opaque string"
    return f.replace(code="DK504", severity="warning", message=message, hint=hint)


def _label(path: DocPath) -> str:
    """``output_node_files[0].node_id`` for ``("output_node_files", 0, "node_id")``."""
    out = ""
    for token in path:
        if isinstance(token, int):
            out += f"[{token}]"
        else:
            out += ("." if out else "") + token
    return out or "the answer"


def _shown(value: str, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 4] + '..."'


def _at(doc: Any, path: DocPath) -> Any:
    """The value at ``path``, or None when there is none."""
    for token in path:
        if isinstance(doc, dict) and isinstance(token, str):
            doc = doc.get(token)
        elif isinstance(doc, list) and isinstance(token, int) and 0 <= token < len(doc):
            doc = doc[token]
        else:
            return None
    return doc


def _unknown_operation(operation: str) -> Finding:
    known = schemas.operation_ids()
    guess = did_you_mean(operation, known)
    return finding(
        "DK503",
        f'the spec has no operation "{operation}"',
        hint=(f"{guess} " if guess else "") + f"the spec describes: {', '.join(known)}",
    )


def _unknown_status(operation: str, status: int) -> Finding:
    described = schemas.response_statuses(operation)
    return finding(
        "DK503",
        f"{operation} has no documented JSON response for status {status}",
        hint=f"the spec describes {operation} responses for status "
        + (", ".join(described) if described else "none"),
    )


def _undocumented_status(status: int, file: str | None) -> Finding:
    return finding(
        "DK503",
        f"no operation of the jobs API documents a JSON response with status {status}",
        hint="a server or proxy failure rather than an answer of the API; "
        "pass --operation to check the body against one operation anyway",
        file=file,
    )


def _cannot_tell(file: str | None) -> Finding:
    return finding(
        "DK503",
        "cannot tell which operation this response answers from its shape",
        hint="pass --operation (and --status), e.g. --operation get_job --status 200",
        file=file,
    )


def _operation_for_status(doc: Any, status: int) -> str | None:
    """The guessed operation, or for an error body the first operation documenting ``status``."""
    guessed = guess_operation(doc)
    if guessed is None:
        return None
    if guessed[1] == status or status < 400:
        return guessed[0]
    return next(
        (op for op in schemas.operation_ids() if schemas.response_schema(op, status) is not None),
        guessed[0],
    )


def _rejection(entry: dict[str, Any], nodes: Sequence[Any] | None) -> Finding:
    loc = entry.get("loc")
    msg = entry.get("msg")
    message = msg if isinstance(msg, str) else "(no message)"
    tokens = [t for t in loc if isinstance(t, str | int)] if isinstance(loc, list) else []
    if tokens[:1] == ["body"]:
        tokens = tokens[1:]
    part: Part | None = None
    if tokens[:1] == ["request_data"]:
        part, tokens = REQUEST_DATA_PART, tokens[1:]
    elif tokens[:1] in (["job_nodes"], ["template_id"], ["skip_preflight"]):
        part = REQUEST_DATA_PART
    elif tokens:
        part, tokens = Part(str(tokens[0])), tokens[1:]
    path: DocPath = tuple(tokens) if part == REQUEST_DATA_PART else ()
    node = _node_at(tokens, nodes)
    shown = pointers.join("", *path) or (part.label if part is not None else "the request")
    where = " ".join(s for s in (str(node) if node else "", shown) if s)
    kind = entry.get("type")
    return finding(
        "DK510",
        f"the server rejected {where}: {message}",
        hint=(f"server error type: {kind}; " if isinstance(kind, str) else "")
        + "fix this value and send the request again",
        path=path,
        part=part,
        node=node,
    )


def _node_at(tokens: Sequence[str | int], nodes: Sequence[Any] | None) -> NodeRef | None:
    if nodes is None or len(tokens) < 2 or tokens[0] != "job_nodes":
        return None
    index = tokens[1]
    if isinstance(index, str) and index.isdigit():
        index = int(index)
    if not isinstance(index, int) or not 0 <= index < len(nodes):
        return None
    raw = nodes[index]
    name = raw.get("name") if isinstance(raw, dict) else None
    return NodeRef(index, name if isinstance(name, str) else "?")


def _job_nodes(request_data: str | None) -> list[Any] | None:
    if request_data is None:
        return None
    try:
        doc = json.loads(request_data)
    except (ValueError, RecursionError):
        return None
    nodes = doc.get("job_nodes") if isinstance(doc, dict) else None
    return nodes if isinstance(nodes, list) else None


# --- text ----------------------------------------------------------------------------------------


def _decode(data: bytes | bytearray | memoryview | str) -> tuple[str, Finding | None]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), None
    try:
        return bytes(data).decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return "", finding(
            "DK500",
            f"the response body is not UTF-8 text (bad byte at offset {exc.start})",
            hint="JSON responses are UTF-8; check the Content-Type and the capture",
        )


def _parse(text: str) -> tuple[Any, Finding | None]:
    if not text.strip():
        return None, finding("DK500", "the response body is empty; JSON was expected")
    try:
        return json.loads(text), None
    except RecursionError:
        return None, finding("DK500", "the response body nests too deeply to check")
    except ValueError:
        pass
    syntax = jsonlocate.syntax_error(text)
    message = syntax.message if syntax is not None else "the text is not valid JSON"
    return None, finding(
        "DK500",
        f"the response body is not JSON: {message}",
        hint="a JSON body was expected; was this an error page or a truncated capture?",
        line=syntax.line if syntax is not None else None,
        column=syntax.column if syntax is not None else None,
    )


__all__ = [
    "guess_operation",
    "parse_http_response",
    "read_date_time",
    "rejection_findings",
    "validate_http_response",
    "validate_response",
]


def _locate(
    findings: list[Finding], text: str | None, *, file: str | None, line_offset: int = 0
) -> list[Finding]:
    # DK503 and DK510 pointers concern the request, not this response's text.
    return jsonlocate.place(
        cap_findings(findings),
        text,
        file=file,
        line_offset=line_offset,
        skip=frozenset({"DK503", "DK510"}),
    )
