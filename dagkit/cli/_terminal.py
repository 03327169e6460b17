"""What every command asks of the terminal: is it one, and may it have colour.

Kept apart from :mod:`dagkit.cli._common` (the network commands' options and error handling) so
that ``dagkit validate`` imports nothing it does not use.
"""

from __future__ import annotations

import os


def is_tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colour_ok(stream: object) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    return not os.environ.get("NO_COLOR") and is_tty(stream)
