"""Hypothesis strategies for property tests of code that builds, sends or reads dagkit jobs.

Every strategy generates *valid* data: nodes that pass request-data.schema.json with no
catalogue warning, chains in the documented order whose chunker fits the embedding model, DAGs
that plan into jobs, and canonical request_data text. Optional settings are sometimes left out
and sometimes null, and settings the platform fills are sometimes left to it (an enrichment with
``settings: {}``, a VLM partitioner without ``is_dynamic``), as real requests do::
    from hypothesis import given
    from dagkit.testing import request_data

    @given(request_data())
    def test_my_client_accepts_every_job(text):
        ...

Shrinking moves towards short chains, few settings and default names.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from dagkit.model.dag import JobDAG
from dagkit.model.nodes import (
    ELEMENT_TYPES,
    EMBEDDING_MODELS,
    KINDS,
    MODELS,
    NODE_TYPES,
    PROVIDERS,
    Chunk,
    Embed,
    Enrich,
    Extract,
    Node,
    NodeKind,
    Partition,
    embedding_model,
)
from dagkit.wire.serialize import TemplateJob, to_request_data
from dagkit.wire.workflows import SCHEDULES, to_workflow

if TYPE_CHECKING:
    from dagkit.model.dag import JobDAG

__all__ = [
    "chains",
    "job_dags",
    "kind_keys",
    "node_names",
    "nodes",
    "request_data",
    "template_ids",
    "template_request_data",
    "workflow_bodies",
]

_PARTITION_KEYS = ("auto", "vlm", "hi_res", "fast")
_PROMPTER_KEYS = tuple(k for k, kind in KINDS.items() if kind.type == "prompter")
_CHUNK_KEYS = tuple(k for k, kind in KINDS.items() if kind.type == "chunk")
_EMBED_KEYS = tuple(k for k, kind in KINDS.items() if kind.type == "embed")
_EXTRACT_KEYS = ("llm", "regex")
#: The smallest documented ceiling, used when a model's own ceiling is not documented.
_SAFE_MAX_CHARACTERS = min(
    m.max_characters for models in EMBEDDING_MODELS.values() for m in models.values()
)
_OUTPUT_MODES = ("elements_with_extracted_data", "extracted_data_only")
_OCR_LANGUAGES = ("eng", "deu", "fra", "spa", "ita", "por", "jpn", "chi_sim", "kor", "ara")
_ENCODINGS = ("utf-8", "utf-16", "latin-1", "ascii", "cp1252")
_REGEXES = (
    r"\d+",
    r"[A-Z]{2,}",
    r"\b\d{3}-\d{4}\b",
    r"[\w.+-]+@[\w-]+\.[\w.]+",
    r"(?i)invoice\s*#?\s*(\d+)",
    r"€\s?\d+(?:[.,]\d{2})?",
)


def kind_keys(kind: str | None = None) -> list[str]:
    """The catalogue keys ``kind`` stands for: a kind key (``"hi_res"``, ``"chunk_by_title"``),
    a node type (``"prompter"``), an enrichment task (``"ner"``), or None for every kind."""
    if kind is None:
        return list(KINDS)
    if kind in KINDS:
        return [kind]
    matches = [k for k, v in KINDS.items() if kind in (v.type, v.task)]
    if not matches:
        known = sorted({*KINDS, *NODE_TYPES, *(v.task for v in KINDS.values() if v.task)})
        raise ValueError(f"unknown node kind {kind!r}; known: {', '.join(known)}")
    return matches


def node_names() -> st.SearchStrategy[str]:
    """Node names: a letter (any script) then letters, digits, spaces and a little punctuation."""
    first = st.characters(categories=["L"])
    rest = st.text(st.characters(categories=("L", "N"), include_characters=" -_.()"), max_size=20)
    return st.builds(lambda a, b: (a + b).rstrip(), first, rest)


def _ids() -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.uuids().map(str))


def _secret() -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters + string.digits + "-_", min_size=8, max_size=40)


def _free_text(max_size: int = 60) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(categories=("L", "N", "P", "Zs")), min_size=1, max_size=max_size
    ).filter(str.strip)


def _maybe(draw: st.DrawFn, out: dict[str, Any], key: str, values: st.SearchStrategy[Any]) -> None:
    """Set ``out[key]`` to a drawn value, or leave it out (a random subset of settings)."""
    if draw(st.booleans()):
        out[key] = draw(values)


def _maybe_null(
    draw: st.DrawFn, out: dict[str, Any], key: str, values: st.SearchStrategy[Any]
) -> None:
    """Like :func:`_maybe`, and sometimes null: every optional setting may be null."""
    _maybe(draw, out, key, st.one_of(values, st.none()))


def _flags(draw: st.DrawFn, kind: NodeKind, out: dict[str, Any], skip: Sequence[str] = ()) -> None:
    """A random subset of the kind's boolean and enum settings (fixed ones excluded)."""
    for setting in kind.settings.values():
        if setting.name in skip or setting.const is not None or setting.required:
            continue
        if setting.enum is not None:
            _maybe_null(draw, out, setting.name, st.sampled_from(setting.enum))
        elif setting.type == "boolean":
            _maybe_null(draw, out, setting.name, st.booleans())


def _element_list(key: str, *, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(ELEMENT_TYPES[key]), min_size=min_size, max_size=4, unique=True)


@st.composite
def _partition(
    draw: st.DrawFn, key: str, name: str, node_id: str | None, need_blocks: bool = False
) -> Node:
    kind = KINDS[key]
    settings: dict[str, Any] = {}
    if key in ("auto", "vlm"):
        provider = "anthropic"  # what the API uses when no provider is sent
        if draw(st.booleans()):
            provider = settings["provider"] = draw(st.sampled_from(PROVIDERS["partition"]))
        if MODELS["partition"][provider]:
            _maybe(draw, settings, "model", st.sampled_from(MODELS["partition"][provider]))
        _maybe(draw, settings, "provider_api_key", st.one_of(st.none(), _secret()))
        for unknown_form in ("user_prompt", "prompt", "custom_host_config"):
            _maybe(draw, settings, unknown_form, st.none())  # what the platform echoes
        _flags(draw, kind, settings)
        if key == "auto":
            node = Partition.auto(name=name, id=node_id, **settings)
            left_to_platform = "allow_fast"
        else:
            node = Partition.vlm(name=name, id=node_id, **settings)
            left_to_platform = "is_dynamic"
        if draw(st.booleans()):  # the platform fills it: leave it out
            rest = {k: v for k, v in node.settings.items() if k != left_to_platform}
            node = Node(node.name, node.type, node.subtype, rest, node.id)
        return node
    # fast ignores pdf_infer_table_structure; leave it out rather than send a no-op
    _flags(draw, kind, settings, skip=("pdf_infer_table_structure",) if key == "fast" else ())
    _maybe_null(draw, settings, "exclude_elements", _element_list("exclude_elements"))
    _maybe_null(draw, settings, "encoding", st.sampled_from(_ENCODINGS))
    languages = st.lists(st.sampled_from(_OCR_LANGUAGES), min_size=1, max_size=3, unique=True)
    _maybe_null(draw, settings, "ocr_languages", languages)
    blocks = _element_list("extract_image_block_types", min_size=1)
    if need_blocks:
        settings["extract_image_block_types"] = draw(blocks)
    else:
        _maybe(draw, settings, "extract_image_block_types", blocks)
    if key == "hi_res":
        return Partition.hi_res(name=name, id=node_id, **settings)
    return Partition.fast(name=name, id=node_id, **settings)


_ENRICHERS: dict[str, Callable[..., Node]] = {
    "image_description": Enrich.image_description,
    "table_description": Enrich.table_description,
    "table_to_html": Enrich.table_to_html,
    "ner": Enrich.ner,
    "generative_ocr": Enrich.generative_ocr,
}


@st.composite
def _prompter(draw: st.DrawFn, key: str, name: str, node_id: str | None) -> Node:
    kind = KINDS[key]
    assert kind.task is not None and kind.provider is not None
    if kind.provider != "twopass" and draw(st.booleans()):
        # the platform fills the provider and its default model (settings {}, null or absent)
        settings: dict[str, Any] = {}
        _maybe_null(draw, settings, "model", st.sampled_from(MODELS["enrichment"][kind.provider]))
        _maybe(draw, settings, "provider_type", st.sampled_from([kind.provider, None]))
        return Node(name, kind.type, kind.subtype, settings, node_id)
    options: dict[str, Any] = {"provider": kind.provider}
    if kind.provider != "twopass":
        _maybe(draw, options, "model", st.sampled_from(MODELS["enrichment"][kind.provider]))
    if kind.task == "ner":
        _maybe(draw, options, "prompt", _free_text(200))
    return _ENRICHERS[kind.task](name=name, id=node_id, **options)


@st.composite
def _chunk(
    draw: st.DrawFn, key: str, name: str, node_id: str | None, size_cap: int | None = None
) -> Node:
    """A chunker; with ``size_cap``, max_characters is always set and at most ``size_cap``."""
    kind = KINDS[key]
    settings: dict[str, Any] = {}
    if size_cap is not None:
        settings["max_characters"] = draw(st.integers(1, size_cap))
    else:
        _maybe_null(draw, settings, "max_characters", st.integers(1, 10_000))
    # keep the sizes consistent: soft limit and merges within the hard limit, overlap below it
    # (500 is the open-source chunker's default size)
    top = settings.get("max_characters") or 500
    _maybe_null(draw, settings, "new_after_n_chars", st.integers(0, top))
    _maybe_null(draw, settings, "overlap", st.integers(0, top - 1))
    if "combine_text_under_n_chars" in kind.settings:
        _maybe_null(draw, settings, "combine_text_under_n_chars", st.integers(0, top))
    if "similarity_threshold" in kind.settings:
        threshold = st.floats(0, 1, exclude_min=True, exclude_max=True)
        _maybe_null(draw, settings, "similarity_threshold", threshold)
    _maybe_null(draw, settings, "contextual_chunking_strategy", st.just("v1"))
    urls = st.sampled_from(["https://chunking.example.invalid", "http://localhost:8000"])
    _maybe(draw, settings, "unstructured_api_url", st.one_of(st.none(), urls))
    _maybe(draw, settings, "unstructured_api_key", st.one_of(st.none(), _secret()))
    _flags(draw, kind, settings)
    maker = {
        "chunk_by_character": Chunk.by_character,
        "chunk_by_title": Chunk.by_title,
        "chunk_by_page": Chunk.by_page,
        "chunk_by_similarity": Chunk.by_similarity,
    }[key]
    return maker(name=name, id=node_id, **settings)


_EMBEDDERS: dict[str, Callable[..., Node]] = {
    "azure_openai": Embed.azure_openai,
    "bedrock": Embed.bedrock,
    "ibm": Embed.ibm,
    "openai": Embed.openai,
    "togetherai": Embed.togetherai,
    "voyageai": Embed.voyageai,
}


@st.composite
def _embed(
    draw: st.DrawFn, key: str, name: str, node_id: str | None, min_ceiling: int | None = None
) -> Node:
    """An embedder; with ``min_ceiling``, only models documented to take chunks that big."""
    models = list(MODELS["embed"][key])
    if min_ceiling is not None:
        limits = EMBEDDING_MODELS[key]
        models = [m for m in models if m in limits and limits[m].max_characters >= min_ceiling]
    return _EMBEDDERS[key](draw(st.sampled_from(models)), name=name, id=node_id)


def _json_schemas() -> st.SearchStrategy[dict[str, Any]]:
    field_names = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)
    field_types = st.sampled_from(["string", "number", "integer", "boolean"])
    fields = st.dictionaries(field_names, field_types, min_size=1, max_size=4)
    return fields.map(
        lambda f: {
            "type": "object",
            "properties": {k: {"type": t} for k, t in f.items()},
            "required": list(f),
            "additionalProperties": False,
        }
    )


@st.composite
def _extract(draw: st.DrawFn, key: str, name: str, node_id: str | None) -> Node:
    options: dict[str, Any] = {}
    _maybe(draw, options, "output_mode", st.sampled_from(_OUTPUT_MODES))
    if key == "regex":
        labels = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12)
        pairs = st.lists(st.tuples(labels, st.sampled_from(_REGEXES)), min_size=1, max_size=3)
        patterns = draw(pairs.filter(lambda ps: len({n for n, _ in ps}) == len(ps)))
        return Extract.regex(patterns, name=name, id=node_id, **options)
    # exactly one of the two: the docs say so, even if their quickstart sends both
    if draw(st.booleans()):
        as_text = draw(st.booleans())
        schema = draw(_json_schemas())
        options["json_schema"] = _compact(schema) if as_text else schema
    else:
        options["guidance"] = draw(_free_text(200))
    if draw(st.booleans()):
        provider = draw(st.sampled_from(PROVIDERS["extract"]))
        options["provider"] = provider
        _maybe(draw, options, "model", st.sampled_from(MODELS["extract"][provider]))
    return Extract.llm(name=name, id=node_id, **options)


def _compact(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def _node(key: str, name: str, node_id: str | None) -> st.SearchStrategy[Node]:
    node_type = KINDS[key].type
    if node_type == "partition":
        return _partition(key, name, node_id)
    if node_type == "prompter":
        return _prompter(key, name, node_id)
    if node_type == "chunk":
        return _chunk(key, name, node_id)
    if node_type == "embed":
        return _embed(key, name, node_id)
    return _extract(key, name, node_id)


_DEFAULT_NAMES = {
    "partition": "Partitioner",
    "prompter": "Enrichment",
    "chunk": "Chunker",
    "embed": "Embedder",
    "structured_data_extractor": "Extractor",
}


@st.composite
def _named_node(draw: st.DrawFn, key: str) -> Node:
    default = _DEFAULT_NAMES[KINDS[key].type]
    name = draw(st.one_of(st.just(default), node_names()))
    return draw(_node(key, name, draw(_ids())))


def nodes(kind: str | None = None) -> st.SearchStrategy[Node]:
    """Valid nodes of ``kind`` (see :func:`kind_keys`; None for any kind) with a random subset of
    documented settings, each with a valid value and documented providers and models."""
    return st.one_of([_named_node(key) for key in kind_keys(kind)])


def _distinct_names(count: int, taken: set[str] | None = None) -> st.SearchStrategy[list[str]]:
    names = st.lists(node_names(), min_size=count, max_size=count, unique=True)
    if taken:
        return names.filter(lambda ns: not taken.intersection(ns))
    return names


def chains(partition: str | None = None) -> st.SearchStrategy[list[Node]]:
    """Nodes of one valid job, in order: a partitioner (of kind ``partition`` when given:
    ``"auto"``, ``"vlm"``, ``"hi_res"`` or ``"fast"``); up to three enrichments it can feed;
    optionally a chunker, then optionally an embedder whose model takes the chunker's
    max_characters; optionally an extractor last. Names are distinct."""
    if partition is not None and partition not in _PARTITION_KEYS:
        raise ValueError(
            f"partition must be one of {', '.join(_PARTITION_KEYS)}; got {partition!r}"
        )
    return _chains(_PARTITION_KEYS if partition is None else (partition,))


@st.composite
def _chains(draw: st.DrawFn, partition_keys: Sequence[str]) -> list[Node]:
    partition_key = draw(st.sampled_from(partition_keys))
    # image, table and OCR enrichments need Auto or hi_res; NER reads text, so any partitioner
    usable = [
        k for k in _PROMPTER_KEYS if partition_key in ("auto", "hi_res") or KINDS[k].task == "ner"
    ]
    enrich_keys = draw(st.lists(st.sampled_from(usable), max_size=3))
    chunk_key = draw(st.one_of(st.none(), st.sampled_from(_CHUNK_KEYS)))
    embed_key = draw(st.sampled_from(_EMBED_KEYS)) if chunk_key and draw(st.booleans()) else None
    extract_key = draw(st.one_of(st.none(), st.sampled_from(_EXTRACT_KEYS)))
    count = 1 + len(enrich_keys) + sum(k is not None for k in (chunk_key, embed_key, extract_key))
    names = iter(draw(_distinct_names(count)))

    need_blocks = partition_key == "hi_res" and any(
        KINDS[k].task == "generative_ocr" for k in enrich_keys
    )
    chain = [draw(_partition(partition_key, next(names), draw(_ids()), need_blocks))]
    chain += [draw(_prompter(k, next(names), draw(_ids()))) for k in enrich_keys]
    if chunk_key is not None:
        chunk_name = next(names)
        if embed_key is not None:
            embedder = draw(_embed(embed_key, next(names), draw(_ids())))
            model = embedding_model(embedder)
            cap = model.max_characters if model is not None else _SAFE_MAX_CHARACTERS
            chain += [draw(_chunk(chunk_key, chunk_name, draw(_ids()), cap)), embedder]
        else:
            chain.append(draw(_chunk(chunk_key, chunk_name, draw(_ids()))))
    if extract_key is not None:
        chain.append(draw(_extract(extract_key, next(names), draw(_ids()))))
    return chain


@st.composite
def _continuation(draw: st.DrawFn, prefix: Sequence[Node], taken: set[str]) -> list[Node]:
    """A non-empty list of nodes that validly follows ``prefix`` (which ends before any
    extractor), for a branch of a tree."""
    last = prefix[-1]
    options: list[tuple[str, ...]]
    if last.type in ("partition", "prompter"):
        options = [("chunk",), ("chunk", "embed"), ("chunk", "extract")]
        options += [("chunk", "embed", "extract"), ("extract",)]
    elif last.type == "chunk" and isinstance(last.settings.get("max_characters"), int):
        options = [("embed",), ("embed", "extract"), ("extract",)]
    elif last.type in ("chunk", "embed"):
        options = [("extract",)]
    else:
        return []
    plan = draw(st.sampled_from(options))
    names = iter(draw(_distinct_names(len(plan), taken)))
    out: list[Node] = []
    chunk_size: int | None = last.settings.get("max_characters") if last.type == "chunk" else None
    for role in plan:
        if role == "chunk":
            key = draw(st.sampled_from(_CHUNK_KEYS))
            size = draw(st.integers(1, _SAFE_MAX_CHARACTERS))
            out.append(draw(_chunk(key, next(names), None, size)))
            chunk_size = size
        elif role == "embed":
            assert chunk_size is not None
            fitting = [
                k
                for k in _EMBED_KEYS
                if any(m.max_characters >= chunk_size for m in EMBEDDING_MODELS[k].values())
            ]
            key = draw(st.sampled_from(fitting))
            out.append(draw(_embed(key, next(names), None, chunk_size)))
        else:
            out.append(draw(_extract(draw(st.sampled_from(_EXTRACT_KEYS)), next(names), None)))
    return out


@st.composite
def job_dags(draw: st.DrawFn) -> JobDAG:
    """A :class:`dagkit.model.dag.JobDAG` that is one valid chain, or a tree of valid chains
    sharing a prefix (each root-to-leaf path is a valid job). Node names are distinct across the
    DAG."""
    base = draw(chains())
    dag = JobDAG.chain(*base)
    paths = [list(zip(dag.keys(), base, strict=True))]
    taken = {node.name for node in base}
    for _ in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from(paths))
        forks = [i for i, (_, n) in enumerate(path) if n.type != "structured_data_extractor"]
        at = draw(st.sampled_from(forks))
        branch = draw(_continuation([n for _, n in path[: at + 1]], taken))
        if not branch:
            continue
        keys = dag.add_chain(*branch, after=path[at][0])
        paths.append(path[: at + 1] + list(zip(keys, branch, strict=True)))
        taken.update(node.name for node in branch)
    return dag


@st.composite
def request_data(draw: st.DrawFn) -> str:
    """Canonical request_data text of one valid custom job (``{"job_nodes": [...]}``).

    Never with ``skip_preflight``: no source shows the platform reading it (DK215)."""

    return to_request_data(JobDAG.chain(*draw(chains())))


def template_ids() -> st.SearchStrategy[str]:
    """Template ids: the documented names, UUIDs, or any non-empty text (ids are opaque)."""
    return st.one_of(
        st.sampled_from(["hi_res_partition", "hi_res_and_enrichment"]),
        st.uuids().map(str),
        st.text(min_size=1, max_size=40),
    )


@st.composite
def template_request_data(draw: st.DrawFn) -> str:
    """Canonical request_data text of a template job (``{"template_id": ...}``)."""
    return to_request_data(TemplateJob(draw(template_ids())))


@st.composite
def workflow_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid create-workflow body (``workflow_type: "custom"``) for one valid chain, as
    :func:`dagkit.wire.workflows.to_workflow` writes it: a name, and sometimes connector ids, a
    schedule (only with a source connector) and ``reprocess_all``."""

    source = draw(st.one_of(st.none(), st.uuids().map(str)))
    schedule = draw(st.none() | st.sampled_from(list(SCHEDULES))) if source else None
    return to_workflow(
        JobDAG.chain(*draw(chains())),
        name=draw(st.text(min_size=1, max_size=40)),
        source_id=source,
        destination_id=draw(st.one_of(st.none(), st.uuids().map(str))),
        schedule=schedule,
        reprocess_all=draw(st.one_of(st.none(), st.booleans())),
    )
