"""Fast JSON Schema verdicts: dagkit's schema subset compiled into plain Python closures.

``dagkit validate`` runs thousands of times in CI, and most documents it sees are valid. A reused
jsonschema validator spends about a millisecond on a small request_data because it walks its
keyword machinery on every call. :func:`compile_schema` does that walk once: every keyword becomes
a closure over precomputed values, so a call only runs the checks themselves, in tens of
microseconds, without importing jsonschema at all.

The compiled function answers one question: valid or not. When the answer is "not", dagkit asks
jsonschema (the reference engine) for the detailed errors. A schema that uses anything outside the
supported subset raises :class:`UnsupportedSchema` at compile time, so the caller falls back to
jsonschema for every verdict: a fast verdict is never a wrong one.

The semantics follow JSON Schema 2020-12 as jsonschema implements it: ``bool`` is not a number,
``1 == 1.0`` but ``true != 1`` in ``enum``/``const``/``uniqueItems``, an integral float is an
"integer", ``pattern`` uses :func:`re.search`, lengths count code points, and ``format`` asserts
the formats the caller passes (dagkit passes :data:`dagkit.schemas.FORMATS`, the same predicates
its jsonschema format checker uses, so both engines agree on formats by construction).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from numbers import Number
from typing import Any

from dagkit.errors import DagkitError

Check = Callable[[Any], bool]
Resolve = Callable[[str], Any]

__all__ = ["Check", "UnsupportedSchema", "compile_schema"]


class UnsupportedSchema(DagkitError):
    """The schema uses something the fast engine does not implement; use jsonschema instead."""


def compile_schema(
    schema: Any,
    *,
    resolve: Resolve | None = None,
    formats: Mapping[str, Callable[[str], bool]] | None = None,
) -> Check:
    """Compile a JSON Schema 2020-12 document into a function ``instance -> bool``.

    ``resolve(uri)`` returns the document for an absolute URI that a ``$ref`` names outside
    ``schema`` (relative references are resolved against the ``$id`` of the document they are
    in). ``formats`` maps each asserted format name to a predicate on strings; every other
    format is an annotation. This mirrors a jsonschema validator whose format checker knows
    exactly those formats (none by default, as jsonschema without a format checker).

    Raises :class:`UnsupportedSchema` for keywords or references outside the supported subset,
    or for a malformed keyword value.
    """
    if isinstance(schema, dict):
        declared = schema.get("$schema")
        if declared is not None and declared not in _DRAFT_2020_12:
            raise UnsupportedSchema(f"only JSON Schema 2020-12 is supported, not {declared!r}")
        base = schema.get("$id")
        if base is not None and not isinstance(base, str):
            raise UnsupportedSchema("$id must be a string")
    else:
        base = None
    return _Compiler(resolve, dict(formats or {})).document(schema, base or "")


# -- keywords --------------------------------------------------------------------------------

_DRAFT_2020_12 = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2020-12/schema#",
    }
)

# Keywords that never change a verdict on their own (annotations, and then/else without an
# if); jsonschema ignores them as well.
_IGNORED = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "$schema",
        "$id",
        "$defs",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
        "then",
        "else",
    }
)

_OBJECT_KEYWORDS = ("properties", "required", "additionalProperties", "patternProperties")
_ARRAY_KEYWORDS = ("items", "prefixItems", "minItems", "maxItems", "uniqueItems")
_NUMBER_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_STRING_KEYWORDS = ("minLength", "maxLength", "pattern", "format")
_OTHER_KEYWORDS = (
    "type",
    "enum",
    "const",
    "$ref",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "dependentRequired",
)
_KEYWORDS = frozenset(
    _OBJECT_KEYWORDS + _ARRAY_KEYWORDS + _NUMBER_KEYWORDS + _STRING_KEYWORDS + _OTHER_KEYWORDS
)

_TYPE_NAMES = frozenset({"null", "boolean", "integer", "number", "string", "array", "object"})


def _always(instance: Any) -> bool:
    return True


def _never(instance: Any) -> bool:
    return False


class _Compiler:
    def __init__(self, resolve: Resolve | None, formats: dict[str, Callable[[str], bool]]) -> None:
        self.resolve = resolve
        self.formats = formats
        self.documents: dict[str, Any] = {}
        # Compiled $ref targets by (document URI, JSON pointer). A target still being compiled
        # maps to a trampoline, which is what makes recursive references work.
        self.targets: dict[tuple[str, str], Check] = {}
        self.cells: dict[tuple[str, str], list[Check]] = {}

    # -- documents and references ---------------------------------------------------------

    def document(self, schema: Any, uri: str) -> Check:
        self.documents[uri] = schema
        return self.target(uri, "")

    def target(self, uri: str, pointer: str) -> Check:
        key = (uri, pointer)
        done = self.targets.get(key)
        if done is not None:
            if done is _PENDING:
                return self._trampoline(key)
            return done
        self.targets[key] = _PENDING
        check = self.compile(_walk(self.documents[uri], pointer), uri, pointer)
        cell = self.cells.get(key)
        if cell is not None:
            cell[0] = check
        self.targets[key] = check
        return check

    def _trampoline(self, key: tuple[str, str]) -> Check:
        cell = self.cells.setdefault(key, [_never])

        def recurse(instance: Any) -> bool:
            return cell[0](instance)

        return recurse

    def reference(self, ref: Any, uri: str) -> Check:
        if not isinstance(ref, str):
            raise UnsupportedSchema("$ref must be a string")
        where, _, fragment = ref.partition("#")
        fragment = _percent_decode(fragment)
        if fragment and not fragment.startswith("/"):
            raise UnsupportedSchema(f"$ref to an anchor is not supported: {ref!r}")
        if where:
            target_uri = _join_uri(uri, where)
            if target_uri not in self.documents:
                self.documents[target_uri] = self._fetch(target_uri)
        else:
            target_uri = uri
        try:
            return self.target(target_uri, fragment)
        except LookupError:
            raise UnsupportedSchema(f"$ref {ref!r} points at nothing") from None

    def _fetch(self, uri: str) -> Any:
        if self.resolve is None:
            raise UnsupportedSchema(f"$ref to another document ({uri}) needs a resolver")
        try:
            document = self.resolve(uri)
        except Exception as exc:  # a resolver's own failure means "cannot compile"
            raise UnsupportedSchema(f"cannot resolve $ref {uri!r}: {exc}") from exc
        if isinstance(document, dict):
            own = document.get("$id")
            if own is not None and own != uri:
                # References inside it are relative to its own $id.
                raise UnsupportedSchema(f"{uri} declares a different $id {own!r}")
            declared = document.get("$schema")
            if declared is not None and declared not in _DRAFT_2020_12:
                raise UnsupportedSchema(f"{uri} is not JSON Schema 2020-12")
        return document

    # -- one schema -------------------------------------------------------------------------

    def compile(self, schema: Any, uri: str, pointer: str) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"a schema must be an object or a boolean at #{pointer}")
        unknown = [k for k in schema if k not in _KEYWORDS and k not in _IGNORED]
        unknown = [k for k in unknown if not k.startswith("x-")]
        if unknown:
            raise UnsupportedSchema(f"keyword {sorted(unknown)[0]!r} at #{pointer}")
        if pointer and "$id" in schema:
            raise UnsupportedSchema(f"an embedded $id at #{pointer}")

        def sub(value: Any, *tokens: str | int) -> Check:
            path = pointer
            for token in tokens:
                path += "/" + str(token).replace("~", "~0").replace("/", "~1")
            return self.compile(value, uri, path)

        parts: list[Check] = []
        kind: str | None = None
        type_check: Check | None = None
        if "type" in schema:
            type_check, kind = _type_check(schema["type"])
            parts.append(type_check)
        for keywords, build, owns in (
            (_OBJECT_KEYWORDS, _object_check, "object"),
            (_ARRAY_KEYWORDS, _array_check, "array"),
            (_NUMBER_KEYWORDS, _number_check, None),
            (_STRING_KEYWORDS, _string_check, "string"),
        ):
            if any(k in schema for k in keywords):
                part = build(schema, sub, kind, self.formats)
                if part is not _always:
                    parts.append(part)
                    if kind == owns and type_check in parts:
                        # The part tests the type itself (false for any other): one call less.
                        parts.remove(type_check)
        if "dependentRequired" in schema:
            parts.append(_dependent_required(schema["dependentRequired"]))
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list):
                raise UnsupportedSchema(f"enum must be an array at #{pointer}")
            parts.append(_equals_one_of(values))
        if "const" in schema:
            parts.append(_equals_one_of([schema["const"]]))
        if "$ref" in schema:
            parts.append(self.reference(schema["$ref"], uri))
        parts.extend(self._applicators(schema, sub, pointer))
        return _all_of([p for p in parts if p is not _always])

    def _applicators(
        self, schema: dict[str, Any], sub: Callable[..., Check], pointer: str
    ) -> list[Check]:
        parts: list[Check] = []
        for keyword in ("allOf", "anyOf", "oneOf"):
            if keyword not in schema:
                continue
            branches = schema[keyword]
            if not isinstance(branches, list) or not branches:
                raise UnsupportedSchema(f"{keyword} must be a non-empty array at #{pointer}")
            if keyword == "allOf":
                parts.extend(_dispatches(branches, sub))
                rest = [(i, b) for i, b in enumerate(branches) if _dispatch_case(b) is None]
                checks = [sub(branch, keyword, i) for i, branch in rest]
                parts.append(_all_of([c for c in checks if c is not _always]))
                continue
            checks = [sub(branch, keyword, i) for i, branch in enumerate(branches)]
            if keyword == "anyOf":
                parts.append(_any_of(checks))
            else:
                parts.append(_one_of(checks))
        if "not" in schema:
            negated = sub(schema["not"], "not")
            parts.append(lambda instance: not negated(instance))
        if "if" in schema:
            condition = sub(schema["if"], "if")
            then = sub(schema["then"], "then") if "then" in schema else _always
            otherwise = sub(schema["else"], "else") if "else" in schema else _always
            if then is not _always or otherwise is not _always:
                parts.append(_if_then_else(condition, then, otherwise))
        return parts


def _dispatch_case(branch: Any) -> tuple[str, bool, list[Any]] | None:
    """``(key, needs_object, values)`` for ``{"if": <key is one of values>, "then": ...}``.

    That is how schemas select the rules for one kind of node: ``allOf`` of such branches on
    the same key is a lookup table, which :func:`_dispatches` compiles into a dict lookup.
    """
    if not isinstance(branch, dict) or "if" not in branch or "then" not in branch:
        return None
    if any(k not in ("if", "then") and k not in _IGNORED - {"else"} for k in branch):
        return None
    condition = branch["if"]
    if not isinstance(condition, dict):
        return None
    if any(k not in ("properties", "required", "type") and k not in _IGNORED for k in condition):
        return None
    if condition.get("$defs") or "then" in condition or "else" in condition:
        return None
    properties, required = condition.get("properties"), condition.get("required")
    if not isinstance(properties, dict) or len(properties) != 1 or required != list(properties):
        return None
    ((key, test),) = properties.items()
    if not isinstance(test, dict) or test.get("$defs"):
        return None
    if "const" in test and "enum" not in test:
        values = [test["const"]]
    elif "enum" in test and "const" not in test and isinstance(test["enum"], list) and test["enum"]:
        values = test["enum"]
    else:
        return None
    if any(k not in ("const", "enum") and k not in _IGNORED for k in test):
        return None
    needs_object = "type" in condition
    if needs_object and condition["type"] != "object":
        return None
    return key, needs_object, values


def _dispatches(branches: list[Any], sub: Callable[..., Check]) -> list[Check]:
    """The lookup tables for the dispatching branches of an ``allOf`` (see :func:`_dispatch_case`).

    Exactly what the branches mean: for an object, only the branch whose constant equals the
    object's value for the key applies (none when the key is missing); for anything else every
    branch applies, unless the condition also demands an object.
    """
    groups: dict[tuple[str, bool], list[tuple[Any, Check]]] = {}
    for index, branch in enumerate(branches):
        case = _dispatch_case(branch)
        if case is None:
            continue
        key, needs_object, values = case
        sub(branch["if"], "allOf", index, "if")  # still refuse what the engine cannot do
        then = sub(branch["then"], "allOf", index, "then")
        groups.setdefault((key, needs_object), []).extend((value, then) for value in values)
    out = []
    for (key, needs_object), cases in groups.items():
        by_value: dict[Any, list[Check]] = {}
        every: list[Check] = []
        for value, then in cases:
            try:
                thens = by_value.setdefault(_key(value), [])
            except TypeError:
                raise UnsupportedSchema(f"a constant that is not JSON: {value!r}") from None
            for bucket in (thens, every):
                if then not in bucket:  # an enum may list a value twice
                    bucket.append(then)
        table = {
            k: _all_of([c for c in thens if c is not _always]) for k, thens in by_value.items()
        }
        table = {k: c for k, c in table.items() if c is not _always}
        if not table:
            continue
        others = _always if needs_object else _all_of([c for c in every if c is not _always])
        out.append(_lookup(key, table, others))
    return out


def _lookup(key: str, table: dict[Any, Check], others: Check) -> Check:
    get = table.get

    def lookup(instance: Any) -> bool:
        if isinstance(instance, dict):
            if key not in instance:
                return True
            value = instance[key]
            try:
                check = get(value if type(value) is str else _key(value))
            except TypeError:  # not a JSON value: equal to no constant
                return True
            return check is None or check(instance)
        return others(instance)

    return lookup


class _Pending:
    def __call__(self, instance: Any) -> bool:  # pragma: no cover - never called
        raise AssertionError("a schema was used before it was compiled")


_PENDING: Check = _Pending()


# -- combinators -----------------------------------------------------------------------------


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if any(c is _never for c in checks):
        return _never
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda instance: first(instance) and second(instance)
    if len(checks) == 3:
        first, second, third = checks
        return lambda instance: first(instance) and second(instance) and third(instance)
    every = tuple(checks)

    def all_of(instance: Any) -> bool:
        for check in every:  # noqa: SIM110 - a plain loop is faster than all() over a generator
            if not check(instance):
                return False
        return True

    return all_of


def _any_of(checks: list[Check]) -> Check:
    if any(c is _always for c in checks):
        return _always
    options = tuple(checks)

    def any_of(instance: Any) -> bool:
        for check in options:  # noqa: SIM110 - faster than any() over a generator
            if check(instance):
                return True
        return False

    return any_of


def _one_of(checks: list[Check]) -> Check:
    options = tuple(checks)

    def one_of(instance: Any) -> bool:
        found = False
        for check in options:
            if check(instance):
                if found:
                    return False
                found = True
        return found

    return one_of


def _if_then_else(condition: Check, then: Check, otherwise: Check) -> Check:
    return lambda instance: then(instance) if condition(instance) else otherwise(instance)


# -- types -----------------------------------------------------------------------------------


def _is_integer(instance: Any) -> bool:
    if isinstance(instance, int):
        return not isinstance(instance, bool)
    return isinstance(instance, float) and instance.is_integer()


def _is_number(instance: Any) -> bool:
    return isinstance(instance, Number) and not isinstance(instance, bool)


_TYPE_PREDICATES: dict[str, Check] = {
    "null": lambda instance: instance is None,
    "boolean": lambda instance: isinstance(instance, bool),
    "integer": _is_integer,
    "number": _is_number,
    "string": lambda instance: isinstance(instance, str),
    "array": lambda instance: isinstance(instance, list),
    "object": lambda instance: isinstance(instance, dict),
}

# The exact Python types that a JSON parser produces for each type name: a hit needs no
# further test. Anything else (subclasses, integral floats) takes the slower predicate.
_EXACT_TYPES: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "string": (str,),
    "array": (list,),
    "object": (dict,),
}


def _type_check(declared: Any) -> tuple[Check, str | None]:
    """The check for ``type``, and the kind of value it guarantees (or None)."""
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list) or not names or not all(n in _TYPE_NAMES for n in names):
        raise UnsupportedSchema(f"type must name JSON types, not {declared!r}")
    kinds = set(names)
    guaranteed = None
    if len(kinds) == 1:
        guaranteed = next(iter(kinds))
    elif kinds == {"integer", "number"}:
        guaranteed = "number"
    if guaranteed == "integer":
        guaranteed = "number"
    exact = frozenset(t for n in kinds for t in _EXACT_TYPES[n])
    if len(kinds) == 1 and "integer" not in kinds and "number" not in kinds:
        (only,) = exact
        predicate = _TYPE_PREDICATES[next(iter(kinds))]
        return (lambda instance: type(instance) is only or predicate(instance)), guaranteed
    predicates = tuple(_TYPE_PREDICATES[n] for n in sorted(kinds))

    def type_check(instance: Any) -> bool:
        if type(instance) in exact:
            return True
        for predicate in predicates:  # noqa: SIM110 - faster than any() over a generator
            if predicate(instance):
                return True
        return False

    return type_check, guaranteed


# -- objects ---------------------------------------------------------------------------------


def _object_check(
    schema: dict[str, Any], sub: Callable[..., Check], kind: str | None, formats: object
) -> Check:
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        raise UnsupportedSchema("properties must be an object")
    checks = {name: sub(value, "properties", name) for name, value in properties.items()}
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise UnsupportedSchema("required must be an array of strings")
    needed = frozenset(required)
    patterns_schema = schema.get("patternProperties", {})
    if not isinstance(patterns_schema, dict):
        raise UnsupportedSchema("patternProperties must be an object")
    patterns = tuple(
        (_regex(pattern).search, sub(value, "patternProperties", pattern))
        for pattern, value in patterns_schema.items()
    )
    extra: Check = _always
    if "additionalProperties" in schema:
        extra = sub(schema["additionalProperties"], "additionalProperties")
    other = kind != "object"  # what any other type gets: the type keyword may own it

    if not patterns and not needed and extra is _always:
        # Only properties: look up each declared name in the instance.
        pairs = tuple((name, check) for name, check in checks.items() if check is not _always)
        if not pairs:
            return _always

        def properties_only(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return other
            for name, check in pairs:
                if name in instance and not check(instance[name]):
                    return False
            return True

        return properties_only

    if not patterns:
        lookup = checks.get
        closed = extra is _never
        open_extra = None if extra is _always or closed else extra

        def object_check(instance: Any) -> bool:
            if not isinstance(instance, dict):
                return other
            if needed and not instance.keys() >= needed:
                return False
            for name, value in instance.items():
                check = lookup(name)
                if check is None:
                    if closed:
                        return False
                    if open_extra is not None and not open_extra(value):
                        return False
                elif check is not _always and not check(value):
                    return False
            return True

        return object_check

    def object_with_patterns(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return other
        if needed and not instance.keys() >= needed:
            return False
        for name, value in instance.items():
            check = checks.get(name)
            declared = check is not None
            if declared and not check(value):  # type: ignore[misc]
                return False
            for search, pattern_check in patterns:
                if search(name) is not None:
                    declared = True
                    if not pattern_check(value):
                        return False
            if not declared and not extra(value):
                return False
        return True

    return object_with_patterns


def _dependent_required(spec: Any) -> Check:
    if not isinstance(spec, dict) or not all(
        isinstance(v, list) and all(isinstance(k, str) for k in v) for v in spec.values()
    ):
        raise UnsupportedSchema("dependentRequired must map names to arrays of names")
    rules = tuple((name, frozenset(needed)) for name, needed in spec.items() if needed)
    if not rules:
        return _always

    def dependent_required(instance: Any) -> bool:
        if isinstance(instance, dict):
            for name, needed in rules:
                if name in instance and not instance.keys() >= needed:
                    return False
        return True

    return dependent_required


# -- arrays ----------------------------------------------------------------------------------


def _array_check(
    schema: dict[str, Any], sub: Callable[..., Check], kind: str | None, formats: object
) -> Check:
    prefix_schemas = schema.get("prefixItems", [])
    if not isinstance(prefix_schemas, list):
        raise UnsupportedSchema("prefixItems must be an array")
    prefix = tuple(sub(s, "prefixItems", i) for i, s in enumerate(prefix_schemas))
    if "items" in schema and not isinstance(schema["items"], dict | bool):
        raise UnsupportedSchema("items must be a schema (2020-12)")
    items = sub(schema["items"], "items") if "items" in schema else _always
    low = _count(schema, "minItems", 0)
    high = _count(schema, "maxItems", None)
    if items is _never:
        high = len(prefix) if high is None else min(high, len(prefix))
        items = _always
    unique = schema.get("uniqueItems", False)
    if not isinstance(unique, bool):
        raise UnsupportedSchema("uniqueItems must be a boolean")
    skip = len(prefix)
    if all(c is _always for c in prefix):
        prefix = ()
    other = kind != "array"  # what any other type gets: the type keyword may own it
    if not prefix and items is _always and not unique and low == 0 and high is None:
        return _always

    def array_check(instance: Any) -> bool:
        if not isinstance(instance, list):
            return other
        size = len(instance)
        if size < low or (high is not None and size > high):
            return False
        for check, value in zip(prefix, instance, strict=False):
            if not check(value):
                return False
        if items is not _always:
            for index in range(skip, size):
                if not items(instance[index]):
                    return False
        return not unique or _all_unique(instance)

    return array_check


def _count(schema: dict[str, Any], keyword: str, default: int | None) -> Any:
    value = schema.get(keyword, default)
    if value is default:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise UnsupportedSchema(f"{keyword} must be a non-negative number")
    return value


# -- numbers ---------------------------------------------------------------------------------


def _number_check(
    schema: dict[str, Any], sub: Callable[..., Check], kind: str | None, formats: object
) -> Check:
    def bound(keyword: str) -> Any:
        value = schema.get(keyword)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise UnsupportedSchema(f"{keyword} must be a number")
        return value

    minimum, maximum = bound("minimum"), bound("maximum")
    above, below = bound("exclusiveMinimum"), bound("exclusiveMaximum")
    step = bound("multipleOf")
    if step is not None and step <= 0:
        raise UnsupportedSchema("multipleOf must be greater than 0")
    guarded = kind != "number"

    def number_check(instance: Any) -> bool:
        if guarded and not _is_number(instance):
            return True
        if minimum is not None and instance < minimum:
            return False
        if maximum is not None and instance > maximum:
            return False
        if above is not None and instance <= above:
            return False
        if below is not None and instance >= below:
            return False
        return step is None or _is_multiple(instance, step)

    return number_check


def _is_multiple(value: Any, step: int | float) -> bool:
    if isinstance(step, float):
        # jsonschema divides by a float step; exact fractions take over where that overflows.
        try:
            quotient = value / step
            return bool(int(quotient) == quotient)
        except OverflowError:
            from fractions import Fraction

            return Fraction(value) % Fraction(step) == 0
    return not value % step


# -- strings ---------------------------------------------------------------------------------


def _string_check(
    schema: dict[str, Any],
    sub: Callable[..., Check],
    kind: str | None,
    formats: dict[str, Callable[[str], bool]],
) -> Check:
    low = _count(schema, "minLength", 0)
    high = _count(schema, "maxLength", None)
    pattern = schema.get("pattern")
    if pattern is not None and not isinstance(pattern, str):
        raise UnsupportedSchema("pattern must be a string")
    search = _regex(pattern).search if pattern is not None else None
    format_name = schema.get("format")
    if format_name is not None and not isinstance(format_name, str):
        raise UnsupportedSchema("format must be a string")
    is_format = formats.get(format_name) if format_name is not None else None
    other = kind != "string"  # what any other type gets: the type keyword may own it
    if not low and high is None and search is None and is_format is None:
        return _always

    def string_check(instance: Any) -> bool:
        if not isinstance(instance, str):
            return other
        if low or high is not None:
            size = len(instance)
            if size < low or (high is not None and size > high):
                return False
        if search is not None and search(instance) is None:
            return False
        return is_format is None or is_format(instance)

    return string_check


def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except (re.error, TypeError, RecursionError) as exc:
        raise UnsupportedSchema(f"pattern {pattern!r} is not a valid regular expression") from exc


# -- equality (enum, const, uniqueItems) -----------------------------------------------------

# JSON equality: 1 == 1.0, but true is neither 1 nor 1.0. Scalars become hashable keys in
# which booleans are distinct from numbers; arrays and objects become nested tuples.
_TRUE = object()
_FALSE = object()


def _key(value: Any) -> Any:
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    if isinstance(value, list):
        return ("[", *map(_key, value))
    if isinstance(value, dict):
        return ("{", frozenset((name, _key(item)) for name, item in value.items()))
    return value


def _equals_one_of(values: list[Any]) -> Check:
    try:
        keys = frozenset(_key(v) for v in values)
    except TypeError as exc:
        raise UnsupportedSchema(f"enum/const holds a value that is not JSON: {exc}") from None
    if len(keys) == 1:
        (only,) = keys
        if isinstance(only, str):
            return lambda instance: instance == only and isinstance(instance, str)
    scalars_only = all(not isinstance(k, tuple) for k in keys)

    def equals_one_of(instance: Any) -> bool:
        if type(instance) is str:
            return instance in keys
        if scalars_only and isinstance(instance, list | dict):
            return False
        try:
            return _key(instance) in keys
        except TypeError:  # not a JSON value
            return False

    return equals_one_of


def _all_unique(items: list[Any]) -> bool:
    try:
        return len({_key(item) for item in items}) == len(items)
    except TypeError:
        return True


# -- JSON pointers and URIs ------------------------------------------------------------------


def _walk(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 pointer; LookupError when there is none."""
    node = document
    if not pointer:
        return node
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node[token]
        elif isinstance(node, list) and token.isdigit():
            node = node[int(token)]
        else:
            raise LookupError(pointer)
    return node


_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _percent_decode(text: str) -> str:
    if "%" not in text:
        return text
    return _PERCENT.sub(
        lambda m: bytes.fromhex(m.group(0).replace("%", "")).decode("utf-8", "replace"), text
    )


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _join_uri(base: str, reference: str) -> str:
    """Resolve a reference against a base URI (RFC 3986 §5.2, enough for schema $refs)."""
    if _SCHEME.match(reference) or not base:
        return reference
    base = base.split("#", 1)[0].split("?", 1)[0]
    if reference.startswith("//"):
        return base.split(":", 1)[0] + ":" + reference
    authority = _AUTHORITY.match(base)
    root = authority.group(0) if authority else ""
    path = base[len(root) :]
    merged = reference if reference.startswith("/") else path[: path.rfind("/") + 1] + reference
    return root + _remove_dot_segments(merged)


def _remove_dot_segments(path: str) -> str:
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
        query = "?" + query
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out) + query
