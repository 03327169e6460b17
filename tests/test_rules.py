"""The job rules the docs state in prose, on node lists and through JobDAG.check()."""

from __future__ import annotations

import pytest

from dagkit.findings import Finding
from dagkit.model.dag import JobDAG
from dagkit.model.nodes import Node
from dagkit.model.rules import check_chain, check_document

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
        ([AUTO, CHUNK, IMG], [("DK315", "/job_nodes/2", 2)]),
        ([AUTO, CHUNK, EMBED, NER], [("DK315", "/job_nodes/3", 3)]),
        ([AUTO, EXTRACT, NER], [("DK304", "/job_nodes/2", 2), ("DK306", "/job_nodes/1", 1)]),
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


# -- severities follow the one rule (README, "Severity"), at each rule's boundaries ------------


def severities(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.code, f.severity) for f in findings)


def test_a_partitioner_feeding_an_embedder_is_a_warning() -> None:
    """Accepted by the platform and COMPLETED (Dropbox_To_Pinecone quickstart)."""
    assert severities(check_chain([AUTO, EMBED])) == [("DK305", "warning")]


@pytest.mark.parametrize("before", [[NER], [NER, IMG.__class__("More", "prompter", "openai_ner")]])
def test_embedder_without_chunker_is_found_third_or_later(before: list[Node]) -> None:
    job = [HI_RES, *before, EMBED]
    assert only(check_chain(job)) == [("DK305", f"/job_nodes/{len(job) - 1}", len(job) - 1)]


@pytest.mark.parametrize(
    ("model", "ceiling"),
    [
        (EMBED, 28672),
        (COHERE, 1792),
        (Node("E", "embed", "openai", {"model_name": "text-embedding-3-small"}), 28672),
        (
            Node(
                "E",
                "embed",
                "togetherai",
                {"model_name": "togethercomputer/m2-bert-80M-2k-retrieval"},
            ),
            7168,
        ),
    ],
)
def test_chunk_size_at_the_ceiling_passes_and_one_more_is_reported(
    model: Node, ceiling: int
) -> None:
    at = Node("Chunker", "chunk", "chunk_by_title", {"max_characters": ceiling})
    over = Node("Chunker", "chunk", "chunk_by_title", {"max_characters": ceiling + 1})
    assert check_chain([AUTO, at, model]) == []
    assert severities(check_chain([AUTO, over, model])) == [("DK311", "warning")]
    assert severities(JobDAG.chain(AUTO, over, model).check()) == [("DK311", "warning")]


@pytest.mark.parametrize(
    "enrichment",
    [
        IMG,
        Node("T", "prompter", "anthropic_table2html", {}),
        Node("T", "prompter", "twopass_table2html", None),  # type: ignore[arg-type]
        Node("T", "prompter", "openai_table_description", {}),
        Node("O", "prompter", "openai_ocr", {}),
    ],
)
def test_image_and_table_enrichments_after_fast_warn_even_before_an_embedder(
    enrichment: Node,
) -> None:
    for job in ([FAST, enrichment], [FAST, enrichment, CHUNK, EMBED]):
        assert severities(check_chain(job)) == [("DK310", "warning")]
        assert severities(JobDAG.chain(*job).check()) == [("DK310", "warning")]


def test_ocr_without_blocks_warns_even_before_an_embedder() -> None:
    for job in ([HI_RES, OCR], [HI_RES, OCR, CHUNK, EMBED]):
        assert severities(check_chain(job)) == [("DK313", "warning")]


@pytest.mark.parametrize(
    ("settings", "pointers"),
    [
        ({"max_characters": 500, "overlap": 499}, []),
        ({"max_characters": 500, "overlap": 500}, ["/job_nodes/1/settings/overlap"]),
        ({"max_characters": 500, "overlap": 900}, ["/job_nodes/1/settings/overlap"]),
        ({"max_characters": 500, "combine_text_under_n_chars": 500}, []),
        (
            {"max_characters": 500, "combine_text_under_n_chars": 501},
            ["/job_nodes/1/settings/combine_text_under_n_chars"],
        ),
        ({"overlap": 5000}, []),  # the chunker's own default size: not known here
        ({"max_characters": None, "overlap": None}, []),
    ],
)
def test_chunk_sizes_the_chunker_raises_on_are_errors(
    settings: dict[str, object], pointers: list[str]
) -> None:
    found = check_chain([AUTO, Node("C", "chunk", "chunk_by_title", settings)])
    assert [(f.code, f.severity, f.pointer) for f in found] == [
        ("DK316", "error", p) for p in pointers
    ]


def test_duplicate_names_are_a_warning() -> None:
    """No source says node names must differ."""
    job = [AUTO, Node("Partitioner", "chunk", "chunk_by_page", {})]
    assert severities(check_chain(job)) == [("DK302", "warning")]


# -- type and subtype swapped ------------------------------------------------------------------


def test_swapped_type_and_subtype_is_one_error_and_nothing_follows_from_it() -> None:
    chunk = {**CHUNK.to_dict(), "type": "chunk_by_title", "subtype": "chunk"}
    doc = {"job_nodes": [AUTO.to_dict(), chunk, EMBED.to_dict()]}
    (found,) = check_document(doc)
    assert (found.code, found.severity, found.pointer) == ("DK203", "error", "/job_nodes/1/type")
    assert "type and subtype look swapped" in found.message
    assert found.node is not None and found.node.name == "Chunker"
    assert '"type": "chunk", "subtype": "chunk_by_title"' in found.hint


def test_swapped_partitioner_settings_are_still_checked() -> None:
    """The docs' broken template: type "vlm", subtype "partition"."""
    swapped = {"name": "P", "type": "vlm", "subtype": "partition", "settings": {"is_dynamic": "x"}}
    found = check_document({"job_nodes": [swapped]})
    assert (found[0].code, found[0].pointer) == ("DK203", "/job_nodes/0/type")
    assert {f.pointer for f in found[1:]} == {"/job_nodes/0/settings/is_dynamic"}
    assert all(f.is_error for f in found)


def test_an_unknown_type_that_is_no_swap_stays_a_plain_enum_error() -> None:
    found = check_document({"job_nodes": [{"name": "P", "type": "partitioner", "subtype": "vlm"}]})
    assert [(f.code, f.pointer) for f in found] == [
        ("DK203", "/job_nodes/0/type"),
        ("DK303", "/job_nodes/0/type"),
    ]
    assert "swapped" not in found[0].message


# -- options no source shows ---------------------------------------------------------------------


def test_skip_preflight_is_dagkits_assumption_and_only_a_warning() -> None:
    for doc in (
        {"template_id": "t", "skip_preflight": True},
        {"job_nodes": [AUTO.to_dict()], "skip_preflight": False},
    ):
        (found,) = check_document(doc)
        assert (found.code, found.severity, found.pointer) == (
            "DK215",
            "warning",
            "/skip_preflight",
        )
        assert "assumption" in found.message


@pytest.mark.parametrize("odd", [{"a": 1}, ["x"], 5, None])
def test_a_type_of_any_json_value_is_reported_not_raised(odd: object) -> None:
    for key in ("type", "subtype"):
        doc = {"job_nodes": [{**AUTO.to_dict(), key: odd}]}
        found = check_document(doc)
        assert found and all(f.pointer.startswith("/job_nodes/0") for f in found)


def test_node_from_dict_keeps_the_id() -> None:
    from dagkit.model.nodes import node_from_dict

    raw = {"name": "C", "type": "chunk", "subtype": "chunk_by_title", "id": "n-1"}
    made = node_from_dict(raw)
    assert made is not None and made.id == "n-1" and made.settings == {}
    assert node_from_dict({**raw, "id": None}) == Node("C", "chunk", "chunk_by_title", {})


def test_attach_nodes_only_where_the_path_names_a_node() -> None:
    from dagkit.findings import finding
    from dagkit.model.rules import attach_nodes

    doc = {"job_nodes": [{"name": "P"}, {"name": "C"}]}
    found = [
        finding("DK302", "a", path=("job_nodes", 1, "name")),
        finding("DK302", "b", path=("job_nodes", 2)),  # past the end
        finding("DK302", "c", path=("job_nodes", "-")),  # no index
        finding("DK302", "d", path=("template_id",)),
    ]
    got = attach_nodes(found, doc)
    assert [(f.node.index, f.node.name) if f.node else None for f in got] == [
        (1, "C"),
        None,
        None,
        None,
    ]
    assert attach_nodes(found, ["not", "a", "document"]) == found
