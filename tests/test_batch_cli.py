"""``dagkit batch``: exit codes, output, progress display, Ctrl-C and resume, and the API key
never shown. Against the embedded jobs API over real sockets (in-process and as a subprocess)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from samples import interruptible
from test_batch import FAST, KEY, ROOT, jobs_per_file, make_tree, source

from dagkit.batch import JOURNAL_NAME, REPORT_NAME, Progress
from dagkit.cli import main
from dagkit.cli.batch import _Display, status_line
from dagkit.http.transport import RetryPolicy
from dagkit.server import RunningServer, serve_in_thread


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as s:
        yield s


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNSTRUCTURED_API_KEY", KEY)
    monkeypatch.delenv("UNSTRUCTURED_API_URL", raising=False)
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, failures: 0.0)


def batch(*args: str) -> Result:
    return CliRunner().invoke(main, ["batch", *args], catch_exceptions=False)


def fast_args(server: RunningServer, out: Path) -> list[str]:
    return ["--out", str(out), "--url", server.url, "--min-interval", "0"]


def test_all_done_exits_0_and_prints_a_summary(tmp_path: Path, server: RunningServer) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 12)
    out = tmp_path / "out"
    result = batch(str(source(tmp_path)), str(docs), *fast_args(server, out))
    assert result.exit_code == 0, result.output
    assert "15 file(s): 12 done, 3 skipped; 2 job(s)" in result.output
    assert "skipped: " in result.output and "program.exe" in result.output
    assert f"report: {out / REPORT_NAME}" in result.output
    assert json.loads((out / REPORT_NAME).read_text())["summary"]["done"] == 12
    assert "launched with 10 file(s)" in result.output  # log lines: stderr is not a terminal


def test_failed_files_exit_1_and_retry_failed_sends_only_them(
    tmp_path: Path, server: RunningServer
) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 8, extras=False)
    out = tmp_path / "out"
    fast = source(tmp_path, FAST)
    result = batch(str(fast), str(docs), *fast_args(server, out))
    assert result.exit_code == 1
    assert "failed: " in result.output and "--retry-failed" in result.output
    creates = server.requests("create_job")
    again = batch(str(fast), str(docs), *fast_args(server, out), "--retry-failed")
    assert again.exit_code == 1  # images still cannot go through the fast strategy
    assert server.requests("create_job") == creates + 1  # one job: the two failed files only
    assert sum(jobs_per_file(server).values()) == 8 + 2


def test_json_prints_the_report(tmp_path: Path, server: RunningServer) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 3, extras=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["batch", str(source(tmp_path)), str(docs), *fast_args(server, out), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["complete"] and data["summary"]["done"] == 3
    assert data["report"] == str(out / REPORT_NAME)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{dag}", "{missing}"], "no such file or directory"),
        (["{dag}", "{docs}/*.nothing"], "matches no file"),
        (["{nodag}", "{docs}"], "no such file"),
        (["{docs}"], "at least one INPUT"),
        (["{dag}", "{docs}", "--files-per-job", "11"], "11"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, server: RunningServer, args: list[str], message: str
) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 1, extras=False)
    values = {
        "dag": str(source(tmp_path)),
        "docs": str(docs),
        "missing": str(tmp_path / "missing"),
        "nodag": str(tmp_path / "nodag.json"),
    }
    filled = [a.format(**values) for a in args]
    result = batch(*filled, *fast_args(server, tmp_path / "out"))
    assert result.exit_code == 2
    assert message in result.output
    assert server.requests("create_job") == 0


def test_another_dag_in_the_same_out_dir_exits_2(tmp_path: Path, server: RunningServer) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 1, extras=False)
    out = tmp_path / "out"
    assert batch(str(source(tmp_path)), str(docs), *fast_args(server, out)).exit_code == 0
    result = batch(str(source(tmp_path, FAST, "fast.json")), str(docs), *fast_args(server, out))
    assert result.exit_code == 2 and "another DAG" in result.output


def test_an_unreachable_server_exits_3_and_says_how_to_resume(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    docs = tmp_path / "docs"
    make_tree(docs, 2, extras=False)
    out = tmp_path / "out"
    result = batch(
        str(source(tmp_path)), str(docs), "--out", str(out), "--url", f"http://127.0.0.1:{port}"
    )
    assert result.exit_code == 3
    assert "the same command carries on" in result.output
    report = json.loads((out / REPORT_NAME).read_text())
    assert report["summary"]["pending"] == 2 and not report["complete"]


def test_template_id_takes_every_argument_as_input(tmp_path: Path, server: RunningServer) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 3, extras=False)
    out = tmp_path / "out"
    result = batch(str(docs), "--template-id", "hi_res_partition", *fast_args(server, out))
    assert result.exit_code == 0, result.output
    assert json.loads((out / REPORT_NAME).read_text())["summary"]["done"] == 3


def test_local_runs_on_an_embedded_server(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 2, extras=False)
    out = tmp_path / "out"
    result = batch(str(source(tmp_path)), str(docs), "--out", str(out), "--local")
    assert result.exit_code == 0, result.output
    assert "local jobs API running at" in result.output


def test_ctrl_c_stops_launching_and_the_same_command_resumes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    rels = make_tree(docs, 12, extras=False)
    out = tmp_path / "out"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock=0.05) as server:
        command = [
            sys.executable, "-m", "dagkit", "batch", str(source(tmp_path)), str(docs),
            "--out", str(out), "--url", server.url, "--files-per-job", "2",
            "--min-interval", "0.3",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT), "UNSTRUCTURED_API_KEY": KEY}
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=interruptible,
        )
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if "launched" in line:
                process.send_signal(signal.SIGINT)
                break
        _, rest = process.communicate(timeout=30)
        stderr = "".join(seen) + rest
        assert process.returncode == 130, stderr
        assert "Run the same command to resume" in stderr
        assert "dagkit batch " in stderr and "Traceback" not in stderr
        assert 1 <= server.requests("create_job") < 6
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert sorted(jobs_per_file(server).values()) == [1] * len(rels)


def test_the_api_key_appears_nowhere(tmp_path: Path, server: RunningServer) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 3)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["batch", str(source(tmp_path)), str(docs), *fast_args(server, out), "--api-key", KEY],
    )
    assert result.exit_code == 0
    assert KEY not in result.stdout and KEY not in result.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert (out / JOURNAL_NAME).is_file()


# ----------------------------------------------------------------------------- the display


def progress(**changes: object) -> Progress:
    values: dict[str, object] = {
        "files_total": 100,
        "files_done": 40,
        "files_failed": 2,
        "files_skipped": 3,
        "files_running": 10,
        "files_waiting": 45,
        "jobs_done": 4,
        "jobs_running": 1,
        "jobs_waiting": 5,
        "jobs_failed": 1,
        "elapsed": 20.0,
        "files_per_second": 2.1,
        "seconds_left": 130.0,
        "message": None,
    }
    values.update(changes)
    return Progress(**values)  # type: ignore[arg-type]


def test_status_line_shows_files_jobs_speed_and_time_left() -> None:
    line = status_line(progress())
    assert "files 40 done, 10 running, 45 waiting, 2 failed, 3 skipped" in line
    assert "jobs 4 done, 1 running, 5 waiting, 1 failed" in line
    assert "2.1 files/s" in line and "2m10s left" in line
    assert "-- files/s" in status_line(progress(files_per_second=None, seconds_left=None))


def test_a_terminal_gets_one_line_redrawn_and_trouble_above_it() -> None:
    stream = io.StringIO()
    display = _Display(stream, live=True)
    display.update(progress(message="job x: launched"))
    display.update(progress(message="rate limited", warning=True))
    display.close()
    text = stream.getvalue()
    assert text.count("\r\x1b[K") >= 2 and "rate limited\n" in text
    assert "job x: launched" not in text  # routine events only move the status line
    assert text.endswith("\n")


def test_a_pipe_gets_one_log_line_per_event() -> None:
    stream = io.StringIO()
    display = _Display(stream, live=False)
    display.update(progress(message="job x: launched"))
    display.update(progress())  # a plain update prints nothing
    assert stream.getvalue().count("\n") == 1 and "job x: launched" in stream.getvalue()
    assert "\x1b" not in stream.getvalue()


def test_a_refused_dag_exits_1_and_the_fixed_one_reuses_the_out_dir(
    tmp_path: Path, server: RunningServer
) -> None:
    docs = tmp_path / "docs"
    make_tree(docs, 2, extras=False)
    out = tmp_path / "out"
    bogus = source(tmp_path, FAST.replace('"fast"', '"bogus"'), "bogus.json")
    refused = batch(str(bogus), str(docs), *fast_args(server, out))
    assert refused.exit_code == 1
    assert "DK203" in refused.output and "the same command carries on" in refused.output
    assert server.requests("create_job") == 0
    # nothing was created with the refused DAG, so the out dir is not tied to it
    assert batch(str(source(tmp_path)), str(docs), *fast_args(server, out)).exit_code == 0
