"""Schema findings: jsonschema-rs's verdict first, then jsonschema's detail for what is wrong.

Most documents dagkit checks are valid, so :func:`check` first asks jsonschema-rs (a few
microseconds, no jsonschema import). Only an invalid document goes to the jsonschema validator of
:mod:`dagkit.schemas.store`, the reference, and each of its errors becomes a
:class:`~dagkit.findings.Finding` with a stable code, a JSON path (and so an RFC 6901 pointer),
one readable sentence and a hint:
- a failed ``oneOf``/``anyOf`` is reduced to its most relevant branch (as jsonschema's
  ``best_match`` ranks them), or merged into one sentence when every branch only disagrees on the
  type or the value ("must be a string or null");
- an unknown key gets a finding of its own that points at the key;
- request_data's "exactly one of template_id and job_nodes" is DK207, whatever the schema's
  wording of that rule.

Both engines assert exactly dagkit's formats (:data:`dagkit.schemas.store.FORMATS`) and resolve
``$ref`` between the packaged files by ``$id``. Without jsonschema-rs, jsonschema gives every
verdict: slower, with the same findings.
"""

from __future__ import annotations

import functools
import itertools
import json
import marshal
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from dagkit.core.limits import MAX_FINDINGS
from dagkit.core.suggest import closest, did_you_mean
from dagkit.errors import SchemaError
from dagkit.findings import DocPath, Finding, finding, more_findings
from dagkit.schemas import store as schemas

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from jsonschema_rs import Validator

__all__ = ["check", "check_schema", "verdict"]


def check(schema_name: str, instance: Any, *, base_path: DocPath = ()) -> list[Finding]:
    """Every finding for ``instance`` against the packaged schema ``schema_name``.

    ``base_path`` prefixes every path (the place of ``instance`` in a larger document).
    An empty list means valid. Raises :class:`~dagkit.errors.SchemaError` for an unknown name.
    """
    verdict = _verdict(schema_name)
    valid, judged = _judge(verdict, instance)
    if valid:
        return []
    root = "request_data" if schema_name == schemas.REQUEST_DATA else schema_name
    found = _findings(schemas.validator(schema_name), instance, base_path, root)
    return found or _engine_findings(verdict, valid, judged, base_path, root)


def verdict(schema_name: str, instance: Any) -> bool | None:
    """jsonschema-rs's verdict alone on ``instance`` against the packaged schema ``schema_name``:
    True (valid, :func:`check` finds nothing), False, or None when it has none to give (no
    jsonschema-rs, or a value it cannot read: ask :func:`check`).

    For the common case, cheaply: ``instance`` must be made of JSON's own types only, as
    :func:`json.loads` gives them (no subclasses, no tuples), which is not checked here.
    """
    judge = _verdict(schema_name)
    if judge is None or judge.recursive:
        return None
    try:
        return judge.validator.is_valid(instance)
    except ValueError:
        return None


def check_schema(
    schema: dict[str, Any], instance: Any, *, base_path: DocPath = ()
) -> list[Finding]:
    """Every finding for ``instance`` against ``schema`` (a JSON Schema 2020-12 dict).

    ``$ref`` may name any packaged schema by its ``$id``. Compiled forms are cached by the
    identity of ``schema``, so pass the same (unchanged) dict to benefit from the cache.
    """
    compiled = _by_identity(schema)
    valid, judged = _judge(compiled.verdict, instance)
    if valid:
        return []
    title = schema.get("title") if isinstance(schema, dict) else None
    root = title if isinstance(title, str) and title else "the document"
    found = _findings(compiled.validator(), instance, base_path, root)
    return found or _engine_findings(compiled.verdict, valid, judged, base_path, root)


# -- the verdict -------------------------------------------------------------------------------
# jsonschema-rs asserts every format it knows once asked to assert any; dagkit asserts only its
# own (with its own predicates, the ones jsonschema is given), so the others are told to pass.
_ANNOTATION_FORMATS = (
    "date", "date-time", "duration", "email", "hostname", "idn-email", "idn-hostname", "ipv4",
    "ipv6", "iri", "iri-reference", "json-pointer", "regex", "relative-json-pointer", "time",
    "uri", "uri-reference", "uri-template", "uuid",
)  # fmt: skip
#: Deeper documents are judged by jsonschema. jsonschema-rs reads at most 255 levels where it
#: compares whole values (enum, const, uniqueItems), and recurses on the C stack.
MAX_DEPTH = 255


def _anything(_: str) -> bool:
    return True


@functools.cache
def _engine() -> Any:
    """The jsonschema_rs module, or None when it cannot be imported (jsonschema then judges)."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    return jsonschema_rs


class _Verdict:
    """jsonschema-rs's validator for one schema, fed only what it reads correctly."""

    __slots__ = ("recursive", "validator")

    def __init__(self, validator: Validator, *, recursive: bool) -> None:
        self.validator = validator
        # jsonschema-rs recurses on the C stack: through a recursive schema, a deep enough
        # document would overflow it instead of raising. Such schemas get the depth limit always.
        self.recursive = recursive

    def judge(self, instance: Any) -> tuple[bool | None, Any]:
        """The verdict on ``instance`` (None: left to jsonschema), and the value judged.

        jsonschema-rs reads Python values by their exact type: a subclass (the floats that keep
        their JSON text) can be read as "not a number" without a word, so such documents are
        judged as plain copies. Values JSON cannot hold, and documents nested deeper than
        :data:`MAX_DEPTH`, are left to jsonschema. Anything else jsonschema-rs raises is a bug,
        and propagates.
        """
        if not self.recursive and _exact_types(instance):
            try:
                return self.validator.is_valid(instance), instance
            except ValueError:
                pass  # a value it cannot read, or too deep: told apart below, or raised again
        try:
            plain = _plain(instance, MAX_DEPTH)
        except _NotJSON:
            return None, instance
        return self.validator.is_valid(plain), plain


def _exact_types(instance: Any) -> bool:
    """Whether ``instance`` holds only built-in types themselves, no subclasses (in C: marshal
    refuses subclasses)."""
    try:
        marshal.dumps(instance)
    except ValueError:
        return False
    return True


def _compile(schema: Any, *, recursive: bool | None = None) -> _Verdict | None:
    """jsonschema-rs's verdict for ``schema``; None without jsonschema-rs.

    ``recursive`` says whether a ``$ref`` cycle can be followed (None: find out). A schema
    jsonschema-rs refuses (not valid JSON Schema, a reference that does not resolve) is a
    :class:`SchemaError`.
    """
    engine = _engine()
    if engine is None:
        return None
    if not isinstance(schema, dict | bool):
        raise SchemaError("a schema is a JSON object or true or false")
    formats: dict[str, Callable[[str], bool]] = dict.fromkeys(_ANNOTATION_FORMATS, _anything)
    formats.update(schemas.FORMATS)
    try:
        validator: Validator = engine.Draft202012Validator(
            schema, formats=formats, validate_formats=True, retriever=schemas.schema_by_id
        )
        if recursive is None:
            recursive = _has_cycle(engine, schema)
    except engine.ValidationError as exc:
        raise SchemaError(
            f"the schema is not valid JSON Schema, or a $ref in it does not resolve: {exc.message}"
        ) from None
    return _Verdict(validator, recursive=recursive)


def _has_cycle(engine: Any, schema: Any) -> bool:
    """Whether ``schema`` can refer to itself: jsonschema-rs inlines every ``$ref`` but those of a
    cycle (and dynamic references it leaves as they are)."""
    inlined = json.dumps(engine.dereference(schema, retriever=schemas.schema_by_id))
    return any(f'"{key}"' in inlined for key in ("$ref", "$dynamicRef", "$recursiveRef"))


@functools.cache
def _verdict(schema_name: str) -> _Verdict | None:
    if schema_name == schemas.OPENAPI:
        schemas.validator(schema_name)  # raises the error that says what to use instead
    # No packaged schema has a $ref cycle (a test holds them to it), so none is looked for.
    return _compile(schemas.load_schema(schema_name), recursive=False)


def _judge(verdict: _Verdict | None, instance: Any) -> tuple[bool | None, Any]:
    """:meth:`_Verdict.judge`, or no verdict (None) without jsonschema-rs."""
    return (None, instance) if verdict is None else verdict.judge(instance)


def _engine_findings(
    verdict: _Verdict | None, valid: bool | None, judged: Any, base: DocPath, root: str
) -> list[Finding]:
    """jsonschema-rs's own errors, for a document it refuses and jsonschema does not.

    The two agree on every document the tests generate; should they ever disagree, the verdict
    stands and is explained in jsonschema-rs's words rather than dropped.
    """
    if verdict is None or valid is not False:
        return []
    return [
        finding(
            "DK200",
            f"{_where(error.instance_path, root)}: {error.message}",
            hint="see the schema for this place",
            path=(*base, *error.instance_path),
        )
        for error in verdict.validator.iter_errors(judged)
    ]


class _NotJSON(Exception):
    """A value outside JSON's data model, or nested deeper than the limit."""


_SCALARS = (str, int, float, bool, type(None))


def _plain(value: Any, depth: int) -> Any:
    """``value`` with subclasses of str, int and float as their base type and tuples as lists
    (``value`` itself when it has none). Raises :class:`_NotJSON` for anything else JSON cannot
    hold, and for more than ``depth`` levels of arrays and objects."""
    kind = type(value)
    if kind is dict:
        if depth == 0:
            raise _NotJSON
        out: dict[str, Any] | None = None
        for key, item in value.items():
            if type(key) is not str:
                raise _NotJSON
            new = _plain(item, depth - 1)
            if new is not item:
                if out is None:
                    out = dict(value)
                out[key] = new
        return value if out is None else out
    if kind is list or kind is tuple:
        if depth == 0:
            raise _NotJSON
        items: list[Any] | None = None if kind is list else list(value)
        for index, item in enumerate(value):
            new = _plain(item, depth - 1)
            if new is not item:
                if items is None:
                    items = list(value)
                items[index] = new
        return value if items is None else items
    if kind in _SCALARS:
        return value
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__int__(value)
    if isinstance(value, str):
        return str.__str__(value)
    raise _NotJSON


class _Compiled:
    """A schema's verdict, and its jsonschema validator once it is needed."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema  # held so that its id() stays unique while cached
        self.verdict = _compile(schema)
        self._validator: Draft202012Validator | None = None

    def validator(self) -> Draft202012Validator:
        if self._validator is None:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError as BadSchema

            try:
                Draft202012Validator.check_schema(self.schema)
            except BadSchema as exc:
                raise SchemaError(f"the schema is not valid JSON Schema: {exc.message}") from None
            self._validator = schemas.validator_for(self.schema)
        return self._validator


_CACHE_SIZE = 128
_cache: dict[int, _Compiled] = {}


def _by_identity(schema: dict[str, Any]) -> _Compiled:
    compiled = _cache.get(id(schema))
    if compiled is None or compiled.schema is not schema:
        if len(_cache) >= _CACHE_SIZE:  # forget the oldest (safe if another thread did)
            _cache.pop(next(iter(_cache), 0), None)
        compiled = _cache[id(schema)] = _Compiled(schema)
    return compiled


# -- the detail --------------------------------------------------------------------------------


def _findings(
    validator: Draft202012Validator, instance: Any, base: DocPath, root: str
) -> list[Finding]:
    from referencing.exceptions import Unresolvable

    try:
        # Past the cap on findings the rest are not worth their time: stop, and say so.
        errors = list(itertools.islice(validator.iter_errors(instance), MAX_FINDINGS + 1))
    except RecursionError:
        return [
            finding(
                "DK103",
                f"{root} nests too deeply to check",
                hint="flatten the document",
                path=base,
            )
        ]
    except Unresolvable as exc:
        raise SchemaError(f"a schema reference cannot be resolved: {exc}") from None
    except (ArithmeticError, ValueError, TypeError) as exc:
        return [finding("DK200", f"{root} cannot be checked: {exc}", path=base)]
    found: list[_Found] = []
    for error in errors:
        if len(found) > MAX_FINDINGS:
            break
        found.extend(_convert(error, instance, root))
    stopped = len(found) > MAX_FINDINGS
    out = _tidy(found[:MAX_FINDINGS], base)
    if stopped:
        out.append(more_findings(1, errors=True, exact=False))
    return out


class _Found:
    """A finding before its path is prefixed; ``weak`` ones give way to specific ones."""

    __slots__ = ("code", "hint", "message", "path", "weak")

    def __init__(
        self, code: str, path: tuple[str | int, ...], message: str, hint: str, *, weak: bool = False
    ) -> None:
        self.code, self.path, self.message, self.hint, self.weak = code, path, message, hint, weak


def _tidy(found: list[_Found], base: DocPath) -> list[Finding]:
    specific = [f.path for f in found if not f.weak]
    seen: set[tuple[tuple[str | int, ...], str, str]] = set()
    out: list[tuple[tuple[tuple[int, int | str], ...], Finding]] = []
    for f in found:
        if f.weak and any(p[: len(f.path)] == f.path for p in specific):
            continue  # a parent of a more specific finding
        key = (f.path, f.code, f.message)
        if key in seen:
            continue
        seen.add(key)
        order = tuple((0, t) if isinstance(t, int) else (1, t) for t in f.path)
        item = finding(f.code, f.message, hint=f.hint, path=(*base, *f.path))
        out.append((order, item))
    out.sort(key=lambda pair: (pair[0], pair[1].code))
    return [item for _, item in out]


def _convert(error: ValidationError, document: Any, root: str) -> list[_Found]:
    path = tuple(error.absolute_path)
    where = _where(path, root)
    keyword = error.validator
    value: Any = error.instance
    expected: Any = error.validator_value

    if root == "request_data" and _is_template_or_nodes(error, document):
        return [_template_or_nodes(document, path)]
    if keyword in ("oneOf", "anyOf") and error.context:
        return _reduce(error, document, root)
    if keyword == "required":
        key = _missing_key(error)
        return [
            _Found(
                "DK201",
                path,
                f'{where} is missing the required key "{key}"',
                f'add "{key}" to {where}',
            )
        ]
    if keyword == "dependentRequired":
        present = value if isinstance(value, dict) else {}
        needs = [(name, key) for name, key in _dependents(error) if key not in present]
        if needs:
            name, key = needs[0]
            return [
                _Found(
                    "DK201",
                    path,
                    f'{where} has "{name}" and so also needs "{key}"',
                    f'add "{key}" to {where}, or remove "{name}"',
                )
            ]
    if keyword == "type":
        return [_Found("DK202", path, *_type_sentence(where, expected, value))]
    if keyword in ("enum", "const"):
        allowed = list(expected) if keyword == "enum" else [expected]
        return [_Found("DK203", path, *_value_sentence(where, allowed, value))]
    if keyword in _RANGE:
        phrase = _RANGE[keyword].format(_show(expected))
        return [
            _Found(
                "DK204",
                path,
                f"{where} must be {phrase}; got {_show(value)}",
                f"use a number {phrase}",
            )
        ]
    if keyword == "additionalProperties" and expected is False and isinstance(value, dict):
        return _unknown_keys(error, path, where)
    if keyword in ("additionalProperties", "unevaluatedProperties", "propertyNames"):
        return [_Found("DK205", path, f"{where}: {error.message}", "remove the keys not allowed")]
    if keyword in ("minLength", "maxLength", "pattern", "format"):
        return [_Found("DK206", path, *_string_sentence(where, keyword, expected, value))]
    if keyword in ("minItems", "maxItems", "uniqueItems") or (
        keyword == "items" and expected is False
    ):
        return [_Found("DK208", path, *_array_sentence(where, error, value))]
    if keyword == "not":
        return [
            _Found(
                "DK200",
                path,
                f"{where} has a shape that is not allowed here",
                "see the schema for what this place takes",
                weak=True,
            )
        ]
    if keyword is None:  # a `false` schema: nothing is allowed here
        return [_Found("DK200", path, f"{where} is not allowed here", f"remove {where}")]
    if keyword == "oneOf":  # no branch failed: several matched
        return [
            _Found(
                "DK200",
                path,
                f"{where} matches more than one of the shapes allowed here; it must match one",
                "remove what makes it ambiguous",
                weak=True,
            )
        ]
    return [_Found("DK200", path, f"{where}: {error.message}", "see the schema for this place")]


# -- oneOf / anyOf -----------------------------------------------------------------------------


def _reduce(error: ValidationError, document: Any, root: str) -> list[_Found]:
    """A failed oneOf/anyOf as the findings of its most relevant branch (or one merged one)."""
    from jsonschema.exceptions import best_match

    path = tuple(error.absolute_path)
    context = list(error.context or ())
    here = [e for e in context if tuple(e.absolute_path) == path]
    if len(here) == len(context):
        merged = _merged(here, path, _where(path, root), error.instance, error.validator)
        if merged is not None:
            return [merged]
    best = best_match([error])
    if best is error:  # every branch is as relevant as the others: take the first
        best = context[0]
    while best.parent is not None and best.parent is not error:
        best = best.parent
    branch = best.relative_schema_path[0] if best.relative_schema_path else None
    out: list[_Found] = []
    for each in context:
        if each.relative_schema_path and each.relative_schema_path[0] == branch:
            out.extend(_convert(each, document, root))
    return out


def _merged(
    errors: list[ValidationError],
    path: tuple[str | int, ...],
    where: str,
    value: Any,
    combinator: Any,
) -> _Found | None:
    """One finding for branches that all fail on the type, all on the value, or all on a key."""
    keywords = {e.validator for e in errors}
    if keywords == {"required"}:
        keys = list(dict.fromkeys(_missing_key(e) for e in errors))
        listed = ", ".join(f'"{k}"' for k in keys)
        how = "exactly one" if combinator == "oneOf" else "at least one"
        return _Found(
            "DK201", path, f"{where} needs {how} of {listed}", f"add {how} of {listed} to {where}"
        )
    if keywords == {"type"}:
        types: list[str] = []
        for e in errors:
            named: Any = e.validator_value
            for t in [named] if isinstance(named, str) else named:
                if t not in types:
                    types.append(t)
        return _Found("DK202", path, *_type_sentence(where, types, value))
    if keywords <= {"enum", "const"}:
        allowed: list[Any] = []
        for e in errors:
            values: Any = e.validator_value
            allowed.extend(values if e.validator == "enum" else [values])
        return _Found("DK203", path, *_value_sentence(where, allowed, value))
    return None


# -- request_data's "exactly one of template_id and job_nodes" ---------------------------------

_ALTERNATIVES = ("template_id", "job_nodes")


def _is_template_or_nodes(error: ValidationError, document: Any) -> bool:
    """Whether ``error`` is the schema's wording of "exactly one of template_id and job_nodes".

    It is when it fails at the document's root, on a keyword that combines or requires keys,
    whose value names one of the two keys, and the document has both or neither of them (with
    exactly one, the problem lies inside it). This holds however the schema words the rule:
    ``oneOf`` of two ``required``, ``not`` of both, or ``if``/``then``.
    """
    if error.absolute_path or not isinstance(document, dict):
        return False
    if error.validator not in ("oneOf", "anyOf", "allOf", "not", "required", "dependentRequired"):
        return False
    if sum(key in document for key in _ALTERNATIVES) == 1:
        return False
    try:
        text = json.dumps(error.validator_value)
    except (TypeError, ValueError):
        return False
    return any(f'"{key}"' in text for key in _ALTERNATIVES)


def _template_or_nodes(document: dict[str, Any], path: tuple[str | int, ...]) -> _Found:
    has = "both" if all(key in document for key in _ALTERNATIVES) else "neither"
    return _Found(
        "DK207",
        path,
        f'request_data must have exactly one of "template_id" and "job_nodes"; it has {has}',
        'give "job_nodes" to describe the job\'s nodes, or "template_id" to run a saved '
        "template, not both",
    )


# -- sentences ---------------------------------------------------------------------------------

_TYPE_WORDS = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}

_RANGE = {
    "minimum": "at least {}",
    "maximum": "at most {}",
    "exclusiveMinimum": "greater than {}",
    "exclusiveMaximum": "less than {}",
    "multipleOf": "a multiple of {}",
}

_FORMAT_EXAMPLES = {
    "uuid": "a UUID such as 123e4567-e89b-12d3-a456-426614174000",
    "date-time": "an RFC 3339 date-time such as 2025-01-31T12:00:00Z",
    "duration": "an ISO 8601 duration such as PT2M30S",
}


def _where(path: Iterable[str | int], root: str) -> str:
    """``job_nodes[2].settings.strategy`` for a path; ``root`` for the document itself."""
    out = ""
    for token in path:
        if isinstance(token, int):
            out += f"[{token}]"
        elif token.isidentifier():
            out += ("." if out else "") + token
        else:
            out += f"[{json.dumps(token, ensure_ascii=False)}]"
    return out or root


def _show(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:
        text = f"an {_kind(value)} nested too deeply to show"
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _got(value: Any) -> str:
    kind = _kind(value)
    if kind in ("object", "array"):
        return f"got {_TYPE_WORDS[kind]}"
    if kind in ("null", "boolean"):
        return f"got {_show(value)}"
    return f"got the {kind} {_show(value)}"


def _type_sentence(where: str, expected: Any, value: Any) -> tuple[str, str]:
    names = [expected] if isinstance(expected, str) else list(expected)
    words = [_TYPE_WORDS.get(n, n) for n in names]
    wanted = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    message = f"{where} must be {wanted}; {_got(value)}"
    hint = f"change {where} to {wanted}"
    if isinstance(value, str):
        unquoted = _unquoted(value, names)
        if unquoted is not None:
            hint = f"write {unquoted} without quotes"
    return message, hint


def _unquoted(text: str, names: list[str]) -> str | None:
    """The literal a quoted string was meant to be, when it reads as one of ``names``."""
    stripped = text.strip()
    if "boolean" in names and stripped.lower() in ("true", "false"):
        return stripped.lower()
    if "null" in names and stripped.lower() in ("null", "none"):
        return "null"
    if "integer" in names or "number" in names:
        try:
            number = json.loads(stripped)
        except ValueError:
            return None
        is_number = isinstance(number, int | float) and not isinstance(number, bool)
        if is_number and ("number" in names or float(number).is_integer()):
            return stripped
    return None


def _value_sentence(where: str, allowed: list[Any], value: Any) -> tuple[str, str]:
    shown = [_show(v) for v in allowed]
    if len(shown) == 1:
        message = f"{where} must be {shown[0]}; got {_show(value)}"
        return message, f"set {where} to {shown[0]}"
    listed = ", ".join(shown[:12]) + (", …" if len(shown) > 12 else "")
    message = f"{where} must be one of {listed}; got {_show(value)}"
    hint = "use one of the values listed"
    if isinstance(value, str):
        guess = closest(value, [v for v in allowed if isinstance(v, str)])
        if guess is not None:
            hint = f"did you mean {_show(guess)}?"
    return message, hint


def _string_sentence(where: str, keyword: str, expected: Any, value: Any) -> tuple[str, str]:
    if keyword == "minLength":
        if expected == 1:
            return f"{where} must not be empty", f"give {where} a value"
        length = len(value) if isinstance(value, str) else 0
        return (
            f"{where} must be at least {expected} characters long; it has {length}",
            f"lengthen {where}",
        )
    if keyword == "maxLength":
        length = len(value) if isinstance(value, str) else 0
        return (
            f"{where} must be at most {expected} characters long; it has {length}",
            f"shorten {where}",
        )
    if keyword == "pattern":
        return (
            f"{where} must match the pattern {expected}; got {_show(value)}",
            f"change {where} to match {expected}",
        )
    example = _FORMAT_EXAMPLES.get(str(expected), f"a valid {expected}")
    return f"{where} must be a valid {expected}; got {_show(value)}", f"write {example}"


def _array_sentence(where: str, error: ValidationError, value: Any) -> tuple[str, str]:
    size = len(value) if isinstance(value, list) else 0
    keyword, expected = error.validator, error.validator_value
    if keyword == "minItems":
        if expected == 1:
            return f"{where} must not be empty", f"add at least one item to {where}"
        return (
            f"{where} must have at least {expected} items; it has {size}",
            f"add items to {where}",
        )
    if keyword == "uniqueItems":
        return f"{where} must not repeat an item", f"remove the repeated items from {where}"
    if keyword == "items":
        expected = len(error.schema.get("prefixItems", [])) if isinstance(error.schema, dict) else 0
    return (
        f"{where} must have at most {expected} items; it has {size}",
        f"remove items from {where}",
    )


def _missing_key(error: ValidationError) -> str:
    names = error.validator_value if isinstance(error.validator_value, list) else []
    for name in names:
        if error.message == f"{name!r} is a required property":
            return str(name)
    instance = error.instance if isinstance(error.instance, dict) else {}
    return next((str(n) for n in names if n not in instance), "?")


def _dependents(error: ValidationError) -> list[tuple[str, str]]:
    spec = error.validator_value if isinstance(error.validator_value, dict) else {}
    pairs = [(str(name), str(key)) for name, keys in spec.items() for key in keys]
    instance = error.instance if isinstance(error.instance, dict) else {}
    for name, key in pairs:
        if name in instance and error.message == f"{key!r} is a dependency of {name!r}":
            return [(name, key)]
    return [(name, key) for name, key in pairs if name in instance]


def _unknown_keys(error: ValidationError, path: tuple[str | int, ...], where: str) -> list[_Found]:
    """One finding per key that ``additionalProperties: false`` rejects, pointing at the key."""
    import re

    schema = error.schema if isinstance(error.schema, dict) else {}
    declared = list(schema.get("properties", {}))
    patterns = list(schema.get("patternProperties", {}))
    out = []
    instance: Any = error.instance
    for key in instance:
        if key in declared or any(re.search(p, key) for p in patterns):
            continue
        hint = did_you_mean(key, declared)
        hint += " " if hint else ""
        hint += f"{where} takes: {', '.join(declared)}" if declared else f"remove it from {where}"
        out.append(_Found("DK205", (*path, key), f'{where} has an unknown key "{key}"', hint))
        if len(out) > MAX_FINDINGS:
            break  # enough for the cap on findings
    return out
