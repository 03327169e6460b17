"""The report formats of ``dagkit validate``: text, json, github, sarif, junit; the code table."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit.findings import CODES, NodeRef, Part, finding
from dagkit.report import FORMATS, readme_code_table, render, summary_line, text_lines
from dagkit.validate.files import FileResult

README = Path(__file__).resolve().parent.parent / "README.md"


def _results() -> list[FileResult]:
    return [
        FileResult("ok.request_data.json", "request-data", []),
        FileResult(
            "jobs/bad,one.json",
            "request-data",
            [
                finding(
                    "DK202",
                    "settings.max_characters must be an integer; got a string",
                    hint='write 2048, not "2048"',
                    path=("job_nodes", 1, "settings", "max_characters"),
                    line=12,
                    column=27,
                    node=NodeRef(1, "Chunker"),
                    file="jobs/bad,one.json",
                ),
                finding(
                    "DK210",
                    'unknown setting "max_charcters"',
                    hint='did you mean "max_characters"?',
                    path=("job_nodes", 1, "settings", "max_charcters"),
                    line=13,
                    column=9,
                    file="jobs/bad,one.json",
                ),
            ],
        ),
        FileResult(
            "body.multipart",
            "body",
            [finding("DK410", "input_files[0] has no Content-Type", part=Part.file(0, "a.txt"))],
        ),
    ]


# --- text ------------------------------------------------------------------------------------


def test_text_lists_every_finding_with_location_then_a_summary() -> None:
    out = render(_results(), "text").splitlines()
    assert out[0] == (
        "jobs/bad,one.json:12:27: DK202 error: "
        "settings.max_characters must be an integer; got a string"
    )
    assert out[1] == "    at: /job_nodes/1/settings/max_characters"
    assert '    hint: write 2048, not "2048"' in out
    assert '    node: job_nodes[1] "Chunker"' in out
    # A finding without a file is given its result's path.
    assert any(line.startswith("body.multipart: DK410") for line in out)
    assert any(line.startswith("    at: part input_files[0]") for line in out)
    assert out[-1] == "3 files, 1 error, 2 warnings; 1 file invalid"


def test_text_has_colour_only_when_asked() -> None:
    assert "\033[" not in render(_results(), "text")
    coloured = render(_results(), "text", colour=True)
    assert "\033[31merror\033[0m" in coloured and "\033[33mwarning\033[0m" in coloured


def test_strict_makes_warnings_fail() -> None:
    results = _results()
    assert summary_line(results) == "3 files, 1 error, 2 warnings; 1 file invalid"
    assert summary_line(results, strict=True) == "3 files, 1 error, 2 warnings; 2 files invalid"
    only_warnings = [results[2]]
    assert summary_line(only_warnings) == "1 file, 0 errors, 1 warning"
    assert summary_line(only_warnings, strict=True).endswith("(--strict: warnings fail)")


def test_text_lines_keeps_its_contract() -> None:
    f = finding("DK100", "expected ',' or '}'", line=3, column=4, file="x.json")
    assert text_lines([f]) == ["x.json:3:4: DK100 error: expected ',' or '}'"]


# --- json ------------------------------------------------------------------------------------


def test_json_has_exactly_the_documented_shape() -> None:
    doc = json.loads(render(_results(), "json"))
    assert set(doc) == {"files", "summary"}
    assert [set(f) for f in doc["files"]] == [{"path", "kind", "valid", "findings"}] * 3
    assert [f["valid"] for f in doc["files"]] == [True, False, True]
    first = doc["files"][1]["findings"][0]
    assert first == {
        "code": "DK202",
        "severity": "error",
        "message": "settings.max_characters must be an integer; got a string",
        "hint": 'write 2048, not "2048"',
        "pointer": "/job_nodes/1/settings/max_characters",
        "line": 12,
        "column": 27,
        "part": None,
        "node": {"index": 1, "name": "Chunker"},
    }
    assert doc["summary"] == {
        "files": 3,
        "valid": 2,
        "invalid": 1,
        "errors": 1,
        "warnings": 2,
        "strict": False,
    }
    strict = json.loads(render(_results(), "json", strict=True))
    assert [f["valid"] for f in strict["files"]] == [True, False, False]


# --- github ----------------------------------------------------------------------------------


def test_github_annotations() -> None:
    lines = render(_results(), "github").splitlines()
    assert lines[0] == (
        "::error file=jobs/bad%2Cone.json,line=12,col=27,title=DK202::"
        "settings.max_characters must be an integer; got a string "
        '(/job_nodes/1/settings/max_characters)%0Awrite 2048, not "2048"'
    )
    assert lines[1].startswith("::warning file=jobs/bad%2Cone.json,line=13,col=9,title=DK210::")
    # No line known: no line or col property.
    assert lines[2].startswith("::warning file=body.multipart,title=DK410::")
    assert len(lines) == 3


def _unescape(text: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


@settings(max_examples=200)
@given(path=st.text(), message=st.text(min_size=1))
def test_github_escaping_round_trips(path: str, message: str) -> None:
    f = finding("DK100", message, file=path, line=1, column=1)
    line = render([FileResult(path, "request-data", [f])], "github")
    assert line.endswith("\n") and line.count("\n") == 1 and "\r" not in line
    head, _, data = line[:-1].partition("::")[2].partition("::")
    props = dict(p.split("=", 1) for p in head.split(" ", 1)[1].split(","))
    assert _unescape(props["file"]) == path
    assert _unescape(data) == message


# --- sarif -----------------------------------------------------------------------------------


def test_sarif_2_1_0() -> None:
    doc = json.loads(render(_results(), "sarif"))
    assert doc["version"] == "2.1.0" and "sarif-2.1.0" in doc["$schema"]
    (run,) = doc["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["DK202", "DK210", "DK410"]
    assert rules[0] == {
        "id": "DK202",
        "name": "wrong-type",
        "shortDescription": {"text": CODES["DK202"].summary},
        "defaultConfiguration": {"level": "error"},
    }
    assert rules[1]["defaultConfiguration"] == {"level": "warning"}
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["DK202", "DK210", "DK410"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    first = results[0]
    assert first["level"] == "error"
    (location,) = first["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "jobs/bad%2Cone.json"},
        "region": {"startLine": 12, "startColumn": 27},
    }
    assert location["logicalLocations"][0]["fullyQualifiedName"] == (
        "/job_nodes/1/settings/max_characters"
    )
    assert first["properties"]["node"] == {"index": 1, "name": "Chunker"}
    # No line known: no region.
    assert "region" not in results[2]["locations"][0]["physicalLocation"]
    assert results[2]["properties"]["part"] == 'input_files[0] "a.txt"'


def test_sarif_of_valid_files_has_no_results() -> None:
    doc = json.loads(render([FileResult("a.json", "request-data", [])], "sarif"))
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["tool"]["driver"]["rules"] == []


# --- junit -----------------------------------------------------------------------------------


def test_junit_one_testcase_per_file() -> None:
    root = ET.fromstring(render(_results(), "junit"))
    assert root.tag == "testsuite"
    assert root.get("tests") == "3" and root.get("failures") == "1"
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "ok.request_data.json",
        "jobs/bad,one.json",
        "body.multipart",
    ]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and failure.get("type") == "DK202"
    assert "DK210" in (failure.text or "")
    # A file with only warnings passes, and shows them.
    assert cases[2].find("failure") is None
    assert "DK410" in (cases[2].findtext("system-out") or "")
    strict = ET.fromstring(render(_results(), "junit", strict=True))
    assert strict.get("failures") == "2"


@settings(max_examples=150)
@given(path=st.text(), message=st.text(), hint=st.text())
def test_junit_is_well_formed_whatever_the_text(path: str, message: str, hint: str) -> None:
    f = finding("DK100", message, hint=hint, file=path)
    out = render([FileResult(path, "request-data", [f])], "junit")
    out.encode("utf-8")  # no lone surrogate survives
    root = ET.fromstring(out)
    assert root.get("failures") == "1"


# --- other -----------------------------------------------------------------------------------


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="text, json"):
        render([], "xml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_handles_no_files(fmt: str) -> None:
    out = render([], fmt)
    # GitHub reads annotations only: no findings, no output.
    assert out == "" if fmt == "github" else out.endswith("\n")


def test_code_table_lists_every_code() -> None:
    table = readme_code_table().splitlines()
    assert table[0] == "| Code | Name | Severity | Meaning | Why this severity |"
    rows = table[2:]
    assert len(rows) == len(CODES)
    for row, rule in zip(rows, CODES.values(), strict=True):
        assert row == (
            f"| {rule.code} | {rule.name} | {rule.severity} | {rule.summary} | {rule.why} |"
        )
        assert rule.why, f"{rule.code} must say why it has its severity"


def test_readme_code_table_is_current() -> None:
    text = README.read_text(encoding="utf-8") if README.is_file() else ""
    start, end = "<!-- codes:start -->", "<!-- codes:end -->"
    assert start in text and end in text, "README.md must keep the table of codes between markers"
    table = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert table == readme_code_table().strip(), "regenerate with dagkit.report.readme_code_table()"
