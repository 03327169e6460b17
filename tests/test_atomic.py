"""The one atomic writer: whole or nothing, the umask's mode, and the process umask untouched."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from dagkit.core import atomic
from dagkit.errors import DagkitError


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def test_the_process_umask_is_never_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Setting the umask, even to set it back, changes it for every thread in between.
    calls: list[int] = []
    real = os.umask

    def recording(mask: int) -> int:
        calls.append(mask)
        return real(mask)

    monkeypatch.setattr(os, "umask", recording)
    atomic.write_text(tmp_path / "a.json", "{}")
    with atomic.create(tmp_path, binary=True) as pending:
        pending.file.write(b"x")
        pending.commit(tmp_path / "b.bin")
    assert calls == []


def test_the_file_gets_the_mode_a_plain_open_gives(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("")
    atomic.write_text(tmp_path / "atomic", "")
    mode = stat.S_IMODE((tmp_path / "atomic").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert mode == 0o666 & ~_umask()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic.create(tmp_path) as pending:
        pending.file.write("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_an_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DagkitError, match=r"missing/out\.json: cannot write"):
        atomic.write_text(tmp_path / "missing" / "out.json", "{}")


def test_make_parents_creates_the_directory(tmp_path: Path) -> None:
    with atomic.create(tmp_path / "a" / "b", make_parents=True) as pending:
        pending.file.write("ok")
        final = pending.commit(tmp_path / "a" / "b" / "c.txt")
    assert final.read_text() == "ok"


def test_an_existing_temporary_name_is_never_written_through(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("someone else's")
    with pytest.raises(FileExistsError):
        atomic.create(tmp_path, "taken")
    assert (tmp_path / "taken").read_text() == "someone else's"


def test_concurrent_writers_each_put_a_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "shared.txt"
    texts = [str(i) * 1000 for i in range(8)]
    threads = [threading.Thread(target=atomic.write_text, args=(target, t)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["shared.txt"]
