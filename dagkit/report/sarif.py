"""The ``sarif`` report: SARIF 2.1.0, for code-scanning tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dagkit import __version__
from dagkit.findings import CODES
from dagkit.report import with_file

if TYPE_CHECKING:
    from dagkit.findings import Finding
    from dagkit.validate.files import FileResult

_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning"}


def render(results: Sequence[FileResult], *, strict: bool, colour: bool) -> str:
    return json.dumps(_sarif(results), indent=2, ensure_ascii=False) + "\n"


def _sarif(results: Sequence[FileResult]) -> dict[str, Any]:
    findings = [f for r in results for f in with_file(r)]
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
        properties["part"] = f.part.label
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
