"""Real requests, answers and bodies from the public sources: none of them may get an error.

``tests/data/real/`` holds request_data, answers and SDK-made bodies copied from the platform's
notebooks (with saved outputs showing the platform took them), the MCP server, the official
Python SDK's tests and the docs; ``SOURCES.md`` there says where each came from. What the
platform accepts must not be an error in dagkit: a validator that fails working payloads gets
switched off. ``tests/data/real-broken/`` holds the docs' two known-wrong templates, which must
still be errors, at the right place.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from dagkit.findings import Finding
from dagkit.validate.files import DIRECTORY_SUFFIXES, validate_file

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real"
BROKEN = ROOT / "tests" / "data" / "real-broken"
SOURCES = REAL / "SOURCES.md"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(DIRECTORY_SUFFIXES))


REAL_FILES = _files(REAL)

#: Real payloads that dagkit still reports an error for, and the false error each gets. These
#: cases are expected to fail (strictly: once dagkit stops reporting the error, the test fails
#: and the line must go). Shrink this, never grow it without a source showing the platform
#: refuses the payload.
KNOWN_FALSE_ERRORS: dict[str, str] = {}

#: The plainest real payloads: not even a warning (``--strict``). Each group is something the
#: platform and its SDK do routinely, which must get nothing.
STRICT_CLEAN = [
    # a template id; a single partitioner
    "nb-on-demand-jobs-quickstart-c7.request_data.json",
    "sdk-contract-create-job-template.request_data.json",
    "nb-on-demand-jobs-walkthrough-c9.request_data.json",
    "nb-walkthrough-c11.request_data.json",
    "nb-convert-documents-to-stylized-html-using-c11.request_data.json",
    "docs-workflows-vlm.request_data.json",
    # a VLM partitioner with only provider and model; the MCP docstring's auto example
    "nb-rag-for-documentation-c24.request_data.json",
    "nb-s3-to-mongodb-c14.request_data.json",
    "mcp-docstring-auto-partitioner.request_data.json",
    # prompter nodes with settings {}
    "nb-graphrag-for-academic-papers-c12.request_data.json",
    "nb-memorylayer-for-rag-c12.request_data.json",
    "docs-workflows-hi-res-image-description.request_data.json",
    # the settings the platform stored and echoed: nulls for unset options, ids on nodes
    "mcp-custom-workflow-c5-stored.request_data.json",
    "nb-rag-for-documentation-c24-stored.request_data.json",
    "nb-s3-to-qdrant-c31-stored.request_data.json",
    "sdk-integration-custom-dag.request_data.json",
    # lowercase element types ("table", "image"), as the docs' hi_res template writes them
    "mcp-custom-workflow-c5-sent.request_data.json",
    "docs-workflows-hi-res.request_data.json",
    "docs-workflows-hi-res-chunk-by-title-embed.request_data.json",
    # embed subtype openai; Together AI's m2-bert models
    "nb-s3-to-mongodb-c28-stored.request_data.json",
    "nb-agenticrag-with-langgraph-togetherai-c14.request_data.json",
    # answers: get-job, create-job (with output_node_files), list, cancel, templates, workflows
    "nb-on-demand-jobs-quickstart-c9.get-job.response.json",
    "nb-on-demand-jobs-walkthrough-c12.get-job.response.json",
    "sdk-contract-create-job.create-job.response.json",
    "sdk-contract-get-job.get-job.response.json",
    "sdk-contract-list-jobs.list-jobs.response.json",
    "sdk-contract-cancel-job.cancel-job.response.json",
    "sdk-contract-list-templates.list-templates.response.json",
    "sdk-contract-get-template.get-template.response.json",
    "nb-rag-for-documentation-c24.create-workflow.response.json",
    # what the official SDK sends: input_files[] parts; no files, url-encoded
    "sdk-create-job-with-file.http",
    "sdk-create-job-no-files.http",
    "sdk-create-job-two-files-job-nodes.http",
]

#: The docs' known-wrong templates: (code, JSON Pointer) of the one finding each must get.
BROKEN_EXPECTED: dict[str, tuple[str, str]] = {
    # "type": "vlm", "subtype": "partition"
    "docs-workflows-auto-type-subtype-swapped.request_data.json": ("DK203", "/job_nodes/0/type"),
    # the template types an integer setting as <true|false>
    "docs-workflows-hi-res-chunk-by-similarity-bool-in-int.request_data.json": (
        "DK202",
        "/job_nodes/1/settings/new_after_n_chars",
    ),
}


def _errors(findings: list[Finding]) -> list[str]:
    return [f"{f.code} at {f.pointer or '/'}: {f.message}" for f in findings if f.is_error]


def _real(name: str) -> object:
    reason = KNOWN_FALSE_ERRORS.get(name)
    if reason is None:
        return name
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=f"false error: {reason}"))


@pytest.mark.parametrize("name", [_real(p.name) for p in REAL_FILES])
def test_no_real_payload_gets_an_error(name: str) -> None:
    result = validate_file(str(REAL / name))
    assert _errors(result.findings) == []


@pytest.mark.parametrize("name", STRICT_CLEAN)
def test_the_plainest_pass_strict(name: str) -> None:
    result = validate_file(str(REAL / name))
    assert [f"{f.code} at {f.pointer}: {f.message}" for f in result.findings] == []
    assert result.valid(strict=True)


@pytest.mark.parametrize("name", sorted(BROKEN_EXPECTED))
def test_known_broken_docs_templates_are_errors_at_the_right_place(name: str) -> None:
    code, pointer = BROKEN_EXPECTED[name]
    result = validate_file(str(BROKEN / name))
    # that one error, and nothing that follows from it (no "embeds without a chunker" after a swap)
    assert [(f.code, f.pointer, f.severity) for f in result.findings] == [(code, pointer, "error")]


def test_a_type_subtype_swap_is_named_as_such() -> None:
    result = validate_file(
        str(BROKEN / "docs-workflows-auto-type-subtype-swapped.request_data.json")
    )
    assert any("swapped" in f.message for f in result.findings if f.pointer == "/job_nodes/0/type")


def test_every_broken_file_has_an_expectation() -> None:
    assert [p.name for p in _files(BROKEN)] == sorted(BROKEN_EXPECTED)


def test_the_lists_name_real_files() -> None:
    names = {p.name for p in REAL_FILES}
    assert set(KNOWN_FALSE_ERRORS) <= names
    assert set(STRICT_CLEAN) <= names
    assert not set(STRICT_CLEAN) & set(KNOWN_FALSE_ERRORS)


def test_every_file_says_where_it_came_from() -> None:
    listed = re.findall(r"^\| `(real(?:-broken)?/[^`]+)` \| \S", SOURCES.read_text(), re.M)
    on_disk = [f"real/{p.name}" for p in REAL_FILES] + [
        f"real-broken/{p.name}" for p in _files(BROKEN)
    ]
    assert sorted(listed) == sorted(on_disk)
    kinds = {p.name.split(".")[-2] if p.suffix == ".json" else p.suffix for p in REAL_FILES}
    assert len(REAL_FILES) >= 40 and {"request_data", "response", ".http"} <= kinds
    assert sum(p.name.endswith(".request_data.json") for p in REAL_FILES) >= 40


def test_the_cli_passes_the_corpus() -> None:
    """One real process over every file that has no known false error, and --strict over the
    plainest: exit 0."""
    clean = [str(p) for p in REAL_FILES if p.name not in KNOWN_FALSE_ERRORS]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "dagkit", "validate", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )

    done = run(*clean)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1].startswith(f"{len(clean)} files, 0 errors")
    strict = run("--strict", *(str(REAL / name) for name in STRICT_CLEAN))
    assert strict.returncode == 0, strict.stdout


def test_no_file_holds_a_key() -> None:
    """Captures carry the SDK's key header with a placeholder, never a real key."""
    for path in [*REAL_FILES, *_files(BROKEN)]:
        text = path.read_bytes().decode("utf-8", "replace")
        keys = re.findall(r"(?im)^unstructured-api-key:\s*(.*?)\s*$", text)
        assert set(keys) <= {"<api-key>"}, path.name
        secret = re.search(r'(?i)"(?:api_key|provider_api_key|token)": "[^"<]', text)
        assert secret is None, path.name
