"""``fork_map`` gives what a plain loop gives, whatever its children do, and leaves none behind.

Each test that needs a fork runs in a new interpreter when this one has other threads (a test
suite may keep threads of other tests), since ``fork_map`` (rightly) does not fork beside one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit.core.forkmap import _split, can_fork, fork_map

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork_map forks only where fork is")
ROOT = Path(__file__).resolve().parents[1]


def in_a_fresh_process(check: Callable[[], None]) -> None:
    """Run ``check`` here when no other thread runs (so mutation testing sees what it calls),
    else in a new interpreter, where none does."""
    if can_fork():
        check()
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, __file__, check.__name__]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _reaped(pid: int) -> bool:
    """The child has exited and been waited for: no process, and no zombie, is left."""
    try:
        os.waitpid(pid, os.WNOHANG)  # reaps a zombie here, and says it was one
    except ChildProcessError:
        return True
    return False


@settings(max_examples=25, deadline=None)
@given(items=st.lists(st.integers(), max_size=40), processes=st.integers(1, 5))
def the_results_are_the_loops_in_order(items: list[int], processes: int) -> None:
    assert fork_map(lambda n: (n, n * n), items, processes) == [(n, n * n) for n in items]


@given(items=st.lists(st.integers(), max_size=60), processes=st.integers(1, 8))
def test_the_runs_are_contiguous_and_even(items: list[int], processes: int) -> None:
    runs = _split(items, processes)
    assert [item for run in runs for item in run] == items
    assert len(runs) == min(processes, len(items))
    assert max(map(len, runs), default=0) - min(map(len, runs), default=0) <= 1


def as_many_processes_as_asked() -> None:
    me = os.getpid()
    assert fork_map(lambda _: os.getpid(), list(range(6)), 1) == [me] * 6
    two = fork_map(lambda _: os.getpid(), list(range(6)), 2)
    assert two[:3] == [me] * 3 and len(set(two[3:])) == 1 and me not in two[3:]


def the_work_is_shared_among_processes_and_none_is_left_behind() -> None:
    pids = fork_map(lambda _: os.getpid(), list(range(9)), 3)
    assert pids[:3] == [os.getpid()] * 3  # the parent does the first run itself
    children = set(pids[3:])
    assert len(children) == 2 and os.getpid() not in children
    assert all(_reaped(pid) for pid in children)


def the_first_failing_item_raises_in_the_parent_as_in_a_loop() -> None:
    for failing in ([7], [4, 8], [1, 8], [5]):
        _first_failing_raises(failing)


def _first_failing_raises(failing: list[int]) -> None:
    parent = os.getpid()
    raised_in: list[int] = []

    def check(n: int) -> int:
        if n in failing:
            raised_in.append(os.getpid())  # only the parent's list is seen here
            raise ValueError(n)
        return n

    with pytest.raises(ValueError) as caught:
        fork_map(check, list(range(9)), 3)
    assert caught.value.args == (min(failing),)
    assert raised_in and set(raised_in) == {parent}


def a_child_that_dies_has_its_run_done_by_the_parent() -> None:
    parent = os.getpid()

    def die_in_a_child(n: int) -> int:
        if os.getpid() != parent and n == 5:
            os.kill(os.getpid(), signal.SIGKILL)
        return n * 2

    assert fork_map(die_in_a_child, list(range(9)), 3) == [n * 2 for n in range(9)]


def a_result_a_child_cannot_send_is_made_by_the_parent() -> None:
    made = fork_map(lambda n: lambda: n, list(range(6)), 2)  # a lambda cannot be pickled
    assert [f() for f in made] == list(range(6))


def a_parent_interrupted_while_it_reads_a_child_stops_them_all() -> None:
    with tempfile.TemporaryDirectory() as folder:
        _interrupted(Path(folder), while_reading=True)


def no_fork_while_another_thread_runs() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not can_fork()
        assert fork_map(lambda _: os.getpid(), list(range(6)), 3) == [os.getpid()] * 6
    finally:
        stop.set()
        other.join()
    assert can_fork()


def an_interrupted_parent_stops_and_reaps_its_children() -> None:
    with tempfile.TemporaryDirectory() as folder:
        _interrupted(Path(folder), while_reading=False)


def _interrupted(folder: Path, *, while_reading: bool) -> None:
    """The parent interrupted in its own run, or (by a timer) while it reads a child's answer;
    either way no child is left, and the KeyboardInterrupt is what comes out (not an OSError
    from closing what the interrupted read had closed)."""
    parent = os.getpid()

    def slow_in_children(n: int) -> int:
        if os.getpid() != parent:
            (folder / str(os.getpid())).touch()
            time.sleep(60)
        elif n == 2 and not while_reading:
            while len(list(folder.iterdir())) < 2:  # once both children are at work
                time.sleep(0.01)
            raise KeyboardInterrupt
        return n

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    if while_reading:
        signal.setitimer(signal.ITIMER_REAL, 0.5)  # a timer is not inherited by a forked child
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            fork_map(slow_in_children, list(range(9)), 3)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < 30  # not the children's 60 s
    children = [int(p.name) for p in folder.iterdir()]
    assert children and all(_reaped(pid) for pid in children)


FORKING = [
    the_results_are_the_loops_in_order,
    as_many_processes_as_asked,
    the_work_is_shared_among_processes_and_none_is_left_behind,
    the_first_failing_item_raises_in_the_parent_as_in_a_loop,
    a_child_that_dies_has_its_run_done_by_the_parent,
    a_result_a_child_cannot_send_is_made_by_the_parent,
    an_interrupted_parent_stops_and_reaps_its_children,
    a_parent_interrupted_while_it_reads_a_child_stops_them_all,
    no_fork_while_another_thread_runs,
]


@pytest.mark.parametrize("check", FORKING, ids=lambda check: check.__name__)
def test_forking(check: Callable[[], None]) -> None:
    in_a_fresh_process(check)


if __name__ == "__main__":
    assert can_fork(), "a new interpreter runs no other thread"
    globals()[sys.argv[1]]()
