"""DAG ⇄ request_data, and the DAG sources a user can point the CLI at.

request_data is canonical: compact separators, a node's keys in the order name, type, subtype,
settings (then id), settings in the order given, non-ASCII text as is, and numbers exactly as
they were written. The same DAG always gives the same bytes, and
``to_request_data(from_request_data(s)) == s`` for every canonical ``s``.
"""

from __future__ import annotations

import json
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagkit.core import jsonlocate, jsontext
from dagkit.errors import DagError, RequestDataError, SourceError
from dagkit.findings import DocPath, Finding, finding
from dagkit.model.base import recording_origins
from dagkit.model.dag import JobDAG, as_dag
from dagkit.model.nodes import Node, node_from_dict


@dataclass(frozen=True)
class TemplateJob:
    """A job that runs a workflow template instead of a custom DAG."""

    template_id: str
    skip_preflight: bool | None = None


def to_request_data(job: JobDAG | TemplateJob | Node | list[Node]) -> str:
    """The request_data text of one job. A DAG that plans into several jobs is refused: use
    :func:`plan_request_data` for those."""
    if isinstance(job, TemplateJob):
        doc: dict[str, Any] = {"template_id": job.template_id}
        return _dump(doc, job.skip_preflight)
    dag = as_dag(job)
    jobs = dag.plan()
    if len(jobs) != 1:
        raise DagError(
            f"this DAG plans into {len(jobs)} jobs; use plan_request_data() for one "
            "request_data per job"
        )
    return _nodes_request_data(jobs[0], dag.skip_preflight)


def plan_request_data(job: JobDAG | TemplateJob | Node | list[Node]) -> list[str]:
    """One request_data text per job the DAG plans into, in :meth:`JobDAG.plan` order."""
    if isinstance(job, TemplateJob):
        return [to_request_data(job)]
    dag = as_dag(job)
    return [_nodes_request_data(nodes, dag.skip_preflight) for nodes in dag.plan()]


def _nodes_request_data(nodes: list[Node], skip_preflight: bool | None) -> str:
    return _dump({"job_nodes": [n.to_dict() for n in nodes]}, skip_preflight)


def _dump(doc: dict[str, Any], skip_preflight: bool | None) -> str:
    if skip_preflight is not None:
        doc["skip_preflight"] = skip_preflight
    try:
        return jsontext.dumps(doc)
    except (TypeError, ValueError) as exc:
        raise DagError(f"a node setting cannot be written as JSON: {exc}") from None


def from_request_data(text: str | bytes) -> JobDAG | TemplateJob:
    """Parse request_data into a chain :class:`JobDAG` (or a :class:`TemplateJob`).

    Parsing is lenient about settings (``check()`` judges them) but needs the shape it can
    build from: an object with ``job_nodes`` (a list of nodes with string name, type and
    subtype) or ``template_id``. Anything else raises :class:`RequestDataError` with findings.
    """
    doc = parse_json(text)
    if not isinstance(doc, dict):
        raise _bad(f"request_data must be a JSON object, not {_json_type(doc)}", (), "DK202")
    skip = doc.get("skip_preflight")
    if skip is not None and not isinstance(skip, bool):
        raise _bad("skip_preflight must be true or false", ("skip_preflight",), "DK202")
    has_nodes, has_template = "job_nodes" in doc, "template_id" in doc
    if has_nodes == has_template:
        raise _bad(
            "request_data needs exactly one of template_id and job_nodes"
            + (", not both" if has_nodes else ""),
            (),
            "DK207",
        )
    if has_template:
        template_id = doc["template_id"]
        if not isinstance(template_id, str):
            raise _bad("template_id must be a string", ("template_id",), "DK202")
        return TemplateJob(template_id, skip)
    raw_nodes = doc["job_nodes"]
    if not isinstance(raw_nodes, list):
        raise _bad("job_nodes must be a list of nodes", ("job_nodes",), "DK202")
    nodes = []
    for i, raw in enumerate(raw_nodes):
        node = node_from_dict(raw)
        if node is None:
            raise _bad(
                f"job_nodes[{i}] is not a node: it needs string name, type and subtype, "
                "and settings that are an object",
                ("job_nodes", i),
                "DK202",
            )
        nodes.append(node)
    return JobDAG.chain(*nodes, skip_preflight=skip)


def parse_json(text: str | bytes) -> Any:
    """JSON with numbers kept as written; bad JSON raises :class:`RequestDataError` (DK100)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RequestDataError(
                f"request_data is not UTF-8 (byte {exc.start})",
                [finding("DK102", f"invalid UTF-8 at byte {exc.start}")],
            ) from None
    if text.startswith("\ufeff"):  # a BOM, as editors on some systems write: validate skips it
        text = text[1:]
    try:
        return jsontext.loads(text)
    except json.JSONDecodeError as exc:
        message = (
            f"request_data is not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"
        )
        raise RequestDataError(
            message, [finding("DK100", exc.msg, line=exc.lineno, column=exc.colno)]
        ) from None
    except (ValueError, RecursionError) as exc:
        code = "DK103" if isinstance(exc, RecursionError) else "DK100"
        message = "nests too deeply" if code == "DK103" else str(exc)
        raise RequestDataError(f"request_data {message}", [finding(code, message)]) from None


def _bad(message: str, path: DocPath, code: str) -> RequestDataError:
    return RequestDataError(message, [finding(code, message, path=path)])


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def is_python_source(source: str | Path) -> bool:
    """Whether a DAG source is Python (``path.py`` or ``path.py:attr``), which is built, rather
    than a request_data ``.json`` file, which is sent byte for byte. The one place that says so."""
    text = str(source)
    return text.endswith(".py") or ".py:" in text


def split_source(source: str | Path) -> tuple[str, str | None]:
    """A DAG source's file name, as written, and, for ``path.py:attr``, the attribute."""
    text = str(source)
    if ".py:" not in text:
        return text, None
    file, _, attr = text.rpartition(":")
    return file, attr


def is_json_lines(source: str | Path) -> bool:
    """Whether a source is JSON Lines of request_data (``*.jsonl``)."""
    return str(source).lower().endswith(jsontext.JSON_LINES_SUFFIX)


@dataclass(frozen=True)
class JobLines:
    """The jobs of a JSON Lines file: each line's request_data text (sent as written), the
    job it loads as, and its line in the file."""

    texts: tuple[str, ...]
    jobs: tuple[JobDAG | TemplateJob, ...]
    lines: tuple[int, ...]


def read_job_lines(path: str | Path) -> JobLines:
    """Load a JSON Lines file of request_data; a line that does not load is a
    :class:`SourceError` at its line and column, a file without a line one too."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file", missing=True) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from None
    texts, jobs, numbers = [], [], []
    for number, line in jsontext.json_lines(text):
        try:
            jobs.append(from_request_data(line))
        except RequestDataError as exc:
            first = exc.findings[0] if exc.findings else None
            column = f":{first.column}" if first and first.column else ""
            raise SourceError(f"{path}:{number}{column}: {exc}") from None
        texts.append(line)
        numbers.append(number)
    if not texts:
        raise SourceError(f"{path}: no request_data line in this JSON Lines file")
    return JobLines(tuple(texts), tuple(jobs), tuple(numbers))


def read_source(source: str | Path) -> tuple[JobDAG | TemplateJob | JobLines, str | None]:
    """Load a DAG source and say what is sent for it: for a request_data ``.json`` source its
    text as written (byte for byte, a BOM aside; read once, the text that was checked), None for
    a Python source (its DAG is serialized). A ``.jsonl`` source is the jobs of its lines
    (:class:`JobLines`), each sent as written. Every command that sends a source asks here."""
    if is_json_lines(source):
        return read_job_lines(source), None
    job, _, text = _load(source)
    return job, text


def load_dag(source: str | Path) -> JobDAG | TemplateJob:
    """Load a DAG from a source: a ``.json`` file holding request_data, or ``path.py[:attr]``
    (attribute ``dag`` by default) naming a JobDAG, a Node, a list of Nodes, a TemplateJob, or a
    function that returns one."""
    return _load(source)[0]


def _load(source: str | Path) -> tuple[JobDAG | TemplateJob, dict[int, int], str | None]:
    """The DAG; for a Python source, the line that made each node (by ``id``); for a
    request_data source, its text."""
    file, attr = split_source(source)
    path = Path(file)
    if not path.is_file():
        raise SourceError(f"{path}: no such file", missing=True)
    if is_python_source(source):
        return (*_load_python(path, attr or "dag"), None)
    if is_json_lines(path):
        raise SourceError(
            f"{path}: JSON Lines hold several jobs' request_data, and this takes one DAG (a "
            ".json request_data file or path.py); `dagkit validate` and `dagkit submit` read "
            "JSON Lines"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        job = from_request_data(data)
    except RequestDataError as exc:
        first = exc.findings[0] if exc.findings else None
        where = f":{first.line}:{first.column}" if first and first.line else ""
        raise SourceError(f"{path}{where}: {exc}") from None
    return job, {}, data.decode("utf-8-sig")  # it parsed, so it is UTF-8


def check_source(source: str | Path) -> tuple[JobDAG | TemplateJob, list[Finding]]:
    """Load a DAG source and check it: every finding carries the source as its file and, for
    a ``.json`` source, the line and column its pointer names there; for a Python source, the
    line of the call that made the node it concerns."""
    job, origins, text = _load(source)
    findings = job.check() if isinstance(job, JobDAG) else []
    if is_python_source(source):
        file = split_source(source)[0]
        lines = _node_lines(job, origins) if isinstance(job, JobDAG) and findings else {}
        return job, [_at_node_line(f, file, lines) for f in findings]
    return job, jsonlocate.place(findings, text if findings else None, file=str(source))


def _node_lines(dag: JobDAG, origins: dict[int, int]) -> dict[tuple[int, str], int]:
    """(index in its job, name) -> the line that made the node, for every planned job."""
    try:
        jobs = dag.plan()
    except DagError:
        jobs = []  # a shape that plans into no job: its findings name no node
    lines: dict[tuple[int, str], int] = {}
    for nodes in jobs:
        for index, node in enumerate(nodes):
            if id(node) in origins:
                lines.setdefault((index, node.name), origins[id(node)])
    return lines


def _at_node_line(f: Finding, file: str, lines: dict[tuple[int, str], int]) -> Finding:
    line = lines.get((f.node.index, f.node.name)) if f.node is not None else None
    return f.replace(file=f.file or file, line=line if line is not None else f.line, column=None)


def _load_python(path: Path, attr: str) -> tuple[JobDAG | TemplateJob, dict[int, int]]:
    try:
        with recording_origins(str(path)) as origins:
            namespace = runpy.run_path(str(path), run_name="__dagkit_source__")
    except SyntaxError as exc:
        raise SourceError(
            f"{path}:{exc.lineno}:{exc.offset}: syntax error: {exc.msg}",
            reason=f"syntax error: {exc.msg}",
            line=exc.lineno,
        ) from None
    except Exception as exc:  # the user's code failed: say where, without our traceback
        line = _user_line(exc, path)
        reason = f"{type(exc).__name__}: {exc}"
        raise SourceError(
            f"{path}{f':{line}' if line else ''}: {reason}", reason=reason, line=line
        ) from None
    if attr not in namespace:
        found = sorted(
            k for k, v in namespace.items() if isinstance(v, JobDAG | Node | TemplateJob)
        )
        hint = f"; it defines {', '.join(found)}" if found else ""
        reason = f"no attribute {attr!r}{hint} (use {path}:NAME)"
        raise SourceError(f"{path}: {reason}", reason=reason, missing=True)
    value = namespace[attr]
    if callable(value) and not isinstance(value, JobDAG | Node | TemplateJob):
        try:
            with recording_origins(str(path)) as called:
                value = value()
        except Exception as exc:
            reason = f"{attr}() failed: {type(exc).__name__}: {exc}"
            raise SourceError(f"{path}: {reason}", reason=reason) from None
        origins.update(called)
    if isinstance(value, TemplateJob):
        return value, origins
    try:
        return as_dag(value), origins
    except DagError as exc:
        raise SourceError(f"{path}:{attr}: {exc}", reason=str(exc)) from None


def _user_line(exc: BaseException, path: Path) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename) == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
