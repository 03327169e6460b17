"""How long to wait before trying again, and why dagkit stops trying: one policy for the
transport's resends, :meth:`JobsClient.wait`'s polls and the batch runner's launches and polls.

Waits grow geometrically from an initial value to a cap (:class:`Backoff`). When the transport
gives up, the reason is a value (:class:`StopReason`, carried by :class:`Stop`), and the prose
the user reads is derived from it, never searched.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Waits of ``initial`` seconds growing ``factor`` times a step up to ``maximum``;
    ``jitter`` draws each uniformly between 0 and that value ("full jitter")."""

    initial: float
    maximum: float
    factor: float = 2.0
    jitter: bool = False

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failure in a row (1 for the first)."""
        steps = min(max(failures - 1, 0), 1023)  # 2.0 ** 1024 overflows a float
        cap = min(self.maximum, self.initial * self.factor**steps)
        return random.uniform(0.0, cap) if self.jitter else cap

    def grow(self, pause: float) -> float:
        """The pause after one of ``pause`` seconds: ``factor`` times longer, kept between
        ``initial`` and ``maximum``."""
        return min(max(pause * self.factor, self.initial), self.maximum)


class StopReason(enum.Enum):
    """Why a failed request is not sent again."""

    NOT_RETRYABLE = "not retryable"  # sending again could do harm, or cannot help
    OUT_OF_ATTEMPTS = "out of attempts"
    OUT_OF_BUDGET = "out of budget"  # the next wait would end after the retry budget


@dataclass(frozen=True)
class Stop:
    """The decision not to try again, with what the user is told about it."""

    reason: StopReason
    attempts: int
    wait: float = 0.0  # for OUT_OF_BUDGET: the wait that did not fit
    remaining: float = 0.0  # ... the seconds left of the budget
    budget: float = 0.0  # ... and the whole budget
    asked: bool = False  # ... whether that wait was the server's Retry-After

    def __str__(self) -> str:
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        if self.reason is StopReason.NOT_RETRYABLE:
            return ""
        if self.reason is StopReason.OUT_OF_ATTEMPTS:
            return f"Gave up after {tries}."
        asked = "the server asked to wait" if self.asked else "the next wait is"
        return (
            f"Gave up after {tries}: {asked} {self.wait:.1f} s, more than the "
            f"{self.remaining:.1f} s left of the {self.budget:g} s retry budget."
        )
