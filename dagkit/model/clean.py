"""The common case, cheaply: a proof that the catalogue and the job rules find nothing in a
parsed request_data document.

Most documents ``dagkit validate`` and the embedded server check are valid. Building the
findings of :func:`dagkit.model.rules.check_document` for them means making nodes, references
and paths that nothing reads; :func:`keys_if_clean` instead asks the same questions with set
lookups and comparisons, from tables made once at import. It answers only when the answer is
certainly "nothing to report", and defers (None) for anything else, so the explaining path
(``check_document``) still says everything about a document with something to say. The tests
hold the two to the same verdict on generated documents, valid and broken.

It also counts the keys of every object in the document, so that the caller can prove from the
text that no object repeated a key (:func:`dagkit.core.jsontext.repeats_no_key`), without a
Python call for each object while parsing.
"""

from __future__ import annotations

from typing import Any

from dagkit.model.base import kind_for, model_listed
from dagkit.model.catalogue.data import (
    ASSUMED_OPTIONS,
    ELEMENT_TYPES,
    EMBEDDING_MODELS,
    PROVIDERS,
    SUBTYPES,
)
from dagkit.model.catalogue.entries import NodeKind
from dagkit.model.rules import NEEDS_HI_RES, RANK, is_int

__all__ = ["keys_if_clean"]

#: The keys request_data may have without a finding (``skip_preflight`` gets DK215).
_DOCUMENT_KEYS = frozenset({"job_nodes", "template_id"}) - frozenset(ASSUMED_OPTIONS)
_PROMPTER = RANK["prompter"]
_OCR = "generative_ocr"


class _Facts:
    """What the rules ask of one node kind, worked out once: which settings keys need no look
    inside (documented, with no fields of their own), and the element-type lists it takes."""

    __slots__ = ("elements", "flat_keys", "rank")

    def __init__(self, kind: NodeKind) -> None:
        self.rank = RANK[kind.type]
        self.flat_keys = frozenset(k for k, s in kind.settings.items() if s.fields is None)
        self.elements = tuple(
            (key, frozenset(d.lower() for d in documented))
            for key, documented in ELEMENT_TYPES.items()
            if key in kind.settings
        )


#: By kind key, each worked out on first use (a ``dagkit validate`` of one file needs few).
_FACTS: dict[str, _Facts] = {}


def _facts(kind: NodeKind) -> _Facts:
    facts = _FACTS[kind.key] = _Facts(kind)
    return facts


def keys_if_clean(doc: Any) -> int | None:
    """How many keys the objects of ``doc`` hold, all told, when
    :func:`~dagkit.model.rules.check_document` certainly finds nothing in ``doc`` besides what
    its schema check says; None when it may (then ask it). The schema is not judged here.

    Only a document made of JSON's own types (dict, list, str, ...: what :func:`json.loads`
    gives, no subclasses) is answered.
    """
    if type(doc) is not dict or not _DOCUMENT_KEYS.issuperset(doc):
        return None
    nodes = doc.get("job_nodes")
    if nodes is None:  # a template job: only the schema has something to say
        return len(doc)
    if type(nodes) is not list or not nodes:
        return None
    keys = len(doc)
    names: set[str] = set()
    highest = -1
    partitioner: dict[str, Any] = {}
    strategy: str | None = None
    chunker: dict[str, Any] | None = None
    for raw in nodes:
        if type(raw) is not dict:
            return None
        name, type_, subtype = raw.get("name"), raw.get("type"), raw.get("subtype")
        settings = raw.get("settings")
        if settings is None:
            settings = {}
        # (an id that is no string leaves the node unread by the rules: only the schema speaks)
        if type(name) is not str or type(type_) is not str or type(subtype) is not str:
            return None
        if type(settings) is not dict:
            return None
        kind = kind_for(type_, subtype, settings)
        if kind is None:
            return None
        facts = _FACTS.get(kind.key) or _facts(kind)
        # the order: partition first, then ranks that never fall, one of each but enrichments
        rank = facts.rank
        if rank < highest or (rank == highest and rank != _PROMPTER) or (highest < 0 < rank):
            return None
        highest = rank
        names.add(name)
        if not facts.flat_keys.issuperset(settings) and not _known_fields(settings, kind):
            return None
        for key, folded in facts.elements:
            values = settings.get(key)
            if type(values) is list:
                for value in values:
                    if type(value) is str and value.lower() not in folded:
                        return None
        if not _provider_and_model_listed(kind, settings):
            return None
        if type_ == "partition":
            partitioner, strategy = settings, kind.key
        elif type_ == "chunk":
            chunker = settings
        if (
            (type_ == "prompter" and not _fed(kind.task, strategy, partitioner))
            or (type_ == "chunk" and _chunker_raises(settings))
            or (type_ == "embed" and not _fits(chunker, subtype, settings.get("model_name")))
        ):
            return None
        keys += len(raw) + len(settings)
        for value in settings.values():
            if type(value) is dict or type(value) is list:
                keys += _object_keys(value)
    if len(names) != len(nodes):
        return None
    if strategy == "fast" and partitioner.get("pdf_infer_table_structure") is True:
        return None
    return keys


def _known_fields(settings: dict[str, Any], kind: NodeKind) -> bool:
    """Whether every key of ``settings``, and of the objects documented settings hold, is
    documented (no DK210 or DK214)."""
    return _documented(settings, kind.settings)


def _documented(value: dict[str, Any], table: Any) -> bool:
    for key, item in value.items():
        setting = table.get(key)
        if setting is None:
            return False
        fields = setting.fields
        if fields is None:
            continue
        if setting.type == "object" and type(item) is dict:
            if not _documented(item, fields):
                return False
        elif setting.type == "array" and type(item) is list:
            for element in item:
                if type(element) is dict and not _documented(element, fields):
                    return False
    return True


def _provider_and_model_listed(kind: NodeKind, settings: dict[str, Any]) -> bool:
    """No DK211 or DK212: the provider and model are documented ones."""
    if kind.type == "partition" and kind.subtype == "vlm":
        return _listed("partition", settings.get("provider"), "anthropic", settings.get("model"))
    if kind.type == "structured_data_extractor" and kind.subtype == "llm":
        return _listed("extract", settings.get("provider"), None, settings.get("model"))
    if kind.type == "prompter":
        if kind.provider == "twopass":
            return True
        provider_type = settings.get("provider_type")
        if type(provider_type) is str and provider_type != kind.provider:
            return False
        return model_listed("enrichment", kind.provider, settings.get("model"))
    if kind.type == "embed":
        return kind.subtype in SUBTYPES["embed"] and model_listed(
            "embed", kind.subtype, settings.get("model_name")
        )
    return True


def _listed(family: str, provider: Any, default: str | None, model: Any) -> bool:
    if provider is None:  # left out or null: the platform's default
        provider = default
    if provider is None:
        return model_listed(family, None, model)
    if type(provider) is not str or provider not in PROVIDERS[family]:
        return False
    return model_listed(family, provider, model)


def _fed(task: str | None, strategy: str | None, partitioner: dict[str, Any]) -> bool:
    """No DK310 or DK313: the partitioner gives the enrichment what it reads."""
    if task in NEEDS_HI_RES and strategy in ("fast", "vlm"):
        return False
    return not (
        task == _OCR and strategy == "hi_res" and not partitioner.get("extract_image_block_types")
    )


def _chunker_raises(settings: dict[str, Any]) -> bool:
    """DK316: overlap at least max_characters, or combine_text_under_n_chars above it."""
    size: Any = settings.get("max_characters")
    if not is_int(size) or size <= 0:
        return False
    overlap: Any = settings.get("overlap")
    combine: Any = settings.get("combine_text_under_n_chars")
    return (is_int(overlap) and overlap >= size) or (is_int(combine) and combine > size)


def _fits(chunker: dict[str, Any] | None, subtype: str, model_name: Any) -> bool:
    """No DK305, DK311 or DK312: a chunker before the embedder sets a size the model takes."""
    size = None if chunker is None else chunker.get("max_characters")
    if size is None:
        return False
    model = EMBEDDING_MODELS.get(subtype, {}).get(model_name) if type(model_name) is str else None
    return not (model is not None and isinstance(size, int | float) and size > model.max_characters)


def _object_keys(value: Any) -> int:
    """How many keys the objects inside ``value`` hold, all told (no recursion: any depth)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            count += len(item)
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return count
