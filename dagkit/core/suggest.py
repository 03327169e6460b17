"""Words for near misses and long lists, the same in every message dagkit writes."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` is most likely a misspelling of (a case-only difference first),
    or None when none is close (difflib's likeness, 0.6)."""
    import difflib

    options = list(choices)
    folded = {c.casefold(): c for c in options}
    if word.casefold() in folded:
        return folded[word.casefold()]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``did you mean "x"?`` for the closest choice, or an empty string."""
    guess = closest(word, choices)
    return f'did you mean "{guess}"?' if guess is not None else ""


def shortlist(items: Iterable[str], first: int = 5) -> str:
    """``a, b, c`` or, for a long list, its first few then how many more: ``a, b, … (12 more)``."""
    shown = list(items)
    if len(shown) <= first + 1:
        return ", ".join(shown)
    return f"{', '.join(shown[:first])}, … ({len(shown) - first} more)"


__all__ = ["closest", "did_you_mean", "shortlist"]
