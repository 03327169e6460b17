"""The one JSON Pointer helper: escaping round-trips for every key."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dagkit.core import pointers


@given(st.lists(st.text()))
def test_join_then_split_gives_the_tokens_back(tokens: list[str]) -> None:
    assert pointers.split(pointers.join("", *tokens)) == tokens


def test_rfc_6901_examples() -> None:
    assert pointers.split("/a~1b/m~0n/~01") == ["a/b", "m~n", "~1"]
    assert pointers.join("/paths", "/jobs/", 0) == "/paths/~1jobs~1/0"
    assert pointers.split("") == []
    assert pointers.split("/") == [""]
