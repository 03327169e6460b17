"""Fault injection: make the next requests to an operation fail on purpose.

Tests (and ``dagkit serve --fault``) use this to drive a client's retry and error handling:
the next N requests to an operation answer 429, 500 or 503, stall longer than a client's
timeout, or lose their connection without an answer. Faults are consumed in the order they
were injected.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

FaultKind = Literal["429", "500", "503", "stall", "drop"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
#: The operation name that matches every operation.
ANY_OPERATION = "*"
#: How long a stall lasts unless told: longer than any sensible client timeout in a test.
DEFAULT_STALL = 30.0


@dataclass(frozen=True)
class Fault:
    """One injected failure.

    ``retry_after`` is sent with a 429 (1 s unless given) and with a 503 (only when given).
    """

    kind: FaultKind
    retry_after: float | None = None
    stall: float = DEFAULT_STALL


class Faults:
    """Pending faults per operation id (``create_job``, ``get_job``, ... or ``*``)."""

    def __init__(self, operations: Iterable[str] | None = None) -> None:
        self._known = None if operations is None else frozenset([*operations, ANY_OPERATION])
        self._lock = threading.Lock()
        self._pending: dict[str, deque[Fault | None]] = {}  # None: a request let through

    def inject(
        self,
        operation: str,
        kind: FaultKind | str,
        count: int = 1,
        *,
        retry_after: float | None = None,
        stall: float = DEFAULT_STALL,
        after: int = 0,
    ) -> None:
        """Make the next ``count`` requests to ``operation`` fail with ``kind``; with
        ``after``, once that many more have been answered as usual (e.g. the second job of a
        submission stalls)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if count < 1 or after < 0:
            raise ValueError("count must be at least 1, and after at least 0")
        if self._known is not None and operation not in self._known:
            known = ", ".join(sorted(self._known))
            raise ValueError(f"unknown operation {operation!r}; use one of {known}")
        fault = Fault(kind, retry_after, stall)  # type: ignore[arg-type]  # checked above
        with self._lock:
            self._pending.setdefault(operation, deque()).extend([None] * after + [fault] * count)

    def take(self, operation: str) -> Fault | None:
        """The fault for this request to ``operation``, if one is pending (and use it up)."""
        with self._lock:
            for key in (operation, ANY_OPERATION):
                queue = self._pending.get(key)
                if queue:
                    return queue.popleft()
        return None

    def pending(self, operation: str | None = None) -> int:
        """How many faults are still waiting (for one operation, or in all)."""
        with self._lock:
            every = self._pending.values()
            queues = every if operation is None else [self._pending.get(operation, deque())]
            return sum(fault is not None for queue in queues for fault in queue)


def parse_fault_spec(spec: str) -> tuple[str, FaultKind, int]:
    """``OP:KIND[:N]`` (as ``dagkit serve --fault`` takes it) -> (operation, kind, count)."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise ValueError(f"{spec!r}: expected OP:KIND[:N], e.g. create_job:500:2")
    operation, kind = parts[0], parts[1]
    if kind not in FAULT_KINDS:
        raise ValueError(f"{spec!r}: kind must be one of {', '.join(FAULT_KINDS)}")
    count = 1
    if len(parts) == 3:
        try:
            count = int(parts[2])
        except ValueError:
            count = 0
        if count < 1:
            raise ValueError(f"{spec!r}: N must be a positive whole number")
    return operation, kind, count  # type: ignore[return-value]  # kind checked above
