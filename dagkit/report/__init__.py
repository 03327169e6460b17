"""Turning findings into what people and CI systems read.

:func:`text_lines` serves every command that prints findings; :func:`render` turns the results
of ``dagkit validate`` into one of :data:`FORMATS`: ``text`` for people, ``json`` for scripts,
``github`` workflow annotations, ``sarif`` 2.1.0 for code-scanning tools and ``junit`` XML for
test dashboards. Each format lives in a module of its own, imported only when it is chosen, so
that a run that prints text pays nothing for XML or SARIF. :func:`readme_code_table` is the
README's table of finding codes.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dagkit.findings import CODES, Finding, select_findings

if TYPE_CHECKING:
    from dagkit.validate.files import FileResult

#: The report formats :func:`render` writes, each with the module that writes it.
_MODULES = {
    "text": "dagkit.report.text",
    "json": "dagkit.report.json_report",
    "github": "dagkit.report.github",
    "sarif": "dagkit.report.sarif",
    "junit": "dagkit.report.junit",
}
FORMATS = tuple(_MODULES)

_COLOURS = {"error": "\033[31m", "warning": "\033[33m"}
_RESET = "\033[0m"


def text_lines(findings: Iterable[Finding], *, colour: bool = False) -> list[str]:
    """``file:line:col: CODE message`` lines, each followed by its node and hint."""
    lines = []
    for f in findings:
        severity: str = f.severity
        if colour:
            severity = f"{_COLOURS[f.severity]}{severity}{_RESET}"
        lines.append(f"{f.location()}: {f.code} {severity}: {f.message}")
        if f.inside():
            lines.append(f"    at: {f.inside()}")
        if f.node is not None and f"{f.node.field}[{f.node.index}]" not in f.message:
            lines.append(f"    node: {f.node}")
        if f.hint:
            lines.append(f"    hint: {f.hint}")
    return lines


def render(
    results: Sequence[FileResult], fmt: str = "text", *, strict: bool = False, colour: bool = False
) -> str:
    """The report of ``results`` in format ``fmt`` (one of :data:`FORMATS`), ending in a newline.

    ``strict`` counts warnings as failures (the ``valid`` of each file); ``colour`` adds ANSI
    colours to the text format only.
    """
    if fmt not in _MODULES:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    writer = importlib.import_module(_MODULES[fmt])
    text: str = writer.render(results, strict=strict, colour=colour)
    return text


def select(
    results: Sequence[FileResult], select: Sequence[str] = (), ignore: Sequence[str] = ()
) -> list[FileResult]:
    """``results`` keeping only the findings ``select`` names (all, when empty) and ``ignore``
    does not (see :func:`dagkit.findings.codes_matching`): every format, count and exit status
    then sees the same findings."""
    if not select and not ignore:
        return list(results)
    return [r.replace(findings=select_findings(r.findings, select, ignore)) for r in results]


def summary(results: Sequence[FileResult], *, strict: bool = False) -> dict[str, Any]:
    """Counts over all results: files, valid, invalid, errors, warnings."""
    valid = sum(r.valid(strict) for r in results)
    return {
        "files": len(results),
        "valid": valid,
        "invalid": len(results) - valid,
        "errors": sum(r.errors for r in results),
        "warnings": sum(r.warnings for r in results),
        "strict": strict,
    }


def summary_line(results: Sequence[FileResult], *, strict: bool = False) -> str:
    """``N files, E errors, W warnings`` (and how many files failed)."""
    counts = summary(results, strict=strict)
    line = ", ".join(plural(counts[key], key[:-1]) for key in ("files", "errors", "warnings"))
    if counts["invalid"]:
        line += f"; {plural(counts['invalid'], 'file')} invalid"
        if strict and not counts["errors"]:
            line += " (--strict: warnings fail)"
    return line


def plural(count: int, noun: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def with_file(result: FileResult) -> list[Finding]:
    """The findings of ``result``, each naming its file (the result's path when it has none)."""
    return [f if f.file is not None else f.replace(file=result.path) for f in result.findings]


# --- the README's table of codes -----------------------------------------------------------------


def readme_code_table() -> str:
    """The Markdown table of every finding code: code, name, severity, meaning, and why it has
    that severity."""
    rows = ["| Code | Name | Severity | Meaning | Why this severity |", "|---|---|---|---|---|"]
    for r in CODES.values():
        meaning, why = (text.replace("|", "\\|") for text in (r.summary, r.why))
        rows.append(f"| {r.code} | {r.name} | {r.severity} | {meaning} | {why} |")
    return "\n".join(rows) + "\n"
