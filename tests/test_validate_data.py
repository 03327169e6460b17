"""The example files in tests/data: every valid one passes, every invalid one gives exactly the
findings that tests/data/invalid/EXPECTED.json declares (code, pointer, part, line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dagkit.validate.files import FileResult, validate_file

DATA = Path(__file__).resolve().parent / "data"
VALID = sorted(p for p in (DATA / "valid").iterdir() if p.is_file())
INVALID = sorted(p for p in (DATA / "invalid").iterdir() if p.name != "EXPECTED.json")
EXPECTED: dict[str, list[dict[str, Any]]] = json.loads(
    (DATA / "invalid" / "EXPECTED.json").read_text(encoding="utf-8")
)


def _check(path: Path) -> FileResult:
    return validate_file(str(path))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_file_has_no_finding(path: Path) -> None:
    result = _check(path)
    assert result.findings == []
    assert result.valid(strict=True)


def test_valid_files_cover_every_kind() -> None:
    kinds = {_check(p).kind for p in VALID}
    assert kinds == {"request-data", "body", "http", "response", "workflow"}


def _observed(result: FileResult, expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings in the sidecar's terms: code and pointer, and part/line where declared."""
    declares_part = any("part" in e for e in expected)
    declares_line = any("line" in e for e in expected)
    out = []
    for f in result.findings:
        item: dict[str, Any] = {"code": f.code, "pointer": f.pointer}
        if declares_part and f.part is not None:
            item["part"] = f.part.label
        if declares_line and f.line is not None:
            item["line"] = f.line
        out.append(item)
    return out


def _key(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_file_gives_exactly_its_declared_findings(path: Path) -> None:
    expected = EXPECTED[path.name]
    result = _check(path)
    assert sorted(_observed(result, expected), key=_key) == sorted(expected, key=_key)
    # Each file is named after the codes it must trigger, and fails at least in --strict mode.
    assert {e["code"] for e in expected} <= set(path.name.split("-"))
    assert not result.valid(strict=True)
    for f in result.findings:
        assert f.file == str(path)


def test_sidecar_and_files_agree() -> None:
    assert sorted(EXPECTED) == sorted(p.name for p in INVALID)


def test_invalid_files_cover_the_codes_a_file_can_trigger() -> None:
    covered = {e["code"] for items in EXPECTED.values() for e in items}
    # Codes that need something a file cannot give: a graph with edges (DK300, DK301, DK309),
    # a size limit below the file's (DK414, tested with --max-file-size), a 10 MB file (DK421),
    # a request_data to map a 422 onto (DK510), a request_data part over 1 MB, too big to keep
    # as an example (DK420), over a thousand parts (DK422) or findings (DK900), a schema rule no
    # finding-specific code covers (DK200), or a workflow run with files against a workflow that
    # has a source connector (DK603).
    not_from_a_file = {
        *("DK200", "DK300", "DK301", "DK309", "DK414", "DK420", "DK421", "DK510", "DK603"),
        *("DK422", "DK900"),
    }
    from dagkit.findings import CODES

    assert covered == set(CODES) - not_from_a_file
