"""The answers the local server decides part-way through a request: :class:`Reply`, raised to
unwind, and the error answers the jobs and workflows endpoints share."""

from __future__ import annotations

import math
import re
from typing import Any

from dagkit.server.upload import error_item

#: A UUID as the platform reads one in a path (hyphens optional, any case).
UUID = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)
#: The answer to a create-job request the server had no room to keep (a 503 with Retry-After:
#: nothing was created, so a client may send it again).
DISK_FULL = (
    "The server's disk is full: the job was not created and nothing of it was kept. Free "
    "space on the server and send the request again."
)
DISK_FULL_RETRY = 10.0


class Reply(Exception):
    """An answer decided part-way through handling a request (raised to unwind)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def detail(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"detail": message}, headers)


def disk_full() -> Reply:
    """The answer to a request that created nothing because the server's disk is full."""
    return detail(503, DISK_FULL, retry_after(DISK_FULL_RETRY))


def invalid(*errors: dict[str, Any]) -> Reply:
    """A 422 whose detail lists validation errors, as the platform sends them."""
    return Reply(422, {"detail": list(errors)})


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def bad_uuid(loc: list[str | int], value: str) -> dict[str, Any]:
    return error_item(loc, f"Input should be a valid UUID, got {value[:60]!r}", "uuid_parsing")
