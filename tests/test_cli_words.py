"""The words the CLI answers with: mistyped commands, wrong API URLs, long lists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagkit.cli import main

ROOT = Path(__file__).resolve().parent.parent


def dagkit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("UNSTRUCTURED_")}
    environ.update(PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "dagkit", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (["sumbit"], "submit"),
        (["valdate"], "validate"),
        (["jobs", "lst"], "list"),
        (["workflows", "lst"], "list"),
        (["schemas", "lsit"], "list"),
    ],
)
def test_a_mistyped_command_gets_the_closest_name(typed: list[str], meant: str) -> None:
    result = CliRunner().invoke(main, typed)
    assert result.exit_code == 2
    assert f'did you mean "{meant}"?' in result.output


def test_a_command_like_nothing_points_at_help() -> None:
    result = CliRunner().invoke(main, ["zzzzzz"])
    assert result.exit_code == 2
    assert "did you mean" not in result.output
    assert "dagkit --help" in result.output


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/api/v1/jobs",
        "http://127.0.0.1:9/api/v1/jobs/",
        "http://127.0.0.1:9/api",
        "https://platform.unstructuredapp.io/api/v2",
    ],
)
def test_a_url_inside_the_api_asks_for_the_server_root_naming_the_flag(url: str) -> None:
    result = dagkit("jobs", "list", "--url", url, env={"UNSTRUCTURED_API_KEY": "key-1234"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--url" in result.stderr
    assert "give the server root, e.g. https://platform.unstructuredapp.io" in result.stderr
    assert "404" not in result.stderr
    assert ".." not in result.stderr


def test_a_url_inside_the_api_names_the_variable_it_came_from() -> None:
    env = {"UNSTRUCTURED_API_KEY": "key-1234", "UNSTRUCTURED_API_URL": "http://127.0.0.1:9/api"}
    result = dagkit("jobs", "get", "0b7d3f1e-0000-4000-8000-000000000000", env=env)
    assert result.returncode == 2
    assert "UNSTRUCTURED_API_URL" in result.stderr
    assert "--url" not in result.stderr
    assert "give the server root" in result.stderr


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9", "http://127.0.0.1:9/api/v1/", "http://127.0.0.1:9/proxy/uns"]
)
def test_a_root_or_api_url_is_still_taken(url: str) -> None:
    from dagkit.http.transport import normalize_base_url

    assert normalize_base_url(url).endswith("/api/v1")


def test_an_unknown_setting_lists_the_first_few_allowed_and_how_many_more(
    tmp_path: Path,
) -> None:
    source = tmp_path / "pipeline.py"
    source.write_text(
        "from dagkit.model import nodes\n\ndag = nodes.Partition.hi_res(no_such_setting=1)\n"
    )
    result = dagkit("build", str(source))
    assert result.returncode != 0
    assert "more)" in result.stderr, result.stderr
    assert ".." not in result.stderr.replace("…", "")


def test_a_404_whose_detail_ends_a_sentence_gets_no_double_period() -> None:
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"detail": "Job not found."}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = {"UNSTRUCTURED_API_KEY": "key-1234"}
        result = dagkit(
            "jobs", "get", "0b7d3f1e-0000-4000-8000-000000000000", "--url", url, env=env
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 3
    assert "Job not found" in result.stderr
    assert ".." not in result.stderr


@pytest.mark.parametrize(
    "args", [["validate", "--operation", "get_jb", "x.json"], ["serve", "--fault", "get_jb:503"]]
)
def test_a_mistyped_operation_gets_the_closest_and_no_long_list(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert 'did you mean "get_job"?' in result.output
    assert "run_workflow" not in result.output


@pytest.mark.parametrize(
    "command",
    [["build"], ["graph"], ["submit", "--dry-run"], ["workflows", "create", "--name", "x"]],
)
def test_a_source_that_does_not_load_gets_no_usage_banner(
    tmp_path: Path, command: list[str]
) -> None:
    source = tmp_path / "pipeline.py"
    source.write_text("from dagkit.model import nodes\n\ndag = nodes.Partition.hi_res(bogus=1)\n")
    result = dagkit(*command[:2], str(source), *command[2:], env={"UNSTRUCTURED_API_KEY": "k-12"})
    assert result.returncode == 1, result.stderr
    assert "Usage:" not in result.stderr and "Try '" not in result.stderr
    assert f"{source}:3:" in result.stderr
    assert result.stderr.count(str(source)) == 1  # the place once, not "x.py: x.py:3: ..."
