"""Map a function over many items with forked copies of this process, at no start-up cost.

A forked child inherits every module already imported, so it starts working at once (a
``multiprocessing`` pool takes ~35 ms to start its workers and hand them tasks). The items are
cut into one contiguous run per process; the parent does the first run itself while the
children do theirs, then reads their results back in order.

Nothing a child does can change the outcome: a child that fails in any way (an exception, a
result that cannot be pickled, a signal) sends nothing, and the parent does that run itself.
So an exception is always raised by the parent, for the first item that raises it, as a plain
loop would; the only difference from the loop is the speed.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


def can_fork() -> bool:
    """Forking is safe here: the platform has it and no other thread runs (a thread holding a
    lock at the fork would leave the child's copy of that lock held forever)."""
    if not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def fork_map(function: Callable[[_T], _R], items: Sequence[_T], processes: int) -> list[_R]:
    """``[function(item) for item in items]``, computed by up to ``processes`` processes."""
    runs = _split(items, processes)
    if len(runs) < 2 or not can_fork():
        return [function(item) for item in items]
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe), in the order of runs
    try:
        for run in runs[1:]:
            children.append(_start(function, run))
        results = [function(item) for item in runs[0]]
        for run in runs[1:]:
            got: list[_R] | None = _collect(*children[0])
            del children[0]
            results += got if got is not None else [function(item) for item in run]
        return results
    finally:
        for pid, read_end in children:  # only when the parent raised: stop what is left
            # each may already be done (closed, exited, reaped) when the parent was interrupted
            with contextlib.suppress(OSError):
                os.close(read_end)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)


def _split(items: Sequence[_T], processes: int) -> list[Sequence[_T]]:
    count = max(1, min(processes, len(items)))
    size, extra = divmod(len(items), count)
    runs, start = [], 0
    for n in range(count):
        end = start + size + (1 if n < extra else 0)
        runs.append(items[start:end])
        start = end
    return [run for run in runs if run]


def _start(function: Callable[[_T], _R], run: Sequence[_T]) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, and leave without running the parent's exit code
        status = 1
        try:
            os.close(read_end)
            data = pickle.dumps([function(item) for item in run], pickle.HIGHEST_PROTOCOL)
            with open(write_end, "wb") as pipe:
                pipe.write(data)
            status = 0
        except BaseException:  # the parent redoes this run, and raises there if it must
            pass
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, read_end: int) -> list[_R] | None:
    """What the child sent, or None if it failed (the parent then does its run)."""
    with open(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    try:
        results: list[_R] = pickle.loads(data)  # our own child's, through a pipe
    except Exception:  # a result that cannot be read back is made again by the parent
        return None
    return results


__all__ = ["can_fork", "fork_map"]
