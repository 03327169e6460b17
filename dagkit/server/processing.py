"""What the local server does to files: a small partitioner, chunker, embedder and enrichers.

The output has the shape the platform returns (a list of elements with ``type``,
``element_id``, ``text`` and ``metadata``) so that code reading real outputs can be tested
against it. The content is made honestly but simply: text-like files (txt, md, html, csv, json,
...) become titles, paragraphs, list items and tables; any other file becomes one element that
describes the file. Chunk, embed, enrichment and extract nodes change the elements visibly and
deterministically: the same input always gives the same output.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import html
import io
import json
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, ClassVar

from dagkit.core import limits
from dagkit.model.nodes import EMBEDDING_MODELS, Node, enrichment_task, partition_strategy

Element = dict[str, Any]

#: Dimensions used for an embedding model whose size the docs do not give.
FALLBACK_DIMENSIONS = 1024
#: Chunk size when a chunker does not set max_characters.
DEFAULT_MAX_CHARACTERS = 500
#: The most elements one file yields; a pathological input cannot blow up the output.
MAX_ELEMENTS = 10_000

FAST_IMAGE_MESSAGE = "The fast strategy is not available for image files"
_TEXT_LIKE = {".txt", ".text", ".md", ".markdown", ".rst", ".org", ".xml"}
_HTML = {".html", ".htm"}
_TABLES = {".csv": ",", ".tsv": "\t"}
_LIST_ITEM = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+(.*)$")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


class FileFailed(Exception):
    """This file cannot go through this node; the message is what failed-files reports."""


@dataclass(frozen=True)
class InputFile:
    """An uploaded file as the processors see it."""

    filename: str
    path: str
    size: int

    @property
    def extension(self) -> str:
        return limits.extension(self.filename)

    @property
    def filetype(self) -> str:
        return limits.guess_content_type(self.filename)


def run_node(node: Node, elements: list[Element] | None, source: InputFile) -> list[Element]:
    """The output of ``node`` for one file: partition nodes read ``source``, every other node
    transforms the previous node's ``elements``. Raises :class:`FileFailed`."""
    if node.type == "partition":
        return partition(node, source)
    items = elements or []
    if node.type == "chunk":
        return chunk(node, items)
    if node.type == "embed":
        return embed(node, items)
    if node.type == "prompter":
        return enrich(node, items)
    if node.type == "structured_data_extractor":
        return extract(node, items)
    raise FileFailed(f"node type {node.type!r} is not one the local server can run")


# --------------------------------------------------------------------------------- partition


def partition(node: Node, source: InputFile) -> list[Element]:
    strategy = partition_strategy(node)
    ext = source.extension
    if ext not in limits.SUPPORTED_EXTENSIONS and ext not in _TEXT_LIKE and ext != ".json":
        shown = ext or "a file without an extension"
        raise FileFailed(f"File type {shown} is not supported")
    if strategy == "fast" and ext in limits.IMAGE_EXTENSIONS:
        raise FileFailed(FAST_IMAGE_MESSAGE)
    if ext in limits.VLM_ONLY_EXTENSIONS and strategy not in ("vlm", "auto"):
        raise FileFailed(f"The {strategy or node.subtype} strategy cannot read {ext} files")
    with open(source.path, "rb") as f:
        raw = f.read()
    encoding = _setting(node, "encoding", str) or "utf-8"
    blocks = list(_blocks(source, raw, encoding))[:MAX_ELEMENTS]
    excluded = set(_setting(node, "exclude_elements", list) or ())
    meta = {"filename": source.filename, "filetype": source.filetype, "languages": ["eng"]}
    out = []
    for index, (type_, text, extra) in enumerate(blocks):
        if type_ in excluded:
            continue
        metadata = {**meta, **extra}
        out.append(_element(type_, text, metadata, source.filename, index))
    return out


Block = tuple[str, str, dict[str, Any]]


def _blocks(source: InputFile, raw: bytes, encoding: str) -> Iterator[Block]:
    ext = source.extension
    if ext in _HTML:
        yield from _html_blocks(_decode(raw, encoding))
    elif ext in _TABLES:
        yield _table_block(_decode(raw, encoding), _TABLES[ext])
    elif ext == ".json":
        yield from _json_blocks(_decode(raw, encoding))
    elif ext in (".md", ".markdown"):
        yield from _text_blocks(_decode(raw, encoding), markdown=True)
    elif ext in _TEXT_LIKE:
        yield from _text_blocks(_decode(raw, encoding), markdown=False)
    else:
        kind = "Image" if ext in limits.IMAGE_EXTENSIONS else "UncategorizedText"
        text = (
            f"{source.filename}: {source.size} bytes of {source.filetype} "
            "(the local dagkit server does not read the contents of this file type)"
        )
        yield kind, text, {}


def _decode(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding, errors="replace").lstrip("\ufeff")
    except LookupError:
        return raw.decode("utf-8", errors="replace").lstrip("\ufeff")


def _text_blocks(text: str, *, markdown: bool) -> Iterator[Block]:
    page = 1
    for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        if "\f" in paragraph:
            page += paragraph.count("\f")
            paragraph = paragraph.replace("\f", "\n")
        lines = [line.rstrip() for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        meta = {"page_number": page}
        if markdown and lines[0].lstrip().startswith("```"):
            body = [line for line in lines if not line.lstrip().startswith("```")]
            if body:
                yield "CodeSnippet", "\n".join(body), meta
            continue
        paragraph_lines: list[str] = []
        for line in lines:
            heading = _MD_HEADING.match(line) if markdown else None
            item = _LIST_ITEM.match(line)
            if heading or item:
                if paragraph_lines:
                    yield _paragraph(paragraph_lines, meta)
                    paragraph_lines = []
                if heading:
                    yield "Title", heading.group(2), meta
                elif item:
                    yield "ListItem", item.group(1).strip(), meta
            else:
                paragraph_lines.append(line.strip())
        if paragraph_lines:
            yield _paragraph(paragraph_lines, meta)


def _paragraph(lines: list[str], meta: dict[str, Any]) -> Block:
    text = " ".join(lines)
    if len(lines) == 1 and _looks_like_title(text):
        return "Title", text, meta
    return "NarrativeText", text, meta


def _looks_like_title(text: str) -> bool:
    return (
        len(text) <= 80
        and any(c.isalpha() for c in text)
        and text[-1] not in ".!?,;:"
        and len(text.split()) <= 12
    )


def _table_block(text: str, delimiter: str) -> Block:
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = [row for row in reader if row]
    except csv.Error:  # not a table after all (a NUL byte, a stray CR): keep the text
        rows = [[line] for line in text.splitlines() if line]
    cells = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    plain = "\n".join(" ".join(cell.strip() for cell in row) for row in rows)
    return "Table", plain, {"text_as_html": f"<table>{cells}</table>", "page_number": 1}


def _json_blocks(text: str) -> Iterator[Block]:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        yield from _text_blocks(text, markdown=False)
        return
    yield from _walk_json(doc, depth=0)


def _walk_json(value: Any, depth: int) -> Iterator[Block]:
    meta = {"page_number": 1}
    if depth > 20:
        yield "NarrativeText", json.dumps(value, ensure_ascii=False), meta
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                yield "Title", str(key), meta
                yield from _walk_json(item, depth + 1)
            else:
                yield "NarrativeText", f"{key}: {_scalar(item)}", meta
    elif isinstance(value, list):
        for item in value:
            yield from _walk_json(item, depth + 1)
    else:
        yield "NarrativeText", _scalar(value), meta


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class _HTMLBlocks(HTMLParser):
    """Headings become titles, paragraphs narrative text, list items list items, tables tables."""

    _BLOCKS: ClassVar[dict[str, str]] = {
        "p": "NarrativeText",
        "li": "ListItem",
        "pre": "CodeSnippet",
        "blockquote": "NarrativeText",
    }
    _SKIP: ClassVar[set[str]] = {"script", "style", "head", "template", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self._text: list[str] = []
        self._kind = "NarrativeText"
        self._skip_depth = 0
        self._table_depth = 0
        self._rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag == "table":
            self._flush()
            self._table_depth += 1
            if self._table_depth == 1:
                self._rows = []
        elif self._table_depth:
            if tag == "tr":
                self._rows.append([])
            elif tag in ("td", "th") and self._rows:
                self._rows[-1].append("")
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._kind = "Title"
        elif tag in self._BLOCKS or tag in ("div", "br", "section", "article", "ul", "ol"):
            self._flush()
            self._kind = self._BLOCKS.get(tag, "NarrativeText")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "table" and self._table_depth:
            self._table_depth -= 1
            if not self._table_depth:
                self._table()
        elif not self._table_depth and (
            re.fullmatch(r"h[1-6]", tag) or tag in self._BLOCKS or tag in ("div", "section")
        ):
            self._flush()
            self._kind = "NarrativeText"

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._table_depth:
            if self._rows and self._rows[-1]:
                self._rows[-1][-1] += data
            return
        self._text.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        if text:
            self.blocks.append((self._kind, text, {"page_number": 1}))

    def _table(self) -> None:
        rows = [[" ".join(c.split()) for c in row] for row in self._rows if row]
        if not rows:
            return
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        plain = "\n".join(" ".join(row) for row in rows)
        meta = {"text_as_html": f"<table>{cells}</table>", "page_number": 1}
        self.blocks.append(("Table", plain, meta))

    def close(self) -> None:
        super().close()
        self._flush()


def _html_blocks(text: str) -> list[Block]:
    parser = _HTMLBlocks()
    parser.feed(text)
    parser.close()
    return parser.blocks


def _element(type_: str, text: str, metadata: dict[str, Any], filename: str, index: int) -> Element:
    digest = hashlib.sha256(f"{filename}\0{index}\0{type_}\0{text}".encode()).hexdigest()
    return {"type": type_, "element_id": digest[:32], "text": text, "metadata": metadata}


def _setting(node: Node, key: str, type_: type) -> Any:
    """A setting of the expected JSON type, or None (booleans are not numbers here)."""
    value = node.settings.get(key) if isinstance(node.settings, dict) else None
    if type_ is bool:
        return value if isinstance(value, bool) else None
    return value if isinstance(value, type_) and not isinstance(value, bool) else None


def _int_setting(node: Node, key: str) -> int | None:
    value = node.settings.get(key) if isinstance(node.settings, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# ------------------------------------------------------------------------------------- chunk


def chunk(node: Node, elements: list[Element]) -> list[Element]:
    """Merge consecutive elements into CompositeElement chunks of at most ``max_characters``,
    splitting any longer text; by_title starts a chunk at each title, by_page at each page."""
    _check_chunk_sizes(node)
    max_chars = max(1, _int_setting(node, "max_characters") or DEFAULT_MAX_CHARACTERS)
    soft = min(_int_setting(node, "new_after_n_chars") or max_chars, max_chars)
    overlap = min(max(0, _int_setting(node, "overlap") or 0), max_chars - 1)
    isolate_table = _setting(node, "isolate_table", bool) is not False
    keep_orig = _setting(node, "include_orig_elements", bool) is True
    by_title = node.subtype == "chunk_by_title"
    by_page = node.subtype == "chunk_by_page"

    chunks: list[Element] = []
    group: list[Element] = []
    length = 0

    def emit(type_: str, text: str, members: list[Element]) -> None:
        first = members[0]["metadata"]
        metadata: dict[str, Any] = {
            k: first[k] for k in ("filename", "filetype", "languages", "page_number") if k in first
        }
        if keep_orig:
            metadata["orig_elements"] = _pack(members)
        chunks.append(_element(type_, text, metadata, str(first.get("filename")), len(chunks)))

    def flush() -> None:
        nonlocal group, length
        if group:
            emit("CompositeElement", "\n\n".join(e["text"] for e in group), group)
        group, length = [], 0

    for element in elements:
        text = str(element.get("text") or "").strip()
        if not text:
            continue
        element = {**element, "text": text}
        page = element.get("metadata", {}).get("page_number")
        if (by_title and element.get("type") == "Title") or (
            by_page and group and group[-1].get("metadata", {}).get("page_number") != page
        ):
            flush()
        if element.get("type") == "Table" and isolate_table:
            flush()
            pieces = list(_split(text, max_chars, overlap))
            for piece in pieces:
                emit("Table" if len(pieces) == 1 else "TableChunk", piece, [element])
            continue
        if len(text) > max_chars:
            flush()
            for piece in _split(text, max_chars, overlap):
                emit("CompositeElement", piece, [element])
            continue
        added = len(text) + (2 if group else 0)
        if group and (length + added > max_chars or length >= soft):
            flush()
            added = len(text)
        group.append(element)
        length += added
    flush()
    return chunks


def _check_chunk_sizes(node: Node) -> None:
    """Fail the node where the open-source chunker the platform runs raises (finding DK316):
    the platform accepts such a job, and it fails when it runs."""
    size = _int_setting(node, "max_characters")
    if size is None or size <= 0:
        return  # the chunker's default, or a value refused before the job was made
    overlap = _int_setting(node, "overlap")
    if overlap is not None and overlap >= size:
        raise ValueError(f"overlap ({overlap}) must be less than max_characters ({size})")
    combine = _int_setting(node, "combine_text_under_n_chars")
    if combine is not None and combine > size:
        raise ValueError(
            f"combine_text_under_n_chars ({combine}) must not exceed max_characters ({size})"
        )


def _split(text: str, max_chars: int, overlap: int) -> Iterator[str]:
    """Pieces of at most ``max_chars``, cut at whitespace where one is near the end, each
    repeating the last ``overlap`` characters of the one before."""
    start = 0
    while start < len(text):
        end = min(start + max_chars, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + max_chars // 2, end)
            if cut > start:
                end = cut
        piece = text[start:end].strip()
        if piece:
            yield piece
        if end >= len(text):
            return
        start = max(end - overlap, start + 1)


def _pack(elements: list[Element]) -> str:
    """Original elements as the platform sends them: gzipped JSON, base64-encoded."""
    raw = json.dumps(elements, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")


# ------------------------------------------------------------------------------------- embed


def embed(node: Node, elements: list[Element]) -> list[Element]:
    """Add ``embeddings``: a unit vector of the model's dimensions, seeded by the text."""
    dimensions = embedding_dimensions(node)
    return [
        {**e, "embeddings": pseudo_embedding(str(e.get("text") or ""), dimensions)}
        for e in elements
    ]


def embedding_dimensions(node: Node) -> int:
    model = node.settings.get("model_name") if isinstance(node.settings, dict) else None
    known = EMBEDDING_MODELS.get(node.subtype, {})
    if isinstance(model, str) and model in known:
        return known[model].dimensions
    return FALLBACK_DIMENSIONS


def pseudo_embedding(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector: the same text always gives the same vector."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")
    rng = random.Random(seed)
    vector = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [round(x / norm, 8) for x in vector]


# --------------------------------------------------------------------------- enrich, extract


def enrich(node: Node, elements: list[Element]) -> list[Element]:
    """Record the enrichment on every element; NER lists capitalised words as entities and
    table-to-HTML gives tables an HTML rendering. No model is called."""
    task = enrichment_task(node) or "unknown"
    note = {"node": node.name, "subtype": node.subtype, "task": task}
    step: Callable[[Element], dict[str, Any]] = _TASKS.get(task, lambda e: {})
    out = []
    for element in elements:
        metadata = dict(element.get("metadata") or {})
        metadata["enrichments"] = [*metadata.get("enrichments", []), note]
        metadata.update(step({**element, "metadata": metadata}))
        out.append({**element, "metadata": metadata})
    return out


def _entities(element: Element) -> dict[str, Any]:
    words = re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]{2,}\b", str(element.get("text") or ""))
    unique = list(dict.fromkeys(words))[:50]
    return {
        "entities": {
            "items": [{"entity": w, "type": "UNKNOWN"} for w in unique],
            "relationships": [],
        }
    }


def _table_html(element: Element) -> dict[str, Any]:
    if element.get("type") != "Table" or "text_as_html" in element["metadata"]:
        return {}
    rows = str(element.get("text") or "").split("\n")
    cells = "".join(f"<tr><td>{html.escape(row)}</td></tr>" for row in rows)
    return {"text_as_html": f"<table>{cells}</table>"}


_TASKS: dict[str, Callable[[Element], dict[str, Any]]] = {
    "ner": _entities,
    "table_to_html": _table_html,
}


def extract(node: Node, elements: list[Element]) -> list[Element]:
    """Add ``extracted_data``: regex nodes run their patterns on each element's text; LLM
    nodes (no model here) add an empty object."""
    patterns = _regex_patterns(node) if node.subtype == "regex" else None
    out = []
    for element in elements:
        data: dict[str, Any] = {}
        if patterns is not None:
            text = str(element.get("text") or "")
            data = {
                name: [m.group(0) for m in pattern.finditer(text)] for name, pattern in patterns
            }
        metadata = {**(element.get("metadata") or {}), "extracted_data": data}
        out.append({**element, "metadata": metadata})
    return out


def _regex_patterns(node: Node) -> list[tuple[str, re.Pattern[str]]]:
    raw = node.settings.get("regex_patterns") if isinstance(node.settings, dict) else None
    out = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        name, pattern = item.get("name"), item.get("pattern")
        if not (isinstance(name, str) and isinstance(pattern, str)):
            continue
        try:
            out.append((name, re.compile(pattern)))
        except re.error as exc:
            raise FileFailed(f"regex pattern {name!r} does not compile: {exc}") from None
    return out
