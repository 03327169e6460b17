"""The HTTP transport: one request in, one response (or one clear error) out.

This is the only dagkit module that talks to the network. It sends with :mod:`http.client`
directly so that an upload streams from its :class:`Body` in large blocks with an exact
``Content-Length``, and it owns the three things every caller must be able to trust:

* **retries** follow :class:`RetryPolicy`, and a request that is not idempotent (create-job) is
  never sent a second time once the server may have acted on it;
* **the API key** goes only to the configured origin, in the ``unstructured-api-key`` header, and
  never into an error message, a log line, a ``repr`` or a dry run;
* **failures** become exceptions from :mod:`dagkit.errors` that say what happened, whether the
  request reached the server, and what to do.

Connections are kept alive and reused, one at a time, for requests to the same origin (polls,
downloads, lists: a batch makes many). A request that is not idempotent (create-job) always goes on
a new connection: on a kept one that the server closed while it was idle, its failure could not be
told from a server that failed after reading it, and it would become ambiguous for no reason. An
idempotent request whose kept connection turns out to be closed (nothing came back at all) is sent
again at once on a new one.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import http.client
import ipaddress
import json
import logging
import os
import re
import shlex
import socket
import ssl
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal, NamedTuple, NoReturn, Protocol, runtime_checkable

from dagkit import __version__
from dagkit.core import limits
from dagkit.errors import (
    Advice,
    AdviceKind,
    AmbiguousRequestError,
    AnswerTooLargeError,
    APIError,
    AuthenticationError,
    BadURLError,
    ConnectError,
    DagkitError,
    DagkitValueError,
    NotFoundError,
    RateLimitError,
    RemoteProtocolError,
    ResponseError,
    ServerError,
    TransportError,
)
from dagkit.errors import TimeoutError as RequestTimeoutError
from dagkit.http.redact import (
    REDACTED,
    protected_logger,
    redact_value,
    register,
    register_proxy_url,
)
from dagkit.http.retry import Backoff, Stop, StopReason

__all__ = [
    "API_KEY_HEADER",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "BadURLError",
    "Body",
    "FormFile",
    "Headers",
    "Request",
    "Response",
    "RetryPolicy",
    "SendsItself",
    "Transport",
    "ambiguous_advice",
    "normalize_base_url",
    "parse_retry_after",
]

logger = protected_logger("dagkit.http.transport")

DEFAULT_BASE_URL = "https://platform.unstructuredapp.io"
API_PREFIX = "/api/v1"
API_KEY_HEADER = "unstructured-api-key"
#: (connect, read) seconds. The read timeout is the longest silence tolerated between bytes.
DEFAULT_TIMEOUT = (10.0, 120.0)
ENV_URL = "UNSTRUCTURED_API_URL"
ENV_KEY = "UNSTRUCTURED_API_KEY"

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "x-amz-request-id", "request-id")

_SEND_BLOCK = 64 * 1024  # smaller body pieces are gathered up to this before a send
_READ_BLOCK = 1 << 20
_ERROR_BODY_LIMIT = 1 << 20  # an error page is read this far, no further
_DETAIL_LIMIT = 500  # characters of a server's detail quoted in a message

_IDEMPOTENT_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_KEY_CHARS = re.compile(r"[\x21-\x7e]+")


# --------------------------------------------------------------------------- data types


@runtime_checkable
class Body(Protocol):
    """A request body that can be sent more than once.

    ``content_length`` is exact and known before sending; every call to ``__iter__`` starts again
    from the first byte (a retry or a 307/308 redirect resends the whole body).
    """

    @property
    def content_length(self) -> int: ...

    def __iter__(self) -> Iterator[bytes]: ...


@runtime_checkable
class SendsItself(Body, Protocol):
    """A :class:`Body` that can also write itself to a plain connected socket (its files with
    ``sendfile``), each call from the first byte; the bytes are those ``__iter__`` yields."""

    def send_to(self, sock: socket.socket) -> None: ...


@dataclass(frozen=True, repr=False)
class Request:
    """One HTTP request. ``url`` is absolute (build it with :meth:`Transport.url`).

    GET, HEAD, OPTIONS, PUT and DELETE are idempotent by definition; set ``idempotent=True`` for
    any other request that is safe to send twice.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | Body | None = None
    idempotent: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())

    @property
    def is_idempotent(self) -> bool:
        return self.idempotent or self.method in IDEMPOTENT_METHODS

    @property
    def content_length(self) -> int | None:
        if self.body is None:
            return None
        if isinstance(self.body, bytes | bytearray | memoryview):
            return len(self.body)
        return self.body.content_length

    def __repr__(self) -> str:
        headers = {
            name: REDACTED if name.lower() == API_KEY_HEADER else value
            for name, value in self.headers.items()
        }
        size = "None" if self.body is None else f"<{self.content_length} bytes>"
        return (
            f"Request(method={self.method!r}, url={self.url!r}, headers={headers!r}, "
            f"body={size}, idempotent={self.idempotent!r})"
        )


class Headers(Mapping[str, str]):
    """Response headers with case-insensitive lookup; repeated headers are joined with ", "."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = list(items)
        self._joined: dict[str, str] = {}
        for name, value in self._items:
            key = name.lower()
            previous = self._joined.get(key)
            self._joined[key] = value if previous is None else f"{previous}, {value}"

    def __getitem__(self, name: str) -> str:
        return self._joined[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._joined)

    def __len__(self) -> int:
        return len(self._joined)

    def raw_items(self) -> list[tuple[str, str]]:
        """The headers as received: original names, order and repetitions."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(frozen=True)
class Response:
    """A complete answer. ``body`` is empty for :meth:`Transport.stream` (it went to the sink)."""

    status: int
    headers: Headers
    body: bytes
    url: str
    request_id: str | None = None
    reason: str = ""

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; :class:`~dagkit.errors.ResponseError` if it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            kind = self.headers.get("content-type", "no content type")
            raise ResponseError(
                f"{self.url} answered {self.status} with a body that is not JSON ({kind}, "
                f"{len(self.body)} bytes): {_snippet(self.text)!r}. The URL may not point at the "
                f"Unstructured API, or a proxy answered instead: check {ENV_URL}."
            ) from exc


class FormFile(NamedTuple):
    """A file part for :meth:`Transport.curl_command`."""

    path: str | os.PathLike[str]
    content_type: str | None = None
    filename: str | None = None
    field: str = "input_files"


@dataclass(frozen=True)
class RetryPolicy:
    """When dagkit sends a request again, and when it does not.

    - **Idempotent requests** (GET, and requests marked ``idempotent``) are retried after a
      connection error (refused, reset, DNS failure, timeout), a truncated answer, and the statuses
      429, 502, 503 and 504.
    - **Other requests (create-job)** are retried only when the server cannot have acted on them:
      the connection could not be made (refused, DNS failure, connect timeout), the server answered
      429 (rate limited), or 503 *with* ``Retry-After``. After any other failure (a 500, 502 or
      504, a reset or timeout once the body had started going out, a truncated answer) dagkit
      raises :class:`~dagkit.errors.AmbiguousRequestError` instead: the job may exist, and the
      message says how to check. A job is never sent twice.
    - Waits grow exponentially from ``backoff_initial`` (×2 per attempt, at most ``backoff_max``)
      with full jitter (a uniform draw between 0 and that value). A ``Retry-After`` header
      (seconds or an HTTP date) replaces the computed wait.
    - At most ``max_attempts`` sends per request, and no wait that would end more than
      ``total_budget`` seconds after the first attempt started: if the next wait does not fit,
      dagkit raises the last error at once rather than sleeping. (A single attempt is bounded by
      the connect and read timeouts, not by the budget.)
    - Redirects (301, 302, 303, 307, 308) are followed up to 5 hops and are not counted as
      attempts, with two exceptions. A 301, 302 or 303 to a request that is not idempotent would
      turn it into a GET of another page: dagkit raises
      :class:`~dagkit.errors.AmbiguousRequestError` instead (the server may have acted). And no
      redirect from https to plain http is followed. The key goes only to the configured origin.
    """

    max_attempts: int = 5
    total_budget: float = 60.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    jitter: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise DagkitValueError(f"max_attempts must be at least 1, not {self.max_attempts}")
        for name in ("total_budget", "backoff_initial", "backoff_max"):
            value = getattr(self, name)
            if not value >= 0:  # also rejects NaN
                raise DagkitValueError(f"{name} must be a number of seconds >= 0, not {value!r}")

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (1 for the first)."""
        return Backoff(self.backoff_initial, self.backoff_max, jitter=self.jitter).delay(failures)

    def decide(
        self, attempt: int, *, retryable: bool, retry_after: float | None, remaining: float
    ) -> float | Stop:
        """After the ``attempt``-th send failed: the seconds to wait before the next, or why
        there is none. ``remaining`` is what is left of the budget."""
        if not retryable:
            return Stop(StopReason.NOT_RETRYABLE, attempt)
        if attempt >= self.max_attempts:
            return Stop(StopReason.OUT_OF_ATTEMPTS, attempt)
        wait = retry_after if retry_after is not None else self.backoff(attempt)
        if wait > remaining:
            return Stop(
                StopReason.OUT_OF_BUDGET,
                attempt,
                wait=wait,
                remaining=remaining,
                budget=self.total_budget,
                asked=retry_after is not None,
            )
        return wait


# --------------------------------------------------------------------------- small helpers


def normalize_base_url(url: str) -> str:
    """``scheme://host[:port]<prefix>/api/v1`` for an API URL given with or without ``/api/v1``.

    >>> normalize_base_url("https://platform.unstructuredapp.io/api/v1/")
    'https://platform.unstructuredapp.io/api/v1'
    """
    text = url.strip()
    example = "for example https://platform.unstructuredapp.io"
    if "://" not in text:
        raise BadURLError(f"the API URL must start with https:// or http:// ({example})")
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadURLError(f"the API URL must use https or http, not {scheme!r} ({example})")
    if parts.username is not None or parts.password is not None:
        raise BadURLError(
            f"the API URL must not contain credentials; put the key in {ENV_KEY} instead"
        )
    try:
        port = parts.port
    except ValueError:
        raise BadURLError(f"the API URL has an invalid port ({example})") from None
    host = parts.hostname or ""
    if not host:
        raise BadURLError(f"the API URL has no host name ({example})")
    path = re.sub("/+", "/", parts.path).rstrip("/")
    if not path.endswith(API_PREFIX):
        if "api" in path.lower().split("/"):
            # .../api/v1/jobs or .../api: a path inside the API, which would be doubled
            raise BadURLError(
                f"{text} is a path inside the API; give the server root, "
                "e.g. https://platform.unstructuredapp.io"
            )
        path += API_PREFIX
    return f"{scheme}://{_netloc(scheme, host, port)}{path}"


def parse_retry_after(
    value: str | None, *, date: str | None = None, now: float | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, or None when absent or unreadable.

    The value is delta-seconds or an HTTP date. A date is measured against the response's own
    ``Date`` header when given (so a skewed local clock does not matter), else against ``now``
    (seconds since the epoch; the current time by default). Past dates give 0.
    """
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    target = _http_date(text)
    if target is None:
        return None
    reference = _http_date(date) if date else None
    if reference is None:
        reference = time.time() if now is None else now
    return max(0.0, target - reference)


def is_loopback(host: str) -> bool:
    """True for a name or address that says "this machine": localhost, ``*.localhost``,
    127.0.0.0/8 and ::1 (also as ``::ffff:127.x.y.z``).

    A name says nothing certain: ``api.localhost`` can resolve anywhere. Where it matters (the key
    over plain http) the transport also checks the address it actually connects to.
    """
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    return is_loopback_address(name)


def is_loopback_address(address: str) -> bool:
    """True when ``address`` (an IP address, not a name) is 127.0.0.0/8 or ::1."""
    try:
        ip = ipaddress.ip_address(address)  # with or without an IPv6 scope (fe80::1%eth0)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _http_date(text: str) -> float | None:
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _netloc(scheme: str, host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return shown if port is None or port == default else f"{shown}:{port}"


def _snippet(text: str, limit: int = _DETAIL_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summarize_detail(detail: Any) -> str:
    """A FastAPI-style ``detail`` (a string or a list of validation errors) as one line."""
    if detail is None:
        return ""
    if isinstance(detail, list):
        items = []
        for item in detail[:5]:
            if isinstance(item, dict) and "msg" in item:
                loc = ".".join(str(p) for p in item.get("loc", ()))
                items.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                items.append(json.dumps(item, ensure_ascii=False, default=str))
        more = f" (and {len(detail) - 5} more)" if len(detail) > 5 else ""
        return _snippet("; ".join(items) + more)
    if isinstance(detail, str):
        return _snippet(detail)
    return _snippet(json.dumps(detail, ensure_ascii=False, default=str))


def _parse_detail(body: bytes) -> Any:
    """The server's ``detail`` from a JSON error body, else the body text (or None if empty)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", errors="replace").strip()
        return _snippet(text) if text else None
    if isinstance(data, dict) and "detail" in data:
        return data["detail"]
    return data


@dataclass(frozen=True)
class _Target:
    """Where a URL points."""

    scheme: str
    host: str
    port: int
    path: str  # path and query: the request target for a direct connection

    @classmethod
    def parse(cls, url: str) -> _Target:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise DagkitValueError(f"cannot send a request to {url!r}: not an http(s) URL")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise DagkitValueError(f"cannot send a request to {url!r}: invalid port") from None
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return cls(scheme, parts.hostname.lower(), port, path)

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def netloc(self) -> str:
        return _netloc(self.scheme, self.host, self.port)

    @property
    def absolute(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"


@dataclass(frozen=True)
class _Proxy:
    host: str
    port: int
    authorization: str | None

    @property
    def display(self) -> str:
        return _netloc("http", self.host, self.port)


class _NotLoopback(Exception):
    """The key must stay on this machine, and this connection would leave it: ``what`` says
    where it would go."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class _CheckedConnection(http.client.HTTPConnection):
    """A plain-http connection whose socket comes from ``open_socket`` (the loopback check)."""

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float,
        open_socket: Callable[[str, int, float | None], socket.socket],
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._open_socket = open_socket

    def connect(self) -> None:
        self.sock = self._open_socket(self.host, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Failed(Exception):
    """One attempt failed on the network; ``transient`` says whether trying again can help."""

    def __init__(
        self, error: TransportError, *, transient: bool = True, unanswered: bool = False
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.transient = transient
        #: The connection closed or reset before any byte of an answer arrived.
        self.unanswered = unanswered


class _Sink:
    """Counts what a download wrote, so a retry knows whether it can start over."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.written = 0
        try:
            self.start: int | None = target.tell() if target.seekable() else None
        except OSError:
            self.start = None

    def write(self, data: memoryview) -> None:
        try:
            self.target.write(data)
        except OSError as exc:
            raise DagkitError(f"could not write the download: {exc}") from exc
        self.written += len(data)

    @property
    def restartable(self) -> bool:
        """Whether the download can start over: nothing written yet, or a place to go back to."""
        return self.written == 0 or self.start is not None

    def rewind(self) -> bool:
        """Back to where the download began; False when that is impossible."""
        if self.written == 0:
            return True
        if self.start is None:
            return False
        try:
            self.target.seek(self.start)
            self.target.truncate()
        except OSError:
            return False
        self.written = 0
        return True


_Stage = Literal["head", "body", "sent", "answer"]

#: One ``socket.getaddrinfo`` entry: family, type, protocol, canonical name, address.
AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]
#: Resolves (host, port) to the addresses to try, like ``socket.getaddrinfo``.
Resolver = Callable[[str, int], Sequence[AddressInfo]]


def _resolve(host: str, port: int) -> list[AddressInfo]:
    return [
        (family, kind, proto, name, tuple(address))
        for family, kind, proto, name, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
    ]


#: Where a kept connection leads: the origin, the proxy on the way, and whether it was opened
#: with the loopback check (one opened without it never carries the key).
_PoolKey = tuple[tuple[str, str, int], _Proxy | None, bool]
#: A kept connection idle longer than this is closed, not reused: many servers close theirs after
#: 5 s (a request sent as they do so would have to be sent again), and a connection left idle for
#: minutes may have been dropped on the way without either end being told.
_KEEP_IDLE = 4.0
#: Idle connections kept per origin (one per thread that used the transport at the same time).
_KEEP_MAX = 4


class _Pool:
    """Idle connections by where they lead, most recently used first; thread-safe. A connection
    is taken out while a request uses it, so no two requests share one."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._idle: dict[_PoolKey, list[tuple[float, http.client.HTTPConnection]]] = {}

    def take(self, key: _PoolKey) -> http.client.HTTPConnection | None:
        """A kept connection that is still open, or None."""
        while True:
            with self._lock:
                kept = self._idle.get(key)
                if not kept:
                    return None
                since, connection = kept.pop()
            if self._clock() - since <= _KEEP_IDLE and _still_open(connection.sock):
                return connection
            connection.close()

    def give(self, key: _PoolKey, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            kept = self._idle.setdefault(key, [])
            kept.append((self._clock(), connection))
            extra = kept[:-_KEEP_MAX]
            del kept[:-_KEEP_MAX]
        for _, old in extra:
            old.close()

    def close(self) -> None:
        with self._lock:
            kept = [c for entries in self._idle.values() for _, c in entries]
            self._idle.clear()
        for connection in kept:
            connection.close()


def _still_open(sock: socket.socket | None) -> bool:
    """Whether an idle connection can carry a request: nothing has arrived on it since its last
    answer, neither the server's close nor anything else. (Over TLS a readable socket may hold
    only session tickets, which a read without data shows.)"""
    if sock is None:
        return False
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        if isinstance(sock, ssl.SSLSocket):
            sock.recv(1)
        else:
            sock.recv(1, socket.MSG_PEEK)
    except (BlockingIOError, ssl.SSLWantReadError):
        return True  # nothing to read: the server has not closed it
    except OSError:
        return False
    else:
        return False  # the server's close (b"") or bytes nobody asked for
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)


# --------------------------------------------------------------------------- the transport


class Transport:
    """Sends :class:`Request` objects to the Unstructured API (or any URL).

    ``base_url`` may end with or without ``/api/v1``. ``timeout`` is one number for both, or a
    (connect, read) pair in seconds. TLS certificates are always verified (``ca_bundle`` adds a CA
    file, for networks that inspect TLS). Proxies come from the environment as urllib reads them
    (``https_proxy``, ``http_proxy``, ``no_proxy``), except that loopback hosts are always reached
    directly. ``sleep``, ``clock`` and ``resolve`` (host names to addresses, like
    ``socket.getaddrinfo``) are injectable for tests.

    The key goes over plain http only to this machine (unless ``allow_insecure_key``): the URL
    must name it (``localhost``, ``*.localhost``, 127.0.0.0/8, ::1), and each connection is made
    only to the loopback addresses the name resolves to and checked from the socket's peer
    address before anything is sent; otherwise the request fails with nothing sent.
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        ca_bundle: str | os.PathLike[str] | None = None,
        retry: RetryPolicy | None = None,
        allow_insecure_key: bool = False,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        resolve: Resolver | None = None,
        max_answer_bytes: int | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        #: The longest JSON answer read (downloads are streamed and not limited).
        self.max_answer_bytes = max_answer_bytes or answer_limit(os.environ)
        self._origin = _Target.parse(self.base_url).origin
        self._api_key = _clean_key(api_key)
        self.timeout = _clean_timeout(timeout)
        self.ca_bundle = None if ca_bundle is None else os.fspath(ca_bundle)
        self.retry = retry if retry is not None else RetryPolicy()
        self.allow_insecure_key = allow_insecure_key
        self.user_agent = user_agent or f"dagkit/{__version__}"
        self._sleep = sleep
        self._clock = clock
        self._resolve = resolve or _resolve
        self._ssl_context: ssl.SSLContext | None = None
        self._pool = _Pool(clock)
        # idle connections close with the transport, even one nobody closed
        self._closer = weakref.finalize(self, self._pool.close)
        register(self._api_key)
        #: The key goes over plain http only to this machine: checked by name here, and by the
        #: address connected to before each request (see _loopback_socket).
        self._key_needs_loopback = _key_needs_loopback(
            self._origin, self._api_key, allow_insecure_key
        )

    @classmethod
    def from_env(cls, *, environ: Mapping[str, str] | None = None, **options: Any) -> Transport:
        """A transport configured from ``UNSTRUCTURED_API_URL`` and ``UNSTRUCTURED_API_KEY``.

        Options given here (other than None) win over the environment; the URL defaults to
        https://platform.unstructuredapp.io.
        """
        env = os.environ if environ is None else environ
        from_env = options.get("base_url") is None
        if from_env:
            options["base_url"] = env.get(ENV_URL, "").strip() or DEFAULT_BASE_URL
        if options.get("api_key") is None:
            options["api_key"] = env.get(ENV_KEY, "").strip() or None
        try:
            return cls(**options)
        except BadURLError as exc:
            if not from_env:
                raise
            raise BadURLError(f"{ENV_URL}: {exc}") from None

    def close(self) -> None:
        """Close the connections kept for reuse. The transport stays usable: the next request
        opens a new connection."""
        self._pool.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_api_key(self) -> bool:
        return self._api_key is not None

    def __repr__(self) -> str:
        key = REDACTED if self._api_key else None
        return (
            f"Transport(base_url={self.base_url!r}, api_key={key!r}, timeout={self.timeout!r}, "
            f"retry={self.retry!r})"
        )

    # ---------------------------------------------------------------- building requests

    def url(self, path: str, params: Mapping[str, object | None] | None = None) -> str:
        """The absolute URL of an API path: ``url("/jobs/")`` -> ``<origin>/api/v1/jobs/``.

        Parameters whose value is None are left out.
        """
        if "://" in path:
            base = path
        else:
            quoted = urllib.parse.quote(path.lstrip("/"), safe="/:@!$&'()*+,;=-._~%?")
            base = f"{self.base_url}/{quoted}"
        query = [(k, str(v)) for k, v in (params or {}).items() if v is not None]
        if not query:
            return base
        return f"{base}{'&' if '?' in base else '?'}{urllib.parse.urlencode(query)}"

    def describe(self, request: Request) -> str:
        """The request as text for a dry run: method, URL and every header, the key as ``***``."""
        target = _Target.parse(request.url)
        lines = [f"{request.method} {target.absolute}"]
        lines += [f"{name}: {value}" for name, value in self._wire_headers(request, target, True)]
        return "\n".join(lines)

    def curl_command(
        self,
        request: Request,
        *,
        fields: Iterable[tuple[str, str]] = (),
        files: Iterable[FormFile] = (),
    ) -> str:
        """An equivalent curl command line; the key is read from ``$UNSTRUCTURED_API_KEY``."""
        fields, files = list(fields), list(files)
        form = bool(fields or files)
        target = _Target.parse(request.url)
        args = ["curl", "-sS"]
        if not (request.method == "GET" and request.body is None) and not (
            request.method == "POST" and form
        ):
            args += ["-X", request.method]
        args.append(shlex.quote(target.absolute))
        skip = {"host", "content-length", "connection", "user-agent", API_KEY_HEADER}
        if form:
            skip.add("content-type")
        for name, value in self._wire_headers(request, target, True):
            if name.lower() not in skip:
                args += ["-H", shlex.quote(f"{name}: {value}")]
        if self._key_for(target) is not None:
            args += ["-H", f'"{API_KEY_HEADER}: ${ENV_KEY}"']
        if form:
            args += ["-H", shlex.quote("Expect:")]
        for name, value in fields:
            # --form-string: curl must not read "@file", "<file" or ";type=" inside the JSON
            args += ["--form-string", shlex.quote(f"{name}={value}")]
        for part in files:
            spec = f"{part.field}=@{_curl_quote(os.fspath(part.path))}"
            if part.filename is not None:
                spec += f";filename={_curl_quote(part.filename)}"
            if part.content_type is not None:
                spec += f";type={part.content_type}"
            args += ["-F", shlex.quote(spec)]
        return " ".join(args)

    # ---------------------------------------------------------------- sending

    def send(self, request: Request) -> Response:
        """Send ``request`` under the retry policy and return the final 2xx/3xx response.

        Raises :class:`~dagkit.errors.APIError` subclasses for error statuses and
        :class:`~dagkit.errors.TransportError` subclasses when no usable answer came.
        """
        return self._guarded(request, None)

    def stream(self, request: Request, sink: BinaryIO) -> Response:
        """Like :meth:`send`, but a 2xx body is written to ``sink`` block by block, not kept.

        If the download must be retried, a seekable sink is rewound and truncated first; a sink
        that cannot be rewound is not retried once something was written to it.
        """
        return self._guarded(request, sink)

    def _guarded(self, request: Request, sink: BinaryIO | None) -> Response:
        try:
            return self._run(request, None if sink is None else _Sink(sink))
        except DagkitError as exc:
            self._scrub(exc)
            raise

    def _run(self, request: Request, sink: _Sink | None) -> Response:
        policy = self.retry
        deadline = self._clock() + policy.total_budget
        started = datetime.now(UTC)
        current = request
        attempt = 0
        hops = 0
        while True:
            attempt += 1
            if sink is not None and not sink.rewind():
                raise DagkitError("cannot restart the download: the output cannot be rewound")
            try:
                response = self._exchange(current, sink)
            except _Failed as failure:
                error = failure.error
                retryable = (
                    failure.transient
                    and (current.is_idempotent or not error.reached_server)
                    and (sink is None or sink.restartable)
                )
                stop = self._wait(current, attempt, deadline, None, str(error), retryable)
                if stop is None:
                    continue
                self._raise_failure(current, failure, stop, started)

            status = response.status
            if status < 400:
                self._log(
                    logging.DEBUG,
                    f"{current.method} {current.url} -> {status} {response.reason} "
                    f"(attempt {attempt}/{policy.max_attempts})",
                )
            if status in REDIRECT_STATUSES:
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise RemoteProtocolError(
                        f"{current.method} {current.url}: more than {MAX_REDIRECTS} redirects; "
                        f"check {ENV_URL}",
                        reached_server=True,
                    )
                current = self._redirected(current, response, started)
                attempt = 0
                continue
            if status < 400:
                return response

            retry_after = parse_retry_after(
                response.headers.get("retry-after"), date=response.headers.get("date")
            )
            if current.is_idempotent:
                retryable = status in _IDEMPOTENT_RETRY_STATUSES
            else:
                retryable = status == 429 or (status == 503 and retry_after is not None)
            outcome = f"{status} {response.reason}".strip()
            stop = self._wait(current, attempt, deadline, retry_after, outcome, retryable)
            if stop is None:
                continue
            self._raise_status(current, response, retry_after, stop, started)

    def _wait(
        self,
        request: Request,
        attempt: int,
        deadline: float,
        retry_after: float | None,
        outcome: str,
        retryable: bool,
    ) -> Stop | None:
        """Sleep before the next attempt and return None, or return why there is none."""
        where = f"{request.method} {request.url} -> {outcome} (attempt {attempt}/"
        where += f"{self.retry.max_attempts})"
        remaining = max(0.0, deadline - self._clock())
        decision = self.retry.decide(
            attempt, retryable=retryable, retry_after=retry_after, remaining=remaining
        )
        if isinstance(decision, Stop):
            if decision.reason is StopReason.NOT_RETRYABLE:
                self._log(logging.DEBUG, f"{where}; not retried")
            elif decision.reason is StopReason.OUT_OF_ATTEMPTS:
                self._log(logging.INFO, f"{where}; giving up")
            else:
                self._log(
                    logging.INFO, f"{where}; next wait {decision.wait:.2f} s exceeds the budget"
                )
            return decision
        self._log(logging.INFO, f"{where}; retrying in {decision:.2f} s")
        self._sleep(decision)
        return None

    def _redirected(self, request: Request, response: Response, started: datetime) -> Request:
        location = response.headers.get("location")
        if not location:
            raise RemoteProtocolError(
                f"{request.method} {request.url} answered {response.status} without a Location",
                reached_server=True,
            )
        url = urllib.parse.urljoin(request.url, location.strip())
        target = _Target.parse(url)  # a non-http URL is an error, before anything is sent
        moved = f"{request.method} {request.url} answered {response.status} (to {url})"
        to_get = response.status == 303 or (
            response.status in (301, 302) and request.method == "POST"
        )
        if not request.is_idempotent and (to_get or _downgrade(request.url, target)):
            # The server answered the create with something other than a job: it may have made
            # one. Following a 301/302/303 would GET some page and take it for the new job.
            raise AmbiguousRequestError(
                f"{moved}, which dagkit does not follow for a request that creates.",
                advice=[ambiguous_advice(started)],
            )
        if _downgrade(request.url, target):
            raise RemoteProtocolError(
                f"{moved}: refusing to leave https for plain http, where the request and its "
                f"answer could be read and changed on the way; check {ENV_URL}",
                reached_server=True,
            )
        if to_get and request.method != "HEAD":
            dropped = {"content-type", "content-length"}
            headers = {k: v for k, v in request.headers.items() if k.lower() not in dropped}
            return Request("GET", url, headers, None, True)
        # 307/308 (and 301/302 for other methods): the same method and the whole body again
        return Request(request.method, url, request.headers, request.body, request.idempotent)

    # ---------------------------------------------------------------- one exchange

    def _exchange(self, request: Request, sink: _Sink | None) -> Response:
        target = _Target.parse(request.url)
        headers = self._wire_headers(request, target, False)
        proxy = self._proxy_for(target)
        checked = self._key_needs_loopback and self._key_for(target) is not None
        key: _PoolKey = (target.origin, proxy, checked)
        # A create goes on a new connection: see the module's docstring.
        kept = self._pool.take(key) if request.is_idempotent else None
        if kept is not None:
            try:
                return self._over(kept, key, request, target, proxy, headers, sink)
            except _Failed as failure:
                if not failure.unanswered or (sink is not None and sink.written):
                    raise
                self._log(
                    logging.DEBUG,
                    f"{request.method} {request.url}: the kept connection was closed "
                    f"({failure.error}); sending again on a new one",
                )
        connection = self._connect(request, target, proxy, checked)
        return self._over(connection, key, request, target, proxy, headers, sink)

    def _over(
        self,
        connection: http.client.HTTPConnection,
        key: _PoolKey,
        request: Request,
        target: _Target,
        proxy: _Proxy | None,
        headers: list[tuple[str, str]],
        sink: _Sink | None,
    ) -> Response:
        """One exchange over ``connection``, which is kept for the next request if the answer
        was read to its end and the server did not ask to close it."""
        try:
            response, finished = self._talk(connection, request, target, proxy, headers, sink)
        except BaseException:
            connection.close()
            raise
        if finished and connection.sock is not None:
            self._pool.give(key, connection)
        else:
            connection.close()
        return response

    def _connect(
        self, request: Request, target: _Target, proxy: _Proxy | None, checked: bool
    ) -> http.client.HTTPConnection:
        connect_timeout, read_timeout = self.timeout
        host, port = (proxy.host, proxy.port) if proxy else (target.host, target.port)
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=connect_timeout, context=self._tls_context()
            )
            if proxy is not None:
                tunnel_headers = {}
                if proxy.authorization:
                    tunnel_headers["Proxy-Authorization"] = proxy.authorization
                connection.set_tunnel(target.host, target.port, headers=tunnel_headers)
        elif checked:
            # (never through a proxy: a loopback origin is always reached directly)
            connection = _CheckedConnection(host, port, connect_timeout, self._loopback_socket)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=connect_timeout)
        try:
            connection.connect()
            connection.sock.settimeout(read_timeout)
        except _NotLoopback as refused:
            connection.close()
            raise _Failed(
                ConnectError(
                    f"{request.method} {request.url}: refusing to send the API key over plain "
                    f"http to {target.host}: it {refused.what}, not this machine.",
                    reached_server=False,
                    advice=[Advice.of(AdviceKind.USE_HTTPS)],
                ),
                transient=False,
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            what, transient = _connect_failure(exc, target, host, port, proxy)
            untrusted = isinstance(exc, ssl.SSLCertVerificationError)
            advice = [Advice.of(AdviceKind.TRUST_CA)] if untrusted else []
            raise _Failed(
                ConnectError(
                    f"{request.method} {request.url}: {what}", reached_server=False, advice=advice
                ),
                transient=transient,
            ) from exc
        return connection

    def _loopback_socket(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """A socket for a request that carries the key over plain http. Only the loopback
        addresses ``host`` resolves to are tried (no other is contacted), and the connected
        socket's peer address is checked again before a byte is sent."""
        found = self._resolve(host, port)
        local = [info for info in found if is_loopback_address(str(info[4][0]))]
        if not local:
            shown = ", ".join(sorted({str(info[4][0]) for info in found})) or "nothing"
            raise _NotLoopback(f"resolves to {shown}")
        failures: list[OSError] = []
        for family, kind, proto, _, address in local:
            try:  # a family this machine cannot open (IPv6 turned off) gives way to the next
                sock = socket.socket(family, kind, proto)
            except OSError as exc:
                failures.append(exc)
                continue
            try:
                sock.settimeout(timeout)
                sock.connect(address)
                peer = str(sock.getpeername()[0])
            except OSError as exc:
                sock.close()
                failures.append(exc)
                continue
            if not is_loopback_address(peer):
                sock.close()
                raise _NotLoopback(f"connected to {peer}")
            return sock
        raise failures[-1]

    def _key_for(self, target: _Target) -> str | None:
        """The key, for a request to the configured origin; None for any other."""
        return self._api_key if target.origin == self._origin else None

    def _talk(
        self,
        connection: http.client.HTTPConnection,
        request: Request,
        target: _Target,
        proxy: _Proxy | None,
        headers: list[tuple[str, str]],
        sink: _Sink | None,
    ) -> tuple[Response, bool]:
        """The answer, and whether it was read to its end (the connection can carry another)."""
        use_absolute = proxy is not None and target.scheme == "http"
        stage: _Stage = "head"
        status: int | None = None
        try:
            connection.putrequest(
                request.method,
                target.absolute if use_absolute else target.path,
                skip_host=True,
                skip_accept_encoding=True,
            )
            for name, value in headers:
                connection.putheader(name, value)
            if use_absolute and proxy is not None and proxy.authorization:
                connection.putheader("Proxy-Authorization", proxy.authorization)
            connection.endheaders()
            if request.body is not None:
                stage = "body"
                _send_body(connection.sock, request.body)
            stage = "sent"
            answer = connection.getresponse()
            stage = "answer"
            status = answer.status
            response_headers = Headers(answer.getheaders())
            if sink is not None and 200 <= status < 300:
                _drain(answer, sink)
                body = b""
            elif status in REDIRECT_STATUSES:
                body = b""  # not read: the connection is closed, not kept
            elif status >= 400:
                body = _read(answer, _ERROR_BODY_LIMIT)
            else:
                body = self._read_answer(answer, request)
        except (OSError, http.client.HTTPException) as exc:
            # Nothing at all came back and the connection was closed or reset: on a kept
            # connection, the sign that the server had closed it while it was idle.
            unanswered = stage != "answer" and isinstance(exc, ConnectionError)
            raise _Failed(
                self._network_error(exc, request, stage, status), unanswered=unanswered
            ) from exc
        response = Response(
            status=status,
            headers=response_headers,
            body=body,
            url=request.url,
            request_id=_request_id(response_headers),
            reason=answer.reason or "",
        )
        return response, answer.isclosed()

    def _read_answer(self, answer: http.client.HTTPResponse, request: Request) -> bytes:
        """A successful answer, read whole unless it is longer than :attr:`max_answer_bytes`."""
        limit = self.max_answer_bytes
        declared = answer.getheader("Content-Length", "").strip()
        too_long = declared.isascii() and declared.isdigit() and int(declared) > limit
        body = b"" if too_long else _read(answer, limit + 1)
        if too_long or len(body) > limit:
            answer.close()  # hang up now: the rest is not wanted
            raise _Failed(
                AnswerTooLargeError(
                    f"{request.method} {request.url}: the answer is longer than {limit:,} bytes, "
                    f"the most dagkit reads for a JSON answer; set {limits.ENV_MAX_ANSWER_BYTES} "
                    "to a larger number of bytes to read it",
                    reached_server=True,
                ),
                transient=False,
            )
        return body

    def _network_error(
        self,
        exc: BaseException,
        request: Request,
        stage: _Stage,
        status: int | None,
    ) -> TransportError:
        """Turn a failure during one exchange into a dagkit error that says how far it got."""
        where = f"{request.method} {request.url}: "
        cause = _describe_os_error(exc)
        if stage == "head":
            # Not even the request line and headers went out: the server has nothing to act on.
            return RemoteProtocolError(
                f"{where}the connection failed before the request was sent ({cause}).",
                reached_server=False,
            )
        if stage == "body":
            if isinstance(exc, TimeoutError):
                return RequestTimeoutError(
                    f"{where}the upload stalled for {self.timeout[1]:g} s ({cause}).",
                    reached_server=True,
                )
            return RemoteProtocolError(
                f"{where}the connection broke while the body was being sent ({cause}).",
                reached_server=True,
            )
        if stage == "sent":
            if isinstance(exc, TimeoutError):
                return RequestTimeoutError(
                    f"{where}no answer within the read timeout of {self.timeout[1]:g} s.",
                    reached_server=True,
                    advice=[Advice.of(AdviceKind.RAISE_READ_TIMEOUT)],
                )
            if isinstance(exc, http.client.RemoteDisconnected):
                cause = "closed without answering"
            elif isinstance(exc, http.client.BadStatusLine):
                cause = "it answered with something that is not HTTP"
            return RemoteProtocolError(
                f"{where}the server did not answer ({cause}).", reached_server=True
            )
        if isinstance(exc, TimeoutError):
            return RequestTimeoutError(
                f"{where}the server answered {status} but then sent nothing for "
                f"{self.timeout[1]:g} s.",
                reached_server=True,
            )
        return RemoteProtocolError(
            f"{where}the server answered {status} but the body was cut off ({cause}).",
            reached_server=True,
        )

    # ---------------------------------------------------------------- failures

    def _raise_failure(
        self, request: Request, failure: _Failed, stop: Stop, started: datetime
    ) -> NoReturn:
        error, cause = failure.error, failure.__cause__
        note = f" {stop}" if str(stop) else ""
        reason = f"{error.unadvised}{note}"
        if not request.is_idempotent and error.reached_server:
            raise AmbiguousRequestError(
                reason, advice=[*error.advice, ambiguous_advice(started)]
            ) from cause
        raise type(error)(
            reason, reached_server=error.reached_server, advice=error.advice
        ) from cause

    def _raise_status(
        self,
        request: Request,
        response: Response,
        retry_after: float | None,
        stop: Stop,
        started: datetime,
    ) -> NoReturn:
        status = response.status
        detail = _parse_detail(response.body)
        summary = _summarize_detail(detail)
        rid = f" (request id {response.request_id})" if response.request_id else ""
        head = f"{request.method} {request.url} failed with {status} {response.reason}".rstrip()
        head += f": {summary}" if summary else ""
        head = head.rstrip(" .")  # the sentences below add their own full stop
        note = f" {stop}" if str(stop) else ""
        common: dict[str, Any] = {
            "status": status,
            "detail": detail,
            "request_id": response.request_id,
        }
        error: APIError
        if status in (401, 403):
            sent = " No API key was sent." if self._api_key is None else ""
            kind = AdviceKind.SEND_API_KEY if sent else AdviceKind.CHECK_API_KEY
            error = AuthenticationError(
                f"{head}{rid}.{sent}{note}", advice=[Advice.of(kind)], **common
            )
        elif status == 404:
            error = NotFoundError(f"{head}{rid}. Check the id and {ENV_URL}.{note}", **common)
        elif status == 429:
            # unless the note already says the server asked for a wait too long for the budget
            asked = retry_after is not None and not stop.asked
            wait = f" The server asked to wait {retry_after:g} s." if asked else ""
            error = RateLimitError(
                f"{head}{rid}. Too many requests: the platform allows about one new job per "
                f"second and a few running jobs at a time; wait and try again.{wait}{note}",
                retry_after=retry_after,
                **common,
            )
        elif status >= 500:
            error = ServerError(
                f"{head}{rid}. The server failed; try again later, and quote the request id "
                f"if you report it.{note}",
                **common,
            )
        elif status == 413:
            error = APIError(f"{head}{rid}. The request body is too large.{note}", **common)
        else:
            error = APIError(f"{head}{rid}.{note}", **common)
        if (
            not request.is_idempotent
            and status >= 500
            and not (status == 503 and retry_after is not None)
        ):
            raise AmbiguousRequestError(
                f"{head}{rid}.", advice=[ambiguous_advice(started)]
            ) from error
        raise error

    # ---------------------------------------------------------------- headers, proxies, TLS

    def _wire_headers(
        self, request: Request, target: _Target, redact: bool
    ) -> list[tuple[str, str]]:
        """Every header sent, in order: defaults, then the caller's, then the ones we own."""
        owned = {"host", "content-length", "connection", "transfer-encoding", API_KEY_HEADER}
        headers: dict[str, tuple[str, str]] = {
            "host": ("Host", target.netloc),
            "user-agent": ("User-Agent", self.user_agent),
            "accept": ("Accept", "application/json"),
        }
        for name, value in request.headers.items():
            if not _HEADER_NAME.fullmatch(name):
                raise DagkitValueError(f"invalid HTTP header name {name!r}")
            if name.lower() not in owned:
                headers[name.lower()] = (name, value)
        length = request.content_length
        if length is not None:
            headers["content-length"] = ("Content-Length", str(length))
        elif request.method in ("POST", "PUT", "PATCH"):
            headers["content-length"] = ("Content-Length", "0")
        key = self._key_for(target)
        if key is not None:
            headers[API_KEY_HEADER] = (API_KEY_HEADER, REDACTED if redact else key)
        for name, value in headers.values():
            if "\r" in value or "\n" in value or not value.isprintable():
                raise DagkitValueError(
                    f"the value of HTTP header {name} contains control characters"
                )
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                raise DagkitValueError(
                    f"the value of HTTP header {name} has characters HTTP cannot carry"
                ) from None
        return list(headers.values())

    def _proxy_for(self, target: _Target) -> _Proxy | None:
        if is_loopback(target.host):
            return None
        import urllib.request  # only here: it costs ~45 ms to import

        url = urllib.request.getproxies().get(target.scheme)
        if not url or urllib.request.proxy_bypass(f"{target.host}:{target.port}"):
            return None
        if "://" not in url:
            url = "http://" + url
        parts = urllib.parse.urlsplit(url)
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise DagkitValueError(
                f"unsupported proxy for {target.scheme} ({parts.scheme}://{parts.hostname}): "
                f"dagkit supports http:// proxies only"
            )
        authorization = None
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            authorization = f"Basic {token}"
            register_proxy_url(url)
        try:
            port = parts.port or 80
        except ValueError:
            raise DagkitValueError(
                f"the proxy URL for {target.scheme} has an invalid port"
            ) from None
        return _Proxy(parts.hostname, port, authorization)

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            try:
                self._ssl_context = ssl.create_default_context(cafile=self.ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise DagkitError(
                    f"cannot load the CA bundle {self.ca_bundle!r}: {exc}; give a PEM file"
                ) from exc
        return self._ssl_context

    # ---------------------------------------------------------------- redaction

    def _scrub(self, error: BaseException) -> None:
        """Last line of defence: no secret leaves in an error's arguments or details."""
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            current.args = redact_value(current.args)
            if isinstance(current, APIError):
                current.detail = redact_value(current.detail)
                current.request_id = redact_value(current.request_id)
            current = current.__cause__ or current.__context__

    def _log(self, level: int, message: str) -> None:
        if logger.isEnabledFor(level):
            logger.log(level, "%s", message)


# --------------------------------------------------------------------------- wire helpers


def _send_body(sock: socket.socket, body: bytes | Body) -> None:
    """Send a body with exactly its declared length, small pieces gathered into large sends."""
    if isinstance(body, bytes | bytearray | memoryview):
        sock.sendall(body)
        return
    if isinstance(body, SendsItself) and not isinstance(sock, ssl.SSLSocket):
        # Plain http: the body hands its files to the kernel (sendfile), ~1.5x faster than
        # passing each block through Python. TLS must encrypt in user space: blocks, below.
        body.send_to(sock)
        return
    expected = body.content_length
    sent = 0
    pending = bytearray()
    pieces = iter(body)
    while True:
        try:
            piece = next(pieces)
        except StopIteration:
            break
        except DagkitError:
            raise
        except (OSError, ValueError) as exc:
            raise DagkitError(f"could not read the request body: {exc}") from exc
        sent += len(piece)
        if sent > expected:
            # Stop before the excess: the server then holds an incomplete body, not a wrong one.
            raise DagkitValueError(
                f"the request body is longer than its declared {expected} bytes; nothing "
                f"was completed (did a file grow while it was being sent?)"
            )
        if len(pending) + len(piece) < _SEND_BLOCK:
            pending += piece
            continue
        if pending:
            sock.sendall(pending)
            pending.clear()
        if len(piece) < _SEND_BLOCK:
            pending += piece
        else:
            sock.sendall(piece)
    if pending:
        sock.sendall(pending)
    if sent != expected:
        raise DagkitValueError(
            f"the request body ended after {sent} of its declared {expected} bytes; nothing "
            f"was completed (did a file shrink while it was being sent?)"
        )


def answer_limit(environ: Mapping[str, str]) -> int:
    """The longest JSON answer to read: ``DAGKIT_MAX_ANSWER_BYTES`` if set, else 16 MB."""
    text = environ.get(limits.ENV_MAX_ANSWER_BYTES, "").strip().replace("_", "")
    if not text:
        return limits.MAX_ANSWER_BYTES
    if not (text.isascii() and text.isdigit() and int(text) > 0):
        raise DagkitValueError(
            f"{limits.ENV_MAX_ANSWER_BYTES}={text[:40]!r} is not a number of bytes; "
            f"unset it for the default ({limits.MAX_ANSWER_BYTES:,})"
        )
    return int(text)


def _read(answer: http.client.HTTPResponse, limit: int | None) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while limit is None or total < limit:
        chunk = answer.read(_READ_BLOCK)
        if not chunk:
            _check_complete(answer)
            break
        chunks.append(chunk)
        total += len(chunk)
    body = b"".join(chunks)
    return body if limit is None else body[:limit]


def _drain(answer: http.client.HTTPResponse, sink: _Sink) -> None:
    buffer = memoryview(bytearray(_READ_BLOCK))
    while True:
        count = answer.readinto(buffer)
        if not count:
            _check_complete(answer)
            return
        sink.write(buffer[:count])


def _check_complete(answer: http.client.HTTPResponse) -> None:
    # http.client reports a body that ends early as a normal end: compare with Content-Length.
    if answer.length:
        raise http.client.IncompleteRead(b"", answer.length)


def _connect_failure(
    exc: BaseException, target: _Target, host: str, port: int, proxy: _Proxy | None
) -> tuple[str, bool]:
    """What went wrong while connecting, with what to do, and whether trying again can help."""
    via = f" via proxy {proxy.display}" if proxy else ""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"the TLS certificate of {target.host} could not be verified ({exc.verify_message})"
            f"{via}.",
            False,
        )
    if isinstance(exc, socket.gaierror):
        return f"could not resolve the host name {host} ({exc.strerror}); check {ENV_URL}.", True
    if isinstance(exc, TimeoutError):
        return f"no connection to {host}:{port}{via} within the connect timeout.", True
    if isinstance(exc, ConnectionRefusedError):
        return (
            f"connection refused by {host}:{port}{via}: is the URL right and the server up?",
            True,
        )
    if str(exc).startswith("Tunnel connection failed"):
        # http.client's words for a CONNECT the proxy refused; 407 means bad proxy credentials
        return f"the proxy {host}:{port} refused the tunnel ({exc}).", "407" not in str(exc)
    return f"could not connect to {host}:{port}{via} ({_describe_os_error(exc)}).", True


def _downgrade(url: str, target: _Target) -> bool:
    """True when a redirect would take an https request to plain http."""
    return urllib.parse.urlsplit(url).scheme.lower() == "https" and target.scheme == "http"


def _request_id(headers: Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _describe_os_error(exc: BaseException) -> str:
    if isinstance(exc, http.client.IncompleteRead):
        return f"{exc.expected} bytes missing"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, BrokenPipeError):
        return "the server closed the connection"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def ambiguous_advice(started: datetime) -> Advice:
    """What to do after a create that may have been acted on: look for the job, do not resend."""
    return Advice.of(AdviceKind.LOOK_FOR_JOB, since=started.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _curl_quote(text: str) -> str:
    """A value inside curl's -F syntax: double quotes, with backslash escapes."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key_needs_loopback(
    origin: tuple[str, str, int], api_key: str | None, allow_insecure_key: bool
) -> bool:
    """Whether the key may go to ``origin`` only over connections to this machine (plain http,
    no consent); :class:`DagkitValueError` when the origin does not even name this machine."""
    scheme, host, _ = origin
    if api_key is None or scheme != "http" or allow_insecure_key:
        return False
    if not is_loopback(host):
        raise DagkitValueError(
            f"refusing to send the API key over plain http to {host}: anyone on the network "
            "could read it.",
            advice=[Advice.of(AdviceKind.USE_HTTPS)],
        )
    return True


def _clean_key(api_key: str | None) -> str | None:
    key = (api_key or "").strip()
    if not key:
        return None
    if not _KEY_CHARS.fullmatch(key):
        raise DagkitValueError(
            "the API key contains spaces or characters that cannot be sent in an HTTP header; "
            f"copy it again into {ENV_KEY}"
        )
    return key


def _clean_timeout(timeout: float | tuple[float, float]) -> tuple[float, float]:
    pair = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if len(pair) != 2 or not all(
        isinstance(t, int | float) and not isinstance(t, bool) and t > 0 for t in pair
    ):
        raise DagkitValueError(
            f"timeout must be seconds > 0, or a (connect, read) pair of them, not {timeout!r}"
        )
    return (float(pair[0]), float(pair[1]))
