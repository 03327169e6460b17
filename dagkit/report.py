"""Turning findings into what people and CI systems read.

:func:`text_lines` serves every command that prints findings; :func:`render` turns the results
of ``dagkit validate`` into one of :data:`FORMATS`: ``text`` for people, ``json`` for scripts,
``github`` workflow annotations, ``sarif`` 2.1.0 for code-scanning tools and ``junit`` XML for
test dashboards. :func:`readme_code_table` is the README's table of finding codes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dagkit import __version__
from dagkit.findings import CODES, Finding

if TYPE_CHECKING:
    from dagkit.validate.files import FileResult

#: The report formats :func:`render` writes.
FORMATS = ("text", "json", "github", "sarif", "junit")

_COLOURS = {"error": "\033[31m", "warning": "\033[33m"}
_BOLD = "\033[1m"
_RESET = "\033[0m"
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning"}


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
        if f.node is not None and f"job_nodes[{f.node.index}]" not in f.message:
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
    if fmt == "text":
        return _text(results, strict=strict, colour=colour)
    if fmt == "json":
        return json.dumps(_json(results, strict=strict), indent=2, ensure_ascii=False) + "\n"
    if fmt == "github":
        return "".join(_github_line(f) + "\n" for r in results for f in _with_file(r))
    if fmt == "sarif":
        return json.dumps(_sarif(results), indent=2, ensure_ascii=False) + "\n"
    if fmt == "junit":
        return _junit(results, strict=strict)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


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
    line = ", ".join(_plural(counts[key], key[:-1]) for key in ("files", "errors", "warnings"))
    if counts["invalid"]:
        line += f"; {_plural(counts['invalid'], 'file')} invalid"
        if strict and not counts["errors"]:
            line += " (--strict: warnings fail)"
    return line


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _with_file(result: FileResult) -> list[Finding]:
    return [f if f.file is not None else f.replace(file=result.path) for f in result.findings]


# --- text ----------------------------------------------------------------------------------------


def _text(results: Sequence[FileResult], *, strict: bool, colour: bool) -> str:
    lines = [line for r in results for line in text_lines(_with_file(r), colour=colour)]
    last = summary_line(results, strict=strict)
    lines.append(f"{_BOLD}{last}{_RESET}" if colour else last)
    return "\n".join(lines) + "\n"


# --- json ----------------------------------------------------------------------------------------


def _json(results: Sequence[FileResult], *, strict: bool) -> dict[str, Any]:
    return {
        "files": [
            {
                "path": r.path,
                "kind": r.kind,
                "valid": r.valid(strict),
                "findings": [f.to_dict() for f in r.findings],
            }
            for r in results
        ],
        "summary": summary(results, strict=strict),
    }


# --- GitHub workflow commands --------------------------------------------------------------------


def _github_line(f: Finding) -> str:
    """``::error file=...,line=...,col=...,title=CODE::message`` for one finding."""
    props = [("file", f.file or "")]
    if f.line is not None:
        props.append(("line", str(f.line)))
        if f.column is not None:
            props.append(("col", str(f.column)))
    props.append(("title", f.code))
    where = f.inside()
    message = f.message + (f" ({where})" if where else "") + (f"\n{f.hint}" if f.hint else "")
    head = ",".join(f"{key}={_escape_property(value)}" for key, value in props)
    return f"::{f.severity} {head}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    # GitHub's rules for a command's message: %, CR and LF are percent-encoded.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    # A property value also may not hold the ':' and ',' that delimit properties.
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


# --- SARIF 2.1.0 ---------------------------------------------------------------------------------


def _sarif(results: Sequence[FileResult]) -> dict[str, Any]:
    findings = [f for r in results for f in _with_file(r)]
    codes = sorted({f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    rules = [
        {
            "id": code,
            "name": CODES[code].name,
            "shortDescription": {"text": CODES[code].summary},
            "defaultConfiguration": {"level": _SARIF_LEVEL[CODES[code].severity]},
        }
        for code in codes
    ]
    return {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dagkit",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/dagkit/",
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_sarif_result(f, index[f.code]) for f in findings],
            }
        ],
    }


def _sarif_result(f: Finding, rule_index: int) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.file or "")}}
    if f.line is not None:
        region: dict[str, int] = {"startLine": f.line}
        if f.column is not None:
            region["startColumn"] = f.column
        physical["region"] = region
    location: dict[str, Any] = {"physicalLocation": physical}
    if f.pointer:
        location["logicalLocations"] = [{"fullyQualifiedName": f.pointer, "kind": "value"}]
    properties: dict[str, Any] = {"pointer": f.pointer}
    if f.part is not None:
        properties["part"] = f.part
    if f.node is not None:
        properties["node"] = {"index": f.node.index, "name": f.node.name}
    if f.hint:
        properties["hint"] = f.hint
    message = f.message + (f" Hint: {f.hint}" if f.hint else "")
    return {
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": message},
        "locations": [location],
        "properties": properties,
    }


_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


def _uri(path: str) -> str:
    """A relative URI reference for a file path: forward slashes, everything else %-encoded."""
    raw = path.replace("\\", "/").encode("utf-8", "surrogateescape")
    return "".join(chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in raw)


# --- JUnit XML -----------------------------------------------------------------------------------


def _junit(results: Sequence[FileResult], *, strict: bool) -> str:
    import xml.etree.ElementTree as ET

    failures = sum(not r.valid(strict) for r in results)
    suite = ET.Element(
        "testsuite",
        {
            "name": "dagkit validate",
            "tests": str(len(results)),
            "failures": str(failures),
            "errors": "0",
            "skipped": "0",
        },
    )
    for r in results:
        case = ET.SubElement(
            suite, "testcase", {"classname": f"dagkit.validate.{r.kind}", "name": _xml_text(r.path)}
        )
        lines = "\n".join(text_lines(_with_file(r)))
        if not r.valid(strict):
            first = next((f for f in r.findings if f.is_error), r.findings[0])
            failure = ET.SubElement(
                case,
                "failure",
                {
                    "message": _xml_text(
                        f"{_plural(r.errors, 'error')}, {_plural(r.warnings, 'warning')}: "
                        f"{first.code} {first.message}"
                    ),
                    "type": first.code,
                },
            )
            failure.text = _xml_text(lines)
        elif r.findings:
            ET.SubElement(case, "system-out").text = _xml_text(lines)
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )


def _xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids (controls, lone surrogates) made visible."""
    return "".join(ch if _xml_char(ch) else f"\\x{{{ord(ch):x}}}" for ch in text)


def _xml_char(ch: str) -> bool:
    code = ord(ch)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


# --- the README's table of codes -----------------------------------------------------------------


def readme_code_table() -> str:
    """The Markdown table of every finding code: code, name, severity, meaning."""
    rows = ["| Code | Name | Severity | Meaning |", "|---|---|---|---|"]
    for r in CODES.values():
        meaning = r.summary.replace("|", "\\|")
        rows.append(f"| {r.code} | {r.name} | {r.severity} | {meaning} |")
    return "\n".join(rows) + "\n"
