"""schemathesis, driven by the jobs API's OpenAPI document, finds no failure in ``dagkit serve``.

Its command line runs against a server in this process: the examples, coverage (missing bodies,
wrong media types, unsupported methods, boundary values) and fuzzing phases of every jobs and
templates operation, with a bounded number of examples and deterministic generation, so the run
is the same every time. A real job's id, file id and a real template id are given as parameter
values, so the job operations are driven past their 404s. The checks are those an API owes its
spec: no server error, only documented status codes, the documented content type, bodies that
match their schema.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagkit.client.jobs import JobsClient
from dagkit.server import serve_in_thread

SPEC = Path(__file__).resolve().parent.parent / "schemas" / "openapi" / "jobs-api.openapi.json"
KEY = "schemathesis-key-3Rm8"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)

pytest.importorskip("schemathesis", reason="schemathesis is in the test extra")


def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        sample = tmp_path / "notes.txt"
        sample.write_text("Notes\n\nA paragraph.\n")
        job = JobsClient(url=server.url, api_key=KEY).create_job(
            '{"template_id": "hi_res_partition"}', [sample]
        )
        assert job.input_file_ids
        # read from the working directory: real values for the parameters that name things
        (tmp_path / "schemathesis.toml").write_text(
            "[parameters]\n"
            f'"path.job_id" = "{job.id}"\n'
            f'"query.file_id" = "{job.input_file_ids[0]}"\n'
            '"path.template_id" = "hi_res_and_enrichment"\n'
        )
        done = subprocess.run(
            [
                sys.executable,  # the command, from the environment this test runs in
                "-m",
                "schemathesis.cli",
                "run",
                str(SPEC),
                # the workflow operations, with workflow ids of their own, are driven by
                # tests/test_workflows_schemathesis.py
                "--exclude-tag",
                "workflows",
                "--url",
                server.url,
                "--header",
                f"unstructured-api-key: {KEY}",
                "--checks",
                ",".join(CHECKS),
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "10",
                "--generation-deterministic",  # the same cases every run, and no database
                "--workers",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,  # its configuration, and whatever it writes, are in the test's directory
            timeout=300,
        )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Configuration:" in done.stdout and "schemathesis.toml" in done.stdout
    assert "Coverage" in done.stdout and "Fuzzing" in done.stdout
    assert "returned 404" not in done.stdout, done.stdout[-3000:]  # the real ids were used
