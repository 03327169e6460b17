"""Which leftover part files a download removes: real files, real processes, real clocks."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dagkit.core import partfiles


def ended_pid() -> int:
    """The pid of a process that has ended (its number may be taken again, but rarely at once)."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    return int(done.stdout)


def aged(path: Path, seconds: float) -> float:
    """Make ``path`` last written ``seconds`` ago; that moment."""
    moment = time.time() - seconds
    os.utime(path, (moment, moment), follow_symlinks=False)
    return moment


def test_a_new_name_has_the_shape_the_sweep_looks_for_and_is_never_reused(tmp_path: Path) -> None:
    names = {partfiles.new_name() for _ in range(100)}
    assert len(names) == 100
    for name in names:
        assert name.startswith(f".dagkit-{os.getpid()}-") and name.endswith(".part")
        (tmp_path / name).write_bytes(b"")
    # this process is alive: none of its own part files is taken for a leftover
    assert partfiles.remove_stale(tmp_path) == 0
    assert len(list(tmp_path.iterdir())) == 100


def test_names_keep_their_shape_past_the_end_of_the_serials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partfiles, "_serial", itertools.count(2**64 - 2))
    names = [partfiles.new_name() for _ in range(3)]
    assert len(set(names)) == 3
    assert [n.rsplit("-", 1)[1] for n in names] == [
        "fffffffffffffffe.part",
        "ffffffffffffffff.part",
        "0000000000000000.part",
    ]
    host, pid = partfiles.new_name().split("-")[2], ended_pid()
    for name in names:  # a name of an ended process is swept, whatever its serial
        (tmp_path / name.replace(f"-{os.getpid()}-{host}-", f"-{pid}-{host}-")).write_bytes(b"")
    assert partfiles.remove_stale(tmp_path) == 3


def test_the_part_file_of_an_ended_download_goes_and_every_one_is_counted(tmp_path: Path) -> None:
    host, pid = partfiles.new_name().split("-")[2], ended_pid()
    dead = [tmp_path / f".dagkit-{pid}-{host}-{digit * 16}.part" for digit in "01"]
    for path in dead:
        path.write_bytes(b"partial")
    assert partfiles.remove_stale(tmp_path) == 2
    assert list(tmp_path.iterdir()) == []


def test_an_hour_of_silence_is_the_limit_not_past_it(tmp_path: Path) -> None:
    # older dagkit's names carry no pid: only their age tells
    old = tmp_path / ".dagkit-0123456789abcdef.part"
    old.write_bytes(b"?")
    written = aged(old, 10)
    assert not partfiles.is_stale(old, now=written + partfiles.STALE_AFTER)
    assert partfiles.is_stale(old, now=written + partfiles.STALE_AFTER + 0.5)
    assert partfiles.is_stale(old) is False  # now: ten seconds old
    aged(old, partfiles.STALE_AFTER + 60)
    assert partfiles.is_stale(old)
    assert partfiles.remove_stale(tmp_path) == 1 and not old.exists()


def test_only_regular_files_of_that_shape_are_ever_removed(tmp_path: Path) -> None:
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"yours")
    link = tmp_path / ".dagkit-fedcba9876543210.part"
    link.symlink_to(kept)
    folder = tmp_path / ".dagkit-0000000000000000.part"
    folder.mkdir()
    others = [tmp_path / n for n in (".dagkit-notes.part", ".dagkit-0123456789abcdef.part.bak")]
    for path in others:
        path.write_bytes(b"someone's")
    for path in (link, folder, *others, kept):
        aged(path, 2 * partfiles.STALE_AFTER)
    assert partfiles.remove_stale(tmp_path) == 0
    assert kept.read_bytes() == b"yours" and link.is_symlink() and folder.is_dir()
    assert all(path.exists() for path in others)


def test_a_part_file_that_is_gone_or_a_folder_that_is_not_there_is_no_error(
    tmp_path: Path,
) -> None:
    assert not partfiles.is_stale(tmp_path / ".dagkit-0123456789abcdef.part")
    assert partfiles.remove_stale(tmp_path / "missing") == 0


@pytest.mark.skipif(sys.platform == "win32", reason="pids are not asked after on Windows")
def test_a_live_process_of_this_machine_keeps_its_part_file(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    ) as other:
        try:
            name = partfiles.new_name().replace(f"-{os.getpid()}-", f"-{other.pid}-", 1)
            (tmp_path / name).write_bytes(b"in progress")
            assert partfiles.remove_stale(tmp_path) == 0
        finally:
            other.communicate(b"")
    assert partfiles.remove_stale(tmp_path) == 1
