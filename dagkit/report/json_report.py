"""The ``json`` report: every file with its findings, and the summary, for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dagkit.report import summary

if TYPE_CHECKING:
    from dagkit.validate.files import FileResult


def render(results: Sequence[FileResult], *, strict: bool, colour: bool) -> str:
    return json.dumps(_document(results, strict=strict), indent=2, ensure_ascii=False) + "\n"


def _document(results: Sequence[FileResult], *, strict: bool) -> dict[str, Any]:
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
