"""Receiving a create-job body, and turning what the validators find into 422 errors.

The body is read and parsed once, in blocks: the body validator's parser events also drive
the writing of the file parts to disk. Validation findings become the platform's errors
whose ``loc`` points into the body: ``["body", "request_data", <the JSON path>]`` for
request_data, ``["body", "input_files", <n>]`` for a file, ``["body"]`` for the framing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from io import FileIO
from pathlib import Path
from typing import Any

from dagkit.findings import REQUEST_DATA_PART, Finding
from dagkit.server.ids import random_hex
from dagkit.validate.body import (
    FILES_FIELD,
    FILES_FIELD_BRACKETS,
    MAX_REQUEST_DATA_BYTES,
    REQUEST_DATA_FIELD,
    BodyChecker,
    parse_urlencoded,
)
from dagkit.validate.request_data import too_large, validate_request_data
from dagkit.wire.multipart import PartData, PartEnd, PartStart

_MAX_FORM = 3 * MAX_REQUEST_DATA_BYTES + 64


def error_item(
    loc: list[str | int], msg: str, type_: str, *, input: Any = None, **ctx: Any
) -> dict[str, Any]:
    """One validation error as FastAPI shapes it (type, loc, msg, the ``input`` it judged);
    ``ctx`` holds dagkit's finding code."""
    item: dict[str, Any] = {"type": type_, "loc": loc, "msg": msg, "input": input}
    if ctx:
        item["ctx"] = ctx
    return item


#: FastAPI's error for a create-job form without request_data (no body, not multipart, ...).
MISSING_REQUEST_DATA = error_item(["body", "request_data"], "Field required", "missing")

_ID_STEM_LIMIT = 100
_NOT_IN_IDS = frozenset('/\\<>:"|?*')


def file_id(filename: str, taken: Collection[str]) -> str:
    """A job's id for an uploaded file, as the platform makes them: the name's stem, a dash,
    8 hex digits and the extension (``250713305v1.pdf`` -> ``250713305v1-d88db765.pdf``).

    Characters that cannot be in a file name are dropped and the stem is shortened, so an id
    is always one safe path component; ``taken`` are the ids already given in this job."""
    name = "".join(c for c in filename if c.isprintable() and c not in _NOT_IN_IDS)
    stem, dot, ext = name.lstrip(".").rpartition(".")
    if not dot or not stem or not ext.isalnum() or len(ext) > 16:
        stem, ext = name.lstrip(".").strip(), ""
    stem = stem.strip()[:_ID_STEM_LIMIT] or "file"
    suffix = f".{ext}" if ext else ""
    while True:
        candidate = f"{stem}-{random_hex(4)}{suffix}"
        if candidate not in taken:
            return candidate


@dataclass
class StagedFile:
    filename: str
    file_id: str
    path: Path
    size: int = 0


#: A small valid request_data, checked once when a server starts (see :func:`prepare`).
_WARM_UP = (
    '{"job_nodes": [{"name": "Partitioner", "type": "partition", '
    '"subtype": "unstructured_api", "settings": {"strategy": "fast"}}]}'
)


def prepare() -> None:
    """Import and compile what checking a create-job body needs (the request_data schema's
    validator, ~30 ms), once, before the server serves: else the first create-jobs to arrive
    at once would each compile it, every one of them waiting."""
    validate_request_data(_WARM_UP)


def receive_form(blocks: Iterator[bytes]) -> tuple[str | None, list[Finding]]:
    """request_data from an ``application/x-www-form-urlencoded`` body, and its findings (of
    several, the last wins, as FastAPI reads a form). None when the form has none, or when it
    is too long to hold request_data within its limit (a DK420 finding says so)."""
    body = bytearray()
    for block in blocks:
        body += block
        if len(body) > _MAX_FORM:  # each byte of request_data takes up to 3 once encoded
            return None, [too_large().replace(part=REQUEST_DATA_PART)]
    fields = parse_urlencoded(bytes(body))
    values = [value for name, value in fields if name == REQUEST_DATA_FIELD.encode()]
    if not values:
        return None, []
    findings = validate_request_data(values[-1], part=REQUEST_DATA_PART)
    return values[-1].decode("utf-8", "replace"), findings


class Upload:
    """Receives a create-job body: checks it with the body validator while writing its file
    parts where ``path_for(file_id)`` says.

    Disk use is bounded by the limits, not by the body: at most ``max_files`` files of at most
    ``max_file_size`` bytes each are ever on disk. Once the body is certain to be refused (a
    file over the size limit, one file too many) every file written so far is removed and
    nothing more is written; the body is still read to the end so that the 422 lists every
    problem.
    """

    def __init__(
        self,
        path_for: Callable[[str], Path],
        content_type: str,
        *,
        max_file_size: int,
        max_files: int,
    ) -> None:
        self.path_for = path_for
        self.content_type = content_type
        self.max_file_size = max_file_size
        self.max_files = max_files
        self.files: list[StagedFile] = []
        #: The request_data text once received (None when missing or not UTF-8).
        self.request_data: str | None = None
        #: Whether the body broke a limit, so that nothing of it is kept.
        self.over_limit = False
        self._file_parts = 0
        self._writing: dict[int, tuple[StagedFile, FileIO]] = {}
        #: The service's 400 detail when the body has too many form fields or files.
        self.too_many: str | None = None

    def receive(self, blocks: Iterator[bytes]) -> list[Finding]:
        # One parse: the checker's events also drive the writing of file parts.
        checker = BodyChecker(
            self.content_type, max_file_size=self.max_file_size, max_files=self.max_files
        )
        try:
            for block in blocks:
                self._events(checker.feed(block))
            self._events(checker.close())
        finally:
            self._close_all()
        findings = checker.finish()
        self.request_data = checker.request_data
        self.too_many = checker.too_many
        return findings

    def _close_all(self) -> None:
        for _, handle in self._writing.values():
            handle.close()
        self._writing.clear()

    def _events(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, PartStart):
                self._start(event)
            elif isinstance(event, PartData):
                self._data(event)
            elif isinstance(event, PartEnd):
                entry = self._writing.pop(event.index, None)
                if entry is not None:
                    entry[1].close()

    def _start(self, event: PartStart) -> None:
        if event.name not in (FILES_FIELD, FILES_FIELD_BRACKETS):
            return
        self._file_parts += 1
        if self._file_parts > self.max_files:
            self._give_up()  # one file too many: the body will be refused
        if self.over_limit or not event.filename:  # no name: refused too (DK409)
            return
        new_id = file_id(event.filename, {f.file_id for f in self.files})
        staged = StagedFile(event.filename, new_id, self.path_for(new_id))
        self.files.append(staged)
        # Unbuffered: the parser hands over blocks of up to 64 KiB, and a buffer's set-up costs
        # two system calls (is it a terminal? where is it?) for every file.
        self._writing[event.index] = (staged, open(staged.path, "wb", buffering=0))  # noqa: SIM115

    def _data(self, event: PartData) -> None:
        entry = self._writing.get(event.index)
        if entry is None:
            return
        staged, handle = entry
        staged.size += len(event.data)
        if staged.size > self.max_file_size:
            self._give_up()  # over the size limit: the body will be refused
            return
        data = memoryview(event.data)
        while data:  # a raw write may take only part of it
            data = data[handle.write(data) :]

    def _give_up(self) -> None:
        """The body breaks a limit: remove what was written and write nothing more."""
        if self.over_limit:
            return
        self.over_limit = True
        self._close_all()
        for staged in self.files:
            staged.path.unlink()  # made by this upload, in the job's own directory


# ------------------------------------------------------------------- 422 from findings

_TYPES = {
    "DK100": "json_invalid",
    "DK102": "json_invalid",
    "DK103": "json_invalid",
    "DK201": "missing",
    "DK202": "type_error",
    "DK203": "enum",
    "DK204": "value_error.number",
    "DK205": "extra_forbidden",
    "DK206": "string_pattern_mismatch",
    "DK207": "value_error",
    "DK406": "missing",
    "DK413": "too_long",
    "DK414": "value_error.file_too_large",
}


def rejection(f: Finding) -> dict[str, Any]:
    """One finding as a validation error whose ``loc`` points into the body and request_data."""
    loc: list[str | int] = ["body"]
    part = f.part
    if part == REQUEST_DATA_PART:
        loc += ["request_data", *f.path]
    elif part is not None and part.file_index is not None:
        loc += ["input_files", part.file_index]
    msg = "Field required" if f.code == "DK406" else f.message
    ctx: dict[str, Any] = {"code": f.code}
    if f.hint:
        ctx["hint"] = f.hint
    if f.line is not None:
        ctx["line"], ctx["column"] = f.line, f.column
    return error_item(loc, msg, _TYPES.get(f.code, "value_error"), **ctx)
