"""The one file lock: held by one process at a time, its holder named to the one turned away,
gone with its process (even a killed one)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dagkit.core.filelock import hold
from dagkit.errors import Advice, AdviceKind, DataDirError, JournalError

BATCH_RUNNING = Advice.of(AdviceKind.BATCH_RUNNING)
SERVER_RUNNING = Advice.of(AdviceKind.SERVER_RUNNING)

ROOT = Path(__file__).resolve().parent.parent

_HOLDER = """
import sys
from dagkit.core.filelock import hold
from dagkit.errors import Advice, AdviceKind
lock = hold(sys.argv[1], user="another test", advice=Advice.of(AdviceKind.BATCH_RUNNING))
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def held_elsewhere(path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock on ``path`` until the block ends."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "held\n"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_a_held_lock_names_its_holder_and_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "out.lock"
    with held_elsewhere(path) as holder, pytest.raises(JournalError) as caught:
        hold(path, user="another dagkit batch", advice=BATCH_RUNNING, error=JournalError)
    message = str(caught.value)
    assert message.startswith(f"another dagkit batch is using {tmp_path} (process {holder.pid} ")
    assert f"holding {path}). Wait for it to finish, or use another output folder" in message
    assert caught.value.advice == (BATCH_RUNNING,)


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "data.lock"
    with held_elsewhere(path) as holder:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        with hold(path, user="another dagkit server", advice=SERVER_RUNNING) as lock:
            assert lock.held
            assert f'"pid": {os.getpid()}' in path.read_text()


def test_one_process_cannot_hold_it_twice_and_release_frees_it(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first = hold(path, user="another dagkit server", advice=SERVER_RUNNING, error=DataDirError)
    with pytest.raises(DataDirError, match=r"another dagkit server is using .*\. Stop it"):
        hold(path, user="another dagkit server", advice=SERVER_RUNNING, error=DataDirError)
    first.release()
    first.release()  # a second release does nothing
    assert not first.held
    assert path.read_text() == ""  # no holder named once it let go
    hold(path, user="another dagkit server", advice=SERVER_RUNNING).release()


def test_a_holder_that_named_nobody_is_still_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "old.lock"
    with held_elsewhere(path):
        path.write_text("")  # as a lock file of an older dagkit: no holder written
        with pytest.raises(JournalError) as caught:
            hold(path, user="another dagkit batch", advice=BATCH_RUNNING, error=JournalError)
    assert caught.value.unadvised == f"another dagkit batch is using {tmp_path} (it holds {path})."


def test_a_lock_file_that_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(DataDirError, match="cannot open the lock file"):
        hold(tmp_path, user="x", advice=SERVER_RUNNING, error=DataDirError)  # a directory
