"""The paths a user takes when something goes wrong, run as the user types them: partial
failures keep what succeeded, Ctrl-C says what happened to the job, problems are found before
anything is sent, and every command follows one exit-code contract (with ``--json`` errors)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from samples import interruptible

from dagkit import Partition
from dagkit.cli import main
from dagkit.cli._common import CLI_WORDS
from dagkit.client.jobs import JobsClient
from dagkit.errors import (
    ConnectError,
    ExitCode,
    OutputsFailed,
    SourceError,
    UsageError,
    ValidationFailed,
    WaitTimeout,
    exit_code,
)
from dagkit.server import RunningServer, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
KEY = "paths-test-key-0123456789"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # the fast strategy cannot process images: it fails


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with a one-node DAG, a text file the job processes and an image it fails."""
    (tmp_path / "fast.py").write_text("from dagkit import Partition\n\ndag = Partition.fast()\n")
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "scan.png").write_bytes(PNG)
    return tmp_path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "data"
    ) as s:
        yield s


def dagkit(*args: str | Path, cwd: Path, key: str | None = KEY, timeout: float = 60) -> Any:
    """``dagkit ARGS`` in a new process, as typed in a shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNSTRUCTURED_")}
    env["PYTHONPATH"] = str(ROOT)
    if key is not None:
        env["UNSTRUCTURED_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "dagkit", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def invoke(*args: str | Path, key: str | None = KEY) -> Any:
    env = {"UNSTRUCTURED_API_KEY": key} if key else {"UNSTRUCTURED_API_KEY": ""}
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


# ----------------------------------------------------------------------------- partial failures


def test_submit_download_saves_every_output_there_is(work: Path) -> None:
    result = dagkit(
        "submit", "fast.py", "scan.png", "notes.txt", "--local", "--download", "out", cwd=work
    )
    assert result.returncode == ExitCode.INVALID, result.stderr
    assert (work / "out" / "notes.txt.json").is_file()  # the good output is kept
    assert sorted(p.name for p in (work / "out").iterdir()) == ["notes.txt.json"]
    assert "saved out/notes.txt.json" in result.stdout
    assert "1 of 2 file(s) failed" in result.stderr
    assert "scan.png: The fast strategy is not available for image files" in result.stderr
    # the old failure was "... failed with 404 ..."; a random job id may well contain "404"
    assert "failed with 404" not in result.stderr and "Traceback" not in result.stderr


def test_jobs_download_saves_the_rest_and_lists_the_failed_files(
    work: Path, server: RunningServer
) -> None:
    client = JobsClient(url=server.url, api_key=KEY)
    [job] = client.create_jobs(Partition.fast(), [work / "scan.png", work / "notes.txt"])
    job = client.wait(job, poll_initial=0.01)
    out = work / "got"
    result = invoke("jobs", "download", job.id, "--dest", out, "--url", server.url)
    assert result.exit_code == ExitCode.INVALID, result.output
    assert len(list(out.iterdir())) == 1  # the output of notes.txt
    assert "failed scan.png: The fast strategy" in result.stderr
    as_json = invoke("jobs", "download", job.id, "--dest", out, "--url", server.url, "--json")
    error = json.loads(as_json.stdout)["error"]
    assert (error["type"], error["exit_code"]) == ("OutputsFailed", 1)
    assert [f["document"] for f in error["failed_files"]] == ["scan.png"]
    assert len(error["saved"]) == 1


def test_jobs_download_one_failed_file_gives_the_reason_and_exits_1(
    work: Path, server: RunningServer
) -> None:
    client = JobsClient(url=server.url, api_key=KEY)
    [job] = client.create_jobs(Partition.fast(), [work / "scan.png", work / "notes.txt"])
    job = client.wait(job, poll_initial=0.01)
    scan, notes = job.input_file_ids or []
    out = work / "one.json"
    one = ["--out", str(out), "--url", server.url]
    failed = invoke("jobs", "download", job.id, "--file-id", scan, *one)
    assert failed.exit_code == ExitCode.INVALID, failed.output
    assert "failed scan.png: The fast strategy is not available for image files" in failed.stderr
    assert "Check the id" not in failed.stderr and not out.exists()
    as_json = invoke("jobs", "download", job.id, "--file-id", scan, *one, "--json")
    error = json.loads(as_json.stdout)["error"]
    assert (error["type"], error["exit_code"]) == ("OutputsFailed", 1)
    assert error["failed_files"] == [
        {"document": "scan.png", "error": "The fast strategy is not available for image files"}
    ]
    # a good file is saved; an id the job does not have is still the server's 404 (exit 3)
    good = invoke("jobs", "download", job.id, "--file-id", notes, *one)
    assert good.exit_code == ExitCode.OK and out.is_file(), good.output
    unknown = invoke(
        "jobs", "download", job.id, "--file-id", "nope-12345678.pdf", "--out", work / "x.json",
        "--url", server.url,
    )  # fmt: skip
    assert unknown.exit_code == ExitCode.NETWORK, unknown.output
    assert "404" in unknown.stderr and "Check the id" in unknown.stderr


def test_download_all_raises_after_saving_the_good_outputs(
    work: Path, server: RunningServer
) -> None:
    client = JobsClient(url=server.url, api_key=KEY)
    [job] = client.create_jobs(Partition.fast(), [work / "scan.png", work / "notes.txt"])
    job = client.wait(job, poll_initial=0.01)
    with pytest.raises(OutputsFailed) as caught:
        client.download_all(job, work / "out")
    assert [p.name for p in caught.value.saved] == ["notes.txt.json"]
    assert [(f.document, f.error) for f in caught.value.failed] == [
        ("scan.png", "The fast strategy is not available for image files")
    ]
    assert (work / "out" / "notes.txt.json").is_file()


def test_submit_wait_reports_a_job_whose_files_all_failed(work: Path) -> None:
    result = dagkit("submit", "fast.py", "scan.png", "--local", "--wait", cwd=work)
    assert result.returncode == ExitCode.INVALID, result.stderr
    assert "ended COMPLETED, but 1 of 1 file(s) failed" in result.stderr
    assert "scan.png: The fast strategy is not available" in result.stderr
    as_json = dagkit("submit", "fast.py", "scan.png", "--local", "--wait", "--json", cwd=work)
    assert as_json.returncode == ExitCode.INVALID
    [job] = json.loads(as_json.stdout)["jobs"]
    assert [f["document"] for f in job["failed_files"]] == ["scan.png"]


def test_batch_refuses_two_inputs_with_one_output_path(work: Path) -> None:
    for root in ("r1", "r2"):
        (work / root).mkdir()
        (work / root / "same.txt").write_text(f"from {root}\n")
    result = dagkit("batch", "fast.py", "r1", "r2", "--local", "--out", "out", cwd=work)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "r1/same.txt and r2/same.txt both mirror to 'same.txt'" in result.stderr
    assert not (work / "out" / "dagkit-batch-report.json").exists()  # nothing half done
    # given as one input, the two files have different output paths: both are processed
    whole = dagkit("batch", "fast.py", ".", "--local", "--out", "out2", cwd=work)
    report = json.loads((work / "out2" / "dagkit-batch-report.json").read_text())
    paths = {f["path"]: f["state"] for f in report["files"]}
    assert paths["r1/same.txt"] == paths["r2/same.txt"] == "done", whole.stderr


# ----------------------------------------------------------------------------- Ctrl-C


def _spawn(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNSTRUCTURED_")}
    env.update(PYTHONPATH=str(ROOT), UNSTRUCTURED_API_KEY=KEY)
    return subprocess.Popen(
        [sys.executable, "-m", "dagkit", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=interruptible,
    )


def test_ctrl_c_while_waiting_names_the_job_and_how_to_follow_it(
    work: Path, tmp_path: Path
) -> None:
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="manual") as server:
        process = _spawn(["submit", "fast.py", "notes.txt", "--wait", "--url", server.url], work)
        assert process.stderr is not None
        seen = []
        for line in process.stderr:  # the job never moves: the clock is manual
            seen.append(line)
            if ": SCHEDULED" in line:
                process.send_signal(signal.SIGINT)
                break
        _, rest = process.communicate(timeout=30)
    stderr = "".join(seen) + rest
    job_id = seen[-1].split()[1].rstrip(":")
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert f"job {job_id} keeps running on the server" in stderr
    assert f"dagkit jobs wait {job_id}" in stderr
    assert "Aborted!" not in stderr and "Traceback" not in stderr


def test_ctrl_c_in_jobs_wait_says_the_job_keeps_running(work: Path) -> None:
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="manual") as server:
        [job] = JobsClient(url=server.url, api_key=KEY).create_jobs(
            Partition.fast(), [work / "notes.txt"]
        )
        process = _spawn(["jobs", "wait", job.id, "--url", server.url], work)
        assert process.stderr is not None
        for line in process.stderr:
            if ": SCHEDULED" in line:
                process.send_signal(signal.SIGINT)
                break
        _, stderr = process.communicate(timeout=30)
        # and a bounded wait that runs out exits 4, whichever command waits
        timed = dagkit(
            "jobs", "wait", job.id, "--url", server.url, "--wait-timeout", "0.5", cwd=work
        )
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert f"job {job.id} keeps running" in stderr and f"dagkit jobs wait {job.id}" in stderr
    assert timed.returncode == ExitCode.WAIT_TIMEOUT, timed.stderr
    assert f"dagkit jobs wait {job.id}" in timed.stderr


class SlowServer:
    """A loopback server that reads a request's first bytes, says so, then stops reading: an
    upload to it blocks, as one to a slow network does."""

    def __init__(self, first_bytes: int = 64 * 1024) -> None:
        self.first_bytes = first_bytes
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.receiving = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            got = 0
            while got < self.first_bytes:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                got += len(chunk)
            self.receiving.set()
            self.done.wait(30)

    def close(self) -> None:
        self.done.set()
        self.sock.close()


def test_ctrl_c_during_an_upload_says_a_job_may_exist(work: Path) -> None:
    (work / "big.txt").write_bytes(b"words and more words\n" * 400_000)  # 8.4 MB
    slow = SlowServer()
    try:
        process = _spawn(["submit", "fast.py", "big.txt", "--url", slow.url], work)
        assert slow.receiving.wait(30), "the upload never started"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        slow.close()
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert "interrupted while sending: a job may have been created" in stderr
    assert "dagkit jobs list" in stderr
    assert "Aborted!" not in stderr and "Traceback" not in stderr


THREE_JOBS = """from dagkit import Chunk, JobDAG, Partition

dag = JobDAG()
(partitioner,) = dag.add_chain(Partition.fast())
for size in (500, 1000, 2000):
    dag.add_chain(Chunk.by_title(max_characters=size, name=f"By {size}"), after=partitioner)
"""


def _until(condition: Callable[[], bool], process: subprocess.Popen[str]) -> None:
    """Wait (at most a minute) for ``condition``; fail if the process ends first."""
    for _ in range(6000):
        if condition():
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    raise AssertionError("the condition never held")


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_ctrl_c_during_the_second_upload_names_the_jobs_that_exist(
    work: Path, as_json: bool
) -> None:
    """A DAG that plans three jobs, interrupted while the second is being sent: the first
    exists (its id, and how to follow it), the second may (how to check), the third was not
    sent."""
    (work / "three.py").write_text(THREE_JOBS)
    (work / "big.txt").write_bytes(b"words and more words\n" * 300_000)  # 6.3 MB: fills buffers
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="manual") as server:
        # the second request is not read: its upload blocks, as on a slow network
        server.faults.inject("create_job", "stall", after=1)
        args = ["submit", "three.py", "big.txt", "--url", server.url]
        process = _spawn([*args, "--json"] if as_json else args, work)
        _until(lambda: server.requests("create_job") == 2, process)
        process.send_signal(signal.SIGINT)
        out, stderr = process.communicate(timeout=30)
        [first] = JobsClient(url=server.url, api_key=KEY).list_jobs()
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    assert "Aborted!" not in stderr and "Traceback" not in stderr
    if as_json:
        error = json.loads(out)["error"]
        assert (error["type"], error["exit_code"]) == ("JobsInterrupted", 130)
        assert [job["id"] for job in error["jobs"]] == [first.id]
        assert (error["in_doubt"], error["planned"]) == (2, 3)
        message, notes = error["message"], error["notes"]
    else:
        [message] = [line for line in stderr.splitlines() if line.startswith("error: ")]
        message = message.removeprefix("error: ")
        notes = [line.removeprefix("note: ") for line in stderr.splitlines() if "note:" in line]
    assert message == "interrupted while sending job 2 of 3: it may have been created"
    assert notes[0].startswith("check with `dagkit jobs list` for a job created since ")
    assert notes[1:] == [
        f"follow job {first.id} with `dagkit jobs wait {first.id}`",
        "job 3 of 3 was not sent",
    ]


def test_an_interrupted_submission_says_what_was_not_sent() -> None:
    from dagkit.client.jobs import JobInfo
    from dagkit.errors import JobsInterrupted

    between = JobsInterrupted([JobInfo("a")], sending=False, planned=4)
    assert str(between) == "interrupted: job a keeps running on the server"
    assert between.__notes__ == [
        "follow job a with JobsClient.wait('a')",
        "jobs 2 to 4 of 4 were not sent",
    ]
    assert between.notes(CLI_WORDS)[0] == "follow job a with `dagkit jobs wait a`"
    first = JobsInterrupted(sending=True, planned=2)
    assert str(first) == "interrupted while sending job 1 of 2: it may have been created"
    assert first.__notes__[-1] == "job 2 of 2 was not sent" and first.in_doubt == 1
    assert exit_code(between) == ExitCode.INTERRUPTED and isinstance(first, KeyboardInterrupt)


# ----------------------------------------------------------------------------- before sending


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Path]:
    """A folder of the test's own that this user cannot write. An ordinary user: mode 0500.
    Root writes through any mode, so for root (as CI runs) it is a read-only tmpfs mounted on
    it, else the folder made immutable (``chattr +i``); a container that allows neither gets
    /proc/sys/kernel, which the kernel lets nobody write into, root included."""
    folder = tmp_path / "locked"
    folder.mkdir()
    undo: list[str] = []
    if os.geteuid() != 0:
        folder.chmod(0o500)
        undo = ["chmod", "700", str(folder)]
    elif _run("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)):
        undo = ["umount", "-l", str(folder)]
    elif _run("chattr", "+i", str(folder)):
        undo = ["chattr", "-i", str(folder)]
    else:
        folder = Path("/proc/sys/kernel")
    try:
        assert not os.access(folder, os.W_OK), f"{folder} is writable: the test would prove nothing"
        yield folder
    finally:
        if undo:
            subprocess.run(undo, check=False, capture_output=True)


def _run(*command: str) -> bool:
    """Whether ``command`` ran and succeeded (a missing tool or a refusal: False)."""
    try:
        return subprocess.run(command, capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.mark.parametrize("where", ["locked folder", "/proc/sys"])
def test_an_unwritable_download_folder_is_found_before_sending(
    work: Path, server: RunningServer, locked: Path, where: str
) -> None:
    """Whoever runs it, root included: a folder the user cannot write, and a folder that would
    have to be made in one, exit 2 before anything is sent."""
    folder = locked if where == "locked folder" else Path("/proc/sys")
    for dest in (folder, folder / "dagkit-out"):
        result = invoke(
            "submit", work / "fast.py", work / "notes.txt", "--url", server.url, "--out", dest
        )
        assert result.exit_code == ExitCode.USAGE, result.output
        assert f"{folder} cannot be written; nothing was sent" in result.stderr
        assert not dest.exists() or dest == folder
    assert server.requests("create_job") == 0


def test_a_download_folder_under_a_file_is_found_before_sending(
    work: Path, server: RunningServer
) -> None:
    (work / "file").write_text("x")
    result = invoke(
        "submit",
        work / "fast.py",
        work / "notes.txt",
        "--url",
        server.url,
        "--download",
        work / "file" / "x",
    )
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "is not a folder" in result.stderr
    assert server.requests("create_job") == 0


def test_a_missing_api_key_is_found_before_sending(work: Path, server: RunningServer) -> None:
    result = invoke("submit", work / "fast.py", work / "notes.txt", "--url", server.url, key=None)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "no API key" in result.stderr and "UNSTRUCTURED_API_KEY" in result.stderr
    assert server.requests("create_job") == 0


# ----------------------------------------------------------------------------- the contract


def test_exit_code_maps_each_kind_of_error() -> None:
    from dagkit.client.jobs import JobInfo

    assert exit_code(ValidationFailed("x", [])) == ExitCode.INVALID
    assert exit_code(SourceError("x")) == ExitCode.INVALID
    assert exit_code(SourceError("x", missing=True)) == ExitCode.USAGE
    assert exit_code(UsageError("x")) == ExitCode.USAGE
    assert exit_code(ConnectError("x")) == ExitCode.NETWORK
    assert exit_code(WaitTimeout("x", JobInfo("j"))) == ExitCode.WAIT_TIMEOUT
    assert exit_code(KeyboardInterrupt()) == ExitCode.INTERRUPTED


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_row_of_the_exit_code_table(work: Path, tmp_path: Path) -> None:
    (work / "package.json").write_text('{"name": "x", "version": "1.0.0"}\n')
    (work / "bad.py").write_text("from dagkit import Partition\n\ndag = Partition.fast(bogus=1)\n")
    (work / "bad.json").write_text(
        '{"job_type": "ephemeral", "job_nodes": [{"name": "p", "type": "partition",'
        ' "subtype": "unstructured_api", "settings": {"strategy": "fast", "bogus": 1}}]}\n'
    )
    down = f"http://127.0.0.1:{_unused_port()}"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="manual") as manual:
        waits = ["--url", manual.url, "--wait", "--wait-timeout", "0.5"]
        rows = [
            (ExitCode.OK, ["build", "fast.py"]),
            (ExitCode.INVALID, ["build", "package.json"]),
            (ExitCode.INVALID, ["validate", "package.json"]),
            (ExitCode.INVALID, ["build", "bad.py"]),
            (ExitCode.INVALID, ["submit", "bad.py", "notes.txt", "--url", down]),
            (ExitCode.INVALID, ["submit", "bad.json", "notes.txt", "--url", down]),
            (ExitCode.USAGE, ["build", "missing.json"]),
            (ExitCode.USAGE, ["submit", "fast.py", "--bogus-option"]),
            (ExitCode.NETWORK, ["submit", "fast.py", "notes.txt", "--url", down]),
            (ExitCode.WAIT_TIMEOUT, ["submit", "fast.py", "notes.txt", *waits]),
        ]  # fmt: skip
        for code, args in rows:
            result = dagkit(*args, cwd=work)
            assert result.returncode == code, (args, result.stdout, result.stderr)
            assert "Traceback" not in result.stderr
    # 130, interrupted: see the Ctrl-C tests above


def test_a_wait_timeout_is_not_a_network_error(work: Path) -> None:
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="manual") as manual:
        result = dagkit(
            "submit", "fast.py", "notes.txt", "--url", manual.url, "--wait",
            "--wait-timeout", "0.5", "--json",
            cwd=work,
        )  # fmt: skip
    error = json.loads(result.stdout)["error"]
    assert (error["type"], error["exit_code"]) == ("JobWaitTimeout", 4)
    assert "reached_server" not in error
    assert error["job"]["status"] == "SCHEDULED"
    assert "dagkit jobs wait" in error["message"]


def test_a_wait_timeout_alone_waits(work: Path) -> None:
    """--wait-timeout without --wait used to create the job and exit 0 without waiting."""
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="manual") as manual:
        result = dagkit(
            "submit", "fast.py", "notes.txt", "--url", manual.url, "--wait-timeout", "0.5",
            cwd=work,
        )  # fmt: skip
    assert result.returncode == ExitCode.WAIT_TIMEOUT, (result.stdout, result.stderr)
    assert "dagkit jobs wait" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "kind"),
    [
        (["submit", "missing.py"], 2, "SourceError"),
        (["submit", "syntax.py"], 1, "SourceError"),
        (["submit", "bad.py"], 1, "SourceError"),
        (["submit", "fast.py", "--no-such-option"], 2, "NoSuchOption"),
        (["jobs", "get"], 2, "MissingParameter"),
        (["batch", "bad.py", "notes.txt", "--out", "o"], 1, "SourceError"),
        (["workflows", "create", "bad.py", "--name", "w"], 1, "SourceError"),
        (["workflows", "create", "missing.json", "--name", "w"], 2, "SourceError"),
    ],
)
def test_json_errors_for_every_failure(work: Path, args: list[str], code: int, kind: str) -> None:
    (work / "syntax.py").write_text("def (\n")
    (work / "bad.py").write_text("from dagkit import Partition\n\ndag = Partition.fast(bogus=1)\n")
    result = dagkit(*args, "--json", cwd=work)
    assert result.returncode == code, result.stderr
    error = json.loads(result.stdout)["error"]
    assert (error["type"], error["exit_code"]) == (kind, code)
    assert error["message"]


def test_ctrl_c_under_json_is_a_json_error(work: Path) -> None:
    """A command with no job to speak of, waiting for an answer that does not come: Ctrl-C
    exits 130 and, under --json, prints an error object."""
    slow = SlowServer(first_bytes=1)
    try:
        process = _spawn(["jobs", "list", "--url", slow.url, "--json"], work)
        assert slow.receiving.wait(30), "the request never came"
        process.send_signal(signal.SIGINT)
        out, stderr = process.communicate(timeout=30)
    finally:
        slow.close()
    assert process.returncode == ExitCode.INTERRUPTED, stderr
    error = json.loads(out)["error"]
    assert (error["message"], error["exit_code"]) == ("interrupted", 130)
