"""The server's time, as its answers tell it: never the local wall clock.

Deciding whether a job on the server was created after a request was sent compares two times;
both must come from the server, since the two machines' clocks may be minutes apart. A
:class:`ServerClock` keeps the latest time an answer revealed (its ``Date`` header, or a
``created_at`` in it) together with the local *monotonic* time it arrived, and reads the server's
time now as that value plus the local time elapsed since. Both sources can only be behind the
server's true time when they arrive (``Date`` is truncated to the second and written before the
answer travels; a job is created before it is reported), so :meth:`ServerClock.now` is a lower
bound on the server's time, within about a second of it.

The platform writes ``created_at`` without a UTC offset (``2025-10-07T20:17:04.419033``). Such a
time is read as UTC, unless a job's own answer showed otherwise: :meth:`ServerClock.learn_zone`
compares the ``created_at`` of a job just created with the server's time that same answer
revealed and, when they are further apart than any network delay, takes the difference (to the
quarter hour) as the zone of the server's naive times.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from datetime import datetime

from dagkit.wire.answers import read_date_time

#: How far a new job's naive ``created_at`` may lie from the server's time before it is taken
#: to be written in another zone than UTC (no answer takes that long; zones differ by more).
_ZONE_TOLERANCE = 600.0


class ServerClock:
    """A lower bound on the server's time, fed by its answers (thread-safe)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._anchor: tuple[float, float] | None = None  # (server time, local monotonic)
        #: Seconds to add to a ``created_at`` written without an offset to make it UTC.
        self.naive_offset = 0.0

    def observe(self, server_time: float | None) -> None:
        """The server's time was at least ``server_time`` (epoch seconds) just now."""
        if server_time is None:
            return
        with self._lock:
            local = self._monotonic()
            if self._anchor is None or server_time > self._estimate(local):
                self._anchor = (server_time, local)

    def observe_date(self, header: str | None) -> None:
        """An answer's ``Date`` header (an HTTP date); anything unreadable is ignored."""
        self.observe(http_date(header))

    def created(self, text: str | None) -> float | None:
        """A ``created_at`` from an answer as epoch seconds (None when unreadable)."""
        parsed = rfc3339(text)
        if parsed is None:
            return None
        moment, naive = parsed
        return moment + self.naive_offset if naive else moment

    def learn_zone(self, created_at: str | None) -> None:
        """``created_at`` is of a job the answer that just arrived created: if it is written
        without an offset and lies further from the server's time than a slow answer could
        explain, learn the zone it is written in."""
        parsed = rfc3339(created_at)
        now = self.now()
        if parsed is None or now is None or not parsed[1]:
            return
        gap = now - parsed[0]
        if abs(gap - self.naive_offset) > _ZONE_TOLERANCE:
            self.naive_offset = round(gap / 900.0) * 900.0

    def now(self) -> float | None:
        """The server's time now at the least (epoch seconds); None before any answer told it."""
        with self._lock:
            if self._anchor is None:
                return None
            return self._estimate(self._monotonic())

    def _estimate(self, local: float) -> float:
        assert self._anchor is not None
        server, then = self._anchor
        return server + max(0.0, local - then)


def http_date(text: str | None) -> float | None:
    """An HTTP date (``Tue, 01 Dec 2026 16:04:34 GMT``) as epoch seconds, or None."""
    if not text:
        return None
    try:
        return email.utils.parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def rfc3339(text: str | None) -> tuple[float, bool] | None:
    """An answer's date-time (``2026-12-01T16:04:34.123Z``) as (epoch seconds, whether it was
    written without an offset, and so read as UTC), or None."""
    if not text or not isinstance(text, str):
        return None
    moment = read_date_time(text)
    if moment is None:
        return None
    naive = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00")).tzinfo is None
    return moment.timestamp(), naive
