"""Secrets never reach output.

One registry holds every secret this process knows (API keys, proxy passwords and their Basic
tokens): whatever learns a secret registers it. One function, :func:`redact`, hides them, and it
is applied at the boundaries where text leaves dagkit:

* the command line's standard output and error (:func:`redact_output`): everything printed, the
  findings, ``--json`` documents, messages, notes, log lines and tracebacks alike;
* dagkit's loggers (:func:`protected_logger`), for programs that use the library;
* the errors the transport raises (it calls :func:`redact_value` on them).

A secret is hidden as written, percent-encoded and JSON-escaped. Each of these forms that has
:data:`WHOLE_TOKEN_BELOW` characters or more is hidden wherever it occurs (no real key turns up
inside other text by chance); a shorter one (a test key such as ``k`` or ``test``) only where it
stands as a whole token, not inside a longer word, so that a key of ``k`` does not turn
``dagkit`` into ``dag***it``.
"""

from __future__ import annotations

import _thread
import re
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    import logging

__all__ = [
    "REDACTED",
    "WHOLE_TOKEN_BELOW",
    "protected_logger",
    "redact",
    "redact_output",
    "redact_value",
    "register",
]

REDACTED = "***"
#: Secrets shorter than this are hidden only as whole tokens (see the module docs).
WHOLE_TOKEN_BELOW = 16

#: Environment variables whose values are secrets, and those holding proxy URLs.
SECRET_VARIABLES = ("UNSTRUCTURED_API_KEY", "DAGKIT_SERVE_API_KEY")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")

_lock = _thread.allocate_lock()  # threading.Lock, without importing threading at start-up
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(secret: str | None) -> None:
    """Hide ``secret`` from now on, wherever :func:`redact` is applied."""
    global _pattern
    if not secret:
        return
    with _lock:
        if secret not in _secrets:
            _secrets.add(secret)
            _pattern = None


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``."""
    pattern = _compiled()
    if pattern is None or not text:
        return text
    return pattern.sub(REDACTED, text)


def redact_value(value: Any) -> Any:
    """:func:`redact` applied to every string inside lists, tuples and dict values and keys."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(redact_value(v) for v in value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    return value


def register_proxy_url(url: str | None) -> None:
    """Register the password of a ``scheme://user:password@host`` proxy URL and the Basic
    token made from it."""
    if not url or "@" not in url:
        return
    import base64
    import urllib.parse

    parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    if parts.password is None:
        return
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password)
    register(password)  # its percent-encoded form is hidden with it
    if password:
        register(base64.b64encode(f"{user}:{password}".encode()).decode("ascii"))


def register_environment(environ: dict[str, str] | None = None) -> None:
    """Register the secrets the environment holds: API keys and proxy passwords."""
    import os

    env = os.environ if environ is None else environ
    for name in SECRET_VARIABLES:
        register(env.get(name, "").strip())
    for name in PROXY_VARIABLES:
        register_proxy_url(env.get(name) or env.get(name.upper()))


class RedactingStream:
    """A text stream that redacts what is written to it, then passes it on.

    Each ``write`` is redacted whole: dagkit writes a message in one call. The wrapped stream's
    binary ``buffer`` is not offered, so nothing can write around the redaction.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":
            raise AttributeError(name)
        return getattr(self._stream, name)


def redact_output() -> None:
    """Redact everything this process prints from now on (standard output and error), with the
    environment's secrets registered. Idempotent."""
    register_environment()
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, RedactingStream(stream))


class _RedactingFilter:
    """A logging filter that redacts each record's message (it never drops a record)."""

    def filter(self, record: Any) -> bool:
        message = record.getMessage()
        hidden = redact(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


_FILTER = _RedactingFilter()


def protected_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)`` whose records are redacted before any handler sees them."""
    import logging

    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def _compiled() -> re.Pattern[str] | None:
    global _pattern
    pattern = _pattern
    if pattern is not None or not _secrets:
        return pattern
    import json
    import urllib.parse

    with _lock:
        forms = {
            form
            for secret in _secrets
            for form in (secret, urllib.parse.quote(secret, safe=""), json.dumps(secret)[1:-1])
        }
        alternatives = []
        for form in sorted(forms, key=len, reverse=True):  # the longest form wins
            escaped = re.escape(form)
            whole_token = len(form) < WHOLE_TOKEN_BELOW
            alternatives.append(rf"(?<![\w-]){escaped}(?![\w-])" if whole_token else escaped)
        _pattern = pattern = re.compile("|".join(alternatives))
    return pattern
