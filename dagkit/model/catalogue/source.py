"""The node catalogue as written by hand: the one place node kinds and settings are defined.

Edit this file, then run ``dagkit schemas generate --catalogue`` and commit what it writes
(``dagkit/model/catalogue/data.py``, ``dagkit/model/catalogue/typed.py``,
``schemas/request-data.schema.json``). Only the generator and the tests import this module.

What the platform accepted and stored outranks a docs page's "_Required_": a setting the
platform fills a default for is optional, and every optional setting may be null.
"""

from __future__ import annotations

from typing import Any

from dagkit.model.catalogue.entries import EmbeddingModel, NodeKind, Setting

NODE_TYPES: tuple[str, ...] = (
    "partition",
    "prompter",
    "chunk",
    "embed",
    "structured_data_extractor",
)

#: The enrichment tasks and, per task, the provider each subtype stands for.
ENRICHMENT_SUBTYPES: dict[str, dict[str, str]] = {
    "image_description": {
        p: f"{p}_image_description" for p in ("anthropic", "bedrock", "openai", "vertexai")
    },
    "table_description": {
        p: f"{p}_table_description" for p in ("anthropic", "bedrock", "openai", "vertexai")
    },
    "table_to_html": {
        "twopass": "twopass_table2html",
        "anthropic": "anthropic_table2html",
        "openai": "openai_table2html",
    },
    "ner": {"anthropic": "anthropic_ner", "openai": "openai_ner"},
    "generative_ocr": {p: f"{p}_ocr" for p in ("anthropic", "bedrock", "openai")},
}

#: Every documented subtype per node type. ``openai`` embedders are stored by the platform
#: (S3_to_MongoDB, S3_to_Qdrant and Hybrid_RAG notebooks) though the embedder list omits them.
SUBTYPES: dict[str, tuple[str, ...]] = {
    "partition": ("vlm", "unstructured_api"),
    "prompter": tuple(s for task in ENRICHMENT_SUBTYPES.values() for s in task.values()),
    "chunk": ("chunk_by_character", "chunk_by_title", "chunk_by_page", "chunk_by_similarity"),
    "embed": ("azure_openai", "bedrock", "ibm", "openai", "togetherai", "voyageai"),
    "structured_data_extractor": ("llm", "regex"),
}

#: Node types whose subtypes are a closed set (an unknown one is an error). Prompter and embed
#: subtypes name providers, an open set: an unknown one is a warning.
CLOSED_SUBTYPES: frozenset[str] = frozenset({"partition", "chunk", "structured_data_extractor"})

_OPENAI_EMBEDDINGS = ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")

#: Documented models per node family and provider (Let's Go / Pay-As-You-Go accounts, March
#: 2026, plus models real requests used). These lists change often, so a model outside them is
#: a warning, never an error.
MODELS: dict[str, dict[str, tuple[str, ...]]] = {
    "partition": {
        "anthropic": (
            "claude-opus-4-5-20251101",  # listed for VLM only
            "claude-3-7-sonnet-20250219",
            "claude-sonnet-4-20250514",
            "claude-sonnet-4-5-20250929",
        ),
        "auto": (),  # the platform picks the model
        "bedrock": (
            "us.amazon.nova-lite-v1:0",
            "us.amazon.nova-pro-v1:0",
            "us.anthropic.claude-3-opus-20240229-v1:0",
            "us.anthropic.claude-3-haiku-20240307-v1:0",
            "us.anthropic.claude-3-sonnet-20240229-v1:0",
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
        ),
        "openai": ("gpt-4o", "gpt-5-mini-2025-08-07"),
        "vertexai": ("gemini-2.0-flash-001",),
    },
    "enrichment": {
        "anthropic": (
            "claude-opus-4-5-20251101",
            "claude-3-7-sonnet-20250219",
            "claude-sonnet-4-20250514",
            "claude-sonnet-4-5-20250929",
        ),
        "bedrock": (
            "us.amazon.nova-lite-v1:0",
            "us.amazon.nova-pro-v1:0",
            "us.anthropic.claude-3-haiku-20240307-v1:0",
            "us.anthropic.claude-3-opus-20240229-v1:0",
            "us.anthropic.claude-3-sonnet-20240229-v1:0",
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        "openai": ("gpt-4o", "gpt-4o-mini", "gpt-5-mini"),
        "vertexai": ("gemini-2.0-flash-001",),  # image and table description only
    },
    "extract": {
        "anthropic": (
            "claude-opus-4-5-20251101",
            "claude-sonnet-4-5-20250929",
            "claude-haiku-4-5-20251001",
            "claude-3-7-sonnet-20250219",
            "claude-sonnet-4-20250514",
        ),
        "azure_openai": ("gpt-5-mini", "gpt-4o", "gpt-4o-mini"),
        "bedrock": (
            "us.anthropic.claude-opus-4-20250514-v1:0",
            "us.anthropic.claude-sonnet-4-20250514-v1:0",
            "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        "openai": ("gpt-4o", "gpt-5-mini", "gpt-4o-mini"),
    },
    "embed": {
        "azure_openai": _OPENAI_EMBEDDINGS,
        "bedrock": (
            "amazon.titan-embed-text-v2:0",
            "amazon.titan-embed-text-v1",
            "amazon.titan-embed-image-v1",
            "cohere.embed-english-v3",
            "cohere.embed-multilingual-v3",
        ),
        "ibm": (
            "sentence-transformers/all-minilm-l6-v2",
            "ibm/granite-embedding-278m-multilingual",
            "intfloat/multilingual-e5-large",
            "ibm/slate-125m-english-rtrvr-v2",
            "ibm/slate-125m-multilingual-rtrvr-v2",
        ),
        "openai": _OPENAI_EMBEDDINGS,
        "togetherai": (
            "togethercomputer/m2-bert-80M-32k-retrieval",
            # used in the MCP docstring and the AgenticRAG_with_LangGraph notebook
            "togethercomputer/m2-bert-80M-8k-retrieval",
            "togethercomputer/m2-bert-80M-2k-retrieval",
        ),
        "voyageai": (
            "voyage-3",
            "voyage-3-large",
            "voyage-3-lite",
            "voyage-code-3",
            "voyage-finance-2",
            "voyage-law-2",
            "voyage-code-2",
            "voyage-multimodal-3",
        ),
    },
}

#: Documented providers per node family.
PROVIDERS: dict[str, tuple[str, ...]] = {family: tuple(m) for family, m in MODELS.items()}

#: Models the platform has removed: the API answers errors for them.
REMOVED_MODELS: dict[str, str] = {
    "claude-3-5-sonnet-20241022": "removed on 2025-10-22",
    "us.anthropic.claude-3-5-sonnet-20241022-v2:0": "removed on 2025-10-22",
}

#: The model each enrichment provider uses when the caller names none.
DEFAULT_ENRICHMENT_MODELS: dict[str, str] = {
    "anthropic": "claude-sonnet-4-20250514",
    "bedrock": "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "openai": "gpt-4o",
    "vertexai": "gemini-2.0-flash-001",
}


def _ceiling(dimensions: int, max_tokens: int) -> EmbeddingModel:
    """A model's size, with the docs' approximate chunk ceiling of 3.5 characters per token."""
    return EmbeddingModel(dimensions, max_tokens, max_tokens * 7 // 2)


_COHERE = _ceiling(1024, 512)
_VOYAGE = _ceiling(1024, 32000)
_OPENAI_SIZES = {
    "text-embedding-3-small": _ceiling(1536, 8192),
    "text-embedding-3-large": _ceiling(3072, 8192),
    "text-embedding-ada-002": _ceiling(1536, 8192),
}

#: Sizes per embed subtype and model. IBM models have no documented limits, so they are absent
#: here (they are in ``MODELS["embed"]``).
EMBEDDING_MODELS: dict[str, dict[str, EmbeddingModel]] = {
    "azure_openai": _OPENAI_SIZES,
    "bedrock": {
        "amazon.titan-embed-text-v2:0": _ceiling(1024, 8192),
        "amazon.titan-embed-text-v1": _ceiling(1536, 8192),
        "amazon.titan-embed-image-v1": _ceiling(1024, 256),
        "cohere.embed-english-v3": _COHERE,
        "cohere.embed-multilingual-v3": _COHERE,
    },
    "ibm": {},
    "openai": _OPENAI_SIZES,
    "togetherai": {
        "togethercomputer/m2-bert-80M-32k-retrieval": _ceiling(768, 8192),
        "togethercomputer/m2-bert-80M-8k-retrieval": _ceiling(768, 8192),
        "togethercomputer/m2-bert-80M-2k-retrieval": _ceiling(768, 2048),
    },
    "voyageai": {
        "voyage-3": _VOYAGE,
        "voyage-3-large": _VOYAGE,
        "voyage-code-3": _VOYAGE,
        "voyage-finance-2": _VOYAGE,
        "voyage-multimodal-3": _VOYAGE,
        "voyage-3-lite": _ceiling(512, 32000),
        "voyage-code-2": _ceiling(1536, 16000),
        "voyage-law-2": _ceiling(1024, 16000),
    },
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Documented element types per settings key of the hi_res/fast partitioner. An open set: other
#: names are warnings. Lowercase spellings are accepted: the docs' own templates use them and the
#: platform stores them.
ELEMENT_TYPES: dict[str, tuple[str, ...]] = {
    "exclude_elements": _words(
        "Address EmailAddress FigureCaption Footer Formula Header Image ListItem NarrativeText "
        "PageBreak Table Title UncategorizedText"
    ),
    "extract_image_block_types": _words(
        "Abstract BulletedText Caption CodeSnippet CompositeElement Figure FigureCaption Form "
        "FormKeysValues Formula Header Image List List-item ListItem NarrativeText Paragraph "
        "Picture Table Text Threading Title UncategorizedText"
    ),
}

_PROVIDER_LABELS = {
    "anthropic": "Anthropic",
    "bedrock": "Amazon Bedrock",
    "openai": "OpenAI",
    "vertexai": "Vertex AI",
    "twopass": "two-pass",
    "azure_openai": "Azure OpenAI",
    "ibm": "IBM watsonx.ai",
    "togetherai": "Together AI",
    "voyageai": "Voyage AI",
}
_TASK_LABELS = {
    "image_description": "Image description",
    "table_description": "Table description",
    "table_to_html": "Table to HTML",
    "ner": "Named entity recognition",
    "generative_ocr": "Generative OCR",
}


def _table(*settings: Setting) -> dict[str, Setting]:
    return {s.name: s for s in settings}


def _bool(name: str, default: bool | None = None, description: str = "") -> Setting:
    return Setting(name, "boolean", default=default, description=description)


def _str_list(name: str, description: str, default: tuple[str, ...] | None = None) -> Setting:
    return Setting(name, "array", items_type="string", default=default, description=description)


_VLM_COMMON = _table(
    Setting("provider", "string", default="anthropic", description="the model provider"),
    Setting(
        "provider_api_key",
        "string",
        secret=True,
        description="your own provider key; null uses Unstructured's",
    ),
    Setting("model", "string", default="claude-sonnet-4-20250514", description="the model"),
    Setting(
        "output_format",
        "string",
        default="text/html",
        enum=("text/html", "application/json"),
        description="what the model is asked to produce",
    ),
    _bool("format_html", True, "tidy the HTML the model returns"),
    _bool("unique_element_ids", True, "random element ids; false uses a SHA-256 of the text"),
    # The platform stores these three (as null) in the settings it echoes; no source shows
    # their values, so any JSON value is taken.
    Setting("user_prompt", "any", description="a prompt for the model (no source shows its form)"),
    Setting("prompt", "any", description="a prompt for the model (no source shows its form)"),
    Setting(
        "custom_host_config",
        "any",
        description="where a self-hosted model runs (no source shows its form)",
    ),
)

_AUTO_SETTINGS = _table(
    Setting(
        "is_dynamic",
        "boolean",
        const=True,
        required=True,
        description="true picks the Auto strategy (false, or leaving it out, is VLM)",
    ),
    Setting(
        "allow_fast",
        "boolean",
        const=True,
        description="Auto may use the fast strategy on simple pages; the platform fills true",
    ),
    *_VLM_COMMON.values(),
)

_VLM_SETTINGS = _table(
    Setting(
        "is_dynamic",
        "boolean",
        const=False,
        default=False,
        description="false picks the VLM strategy (true is Auto); the platform fills false",
    ),
    _bool("allow_fast", True, "may use the fast strategy on simple pages"),
    *_VLM_COMMON.values(),
)


def _unstructured_api_settings(strategy: str) -> dict[str, Setting]:
    return _table(
        Setting(
            "strategy",
            "string",
            const=strategy,
            required=True,
            description="hi_res or fast; picks the partitioning strategy",
        ),
        *_UNSTRUCTURED_API_COMMON.values(),
    )


_UNSTRUCTURED_API_COMMON = _table(
    _bool("include_page_breaks", False, "emit PageBreak elements"),
    _bool(
        "pdf_infer_table_structure",
        False,
        "table HTML for PDFs (has no effect with the fast strategy)",
    ),
    _str_list("exclude_elements", "element types to drop from the output"),
    _bool("xml_keep_tags", False, "keep XML tags in the text of XML files"),
    Setting("encoding", "string", default="utf-8", description="text encoding of text files"),
    _str_list("ocr_languages", "Tesseract language codes", default=("eng",)),
    _str_list(
        "extract_image_block_types",
        "element types whose images are cut out (generative OCR reads only these)",
    ),
    _bool("infer_table_structure", False, "table HTML in metadata.text_as_html"),
    _bool("coordinates", False, "element coordinates in metadata"),
)

_CHUNK_COMMON = _table(
    Setting("unstructured_api_url", "string", description="a different chunking endpoint"),
    Setting(
        "unstructured_api_key",
        "string",
        secret=True,
        description="the key for unstructured_api_url",
    ),
    _bool("include_orig_elements", False, "keep the chunked elements in metadata.orig_elements"),
    Setting(
        "new_after_n_chars",
        "integer",
        minimum=0,
        description="soft maximum: start a new chunk after this many characters",
    ),
    Setting(
        "max_characters",
        "integer",
        exclusive_minimum=0,
        description="hard maximum characters per chunk (must fit the embedding model)",
    ),
    Setting("overlap", "integer", minimum=0, description="characters repeated between chunks"),
    _bool("overlap_all", False, "overlap every chunk, not only split oversized elements"),
    Setting(
        "contextual_chunking_strategy",
        "string",
        const="v1",
        description="prepend document context to each chunk (only v1 exists)",
    ),
    _bool("isolate_table", True, "put each table in a chunk of its own"),
)

_CHUNK_BY_TITLE = _table(
    *_CHUNK_COMMON.values(),
    _bool("multipage_sections", False, "let a section's chunks span pages"),
    Setting(
        "combine_text_under_n_chars",
        "integer",
        minimum=0,
        description="merge sections shorter than this",
    ),
)

_CHUNK_BY_SIMILARITY = _table(
    *_CHUNK_COMMON.values(),
    Setting(
        "similarity_threshold",
        "number",
        exclusive_minimum=0,
        exclusive_maximum=1,
        description="how alike neighbouring elements must be to share a chunk (0 to 1, exclusive)",
    ),
)

# Enrichment nodes with settings {} or without provider_type and model run: the platform
# fills the provider of the subtype and its default model (on-demand walkthrough notebook).
_PROMPTER_SETTINGS_BASE = (
    Setting(
        "provider_type", "string", description="the provider the subtype names; filled if absent"
    ),
    Setting("model", "string", description="the model; the platform's default if absent"),
)

_NER_PROMPT = Setting(
    "prompt_interface_overrides",
    "object",
    description="replace the built-in NER prompt",
    fields=_table(
        Setting(
            "prompt",
            "object",
            description="the prompt parts to replace",
            fields=_table(Setting("user", "string", description="the whole replacement prompt")),
        )
    ),
)

_OUTPUT_MODE = Setting(
    "output_mode",
    "string",
    default="elements_with_extracted_data",
    enum=("elements_with_extracted_data", "extracted_data_only"),
    description="keep the elements next to the extracted data, or return only the data",
)

_LLM_SETTINGS = _table(
    Setting(
        "schema_to_extract",
        "object",
        required=True,
        description="what to extract: a JSON schema (as a string) or a prompt, or both (the docs "
        "say one, their quickstart sends both)",
        fields=_table(
            Setting(
                "json_schema",
                "string",
                description="an OpenAI Structured Outputs schema serialized as a string",
            ),
            Setting("extraction_guidance", "string", description="a prompt saying what to extract"),
        ),
        one_required=("json_schema", "extraction_guidance"),
    ),
    Setting("provider", "string", description="the model provider"),
    Setting("model", "string", description="the model"),
    _OUTPUT_MODE,
)

_REGEX_SETTINGS = _table(
    Setting(
        "regex_patterns",
        "array",
        required=True,
        items_type="object",
        min_items=1,
        description="named Python regular expressions; one list of matches per name",
        fields=_table(
            Setting("name", "string", required=True, description="names the list of matches"),
            Setting("pattern", "string", required=True, description="a Python re pattern"),
        ),
    ),
    _OUTPUT_MODE,
)

_EMBED_SETTINGS = _table(
    Setting("model_name", "string", required=True, description="the embedding model"),
)


def _prompter_kinds() -> list[NodeKind]:
    kinds = []
    for task, by_provider in ENRICHMENT_SUBTYPES.items():
        for provider, subtype in by_provider.items():
            if provider == "twopass":
                settings: dict[str, Setting] = {}
                schema_def = "prompterTwoPassSettings"
            elif task == "ner":
                settings = _table(*_PROMPTER_SETTINGS_BASE, _NER_PROMPT)
                schema_def = "prompterNerSettings"
            else:
                settings = _table(*_PROMPTER_SETTINGS_BASE)
                schema_def = "prompterSettings"
            kinds.append(
                NodeKind(
                    subtype,
                    "prompter",
                    subtype,
                    f"{_TASK_LABELS[task]} ({_PROVIDER_LABELS[provider]})",
                    settings,
                    provider=provider,
                    task=task,
                    schema_def=schema_def,
                )
            )
    return kinds


def _kinds() -> dict[str, NodeKind]:
    chunk_settings = {
        "chunk_by_character": ("Chunk by character", _CHUNK_COMMON),
        "chunk_by_title": ("Chunk by title", _CHUNK_BY_TITLE),
        "chunk_by_page": ("Chunk by page", _CHUNK_COMMON),
        "chunk_by_similarity": ("Chunk by similarity", _CHUNK_BY_SIMILARITY),
    }
    kinds = [
        NodeKind(
            "auto",
            "partition",
            "vlm",
            "Auto partitioner",
            _AUTO_SETTINGS,
            ("is_dynamic", True),
            "partition",
            schema_def="autoPartitionSettings",
        ),
        NodeKind(
            "vlm",
            "partition",
            "vlm",
            "VLM partitioner",
            _VLM_SETTINGS,
            ("is_dynamic", False),
            "partition",
            schema_def="vlmPartitionSettings",
        ),
        NodeKind(
            "hi_res",
            "partition",
            "unstructured_api",
            "High Res partitioner",
            _unstructured_api_settings("hi_res"),
            ("strategy", "hi_res"),
            schema_def="hiResPartitionSettings",
        ),
        NodeKind(
            "fast",
            "partition",
            "unstructured_api",
            "Fast partitioner",
            _unstructured_api_settings("fast"),
            ("strategy", "fast"),
            schema_def="fastPartitionSettings",
        ),
        *_prompter_kinds(),
        *(
            NodeKind(subtype, "chunk", subtype, label, table, schema_def=f"{subtype}Settings")
            for subtype, (label, table) in chunk_settings.items()
        ),
        *(
            NodeKind(
                provider,
                "embed",
                provider,
                f"{_PROVIDER_LABELS[provider]} embedder",
                _EMBED_SETTINGS,
                provider=provider,
                schema_def="embedSettings",
            )
            for provider in SUBTYPES["embed"]
        ),
        NodeKind(
            "llm",
            "structured_data_extractor",
            "llm",
            "LLM extractor",
            _LLM_SETTINGS,
            schema_def="llmExtractSettings",
        ),
        NodeKind(
            "regex",
            "structured_data_extractor",
            "regex",
            "Regex extractor",
            _REGEX_SETTINGS,
            schema_def="regexExtractSettings",
        ),
    ]
    return {kind.key: kind for kind in kinds}


#: Every node kind, by key: ``auto``, ``vlm``, ``hi_res``, ``fast``, each prompter subtype, each
#: chunk subtype, each embed subtype, ``llm``, ``regex``.
KINDS: dict[str, NodeKind] = _kinds()

#: Titles of the $defs that type settings (kinds may share one).
SCHEMA_TITLES: dict[str, str] = {
    "autoPartitionSettings": "Auto partitioner settings",
    "vlmPartitionSettings": "VLM partitioner settings",
    "hiResPartitionSettings": "High Res partitioner settings",
    "fastPartitionSettings": "Fast partitioner settings",
    "prompterSettings": "Enrichment settings",
    "prompterNerSettings": "Named entity recognition settings",
    "prompterTwoPassSettings": "Two-pass table to HTML settings",
    "chunk_by_characterSettings": "Chunk by character settings",
    "chunk_by_titleSettings": "Chunk by title settings",
    "chunk_by_pageSettings": "Chunk by page settings",
    "chunk_by_similaritySettings": "Chunk by similarity settings",
    "embedSettings": "Embedder settings",
    "llmExtractSettings": "LLM extractor settings",
    "regexExtractSettings": "Regex extractor settings",
}

#: The TypedDicts behind the constructors' keyword arguments: name, the kind whose settings
#: they list, the settings the constructor fixes itself, and a docstring.
TYPED_SETTINGS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("AutoSettings", "auto", ("is_dynamic", "allow_fast"), "Settings of Partition.auto."),
    ("VlmSettings", "vlm", ("is_dynamic",), "Settings of Partition.vlm."),
    (
        "UnstructuredApiSettings",
        "hi_res",
        ("strategy",),
        "Settings of Partition.hi_res and Partition.fast.",
    ),
    ("ChunkSettings", "chunk_by_character", (), "Settings every chunker takes."),
    ("TitleChunkSettings", "chunk_by_title", (), "Settings of Chunk.by_title."),
    ("SimilarityChunkSettings", "chunk_by_similarity", (), "Settings of Chunk.by_similarity."),
)

#: request_data's own keys besides template_id and job_nodes, each a JSON Schema property.
#: ``skip_preflight`` has no public source: dagkit accepts it and warns (DK215).
ASSUMED_OPTIONS: dict[str, dict[str, Any]] = {
    "skip_preflight": {
        "title": "Skip preflight",
        "description": "dagkit's own assumption, not seen in any public request or answer: "
        "skip the server's preflight checks of the job. dagkit warns when it is sent.",
        "type": "boolean",
    },
}
