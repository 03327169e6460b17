"""The schema files' sources and drift: generating them, and checking the packaged ones.

``dagkit schemas generate`` writes one ``components/<Name>.schema.json`` per component the
OpenAPI document's operations use (:func:`generate_component_schemas`), and, from the node
catalogue (``dagkit/model/catalogue/source.py``), ``request-data.schema.json`` and the
catalogue's Python data (:func:`generate_catalogue`). ``dagkit schemas check``
(:func:`check_schemas`) holds the packaged files to what those sources generate and to the
2020-12 metaschema.

This is tooling for dagkit's own checkout, so it stands on a floor of its own above everything
that runs (it reads both the schemas and the model); nothing at run time imports it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagkit.core import pointers
from dagkit.errors import SchemaError
from dagkit.model.catalogue.render import DATA_PATH, SCHEMA_PATH, TYPED_PATH, render_all
from dagkit.schemas.store import (
    _COMPONENT_REF,
    _DATA_KEYWORDS,
    _NAME_MAPS,
    COMPONENT_SUFFIX,
    COMPONENTS_DIR,
    DIALECT,
    OPENAPI_PATH,
    REQUEST_DATA_PATH,
    SCHEMA_BASE,
    _as_root,
    _component_id,
    _iter_operations,
    _read_json,
    _registry_of,
    _relative_path,
    _resolve_pointer,
    _rewrite_refs,
    schema_names,
)

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


def _component_file(name: str, rest: str) -> str:
    return f"{name}{COMPONENT_SUFFIX}{'#' + rest if rest else ''}"


# --- generating component schemas from an OpenAPI document ---------------------------------------


def read_openapi(path: Path) -> dict[str, Any]:
    """Read and sanity-check an OpenAPI 3.1 JSON file; :class:`SchemaError` says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SchemaError(f"{path}: is a directory, not an OpenAPI JSON file") from None
    except UnicodeDecodeError:
        raise SchemaError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise SchemaError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"{path}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise SchemaError(f"{path}: nested too deeply to read") from None
    _require_openapi(spec, str(path))
    return spec  # type: ignore[no-any-return]


def _require_openapi(spec: Any, where: str) -> None:
    if not isinstance(spec, dict):
        raise SchemaError(f"{where}: an OpenAPI document is a JSON object")
    version = spec.get("openapi")
    if not isinstance(version, str) or not version.startswith("3.1."):
        raise SchemaError(
            f"{where}: dagkit generates JSON Schema 2020-12 from OpenAPI 3.1 documents; "
            f'"openapi" is {json.dumps(version)}'
        )
    if not isinstance(spec.get("paths"), dict):
        raise SchemaError(f'{where}: "paths" must be an object')
    components = spec.get("components", {})
    schemas = components.get("schemas", {}) if isinstance(components, dict) else None
    if not isinstance(schemas, dict) or not all(
        isinstance(v, dict | bool) for v in schemas.values()
    ):
        raise SchemaError(f'{where}: "components.schemas" must map names to schemas')


def _component_schemas(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``components.schemas`` of a document :func:`_require_openapi` accepted."""
    schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
    return schemas


def used_components(spec: Mapping[str, Any]) -> list[str]:
    """The component schemas the operations use, directly or through other components (sorted)."""
    _require_openapi(spec, "OpenAPI document")
    used: set[str] = set()
    seen_refs: set[str] = set()
    pending: list[Any] = [operation for _, _, operation in _iter_operations(spec)]
    pending += [item.get("parameters") for item in spec["paths"].values() if isinstance(item, dict)]
    while pending:
        for _, ref in _refs(pending.pop()):
            if ref not in seen_refs:
                seen_refs.add(ref)
                pending.append(_follow(spec, ref, used))
    return sorted(used)


def _follow(spec: Mapping[str, Any], ref: str, used: set[str]) -> Any:
    """What a ``#/components/...`` reference points at, noting component schemas in ``used``."""
    if not ref.startswith("#/components/"):
        return None  # external references are left as they are
    if ref.startswith(_COMPONENT_REF):
        # The whole component becomes a file, so walk all of it, not only the part referenced.
        name = pointers.unescape(ref[len(_COMPONENT_REF) :].partition("/")[0])
        schemas = _component_schemas(spec)
        if name not in schemas:
            raise SchemaError(
                f'the OpenAPI document refers to a missing component "{name}" ({ref})'
            )
        used.add(name)
        return schemas[name]
    return _resolve_pointer(spec, ref[1:], ref)


_SAFE_NAME = r"[A-Za-z0-9._-]+"


def render_component_schemas(spec: Mapping[str, Any]) -> dict[str, bytes]:
    """Each component file's bytes, by name, as :func:`generate_component_schemas` writes them."""
    names = used_components(spec)
    schemas = _component_schemas(spec)
    files: dict[str, bytes] = {}
    for name in names:
        if not re.fullmatch(_SAFE_NAME, name):
            raise SchemaError(f'component name "{name}" cannot be a file name')
        schema = schemas[name]
        document: dict[str, Any] = {"$schema": DIALECT, "$id": _component_id(name, "")}
        if schema is False:
            document["not"] = {}
        elif isinstance(schema, dict):
            body = _rewrite_refs(schema, _component_file)
            document.update((k, v) for k, v in body.items() if k not in ("$schema", "$id"))
        files[name + COMPONENT_SUFFIX] = (
            json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        ).encode("utf-8")
    return files


def generate_component_schemas(spec: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write ``<Name>.schema.json`` into ``out_dir`` for each component the operations use.

    Each file gets ``$schema`` and ``$id``; ``#/components/schemas/X`` references become
    ``X.schema.json``; titles, descriptions and key order are kept; bytes are deterministic
    (2-space indent, UTF-8, final newline). Files already in ``out_dir`` that are not generated
    are left alone (:func:`check_schemas` reports them). Returns the written paths, sorted.
    """
    files = render_component_schemas(spec)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for file_name, data in files.items():
            target = out_dir / file_name
            target.write_bytes(data)
            written.append(target)
    except OSError as exc:
        raise SchemaError(f"{out_dir}: cannot write schemas: {exc.strerror or exc}") from None
    return written


def checkout_root() -> Path:
    """The source checkout dagkit runs from (where ``dagkit/`` and ``schemas/`` sit side by
    side), or SchemaError when dagkit runs from an installed copy."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "schemas" / REQUEST_DATA_PATH).is_file():
        raise SchemaError(
            f"{root} is not a dagkit source checkout; generate the catalogue from one"
        )
    return root


def generate_catalogue(root: Path) -> list[Path]:
    """Write the files generated from the node catalogue into the checkout at ``root``:
    ``dagkit/model/catalogue/data.py``, ``dagkit/model/catalogue/typed.py`` and
    ``schemas/request-data.schema.json``. Returns the written paths."""
    written = []
    try:
        for relative, data in render_all().items():
            target = root / relative
            target.write_bytes(data)
            written.append(target)
    except OSError as exc:
        raise SchemaError(f"{root}: cannot write the catalogue: {exc.strerror or exc}") from None
    return written


def _catalogue_drift(root: Traversable) -> list[str]:
    """The generated catalogue files that differ from what
    dagkit/model/catalogue/source.py gives."""
    expected = render_all()
    package = Path(__file__).resolve().parents[1]
    present = {
        SCHEMA_PATH: root / REQUEST_DATA_PATH,
        DATA_PATH: package / "model" / "catalogue" / "data.py",
        TYPED_PATH: package / "model" / "catalogue" / "typed.py",
    }
    problems = []
    for relative, entry in present.items():
        try:
            differs = entry.read_bytes() != expected[relative]
        except OSError:
            differs = True
        if differs:
            problems.append(
                f"{relative}: differs from what dagkit/model/catalogue/source.py generates "
                "(run `dagkit schemas generate --catalogue`)"
            )
    return problems


# --- checking the schema files -------------------------------------------------------------------


def check_schemas(schemas_dir: Path | None = None) -> list[str]:
    """Problems in a ``schemas/`` directory (default: the packaged one); empty when all is well.

    Checks that the component files are exactly what the OpenAPI document generates (naming each
    differing, missing or extra file), that request-data.schema.json and the catalogue's Python
    data are exactly what the node catalogue generates, that every schema file passes the
    2020-12 metaschema and has the right ``$schema`` and ``$id``, that every ``$ref`` resolves,
    and that the OpenAPI document is sound (operation ids, declared path parameters, schemas,
    references).
    """
    root = _as_root(schemas_dir)
    problems: list[str] = []
    schemas: dict[str, Any] = {}
    spec: Any = None
    try:
        spec = _read_json(root, OPENAPI_PATH)
        _require_openapi(spec, OPENAPI_PATH)
    except SchemaError as exc:
        problems.append(str(exc))
        spec = None
    if spec is not None:
        problems += _openapi_problems(spec)
        problems += _drift(spec, root)
    problems += _catalogue_drift(root)
    for name in schema_names(schemas_dir)[:-1]:
        try:
            schemas[name] = _read_json(root, _relative_path(name))
        except SchemaError as exc:
            problems.append(str(exc))
    problems += _schema_file_problems(schemas)
    return problems


def _drift(spec: Mapping[str, Any], root: Traversable) -> list[str]:
    try:
        expected = render_component_schemas(spec)
    except SchemaError as exc:
        return [f"{OPENAPI_PATH}: {exc}"]
    folder = root / COMPONENTS_DIR
    present = {
        entry.name: entry
        for entry in (folder.iterdir() if folder.is_dir() else [])
        if entry.name.endswith(COMPONENT_SUFFIX)
    }
    regenerate = (
        "run `dagkit schemas generate --spec schemas/openapi/jobs-api.openapi.json "
        "--out schemas/components`"
    )
    problems = []
    for file_name in sorted(expected.keys() | present.keys()):
        where = f"{COMPONENTS_DIR}/{file_name}"
        if file_name not in present:
            problems.append(f"{where}: missing; the OpenAPI document generates it ({regenerate})")
        elif file_name not in expected:
            problems.append(
                f"{where}: not generated from the OpenAPI document (no operation uses it); "
                "delete it"
            )
        elif present[file_name].read_bytes() != expected[file_name]:
            problems.append(
                f"{where}: differs from what the OpenAPI document generates ({regenerate})"
            )
    return problems


def _schema_file_problems(schemas: Mapping[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator
    from referencing.exceptions import Unresolvable

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    valid = {name: s for name, s in schemas.items() if isinstance(s, dict)}
    resolver = _registry_of(valid).resolver()
    problems = []
    for name, schema in schemas.items():
        where = _relative_path(name)
        if not isinstance(schema, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        if schema.get("$schema") != DIALECT:
            problems.append(f'{where}: "$schema" must be "{DIALECT}"')
        if schema.get("$id") != SCHEMA_BASE + where:
            problems.append(f'{where}: "$id" must be "{SCHEMA_BASE + where}"')
        for error in meta.iter_errors(schema):
            problems.append(
                f"{where}: breaks the 2020-12 metaschema at {error.json_path}: {error.message}"
            )
        base = resolver.in_subresource(_resource(schema)) if "$id" in schema else resolver
        for pointer, ref in _refs(schema):
            try:
                base.lookup(ref)
            except Unresolvable:
                problems.append(f"{where}: $ref {ref!r} at {pointer or '/'} does not resolve")
    return problems


def _resource(schema: Mapping[str, Any]) -> Any:
    from referencing.jsonschema import DRAFT202012

    return DRAFT202012.create_resource(schema)


def _refs(node: Any, pointer: str = "", names: bool = False) -> Iterator[tuple[str, str]]:
    """Each ``$ref`` in a schema or OpenAPI object (outside data), with where its object is."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _refs(item, f"{pointer}/{index}")
    elif isinstance(node, dict):
        for key, value in node.items():
            where = pointers.join(pointer, key)
            if names:
                yield from _refs(value, where)
            elif key == "$ref" and isinstance(value, str):
                yield pointer, value
            elif key not in _DATA_KEYWORDS:
                yield from _refs(value, where, key in _NAME_MAPS)


def _openapi_problems(spec: Mapping[str, Any]) -> list[str]:
    from jsonschema import Draft202012Validator

    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
    problems: list[str] = []
    seen: dict[str, str] = {}

    def problem(message: str) -> None:
        problems.append(f"{OPENAPI_PATH}: {message}")

    for method, path, operation in _iter_operations(spec):
        where = f"{method} {path}"
        op_id = operation.get("operationId")
        if not isinstance(op_id, str) or not op_id:
            problem(f"{where}: no operationId")
        elif op_id in seen:
            problem(f'{where}: operationId "{op_id}" is also used by {seen[op_id]}')
        else:
            seen[op_id] = where
        params = [
            *_dicts(spec["paths"][path].get("parameters")),
            *_dicts(operation.get("parameters")),
        ]
        declared = {p.get("name") for p in params if p.get("in") == "path"}
        for name in re.findall(r"\{([^}]+)\}", path):
            if name not in declared:
                problem(f"{where}: path parameter {{{name}}} is not declared")
        if not isinstance(operation.get("responses"), dict) or not operation["responses"]:
            problem(f"{where}: no responses")
    for where, schema in _openapi_schemas(spec):
        for error in meta.iter_errors(schema):
            problem(f"{where}: breaks the 2020-12 metaschema at {error.json_path}: {error.message}")
    for pointer, ref in _refs(spec):
        if ref.startswith("#"):
            try:
                _resolve_pointer(spec, ref[1:], ref)
            except SchemaError:
                problem(f"$ref {ref!r} at {pointer} does not resolve")
    return problems


def _openapi_schemas(spec: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every schema object of the document, with where it is, for the metaschema check."""
    for name, schema in _component_schemas(spec).items():
        yield f"components.schemas.{name}", schema
    for method, path, operation in _iter_operations(spec):
        for param in _dicts(operation.get("parameters")):
            if "schema" in param:
                yield f"{method} {path} parameter {param.get('name')}", param["schema"]
        responses = operation.get("responses")
        bodies = [("request body", operation.get("requestBody"))]
        if isinstance(responses, dict):
            bodies += [(f"response {code}", r) for code, r in responses.items()]
        for label, body in bodies:
            content = body.get("content") if isinstance(body, dict) else None
            for media_type, media in content.items() if isinstance(content, dict) else ():
                if isinstance(media, dict) and "schema" in media:
                    yield f"{method} {path} {label} {media_type}", media["schema"]


def _dicts(value: Any) -> list[dict[str, Any]]:
    """The objects in a list that should hold only objects (anything else is ignored)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
