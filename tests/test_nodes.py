"""The node catalogue, the node constructors, catalogue findings and the hypothesis strategies
of dagkit.testing."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dagkit.errors import DagkitError, NodeSettingsError
from dagkit.findings import CODES, Finding, NodeRef
from dagkit.model import nodes as catalogue
from dagkit.model.nodes import (
    ELEMENT_TYPES,
    EMBEDDING_MODELS,
    ENRICHMENT_SUBTYPES,
    KINDS,
    MODELS,
    PROVIDERS,
    SUBTYPES,
    Chunk,
    Embed,
    Enrich,
    Extract,
    Node,
    Partition,
    catalogue_findings,
    embedding_model,
    enrichment_task,
    kind_of,
    partition_strategy,
)
from dagkit.testing import chains, job_dags, kind_keys, nodes, request_data, template_request_data

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "request-data.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def schema_errors(*job: Node) -> list[str]:
    doc = {"job_nodes": [n.to_dict() for n in job]}
    return [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]


def findings_of(node: Node, index: int = 0) -> list[Finding]:
    return catalogue_findings(node, NodeRef(index, node.name), ("job_nodes", index))


# -- the catalogue data ------------------------------------------------------------------------


def test_every_kind_is_found_again_from_its_node() -> None:
    for key, kind in KINDS.items():
        settings = {}
        if kind.discriminator is not None:
            settings[kind.discriminator[0]] = kind.discriminator[1]
        found = kind_of(Node("n", kind.type, kind.subtype, settings))
        assert found is kind, key


def test_kinds_cover_every_documented_subtype() -> None:
    pairs = {(k.type, k.subtype) for k in KINDS.values()}
    assert pairs == {(t, s) for t, subtypes in SUBTYPES.items() for s in subtypes}
    assert len(KINDS) == 4 + 16 + 4 + 6 + 2
    tasks = {k.task for k in KINDS.values() if k.type == "prompter"}
    assert tasks == set(ENRICHMENT_SUBTYPES)


def test_embedding_ceilings_are_tokens_times_three_and_a_half() -> None:
    for provider, models in EMBEDDING_MODELS.items():
        for model, limits in models.items():
            assert limits.max_characters == limits.max_tokens * 7 // 2, model
            assert model in MODELS["embed"][provider], model


def test_provider_lists_match_the_subtypes() -> None:
    assert PROVIDERS["embed"] == SUBTYPES["embed"]
    for task, by_provider in ENRICHMENT_SUBTYPES.items():
        for provider in by_provider:
            assert provider == "twopass" or provider in PROVIDERS["enrichment"], (task, provider)
    assert set(ELEMENT_TYPES) == {"exclude_elements", "extract_image_block_types"}


def test_default_settings_values_are_valid_for_their_setting() -> None:
    for kind in KINDS.values():
        for setting in kind.settings.values():
            if setting.default is not None:
                catalogue._checked("test", setting, setting.default, setting.name)


def test_readers_of_nodes() -> None:
    auto, vlm = Partition.auto(), Partition.vlm()
    hi_res, fast = Partition.hi_res(), Partition.fast()
    assert [partition_strategy(n) for n in (auto, vlm, hi_res, fast)] == [
        "auto",
        "vlm",
        "hi_res",
        "fast",
    ]
    # without is_dynamic (or with null) the platform fills false: the VLM strategy
    assert partition_strategy(Node("p", "partition", "vlm", {})) == "vlm"
    assert partition_strategy(Node("p", "partition", "vlm", {"is_dynamic": None})) == "vlm"
    assert partition_strategy(Node("p", "partition", "vlm", {"is_dynamic": 1})) is None
    assert partition_strategy(Node("p", "partition", "unstructured_api", {})) is None
    assert partition_strategy(Chunk.by_page()) is None
    assert enrichment_task(Enrich.generative_ocr(provider="bedrock")) == "generative_ocr"
    assert enrichment_task(Enrich.table_to_html(provider="twopass")) == "table_to_html"
    assert enrichment_task(Node("e", "prompter", "mistral_ner", {})) is None
    large = embedding_model(Embed.azure_openai("text-embedding-3-large"))
    assert large is not None and (large.dimensions, large.max_characters) == (3072, 28672)
    assert embedding_model(Embed.bedrock("amazon.titan-embed-image-v1")).max_characters == 896  # type: ignore[union-attr]
    assert embedding_model(Embed.ibm("ibm/slate-125m-english-rtrvr-v2")) is None  # no ceiling
    assert embedding_model(Embed.voyageai("voyage-9")) is None
    assert embedding_model(Node("e", "embed", "voyageai", {"model_name": 3})) is None
    assert embedding_model(Chunk.by_page()) is None


def test_importing_nodes_stays_cheap() -> None:
    code = (
        "import sys, dagkit.model.nodes; "
        "heavy = ('jsonschema', 'networkx', 'hypothesis', 'click'); "
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# -- constructors with documented values: schema-valid, no finding -----------------------------

DOCUMENTED: dict[str, Node] = {
    "auto": Partition.auto(),
    "auto, all settings": Partition.auto(
        provider="openai",
        provider_api_key=None,
        model="gpt-4o",
        output_format="application/json",
        format_html=False,
        unique_element_ids=False,
    ),
    "vlm": Partition.vlm(provider="vertexai", model="gemini-2.0-flash-001", allow_fast=False),
    "vlm, bedrock": Partition.vlm(provider="bedrock", model="us.amazon.nova-pro-v1:0"),
    "vlm, auto provider": Partition.vlm(provider="auto"),
    "hi_res": Partition.hi_res(
        include_page_breaks=True,
        pdf_infer_table_structure=True,
        exclude_elements=["Header", "Footer", "PageBreak"],
        xml_keep_tags=False,
        encoding="utf-8",
        ocr_languages=("eng", "deu"),
        extract_image_block_types=["Image", "Table"],
        infer_table_structure=True,
        coordinates=True,
    ),
    "fast": Partition.fast(name="Quick", id="93fc2ce8-0000-4000-8000-000000000000"),
    "image description": Enrich.image_description(),
    "image description, vertexai": Enrich.image_description(provider="vertexai"),
    "table description, bedrock": Enrich.table_description(
        provider="bedrock", model="us.anthropic.claude-3-haiku-20240307-v1:0"
    ),
    "table to html": Enrich.table_to_html(provider="openai", model="gpt-5-mini"),
    "table to html, twopass": Enrich.table_to_html(provider="twopass"),
    "ner": Enrich.ner(prompt="Find the people and places."),
    "ner, openai": Enrich.ner(provider="openai", model="gpt-4o-mini"),
    "generative ocr": Enrich.generative_ocr(provider="anthropic", model="claude-opus-4-5-20251101"),
    "by character": Chunk.by_character(
        max_characters=2048,
        new_after_n_chars=1500,
        overlap=160,
        overlap_all=True,
        include_orig_elements=False,
        contextual_chunking_strategy="v1",
        isolate_table=False,
        unstructured_api_url=None,
        unstructured_api_key=None,
    ),
    "by title": Chunk.by_title(
        max_characters=2048, multipage_sections=True, combine_text_under_n_chars=0
    ),
    "by page": Chunk.by_page(max_characters=500, new_after_n_chars=50, overlap=30),
    "by similarity": Chunk.by_similarity(max_characters=500, similarity_threshold=0.5),
    "azure openai": Embed.azure_openai("text-embedding-3-large"),
    "openai": Embed.openai("text-embedding-3-small"),
    "togetherai 2k": Embed.togetherai("togethercomputer/m2-bert-80M-2k-retrieval"),
    "vlm prompts": Partition.vlm(user_prompt=None, prompt=None, custom_host_config=None),
    "vlm, nulls": Partition.vlm(provider=None, model=None, allow_fast=None),
    "bedrock": Embed.bedrock("cohere.embed-multilingual-v3"),
    "ibm": Embed.ibm("intfloat/multilingual-e5-large"),
    "togetherai": Embed.togetherai("togethercomputer/m2-bert-80M-32k-retrieval"),
    "voyageai": Embed.voyageai(model="voyage-law-2"),
    "llm, schema": Extract.llm(
        json_schema={"type": "object", "properties": {"total": {"type": "number"}}},
        provider="anthropic",
        model="claude-haiku-4-5-20251001",
        output_mode="extracted_data_only",
    ),
    "llm, guidance": Extract.llm(guidance="The invoice total.", provider="azure_openai"),
    "llm, both": Extract.llm(json_schema='{"type":"object"}', guidance="totals"),
    "regex, mapping": Extract.regex({"phone": r"\d{3}-\d{4}", "email": r"\S+@\S+"}),
    "regex, pairs": Extract.regex(
        [("year", r"\b(19|20)\d{2}\b")], output_mode="extracted_data_only"
    ),
}


@pytest.mark.parametrize("node", DOCUMENTED.values(), ids=DOCUMENTED.keys())
def test_documented_values_pass_schema_and_catalogue(node: Node) -> None:
    assert schema_errors(node) == []
    assert findings_of(node) == []
    assert kind_of(node) is not None
    json.dumps(node.to_dict(), allow_nan=False)  # plain JSON data


def test_every_kind_has_a_documented_example() -> None:
    made = {kind_of(n).key for n in DOCUMENTED.values()}  # type: ignore[union-attr]
    enrichments = {k for k, kind in KINDS.items() if kind.type == "prompter"}
    assert set(KINDS) - enrichments <= made
    assert {KINDS[k].task for k in made & enrichments} == set(ENRICHMENT_SUBTYPES)


def test_every_enrichment_subtype_has_a_constructor() -> None:
    makers = {
        "image_description": Enrich.image_description,
        "table_description": Enrich.table_description,
        "table_to_html": Enrich.table_to_html,
        "ner": Enrich.ner,
        "generative_ocr": Enrich.generative_ocr,
    }
    for task, by_provider in ENRICHMENT_SUBTYPES.items():
        for provider, subtype in by_provider.items():
            node = makers[task](provider=provider)
            assert (node.type, node.subtype) == ("prompter", subtype)
            assert schema_errors(node) == [] and findings_of(node) == []
            if provider != "twopass":
                assert node.settings["provider_type"] == provider
                assert node.settings["model"] in MODELS["enrichment"][provider]


def test_constructors_send_only_what_was_given_plus_what_is_required() -> None:
    assert Partition.auto().settings == {"is_dynamic": True, "allow_fast": True}
    assert Partition.vlm().settings == {"is_dynamic": False}
    assert Partition.hi_res().settings == {"strategy": "hi_res"}
    assert Partition.fast(coordinates=True).settings == {"strategy": "fast", "coordinates": True}
    assert Chunk.by_title().settings == {}
    assert Enrich.table_to_html(provider="twopass").settings == {}
    assert Embed.ibm("m").settings == {"model_name": "m"}
    assert Extract.llm(guidance="g").settings == {"schema_to_extract": {"extraction_guidance": "g"}}
    assert list(Partition.auto(model="m").settings) == ["is_dynamic", "allow_fast", "model"]
    assert Chunk.by_page(name="Pages", id="x").to_dict() == {
        "name": "Pages",
        "type": "chunk",
        "subtype": "chunk_by_page",
        "settings": {},
        "id": "x",
    }


def test_default_names() -> None:
    defaults = [
        Partition.auto(),
        Enrich.ner(),
        Chunk.by_page(),
        Embed.bedrock("amazon.titan-embed-text-v1"),
        Extract.llm(guidance="x"),
    ]
    assert [n.name for n in defaults] == [
        "Partitioner",
        "Enrichment",
        "Chunker",
        "Embedder",
        "Extractor",
    ]


def test_open_sets_are_not_constructor_errors() -> None:
    node = Partition.vlm(provider="mistral", model="pixtral")
    assert [f.code for f in findings_of(node)] == ["DK211"]
    assert [f.code for f in findings_of(Embed.voyageai("voyage-4"))] == ["DK212"]
    assert [f.code for f in findings_of(Enrich.ner(model="claude-9"))] == ["DK212"]
    odd = Partition.hi_res(extract_image_block_types=["Imagery"])
    assert [f.code for f in findings_of(odd)] == ["DK213"]


def test_json_schema_mapping_is_written_compactly() -> None:
    node = Extract.llm(json_schema={"type": "object", "title": "Rechnung €"})
    text = node.settings["schema_to_extract"]["json_schema"]
    assert text == '{"type":"object","title":"Rechnung €"}'
    assert json.loads(text) == {"type": "object", "title": "Rechnung €"}


def test_typed_settings_match_the_catalogue() -> None:
    """The TypedDicts behind the keyword arguments list exactly the kind's free settings."""
    fixed = {"auto": {"is_dynamic", "allow_fast"}, "vlm": {"is_dynamic"}}
    for key, typed in (
        ("auto", catalogue.AutoSettings),
        ("vlm", catalogue.VlmSettings),
        ("hi_res", catalogue.UnstructuredApiSettings),
        ("fast", catalogue.UnstructuredApiSettings),
        ("chunk_by_character", catalogue.ChunkSettings),
        ("chunk_by_title", catalogue.TitleChunkSettings),
        ("chunk_by_page", catalogue.ChunkSettings),
        ("chunk_by_similarity", catalogue.SimilarityChunkSettings),
    ):
        free = set(KINDS[key].settings) - fixed.get(key, {"strategy"})
        assert set(typing.get_type_hints(typed)) == free, key


# -- constructors refuse bad settings -----------------------------------------------------------

BAD: list[tuple[str, Any, str]] = [
    ("typo", lambda: Chunk.by_title(max_charcters=2048), 'did you mean "max_characters"'),
    ("unknown key", lambda: Partition.hi_res(colour="red"), '"colour"'),
    (
        "key of another kind",
        lambda: Chunk.by_page(similarity_threshold=0.5),
        "similarity_threshold",
    ),
    ("fixed key", lambda: Partition.auto(allow_fast=False), "allow_fast is always true"),
    ("fixed discriminator", lambda: Partition.vlm(is_dynamic=True), "is_dynamic"),
    ("strategy is fixed", lambda: Partition.fast(strategy="hi_res"), "strategy"),
    (
        "wrong type",
        lambda: Chunk.by_title(max_characters="2048"),
        "max_characters must be an integer > 0",
    ),
    ("bool is not an int", lambda: Chunk.by_page(overlap=True), "overlap must be an integer >= 0"),
    ("float is not an int", lambda: Chunk.by_page(max_characters=2048.0), "max_characters"),
    (
        "zero size",
        lambda: Chunk.by_character(max_characters=0),
        "max_characters must be an integer > 0",
    ),
    (
        "negative",
        lambda: Chunk.by_title(combine_text_under_n_chars=-1),
        "combine_text_under_n_chars",
    ),
    ("threshold 1.0", lambda: Chunk.by_similarity(similarity_threshold=1.0), "> 0 and < 1"),
    ("threshold 0", lambda: Chunk.by_similarity(similarity_threshold=0), "similarity_threshold"),
    ("threshold nan", lambda: Chunk.by_similarity(similarity_threshold=float("nan")), "similarity"),
    ("threshold bool", lambda: Chunk.by_similarity(similarity_threshold=True), "similarity"),
    ("contextual v2", lambda: Chunk.by_page(contextual_chunking_strategy="v2"), '"v1"'),
    ("enum", lambda: Partition.auto(output_format="text/plain"), '"text/html", "application/json"'),
    (
        "bool setting",
        lambda: Partition.hi_res(coordinates="yes"),
        "coordinates must be true or false",
    ),
    ("None for a required key", lambda: Embed.voyageai(None), "model"),  # type: ignore[arg-type]
    ("list as text", lambda: Partition.hi_res(exclude_elements="Image"), "a list of strings"),
    ("list item", lambda: Partition.fast(ocr_languages=["eng", 7]), "ocr_languages[1]"),
    ("name", lambda: Partition.auto(name=None), "name must be a string"),
    ("id", lambda: Chunk.by_page(id=7), "id must be a string or None"),
    (
        "enrich provider without subtype",
        lambda: Enrich.ner(provider="vertexai"),
        '"anthropic", "openai"',
    ),
    (
        "ocr provider without subtype",
        lambda: Enrich.generative_ocr(provider="vertexai"),
        "provider",
    ),
    (
        "twopass takes no model",
        lambda: Enrich.table_to_html(provider="twopass", model="m"),
        "no model",
    ),
    ("enrich model type", lambda: Enrich.image_description(model=4), "model must be a string"),
    ("enrich unknown keyword", lambda: Enrich.ner(promt="x"), 'did you mean "prompt"'),
    ("ner prompt type", lambda: Enrich.ner(prompt=["x"]), "prompt_interface_overrides.prompt.user"),
    ("embed model empty", lambda: Embed.azure_openai(""), "model must be a model name"),
    ("embed model type", lambda: Embed.voyageai(3), "model"),
    ("embed unknown keyword", lambda: Embed.bedrock("m", dimensions=3), '"dimensions"'),
    ("extract neither", lambda: Extract.llm(), "json_schema, guidance"),
    ("extract bad schema text", lambda: Extract.llm(json_schema="{type: object}"), "not JSON"),
    ("extract schema not an object", lambda: Extract.llm(json_schema="[1]"), "JSON object"),
    ("extract schema not JSON data", lambda: Extract.llm(json_schema={"a": {1, 2}}), "as JSON"),
    ("extract guidance type", lambda: Extract.llm(guidance=5), "extraction_guidance"),
    ("extract output mode", lambda: Extract.llm(guidance="g", output_mode="all"), "output_mode"),
    ("extract provider type", lambda: Extract.llm(guidance="g", provider=1), "provider"),
    ("extract unknown keyword", lambda: Extract.llm(guidance="g", schema="x"), '"schema"'),
    ("regex none", lambda: Extract.regex({}), "at least 1"),
    ("regex bad pattern", lambda: Extract.regex({"x": "(unclosed"}), "not a valid Python regular"),
    ("regex duplicate names", lambda: Extract.regex([("a", "x"), ("a", "y")]), 'named "a"'),
    ("regex pattern type", lambda: Extract.regex({"a": 5}), "regex_patterns[0].pattern"),
    ("regex pairs shape", lambda: Extract.regex([("a", "x", "y")]), "pair"),
    ("regex as text", lambda: Extract.regex("a+"), "mapping of name to pattern"),
]


@pytest.mark.parametrize(("make", "expected"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_settings_raise_a_clear_error(make: Any, expected: str) -> None:
    with pytest.raises(NodeSettingsError) as caught:
        make()
    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, DagkitError)


def test_unknown_keyword_lists_what_is_allowed() -> None:
    with pytest.raises(NodeSettingsError, match=r'Allowed: "id", "model", "name"\.'):
        Embed.azure_openai("m", model_name="x")
    with pytest.raises(NodeSettingsError) as caught:
        Partition.vlm(colour="red")
    message = str(caught.value)
    assert '"allow_fast"' in message and '"is_dynamic"' not in message


def test_secret_settings_are_listed() -> None:
    secrets = catalogue.SECRET_SETTINGS
    assert secrets == frozenset({"provider_api_key", "unstructured_api_key"})


def test_secret_settings_are_never_repeated_in_errors() -> None:
    secret = 1234567890987654321
    with pytest.raises(NodeSettingsError) as caught:
        Chunk.by_page(unstructured_api_key=secret)
    assert str(secret) not in str(caught.value)
    assert "secret" in str(caught.value)
    with pytest.raises(NodeSettingsError) as caught:
        Partition.auto(provider_api_key=["sk-live-abcdef"])
    assert "sk-live-abcdef" not in str(caught.value)


@given(st.dictionaries(st.text(max_size=12), st.none() | st.booleans() | st.integers() | st.text()))
@FAST
def test_constructors_accept_or_raise_node_settings_error_only(kwargs: dict[str, Any]) -> None:
    for make in (Partition.auto, Partition.hi_res, Chunk.by_title, Chunk.by_similarity):
        try:
            made = make(**kwargs)
        except NodeSettingsError:
            continue
        assert schema_errors(made) == []
        assert findings_of(made) == []


# -- catalogue findings --------------------------------------------------------------------------


def test_unknown_setting_key_with_a_hint_and_pointer() -> None:
    node = Node("Chunker", "chunk", "chunk_by_title", {"max_charcters": 2048})
    [found] = catalogue_findings(node, NodeRef(2, "Chunker"), ("job_nodes", 2))
    # a near miss of a documented setting: the platform would run without it
    assert found.code == "DK214" and found.severity == "error"
    assert found.pointer == "/job_nodes/2/settings/max_charcters"
    assert found.hint == 'write "max_characters"'
    assert found.node == NodeRef(2, "Chunker")
    assert 'job_nodes[2] "Chunker"' in found.message


@pytest.mark.parametrize(
    ("key", "near"),
    [
        ("overlapp", "overlap"),
        ("ovelrap", "overlap"),
        ("Max_Characters", "max_characters"),
        ("max-characters", "max_characters"),
        ("new_after_n_char", "new_after_n_chars"),
        ("isolate_tables", "isolate_table"),
    ],
)
def test_near_misses_of_documented_settings_are_errors(key: str, near: str) -> None:
    [found] = findings_of(Node("C", "chunk", "chunk_by_title", {key: 1}))
    assert (found.code, found.severity) == ("DK214", "error")
    assert near in found.message


@pytest.mark.parametrize("key", ["colour", "chunking_strategy", "overlap_size", "user_prompt"])
def test_unknown_settings_that_are_no_near_miss_are_warnings(key: str) -> None:
    [found] = findings_of(Node("C", "chunk", "chunk_by_title", {key: 1}))
    assert (found.code, found.severity) == ("DK210", "warning")


def test_unknown_key_without_a_close_match_lists_the_documented_keys() -> None:
    [found] = findings_of(Node("E", "embed", "voyageai", {"model_name": "voyage-3", "dims": 3}))
    assert found.code == "DK210" and '"model_name"' in found.hint


def test_unknown_keys_inside_known_objects_and_array_items() -> None:
    llm = Node(
        "X",
        "structured_data_extractor",
        "llm",
        {"schema_to_extract": {"json_schema": "{}", "extraction_guidence": "x"}},
    )
    [found] = findings_of(llm, 4)
    assert found.pointer == "/job_nodes/4/settings/schema_to_extract/extraction_guidence"
    assert found.code == "DK214" and found.hint == 'write "extraction_guidance"'
    regex = Node(
        "X",
        "structured_data_extractor",
        "regex",
        {"regex_patterns": [{"name": "a", "pattern": "x"}, {"name": "b", "regex": "y"}]},
    )
    [found] = findings_of(regex)
    assert found.pointer == "/job_nodes/0/settings/regex_patterns/1/regex"


def test_pointer_tokens_are_escaped() -> None:
    [found] = findings_of(Node("C", "chunk", "chunk_by_page", {"a/b~c": 1}))
    assert found.pointer == "/job_nodes/0/settings/a~1b~0c"


def test_keys_of_either_kind_are_known_when_the_kind_cannot_be_told() -> None:
    """A vlm partitioner without is_dynamic is the schema's problem; its keys are not unknown."""
    undecided = Node("P", "partition", "vlm", {"allow_fast": True, "output_format": "x"})
    assert [f.code for f in findings_of(undecided)] == []
    fast_key_on_auto = Node("P", "partition", "vlm", {"is_dynamic": True, "strategy": "fast"})
    assert [f.code for f in findings_of(fast_key_on_auto)] == ["DK210"]


def test_unknown_partition_provider() -> None:
    node = Partition.auto(provider="anthropics")
    [found] = findings_of(node)
    assert (found.code, found.pointer) == ("DK211", "/job_nodes/0/settings/provider")
    assert found.hint == 'did you mean "anthropic"?'


def test_model_checked_against_the_default_provider() -> None:
    [found] = findings_of(Partition.auto(model="gpt-4o"))  # provider defaults to anthropic
    assert found.code == "DK212" and found.pointer == "/job_nodes/0/settings/model"
    assert "openai" in found.hint


def test_removed_model_says_so() -> None:
    [found] = findings_of(Partition.vlm(model="claude-3-5-sonnet-20241022"))
    assert found.code == "DK212" and "removed" in found.message


def test_model_close_to_a_documented_one() -> None:
    [found] = findings_of(Embed.azure_openai("text-embedding-3-larg"))
    assert (found.code, found.pointer) == ("DK212", "/job_nodes/0/settings/model_name")
    assert found.hint == 'did you mean "text-embedding-3-large"?'


def test_prompter_provider_type_must_match_its_subtype() -> None:
    node = Node("E", "prompter", "anthropic_ner", {"provider_type": "openai", "model": "gpt-4o"})
    [found] = findings_of(node)
    assert found.code == "DK211" and found.pointer == "/job_nodes/0/settings/provider_type"
    assert '"anthropic"' in found.hint


def test_unknown_prompter_and_embed_subtypes_are_warnings() -> None:
    [found] = findings_of(Node("E", "prompter", "anthropic_nerr", {}))
    assert (found.code, found.pointer) == ("DK211", "/job_nodes/0/subtype")
    assert found.hint == 'did you mean "anthropic_ner"?'
    [found] = findings_of(Node("E", "embed", "cohere", {"model_name": "embed-v4"}))
    assert (found.code, found.pointer, found.severity) == (
        "DK211",
        "/job_nodes/0/subtype",
        "warning",
    )


def test_unknown_extract_provider_and_model() -> None:
    [found] = findings_of(Extract.llm(guidance="g", provider="vertexai"))
    assert (found.code, found.pointer) == ("DK211", "/job_nodes/0/settings/provider")
    [found] = findings_of(Extract.llm(guidance="g", model="gpt-9"))  # any provider's list
    assert (found.code, found.pointer) == ("DK212", "/job_nodes/0/settings/model")


def test_lowercase_element_types_are_accepted() -> None:
    """The docs' own hi_res template sends "image" and "table", and the platform stores them."""
    node = Partition.hi_res(
        exclude_elements=["Footer", "table"], extract_image_block_types=["image", "TABLE"]
    )
    assert findings_of(node) == []
    [found] = findings_of(Partition.hi_res(exclude_elements=["tabel"]))
    assert found.code == "DK213" and found.severity == "warning"


def test_element_type_close_to_a_documented_one() -> None:
    [found] = findings_of(Partition.fast(exclude_elements=["NarativeText"]))
    assert found.hint == 'did you mean "NarrativeText"?'


def test_closed_set_problems_are_left_to_the_schema() -> None:
    for node in (
        Node("P", "partition", "vlm", {"is_dynamic": "yes", "provider": 5, "model": None}),
        Node("P", "partitioner", "vlm", {"anything": 1}),
        Node("C", "chunk", "chunk_by_words", {"anything": 1}),
        Node("C", "chunk", "chunk_by_title", {"max_characters": -5}),
        Node("E", "embed", "voyageai", {"model_name": ["voyage-3"]}),
        Node("P", "partition", "unstructured_api", {"strategy": "hi_res", "exclude_elements": "x"}),
    ):
        assert findings_of(node) == [], node


def test_every_finding_code_is_registered() -> None:
    for code in ("DK210", "DK211", "DK212", "DK213"):
        assert CODES[code].severity == "warning"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.sampled_from([*SUBTYPES, "x"]).flatmap(
        lambda t: st.tuples(st.just(t), st.sampled_from([*SUBTYPES.get(t, ()), "x", ""]))
    ),
    st.one_of(
        st.none(),
        json_values,
        st.dictionaries(
            st.sampled_from(
                [
                    "is_dynamic",
                    "strategy",
                    "provider",
                    "model",
                    "model_name",
                    "provider_type",
                    "exclude_elements",
                    "schema_to_extract",
                    "regex_patterns",
                    "colour",
                ]
            ),
            json_values,
        ),
    ),
)
@FAST
def test_catalogue_findings_never_crash_on_any_settings(
    pair: tuple[str, str], settings: Any
) -> None:
    node = Node("n", pair[0], pair[1], settings)
    for found in catalogue_findings(node, NodeRef(0, "n"), ("job_nodes", 0)):
        assert found.code in ("DK210", "DK211", "DK212", "DK213")
        assert found.pointer.startswith("/job_nodes/0/")
    kind_of(node), partition_strategy(node), enrichment_task(node), embedding_model(node)


# -- dagkit.testing -------------------------------------------------------------------------------


@given(nodes())
@FAST
def test_generated_nodes_pass_schema_and_catalogue(node: Node) -> None:
    assert schema_errors(node) == []
    assert findings_of(node) == []
    assert node.name and node.name == node.name.rstrip()


@pytest.mark.parametrize("key", KINDS)
def test_nodes_of_one_kind(key: str) -> None:
    @given(nodes(key))
    @settings(max_examples=8, deadline=None)
    def check(node: Node) -> None:
        assert kind_of(node) is KINDS[key]
        assert schema_errors(node) == [] and findings_of(node) == []

    check()


def test_kind_keys() -> None:
    assert kind_keys("hi_res") == ["hi_res"]
    assert kind_keys("ner") == ["anthropic_ner", "openai_ner"]
    assert set(kind_keys("embed")) == set(SUBTYPES["embed"])
    assert kind_keys(None) == list(KINDS)
    with pytest.raises(ValueError, match="unknown node kind 'chunker'"):
        kind_keys("chunker")


def _rules() -> Any:
    rules = pytest.importorskip("dagkit.model.rules")
    if not hasattr(rules, "check_chain"):
        pytest.skip("dagkit.model.rules.check_chain is not there yet")
    return rules


ORDER = {"partition": 0, "prompter": 1, "chunk": 2, "embed": 3, "structured_data_extractor": 4}


@given(chains())
@FAST
def test_generated_chains_are_valid_jobs(chain: list[Node]) -> None:
    assert chain[0].type == "partition"
    ranks = [ORDER[n.type] for n in chain]
    assert ranks == sorted(ranks)
    assert all(ranks.count(r) <= 1 for r in (0, 2, 3, 4))
    assert len({n.name for n in chain}) == len(chain)
    assert schema_errors(*chain) == []
    types = [n.type for n in chain]
    if "embed" in types:
        chunker, embedder = chain[types.index("chunk")], chain[types.index("embed")]
        limits = embedding_model(embedder)
        size = chunker.settings["max_characters"]
        assert limits is None or size <= limits.max_characters
    for index, node in enumerate(chain):
        assert findings_of(node, index) == []
    assert _rules().check_chain(chain) == []


@given(chains(partition="hi_res"))
@FAST
def test_generative_ocr_after_hi_res_gets_image_blocks(chain: list[Node]) -> None:
    if any(enrichment_task(n) == "generative_ocr" for n in chain):
        assert chain[0].settings["extract_image_block_types"]
    assert _rules().check_chain(chain) == []


def test_chains_partition_choice() -> None:
    @given(chains(partition="fast"))
    @settings(max_examples=20, deadline=None)
    def check(chain: list[Node]) -> None:
        assert partition_strategy(chain[0]) == "fast"
        assert {enrichment_task(n) for n in chain[1:] if n.type == "prompter"} <= {"ner"}

    check()
    with pytest.raises(ValueError, match="partition must be one of"):
        chains(partition="chunk_by_title")


@given(job_dags())
@FAST
def test_generated_dags_plan_into_valid_jobs(dag: Any) -> None:
    rules = _rules()
    planned = dag.plan()
    assert planned
    names = [n.name for n in dag.nodes()]
    assert len(set(names)) == len(names)
    for job in planned:
        assert rules.check_chain(job) == []
        assert schema_errors(*job) == []


@given(request_data())
@FAST
def test_generated_request_data_is_valid(text: str) -> None:
    doc = json.loads(text)
    assert list(VALIDATOR.iter_errors(doc)) == []
    assert set(doc) <= {"job_nodes", "skip_preflight"}


@given(template_request_data())
@FAST
def test_generated_template_request_data_is_valid(text: str) -> None:
    doc = json.loads(text)
    assert list(VALIDATOR.iter_errors(doc)) == []
    assert isinstance(doc["template_id"], str) and doc["template_id"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: Extract.regex(5),  # type: ignore[arg-type]
        lambda: Extract.regex(None),  # type: ignore[arg-type]
        lambda: Chunk.by_similarity(similarity_threshold=10**400),
        lambda: Extract.llm(json_schema="[" * 100_000 + "]" * 100_000),
    ],
)
def test_odd_values_are_node_settings_errors_not_python_errors(make: Any) -> None:
    with pytest.raises(NodeSettingsError):
        make()


def test_strategies_also_make_nulls_and_leave_platform_defaults_out() -> None:
    from hypothesis import find

    find(nodes("chunk"), lambda n: None in n.settings.values(), settings=settings(database=None))
    find(nodes("vlm"), lambda n: "is_dynamic" not in n.settings, settings=settings(database=None))
    find(nodes("auto"), lambda n: "allow_fast" not in n.settings, settings=settings(database=None))
    find(nodes("prompter"), lambda n: n.settings == {}, settings=settings(database=None))
