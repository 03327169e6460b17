"""The schemas dagkit holds: loading, resolving and validating them.

Files live in the top-level ``schemas/`` directory, installed as the package ``dagkit._schemas``:
- ``request-data.schema.json``: the JSON inside the ``request_data`` form field, generated from
  the node catalogue (``dagkit/model/catalogue/source.py``);
- ``openapi/jobs-api.openapi.json``: the jobs and templates API as an OpenAPI 3.1 document;
- ``components/<Name>.schema.json``: one JSON Schema per component the operations use, generated
  from the OpenAPI document and committed.

:mod:`dagkit.devtools.schemafiles` generates the generated ones and checks none has drifted.

Every schema file carries ``"$id": SCHEMA_BASE + <path relative to schemas/>``, so references
between them resolve through :func:`registry` without touching the network.

Importing this module is cheap: jsonschema and referencing are imported inside the functions
that need them, because ``dagkit validate`` must start fast.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from importlib.machinery import SourceFileLoader, SourcelessFileLoader
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dagkit.core import pointers
from dagkit.core.record import Record
from dagkit.core.suggest import closest
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


# SchemaInfo is a NamedTuple (a public tuple), _Operation a Record: a frozen dataclass costs ~0.5 ms
# to create at import, on the start-up path of every ``dagkit validate``.


class SchemaInfo(NamedTuple):
    """What :func:`schema_info` tells about one packaged schema."""

    name: str
    path: str  # relative to schemas/
    id: str
    title: str
    source: str  # "generated from openapi/jobs-api.openapi.json" or "hand-written"


def _packaged_root() -> Traversable:
    """The installed ``schemas/`` directory (in an uninstalled source checkout, the checkout's)."""
    try:
        return package_files(_PACKAGE)
    except ModuleNotFoundError:
        checkout = Path(__file__).resolve().parents[2] / "schemas"
        if (checkout / OPENAPI_PATH).is_file():
            return checkout
        raise SchemaError(
            f"dagkit's schemas are not installed (no package {_PACKAGE}); reinstall dagkit"
        ) from None


def package_files(name: str) -> Traversable:
    """``importlib.resources.files(name)``: the files of package ``name``.

    A package imported from a directory (as an installed dagkit is) is that directory, which is
    what ``files`` answers for it; only a package from elsewhere (a zip file, another importer)
    needs importlib.resources, which imports zipfile, tempfile and shutil: on a clean
    interpreter, a sixth of the instructions of ``dagkit validate one.json``.
    """
    package = importlib.import_module(name)
    loader = getattr(package.__spec__, "loader", None)
    if isinstance(loader, SourceFileLoader | SourcelessFileLoader):
        return Path(loader.path).parent
    # lazy: only a package that is not a directory on disk needs importlib.resources
    from importlib.resources import files

    return files(package)


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
    it by name still raises, and ``dagkit schemas check`` reports it.
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


class _Operation(Record):
    __slots__ = ("method", "path", "segments", "spec")
    method: str
    path: str
    segments: tuple[str | None, ...]  # None marks a {templated} segment
    spec: Mapping[str, Any]

    def __init__(
        self, method: str, path: str, segments: tuple[str | None, ...], spec: Mapping[str, Any]
    ) -> None:
        _set = object.__setattr__
        _set(self, "method", method)
        _set(self, "path", path)
        _set(self, "segments", segments)
        _set(self, "spec", spec)


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
