"""The schemas dagkit holds: loading, resolving, validating, and generating them from OpenAPI.

Files live in the top-level ``schemas/`` directory, installed as the package ``dagkit._schemas``:

- ``request-data.schema.json``: the JSON inside the ``request_data`` form field, generated from
  the node catalogue (``dagkit/model/catalogue/source.py``) by :func:`generate_catalogue`;
- ``openapi/jobs-api.openapi.json``: the jobs and templates API as an OpenAPI 3.1 document;
- ``components/<Name>.schema.json``: one JSON Schema per component the operations use, generated
  from the OpenAPI document by :func:`generate_component_schemas` and committed.

Every schema file carries ``"$id": SCHEMA_BASE + <path relative to schemas/>``, so references
between them resolve through :func:`registry` without touching the network.

Importing this module is cheap: jsonschema and referencing are imported inside the functions
that need them, because ``dagkit validate`` must start fast.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dagkit.core import pointers
from dagkit.errors import SchemaError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry

SCHEMA_BASE = "https://dagkit.invalid/schemas/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

REQUEST_DATA = "request-data"
OPENAPI = "openapi"
OPENAPI_PATH = "openapi/jobs-api.openapi.json"
REQUEST_DATA_PATH = "request-data.schema.json"
COMPONENTS_DIR = "components"
COMPONENT_SUFFIX = ".schema.json"

_PACKAGE = "dagkit._schemas"
_GENERATED = f"generated from {OPENAPI_PATH}"
_HAND_WRITTEN = "hand-written"
_FROM_CATALOGUE = "generated from dagkit/model/catalogue/source.py"
_COMPONENT_REF = "#/components/schemas/"
# Keywords whose values are data, not subschemas: a "$ref" inside them is not a reference.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "example"})
# Keywords (JSON Schema and OpenAPI) whose values map free names to objects: there a key such as
# "default" (a property, a response) is a name, and its value can hold references.
_NAME_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "paths",
     "responses", "content", "headers", "schemas", "parameters", "requestBodies", "encoding"}
)  # fmt: skip
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# --- formats -------------------------------------------------------------------------------------
# dagkit checks exactly these formats, with its own stdlib code, so that a verdict never depends
# on which optional packages jsonschema found (it checks "duration" only with isoduration and
# "date-time" only with rfc3339-validator). Other formats are annotations, as 2020-12 defaults.

# Patterns stay strings (re caches them on first use) so that importing this module compiles none.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_DATE_TIME = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_NUMBER = r"[0-9]+(?:[.,][0-9]+)?"
_DURATION = (
    rf"P(?:{_NUMBER}W|(?=.)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}D)?"
    rf"(?:T(?=.)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?)"
)
_DURATION_PART = r"[0-9]+([.,][0-9]+)?[YMWDHS]"


def is_uuid(text: str) -> bool:
    """A UUID in its hyphenated 8-4-4-4-12 hex form (RFC 9562), any case."""
    return re.fullmatch(_UUID, text) is not None


def is_date_time(text: str) -> bool:
    """An RFC 3339 ``date-time``: date, ``T``, time, optional fraction, ``Z`` or an offset.

    A leap second (``:60``) is accepted only where it can occur: at 23:59 UTC.
    """
    match = re.fullmatch(_DATE_TIME, text)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    sign, off_hour, off_minute = match.group(7), match.group(8), match.group(9)
    offset = 0
    if sign is not None:
        if int(off_hour) > 23 or int(off_minute) > 59:
            return False
        offset = (int(off_hour) * 60 + int(off_minute)) * (1 if sign == "+" else -1)
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        return False
    if hour > 23 or minute > 59 or second > 60:
        return False
    return second < 60 or (hour * 60 + minute - offset) % 1440 == 23 * 60 + 59


def is_duration(text: str) -> bool:
    """An ISO 8601 duration such as ``PT2M30S``, ``P1DT12H`` or ``P2W``.

    ``P``, then weeks alone, or years/months/days and a ``T`` part of hours/minutes/seconds, in
    that order, at least one of each part that is present; only the last number may have a
    fraction (``PT1.5S``). Upper-case designators only.
    """
    if re.fullmatch(_DURATION, text) is None:
        return False
    fractions = [bool(part.group(1)) for part in re.finditer(_DURATION_PART, text)]
    return not any(fractions[:-1])


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


#: The formats dagkit asserts, each a predicate on strings (non-strings always pass a format).
FORMATS: dict[str, Callable[[str], bool]] = {
    "uuid": is_uuid,
    "date-time": is_date_time,
    "duration": is_duration,
}


# --- finding and loading the files ---------------------------------------------------------------


# Records here are NamedTuples: a frozen dataclass costs ~0.5 ms to create at import, on the
# start-up path of every ``dagkit validate``; a NamedTuple a tenth of that.


class SchemaInfo(NamedTuple):
    """What :func:`schema_info` tells about one packaged schema."""

    name: str
    path: str  # relative to schemas/
    id: str
    title: str
    source: str  # "generated from openapi/jobs-api.openapi.json" or "hand-written"


def _packaged_root() -> Traversable:
    """The installed ``schemas/`` directory (in an uninstalled source checkout, the checkout's)."""
    from importlib.resources import files

    try:
        return files(_PACKAGE)
    except ModuleNotFoundError:
        checkout = Path(__file__).resolve().parents[2] / "schemas"
        if (checkout / OPENAPI_PATH).is_file():
            return checkout
        raise SchemaError(
            f"dagkit's schemas are not installed (no package {_PACKAGE}); reinstall dagkit"
        ) from None


@functools.cache
def _root() -> Traversable:
    return _packaged_root()


def _as_root(schemas_dir: Path | None) -> Traversable:
    return _root() if schemas_dir is None else schemas_dir


def _component_names(root: Traversable) -> list[str]:
    components = root / COMPONENTS_DIR
    if not components.is_dir():
        return []
    return sorted(
        entry.name[: -len(COMPONENT_SUFFIX)]
        for entry in components.iterdir()
        if entry.name.endswith(COMPONENT_SUFFIX) and entry.is_file()
    )


@functools.cache
def _packaged_names() -> tuple[str, ...]:
    return (REQUEST_DATA, *_component_names(_root()), OPENAPI)


def schema_names(schemas_dir: Path | None = None) -> list[str]:
    """Every schema's name: ``request-data``, each component (``JobInformation``...), ``openapi``.

    Without ``schemas_dir`` the packaged schemas; with it, those in that directory.
    """
    if schemas_dir is None:
        return list(_packaged_names())
    return [REQUEST_DATA, *_component_names(schemas_dir), OPENAPI]


def schema_path(name: str) -> str:
    """The file of schema ``name``, relative to ``schemas/``."""
    _check_name(name)
    return _relative_path(name)


def _relative_path(name: str) -> str:
    if name == REQUEST_DATA:
        return REQUEST_DATA_PATH
    if name == OPENAPI:
        return OPENAPI_PATH
    return f"{COMPONENTS_DIR}/{name}{COMPONENT_SUFFIX}"


def schema_id(name: str) -> str:
    """The ``$id`` of schema ``name`` (for ``openapi``, the URI it is registered under)."""
    return SCHEMA_BASE + schema_path(name)


def _check_name(name: str) -> None:
    if name in (REQUEST_DATA, OPENAPI):
        return  # always there: no need to list the components directory
    known = _packaged_names()
    if name in known:
        return
    from dagkit.core.suggest import closest

    guess = closest(name, known)
    hint = f' Did you mean "{guess}"?' if guess else ""
    raise SchemaError(f'no schema named "{name}".{hint} Known: {", ".join(known)}')


def _read_json(root: Traversable, relative: str) -> Any:
    entry = root.joinpath(*relative.split("/"))
    try:
        text = entry.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(f"{relative}: missing from dagkit's schemas") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{relative}: cannot be read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(
            f"{relative}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The packaged schema ``name`` as a dict (shared and cached: do not modify it).

    Raises :class:`SchemaError` for an unknown name (saying which names exist) or a broken file.
    """
    _check_name(name)
    schema = _read_json(_root(), _relative_path(name))
    if not isinstance(schema, dict):
        raise SchemaError(f"{_relative_path(name)}: not a JSON object")
    return schema


def schema_info(name: str) -> SchemaInfo:
    """Name, file, ``$id``, title and source of the packaged schema ``name``."""
    schema = load_schema(name)
    if name == OPENAPI:
        info = schema.get("info")
        title = info.get("title", "") if isinstance(info, dict) else ""
        return SchemaInfo(name, OPENAPI_PATH, schema_id(name), str(title), _HAND_WRITTEN)
    source = _FROM_CATALOGUE if name == REQUEST_DATA else _GENERATED
    title = str(schema.get("title", ""))
    return SchemaInfo(name, _relative_path(name), str(schema.get("$id", "")), title, source)


def openapi_document() -> dict[str, Any]:
    """The packaged OpenAPI 3.1 document of the jobs and templates API."""
    return load_schema(OPENAPI)


def schema_by_id(uri: str) -> Any:
    """The packaged schema (or the part of it a ``#/json/pointer`` fragment names) at ``uri``."""
    base, _, fragment = uri.partition("#")
    by_id = {schema_id(name): name for name in _packaged_names()}
    if base not in by_id:
        raise SchemaError(f"no packaged schema has the $id {base!r}")
    return _resolve_pointer(load_schema(by_id[base]), fragment, uri)


def _resolve_pointer(document: Any, pointer: str, where: str) -> Any:
    if pointer in ("", "/"):
        return document if pointer == "" else _step(document, "", where)
    if not pointer.startswith("/"):
        raise SchemaError(f"{where}: only JSON Pointer fragments are supported")
    node = document
    for token in pointers.split(pointer):
        node = _step(node, token, where)
    return node


def _step(node: Any, token: str, where: str) -> Any:
    if isinstance(node, dict) and token in node:
        return node[token]
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    raise SchemaError(f"{where}: nothing at {token!r}")


# --- validation (jsonschema imported lazily) -----------------------------------------------------


@functools.cache
def format_checker() -> FormatChecker:
    """A jsonschema FormatChecker that asserts exactly :data:`FORMATS`."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, predicate in FORMATS.items():
        checker.checks(name)(_string_check(predicate))
    return checker


def _string_check(predicate: Callable[[str], bool]) -> Callable[[object], bool]:
    return lambda instance: not isinstance(instance, str) or predicate(instance)


@functools.cache
def registry() -> Registry[Any]:
    """A ``referencing.Registry`` holding every packaged schema (and the OpenAPI document).

    A file that cannot be loaded is left out rather than breaking every validator: asking for
    it by name still raises, and :func:`check_schemas` reports it.
    """
    loaded = {}
    for name in _packaged_names():
        try:
            loaded[name] = load_schema(name)
        except SchemaError:
            continue
    return _registry_of(loaded)


def _registry_of(schemas: Mapping[str, Mapping[str, Any]]) -> Registry[Any]:
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    resources = [
        (SCHEMA_BASE + _relative_path(name), DRAFT202012.create_resource(schema))
        for name, schema in schemas.items()
    ]
    return Registry().with_resources(resources).crawl()


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A cached 2020-12 validator for schema ``name``, with :func:`registry` and formats."""
    if name == OPENAPI:
        raise SchemaError(
            "openapi is an OpenAPI document, not a schema; validate against a component"
        )
    return validator_for(load_schema(name))


def validator_for(schema: Mapping[str, Any]) -> Draft202012Validator:
    """A 2020-12 validator for any schema dict, with :func:`registry` and dagkit's formats."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema, registry=registry(), format_checker=format_checker())


# --- operations ----------------------------------------------------------------------------------


class _Operation(NamedTuple):
    method: str
    path: str
    segments: tuple[str | None, ...]  # None marks a {templated} segment
    spec: Mapping[str, Any]


def _iter_operations(spec: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    paths = spec.get("paths")
    if not isinstance(paths, dict):
        return
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method in _METHODS and isinstance(operation, dict):
                yield method.upper(), path, operation


@functools.cache
def _operations() -> dict[str, _Operation]:
    found: dict[str, _Operation] = {}
    for method, path, operation in _iter_operations(openapi_document()):
        op_id = operation.get("operationId")
        if isinstance(op_id, str):
            segments = tuple(
                None if s.startswith("{") and s.endswith("}") else s for s in path.split("/")
            )
            found[op_id] = _Operation(method, path, segments, operation)
    return found


def operation_routes() -> dict[str, tuple[str, str]]:
    """operationId -> (method, path template) for every operation, in document order."""
    return {op_id: (op.method, op.path) for op_id, op in _operations().items()}


def operation_ids() -> list[str]:
    """Every operationId of the packaged OpenAPI document, in document order."""
    return list(_operations())


def _operation(operation_id: str) -> _Operation:
    operations = _operations()
    if operation_id in operations:
        return operations[operation_id]
    from dagkit.core.suggest import closest

    guess = closest(operation_id, operations)
    hint = f' Did you mean "{guess}"?' if guess else ""
    raise SchemaError(f'no operation "{operation_id}".{hint} Known: {", ".join(operations)}')


def operation_for(method: str, path: str) -> str | None:
    """The operationId serving ``method path``, e.g. ``("GET", "/api/v1/jobs/<uuid>")`` -> get_job.

    Query string and fragment are ignored; a missing or extra trailing slash is tolerated when
    only the other spelling exists. Literal segments win over templated ones.
    """
    method = method.upper()
    path = path.split("?", 1)[0].split("#", 1)[0]
    toggled = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
    for candidate in (path, toggled):
        parts = candidate.split("/")
        best: tuple[int, str] | None = None
        for op_id, op in _operations().items():
            if op.method != method or len(op.segments) != len(parts):
                continue
            if all(
                (s is None and p != "") or s == p for s, p in zip(op.segments, parts, strict=True)
            ):
                score = sum(s is None for s in op.segments)
                if best is None or score < best[0]:
                    best = (score, op_id)
        if best is not None:
            return best[1]
    return None


def response_statuses(operation_id: str) -> list[str]:
    """The response keys the spec lists for ``operation_id`` (``"200"``, ``"422"``...), sorted."""
    responses = _operation(operation_id).spec.get("responses")
    return sorted(str(key) for key in responses) if isinstance(responses, dict) else []


def response_schema(operation_id: str, status: int | str) -> dict[str, Any] | None:
    """The JSON Schema of ``operation_id``'s ``application/json`` response for ``status``.

    Component references point at the component files' ``$id``s, so the schema validates with
    :func:`registry`. The status is looked up as the spec does: exact code, then ``4XX``-style
    ranges, then ``default``. None when the spec has no such response (or it has no JSON body);
    an unknown operation raises :class:`SchemaError`. The result is cached: do not modify it.
    """
    return _response_schema(operation_id, str(status).upper())


@functools.cache
def _response_schema(operation_id: str, status: str) -> dict[str, Any] | None:
    responses = _operation(operation_id).spec.get("responses", {})
    keys = (status, status[:1] + "XX", "DEFAULT") if status.isdigit() else (status,)
    by_key = {str(key).upper(): value for key, value in responses.items()}
    response = next((by_key[k] for k in keys if k in by_key), None)
    if not isinstance(response, dict):
        return None
    media = response.get("content", {}).get("application/json")
    if not isinstance(media, dict) or "schema" not in media:
        return None
    schema = _rewrite_refs(media["schema"], _component_id)
    return schema if isinstance(schema, dict) else {"allOf": [schema]}


@functools.cache
def response_validator(operation_id: str, status: int | str) -> Draft202012Validator | None:
    """A cached validator for :func:`response_schema`, or None when there is no such response."""
    schema = response_schema(operation_id, status)
    return None if schema is None else validator_for(schema)


def _component_id(name: str, rest: str) -> str:
    return f"{SCHEMA_BASE}{COMPONENTS_DIR}/{name}{COMPONENT_SUFFIX}{'#' + rest if rest else ''}"


def _component_file(name: str, rest: str) -> str:
    return f"{name}{COMPONENT_SUFFIX}{'#' + rest if rest else ''}"


def _rewrite_refs(node: Any, target: Callable[[str, str], str], names: bool = False) -> Any:
    """A copy of ``node`` with every ``#/components/schemas/Name/rest`` reference rewritten.

    ``names`` says that ``node`` maps free names to schemas (it is a ``properties`` value...).
    """
    if isinstance(node, list):
        return [_rewrite_refs(item, target) for item in node]
    if not isinstance(node, dict):
        return node
    copy: dict[str, Any] = {}
    for key, value in node.items():
        if names:
            copy[key] = _rewrite_refs(value, target)
        elif key == "$ref" and isinstance(value, str) and value.startswith(_COMPONENT_REF):
            name, _, rest = value[len(_COMPONENT_REF) :].partition("/")
            copy[key] = target(pointers.unescape(name), "/" + rest if rest else "")
        elif key in _DATA_KEYWORDS:
            copy[key] = value
        else:
            copy[key] = _rewrite_refs(value, target, key in _NAME_MAPS)
    return copy


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
    from dagkit.model.catalogue.render import render_all

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
    from dagkit.model.catalogue.render import DATA_PATH, SCHEMA_PATH, TYPED_PATH, render_all

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
