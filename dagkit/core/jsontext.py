"""JSON text that survives a round trip byte for byte.

request_data is a JSON document inside a form field, and users write numbers like ``1.50``,
``1e5`` or ``0.123456789012345678901``. Python's json turns those into floats and writes them
back as ``1.5``, ``100000.0`` and ``0.12345678901234568``. :func:`loads` keeps each non-integer
number's text in a :class:`JSONFloat` (a real ``float`` for every comparison and range check),
and :func:`dumps` writes that text back unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any


class JSONFloat(float):
    """A float that remembers the JSON text it was parsed from."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> JSONFloat:
        value = super().__new__(cls, text)
        value.text = text
        return value

    def __repr__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[Any, ...]:
        return (JSONFloat, (self.text,))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON; write a number or a string")


def loads(text: str | bytes) -> Any:
    """Parse JSON, keeping the text of non-integer numbers. Raises ``ValueError`` on bad JSON
    (``json.JSONDecodeError`` carries line and column)."""
    return json.loads(text, parse_float=JSONFloat, parse_constant=_reject_constant)


def loads_noting_duplicates(text: str | bytes) -> tuple[Any, int]:
    """:func:`loads`, and how many times an object repeats a key (the last value won), in one
    parse."""
    repeated = 0

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        obj = dict(pairs)
        if len(obj) != len(pairs):
            repeated += len(pairs) - len(obj)
        return obj

    value = json.loads(
        text, parse_float=JSONFloat, parse_constant=_reject_constant, object_pairs_hook=build
    )
    return value, repeated


#: Python's own parser, refusing NaN and Infinity (not JSON); numbers as plain floats.
_plain_decoder = json.JSONDecoder(parse_constant=_reject_constant)
_plain_scan: Callable[[str, int], tuple[Any, int]] = _plain_decoder.scan_once  # type: ignore[attr-defined]
#: JSON's whitespace, all of it (``str.isspace`` knows more).
_SPACE = " \t\n\r"
#: A JSON string, and the colon after it when it is an object's key. In JSON text, a quote
#: outside a string opens one, so matches, taken in turn, are the text's strings.
#: (Compiled on first use, by re's cache: only a text with a colon inside a string needs it.)
_STRING = r'"[^"\\]*(?:\\[\s\S][^"\\]*)*"([ \t\n\r]*:)?'


def loads_plain(text: str) -> Any:
    """Parse JSON at the C parser's speed: numbers as plain floats (no number keeps its text),
    and NaN and Infinity refused. Raises ``ValueError`` on bad JSON (the explaining parse of
    :func:`loads_noting_duplicates` and :mod:`dagkit.core.jsonlocate` says where)."""
    stripped = text.strip(_SPACE)
    try:
        value, end = _plain_scan(stripped, 0)
    except StopIteration:
        raise ValueError("not a JSON value") from None
    if end != len(stripped):
        raise ValueError("more text follows the JSON value")
    return value


def repeats_no_key(text: str, keys: int) -> bool:
    """Whether the JSON ``text``, whose parsed objects hold ``keys`` keys all told, certainly
    has no object that repeats a key (False: it may; count them with
    :func:`loads_noting_duplicates`).

    A repeated key leaves one key fewer in the parsed object than its members in the text, and
    every member has one colon (strings may hold more). So when the text's colons, or else its
    keys (the strings a colon follows), number exactly ``keys``, no key was repeated. Two
    C-speed counts replace a Python call per object while parsing.
    """
    if text.count(":") == keys:
        return True
    strings = re.findall(_STRING, text)
    return len(strings) - strings.count("") == keys


def dumps(value: Any) -> str:
    """Compact JSON with keys in their given order, non-ASCII text as is, numbers as written."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(encode_basestring(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, JSONFloat):
        out.append(value.text)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written as JSON")
        out.append(float.__repr__(value))
    elif isinstance(value, dict):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if i:
                out.append(",")
            out.append(encode_basestring(key))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} cannot be written as JSON")


#: The suffix of JSON Lines files of request_data: one job's per line, as ``dagkit build``
#: prints a DAG that plans several jobs.
JSON_LINES_SUFFIX = ".jsonl"


def json_lines(text: str) -> list[tuple[int, str]]:
    """The documents of JSON Lines text, each with its line number (from 1): every line but
    blank ones, a CR before the newline dropped (a JSON document holds no raw newline)."""
    lines = text.split("\n")
    return [(n, line.removesuffix("\r")) for n, line in enumerate(lines, 1) if line.strip()]
