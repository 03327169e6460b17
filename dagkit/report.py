"""Turning findings into what people and CI systems read."""

from __future__ import annotations

from collections.abc import Iterable

from dagkit.findings import Finding

_COLOURS = {"error": "\033[31m", "warning": "\033[33m"}
_RESET = "\033[0m"


def text_lines(findings: Iterable[Finding], *, colour: bool = False) -> list[str]:
    """``file:line:col: CODE message`` lines, each followed by its node and hint."""
    lines = []
    for f in findings:
        severity = f.severity
        if colour:
            severity = f"{_COLOURS[f.severity]}{severity}{_RESET}"
        head = f"{f.location()}: {f.code} {severity}: {f.message}"
        lines.append(head)
        if f.node is not None and str(f.node) not in f.message:
            lines.append(f"    node: {f.node}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    return lines
