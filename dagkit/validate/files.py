"""Validating files: which paths, what each file holds, and the findings for each.

``dagkit validate`` is this module plus a report. Paths may be files (any name), directories (walked
recursively for ``*.json``, ``*.jsonl``, ``*.multipart``, ``*.http`` and ``*.bin``, skipping hidden
directories), glob patterns (``**`` included) or ``-`` for standard input. Each file is read once:
JSON files whole (they are small and must be parsed anyway), multipart bodies and captured HTTP
requests streamed in blocks, never held whole.

What a file holds is told from its first bytes (:func:`detect_kind`), so a directory can mix
request_data, bodies and responses; ``kind=`` forces one kind for every file. A ``*.jsonl``
file is JSON Lines of request_data, one job's per line, each line checked on its own.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any, Literal

from dagkit.core import limits
from dagkit.core.jsontext import JSON_LINES_SUFFIX
from dagkit.core.record import Record
from dagkit.errors import DagkitError, SourceError
from dagkit.errors import InputPathError as InputPathError  # re-exported: its old home
from dagkit.findings import Finding, cap_findings, finding, has_errors
from dagkit.validate.request_data import validate_request_data, validate_request_lines

Kind = Literal["request-data", "body", "http", "response", "workflow", "python"]
#: The kinds of file ``dagkit validate`` knows, as ``--kind`` spells them.
KINDS: tuple[Kind, ...] = ("request-data", "body", "http", "response", "workflow")
#: File names a directory walk picks up (other files in a directory are not dagkit's).
DIRECTORY_SUFFIXES = (".json", ".jsonl", ".multipart", ".http", ".bin")
#: What a walk picks up: those, and Python DAG sources named ``*.dag.py`` (other ``.py`` files
#: are never run just because they sit in a folder).
WALKED_SUFFIXES = (*DIRECTORY_SUFFIXES, ".dag.py")
#: Words in a file name that say it is dagkit's, whatever it holds.
_DAGKIT_NAMES = ("request_data", "request-data", ".dag.", "response", "workflow", "job")
#: The name findings and reports use for standard input.
STDIN_NAME = "<stdin>"

_HEAD = 64 * 1024
_BLOCK = 1 << 20
#: Keys that make a JSON object request_data rather than a response.
_REQUEST_KEYS = re.compile(rb'"(?:job_nodes|template_id)"\s*:')
#: How a url-encoded create-job body (the official SDK's, when there are no files) starts.
_URLENCODED_HEAD = b"request_data="
#: Keys that make a JSON object a workflow (a create/update body or a get-workflow answer).
_WORKFLOW_KEYS = re.compile(rb'"(?:workflow_nodes|workflow_type)"\s*:')
#: The first delimiter line of a multipart body (compiled on first use: bodies are rare).
_DELIMITER_LINE = rb"(?m)^--([^\r\n]*?)[ \t]*\r?$"
#: Keys a JSON Schema or an OpenAPI document has at its top (checked there by a token scan;
#: compiled on first use, as the walk meets such a document).
_DOCUMENT_KEYS = rb'"(?:\$schema|openapi|swagger)"\s*:'
#: A JSON string (a key when a colon follows) or a bracket: enough to tell an object's depth.
_JSON_TOKENS = rb'(?P<key>"(?:[^"\\]|\\.)*"\s*:)|"(?:[^"\\]|\\.)*"|[{}\[\]]'
#: Below this many files a second process costs more than it saves: forking one and reading its
#: results back takes ~2 ms, and a file ~0.05 ms to check (see the README's figures).
POOL_THRESHOLD = 500


class FileResult(Record):
    """The findings for one file, and what kind of file it was taken for."""

    __slots__ = ("findings", "kind", "path")
    path: str
    kind: Kind
    findings: list[Finding]

    def __init__(self, path: str, kind: Kind, findings: list[Finding] | None = None) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "findings", [] if findings is None else findings)

    def valid(self, strict: bool = False) -> bool:
        """No error (with ``strict``, no finding at all: warnings fail too)."""
        return not self.findings if strict else not has_errors(self.findings)

    @property
    def errors(self) -> int:
        return sum(f.is_error for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(not f.is_error for f in self.findings)


# --- which files ---------------------------------------------------------------------------------


def expand_paths(paths: Iterable[str], *, exclude: Iterable[str] = ()) -> list[str]:
    """The files that ``paths`` name, in the order given, each once.

    A directory gives its ``*.json``, ``*.jsonl``, ``*.multipart``, ``*.http``, ``*.bin`` and
    ``*.dag.py`` files (recursively, sorted, hidden directories skipped); a glob pattern gives its
    matches (sorted; ``**`` spans directories); ``-`` is standard input; ``path.py[:attr]`` is a
    Python DAG. ``exclude`` globs drop what a directory or pattern finds (matched against the path,
    the path inside the directory walked, and the file or directory name). A path that names
    nothing, a pattern that matches nothing or a directory without such files raises
    :class:`InputPathError`.
    """
    return [path for path, _ in _expand_all(paths, tuple(exclude))]


def _expand_all(paths: Iterable[str], exclude: tuple[str, ...]) -> list[tuple[str, bool]]:
    """Each file once, and whether it was found (by walking or a pattern) or named."""
    out: list[tuple[str, bool]] = []
    seen: set[str] = set()
    for path in paths:
        for found, walked in _expand(path, exclude):
            key = found if found == "-" else os.path.normpath(found)
            if key not in seen:
                seen.add(key)
                out.append((found, walked))
    return out


def _expand(path: str, exclude: tuple[str, ...]) -> list[tuple[str, bool]]:
    if path == "-":
        return [("-", False)]
    try:
        mode: int | None = os.stat(path).st_mode  # one look for both questions below
    except (OSError, ValueError):
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        found = _walk(path, exclude)
        if not found:
            raise InputPathError(
                f"{path}: no {', '.join('*' + s for s in WALKED_SUFFIXES)} files in this "
                "directory" + (" that --exclude leaves" if exclude else "")
            )
        return [(f, True) for f in found]
    if mode is not None or (".py:" in path and os.path.isfile(path.rpartition(":")[0])):
        return [(path, False)]
    if any(c in path for c in "*?["):
        import glob

        matches = sorted(glob.glob(path, recursive=True))
        found = [
            f
            for m in matches
            if not _excluded(m, "", exclude)
            for f in (_walk(m, exclude) if os.path.isdir(m) else [m])
        ]
        if not found:
            raise InputPathError(f"{path}: no file matches this pattern")
        return [(f, True) for f in found]
    raise InputPathError(f"{path}: no such file or directory")


def _walk(directory: str, exclude: tuple[str, ...] = ()) -> list[str]:
    found = []
    for root, dirs, files in os.walk(directory):
        inside = os.path.relpath(root, directory)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and not _excluded(os.path.join(root, d), inside, exclude)
        )
        found += [
            os.path.join(root, f)
            for f in sorted(files)
            if f.endswith(WALKED_SUFFIXES) and not _excluded(os.path.join(root, f), inside, exclude)
        ]
    return found


def _excluded(path: str, inside: str, exclude: tuple[str, ...]) -> bool:
    if not exclude:
        return False
    import fnmatch

    name = os.path.basename(path)
    relative = os.path.normpath(os.path.join(inside, name)) if inside else path
    candidates = {path, os.path.normpath(path), relative, name}
    return any(fnmatch.fnmatch(c, pattern) for pattern in exclude for c in candidates)


def is_foreign(head: bytes, path: str) -> bool:
    """A JSON file that is none of dagkit's kinds: a JSON Schema or an OpenAPI document, whatever
    it describes and whatever its name (``request-data.schema.json``, ``jobs-api.openapi.json``),
    or any other JSON with no request_data, workflow or response shape and not named as one (a
    ``package.json``, a ``tsconfig.json``). A directory walk skips these; named on the command
    line they are still checked."""
    if not path.lower().endswith((".json", JSON_LINES_SUFFIX)):
        return False
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"{"):
        return False
    if _describes_documents(stripped):
        return True
    name = os.path.basename(path).lower()
    if any(word in name for word in _DAGKIT_NAMES):
        return False
    if _REQUEST_KEYS.search(stripped) or _WORKFLOW_KEYS.search(stripped):
        return False
    # lazy: validating request_data does not load the answer checks (the OpenAPI answers' schemas)
    from dagkit.validate.response import guess_operation

    doc = _loads(stripped)
    return not (isinstance(doc, dict) and guess_operation(doc) is not None)


def _describes_documents(head: bytes) -> bool:
    """A JSON Schema or an OpenAPI document (a top-level ``$schema``, ``openapi`` or
    ``swagger`` key) with none of request_data's or a workflow's keys at its top: it may name
    them below, as the properties it describes. Read from the first bytes alone, however long
    the file."""
    if not re.search(_DOCUMENT_KEYS, head):  # most files: request_data never says $schema
        return False
    depth = 0
    declared = ours = False
    for token in re.finditer(_JSON_TOKENS, head):
        text = token.group()
        if text in (b"{", b"["):
            depth += 1
        elif text in (b"}", b"]"):
            depth -= 1
        elif depth == 1 and token.group("key") is not None:
            declared = declared or re.fullmatch(_DOCUMENT_KEYS, text) is not None
            ours = ours or any(k.fullmatch(text) for k in (_REQUEST_KEYS, _WORKFLOW_KEYS))
    return declared and not ours


# --- what a file holds ---------------------------------------------------------------------------


def detect_kind(head: bytes, path: str = "") -> Kind:
    """What a file holds, from its first bytes (and, only when they say nothing, its name).

    - a status line (``HTTP/1.1 200 OK``): a captured **response**;
    - a request line (``POST /api/v1/jobs/ HTTP/1.1``): a captured **http** request;
    - a ``--boundary`` delimiter line, or a url-encoded ``request_data=`` field: a **body**;
    - a JSON object with ``workflow_nodes`` or ``workflow_type``: a **workflow** (a create or
      update body, or a get-workflow answer);
    - a JSON object with ``job_nodes`` or ``template_id``: **request-data**; any other JSON
      that has the shape of a response (or a JSON array): a **response**;
    - anything else: ``.multipart``/``.bin`` files are bodies, ``.http`` requests, the rest
      request-data (whose check then says what is wrong with the text).
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"HTTP/"):
        return "response"
    if stripped.startswith((b"--", _URLENCODED_HEAD)):
        return "body"
    first = stripped[:1]
    if first == b"[":
        return "response"
    if first == b"{":
        return _json_kind(stripped, path)
    # lazy: validating request_data does not load the HTTP and multipart readers
    from dagkit.validate.capture import looks_like_http_request

    if looks_like_http_request(stripped):
        return "http"
    name = path.lower()
    if name.endswith((".multipart", ".bin")):
        return "body"
    if name.endswith(".http"):
        return "http"
    return "request-data"


def _json_kind(text: bytes, path: str) -> Kind:
    if _WORKFLOW_KEYS.search(text):
        # as below: a 422's detail[].loc may name these keys too
        if b'"detail"' not in text:
            return "workflow"
        doc = _loads(text)
        return "response" if isinstance(doc, dict) and "detail" in doc else "workflow"
    if _REQUEST_KEYS.search(text):
        # "job_nodes" may also sit inside a 422's detail[].loc; a parse settles that case.
        if b'"detail"' not in text:
            return "request-data"
        doc = _loads(text)
        return "response" if isinstance(doc, dict) and "detail" in doc else "request-data"
    # lazy: validating request_data does not load the answer checks (the OpenAPI answers' schemas)
    from dagkit.validate.response import guess_operation

    doc = _loads(text)
    if doc is not None and guess_operation(doc) is not None:
        return "response"
    return "response" if "response" in os.path.basename(path).lower() else "request-data"


def _loads(text: bytes) -> Any:
    import json

    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def boundary_content_type(head: bytes) -> str | None:
    """``multipart/form-data; boundary=...`` read from the first delimiter line of a body
    (``application/x-www-form-urlencoded`` for a body that starts ``request_data=``)."""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(_URLENCODED_HEAD):
        return "application/x-www-form-urlencoded"
    match = re.search(_DELIMITER_LINE, head)
    if match is None:
        return None
    boundary = match.group(1).decode("latin-1").replace("\\", "\\\\").replace('"', '\\"')
    return f'multipart/form-data; boundary="{boundary}"'


# --- validating ----------------------------------------------------------------------------------


class _Options(Record):
    __slots__ = ("content_type", "kind", "max_file_size", "operation", "status")
    kind: Kind | None
    content_type: str | None
    operation: str | None
    status: int | None
    max_file_size: int

    def __init__(
        self,
        kind: Kind | None,
        content_type: str | None,
        operation: str | None,
        status: int | None,
        max_file_size: int,
    ) -> None:
        _set = object.__setattr__
        _set(self, "kind", kind)
        _set(self, "content_type", content_type)
        _set(self, "operation", operation)
        _set(self, "status", status)
        _set(self, "max_file_size", max_file_size)


def validate_paths(
    paths: Iterable[str],
    *,
    kind: Kind | None = None,
    content_type: str | None = None,
    operation: str | None = None,
    status: int | None = None,
    max_file_size: int = limits.MAX_FILE_SIZE,
    jobs: int | None = None,
    exclude: Iterable[str] = (),
    skipped: list[str] | None = None,
) -> list[FileResult]:
    """One :class:`FileResult` per file that ``paths`` name (:func:`expand_paths`), in order.

    ``kind`` forces the kind of every file; ``content_type`` is the Content-Type of bodies
    (default: read from the body's first delimiter); ``operation`` and ``status`` say what a
    response answers (default: the status line of a capture, else guessed from the shape).
    ``jobs`` is the number of processes; None uses one per core (up to 4) only for many files
    (:data:`POOL_THRESHOLD`) on a machine that is not busy: only then does a pool pay for its
    start-up. ``exclude`` is as for :func:`expand_paths`. JSON files a directory walk or a
    pattern found that are none of dagkit's kinds (:func:`is_foreign`) are left out, and their
    paths appended to ``skipped`` when given.
    """
    files = _expand_all(paths, tuple(exclude))
    options = _Options(kind, content_type, operation, status, max_file_size)
    workers = _workers(jobs, len(files))
    if workers <= 1 or any(path == "-" for path, _ in files):
        found = [_validate_file(path, options, walked) for path, walked in files]
    else:
        found = _in_pool(files, options, workers)
    if skipped is not None:
        skipped += [path for (path, _), result in zip(files, found, strict=True) if result is None]
    return [result for result in found if result is not None]


def validate_file(
    path: str,
    *,
    kind: Kind | None = None,
    content_type: str | None = None,
    operation: str | None = None,
    status: int | None = None,
    max_file_size: int = limits.MAX_FILE_SIZE,
) -> FileResult:
    """The result for one file (``-`` is standard input); options as for :func:`validate_paths`.

    A file that cannot be read raises :class:`InputPathError`.
    """
    result = _validate_file(path, _Options(kind, content_type, operation, status, max_file_size))
    assert result is not None  # a file named is checked, whatever it holds
    return result


def _validate_file(path: str, options: _Options, walked: bool = False) -> FileResult | None:
    """The result for one file; None for a file a walk found that is not dagkit's."""
    name = STDIN_NAME if path == "-" else path
    if ".py" in path and options.kind is None and _is_python_source(path):
        return _validate_python(path)
    try:
        if path == "-":
            return _validate_stream(sys.stdin.buffer, name, options)
        with open(path, "rb") as stream:
            return _validate_stream(stream, name, options, walked)
    except IsADirectoryError:
        raise InputPathError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputPathError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _is_python_source(path: str) -> bool:
    # lazy: only a .py source needs the DAG, which brings networkx
    from dagkit.wire.serialize import is_python_source

    return is_python_source(path)


def _validate_python(source: str) -> FileResult:
    """A Python DAG source, loaded, built and checked; findings at the lines that made nodes."""
    # lazy: only a .py source needs the DAG, which brings networkx
    from dagkit.wire.serialize import check_source, split_source

    file = split_source(source)[0]
    try:
        _, findings = check_source(source)
    except SourceError as exc:
        findings = [finding("DK104", exc.reason, line=exc.line, file=file, hint=_PY_HINT)]
    except DagkitError as exc:
        findings = [finding("DK104", str(exc), file=file, hint=_PY_HINT)]
    return FileResult(source, "python", findings)


_PY_HINT = "run it with python to see the whole error; see `dagkit build --help` for sources"


def _validate_stream(
    stream: IO[bytes], name: str, options: _Options, walked: bool = False
) -> FileResult | None:
    head = stream.read(_HEAD)
    if walked and options.kind is None and is_foreign(head, name):
        return None
    lines = name.lower().endswith(JSON_LINES_SUFFIX)
    kind = options.kind or ("request-data" if lines else detect_kind(head, name))
    if kind in ("body", "http"):
        findings = _stream_findings(kind, head, stream, name, options)
    else:
        data = head + stream.read() if len(head) == _HEAD else head
        if kind == "response":
            findings = _response_findings(data, name, options)
        elif kind == "workflow":
            # lazy: validating request_data does not load the workflow checks
            from dagkit.validate.workflow import validate_workflow

            findings = validate_workflow(data, operation=options.operation, file=name)
        elif lines:
            findings = validate_request_lines(data, file=name)
        else:
            findings = [_json_lines_hint(f) for f in validate_request_data(data, file=name)]
    findings = cap_findings(findings)
    return FileResult(name, kind, [f if f.file else f.replace(file=name) for f in findings])


def _json_lines_hint(f: Finding) -> Finding:
    """A second document at the start of a line: most likely the JSON Lines ``dagkit build``
    prints for a DAG that plans several jobs, saved under a ``.json`` name."""
    if f.code == "DK100" and f.column == 1 and f.message.startswith("more text follows"):
        return f.replace(
            hint="one request_data per line (as `dagkit build` prints a DAG of several jobs) "
            "is JSON Lines: name the file .jsonl, which `dagkit validate` and `dagkit submit` "
            "read line by line"
        )
    return f


def _stream_findings(
    kind: Kind, head: bytes, stream: IO[bytes], name: str, options: _Options
) -> list[Finding]:
    blocks = _blocks(head, stream)
    if kind == "http":
        # lazy: validating request_data does not load the HTTP and multipart readers
        from dagkit.validate.capture import validate_http_request

        return validate_http_request(blocks, file=name, max_file_size=options.max_file_size)
    # lazy: validating request_data does not load the multipart reader
    from dagkit.validate.body import validate_body

    content_type = options.content_type or boundary_content_type(head)
    if content_type is None:
        return [
            finding(
                "DK400",
                "no Content-Type for this body, and no --boundary delimiter line to read one from",
                hint='pass --content-type "multipart/form-data; boundary=..."',
                file=name,
            )
        ]
    return validate_body(blocks, content_type, max_file_size=options.max_file_size, file=name)


def _blocks(head: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """The head already read, then the rest of the stream in large blocks."""
    if head:
        yield head
    while block := stream.read(_BLOCK):
        yield block


def _response_findings(data: bytes, name: str, options: _Options) -> list[Finding]:
    # lazy: validating request_data does not load the answer checks (the OpenAPI answers' schemas)
    from dagkit.validate import response

    capture = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if capture.startswith(b"HTTP/"):
        findings = response.validate_http_response(
            capture, operation=options.operation, status=options.status, file=name
        )
        # lines count from the file's first line, blank lines before the status line included
        skipped = data[: len(data) - len(capture)].count(b"\n")
        return [
            f.replace(line=f.line + skipped) if skipped and f.line is not None else f
            for f in findings
        ]
    operation, status = options.operation, options.status
    if operation is None or status is None:
        guessed = response.guess_operation(_loads(data))
        if guessed is None and operation is None:
            return [
                finding(
                    "DK503",
                    "cannot tell which operation this response answers from its shape",
                    hint="pass --operation and --status, e.g. --operation get_job --status 200",
                    file=name,
                )
            ]
        operation = operation or (guessed[0] if guessed else None)
        status = status or (guessed[1] if guessed else 200)
    assert operation is not None
    return response.validate_response(data, operation=operation, status=status, file=name)


# --- many files ----------------------------------------------------------------------------------


def _workers(jobs: int | None, count: int) -> int:
    """How many processes: as asked, else one per core only for many files and a quiet machine."""
    if jobs is not None:
        return max(1, min(jobs, count))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if count < POOL_THRESHOLD or not cores or cores < 2:
        return 1
    # On a busy machine the processes only take turns with others: measured slower there (load 3
    # on 2 cores: 1,000 files in 123 ms forked, 102 ms in one process).
    free = cores - (os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0)
    return min(4, cores) if free > 0.5 else 1


def _in_pool(
    files: list[tuple[str, bool]], options: _Options, workers: int
) -> list[FileResult | None]:
    # lazy: only many files fork (its pickle costs a file or two's start-up)
    from dagkit.core.forkmap import fork_map

    # Forked copies of this process inherit the modules already imported, so they start at once;
    # a file one of them could not check is checked again here, where its error is raised.
    return fork_map(lambda file: _validate_file(file[0], options, file[1]), files, workers)


__all__ = [
    "DIRECTORY_SUFFIXES",
    "KINDS",
    "WALKED_SUFFIXES",
    "FileResult",
    "InputPathError",
    "Kind",
    "boundary_content_type",
    "detect_kind",
    "expand_paths",
    "is_foreign",
    "validate_file",
    "validate_paths",
]
