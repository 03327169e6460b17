"""The ``junit`` report: JUnit XML, one test case per file, for test dashboards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dagkit.report import plural, text_lines, with_file

if TYPE_CHECKING:
    from dagkit.validate.files import FileResult


def render(results: Sequence[FileResult], *, strict: bool, colour: bool) -> str:
    return _junit(results, strict=strict)


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
        lines = "\n".join(text_lines(with_file(r)))
        if not r.valid(strict):
            first = next((f for f in r.findings if f.is_error), r.findings[0])
            failure = ET.SubElement(
                case,
                "failure",
                {
                    "message": _xml_text(
                        f"{plural(r.errors, 'error')}, {plural(r.warnings, 'warning')}: "
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
