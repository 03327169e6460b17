"""Every job rule's finding, word for word, on layouts at and around each rule's edge.

The messages and hints are what users read, so they are held to a golden file
(``tests/data/golden/rules-findings.json``). After a deliberate change, rewrite it with
``DAGKIT_UPDATE_GOLDEN=1 python -m pytest tests/test_rules_golden.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dagkit.model.rules import check_document

GOLDEN = Path(__file__).parent / "data" / "golden" / "rules-findings.json"


def node(name: str, type_: str, subtype: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "subtype": subtype, "settings": settings}


AUTO = node("Partitioner", "partition", "vlm", is_dynamic=True, allow_fast=True)
VLM = node("VLM", "partition", "vlm", is_dynamic=False)
HI_RES = node("HiRes", "partition", "unstructured_api", strategy="hi_res")
HI_RES_IMAGES = node(
    "HiRes", "partition", "unstructured_api", strategy="hi_res", extract_image_block_types=["Image"]
)
FAST = node("Fast", "partition", "unstructured_api", strategy="fast")
FAST_TABLES = node(
    "Fast", "partition", "unstructured_api", strategy="fast", pdf_infer_table_structure=True
)
FAST_NO_TABLES = node(
    "Fast", "partition", "unstructured_api", strategy="fast", pdf_infer_table_structure=False
)
IMG = node("Images", "prompter", "openai_image_description", provider_type="openai")
HTML = node("Tables", "prompter", "openai_table2html", provider_type="openai")
OCR = node("OCR", "prompter", "anthropic_ocr", provider_type="anthropic")
NER = node("NER", "prompter", "openai_ner", provider_type="openai")
EMBED = node("Embedder", "embed", "azure_openai", model_name="text-embedding-3-large")
COHERE = node("Cohere", "embed", "bedrock", model_name="cohere.embed-english-v3")
EXTRACT = node("Extractor", "structured_data_extractor", "llm")


def chunk(name: str = "Chunker", **settings: Any) -> dict[str, Any]:
    return node(name, "chunk", "chunk_by_title", **settings)


CHUNK = chunk(max_characters=1792)

CASES: dict[str, Any] = {
    "not an object": ["job_nodes"],
    "no nodes": {"job_nodes": []},
    "nodes not a list": {"job_nodes": {"a": 1}},
    "assumed option": {"job_nodes": [AUTO], "skip_preflight": True},
    "unreadable node": {"job_nodes": [AUTO, {"name": "x", "type": "chunk"}]},
    "node not an object": {"job_nodes": [AUTO, 7]},
    "settings null": {"job_nodes": [AUTO, {**CHUNK, "settings": None}]},
    "settings not an object": {"job_nodes": [AUTO, {**CHUNK, "settings": []}]},
    "id not a string": {"job_nodes": [AUTO, {**CHUNK, "id": 3}]},
    "swapped": {
        "job_nodes": [
            {**AUTO, "type": "vlm", "subtype": "partition"},
            7,
            {"type": "chunk_by_title", "subtype": "chunk", "settings": {"max_characters": 9}},
            {"name": "n", "type": "prompter", "subtype": 5},
        ]
    },
    "swapped, unnamed first": {"job_nodes": [{"type": "vlm", "subtype": "partition"}]},
    "first not a partitioner": {"job_nodes": [CHUNK, AUTO]},
    "first of unknown type": {"job_nodes": [node("Odd", "oddity", "x"), AUTO]},
    "duplicate names": {
        "job_nodes": [AUTO, {**CHUNK, "name": "Partitioner"}, {**EMBED, "name": "Partitioner"}]
    },
    "second chunker": {"job_nodes": [AUTO, CHUNK, chunk("Again", max_characters=10)]},
    "enrichment after chunker": {"job_nodes": [AUTO, CHUNK, NER]},
    "enrichment after embedder": {"job_nodes": [AUTO, CHUNK, EMBED, NER]},
    "enrichment after extractor": {"job_nodes": [AUTO, EXTRACT, NER]},
    "chunker after embedder": {"job_nodes": [AUTO, EMBED, CHUNK]},
    "unknown type in between": {"job_nodes": [AUTO, node("Odd", "oddity", "x"), CHUNK]},
    "order checked past an unknown type": {
        "job_nodes": [AUTO, CHUNK, node("Odd", "oddity", "x"), NER, EMBED, chunk("Late")]
    },
    "partitioner after an enrichment, unknown first": {
        "job_nodes": [node("Odd", "oddity", "x"), NER, AUTO]
    },
    "chunker first, then embedder": {"job_nodes": [CHUNK, COHERE]},
    "embedder without chunker": {"job_nodes": [AUTO, EMBED]},
    "embedder third without chunker": {"job_nodes": [AUTO, NER, EMBED]},
    "embedder fourth without chunker": {"job_nodes": [AUTO, NER, IMG, EMBED]},
    "extractor not last": {"job_nodes": [AUTO, EXTRACT, CHUNK]},
    "extractor last": {"job_nodes": [AUTO, CHUNK, EXTRACT]},
    "image enrichment after fast": {"job_nodes": [FAST, IMG]},
    "table_to_html after fast": {"job_nodes": [FAST, HTML]},
    "table_to_html after vlm": {"job_nodes": [VLM, HTML, CHUNK, EMBED]},
    "ner after fast": {"job_nodes": [FAST, NER]},
    "ocr after hi_res without images": {"job_nodes": [HI_RES, OCR, CHUNK, EMBED]},
    "ocr after hi_res with images": {"job_nodes": [HI_RES_IMAGES, OCR]},
    "ocr after auto": {"job_nodes": [AUTO, OCR]},
    "fast with table structure": {"job_nodes": [FAST_TABLES]},
    "fast without table structure": {"job_nodes": [FAST_NO_TABLES]},
    "hi_res with table structure": {
        "job_nodes": [
            node(
                "HiRes",
                "partition",
                "unstructured_api",
                strategy="hi_res",
                pdf_infer_table_structure=True,
            )
        ]
    },
    "chunk at the model's limit": {"job_nodes": [AUTO, chunk(max_characters=1792), COHERE]},
    "chunk one over the model's limit": {"job_nodes": [AUTO, chunk(max_characters=1793), COHERE]},
    "chunk over the limit as a float": {"job_nodes": [AUTO, chunk(max_characters=1793.0), COHERE]},
    "chunk size unset before embedder": {"job_nodes": [AUTO, chunk(), COHERE]},
    "chunk size unset before unknown model": {
        "job_nodes": [AUTO, chunk(), node("E", "embed", "azure_openai", model_name="mine")]
    },
    "chunk size unset, no embedder": {"job_nodes": [AUTO, chunk()]},
    "chunker after embedder, unset size": {"job_nodes": [AUTO, COHERE, chunk()]},
    "overlap equal to size": {"job_nodes": [AUTO, chunk(max_characters=100, overlap=100)]},
    "overlap just below size": {"job_nodes": [AUTO, chunk(max_characters=100, overlap=99)]},
    "combine just over size": {
        "job_nodes": [AUTO, chunk(max_characters=100, combine_text_under_n_chars=101)]
    },
    "combine equal to size": {
        "job_nodes": [AUTO, chunk(max_characters=100, combine_text_under_n_chars=100)]
    },
    "both chunker errors": {
        "job_nodes": [
            AUTO,
            chunk(max_characters=100.0, overlap=200.0, combine_text_under_n_chars=300),
        ]
    },
    "size zero": {"job_nodes": [AUTO, chunk(max_characters=0, overlap=5)]},
    "size one": {"job_nodes": [AUTO, chunk(max_characters=1, overlap=1)]},
    "size a boolean": {"job_nodes": [AUTO, chunk(max_characters=True, overlap=5)]},
    "size a fraction": {"job_nodes": [AUTO, chunk(max_characters=10.5, overlap=50)]},
    "overlap a boolean": {"job_nodes": [AUTO, chunk(max_characters=1, overlap=True)]},
}


def findings_of(doc: Any) -> list[dict[str, Any]]:
    out = []
    for f in check_document(doc):
        item = f.to_dict()
        item["node"] = [f.node.index, f.node.name] if f.node else None
        out.append(item)
    return out


def test_rule_findings_match_the_golden_file() -> None:
    got = {name: findings_of(doc) for name, doc in CASES.items()}
    if os.environ.get("DAGKIT_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got.keys() == expected.keys()
    for name in got:
        assert got[name] == expected[name], name
