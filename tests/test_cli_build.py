"""`dagkit build` and `dagkit graph`, through click and through a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagkit.cli import main

GOOD = (
    '{"job_nodes":[{"name":"Partitioner","type":"partition","subtype":"vlm",'
    '"settings":{"is_dynamic":true,"allow_fast":true}}]}'
)
EMBED_FIRST = (
    '{"job_nodes":[{"name":"Partitioner","type":"partition","subtype":"vlm",'
    '"settings":{"is_dynamic":true,"allow_fast":true}},{"name":"Embedder","type":"embed",'
    '"subtype":"azure_openai","settings":{"model_name":"text-embedding-3-large"}},'
    '{"name":"Chunker","type":"chunk","subtype":"chunk_by_page"}]}'
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_build_prints_request_data(tmp_path: Path) -> None:
    src = tmp_path / "job.json"
    src.write_text(GOOD)
    code, out, err = run("build", str(src))
    assert (code, out, err) == (0, GOOD + "\n", "")


def test_build_refuses_a_dag_with_errors_like_a_compiler(tmp_path: Path) -> None:
    src = tmp_path / "job.json"
    src.write_text(EMBED_FIRST)
    code, out, err = run("build", str(src))
    assert code == 1
    assert out == ""
    assert f"{src}:1:233: DK304 error:" in err
    assert f"{src}:1:122: DK305 warning:" in err
    assert 'job_nodes[1] "Embedder"' in err and "hint:" in err
    assert "not built: 1 error(s)" in err


def test_build_missing_source_is_a_usage_error(tmp_path: Path) -> None:
    code, out, err = run("build", str(tmp_path / "missing.json"))
    assert code == 2 and out == ""
    assert "no such file" in err and "Traceback" not in err


def test_graph_formats(tmp_path: Path) -> None:
    src = tmp_path / "job.json"
    src.write_text(EMBED_FIRST)
    assert run("graph", str(src))[1].startswith("Partitioner (partition/vlm)\n")
    assert run("graph", str(src), "--format", "mermaid")[1].startswith("flowchart LR")
    assert run("graph", str(src), "--format", "dot")[1].startswith("digraph job {")
    assert run("graph", str(src), "--format", "png")[0] == 2


def test_graph_of_a_template_job(tmp_path: Path) -> None:
    src = tmp_path / "t.json"
    src.write_text('{"template_id":"hi_res_partition"}')
    assert run("graph", str(src))[1] == "template job: hi_res_partition\n"


def test_version_and_help_in_a_real_process() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "dagkit", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.startswith("dagkit, version ")
    helptext = subprocess.run(
        [sys.executable, "-m", "dagkit", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("build", "graph", "validate", "schemas"):
        assert command in helptext.stdout


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagkit.cli._terminal import colour_ok

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_ok(Terminal()) and not colour_ok(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_ok(Terminal())
