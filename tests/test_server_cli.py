"""``dagkit serve`` as a real process: it prints its URL, serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner

from dagkit.cli.serve import serve

ROOT = Path(__file__).resolve().parent.parent
URL = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")


@contextmanager
def serving(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """Start ``dagkit serve --port 0 ARGS`` and yield (port, process); stop it with Ctrl-C."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagkit", "serve", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = URL.search(line)
        assert match, line + _rest(proc.stderr)
        yield int(match.group(2)), proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _rest(stream: IO[str] | None) -> str:
    return "" if stream is None else stream.read()


def get(port: int, path: str, key: str | None = "k") -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"unstructured-api-key": key} if key else {})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_serve_prints_its_url_serves_and_exits_0_on_ctrl_c(tmp_path: Path) -> None:
    with serving("--data-dir", str(tmp_path), "--fault", "list_templates:503:1") as (port, proc):
        assert get(port, "/api/v1/templates/")[0] == 503
        status, templates = get(port, "/api/v1/templates/")
        assert status == 200 and templates
        assert get(port, "/api/v1/jobs/", key=None) == (
            401,
            {"detail": "API key is missing, please provide an API key in the header."},
        )
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        err = _rest(proc.stderr)
    assert "Traceback" not in err
    assert "GET /api/v1/templates/ 503" in err and "GET /api/v1/templates/ 200" in err
    assert (tmp_path / "dagkit-server.sqlite3").is_file()  # the data dir is kept


def test_api_key_from_the_environment_is_required_and_never_printed() -> None:
    secret = "sk-serve-0a9f3c"
    with serving("--quiet", env={"DAGKIT_SERVE_API_KEY": secret}) as (port, proc):
        assert get(port, "/api/v1/jobs/", key="other")[0] == 401
        assert get(port, "/api/v1/jobs/", key=secret) == (200, [])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        output = _rest(proc.stdout) + _rest(proc.stderr)
    assert secret not in output
    assert "GET /api/v1/jobs/" not in output  # --quiet


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clock", "soon"], "unknown clock"),
        (["--fault", "create_job"], "OP:KIND"),
        (["--fault", "make_job:500"], "unknown operation"),
        (["--fault", "create_job:418"], "kind must be one of"),
        (["--max-running", "0"], "max-running"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(serve, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_port_in_use_is_a_clear_error() -> None:
    with serving("--quiet") as (port, _proc):
        result = subprocess.run(
            [sys.executable, "-m", "dagkit", "serve", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
