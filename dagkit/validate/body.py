"""Findings for a whole create-job body: multipart/form-data framing, parts, files and request_data.

The body is read in blocks and parsed incrementally: file contents are counted, never kept, so
validating a body of any size takes the same memory. Only the ``request_data`` text is held,
up to :data:`MAX_REQUEST_DATA_BYTES`.

A create-job without files may also come as ``application/x-www-form-urlencoded``: that is what
the official Python SDK sends when ``input_files`` is empty, and the service (FastAPI form
fields) takes it.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from dagkit.core import limits
from dagkit.errors import MultipartError
from dagkit.findings import REQUEST_DATA_PART, Finding, Part, cap_findings, finding, more_findings
from dagkit.validate.request_data import too_large, validate_request_data
from dagkit.wire.multipart import (
    Event,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    Problem,
    ProblemKind,
    check_boundary,
    parse_content_type,
    read_blocks,
)

__all__ = [
    "BodyChecker",
    "parse_urlencoded",
    "validate_body",
    "validate_urlencoded_body",
]

#: The form field the docs use for files, and the spelling the official Python SDK sends: both
#: are what the service reads as the files.
FILES_FIELD = "input_files"
FILES_FIELD_BRACKETS = "input_files[]"
#: The media type the official SDK uses for a create-job with no files.
FORM_URLENCODED = "application/x-www-form-urlencoded"
REQUEST_DATA_FIELD = "request_data"
#: request_data longer than this is not parsed (the JSON text of a job is a few kilobytes).
MAX_REQUEST_DATA_BYTES = limits.MAX_REQUEST_DATA_BYTES
#: Bytes parsed at a time (see :meth:`BodyChecker.feed`).
_SLICE = 1 << 16
#: The finding code of each kind of problem the multipart parser reports.
PROBLEM_CODES: dict[ProblemKind, str] = {
    ProblemKind.FRAMING: "DK402",
    ProblemKind.TRUNCATED: "DK403",
    ProblemKind.AFTER_CLOSE: "DK404",
    ProblemKind.DISPOSITION: "DK405",
}
#: Distinct filenames remembered to report repeats (DK416); far more than a job takes.
_MAX_NAMES_KEPT = 10_000

Source = bytes | BinaryIO | Iterable[bytes]


@dataclass
class _State:
    """What validate_body has seen so far."""

    file: str | None
    max_file_size: int
    max_files: int
    findings: list[Finding] = field(default_factory=list)
    parts: dict[int, Part] = field(default_factory=dict)  # how findings name the part being read
    open_files: set[int] = field(default_factory=set)  # file parts not yet ended
    file_parts: list[Part] = field(default_factory=list)  # of the first max_files + 1 files
    filenames: dict[str, Part] = field(default_factory=dict)  # filename -> part of first use
    request_data_seen: int = 0
    request_data: bytearray | None = None
    request_data_part: int | None = None  # the index of the first request_data part
    request_data_too_big: bool = False
    request_data_text: str | None = None  # the first request_data, once decoded
    file_count: int = 0
    form_fields: int = 0  # parts without a filename, as the service counts them
    form_files: int = 0  # parts with one
    too_many: str | None = None  # the service's answer once either count is over its limit
    kept: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})  # by is_error
    more: int = 0  # findings past the cap, only counted
    more_errors: bool = False

    def add(self, code: str, message: str, part: Part | None, hint: str = "") -> None:
        self.append(finding(code, message, part=part, file=self.file, hint=hint))

    def append(self, item: Finding) -> None:
        """Keep the first MAX_FINDINGS errors and warnings; count the rest (a body may have a
        million parts, each with a finding). :func:`cap_findings` makes the final choice."""
        if self.kept[item.is_error] < limits.MAX_FINDINGS:
            self.kept[item.is_error] += 1
            self.findings.append(item)
        else:
            self.more += 1
            self.more_errors = self.more_errors or item.is_error


def validate_body(
    stream: Source,
    content_type: str,
    *,
    max_file_size: int = limits.MAX_FILE_SIZE,
    max_files: int = limits.MAX_FILES_PER_JOB,
    file: str | None = None,
) -> list[Finding]:
    """Every finding about a create-job body read from ``stream`` with header ``content_type``.

    ``stream`` is a binary file, an iterable of byte blocks, or bytes. Findings carry the
    ``part`` they concern (``request_data``, ``input_files[3] "report.pdf"``, ``part[4]``) and
    ``file``; request_data findings also carry the pointer, line and column inside that part.
    A ``content_type`` of ``application/x-www-form-urlencoded`` is checked by
    :func:`validate_urlencoded_body`.
    """
    if parse_content_type(content_type or "")[0] == FORM_URLENCODED:
        return validate_urlencoded_body(stream, file=file)
    checker = BodyChecker(content_type, max_file_size=max_file_size, max_files=max_files, file=file)
    if checker.parsable:
        try:
            for block in read_blocks(stream):
                checker.feed(block)
        except MultipartError as exc:  # a text-mode stream: say so instead of crashing
            checker.state.add("DK402", f"the body cannot be read: {exc}", None)
            return cap_findings(checker.state.findings)
        checker.close()
    return checker.finish()


class BodyChecker:
    """The checks of :func:`validate_body`, fed block by block.

    For callers that need the parts too (the embedded server writes file parts to disk):
    :meth:`feed` and :meth:`close` return the parser's events, so a body is parsed once.
    """

    def __init__(
        self,
        content_type: str,
        *,
        max_file_size: int = limits.MAX_FILE_SIZE,
        max_files: int = limits.MAX_FILES_PER_JOB,
        file: str | None = None,
    ) -> None:
        self.state = _State(file, max_file_size, max_files)
        self._parser: MultipartParser | None = None
        boundary = _boundary(content_type, self.state)
        if boundary is not None:
            # a boundary the parser refuses was reported; there is nothing to parse with
            with contextlib.suppress(MultipartError, UnicodeEncodeError):
                self._parser = MultipartParser(boundary)
        self._finished = False

    @property
    def parsable(self) -> bool:
        """Whether the Content-Type gave a boundary the body can be parsed with."""
        return self._parser is not None

    def feed(self, block: bytes) -> list[Event]:
        if self._parser is None or self.state.too_many is not None:
            return []
        # In slices, so that a body of a million tiny parts is given up soon after the limit.
        events: list[Event] = []
        for start in range(0, len(block), _SLICE):
            found = self._parser.feed(block[start : start + _SLICE])
            _handle(found, self.state)
            events += found
            if self._parser.parts > limits.MAX_FORM_FIELDS + limits.MAX_FORM_FILES:
                # parts whose headers broke: however the service counts them, one more part
                # than both limits together is over one of them
                _count_part(None, self.state, unreadable=True)
            if self.state.too_many is not None:
                break
        return events

    def feed_events(self, events: list[Event]) -> None:
        """Check parts given as events (``MultipartEncoder.outline()``), not as bytes."""
        _handle(events, self.state)

    @property
    def too_many(self) -> str | None:
        """The service's answer when the body has more form fields or files than it parses
        (the body was read no further), else None."""
        return self.state.too_many

    def close(self) -> list[Event]:
        if self._parser is None or self.state.too_many is not None:
            return []
        events = self._parser.close()
        _handle(events, self.state)
        return events

    @property
    def request_data(self) -> str | None:
        """The request_data text, once the body has been fed (None if missing or not UTF-8)."""
        return self.state.request_data_text

    def finish(self) -> list[Finding]:
        """Every finding; call once the body has been fed and closed."""
        state = self.state
        if self._parser is not None and not self._finished:
            self._finished = True
            if state.too_many is None:  # else the rest of the body was never read
                _finish(state)
            if state.more:
                state.findings.append(more_findings(state.more, errors=state.more_errors))
            state.findings = cap_findings(state.findings)
        return state.findings


def _boundary(content_type: str, state: _State) -> str | None:
    """The boundary to parse with, or None (after a finding) when the body cannot be parsed."""
    mime, params = parse_content_type(content_type or "")
    hint = "send Content-Type: multipart/form-data; boundary=<the boundary the body uses>"
    if mime != "multipart/form-data":
        shown = repr(mime) if mime else "missing"
        state.add("DK400", f"the Content-Type is {shown}, not multipart/form-data", None, hint)
        if not mime.startswith("multipart/"):
            return None
    boundary = params.get("boundary")
    if not boundary:
        state.add("DK400", "the Content-Type has no boundary parameter", None, hint)
        return None
    problem = check_boundary(boundary)
    if problem:
        state.add("DK401", f"{problem}: {boundary[:80]!r}", None)
        if "\r" in boundary or "\n" in boundary:
            return None
    return boundary


def _handle(events: list[Event], state: _State) -> None:
    for event in events:
        if state.too_many is not None:
            return
        if isinstance(event, PartData):
            if event.index == state.request_data_part:
                _collect_request_data(event.data, state)
        elif isinstance(event, PartStart):
            _part_start(event, state)
        elif isinstance(event, PartEnd):
            _part_end(event, state)
        elif isinstance(event, Problem):
            index = event.part_index
            part = (
                None
                if index is None
                else state.parts.get(index) or Part.placed("part", index, None)
            )
            code = PROBLEM_CODES[event.kind]
            state.add(code, f"{event.message} (at byte {event.offset})", part)


def _count_part(filename: str | None, state: _State, *, unreadable: bool = False) -> None:
    """Count the part as the service does; past its limit, say so and read no further.

    ``unreadable``: so many parts whose headers could not be read (no PartStart) that the
    service's limit is passed anyway, whatever it would count them as.
    """
    if unreadable:
        state.form_fields = limits.MAX_FORM_FIELDS
    if filename is None:
        state.form_fields += 1
        what, count, limit = "fields", state.form_fields, limits.MAX_FORM_FIELDS
    else:
        state.form_files += 1
        what, count, limit = "files", state.form_files, limits.MAX_FORM_FILES
    if count > limit:
        state.too_many = f"Too many {what}. Maximum number of {what} is {limit}."
        kind = "parts without a filename" if what == "fields" else "parts with a filename"
        message = (
            f"the body has more than {limit:,} {what} ({kind}); the service answers 400 "
            f"{state.too_many!r} and dagkit reads it no further"
        )
        most = limits.MAX_FILES_PER_JOB
        hint = f"a create-job has one request_data part and at most {most} files"
        # first: whatever else was found in the parts before is secondary
        state.findings.insert(0, finding("DK422", message, file=state.file, hint=hint))


def _part_start(event: PartStart, state: _State) -> None:
    _count_part(event.filename, state)
    if state.too_many is not None:
        return
    name, index = event.name, event.index
    state.parts.pop(index - 1, None)  # a problem found after a part's end names it; no later
    if name == REQUEST_DATA_FIELD:
        state.parts[index] = REQUEST_DATA_PART
        state.request_data_seen += 1
        if state.request_data_seen > 1:
            state.add(
                "DK407",
                f"part {index} is request_data again; the server reads only one",
                REQUEST_DATA_PART,
                "send request_data once",
            )
        elif event.filename is not None:
            state.add(
                "DK408",
                f"request_data is sent as a file (filename {event.filename!r})",
                REQUEST_DATA_PART,
                "send request_data as a plain form field, without a filename",
            )
        if state.request_data_seen == 1:
            state.request_data = bytearray()
            state.request_data_part = index
        return
    if name in (FILES_FIELD, FILES_FIELD_BRACKETS):
        _file_start(event, name, state)
        return
    part = Part.placed("part", index, name)
    state.parts[index] = part
    if name is not None:
        state.add(
            "DK412",
            f"the create-job operation has no part {name!r}; the server ignores it",
            part,
            "the parts are request_data and input_files",
        )


def _file_start(event: PartStart, name: str, state: _State) -> None:
    number = state.file_count
    state.file_count += 1
    filename = event.filename
    part = Part.file(number, filename)
    state.parts[event.index] = part
    state.open_files.add(event.index)
    if number <= state.max_files:
        state.file_parts.append(part)  # DK413 names the first file over the limit
    if not filename:
        state.add(
            "DK409",
            "a file part without a filename" if filename is None else "a file with an empty name",
            part,
            "give every input_files part a filename",
        )
    else:
        _check_filename(filename, part, state)
    if event.content_type is None:
        state.add(
            "DK410",
            "a file part without a Content-Type",
            part,
            "send Content-Type: "
            + (limits.guess_content_type(filename) if filename else limits.DEFAULT_CONTENT_TYPE),
        )


def _check_filename(filename: str, part: Part, state: _State) -> None:
    # Names are remembered up to a bound: a body with more files is rejected (DK413) anyway.
    first = (
        state.filenames.setdefault(filename, part)
        if len(state.filenames) < _MAX_NAMES_KEPT
        else state.filenames.get(filename, part)
    )
    if first != part:
        state.add(
            "DK416",
            f"the filename {filename!r} is also used by {first.label}",
            part,
            "give each file a distinct name; outputs are told apart by it",
        )
    unsafe = [c for c in filename if c in "/\\" or unicodedata.category(c) == "Cc"]
    if unsafe or filename in (".", ".."):
        what = ", ".join(sorted({repr(c) for c in unsafe})) or repr(filename)
        state.add(
            "DK417",
            f"the filename contains a path separator or control character: {what}",
            part,
            "send the base name only, without directories or control characters",
        )
    if not limits.is_supported(filename):
        ext = limits.extension(filename)
        shown = f"the extension {ext!r}" if ext else "a name without an extension"
        state.add(
            "DK418",
            f"the platform does not process files with {shown}",
            part,
            "convert the file to a supported type (PDF, DOCX, HTML, images, ...)",
        )


def _part_end(event: PartEnd, state: _State) -> None:
    # Ended parts keep no bookkeeping, so memory stays flat however many parts a body has.
    if event.index == state.request_data_part:
        _check_request_data(state)
    elif event.index in state.open_files:
        state.open_files.remove(event.index)
        part = state.parts[event.index]
        if state.max_file_size < event.size <= _binary_reading(state.max_file_size):
            state.add(
                "DK421",
                f"the file is {event.size:,} bytes: over {state.max_file_size:,}, within "
                f"{_binary_reading(state.max_file_size):,}; the docs do not say whether their "
                "MB is 10^6 or 2^20 bytes",
                part,
                "keep files under the decimal limit to be sure",
            )
        elif event.size > state.max_file_size:
            state.add(
                "DK414",
                f"the file is {event.size:,} bytes; the limit is {state.max_file_size:,}",
                part,
                "split or compress the file, or raise the limit (--max-file-size 50MB) "
                "if your account allows more",
            )
        elif event.size == 0:
            state.add("DK415", "the file is empty", part, "the platform has nothing to process")


def _binary_reading(limit: int) -> int:
    """A limit of whole decimal megabytes read as mebibytes (10,000,000 -> 10,485,760): a file
    between the two readings may or may not pass. Any other limit has one reading."""
    megabytes, rest = divmod(limit, 1000 * 1000)
    return megabytes * 1024 * 1024 if megabytes and not rest else limit


def _collect_request_data(data: bytes, state: _State) -> None:
    if state.request_data is None:  # too big: no longer kept
        return
    if len(state.request_data) + len(data) > MAX_REQUEST_DATA_BYTES:
        state.request_data_too_big = True
        state.request_data = None
        return
    state.request_data += data


def _check_request_data(state: _State) -> None:
    raw = state.request_data
    state.request_data = None
    if raw is None:
        if state.request_data_too_big:
            state.append(too_large().replace(part=REQUEST_DATA_PART, file=state.file))
        return
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_column(bytes(raw), exc.start)
        state.append(
            finding(
                "DK102",
                f"request_data is not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start}",
                part=REQUEST_DATA_PART,
                file=state.file,
                line=line,
                column=column,
                hint="save request_data as UTF-8",
            )
        )
        return
    if state.request_data_text is None:
        state.request_data_text = text
    # Imported on first use: it pulls in the schema machinery, which framing checks skip.

    for item in validate_request_data(text, part=REQUEST_DATA_PART, file=state.file):
        state.append(item.replace(part=REQUEST_DATA_PART, file=state.file))


def _line_column(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``; ``raw[:offset]`` is UTF-8."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", "replace")) + 1
    return raw.count(b"\n", 0, offset) + 1, column


def _finish(state: _State) -> None:
    if state.request_data_seen == 0:
        state.add(
            "DK406",
            "the body has no request_data part",
            REQUEST_DATA_PART,
            'add a form field request_data holding the job JSON, e.g. {"template_id": "..."}',
        )
    if state.file_count > state.max_files:
        state.add(
            "DK413",
            f"{state.file_count} files; one job takes at most {state.max_files}",
            state.file_parts[state.max_files],
            "split the files over several jobs (dagkit batch does this)",
        )


# ------------------------------------------------------------------- url-encoded create-job

#: The longest url-encoded body read: request_data at its limit, every byte percent-encoded.
MAX_URLENCODED_BYTES = 3 * MAX_REQUEST_DATA_BYTES
#: The most fields a url-encoded body may have (a create-job has one: request_data).
MAX_URLENCODED_FIELDS = 100


def validate_urlencoded_body(stream: Source, *, file: str | None = None) -> list[Finding]:
    """Findings for a create-job sent as ``application/x-www-form-urlencoded`` (no files).

    Such a body can carry ``request_data`` only: it is checked as in a multipart body (same
    part label, pointers, lines and columns inside the decoded text). Other fields are reported
    as unknown parts; a field named ``input_files`` is an error, as it cannot carry a file.
    """
    state = _State(file, 0, 0)
    raw = bytearray()
    try:
        for block in read_blocks(stream):
            raw += block
            if len(raw) > MAX_URLENCODED_BYTES:
                state.add(
                    "DK420",
                    "the url-encoded body is too long to hold request_data of at most "
                    f"{MAX_REQUEST_DATA_BYTES:,} bytes; dagkit does not parse it",
                    REQUEST_DATA_PART,
                )
                return state.findings
    except MultipartError as exc:  # a text-mode stream: say so instead of crashing
        state.add("DK402", f"the body cannot be read: {exc}", None)
        return state.findings
    if raw.count(b"&") >= MAX_URLENCODED_FIELDS:
        state.add(
            "DK402",
            f"the url-encoded body has more than {MAX_URLENCODED_FIELDS} fields; not parsed",
            None,
            "send request_data as the only field",
        )
        return state.findings
    fields = parse_urlencoded(bytes(raw))
    for index, (name_bytes, value) in enumerate(fields):
        name = name_bytes.decode("utf-8", "replace")
        if name == REQUEST_DATA_FIELD:
            state.request_data_seen += 1
            if state.request_data_seen > 1:
                state.add(
                    "DK407",
                    f"field {index} is request_data again; the server reads only one",
                    REQUEST_DATA_PART,
                    "send request_data once",
                )
                continue
            state.request_data = bytearray(value)
            _check_request_data(state)
        elif name in (FILES_FIELD, FILES_FIELD_BRACKETS):
            state.add(
                "DK409",
                f"a url-encoded field {name!r} cannot carry a file",
                Part.placed("field", index, name),
                "send files as multipart/form-data parts with a filename",
            )
        else:
            state.add(
                "DK412",
                f"the create-job operation has no field {name!r}; the server ignores it",
                Part.placed("field", index, name),
                "the fields are request_data and input_files",
            )
    if state.request_data_seen == 0:
        state.add(
            "DK406",
            "the body has no request_data field",
            REQUEST_DATA_PART,
            'add a field request_data holding the job JSON, e.g. {"template_id": "..."}',
        )
    return state.findings


def parse_urlencoded(raw: bytes) -> list[tuple[bytes, bytes]]:
    """``name=value&...`` as decoded bytes; ``+`` is a space (the WHATWG form rules)."""
    from urllib.parse import unquote_to_bytes

    fields = []
    for pair in raw.split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            fields.append(
                (
                    unquote_to_bytes(name.replace(b"+", b" ")),
                    unquote_to_bytes(value.replace(b"+", b" ")),
                )
            )
    return fields
