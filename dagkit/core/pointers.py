"""RFC 6901 JSON Pointers: the one place their tokens are escaped and unescaped.

``~`` is written ``~0`` and ``/`` is written ``~1`` inside a token; unescaping replaces ``~1``
first, so ``~01`` reads back as ``~1``.
"""

from __future__ import annotations


def escape(token: str | int) -> str:
    """One token as it stands in a pointer."""
    return str(token).replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """One token of a pointer as the key or index it names."""
    return token.replace("~1", "/").replace("~0", "~")


def split(pointer: str) -> list[str]:
    """The unescaped tokens of ``pointer`` (none for ``""``, the whole document). The caller
    has checked that a non-empty pointer starts with ``/``."""
    return [unescape(token) for token in pointer[1:].split("/")] if pointer else []


def join(base: str, *tokens: str | int) -> str:
    """``base`` extended by ``tokens``, each escaped."""
    for token in tokens:
        base += "/" + escape(token)
    return base
