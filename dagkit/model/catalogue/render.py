"""Writing the catalogue's generated files from ``source.py``.

:func:`render_all` gives each generated file's bytes by its path in a source checkout:
``dagkit/model/catalogue/data.py`` (the catalogue as literal data),
``dagkit/model/catalogue/typed.py`` (the TypedDicts) and ``schemas/request-data.schema.json``.
Output is deterministic, so a generated file that differs from what the source gives is drift.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from dagkit.model.catalogue import source
from dagkit.model.catalogue.entries import EmbeddingModel, NodeKind, Setting

DATA_PATH = "dagkit/model/catalogue/data.py"
TYPED_PATH = "dagkit/model/catalogue/typed.py"
SCHEMA_PATH = "schemas/request-data.schema.json"

_SCHEMA_ID = "https://dagkit.invalid/schemas/request-data.schema.json"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_HEADER = (
    "# Generated from dagkit/model/catalogue/source.py by `dagkit schemas generate --catalogue`.\n"
    "# Do not edit: edit the source and generate again.\n"
)


def render_all() -> dict[str, bytes]:
    """Every generated file's bytes, by its path relative to the checkout's root."""
    return {
        DATA_PATH: render_data().encode("utf-8"),
        TYPED_PATH: render_typed().encode("utf-8"),
        SCHEMA_PATH: render_schema(),
    }


# --- data.py -------------------------------------------------------------------------------------


class _Writer:
    """Python source for the catalogue, naming each shared Setting once."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.lines: list[str] = []

    def setting(self, setting: Setting) -> str:
        name = self.names.get(id(setting))
        if name is None:
            args = [repr(setting.name), repr(setting.type)]
            defaults = Setting(setting.name, setting.type)
            for slot in Setting.__slots__:
                value = getattr(setting, slot)
                if slot in ("name", "type", "nullable") or value == getattr(defaults, slot):
                    continue
                if slot == "fields":
                    value = self.table(value)
                    args.append(f"fields={value}")
                    continue
                args.append(f"{slot}={value!r}")
            name = f"_S{len(self.names)}"
            self.names[id(setting)] = name
            self.lines.append(f"{name} = _S({', '.join(args)})")
        return name

    def table(self, settings: Mapping[str, Setting]) -> str:
        items = ", ".join(f"{key!r}: {self.setting(s)}" for key, s in settings.items())
        return "{" + items + "}"


def _model(m: EmbeddingModel) -> str:
    return f"_M({m.dimensions}, {m.max_tokens}, {m.max_characters})"


def _kind(writer: _Writer, kind: NodeKind) -> str:
    args = [repr(kind.key), repr(kind.type), repr(kind.subtype), repr(kind.label)]
    args.append(writer.table(kind.settings))
    for slot in ("discriminator", "provider", "task", "schema_def"):
        value = getattr(kind, slot)
        if value:
            args.append(f"{slot}={value!r}")
    return f"_K({', '.join(args)})"


def render_data() -> str:
    writer = _Writer()
    kinds = [f"    {key!r}: {_kind(writer, kind)}," for key, kind in source.KINDS.items()]
    embedding = []
    for provider, models in source.EMBEDDING_MODELS.items():
        inner = ", ".join(f"{m!r}: {_model(size)}" for m, size in models.items())
        embedding.append(f"    {provider!r}: {{{inner}}},")
    pairs: dict[tuple[str, str], list[str]] = {}
    for kind in source.KINDS.values():
        pairs.setdefault((kind.type, kind.subtype), []).append(kind.key)
    secret = sorted(
        {s.name for kind in source.KINDS.values() for s in kind.settings.values() if s.secret}
    )
    out = [
        '"""The node catalogue as precomputed data (see dagkit.model.catalogue)."""',
        "",
        _HEADER.rstrip("\n"),
        "",
        "from dagkit.model.catalogue.entries import EmbeddingModel as _M",
        "from dagkit.model.catalogue.entries import NodeKind as _K",
        "from dagkit.model.catalogue.entries import Setting as _S",
        "",
        f"NODE_TYPES: tuple[str, ...] = {source.NODE_TYPES!r}",
        f"ENRICHMENT_SUBTYPES: dict[str, dict[str, str]] = {source.ENRICHMENT_SUBTYPES!r}",
        f"SUBTYPES: dict[str, tuple[str, ...]] = {source.SUBTYPES!r}",
        f"CLOSED_SUBTYPES: frozenset[str] = frozenset({sorted(source.CLOSED_SUBTYPES)!r})",
        f"MODELS: dict[str, dict[str, tuple[str, ...]]] = {source.MODELS!r}",
        f"PROVIDERS: dict[str, tuple[str, ...]] = {source.PROVIDERS!r}",
        f"REMOVED_MODELS: dict[str, str] = {source.REMOVED_MODELS!r}",
        f"DEFAULT_ENRICHMENT_MODELS: dict[str, str] = {source.DEFAULT_ENRICHMENT_MODELS!r}",
        f"ELEMENT_TYPES: dict[str, tuple[str, ...]] = {source.ELEMENT_TYPES!r}",
        f"ASSUMED_OPTIONS: tuple[str, ...] = {tuple(source.ASSUMED_OPTIONS)!r}",
        "",
        "EMBEDDING_MODELS: dict[str, dict[str, _M]] = {",
        *embedding,
        "}",
        "",
    ]
    body = ["KINDS: dict[str, _K] = {", *kinds, "}", ""]
    tail = [
        "BY_PAIR: dict[tuple[str, str], tuple[_K, ...]] = {",
        *(
            f"    {pair!r}: ({', '.join(f'KINDS[{k!r}]' for k in keys)},),"
            for pair, keys in pairs.items()
        ),
        "}",
        f"SECRET_SETTINGS: frozenset[str] = frozenset({secret!r})",
    ]
    return "\n".join([*out, *writer.lines, "", *body, *tail]) + "\n"


# --- typed.py ------------------------------------------------------------------------------------

_PY_TYPES = {
    "string": "str",
    "boolean": "bool",
    "integer": "int",
    "number": "float",
    "object": "Mapping[str, Any]",
    "any": "Any",
}


def _annotation(setting: Setting) -> str:
    if setting.const is not None:
        text = f"Literal[{setting.const!r}]"
    elif setting.enum is not None:
        text = f"Literal[{', '.join(repr(v) for v in setting.enum)}]"
    elif setting.type == "array":
        text = f"Sequence[{_PY_TYPES[setting.items_type or 'any']}]"
    else:
        text = _PY_TYPES[setting.type]
    if setting.nullable and text != "Any":
        text += " | None"
    return text


def render_typed() -> str:
    out = [
        '"""The TypedDicts of the node constructors\' keyword arguments '
        '(see dagkit.model.catalogue)."""',
        "",
        _HEADER.rstrip("\n"),
        "",
        "from collections.abc import Mapping, Sequence",
        "from typing import Any, Literal, TypedDict",
        "",
    ]
    for name, key, fixed, doc in source.TYPED_SETTINGS:
        out += ["", f"class {name}(TypedDict, total=False):", f'    """{doc}"""', ""]
        for setting in source.KINDS[key].settings.values():
            if setting.name not in fixed:
                out.append(f"    {setting.name}: {_annotation(setting)}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --- request-data.schema.json ----------------------------------------------------------------


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _property(setting: Setting) -> dict[str, Any]:
    """The JSON Schema of one setting's value."""
    out: dict[str, Any] = {}
    if setting.description:
        out["description"] = _sentence(setting.description)
    if setting.type == "any":
        return out
    out["type"] = [setting.type, "null"] if setting.nullable else setting.type
    if setting.const is not None:
        if setting.nullable:
            out["enum"] = [setting.const, None]
        else:
            out["const"] = setting.const
    if setting.enum is not None:
        out["enum"] = [*setting.enum, *([None] if setting.nullable else [])]
    for keyword, bound in (
        ("minimum", setting.minimum),
        ("maximum", setting.maximum),
        ("exclusiveMinimum", setting.exclusive_minimum),
        ("exclusiveMaximum", setting.exclusive_maximum),
    ):
        if bound is not None:
            out[keyword] = bound
    if setting.type == "array":
        if setting.items_type == "object":
            items = _object(setting.fields or {}, ())
        else:
            items = {"type": setting.items_type}
            if setting.items_enum is not None:
                items["enum"] = list(setting.items_enum)
        out["items"] = items
        if setting.min_items is not None:
            out["minItems"] = setting.min_items
    if setting.type == "object":
        out.update(_object(setting.fields or {}, setting.one_required, typed=False))
    if setting.default is not None:
        out["default"] = (
            list(setting.default) if isinstance(setting.default, tuple) else setting.default
        )
    return out


def _object(
    fields: Mapping[str, Setting], one_required: tuple[str, ...], *, typed: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"} if typed else {}
    required = [s.name for s in fields.values() if s.required]
    if required:
        out["required"] = required
    if fields:
        out["properties"] = {name: _property(s) for name, s in fields.items()}
    if one_required:
        # present and not null: a null stands for "not given"
        out["anyOf"] = [
            {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
            for name in one_required
        ]
    return out


def _settings_def(kinds: list[NodeKind]) -> dict[str, Any]:
    kind = kinds[0]
    out: dict[str, Any] = {"title": source.SCHEMA_TITLES[kind.schema_def]}
    out.update(_object(kind.settings, ()))
    if not kind.required_settings:
        out["type"] = ["object", "null"]
    return out


def _if_subtype(subtypes: list[str]) -> dict[str, Any]:
    test = {"const": subtypes[0]} if len(subtypes) == 1 else {"enum": subtypes}
    return {"properties": {"subtype": test}, "required": ["subtype"]}


def _settings_ref(def_name: str, required: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": {"settings": {"$ref": f"#/$defs/{def_name}"}}}
    if required:
        out = {"required": ["settings"], **out}
    return out


def _discriminated(pair: tuple[str, str], kinds: list[NodeKind]) -> tuple[str, dict[str, Any]]:
    """The $defs entry for a subtype whose kinds a settings key tells apart."""
    key = kinds[0].discriminator[0]  # type: ignore[index]
    values = [k.discriminator[1] for k in kinds]  # type: ignore[index]
    fallback = [k for k in kinds if k.settings[key].default == k.discriminator[1]]  # type: ignore[index]
    any_required = all(k.required_settings for k in kinds)
    def_name = f"{_camel(pair[1])}SubtypeSettings"
    branches = []
    for kind, value in zip(kinds, values, strict=True):
        if kind in fallback:
            # leaving the key out, or null, is this kind too: the platform fills the default
            test: dict[str, Any] = {"properties": {key: {"enum": [value, None]}}}
        else:
            test = {"properties": {key: {"const": value}}, "required": [key]}
        branches.append(
            {"if": {"type": "object", **test}, "then": {"$ref": f"#/$defs/{kind.schema_def}"}}
        )
    described = ", ".join(
        f"{json.dumps(v)} is {k.label}" for k, v in zip(kinds, values, strict=True)
    )
    out: dict[str, Any] = {
        "description": f"Settings of a {pair[0]} node of subtype {pair[1]}: {key} {described}"
        + (f"; without {key}, {fallback[0].label}." if fallback else "."),
        "type": "object" if any_required else ["object", "null"],
    }
    if not fallback:
        out["required"] = [key]
    typed: dict[str, Any] = {"type": kinds[0].settings[key].type}
    if not fallback:
        typed["enum"] = values
    else:
        typed["type"] = [typed["type"], "null"]
    out["properties"] = {key: typed}
    out["allOf"] = branches
    return def_name, out


def _camel(text: str) -> str:
    head, *rest = text.split("_")
    return head + "".join(part.title() for part in rest)


def _type_def(node_type: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The ``<type>Node`` $defs entry and the $defs it needs."""
    kinds = [k for k in source.KINDS.values() if k.type == node_type]
    defs: dict[str, Any] = {}
    by_subtype: dict[str, list[NodeKind]] = {}
    for kind in kinds:
        by_subtype.setdefault(kind.subtype, []).append(kind)
    for kind in kinds:
        if kind.schema_def not in defs:
            defs[kind.schema_def] = _settings_def([kind])
    closed = node_type in source.CLOSED_SUBTYPES
    node: dict[str, Any] = {"title": f"{_TYPE_TITLES[node_type]} node"}
    if closed:
        node["properties"] = {"subtype": {"enum": list(source.SUBTYPES[node_type])}}
    else:
        node["description"] = (
            "Subtypes name providers, an open list: an unknown subtype is not an error here "
            f"(documented: {', '.join(source.SUBTYPES[node_type])})."
        )
        node["properties"] = {"subtype": {"type": "string", "minLength": 1}}
    shared = {k.schema_def for k in kinds}
    if not closed and len(shared) == 1 and all(k.discriminator is None for k in kinds):
        # one settings shape for every provider, known or not
        only = kinds[0]
        node["properties"]["settings"] = {"$ref": f"#/$defs/{only.schema_def}"}
        if only.required_settings:
            node["required"] = ["settings"]
        return f"{node_type}Node", node, defs
    branches = []
    groups: dict[str, list[str]] = {}
    for subtype, subkinds in by_subtype.items():
        if len(subkinds) > 1:
            def_name, entry = _discriminated((node_type, subtype), subkinds)
            defs[def_name] = entry
            required = all(k.required_settings for k in subkinds)
            branches.append(
                {"if": _if_subtype([subtype]), "then": _settings_ref(def_name, required)}
            )
        else:
            groups.setdefault(subkinds[0].schema_def, []).append(subtype)
    for def_name, subtypes in groups.items():
        required = bool(next(k for k in kinds if k.schema_def == def_name).required_settings)
        branches.append({"if": _if_subtype(subtypes), "then": _settings_ref(def_name, required)})
    node["allOf"] = branches
    return f"{node_type}Node", node, defs


_TYPE_TITLES = {
    "partition": "Partition",
    "prompter": "Enrichment",
    "chunk": "Chunk",
    "embed": "Embed",
    "structured_data_extractor": "Structured data extractor",
}


def request_data_schema() -> dict[str, Any]:
    """request-data.schema.json as a dict."""
    defs: dict[str, Any] = {}
    type_defs: dict[str, Any] = {}
    for node_type in source.NODE_TYPES:
        name, node, needed = _type_def(node_type)
        type_defs[name] = node
        defs.update(needed)
    node_def = {
        "title": "Job node",
        "description": "One node of a custom job. The type (then the subtype) picks the "
        "branch that types the settings.",
        "type": "object",
        "required": ["name", "type", "subtype"],
        "properties": {
            "name": {
                "description": "A free label; job details report nodes by it.",
                "type": "string",
            },
            "type": {"description": "The node type.", "enum": list(source.NODE_TYPES)},
            "subtype": {
                "description": "The node subtype; which ones exist depends on the type.",
                "type": "string",
            },
            "settings": {
                "description": "The node's settings; their keys depend on type and subtype.",
                "type": ["object", "null"],
            },
            "id": {
                "description": "A node id. Usually left out: the server assigns ids.",
                "type": ["string", "null"],
            },
        },
        "additionalProperties": False,
        "allOf": [
            {
                "if": {"properties": {"type": {"const": t}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{t}Node"},
            }
            for t in source.NODE_TYPES
        ],
    }
    return {
        "$schema": _DIALECT,
        "$id": _SCHEMA_ID,
        "title": "request_data",
        "description": "The JSON document sent as the request_data form field of POST "
        "/api/v1/jobs/. A job either runs a workflow template (template_id) or a custom list of "
        "nodes (job_nodes), never both. Node settings are typed per node type and subtype; "
        "settings the platform fills a default for are optional and may be null. Settings "
        "objects accept keys this schema does not know (dagkit's catalogue warns about them), "
        "and providers, models and element types are open lists, checked as warnings by the "
        "catalogue rather than here. Generated from dagkit's node catalogue.",
        "type": "object",
        "properties": {
            "template_id": {
                "title": "Template id",
                "description": "The id of a workflow template to run. Ids are opaque strings, "
                "not necessarily UUIDs.",
                "type": "string",
                "minLength": 1,
                "examples": ["hi_res_and_enrichment", "hi_res_partition"],
            },
            "job_nodes": {
                "title": "Job nodes",
                "description": "The job's nodes in processing order: a partition node first, "
                "then enrichments, at most one chunker, an embedder, an extractor last.",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/node"},
            },
            **source.ASSUMED_OPTIONS,
        },
        "additionalProperties": False,
        "oneOf": [
            {
                "title": "Template job",
                "description": "Runs a workflow template.",
                "required": ["template_id"],
            },
            {
                "title": "Custom DAG job",
                "description": "Runs the nodes in job_nodes.",
                "required": ["job_nodes"],
            },
        ],
        "$defs": {"node": node_def, **type_defs, **defs},
    }


def render_schema() -> bytes:
    text = json.dumps(request_data_schema(), indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8")
