"""Validation for CI: request_data texts, whole multipart bodies, and API responses.

The same functions serve ``dagkit validate``, the client (before it sends, after it
receives) and the embedded server (when a request arrives).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagkit.validate.body import validate_body
    from dagkit.validate.capture import validate_http_request
    from dagkit.validate.request_data import validate_request_data
    from dagkit.validate.response import validate_response

_EXPORTS = {
    "validate_request_data": "dagkit.validate.request_data",
    "validate_body": "dagkit.validate.body",
    "validate_http_request": "dagkit.validate.capture",
    "validate_response": "dagkit.validate.response",
}

__all__ = [
    "validate_body",
    "validate_http_request",
    "validate_request_data",
    "validate_response",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dagkit.validate' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
