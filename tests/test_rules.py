"""The job rules the docs state in prose, on node lists and through JobDAG.check()."""

from __future__ import annotations

import pytest

from dagkit.dag import JobDAG
from dagkit.findings import Finding
from dagkit.nodes import Node
from dagkit.rules import check_chain, check_document

AUTO = Node("Partitioner", "partition", "vlm", {"is_dynamic": True, "allow_fast": True})
VLM = Node("VLM", "partition", "vlm", {"is_dynamic": False})
HI_RES = Node("HiRes", "partition", "unstructured_api", {"strategy": "hi_res"})
FAST = Node("Fast", "partition", "unstructured_api", {"strategy": "fast"})
IMG = Node(
    "Images",
    "prompter",
    "openai_image_description",
    {"provider_type": "openai", "model": "gpt-4o"},
)
NER = Node("NER", "prompter", "openai_ner", {"provider_type": "openai", "model": "gpt-4o"})
OCR = Node("OCR", "prompter", "anthropic_ocr", {"provider_type": "anthropic"})
CHUNK = Node("Chunker", "chunk", "chunk_by_title", {"max_characters": 2048})
CHUNK_NO_SIZE = Node("Chunker", "chunk", "chunk_by_title", {})
EMBED = Node("Embedder", "embed", "azure_openai", {"model_name": "text-embedding-3-large"})
COHERE = Node("Embedder", "embed", "bedrock", {"model_name": "cohere.embed-english-v3"})
EXTRACT = Node(
    "Extractor",
    "structured_data_extractor",
    "llm",
    {"schema_to_extract": {"extraction_guidance": "the total"}},
)


def only(findings: list[Finding]) -> list[tuple[str, str, int | None]]:
    return [(f.code, f.pointer, f.node.index if f.node else None) for f in findings]


@pytest.mark.parametrize(
    "job",
    [
        [AUTO],
        [AUTO, CHUNK],
        [AUTO, CHUNK, EMBED],
        [HI_RES, IMG, NER, CHUNK, EMBED],
        [AUTO, EXTRACT],
        [AUTO, CHUNK, EMBED, EXTRACT],
        [FAST, NER, CHUNK],
    ],
)
def test_documented_layouts_pass(job: list[Node]) -> None:
    assert check_chain(job) == []
    assert JobDAG.chain(*job).check() == []


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ([], [("DK308", "/job_nodes", None)]),
        ([CHUNK, AUTO], [("DK303", "/job_nodes/0/type", 0), ("DK304", "/job_nodes/1", 1)]),
        ([AUTO, CHUNK, IMG], [("DK304", "/job_nodes/2", 2)]),
        ([AUTO, EMBED], [("DK305", "/job_nodes/1", 1)]),
        ([AUTO, EMBED, CHUNK], [("DK304", "/job_nodes/2", 2), ("DK305", "/job_nodes/1", 1)]),
        ([AUTO, EXTRACT, CHUNK], [("DK304", "/job_nodes/2", 2), ("DK306", "/job_nodes/1", 1)]),
        (
            [AUTO, CHUNK, CHUNK.__class__("Second", "chunk", "chunk_by_page")],
            [("DK307", "/job_nodes/2", 2)],
        ),
        ([AUTO, AUTO.__class__("Again", "partition", "vlm", {})], [("DK307", "/job_nodes/1", 1)]),
        ([FAST, IMG], [("DK310", "/job_nodes/1", 1)]),
        ([VLM, IMG], [("DK310", "/job_nodes/1", 1)]),
        ([AUTO, CHUNK_NO_SIZE, EMBED], [("DK312", "/job_nodes/1/settings", 1)]),
        ([AUTO, CHUNK, COHERE], [("DK311", "/job_nodes/1/settings/max_characters", 1)]),
        ([HI_RES, OCR], [("DK313", "/job_nodes/1", 1)]),
        (
            [
                Node(
                    "Fast",
                    "partition",
                    "unstructured_api",
                    {"strategy": "fast", "pdf_infer_table_structure": True},
                )
            ],
            [("DK314", "/job_nodes/0/settings/pdf_infer_table_structure", 0)],
        ),
        (
            [AUTO, Node("Partitioner", "chunk", "chunk_by_page", {})],
            [("DK302", "/job_nodes/1/name", 1)],
        ),
    ],
)
def test_broken_layouts_are_reported_at_the_right_node(
    job: list[Node], expected: list[tuple[str, str, int | None]]
) -> None:
    assert sorted(only(check_chain(job))) == sorted(expected)


def test_chunk_size_message_names_model_and_ceiling() -> None:
    (f,) = check_chain([AUTO, CHUNK, COHERE])
    assert "cohere.embed-english-v3" in f.message and "1792" in f.message
    assert "1792" in f.hint


def test_ocr_with_block_types_passes() -> None:
    hi_res = Node(
        "HiRes",
        "partition",
        "unstructured_api",
        {"strategy": "hi_res", "extract_image_block_types": ["Image"]},
    )
    assert check_chain([hi_res, OCR]) == []


def test_check_document_attaches_nodes_to_schema_findings() -> None:
    doc = {"job_nodes": [AUTO.to_dict(), {**CHUNK.to_dict(), "subtype": "chunk_by_word"}]}
    found = check_document(doc)
    assert found, "a bad chunk subtype must be reported"
    assert all(f.node is not None and f.node.index == 1 for f in found)
    assert found[0].pointer.startswith("/job_nodes/1")


def test_check_document_skips_rules_on_unreadable_nodes() -> None:
    found = check_document({"job_nodes": [{"type": "partition"}]})
    assert {f.code for f in found} == {"DK201"}


def test_tree_dag_reports_shared_node_once() -> None:
    dag = JobDAG()
    (p,) = dag.add_chain(FAST)
    dag.add_chain(IMG, CHUNK, after=p)
    dag.add_chain(
        IMG.__class__(
            "Images 2",
            "prompter",
            "openai_image_description",
            {"provider_type": "openai", "model": "gpt-4o"},
        ),
        after=p,
    )
    found = dag.check()
    assert sorted(f.code for f in found) == ["DK310", "DK310"]


def test_duplicate_key_warning_names_its_node() -> None:
    from dagkit.validate import validate_request_data

    text = (
        '{"job_nodes":[{"name":"Partitioner","type":"partition","subtype":"vlm",'
        '"settings":{"is_dynamic":true,"allow_fast":true,"allow_fast":true}}]}'
    )
    (f,) = validate_request_data(text)
    assert f.code == "DK101" and f.node is not None and f.node.name == "Partitioner"


def test_a_bom_does_not_shift_columns() -> None:
    from dagkit.validate import validate_request_data

    text = '{"template_id": 5, "template_id": 6}'
    plain = [(f.code, f.line, f.column) for f in validate_request_data(text)]
    with_bom = [(f.code, f.line, f.column) for f in validate_request_data("\ufeff" + text)]
    assert plain == with_bom and {c for c, _, _ in plain} == {"DK101", "DK202"}
