"""Findings for a captured HTTP request: its request line and headers, then its body.

A file that starts with a request line (``POST /api/v1/jobs/ HTTP/1.1``) is a capture. Its
Content-Type comes from the headers; a chunked body is decoded on the fly and a Content-Length
is held to. A workflow request (create or update: a JSON body; run: files only) is judged as a
workflow document or a run's files; any other body as a create-job body.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Protocol

from dagkit.core import limits
from dagkit.errors import MultipartError
from dagkit.findings import Finding, finding
from dagkit.validate.body import Source, validate_body
from dagkit.validate.workflow import validate_workflow
from dagkit.wire.http1 import BlockReader, FramingError, coalesce, dechunk, read_head
from dagkit.wire.multipart import read_blocks

__all__ = [
    "looks_like_http_request",
    "validate_http_request",
    "validate_workflow_request",
    "workflow_route",
]

#: The longest request head (request line and headers) a captured request may have.
MAX_HEAD_BYTES = 64 * 1024
#: (method, path, operation) of the workflow requests a captured HTTP request may be.
_ROUTES = (
    ("POST", re.compile(r"/api/v1/workflows/?$"), "create_workflow"),
    ("PUT", re.compile(r"/api/v1/workflows/[^/]+/?$"), "update_workflow"),
    ("POST", re.compile(r"/api/v1/workflows/[^/]+/run/?$"), "run_workflow"),
)
#: A workflow body is a few kilobytes; a captured one over this is not read.
MAX_BODY = 1 << 20

_REQUEST_LINE = re.compile(rb"[A-Z][A-Z_-]{0,19} \S+ HTTP/\d(?:\.\d)?\r?\n")


class _Report(Protocol):
    """Records a finding about the captured request (DK419 unless another code is given)."""

    def __call__(self, message: str, code: str = ...) -> None: ...


def looks_like_http_request(head: bytes) -> bool:
    """Whether ``head`` starts with an HTTP/1.x request line (``POST /api/v1/jobs/ HTTP/1.1``)."""
    return _REQUEST_LINE.match(head) is not None


def validate_http_request(
    stream: Source,
    *,
    file: str | None = None,
    max_file_size: int = limits.MAX_FILE_SIZE,
    max_files: int = limits.MAX_FILES_PER_JOB,
) -> list[Finding]:
    """Findings for a file holding a captured request: request line, headers, empty line, body.

    The Content-Type comes from the headers; a chunked body is decoded on the fly.
    """
    problems: list[Finding] = []

    def bad(message: str, code: str = "DK419") -> None:
        problems.append(finding(code, message, file=file))

    reader = BlockReader(_safe_blocks(read_blocks(stream), bad))
    try:
        head = read_head(reader, limit=MAX_HEAD_BYTES, strict_names=True)
    except FramingError as exc:
        bad(f"the request head cannot be read: {exc}")
        return problems
    if not looks_like_http_request(head.start_line + b"\n"):
        bad(f"the first line is not an HTTP request line: {head.start_line[:80]!r}")
        return problems
    # a workflow request (create/update: a JSON body; run: files only) is judged as one

    route = workflow_route(head.start_line)
    if route is None and "content-type" not in head:
        bad("the request has no Content-Type header", "DK400")
        return problems
    encoding = head.get("content-encoding", "identity")
    if encoding.lower() not in ("identity", ""):
        bad(f"the body is sent with Content-Encoding {encoding!r}; not decoded")
        return problems
    body: Iterator[bytes] = reader.rest()
    if head.chunked:
        body = _dechunked(reader, bad)
    elif "content-length" in head:
        body = _limit(body, head.get("content-length"), bad)
    if route is not None:
        return problems + validate_workflow_request(
            route,
            body,
            head.get("content-type"),
            file=file,
            line_offset=head.lines,  # the head's lines and the blank line
            max_file_size=max_file_size,
            max_files=max_files,
        )
    findings = validate_body(
        body,
        head.get("content-type"),
        max_file_size=max_file_size,
        max_files=max_files,
        file=file,
    )
    return problems + findings


def _safe_blocks(blocks: Iterator[bytes], bad: _Report) -> Iterator[bytes]:
    try:
        yield from blocks
    except MultipartError as exc:
        bad(f"the request cannot be read: {exc}")


def _dechunked(reader: BlockReader, bad: _Report) -> Iterator[bytes]:
    """The decoded body in blocks of useful size; a framing error is reported, and ends it."""
    try:
        yield from coalesce(dechunk(reader))
    except FramingError as exc:
        bad(str(exc))


def _limit(blocks: Iterator[bytes], length_text: str, bad: _Report) -> Iterator[bytes]:
    """The first Content-Length bytes; what is missing or left over is reported."""
    if not (length_text.isascii() and length_text.isdigit()):  # "²".isdigit() is True
        bad(f"Content-Length {length_text!r} is not a number")
        yield from blocks
        return
    remaining = int(length_text)
    extra = 0
    for block in blocks:
        taken = block[:remaining]
        remaining -= len(taken)
        extra += len(block) - len(taken)
        if taken:
            yield taken
    if remaining:
        bad(f"the body is {remaining:,} bytes shorter than its Content-Length ({length_text})")
    if extra:
        bad(f"{extra:,} bytes after the Content-Length are not part of the body", "DK404")


def workflow_route(head: bytes) -> str | None:
    """The workflow operation a captured request's head is for (its request line says), or
    None for any other request."""
    words = head.split(b"\n", 1)[0].decode("latin-1").split()
    if len(words) < 2:
        return None
    path = urllib.parse.urlsplit(words[1]).path
    return next((op for m, p, op in _ROUTES if words[0] == m and p.search(path)), None)


def validate_workflow_request(
    operation: str,
    body: Iterator[bytes],
    content_type: str,
    *,
    file: str | None,
    line_offset: int,
    max_file_size: int,
    max_files: int,
) -> list[Finding]:
    """Findings for the body of a captured workflow request: a create/update body as a
    workflow document (lines counted from the capture's first line), a run's files as
    create-job's are, without request_data."""
    if operation == "run_workflow":
        if not content_type:
            return []  # a run without files sends no body

        found = validate_body(
            body, content_type, max_file_size=max_file_size, max_files=max_files, file=file
        )
        return [f for f in found if f.code != "DK406"]
    data = bytearray()
    for block in body:
        data += block
        if len(data) > MAX_BODY:
            message = f"the workflow body is over {MAX_BODY >> 20} MiB; dagkit does not read it"
            return [finding("DK419", message, file=file)]
    found = validate_workflow(bytes(data), operation=operation, file=file)
    return [f.replace(line=f.line + line_offset) if f.line is not None else f for f in found]
