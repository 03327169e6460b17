"""The local partitioner, chunker, embedder, enrichers and extractors (real files in tmp_path)."""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagkit.model.nodes import Node
from dagkit.server import processing
from dagkit.server.processing import FileFailed, InputFile

HI_RES = Node("P", "partition", "unstructured_api", {"strategy": "hi_res"})
FAST = Node("P", "partition", "unstructured_api", {"strategy": "fast"})
AUTO = Node("P", "partition", "vlm", {"is_dynamic": True, "allow_fast": True})
TMP = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def source(tmp_path: Path, name: str, data: bytes) -> InputFile:
    path = tmp_path / "input"
    path.write_bytes(data)
    return InputFile(name, str(path), len(data))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def elements(*texts: str, type_: str = "NarrativeText", page: int = 1) -> list[dict[str, Any]]:
    meta = {"filename": "f.txt", "filetype": "text/plain", "page_number": page}
    return [
        {"type": type_, "element_id": str(i), "text": t, "metadata": dict(meta)}
        for i, t in enumerate(texts)
    ]


# ------------------------------------------------------------------------- partition


def test_text_file_gives_titles_paragraphs_and_list_items(tmp_path: Path) -> None:
    text = "Annual Report\n\nSales grew.\nCosts fell.\n\n- one\n- two\n\n1. first\n"
    out = processing.partition(HI_RES, source(tmp_path, "r.txt", text.encode()))
    assert [(e["type"], e["text"]) for e in out] == [
        ("Title", "Annual Report"),
        ("NarrativeText", "Sales grew. Costs fell."),
        ("ListItem", "one"),
        ("ListItem", "two"),
        ("ListItem", "first"),
    ]
    assert out[0]["metadata"] == {
        "filename": "r.txt",
        "filetype": "text/plain",
        "languages": ["eng"],
        "page_number": 1,
    }
    assert len({e["element_id"] for e in out}) == len(out)
    assert all(re.fullmatch(r"[0-9a-f]{32}", e["element_id"]) for e in out)


def test_markdown_html_csv_and_json(tmp_path: Path) -> None:
    md = processing.partition(
        HI_RES, source(tmp_path, "n.md", b"# Head\n\nBody text here.\n\n```\ncode()\n```\n")
    )
    assert [(e["type"], e["text"]) for e in md] == [
        ("Title", "Head"),
        ("NarrativeText", "Body text here."),
        ("CodeSnippet", "code()"),
    ]
    page = b"<html><head><style>x{}</style></head><body><h2>T</h2><p>P &amp; Q</p>"
    page += b"<ul><li>L</li></ul><table><tr><th>a</th><td>1</td></tr></table></body></html>"
    got = processing.partition(HI_RES, source(tmp_path, "p.html", page))
    assert [(e["type"], e["text"]) for e in got] == [
        ("Title", "T"),
        ("NarrativeText", "P & Q"),
        ("ListItem", "L"),
        ("Table", "a 1"),
    ]
    assert got[3]["metadata"]["text_as_html"] == "<table><tr><td>a</td><td>1</td></tr></table>"
    table = processing.partition(HI_RES, source(tmp_path, "t.csv", b"name,qty\n<b>,2\n"))
    assert table[0]["type"] == "Table" and table[0]["text"] == "name qty\n<b> 2"
    assert "<td>&lt;b&gt;</td>" in table[0]["metadata"]["text_as_html"]
    doc = processing.partition(HI_RES, source(tmp_path, "d.json", b'{"a": {"b": 1}, "c": "x"}'))
    assert [(e["type"], e["text"]) for e in doc] == [
        ("Title", "a"),
        ("NarrativeText", "b: 1"),
        ("NarrativeText", "c: x"),
    ]


def test_other_types_give_one_element_describing_the_file(tmp_path: Path) -> None:
    out = processing.partition(HI_RES, source(tmp_path, "deck.pdf", b"%PDF-1.7 ..."))
    assert len(out) == 1 and out[0]["type"] == "UncategorizedText"
    assert out[0]["metadata"]["filetype"] == "application/pdf"
    assert "deck.pdf" in out[0]["text"]
    image = processing.partition(AUTO, source(tmp_path, "scan.png", b"\x89PNG"))
    assert image[0]["type"] == "Image"


def test_files_the_dag_cannot_process(tmp_path: Path) -> None:
    with pytest.raises(FileFailed, match=r"^The fast strategy is not available for image files$"):
        processing.partition(FAST, source(tmp_path, "scan.JPG", b"\xff\xd8"))
    with pytest.raises(FileFailed, match=r"\.exe"):
        processing.partition(HI_RES, source(tmp_path, "tool.exe", b"MZ"))
    with pytest.raises(FileFailed, match=r"\.gif"):
        processing.partition(HI_RES, source(tmp_path, "anim.gif", b"GIF89a"))
    assert processing.partition(AUTO, source(tmp_path, "anim.gif", b"GIF89a"))


def test_exclude_elements_drops_those_types(tmp_path: Path) -> None:
    node = Node(
        "P", "partition", "unstructured_api", {"strategy": "fast", "exclude_elements": ["Title"]}
    )
    out = processing.partition(node, source(tmp_path, "r.txt", b"Head\n\nSome text here."))
    assert [e["type"] for e in out] == ["NarrativeText"]


# Words without list markers ("- ", "1. "), which the partitioner strips on purpose.
_WORDS = st.lists(
    st.text(alphabet="abcxyzABC,;!?", min_size=1, max_size=12), min_size=1, max_size=40
)
_SEPS = st.sampled_from([" ", "\n", "\n\n", "\r\n", "  \n\n "])


@TMP
@given(words=_WORDS, seps=st.lists(_SEPS, min_size=40, max_size=40))
def test_text_partitioning_keeps_every_character(
    tmp_path: Path, words: list[str], seps: list[str]
) -> None:
    text = "".join(w + s for w, s in zip(words, seps, strict=False))
    out = processing.partition(HI_RES, source(tmp_path, "t.txt", text.encode()))
    assert squeeze("".join(e["text"] for e in out)) == squeeze(text)
    assert all(e["text"].strip() for e in out)


@TMP
@given(
    data=st.binary(max_size=400),
    ext=st.sampled_from([".txt", ".md", ".html", ".csv", ".tsv", ".json", ".xml", ".pdf"]),
)
def test_partitioning_any_bytes_never_crashes(tmp_path: Path, data: bytes, ext: str) -> None:
    out = processing.partition(HI_RES, source(tmp_path, "f" + ext, data))
    assert all(isinstance(e["text"], str) and e["metadata"]["filename"] == "f" + ext for e in out)
    json.dumps(out)


@TMP
@given(
    cells=st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=4), min_size=1, max_size=5)
)
def test_html_paragraph_text_survives_escaping(tmp_path: Path, cells: list[list[str]]) -> None:
    words = [" ".join(row).strip() for row in cells]
    words = [w for w in words if w.strip()]
    page = "".join(f"<p>{html.escape(w)}</p>" for w in words)
    out = processing.partition(HI_RES, source(tmp_path, "p.html", page.encode()))
    assert [e["text"] for e in out] == [" ".join(w.split()) for w in words if w.split()]


# ------------------------------------------------------------------------------ chunk


def chunker(subtype: str = "chunk_by_character", **settings: Any) -> Node:
    return Node("C", "chunk", subtype, settings)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(alphabet="ab c\n", min_size=0, max_size=300), max_size=12),
    max_chars=st.integers(1, 120),
)
def test_chunks_fit_and_lose_nothing(texts: list[str], max_chars: int) -> None:
    out = processing.chunk(chunker(max_characters=max_chars), elements(*texts))
    assert all(0 < len(c["text"]) <= max_chars for c in out)
    assert squeeze("".join(c["text"] for c in out)) == squeeze("".join(texts))
    assert out == processing.chunk(chunker(max_characters=max_chars), elements(*texts))


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(alphabet="abcd ", min_size=1, max_size=400),
    size=st.integers(5, 60),
    overlap=st.integers(0, 20),
)
def test_split_pieces_overlap_as_asked(text: str, size: int, overlap: int) -> None:
    overlap = min(overlap, size - 1)
    out = processing.chunk(chunker(max_characters=size, overlap=overlap), elements(text))
    assert all(len(c["text"]) <= size for c in out)
    if not overlap:
        assert squeeze("".join(c["text"] for c in out)) == squeeze(text)


def test_chunk_by_title_starts_at_titles_and_tables_stay_alone() -> None:
    items = elements("Intro", "Para one.", "Second", "Para two.")
    items[0]["type"] = items[2]["type"] = "Title"
    out = processing.chunk(chunker("chunk_by_title", max_characters=1000), items)
    assert [c["text"] for c in out] == ["Intro\n\nPara one.", "Second\n\nPara two."]
    assert all(c["type"] == "CompositeElement" for c in out)
    table = elements("a 1\nb 2", type_="Table")
    mixed = processing.chunk(chunker(max_characters=1000), elements("x") + table + elements("y"))
    assert [c["type"] for c in mixed] == ["CompositeElement", "Table", "CompositeElement"]


def test_chunk_by_page_and_original_elements() -> None:
    items = elements("p1") + elements("p2", page=2)
    out = processing.chunk(
        chunker("chunk_by_page", max_characters=100, include_orig_elements=True), items
    )
    assert [c["text"] for c in out] == ["p1", "p2"]
    assert [c["metadata"]["page_number"] for c in out] == [1, 2]
    orig = json.loads(gzip.decompress(base64.b64decode(out[1]["metadata"]["orig_elements"])))
    assert orig[0]["text"] == "p2"


def test_new_after_n_chars_is_a_soft_limit() -> None:
    out = processing.chunk(
        chunker(max_characters=100, new_after_n_chars=5), elements("aaaaaa", "b", "c")
    )
    assert [c["text"] for c in out] == ["aaaaaa", "b\n\nc"]


# ------------------------------------------------------------------------------ embed


@settings(max_examples=30, deadline=None)
@given(text=st.text(max_size=200), dims=st.sampled_from([8, 384, 1536]))
def test_pseudo_embeddings_are_deterministic_unit_vectors(text: str, dims: int) -> None:
    vector = processing.pseudo_embedding(text, dims)
    assert len(vector) == dims
    assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, abs_tol=1e-5)
    assert vector == processing.pseudo_embedding(text, dims)


def test_embed_uses_the_model_dimensions() -> None:
    node = Node("E", "embed", "voyageai", {"model_name": "voyage-3-lite"})
    out = processing.embed(node, elements("one", "two"))
    assert [len(e["embeddings"]) for e in out] == [512, 512]
    assert out[0]["embeddings"] != out[1]["embeddings"]
    unknown = Node("E", "embed", "ibm", {"model_name": "ibm/slate-125m-english-rtrvr-v2"})
    assert (
        len(processing.embed(unknown, elements("x"))[0]["embeddings"])
        == processing.FALLBACK_DIMENSIONS
    )


# ---------------------------------------------------------------- enrich and extract


def test_enrichment_is_recorded_and_ner_finds_names() -> None:
    ner = Node("N", "prompter", "openai_ner", {"provider_type": "openai", "model": "gpt-4o"})
    out = processing.enrich(ner, elements("We met Alice and Bob in Paris."))
    assert out[0]["metadata"]["enrichments"] == [
        {"node": "N", "subtype": "openai_ner", "task": "ner"}
    ]
    names = [i["entity"] for i in out[0]["metadata"]["entities"]["items"]]
    assert names == ["Alice", "Bob", "Paris"]
    html_node = Node("H", "prompter", "twopass_table2html", {})
    table = processing.enrich(html_node, elements("a 1\nb 2", type_="Table"))
    assert (
        table[0]["metadata"]["text_as_html"]
        == "<table><tr><td>a 1</td></tr><tr><td>b 2</td></tr></table>"
    )


def test_regex_extraction_and_llm_placeholder() -> None:
    node = Node(
        "X",
        "structured_data_extractor",
        "regex",
        {"regex_patterns": [{"name": "email", "pattern": r"[\w.]+@[\w.]+"}]},
    )
    out = processing.extract(node, elements("Write to a@b.io or c@d.org."))
    assert out[0]["metadata"]["extracted_data"] == {"email": ["a@b.io", "c@d.org."]}
    llm = Node(
        "X", "structured_data_extractor", "llm", {"schema_to_extract": {"extraction_guidance": "x"}}
    )
    assert processing.extract(llm, elements("t"))[0]["metadata"]["extracted_data"] == {}
    broken = Node(
        "X",
        "structured_data_extractor",
        "regex",
        {"regex_patterns": [{"name": "n", "pattern": "("}]},
    )
    with pytest.raises(FileFailed, match="does not compile"):
        processing.extract(broken, elements("t"))
