"""The ``text`` report: the findings as lines for people, then a summary line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dagkit.report import summary_line, text_lines, with_file

if TYPE_CHECKING:
    from dagkit.validate.files import FileResult

_BOLD = "\033[1m"
_RESET = "\033[0m"


def render(results: Sequence[FileResult], *, strict: bool, colour: bool) -> str:
    lines = [line for r in results for line in text_lines(with_file(r), colour=colour)]
    last = summary_line(results, strict=strict)
    lines.append(f"{_BOLD}{last}{_RESET}" if colour else last)
    return "\n".join(lines) + "\n"
