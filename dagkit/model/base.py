"""What a node is and what the catalogue says about it: the base the rules and the DAG read.

:class:`NodeBase` holds the fields of one ``job_nodes`` entry (``name``, ``type``, ``subtype``,
``settings``, ``id``); the functions here look a node up in the node catalogue (its kind,
partition strategy, enrichment task, embedding model) and give the catalogue's findings about
its settings. The user-facing :class:`dagkit.model.dag.Node` adds ``>>`` on top; the typed
constructors live in :mod:`dagkit.model.nodes`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

from dagkit.core.record import Record
from dagkit.core.suggest import did_you_mean
from dagkit.findings import DocPath, Finding, NodeRef, finding
from dagkit.model.catalogue import data as _data
from dagkit.model.catalogue.data import (
    CLOSED_SUBTYPES,
    ELEMENT_TYPES,
    EMBEDDING_MODELS,
    KINDS,
    MODELS,
    NODE_TYPES,
    PROVIDERS,
    REMOVED_MODELS,
    SECRET_SETTINGS,
    SUBTYPES,
)
from dagkit.model.catalogue.entries import EmbeddingModel, NodeKind, Setting


class NodeBase(Record):
    """The fields of one ``job_nodes`` entry, all the rules and the DAG read of a node.

    Users hold :class:`dagkit.model.dag.Node`, which adds ``>>``. Two nodes are equal when they
    are of one class and all their fields are. Immutable (a Record, not a dataclass: the rules
    module that every ``dagkit validate`` imports reads nodes): ``node.replace(settings=...)``
    makes a changed copy."""

    __slots__ = ("id", "name", "settings", "subtype", "type")
    name: str
    type: str
    subtype: str
    settings: dict[str, Any]
    id: str | None

    __hash__ = None  # type: ignore[assignment]  # settings is a dict: nodes are values, not keys

    def __init__(
        self,
        name: str,
        type: str,
        subtype: str,
        settings: dict[str, Any] | None = None,
        id: str | None = None,
    ) -> None:
        _set = object.__setattr__
        _set(self, "name", name)
        _set(self, "type", type)
        _set(self, "subtype", subtype)
        _set(self, "settings", {} if settings is None else settings)
        _set(self, "id", id)
        if _recording is not None:
            _record_origin(self, *_recording)

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


def node_fields(raw: Any) -> tuple[str, str, str, dict[str, Any], str | None] | None:
    """The fields of one ``job_nodes`` entry, or None when its shape is not readable."""
    if not isinstance(raw, dict):
        return None
    name, type_, subtype = raw.get("name"), raw.get("type"), raw.get("subtype")
    settings = raw.get("settings")
    settings = {} if settings is None else settings  # false, [] or "" are not settings
    node_id = raw.get("id")
    if not (isinstance(name, str) and isinstance(type_, str) and isinstance(subtype, str)):
        return None
    if not isinstance(settings, dict) or not (node_id is None or isinstance(node_id, str)):
        return None
    return name, type_, subtype, settings, node_id


# ---------------------------------------------------------------------------------------------
# The catalogue: generated from dagkit/model/catalogue/source.py (see dagkit.model.catalogue)
# ---------------------------------------------------------------------------------------------

_BY_PAIR = _data.BY_PAIR


# ---------------------------------------------------------------------------------------------
# Reading nodes
# ---------------------------------------------------------------------------------------------


def _settings_of(node: NodeBase) -> dict[str, Any]:
    return node.settings if isinstance(node.settings, dict) else {}


def _same_json(a: Any, b: Any) -> bool:
    """JSON equality for scalars: ``True`` is not ``1``."""
    return type(a) is type(b) and a == b


def kind_of(node: NodeBase) -> NodeKind | None:
    """The node's kind, or None when its type/subtype (or the setting that tells kinds sharing a
    subtype apart, like ``is_dynamic`` or ``strategy``) is not one the docs describe."""
    return kind_for(node.type, node.subtype, _settings_of(node))


def kind_for(type_: str, subtype: str, settings: dict[str, Any]) -> NodeKind | None:
    """:func:`kind_of` a node of this type, subtype and settings (without making the node)."""
    for kind in _BY_PAIR.get((type_, subtype), ()):
        if kind.discriminator is None:
            return kind
        key, value = kind.discriminator
        given = settings.get(key)
        if given is None:  # left out or null: the platform fills the setting's default
            given = kind.settings[key].default
        if _same_json(given, value):
            return kind
    return None


def partition_strategy(node: NodeBase) -> Literal["auto", "vlm", "hi_res", "fast"] | None:
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


def enrichment_task(node: NodeBase) -> str | None:
    """The enrichment task of a prompter node (``image_description``, ``table_description``,
    ``table_to_html``, ``ner``, ``generative_ocr``), or None for an unknown subtype."""
    kind = kind_of(node)
    return kind.task if kind is not None else None


def embedding_model(node: NodeBase) -> EmbeddingModel | None:
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


def _record_origin(node: NodeBase, file: str, lines: dict[int, int]) -> None:
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


def _known_settings(node: NodeBase) -> tuple[Mapping[str, Setting], str] | None:
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


def catalogue_findings(node: NodeBase, ref: NodeRef, path: DocPath) -> list[Finding]:
    """Findings for what the docs list only as open sets: unknown settings keys (DK210, or
    the DK214 error when the key is a near miss of a documented one), providers (DK211), models
    (DK212) and element types (DK213).

    ``path`` is the node's own place in the request_data document (``("job_nodes", 2)``).
    Closed-set rules (types, enums, ranges, required keys) belong to request-data.schema.json.
    """
    settings = _settings_of(node)
    where = (*path, "settings")
    out: list[Finding] = []
    known = _known_settings(node)
    if known is not None and settings:
        table, label = known
        out += _unknown_keys(settings, table, where, label, ref)
    out += _provider_findings(node, settings, ref, path)
    if known is not None and settings:
        for key, documented in ELEMENT_TYPES.items():
            value = settings.get(key)
            if isinstance(value, list) and key in known[0]:
                out += _element_type_findings(value, documented, key, where, ref)
    return out


def _unknown_keys(
    value: dict[str, Any], table: Mapping[str, Setting], where: DocPath, label: str, ref: NodeRef
) -> list[Finding]:
    out = []
    for key, item in value.items():
        setting = table.get(key)
        if setting is not None and setting.fields is None:
            continue  # a documented scalar setting: nothing to say
        at = (*where, key)
        if setting is None:
            near = near_miss(key, table)
            if near is not None:
                out.append(
                    finding(
                        "DK214",
                        f'{ref}: "{key}" is not a {label} setting; it looks like a misspelled '
                        f'"{near}" (the platform stores it and runs without it)',
                        hint=f'write "{near}"',
                        path=at,
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
                    path=at,
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
                            (*at, i),
                            f"{label} {key}",
                            ref,
                        )
    return out


def _provider_findings(
    node: NodeBase, settings: dict[str, Any], ref: NodeRef, path: DocPath
) -> list[Finding]:
    where = (*path, "settings")
    if node.type == "partition" and node.subtype == "vlm":
        return _provider_and_model(
            "partition", settings, "provider", "model", "anthropic", where, ref
        )
    if node.type == "structured_data_extractor" and node.subtype == "llm":
        return _provider_and_model("extract", settings, "provider", "model", None, where, ref)
    if node.type == "prompter":
        return _prompter_findings(node, settings, ref, path)
    if node.type == "embed":
        if node.subtype not in SUBTYPES["embed"]:
            return [_unknown_subtype(node, ref, path, "embed")]
        return _model_finding(
            "embed", node.subtype, settings.get("model_name"), "model_name", where, ref
        )
    return []


def _unknown_subtype(node: NodeBase, ref: NodeRef, path: DocPath, what: str) -> Finding:
    documented = SUBTYPES[node.type]
    return finding(
        "DK211",
        f'{ref}: {what} subtype "{node.subtype}" is not a documented provider',
        hint=_did_you_mean(node.subtype, documented) or f"documented: {_quoted(documented)}",
        path=(*path, "subtype"),
        node=ref,
    )


def _prompter_findings(
    node: NodeBase, settings: dict[str, Any], ref: NodeRef, path: DocPath
) -> list[Finding]:
    where = (*path, "settings")
    kind = kind_of(node)
    if kind is None:
        out = [_unknown_subtype(node, ref, path, "enrichment")]
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
                path=(*where, "provider_type"),
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
    where: DocPath,
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
                path=(*where, provider_key),
                node=ref,
            )
        ]
    return _model_finding(family, provider, settings.get(model_key), model_key, where, ref)


#: Every model some provider of a family lists: a valid model is one set lookup.
_ANY_MODEL = {
    family: frozenset(m for models in lists.values() for m in models)
    for family, lists in MODELS.items()
}


def model_listed(family: str, provider: str | None, model: Any) -> bool:
    """Whether ``model`` gets no DK212: it is no string (the schema's business), or the docs
    list it for ``provider`` (for any provider of the family when ``provider`` is None or
    ``auto``)."""
    if not isinstance(model, str):
        return True
    if provider is None or provider == "auto":
        return model in _ANY_MODEL[family]
    return model in MODELS[family][provider]


def _model_finding(
    family: str, provider: str | None, model: Any, model_key: str, where: DocPath, ref: NodeRef
) -> list[Finding]:
    """DK212 when ``model`` is not listed for ``provider`` (any provider of the family when
    ``provider`` is None or ``auto``)."""
    if model_listed(family, provider, model):
        return []  # the common case: no list to build
    lists = MODELS[family]
    if provider is None or provider == "auto":
        listed = [m for models in lists.values() for m in models]
        whose = f"any {family} provider"
    else:
        listed = list(lists[provider])
        whose = f'provider "{provider}"'
    at = (*where, model_key)
    if model in REMOVED_MODELS:
        return [
            finding(
                "DK212",
                f'{ref}: model "{model}" was {REMOVED_MODELS[model]}; '
                "the API answers errors for it",
                hint=f"pick a current model: {_quoted(listed)}",
                path=at,
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
            path=at,
            node=ref,
        )
    ]


def _element_type_findings(
    values: list[Any], documented: tuple[str, ...], key: str, where: DocPath, ref: NodeRef
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
                path=(*where, key, i),
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
