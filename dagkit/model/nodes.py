"""Nodes: the node catalogue's data (generated from ``dagkit/model/catalogue/source.py``, see
:mod:`dagkit.model.catalogue`), what it says about a node, and small constructors for every kind.

A :class:`Node` is plain data: ``name``, ``type``, ``subtype``, ``settings`` and an optional
``id``, exactly the object that goes into ``job_nodes``. ``a >> b`` chains nodes into a
:class:`dagkit.model.dag.JobDAG`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Unpack

from dagkit.errors import NodeSettingsError
from dagkit.findings import Finding, NodeRef, finding, pointer_join
from dagkit.model.catalogue import data as _data
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

if TYPE_CHECKING:
    from dagkit.model.catalogue.typed import (
        AutoSettings,
        ChunkSettings,
        SimilarityChunkSettings,
        TitleChunkSettings,
        UnstructuredApiSettings,
        VlmSettings,
    )
    from dagkit.model.dag import JobDAG

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
    # The TypedDicts cost a little to build and only type checkers need them: made on demand.
    if name in _TYPED:
        from dagkit.model.catalogue import typed

        return getattr(typed, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, eq=True)
class Node:
    """One entry of ``job_nodes``. Two nodes are equal when all their fields are."""

    name: str
    type: str
    subtype: str
    settings: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    __hash__ = None  # type: ignore[assignment]  # settings is a dict: nodes are values, not keys

    def __post_init__(self) -> None:
        if _recording is not None:
            _record_origin(self, *_recording)

    def __rshift__(self, other: Node | JobDAG) -> JobDAG:
        from dagkit.model.dag import JobDAG

        return JobDAG.chain(self) >> other

    def __repr__(self) -> str:
        # Provider keys may sit in settings; a repr ends up in logs and tracebacks.
        shown = {k: "***" if k in SECRET_SETTINGS and v else v for k, v in self.settings.items()}
        extra = f", id={self.id!r}" if self.id is not None else ""
        return (
            f"Node(name={self.name!r}, type={self.type!r}, subtype={self.subtype!r}, "
            f"settings={shown!r}{extra})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The node as it appears in ``job_nodes``.

        Key order: name, type, subtype, settings, id.
        """
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "subtype": self.subtype,
            "settings": self.settings,
        }
        if self.id is not None:
            out["id"] = self.id
        return out


# ---------------------------------------------------------------------------------------------
# The catalogue: generated from dagkit/model/catalogue/source.py (see dagkit.model.catalogue)
# ---------------------------------------------------------------------------------------------

_BY_PAIR = _data.BY_PAIR


# ---------------------------------------------------------------------------------------------
# Reading nodes
# ---------------------------------------------------------------------------------------------


def _settings_of(node: Node) -> dict[str, Any]:
    return node.settings if isinstance(node.settings, dict) else {}


def _same_json(a: Any, b: Any) -> bool:
    """JSON equality for scalars: ``True`` is not ``1``."""
    return type(a) is type(b) and a == b


def kind_of(node: Node) -> NodeKind | None:
    """The node's kind, or None when its type/subtype (or the setting that tells kinds sharing a
    subtype apart, like ``is_dynamic`` or ``strategy``) is not one the docs describe."""
    settings = _settings_of(node)
    for kind in _BY_PAIR.get((node.type, node.subtype), ()):
        if kind.discriminator is None:
            return kind
        key, value = kind.discriminator
        given = settings.get(key)
        if given is None:  # left out or null: the platform fills the setting's default
            given = kind.settings[key].default
        if _same_json(given, value):
            return kind
    return None


def partition_strategy(node: Node) -> Literal["auto", "vlm", "hi_res", "fast"] | None:
    """Which partitioning strategy a partition node uses, or None when it cannot be told."""
    kind = kind_of(node)
    if kind is None or kind.type != "partition":
        return None
    return _STRATEGIES.get(kind.key)


_STRATEGIES: dict[str, Literal["auto", "vlm", "hi_res", "fast"]] = {
    "auto": "auto",
    "vlm": "vlm",
    "hi_res": "hi_res",
    "fast": "fast",
}


def enrichment_task(node: Node) -> str | None:
    """The enrichment task of a prompter node (``image_description``, ``table_description``,
    ``table_to_html``, ``ner``, ``generative_ocr``), or None for an unknown subtype."""
    kind = kind_of(node)
    return kind.task if kind is not None else None


def embedding_model(node: Node) -> EmbeddingModel | None:
    """The documented limits of an embed node's model, or None when the docs give none."""
    if node.type != "embed":
        return None
    model = _settings_of(node).get("model_name")
    if not isinstance(model, str):
        return None
    return EMBEDDING_MODELS.get(node.subtype, {}).get(model)


# ---------------------------------------------------------------------------------------------
# Catalogue findings: the open-set checks (unknown keys, providers, models, element types)
# ---------------------------------------------------------------------------------------------


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    from dagkit.core.suggest import did_you_mean

    return did_you_mean(word, choices)


def near_miss(word: str, known: Iterable[str]) -> str | None:
    """The one name in ``known`` that ``word`` looks like a misspelling of, or None.

    A near miss differs only in case, ``-`` for ``_``, or by at most one edit (two for names of
    eight characters or more): ``overlapp``, ``max_charcters``, ``Max-Characters``. A looser
    likeness (difflib's) would turn a real but undocumented setting into an error.
    """
    folded = word.lower().replace("-", "_")
    budget = 2 if len(word) >= 8 else 1
    found = [k for k in known if k != word and _edits(folded, k, budget) <= budget]
    return found[0] if len(found) == 1 else None


def _edits(a: str, b: str, budget: int) -> int:
    """The Levenshtein distance of ``a`` and ``b`` (with swaps of neighbours), or ``budget + 1``
    once it is sure to exceed ``budget``."""
    if abs(len(a) - len(b)) > budget:
        return budget + 1
    before: list[int] | None = None
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > budget:
            return budget + 1
        before, row = row, current
    return row[-1]


#: While a Python DAG source loads (:func:`recording_origins`): its file name and, by id, the
#: line of the call in that file that made each node. None otherwise: a node costs nothing.
_recording: tuple[str, dict[int, int]] | None = None


def _record_origin(node: Node, file: str, lines: dict[int, int]) -> None:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename == file:
            lines[id(node)] = frame.f_lineno
            return
        frame = frame.f_back  # type: ignore[assignment]


@contextmanager
def recording_origins(file: str) -> Iterator[dict[int, int]]:
    """While inside, note for each node made by code in ``file`` the line that made it
    (``id(node) -> line``), so findings can point at a Python DAG's lines."""
    global _recording
    lines: dict[int, int] = {}
    previous, _recording = _recording, (file, lines)
    try:
        yield lines
    finally:
        _recording = previous


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _quoted_short(values: Iterable[str]) -> str:
    """As :func:`_quoted`, a long list cut to its first few names and how many more."""
    from dagkit.core.suggest import shortlist

    return shortlist(f'"{v}"' for v in values)


def _known_settings(node: Node) -> tuple[Mapping[str, Setting], str] | None:
    """The settings the node may carry and a label for it, or None when nothing is known."""
    kind = kind_of(node)
    if kind is not None:
        return kind.settings, kind.label
    candidates = _BY_PAIR.get((node.type, node.subtype))
    if candidates is None and node.type in NODE_TYPES and node.type not in CLOSED_SUBTYPES:
        candidates = tuple(k for k in KINDS.values() if k.type == node.type)
    if not candidates:
        return None
    merged: dict[str, Setting] = {}
    for candidate in candidates:
        merged.update(candidate.settings)
    return merged, f"{node.type}/{node.subtype}"


def catalogue_findings(node: Node, ref: NodeRef, pointer: str) -> list[Finding]:
    """Findings for what the docs list only as open sets: unknown settings keys (DK210, or
    the DK214 error when the key is a near miss of a documented one), providers (DK211), models
    (DK212) and element types (DK213).

    ``pointer`` is the node's own JSON Pointer in the request_data document (``/job_nodes/2``).
    Closed-set rules (types, enums, ranges, required keys) belong to request-data.schema.json.
    """
    settings = _settings_of(node)
    where = pointer + "/settings"  # a constant token: nothing to escape
    out: list[Finding] = []
    known = _known_settings(node)
    if known is not None and settings:
        table, label = known
        out += _unknown_keys(settings, table, where, label, ref)
    out += _provider_findings(node, settings, ref, pointer)
    if known is not None and settings:
        for key, documented in ELEMENT_TYPES.items():
            value = settings.get(key)
            if isinstance(value, list) and key in known[0]:
                out += _element_type_findings(value, documented, key, where, ref)
    return out


def _unknown_keys(
    value: dict[str, Any], table: Mapping[str, Setting], where: str, label: str, ref: NodeRef
) -> list[Finding]:
    out = []
    for key, item in value.items():
        setting = table.get(key)
        if setting is not None and setting.fields is None:
            continue  # a documented scalar setting: nothing to say
        at = pointer_join(where, key)
        if setting is None:
            near = near_miss(key, table)
            if near is not None:
                out.append(
                    finding(
                        "DK214",
                        f'{ref}: "{key}" is not a {label} setting; it looks like a misspelled '
                        f'"{near}" (the platform stores it and runs without it)',
                        hint=f'write "{near}"',
                        pointer=at,
                        node=ref,
                    )
                )
                continue
            out.append(
                finding(
                    "DK210",
                    f'{ref}: "{key}" is not a documented {label} setting',
                    hint=_did_you_mean(key, table)
                    or f"documented keys: {_quoted(table) or 'none'}; the API may ignore others",
                    pointer=at,
                    node=ref,
                )
            )
        elif setting.fields is not None:
            if setting.type == "object" and isinstance(item, dict):
                out += _unknown_keys(item, setting.fields, at, f"{label} {key}", ref)
            elif setting.type == "array" and isinstance(item, list):
                for i, element in enumerate(item):
                    if isinstance(element, dict):
                        out += _unknown_keys(
                            element,
                            setting.fields,
                            pointer_join(at, i),
                            f"{label} {key}",
                            ref,
                        )
    return out


def _provider_findings(
    node: Node, settings: dict[str, Any], ref: NodeRef, pointer: str
) -> list[Finding]:
    where = pointer + "/settings"
    if node.type == "partition" and node.subtype == "vlm":
        return _provider_and_model(
            "partition", settings, "provider", "model", "anthropic", where, ref
        )
    if node.type == "structured_data_extractor" and node.subtype == "llm":
        return _provider_and_model("extract", settings, "provider", "model", None, where, ref)
    if node.type == "prompter":
        return _prompter_findings(node, settings, ref, pointer)
    if node.type == "embed":
        if node.subtype not in SUBTYPES["embed"]:
            return [_unknown_subtype(node, ref, pointer, "embed")]
        return _model_finding(
            "embed", node.subtype, settings.get("model_name"), "model_name", where, ref
        )
    return []


def _unknown_subtype(node: Node, ref: NodeRef, pointer: str, what: str) -> Finding:
    documented = SUBTYPES[node.type]
    return finding(
        "DK211",
        f'{ref}: {what} subtype "{node.subtype}" is not a documented provider',
        hint=_did_you_mean(node.subtype, documented) or f"documented: {_quoted(documented)}",
        pointer=pointer_join(pointer, "subtype"),
        node=ref,
    )


def _prompter_findings(
    node: Node, settings: dict[str, Any], ref: NodeRef, pointer: str
) -> list[Finding]:
    where = pointer + "/settings"
    kind = kind_of(node)
    if kind is None:
        out = [_unknown_subtype(node, ref, pointer, "enrichment")]
        return out + _provider_and_model(
            "enrichment", settings, "provider_type", "model", None, where, ref
        )
    if kind.provider == "twopass":
        return []  # takes no provider or model; other keys are DK210's business
    provider_type = settings.get("provider_type")
    if isinstance(provider_type, str) and provider_type != kind.provider:
        return [
            finding(
                "DK211",
                f'{ref}: provider_type "{provider_type}" does not match subtype '
                f'"{node.subtype}", which uses "{kind.provider}"',
                hint=f'set provider_type to "{kind.provider}", or pick the subtype of '
                f'"{provider_type}" for this task',
                pointer=pointer_join(where, "provider_type"),
                node=ref,
            )
        ]
    assert kind.provider is not None
    return _model_finding("enrichment", kind.provider, settings.get("model"), "model", where, ref)


def _provider_and_model(
    family: str,
    settings: dict[str, Any],
    provider_key: str,
    model_key: str,
    default_provider: str | None,
    where: str,
    ref: NodeRef,
) -> list[Finding]:
    provider = settings.get(provider_key)
    if provider is None:  # left out or null: the platform's default
        provider = default_provider
    documented = PROVIDERS[family]
    if provider is not None and not isinstance(provider, str):
        return []  # a wrong type: the schema says so
    if provider is not None and provider not in documented:
        return [
            finding(
                "DK211",
                f'{ref}: {provider_key} "{provider}" is not a documented {family} provider',
                hint=_did_you_mean(provider, documented) or f"documented: {_quoted(documented)}",
                pointer=pointer_join(where, provider_key),
                node=ref,
            )
        ]
    return _model_finding(family, provider, settings.get(model_key), model_key, where, ref)


#: Every model some provider of a family lists: a valid model is one set lookup.
_ANY_MODEL = {
    family: frozenset(m for models in lists.values() for m in models)
    for family, lists in MODELS.items()
}


def _model_finding(
    family: str, provider: str | None, model: Any, model_key: str, where: str, ref: NodeRef
) -> list[Finding]:
    """DK212 when ``model`` is not listed for ``provider`` (any provider of the family when
    ``provider`` is None or ``auto``)."""
    if not isinstance(model, str):
        return []
    lists = MODELS[family]
    if provider is None or provider == "auto":
        if model in _ANY_MODEL[family]:
            return []  # the common case: no list to build
        listed = [m for models in lists.values() for m in models]
        whose = f"any {family} provider"
    else:
        if model in lists[provider]:
            return []
        listed = list(lists[provider])
        whose = f'provider "{provider}"'
    at = pointer_join(where, model_key)
    if model in REMOVED_MODELS:
        return [
            finding(
                "DK212",
                f'{ref}: model "{model}" was {REMOVED_MODELS[model]}; '
                "the API answers errors for it",
                hint=f"pick a current model: {_quoted(listed)}",
                pointer=at,
                node=ref,
            )
        ]
    elsewhere = [p for p, models in lists.items() if model in models and p != provider]
    if elsewhere:
        hint = f'"{model}" is documented for {_quoted(elsewhere)}'
    else:
        hint = _did_you_mean(model, listed) or (
            f"documented: {_quoted(listed)}" if listed else "the docs list no models for it"
        )
    return [
        finding(
            "DK212",
            f'{ref}: {model_key} "{model}" is not documented for {whose} '
            "(model lists change often; check the platform's list)",
            hint=hint,
            pointer=at,
            node=ref,
        )
    ]


def _element_type_findings(
    values: list[Any], documented: tuple[str, ...], key: str, where: str, ref: NodeRef
) -> list[Finding]:
    out = []
    folded = {d.lower() for d in documented}
    for i, value in enumerate(values):
        # lowercase names are what the docs' own templates send and the platform stores
        if not isinstance(value, str) or value.lower() in folded:
            continue
        hint = _did_you_mean(value, documented) or f"documented: {_quoted(documented)}"
        out.append(
            finding(
                "DK213",
                f'{ref}: "{value}" in {key} is not a documented element type',
                hint=hint,
                pointer=pointer_join(where, key, i),
                node=ref,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Checking constructor arguments
# ---------------------------------------------------------------------------------------------

_TYPE_WORDS = {
    "string": "a string",
    "boolean": "true or false",
    "integer": "an integer",
    "number": "a number",
    "array": "a list",
    "object": "a mapping",
    "any": "any JSON value",
}


def describe(setting: Setting) -> str:
    """What a setting accepts, in words: ``an integer > 0``, ``one of "hi_res", "fast"``."""
    if setting.const is not None:
        text = _json_text(setting.const)
    elif setting.enum is not None:
        text = "one of " + ", ".join(_json_text(v) for v in setting.enum)
    else:
        text = _TYPE_WORDS[setting.type]
        if setting.type == "array" and setting.items_type is not None:
            item = "mappings" if setting.items_type == "object" else setting.items_type + "s"
            text = f"a list of {item}"
        bounds = [
            f"{op} {_json_text(b)}"
            for op, b in (
                (">", setting.exclusive_minimum),
                (">=", setting.minimum),
                ("<", setting.exclusive_maximum),
                ("<=", setting.maximum),
            )
            if b is not None
        ]
        if bounds:
            text += " " + " and ".join(bounds)
    return text + (" or None" if setting.nullable else "")


def _json_text(value: Any) -> str:
    """A value as JSON text, for messages."""
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


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
