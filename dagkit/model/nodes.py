"""The typed constructors of nodes (:class:`Partition`, :class:`Enrich`, :class:`Chunk`,
:class:`Embed`, :class:`Extract`), each checking its settings against the node catalogue
(generated from ``dagkit/model/catalogue/source.py``, see :mod:`dagkit.model.catalogue`).

Each returns a :class:`Node`: plain data, ``name``, ``type``, ``subtype``, ``settings`` and an
optional ``id``, exactly the object that goes into ``job_nodes``; ``a >> b`` chains nodes into a
:class:`dagkit.model.dag.JobDAG`. The catalogue lookups (:func:`kind_of` and friends) live in
:mod:`dagkit.model.base` and are importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Unpack

from dagkit.core.suggest import shortlist
from dagkit.errors import NodeSettingsError
from dagkit.model.base import (
    _TYPE_WORDS,
    _did_you_mean,
    _json_text,
    _quoted,
    _same_json,
    catalogue_findings,
    describe,
    embedding_model,
    enrichment_task,
    kind_of,
    node_fields,
    partition_strategy,
)
from dagkit.model.catalogue.data import (
    ASSUMED_OPTIONS,
    CLOSED_SUBTYPES,
    DEFAULT_ENRICHMENT_MODELS,
    ELEMENT_TYPES,
    EMBEDDING_MODELS,
    ENRICHMENT_SUBTYPES,
    KINDS,
    MODELS,
    NODE_TYPES,
    PROVIDERS,
    REMOVED_MODELS,
    SECRET_SETTINGS,
    SUBTYPES,
)
from dagkit.model.catalogue.entries import EmbeddingModel, JsonType, NodeKind, Setting
from dagkit.model.dag import Node

if TYPE_CHECKING:
    from dagkit.model.catalogue.typed import (
        AutoSettings,
        ChunkSettings,
        SimilarityChunkSettings,
        TitleChunkSettings,
        UnstructuredApiSettings,
        VlmSettings,
    )

__all__ = [
    "ASSUMED_OPTIONS",
    "CLOSED_SUBTYPES",
    "DEFAULT_ENRICHMENT_MODELS",
    "ELEMENT_TYPES",
    "EMBEDDING_MODELS",
    "ENRICHMENT_SUBTYPES",
    "KINDS",
    "MODELS",
    "NODE_TYPES",
    "PROVIDERS",
    "REMOVED_MODELS",
    "SECRET_SETTINGS",
    "SUBTYPES",
    "Chunk",
    "Embed",
    "EmbeddingModel",
    "Enrich",
    "Extract",
    "JsonType",
    "Node",
    "NodeKind",
    "Partition",
    "Setting",
    "catalogue_findings",
    "describe",
    "embedding_model",
    "enrichment_task",
    "kind_of",
    "partition_strategy",
]

_TYPED = frozenset(
    {
        "AutoSettings",
        "ChunkSettings",
        "SimilarityChunkSettings",
        "TitleChunkSettings",
        "UnstructuredApiSettings",
        "VlmSettings",
    }
)


def __getattr__(name: str) -> Any:
    # lazy: the TypedDicts cost a little to build and only type checkers need them
    if name in _TYPED:
        from dagkit.model.catalogue import typed

        return getattr(typed, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def node_from_dict(raw: Any) -> Node | None:
    """A :class:`Node` from one ``job_nodes`` entry, or None when its shape is not readable."""
    fields = node_fields(raw)
    return None if fields is None else Node(*fields)


def _quoted_short(values: Iterable[str]) -> str:
    """As :func:`_quoted`, a long list cut to its first few names and how many more."""
    return shortlist(f'"{v}"' for v in values)


def _is_type(value: Any, type_: JsonType) -> bool:
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "number":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            # math.isfinite(10**400) overflows; every int is finite
            and (isinstance(value, int) or math.isfinite(value))
        )
    if type_ == "array":
        return isinstance(value, list | tuple)
    if type_ == "any":
        return True
    return isinstance(value, Mapping)


def _in_range(setting: Setting, value: float) -> bool:
    return not (
        (setting.minimum is not None and value < setting.minimum)
        or (setting.maximum is not None and value > setting.maximum)
        or (setting.exclusive_minimum is not None and value <= setting.exclusive_minimum)
        or (setting.exclusive_maximum is not None and value >= setting.exclusive_maximum)
    )


def _checked(ctor: str, setting: Setting, value: Any, path: str) -> Any:
    """``value`` as JSON data if ``setting`` accepts it; else NodeSettingsError naming ``path``."""

    def bad(what: str | None = None) -> NodeSettingsError:
        got = "a secret value" if setting.secret else _got(value)
        return NodeSettingsError(f"{ctor}: {path} must be {what or describe(setting)}; got {got}")

    if value is None:
        if setting.nullable:
            return None
        raise bad()
    if not _is_type(value, setting.type):
        raise bad()
    if setting.const is not None and not _same_json(value, setting.const):
        raise bad()
    if setting.enum is not None and value not in setting.enum:
        raise bad()
    if setting.type in ("integer", "number") and not _in_range(setting, value):
        raise bad()
    if setting.type == "array":
        return _checked_array(ctor, setting, value, path, bad)
    if setting.type == "object":
        return _checked_object(ctor, setting.fields or {}, setting.one_required, value, path)
    return value


def _checked_array(
    ctor: str, setting: Setting, value: Any, path: str, bad: Callable[[str], NodeSettingsError]
) -> list[Any]:
    items = list(value)
    if setting.min_items is not None and len(items) < setting.min_items:
        raise bad(f"a list of at least {setting.min_items} item(s)")
    out = []
    for i, item in enumerate(items):
        item_path = f"{path}[{i}]"
        if setting.items_type == "object":
            out.append(_checked_object(ctor, setting.fields or {}, (), item, item_path))
        elif setting.items_type is not None and not _is_type(item, setting.items_type):
            raise NodeSettingsError(
                f"{ctor}: {item_path} must be {_TYPE_WORDS[setting.items_type]}; got {_got(item)}"
            )
        elif setting.items_enum is not None and item not in setting.items_enum:
            raise NodeSettingsError(
                f"{ctor}: {item_path} must be one of {_quoted(setting.items_enum)}; "
                f"got {_got(item)}"
            )
        else:
            out.append(item)
    return out


def _checked_object(
    ctor: str,
    fields: Mapping[str, Setting],
    one_required: tuple[str, ...],
    value: Any,
    path: str,
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise NodeSettingsError(f"{ctor}: {path} must be a mapping; got {_got(value)}")
    out = {}
    for key, item in value.items():
        field = fields.get(key) if isinstance(key, str) else None
        if field is None:
            raise _unknown_keyword(ctor, str(key), fields, where=f"{path}.")
        out[key] = _checked(ctor, field, item, f"{path}.{key}")
    missing = [s.name for s in fields.values() if s.required and s.name not in out]
    if missing:
        raise NodeSettingsError(f"{ctor}: {path} needs {_quoted(missing)}")
    if one_required and not any(k in out for k in one_required):
        raise NodeSettingsError(f"{ctor}: {path} needs at least one of {_quoted(one_required)}")
    return out


def _got(value: Any) -> str:
    shown = _json_text(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{shown} ({type(value).__name__})"


def _unknown_keyword(
    ctor: str, key: str, allowed: Iterable[str], *, where: str = ""
) -> NodeSettingsError:
    allowed = sorted(allowed)
    hint = _did_you_mean(key, allowed)
    return NodeSettingsError(
        f'{ctor}: unknown setting "{where}{key}"'
        + (f"; {hint}" if hint else ".")
        + f" Allowed: {_quoted_short(allowed) or 'none'}."
    )


def _make(
    kind_key: str,
    ctor: str,
    name: object,
    node_id: object,
    given: Mapping[str, object],
    fixed: Mapping[str, Any] | None = None,
) -> Node:
    """A node of ``kind_key`` with the fixed settings first, then the caller's, each checked."""
    kind = KINDS[kind_key]
    if not isinstance(name, str):
        raise NodeSettingsError(f"{ctor}: name must be a string; got {_got(name)}")
    if node_id is not None and not isinstance(node_id, str):
        raise NodeSettingsError(f"{ctor}: id must be a string or None; got {_got(node_id)}")
    fixed = dict(fixed or {})
    settings: dict[str, Any] = dict(fixed)
    for key, value in given.items():
        if key in fixed:
            raise NodeSettingsError(
                f"{ctor}: {key} is always {_json_text(fixed[key])} for this kind; leave it out"
            )
        setting = kind.settings.get(key)
        if setting is None:
            raise _unknown_keyword(ctor, key, (k for k in kind.settings if k not in fixed))
        settings[key] = _checked(ctor, setting, value, key)
    missing = [key for key in kind.required_settings if key not in settings]
    if missing:
        raise NodeSettingsError(f"{ctor}: missing required setting(s) {_quoted(missing)}")
    return Node(name=name, type=kind.type, subtype=kind.subtype, settings=settings, id=node_id)


# ---------------------------------------------------------------------------------------------
# Constructors
# ---------------------------------------------------------------------------------------------

OutputMode = Literal["elements_with_extracted_data", "extracted_data_only"]


class Partition:
    """Partition nodes: the first node of every job. Settings are keyword-only, with the names
    the API documents; only what you pass (plus what the kind requires) is sent."""

    @staticmethod
    def auto(
        *, name: str = "Partitioner", id: str | None = None, **settings: Unpack[AutoSettings]
    ) -> Node:
        """The Auto strategy: the platform picks fast, hi_res or a VLM page by page."""
        fixed = {"is_dynamic": True, "allow_fast": True}
        return _make("auto", "Partition.auto", name, id, settings, fixed)

    @staticmethod
    def vlm(
        *, name: str = "Partitioner", id: str | None = None, **settings: Unpack[VlmSettings]
    ) -> Node:
        """The VLM strategy: a vision language model reads every page."""
        return _make("vlm", "Partition.vlm", name, id, settings, {"is_dynamic": False})

    @staticmethod
    def hi_res(
        *,
        name: str = "Partitioner",
        id: str | None = None,
        **settings: Unpack[UnstructuredApiSettings],
    ) -> Node:
        """The High Res strategy: layout detection and OCR."""
        return _make("hi_res", "Partition.hi_res", name, id, settings, {"strategy": "hi_res"})

    @staticmethod
    def fast(
        *,
        name: str = "Partitioner",
        id: str | None = None,
        **settings: Unpack[UnstructuredApiSettings],
    ) -> Node:
        """The Fast strategy: text extraction only (not for image files)."""
        return _make("fast", "Partition.fast", name, id, settings, {"strategy": "fast"})


def _enrich(
    task: str,
    ctor: str,
    provider: object,
    model: object,
    name: object,
    node_id: object,
    unknown: Mapping[str, object],
    extra: Mapping[str, object] | None = None,
    extra_keywords: tuple[str, ...] = (),
) -> Node:
    if unknown:
        allowed = ("provider", "model", *extra_keywords, "name", "id")
        raise _unknown_keyword(ctor, next(iter(unknown)), allowed)
    providers = ENRICHMENT_SUBTYPES[task]
    if not isinstance(provider, str) or provider not in providers:
        raise NodeSettingsError(
            f"{ctor}: provider must be one of {_quoted(providers)}; got {_got(provider)} "
            "(the API has no subtype for it)"
        )
    subtype = providers[provider]
    if provider == "twopass":
        if model is not None:
            raise NodeSettingsError(f"{ctor}: the twopass provider takes no model")
        return _make(subtype, ctor, name, node_id, {})
    given: dict[str, object] = {
        "provider_type": provider,
        "model": DEFAULT_ENRICHMENT_MODELS[provider] if model is None else model,
        **(extra or {}),
    }
    return _make(subtype, ctor, name, node_id, given)


class Enrich:
    """Enrichment (``prompter``) nodes. ``provider`` picks the subtype; ``model`` defaults to a
    documented model of that provider. A model outside the documented list is allowed."""

    @staticmethod
    def image_description(
        *,
        provider: str = "anthropic",
        model: str | None = None,
        name: str = "Enrichment",
        id: str | None = None,
        **unknown: Any,
    ) -> Node:
        """Describe images in words (anthropic, bedrock, openai, vertexai)."""
        return _enrich(
            "image_description", "Enrich.image_description", provider, model, name, id, unknown
        )

    @staticmethod
    def table_description(
        *,
        provider: str = "anthropic",
        model: str | None = None,
        name: str = "Enrichment",
        id: str | None = None,
        **unknown: Any,
    ) -> Node:
        """Summarise tables in words (anthropic, bedrock, openai, vertexai)."""
        return _enrich(
            "table_description", "Enrich.table_description", provider, model, name, id, unknown
        )

    @staticmethod
    def table_to_html(
        *,
        provider: str = "anthropic",
        model: str | None = None,
        name: str = "Enrichment",
        id: str | None = None,
        **unknown: Any,
    ) -> Node:
        """Turn tables into HTML (anthropic, openai, or "twopass", which takes no model)."""
        return _enrich("table_to_html", "Enrich.table_to_html", provider, model, name, id, unknown)

    @staticmethod
    def ner(
        *,
        provider: str = "anthropic",
        model: str | None = None,
        prompt: str | None = None,
        name: str = "Enrichment",
        id: str | None = None,
        **unknown: Any,
    ) -> Node:
        """Named entity recognition (anthropic, openai); ``prompt`` replaces the built-in one."""
        override = {"prompt": {"user": prompt}}
        extra = {} if prompt is None else {"prompt_interface_overrides": override}
        ctor = "Enrich.ner"
        return _enrich("ner", ctor, provider, model, name, id, unknown, extra, ("prompt",))

    @staticmethod
    def generative_ocr(
        *,
        provider: str = "anthropic",
        model: str | None = None,
        name: str = "Enrichment",
        id: str | None = None,
        **unknown: Any,
    ) -> Node:
        """Re-read text with a vision model (anthropic, bedrock, openai). After hi_res it reads
        only the element types in the partitioner's extract_image_block_types."""
        return _enrich(
            "generative_ocr", "Enrich.generative_ocr", provider, model, name, id, unknown
        )


class Chunk:
    """Chunk nodes; at most one per job, after every enrichment. Before an embedder, set
    ``max_characters`` within the embedding model's limit."""

    @staticmethod
    def by_character(
        *, name: str = "Chunker", id: str | None = None, **settings: Unpack[ChunkSettings]
    ) -> Node:
        """Fill chunks up to the size limits, element by element."""
        return _make("chunk_by_character", "Chunk.by_character", name, id, settings)

    @staticmethod
    def by_title(
        *, name: str = "Chunker", id: str | None = None, **settings: Unpack[TitleChunkSettings]
    ) -> Node:
        """Start a new chunk at every title (section)."""
        return _make("chunk_by_title", "Chunk.by_title", name, id, settings)

    @staticmethod
    def by_page(
        *, name: str = "Chunker", id: str | None = None, **settings: Unpack[ChunkSettings]
    ) -> Node:
        """Never let a chunk span pages."""
        return _make("chunk_by_page", "Chunk.by_page", name, id, settings)

    @staticmethod
    def by_similarity(
        *,
        name: str = "Chunker",
        id: str | None = None,
        **settings: Unpack[SimilarityChunkSettings],
    ) -> Node:
        """Group neighbouring elements whose embeddings are alike."""
        return _make("chunk_by_similarity", "Chunk.by_similarity", name, id, settings)


def _embed(
    provider: str, model: object, name: object, node_id: object, unknown: Mapping[str, object]
) -> Node:
    ctor = f"Embed.{provider}"
    if unknown:
        raise _unknown_keyword(ctor, next(iter(unknown)), ("model", "name", "id"))
    if not isinstance(model, str) or not model:
        raise NodeSettingsError(
            f"{ctor}: model must be a model name such as "
            f'"{MODELS["embed"][provider][0]}"; got {_got(model)}'
        )
    return _make(provider, ctor, name, node_id, {"model_name": model})


class Embed:
    """Embed nodes, one constructor per provider: ``Embed.azure_openai("text-embedding-3-large")``.
    A model outside the documented list is allowed (the catalogue warns)."""

    @staticmethod
    def azure_openai(
        model: str, *, name: str = "Embedder", id: str | None = None, **unknown: Any
    ) -> Node:
        return _embed("azure_openai", model, name, id, unknown)

    @staticmethod
    def bedrock(
        model: str, *, name: str = "Embedder", id: str | None = None, **unknown: Any
    ) -> Node:
        return _embed("bedrock", model, name, id, unknown)

    @staticmethod
    def ibm(model: str, *, name: str = "Embedder", id: str | None = None, **unknown: Any) -> Node:
        return _embed("ibm", model, name, id, unknown)

    @staticmethod
    def openai(
        model: str, *, name: str = "Embedder", id: str | None = None, **unknown: Any
    ) -> Node:
        return _embed("openai", model, name, id, unknown)

    @staticmethod
    def togetherai(
        model: str, *, name: str = "Embedder", id: str | None = None, **unknown: Any
    ) -> Node:
        return _embed("togetherai", model, name, id, unknown)

    @staticmethod
    def voyageai(
        model: str, *, name: str = "Embedder", id: str | None = None, **unknown: Any
    ) -> Node:
        return _embed("voyageai", model, name, id, unknown)


class Extract:
    """Structured-data extractor nodes; always the last node of a job."""

    @staticmethod
    def llm(
        *,
        json_schema: str | Mapping[str, Any] | None = None,
        guidance: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        output_mode: OutputMode | None = None,
        name: str = "Extractor",
        id: str | None = None,
        **unknown: Any,
    ) -> Node:
        """Extract data with a language model, shaped by ``json_schema`` (a JSON Schema as a
        mapping, serialized compactly, or as a string) and/or described by ``guidance``."""
        ctor = "Extract.llm"
        if unknown:
            allowed = ("json_schema", "guidance", "provider", "model", "output_mode", "name", "id")
            raise _unknown_keyword(ctor, next(iter(unknown)), allowed)
        if json_schema is None and guidance is None:
            raise NodeSettingsError(f"{ctor}: give json_schema, guidance, or both")
        target: dict[str, object] = {}
        if json_schema is not None:
            target["json_schema"] = _schema_text(ctor, json_schema)
        if guidance is not None:
            target["extraction_guidance"] = guidance
        given: dict[str, object] = {"schema_to_extract": target}
        for key, value in (("provider", provider), ("model", model), ("output_mode", output_mode)):
            if value is not None:
                given[key] = value
        return _make("llm", ctor, name, id, given)

    @staticmethod
    def regex(
        patterns: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        output_mode: OutputMode | None = None,
        name: str = "Extractor",
        id: str | None = None,
        **unknown: Any,
    ) -> Node:
        """Extract every match of named Python regular expressions: ``{"phone": r"\\d{3}-\\d{4}"}``
        or ``[("phone", r"\\d{3}-\\d{4}")]``."""
        import re

        ctor = "Extract.regex"
        if unknown:
            raise _unknown_keyword(ctor, next(iter(unknown)), ("output_mode", "name", "id"))
        not_pairs = NodeSettingsError(
            f"{ctor}: patterns must be a mapping of name to pattern or a list of "
            f"(name, pattern) pairs; got {_got(patterns)}"
        )
        if isinstance(patterns, str | bytes):
            raise not_pairs
        try:
            pairs = list(patterns.items() if isinstance(patterns, Mapping) else patterns)
        except TypeError:  # not iterable: 5, None
            raise not_pairs from None
        entries = []
        for i, pair in enumerate(pairs):
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise NodeSettingsError(
                    f"{ctor}: patterns[{i}] must be a (name, pattern) pair; got {_got(pair)}"
                )
            entries.append({"name": pair[0], "pattern": pair[1]})
        given: dict[str, object] = {"regex_patterns": entries}
        if output_mode is not None:
            given["output_mode"] = output_mode
        node = _make("regex", ctor, name, id, given)
        seen: set[str] = set()
        for entry in node.settings["regex_patterns"]:
            if entry["name"] in seen:
                raise NodeSettingsError(f'{ctor}: two patterns are named "{entry["name"]}"')
            seen.add(entry["name"])
            try:
                re.compile(entry["pattern"])
            except re.error as exc:
                raise NodeSettingsError(
                    f'{ctor}: pattern "{entry["name"]}" is not a valid Python regular '
                    f"expression: {exc}"
                ) from None
        return node


def _schema_text(ctor: str, json_schema: object) -> str:
    import json

    if isinstance(json_schema, str):
        try:
            parsed = json.loads(json_schema)
        except ValueError as exc:
            raise NodeSettingsError(f"{ctor}: json_schema is not JSON text: {exc}") from None
        except RecursionError:
            raise NodeSettingsError(f"{ctor}: json_schema nests too deeply") from None
        if not isinstance(parsed, dict):
            raise NodeSettingsError(f"{ctor}: json_schema must be a JSON object (a schema)")
        return json_schema
    if isinstance(json_schema, Mapping):
        try:
            return json.dumps(
                json_schema, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        except (TypeError, ValueError, RecursionError) as exc:
            raise NodeSettingsError(
                f"{ctor}: json_schema cannot be written as JSON: {exc}"
            ) from None
    raise NodeSettingsError(
        f"{ctor}: json_schema must be a mapping or a JSON string; got {_got(json_schema)}"
    )
