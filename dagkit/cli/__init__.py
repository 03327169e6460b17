"""The ``dagkit`` command line: thin click commands over the library.

:func:`run` is the program (the ``dagkit`` console script and ``python -m dagkit``); the click
group, :data:`main`, and its parts live in :mod:`dagkit.cli.group`. Each name is loaded on first
use, so that the everyday ``dagkit validate PATH...`` never imports click (see
:mod:`dagkit.cli.entry`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagkit.core.exports import lazy_exports

_EXPORTS: dict[str, str] = {
    "run": "dagkit.cli.entry",
    "main": "dagkit.cli.group",
    "Group": "dagkit.cli.group",
    "LazyGroup": "dagkit.cli.group",
    "COMMANDS": "dagkit.cli.group",
}

__all__ = ["COMMANDS", "Group", "LazyGroup", "main", "run"]

if TYPE_CHECKING:
    from dagkit.cli.entry import run
    from dagkit.cli.group import COMMANDS, Group, LazyGroup, main


__getattr__ = lazy_exports(__name__, _EXPORTS)
