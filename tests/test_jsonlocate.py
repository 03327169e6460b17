"""Positions in JSON text: syntax errors, duplicate keys, and where a pointer's value starts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit.core.jsonlocate import Locator, duplicate_keys, locate, syntax_error
from dagkit.core.pointers import join as pointer_join

KEYS = st.text(alphabet=st.sampled_from('ab/~"\\é😀 \n'), max_size=4)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)
LAYOUTS = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 1, 2, 4, "\t"]),
        "ensure_ascii": st.booleans(),
        "separators": st.sampled_from([None, (",", ":"), (" , ", " : ")]),
    }
)


def members(value: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    yield pointer, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from members(item, pointer_join(pointer, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from members(item, pointer_join(pointer, index))


def offset_of(text: str, line: int, column: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = text.index("\n", start) + 1
    return start + column - 1


@settings(max_examples=80, deadline=None)
@given(value=VALUES, layout=LAYOUTS, lead=st.sampled_from(["", " ", "\n\n  "]))
def test_locate_finds_where_each_value_starts(
    value: Any, layout: dict[str, Any], lead: str
) -> None:
    text = lead + json.dumps(value, **layout)
    locator = Locator(text)
    decoder = json.JSONDecoder()
    for pointer, expected in members(value):
        spot = locator.locate(pointer)
        assert spot is not None
        assert spot == locate(text, pointer)
        found, _ = decoder.raw_decode(text, offset_of(text, *spot))
        assert found == expected, pointer


@settings(max_examples=50, deadline=None)
@given(value=st.dictionaries(KEYS, VALUES, min_size=1, max_size=4), layout=LAYOUTS)
def test_locate_key_points_at_the_key(value: dict[str, Any], layout: dict[str, Any]) -> None:
    text = json.dumps(value, **layout)
    locator = Locator(text)
    decoder = json.JSONDecoder()
    for key in value:
        spot = locator.locate_key(pointer_join("", key))
        assert spot is not None
        assert decoder.raw_decode(text, offset_of(text, *spot))[0] == key


def test_missing_members_give_the_enclosing_value() -> None:
    text = '{\n  "job_nodes": [\n    {"name": "a"}\n  ]\n}'
    assert locate(text, "/job_nodes/0/settings") == (3, 5)
    assert locate(text, "/job_nodes/7") == (2, 16)
    assert locate(text, "/nothing/deeper") == (1, 1)
    assert locate(text, "no slash") is None
    assert locate("", "") is None
    assert locate("   ", "/a") is None


@settings(max_examples=120, deadline=None)
@given(
    value=VALUES,
    layout=LAYOUTS,
    cut=st.integers(0, 10**6),
    edit=st.sampled_from(["delete", "insert", "truncate"]),
    char=st.sampled_from(list(",:{}[]\"'\\x1 \n\t")),
)
def test_syntax_errors_agree_with_the_json_module(
    value: Any, layout: dict[str, Any], cut: int, edit: str, char: str
) -> None:
    text = json.dumps(value, **layout)
    at = cut % (len(text) + 1)
    if edit == "delete":
        text = text[:at] + text[at + 1 :]
    elif edit == "insert":
        text = text[:at] + char + text[at:]
    else:
        text = text[:at]
    found = syntax_error(text)
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        assert found is not None
        assert (found.code, found.line, found.column) == ("DK100", exc.lineno, exc.colno)
        assert found.message and found.hint
    else:
        assert found is None


@pytest.mark.parametrize(
    ("text", "words", "line", "column"),
    [
        ('{"a": 1,}', "comma", 1, 9),
        ("[1, 2,]", "comma", 1, 7),
        ("{a: 1}", "the key a must be in double quotes", 1, 2),
        ("{'a': 1}", "double quotes", 1, 2),
        ('{"a" 1}', "':'", 1, 6),
        ('{\n  "a": 1\n  "b": 2\n}', "comma is missing", 3, 3),
        ('{"a": True}', "JSON writes true", 1, 7),
        ('{"a": None}', "JSON writes null", 1, 7),
        ('{"a": "x', "never closed", 1, 7),
        ('{"a": "x\ny"}', "line break", 1, 9),
        (r'{"a": "C:\path"}', "escape", 1, 10),
        ('{"a": 1} {"b": 2}', "more text", 1, 10),
        ('{"a": 1', "ends before", 1, 8),
        ("", "empty", 1, 1),
        ('{"a": .5}', "cannot start", 1, 7),
        ('{"a": 1 // note\n}', "comments", 1, 9),
        ('{"a": NaN}', "NaN is not a JSON value", 1, 7),
        ("[1, -Infinity]", "Infinity", 1, 5),
        ("\ufeff{}", "byte order mark", 1, 1),
    ],
)
def test_syntax_error_messages(text: str, words: str, line: int, column: int) -> None:
    found = syntax_error(text)
    assert found is not None and found.code == "DK100"
    assert words in found.message or words in found.hint
    assert (found.line, found.column) == (line, column)


def test_valid_text_has_no_syntax_error() -> None:
    assert syntax_error('{"job_nodes": [{"name": "NaN", "x": -1.5e3}]}') is None


def test_deep_nesting_is_dk103() -> None:
    found = syntax_error("[" * 100_000 + "]" * 100_000)
    assert found is not None and found.code == "DK103"


def test_too_many_digits_is_dk100() -> None:
    found = syntax_error('{\n "a": ' + "9" * 5000 + "}")
    assert found is not None and (found.code, found.line, found.column) == ("DK100", 2, 7)


# -- duplicate keys ------------------------------------------------------------------------------


@st.composite
def objects_with_repeats(draw: st.DrawFn) -> tuple[str, set[tuple[str, int, int]]]:
    """JSON text whose objects may repeat keys, and every (pointer, line, column) of a repeat."""
    pieces: list[str] = []
    expected: set[tuple[str, int, int]] = set()
    position = {"line": 1, "column": 1}

    def emit(text: str) -> None:
        pieces.append(text)
        for char in text:
            if char == "\n":
                position["line"] += 1
                position["column"] = 1
            else:
                position["column"] += 1

    def value(pointer: str, depth: int) -> None:
        kind = draw(st.sampled_from(["scalar", "object", "array"] if depth < 3 else ["scalar"]))
        if kind == "scalar":
            emit(json.dumps(draw(SCALARS)))
        elif kind == "array":
            emit("[")
            for index in range(draw(st.integers(0, 3))):
                if index:
                    emit(", ")
                value(pointer_join(pointer, index), depth + 1)
            emit("]")
        else:
            emit("{" + draw(st.sampled_from(["", "\n  "])))
            seen: set[str] = set()
            for index, key in enumerate(
                draw(st.lists(st.sampled_from(["a", "b", "é/~"]), max_size=4))
            ):
                if index:
                    emit("," + draw(st.sampled_from([" ", "\n  "])))
                if key in seen:
                    expected.add((pointer_join(pointer, key), position["line"], position["column"]))
                seen.add(key)
                emit(json.dumps(key, ensure_ascii=draw(st.booleans())) + ": ")
                value(pointer_join(pointer, key), depth + 1)
            emit("}")

    value("", 0)
    return "".join(pieces), expected


@settings(max_examples=100, deadline=None)
@given(case=objects_with_repeats())
def test_duplicate_keys_are_found_exactly(case: tuple[str, set[tuple[str, int, int]]]) -> None:
    text, expected = case
    found = duplicate_keys(text)
    assert {(f.pointer, f.line, f.column) for f in found} == expected
    assert len(found) == len(expected)
    assert all(f.code == "DK101" and f.severity == "warning" for f in found)


def test_duplicate_key_message() -> None:
    text = '{"job_nodes": [{"name": "a", "type": "chunk", "name": "b"}]}'
    (f,) = duplicate_keys(text)
    assert f.pointer == "/job_nodes/0/name"
    assert (f.line, f.column) == (1, 47)
    assert '"name"' in f.message and "last value wins" in f.message
    # the pointer leads to the value that won
    assert locate(text, f.pointer) == (1, 55)


def test_no_duplicates() -> None:
    assert duplicate_keys('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}') == []


# -- any text, any depth --------------------------------------------------------------------------

POINTERS = st.sampled_from(["", "/a", "/0", "/a/0/b", "/~0/~1", "x", "/a/99999999999999999999"])


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list('{}[]":,ab01 \n\\-.etruflsnNI')), max_size=60),
    pointer=POINTERS,
)
def test_any_text_never_raises(text: str, pointer: str) -> None:
    syntax_error(text)
    duplicate_keys(text)
    spot = locate(text, pointer)
    if spot is not None:
        line, column = spot
        assert line >= 1 and column >= 1


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200), pointer=POINTERS)
def test_arbitrary_unicode_never_raises(text: str, pointer: str) -> None:
    syntax_error(text)
    duplicate_keys(text)
    locate(text, pointer)


def test_any_depth_is_fine_for_the_locator() -> None:
    depth = 30_000
    text = '{"a": ' * depth + "1" + "}" * depth
    locator = Locator(text)
    assert locator.locate("/a/a/a") == (1, 19)
    assert locator.duplicates == []
    assert duplicate_keys(text) == []
    assert syntax_error(text) is not None  # too deep for the parser: DK103
    broken = "[" * depth
    assert Locator(broken).locate("/0/0") == (1, 3)


_keys = st.sampled_from(["a", "b", "c"])
_objects = st.recursive(
    st.integers(0, 9).map(str) | st.just("null"),
    lambda inner: st.lists(st.tuples(_keys, inner), max_size=4).map(
        lambda pairs: "{" + ",".join(f'"{k}":{v}' for k, v in pairs) + "}"
    ),
    max_leaves=10,
)


@settings(max_examples=200)
@given(_objects)
def test_one_parse_counts_the_repeats_the_locator_finds(text: str) -> None:
    from dagkit.core import jsontext

    value, repeated = jsontext.loads_noting_duplicates(text)
    assert value == json.loads(text)
    assert repeated == len(duplicate_keys(text))
