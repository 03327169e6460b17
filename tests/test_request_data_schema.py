"""request-data.schema.json: valid and invalid documents, where errors point, and agreement
with the node catalogue in dagkit.model.nodes."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from samples import QUICKSTART

from dagkit.core.pointers import join as pointer_join
from dagkit.model.nodes import KINDS, NodeKind, Setting

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "request-data.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)

#: The keywords the schema may use (another module compiles exactly this subset).
ALLOWED_KEYWORDS = {
    "type", "enum", "const", "properties", "required", "additionalProperties", "items",
    "prefixItems", "minItems", "maxItems", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minLength", "maxLength", "pattern", "$ref", "$defs", "allOf", "anyOf",
    "oneOf", "not", "if", "then", "else", "title", "description", "default", "examples",
    "$schema", "$id",
}  # fmt: skip


def pointer(error: ValidationError) -> str:
    return pointer_join("", *error.absolute_path)


def errors(doc: Any) -> list[ValidationError]:
    return list(VALIDATOR.iter_errors(doc))


def jobs(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"job_nodes": list(nodes)}


def node(type_: str, subtype: str, settings: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": "N", "type": type_, "subtype": subtype, **extra}
    if settings is not None:
        out["settings"] = settings
    return out


AUTO = node("partition", "vlm", {"is_dynamic": True, "allow_fast": True})


# -- the file itself ---------------------------------------------------------------------------


def test_schema_passes_its_metaschema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"] == "https://dagkit.invalid/schemas/request-data.schema.json"
    assert SCHEMA["title"] and SCHEMA["description"]


def test_schema_has_no_repeated_keys() -> None:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"repeated key in {keys}"
        return dict(pairs)

    json.loads(SCHEMA_PATH.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)


def _subschemas(schema: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object inside ``schema`` (not the values of properties/$defs maps)."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            for name, sub in value.items():
                yield from _subschemas(sub, f"{path}/{key}/{name}")
        elif key in ("allOf", "anyOf", "oneOf", "prefixItems"):
            for i, sub in enumerate(value):
                yield from _subschemas(sub, f"{path}/{key}/{i}")
        elif key in ("items", "not", "if", "then", "else", "additionalProperties"):
            yield from _subschemas(value, f"{path}/{key}")


def test_schema_uses_only_the_supported_keywords() -> None:
    for path, sub in _subschemas(SCHEMA):
        unsupported = set(sub) - ALLOWED_KEYWORDS
        assert not unsupported, f"{path} uses {unsupported}"


def test_every_ref_is_local_and_resolves() -> None:
    refs = [sub["$ref"] for _, sub in _subschemas(SCHEMA) if "$ref" in sub]
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/"), ref
        assert ref.removeprefix("#/$defs/") in SCHEMA["$defs"], ref


def test_every_def_is_used() -> None:
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    for name in SCHEMA["$defs"]:
        assert f'"#/$defs/{name}"' in text, f"$defs/{name} is never referenced"


def test_node_dispatch_is_not_a_wide_one_of() -> None:
    """Only the root's two-way template/job_nodes choice uses oneOf."""
    one_ofs = [path for path, sub in _subschemas(SCHEMA) if "oneOf" in sub]
    assert one_ofs == ["#"]
    assert len(SCHEMA["oneOf"]) == 2


# -- valid documents ---------------------------------------------------------------------------

VALID = {
    "quickstart": QUICKSTART,
    "template": {"template_id": "hi_res_and_enrichment"},
    "template with uuid": {"template_id": "f0a1b2c3-0000-4000-8000-000000000000"},
    "template skipping preflight": {"template_id": "t", "skip_preflight": True},
    "nodes skipping preflight": {**jobs(AUTO), "skip_preflight": False},
    "partition only": jobs(AUTO),
    # What the platform accepted: it fills the defaults (see the README's severity rule).
    "vlm without settings": jobs(node("partition", "vlm")),
    "vlm with null settings": jobs({**node("partition", "vlm"), "settings": None}),
    "vlm with only provider and model": jobs(
        node("partition", "vlm", {"provider": "anthropic", "model": "claude-sonnet-4-20250514"})
    ),
    "auto without allow_fast": jobs(node("partition", "vlm", {"is_dynamic": True})),
    "vlm with null is_dynamic": jobs(node("partition", "vlm", {"is_dynamic": None})),
    "vlm prompts and host": jobs(
        node(
            "partition",
            "vlm",
            {"is_dynamic": False, "user_prompt": None, "prompt": "x", "custom_host_config": {}},
        )
    ),
    "prompter with empty settings": jobs(AUTO, node("prompter", "anthropic_ocr", {})),
    "prompter without settings": jobs(AUTO, node("prompter", "openai_image_description")),
    "prompter with null settings": jobs(AUTO, {**node("prompter", "openai_ner"), "settings": None}),
    "prompter with only a model": jobs(
        AUTO, node("prompter", "openai_table2html", {"model": "gpt-4o"})
    ),
    "null optional settings": jobs(
        node(
            "partition",
            "unstructured_api",
            {"strategy": "hi_res", "exclude_elements": None, "ocr_languages": None},
        ),
        node(
            "chunk",
            "chunk_by_title",
            {
                "combine_text_under_n_chars": None,
                "contextual_chunking_strategy": None,
                "new_after_n_chars": None,
                "overlap": None,
                "max_characters": None,
            },
        ),
        node(
            "prompter",
            "openai_ner",
            {"prompt_interface_overrides": None, "provider_type": None, "model": None},
        ),
    ),
    "openai embedder": jobs(
        AUTO, node("chunk", "chunk_by_page"), node("embed", "openai", {"model_name": "x"})
    ),
    "vlm without allow_fast": jobs(node("partition", "vlm", {"is_dynamic": False})),
    "node id": jobs({**AUTO, "id": "93fc2ce8-0000-4000-8000-000000000000"}),
    "null node id": jobs({**AUTO, "id": None}),
    "unknown settings key": jobs(
        AUTO, node("chunk", "chunk_by_title", {"max_charcters": 2048, "user_prompt": None})
    ),
    "unknown provider and model": jobs(
        node(
            "partition",
            "vlm",
            {"is_dynamic": True, "allow_fast": True, "provider": "mistral", "model": "x"},
        )
    ),
    "lowercase element types": jobs(
        node(
            "partition",
            "unstructured_api",
            {"strategy": "hi_res", "exclude_elements": ["image"], "extract_image_block_types": []},
        )
    ),
    "unknown prompter subtype": jobs(AUTO, node("prompter", "mistral_ner", {})),
    "prompter without settings when subtype unknown": jobs(AUTO, node("prompter", "x_ocr")),
    "twopass without settings": jobs(AUTO, node("prompter", "twopass_table2html")),
    "twopass null settings": jobs(AUTO, node("prompter", "twopass_table2html", settings=None)),
    "unknown embed subtype": jobs(
        AUTO, node("chunk", "chunk_by_page"), node("embed", "cohere", {"model_name": "e"})
    ),
    "chunk without settings": jobs(AUTO, node("chunk", "chunk_by_character")),
    "chunk with null settings": jobs(AUTO, {**node("chunk", "chunk_by_page"), "settings": None}),
    "chunk integer written with a fraction part": jobs(
        AUTO, node("chunk", "chunk_by_page", {"max_characters": 2048.0})
    ),
    "similarity in range": jobs(
        AUTO, node("chunk", "chunk_by_similarity", {"similarity_threshold": 0.999})
    ),
    "extract with both schema and guidance": jobs(
        AUTO,
        node(
            "structured_data_extractor",
            "llm",
            {"schema_to_extract": {"json_schema": "{}", "extraction_guidance": "names"}},
        ),
    ),
    "extract regex": jobs(
        AUTO,
        node(
            "structured_data_extractor",
            "regex",
            {
                "regex_patterns": [{"name": "n", "pattern": r"\d+"}],
                "output_mode": "extracted_data_only",
            },
        ),
    ),
    "nullable keys": jobs(
        node(
            "partition", "vlm", {"is_dynamic": True, "allow_fast": True, "provider_api_key": None}
        ),
        node(
            "chunk", "chunk_by_title", {"unstructured_api_url": None, "unstructured_api_key": None}
        ),
    ),
    "ner prompt override": jobs(
        AUTO,
        node(
            "prompter",
            "openai_ner",
            {
                "provider_type": "openai",
                "model": "gpt-4o",
                "prompt_interface_overrides": {"prompt": {"user": "Find people."}},
            },
        ),
    ),
}


@pytest.mark.parametrize("doc", VALID.values(), ids=VALID.keys())
def test_valid_documents(doc: Any) -> None:
    assert errors(doc) == []


# -- invalid documents: each fails at the expected pointer -------------------------------------

CHUNK_SIM = "chunk_by_similarity"
API = "unstructured_api"
LLM_OK = {"schema_to_extract": {"extraction_guidance": "names"}}
INVALID: list[tuple[str, Any, str, str]] = [
    ("not an object", [AUTO], "", "type"),
    ("text", "job_nodes", "", "type"),
    ("neither template nor nodes", {}, "", "oneOf"),
    ("only skip_preflight", {"skip_preflight": True}, "", "oneOf"),
    ("both template and nodes", {"template_id": "t", **jobs(AUTO)}, "", "oneOf"),
    ("extra top-level key", {**jobs(AUTO), "workflow_id": "w"}, "", "additionalProperties"),
    ("empty template id", {"template_id": ""}, "/template_id", "minLength"),
    ("template id not a string", {"template_id": 7}, "/template_id", "type"),
    ("empty job_nodes", {"job_nodes": []}, "/job_nodes", "minItems"),
    ("job_nodes not a list", {"job_nodes": AUTO}, "/job_nodes", "type"),
    ("skip_preflight not boolean", {**jobs(AUTO), "skip_preflight": "yes"}, "/skip_preflight",
     "type"),
    ("node not an object", jobs("Partitioner"), "/job_nodes/0", "type"),
    ("node without subtype", jobs({"name": "P", "type": "partition"}), "/job_nodes/0",
     "required"),
    ("extra node key", jobs({**AUTO, "colour": "red"}), "/job_nodes/0", "additionalProperties"),
    ("name not a string", jobs({**AUTO, "name": 5}), "/job_nodes/0/name", "type"),
    ("id not a string", jobs({**AUTO, "id": 5}), "/job_nodes/0/id", "type"),
    ("wrong node type", jobs(node("partitioner", "vlm", {})), "/job_nodes/0/type", "enum"),
    ("type and subtype swapped (a doc defect)",
     jobs(node("vlm", "partition", {"is_dynamic": True, "allow_fast": True})),
     "/job_nodes/0/type", "enum"),
    ("bad partition subtype", jobs(node("partition", "hires", {})), "/job_nodes/0/subtype",
     "enum"),
    ("bad chunk subtype", jobs(AUTO, node("chunk", "chunk_by_word")), "/job_nodes/1/subtype",
     "enum"),
    ("bad extract subtype", jobs(AUTO, node("structured_data_extractor", "llms", LLM_OK)),
     "/job_nodes/1/subtype", "enum"),
    ("empty prompter subtype", jobs(AUTO, node("prompter", "")), "/job_nodes/1/subtype",
     "minLength"),
    ("settings a list", jobs(AUTO, node("chunk", "chunk_by_page", [])), "/job_nodes/1/settings",
     "type"),
    ("is_dynamic not boolean", jobs(node("partition", "vlm", {"is_dynamic": "true"})),
     "/job_nodes/0/settings/is_dynamic", "type"),
    ("auto with allow_fast false",
     jobs(node("partition", "vlm", {"is_dynamic": True, "allow_fast": False})),
     "/job_nodes/0/settings/allow_fast", "enum"),
    ("vlm allow_fast not boolean",
     jobs(node("partition", "vlm", {"is_dynamic": False, "allow_fast": 1})),
     "/job_nodes/0/settings/allow_fast", "type"),
    ("bad output_format",
     jobs(node("partition", "vlm", {"is_dynamic": False, "output_format": "text/markdown"})),
     "/job_nodes/0/settings/output_format", "enum"),
    ("provider not a string",
     jobs(node("partition", "vlm", {"is_dynamic": False, "provider": ["openai"]})),
     "/job_nodes/0/settings/provider", "type"),
    ("hi_res without strategy", jobs(node("partition", "unstructured_api", {})),
     "/job_nodes/0/settings", "required"),
    ("unknown strategy", jobs(node("partition", "unstructured_api", {"strategy": "fastest"})),
     "/job_nodes/0/settings/strategy", "enum"),
    ("exclude_elements a string",
     jobs(node("partition", API, {"strategy": "hi_res", "exclude_elements": "Image"})),
     "/job_nodes/0/settings/exclude_elements", "type"),
    ("ocr language not a string",
     jobs(node("partition", API, {"strategy": "fast", "ocr_languages": ["eng", 1]})),
     "/job_nodes/0/settings/ocr_languages/1", "type"),
    ("similarity_threshold 1.0",
     jobs(AUTO, node("chunk", CHUNK_SIM, {"similarity_threshold": 1.0})),
     "/job_nodes/1/settings/similarity_threshold", "exclusiveMaximum"),
    ("similarity_threshold 0", jobs(AUTO, node("chunk", CHUNK_SIM, {"similarity_threshold": 0})),
     "/job_nodes/1/settings/similarity_threshold", "exclusiveMinimum"),
    ("new_after_n_chars true (a doc defect)",
     jobs(AUTO, node("chunk", CHUNK_SIM, {"new_after_n_chars": True})),
     "/job_nodes/1/settings/new_after_n_chars", "type"),
    ("max_characters 0", jobs(AUTO, node("chunk", "chunk_by_title", {"max_characters": 0})),
     "/job_nodes/1/settings/max_characters", "exclusiveMinimum"),
    ("max_characters a string",
     jobs(AUTO, node("chunk", "chunk_by_title", {"max_characters": "2048"})),
     "/job_nodes/1/settings/max_characters", "type"),
    ("max_characters fractional",
     jobs(AUTO, node("chunk", "chunk_by_title", {"max_characters": 2048.5})),
     "/job_nodes/1/settings/max_characters", "type"),
    ("negative overlap", jobs(AUTO, node("chunk", "chunk_by_page", {"overlap": -1})),
     "/job_nodes/1/settings/overlap", "minimum"),
    ("negative combine_text_under_n_chars",
     jobs(AUTO, node("chunk", "chunk_by_title", {"combine_text_under_n_chars": -5})),
     "/job_nodes/1/settings/combine_text_under_n_chars", "minimum"),
    ("contextual chunking v2",
     jobs(AUTO, node("chunk", "chunk_by_character", {"contextual_chunking_strategy": "v2"})),
     "/job_nodes/1/settings/contextual_chunking_strategy", "enum"),
    ("api url not a string",
     jobs(AUTO, node("chunk", "chunk_by_character", {"unstructured_api_url": 80})),
     "/job_nodes/1/settings/unstructured_api_url", "type"),
    ("prompter model not a string",
     jobs(AUTO, node("prompter", "openai_image_description", {"model": 4})),
     "/job_nodes/1/settings/model", "type"),
    ("hi_res with null settings", jobs({**node("partition", API), "settings": None}),
     "/job_nodes/0/settings", "type"),
    ("embed with null settings",
     jobs(AUTO, node("chunk", "chunk_by_page"), {**node("embed", "openai"), "settings": None}),
     "/job_nodes/2/settings", "type"),
    ("ner prompt not a string",
     jobs(AUTO, node("prompter", "anthropic_ner", {
         "provider_type": "anthropic", "model": "m",
         "prompt_interface_overrides": {"prompt": {"user": ["x"]}}})),
     "/job_nodes/1/settings/prompt_interface_overrides/prompt/user", "type"),
    ("embed without model_name",
     jobs(AUTO, node("chunk", "chunk_by_page"), node("embed", "voyageai", {})),
     "/job_nodes/2/settings", "required"),
    ("embed without settings",
     jobs(AUTO, node("chunk", "chunk_by_page"), node("embed", "voyageai")),
     "/job_nodes/2", "required"),
    ("model_name not a string",
     jobs(AUTO, node("chunk", "chunk_by_page"), node("embed", "ibm", {"model_name": 3})),
     "/job_nodes/2/settings/model_name", "type"),
    ("extract without schema_to_extract",
     jobs(AUTO, node("structured_data_extractor", "llm", {"provider": "openai"})),
     "/job_nodes/1/settings", "required"),
    ("schema_to_extract empty",
     jobs(AUTO, node("structured_data_extractor", "llm", {"schema_to_extract": {}})),
     "/job_nodes/1/settings/schema_to_extract", "anyOf"),
    ("json_schema as an object",
     jobs(AUTO, node("structured_data_extractor", "llm",
                     {"schema_to_extract": {"json_schema": {"type": "object"}}})),
     "/job_nodes/1/settings/schema_to_extract/json_schema", "type"),
    ("bad output_mode",
     jobs(AUTO, node("structured_data_extractor", "llm", {**LLM_OK, "output_mode": "all"})),
     "/job_nodes/1/settings/output_mode", "enum"),
    ("regex without patterns", jobs(AUTO, node("structured_data_extractor", "regex", {})),
     "/job_nodes/1/settings", "required"),
    ("regex with no patterns",
     jobs(AUTO, node("structured_data_extractor", "regex", {"regex_patterns": []})),
     "/job_nodes/1/settings/regex_patterns", "minItems"),
    ("regex pattern without name",
     jobs(AUTO, node("structured_data_extractor", "regex", {"regex_patterns": [{"pattern": "x"}]})),
     "/job_nodes/1/settings/regex_patterns/0", "required"),
    ("regex patterns as a mapping",
     jobs(AUTO, node("structured_data_extractor", "regex", {"regex_patterns": {"n": "x"}})),
     "/job_nodes/1/settings/regex_patterns", "type"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "where", "keyword"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_documents_fail_at_the_expected_pointer(doc: Any, where: str, keyword: str) -> None:
    found = errors(doc)
    assert found, "the schema accepted it"
    best = best_match(found)
    assert best is not None
    assert (pointer(best), best.validator) == (where, keyword), best.message


def test_errors_come_from_the_right_branch_only() -> None:
    """A chunk error is reported once, by the chunk branch; no other type's branch fires."""
    doc = jobs(AUTO, node("chunk", "chunk_by_title", {"max_characters": 0}))
    found = errors(doc)
    assert [pointer(e) for e in found] == ["/job_nodes/1/settings/max_characters"]
    assert "chunk_by_titleSettings" not in str(found[0].absolute_schema_path)  # $refs inlined
    assert "chunkNode" not in json.dumps(list(found[0].absolute_schema_path))


# -- agreement with the catalogue ---------------------------------------------------------------
# The schema is generated from dagkit/model/catalogue/source.py (test_catalogue.py holds the two
# equal); these tests check the generated schema behaves as the catalogue says.


# Behaviour, not just structure: for every kind, every documented key is checked where the
# node's type, subtype and discriminator send it.


def _sample_settings(kind: NodeKind) -> dict[str, Any]:
    """Minimal valid settings of ``kind``: its discriminator and required keys."""
    settings: dict[str, Any] = {}
    for setting in kind.settings.values():
        if setting.required:
            settings[setting.name] = _valid_value(setting)
    return settings


def _valid_value(setting: Setting) -> Any:
    if setting.const is not None:
        return setting.const
    if setting.enum is not None:
        return setting.enum[0]
    if setting.type == "object":
        return {name: _valid_value(f) for name, f in (setting.fields or {}).items()}
    if setting.type == "array":
        item = (
            {n: _valid_value(f) for n, f in (setting.fields or {}).items()}
            if setting.items_type == "object"
            else "x"
        )
        return [item]
    return {"string": "x", "boolean": True, "integer": 1, "number": 0.5}[setting.type]


def _edges(setting: Setting) -> list[tuple[float, bool]]:
    """Values at and just beyond each bound of a numeric setting, and whether each is valid."""
    step = 1 if setting.type == "integer" else 1e-9
    out: list[tuple[float, bool]] = []
    if setting.minimum is not None:
        out += [(setting.minimum, True), (setting.minimum - step, False)]
    if setting.maximum is not None:
        out += [(setting.maximum, True), (setting.maximum + step, False)]
    if setting.exclusive_minimum is not None:
        out += [(setting.exclusive_minimum, False), (setting.exclusive_minimum + step, True)]
    if setting.exclusive_maximum is not None:
        out += [(setting.exclusive_maximum, False), (setting.exclusive_maximum - step, True)]
    return out


_WRONG_TYPE = {
    "string": 5,
    "boolean": "true",
    "integer": 1.5,
    "number": "0.5",
    "array": "x",
    "object": ["x"],
}


def _kind_doc(kind: NodeKind, settings: dict[str, Any]) -> dict[str, Any]:
    return jobs(node(kind.type, kind.subtype, settings))


def _pointers(doc: Any) -> set[str]:
    return {pointer(e) for e in errors(doc)}


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
def test_every_setting_is_checked_in_its_kind_branch(kind: NodeKind) -> None:
    base = _sample_settings(kind)
    assert errors(_kind_doc(kind, base)) == []
    for name, setting in kind.settings.items():
        at = f"/job_nodes/0/settings/{name}"
        if kind.discriminator is not None and name == kind.discriminator[0]:
            continue  # changing it changes the kind: covered by the INVALID table
        if setting.type == "any":
            assert errors(_kind_doc(kind, {**base, name: [{"x": None}]})) == []
            continue
        wrong = {**base, name: _WRONG_TYPE[setting.type]}
        assert at in _pointers(_kind_doc(kind, wrong)), f"{kind.key}.{name} wrong type"
        null_ok = errors(_kind_doc(kind, {**base, name: None})) == []
        assert null_ok == setting.nullable, f"{kind.key}.{name} null"
        assert errors(_kind_doc(kind, {**base, name: _valid_value(setting)})) == []
        if setting.enum is not None or setting.const is not None:
            outside = (not setting.const) if setting.type == "boolean" else "not-documented"
            assert at in _pointers(_kind_doc(kind, {**base, name: outside})), f"{kind.key}.{name}"
        for edge, ok in _edges(setting):
            doc = _kind_doc(kind, {**base, name: edge})
            assert (errors(doc) == []) if ok else (at in _pointers(doc)), f"{name}={edge}"
        if setting.required:
            missing = {k: v for k, v in base.items() if k != name}
            assert "/job_nodes/0/settings" in _pointers(_kind_doc(kind, missing)), name


def test_mutating_a_valid_document_never_crashes_and_is_detected() -> None:
    """Deleting any required key of the quickstart makes it invalid at that key's parent."""
    for index, entry in enumerate(QUICKSTART["job_nodes"]):
        for key in ("name", "type", "subtype"):
            doc = copy.deepcopy(QUICKSTART)
            del doc["job_nodes"][index][key]
            assert f"/job_nodes/{index}" in _pointers(doc)
        assert entry["settings"]
