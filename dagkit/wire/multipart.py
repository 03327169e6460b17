"""The multipart/form-data wire format: a streaming, rewindable encoder and an incremental parser.

Encoding (:class:`MultipartEncoder`) reads files from disk block by block, knows the exact
Content-Length before the first byte is sent, and starts again from the first byte each time
it is iterated, so a retry or a 307/308 redirect resends the whole body.

Parsing (:class:`MultipartParser`) is push-style: feed it bytes as they arrive, get events
back. It holds at most a small window (the delimiter length, or the header limit) besides the
bytes it hands out, so a body of any size is parsed in constant memory. Broken framing is
reported as :class:`Problem` events of a :class:`ProblemKind` (a validator gives each kind its
finding code); the parser itself never raises on any input.

Parameter quoting (``name="..."``, ``filename="..."``) follows the HTML form-submission rules
of RFC 7578: ``"`` is sent as ``%22``, CR as ``%0D``, LF as ``%0A``. A backslash is sent as
``\\\\`` (an RFC 822 quoted-pair): the Python servers the platform runs on (and the stdlib
``email`` package) read quoted strings with backslash escapes, so a bare backslash would be
dropped (``a\\b`` arrives as ``ab``) and a trailing one would swallow the closing quote. Doubled,
it arrives intact there, and a parser that ignores escapes still finds the closing quote. The
percent escapes are not reversible for a name that already contains the text ``%22``, ``%0D`` or
``%0A``; browsers share that limit. Non-ASCII names are sent as raw UTF-8, as browsers do.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import BinaryIO, TypeAlias

from dagkit.core import limits
from dagkit.errors import MultipartError

__all__ = [
    "Event",
    "FileSpec",
    "MultipartEncoder",
    "MultipartParser",
    "PartData",
    "PartEnd",
    "PartInfo",
    "PartStart",
    "Problem",
    "ProblemKind",
    "check_boundary",
    "iter_parts",
    "parse_content_type",
    "quote_param",
]

CRLF = b"\r\n"
DEFAULT_BLOCK_SIZE = 1 << 20
MIN_BLOCK_SIZE = 1 << 16
# A file part goes to socket.sendfile in slices this long, so progress is reported as it goes.
SENDFILE_SLICE = 16 << 20

# RFC 2046 section 5.1.1: the characters a boundary may use (space only inside).
_BCHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")
# An RFC 9110 token: what a header name may be.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Transport padding allowed after a delimiter before its CRLF; more is not a delimiter line.
_MAX_PADDING = 256


def check_boundary(boundary: str) -> str | None:
    """Why ``boundary`` breaks RFC 2046 (1-70 of its characters, no final space), or None."""
    if not boundary:
        return "the boundary is empty"
    if len(boundary) > 70:
        return f"the boundary is {len(boundary)} characters long; at most 70 are allowed"
    bad = sorted({c for c in boundary if c not in _BCHARS})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        return f"the boundary contains characters RFC 2046 does not allow: {shown}"
    if boundary.endswith(" "):
        return "the boundary ends with a space"
    return None


def quote_param(value: str) -> str:
    """``value`` as a quoted header parameter that no character can break (see module docs)."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    )
    return f'"{escaped}"'


def _unescape_form_value(value: str) -> str:
    """Undo the HTML form escapes of a quoted name or filename."""
    if "%" not in value:
        return value
    return value.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")


def _split_params(value: str) -> tuple[str, dict[str, str], bool]:
    """Split ``main; key=value; key="quoted"`` into the lower-cased main value and parameters.

    Keys are lower-cased; the first occurrence of a key wins. The flag says whether the text was
    well formed (every quoted string closed).
    """
    semi = value.find(";")
    main = (value if semi < 0 else value[:semi]).strip().lower()
    params: dict[str, str] = {}
    well_formed = True
    i = len(value) if semi < 0 else semi + 1
    n = len(value)
    while i < n:
        while i < n and value[i] in " \t;":
            i += 1
        if i >= n:
            break
        eq = i
        while eq < n and value[eq] not in "=;":
            eq += 1
        key = value[i:eq].strip().lower()
        if eq >= n or value[eq] == ";":
            params.setdefault(key, "")
            i = eq
            continue
        i = eq + 1
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] == '"':
            i += 1
            close = value.find('"', i)
            if close >= 0 and value.find("\\", i, close) < 0:
                # nothing escaped: the text up to the closing quote, as the loop below reads it
                params.setdefault(key, value[i:close])
                i = close + 1
                continue
            out: list[str] = []
            closed = False
            while i < n:
                c = value[i]
                if c == "\\" and i + 1 < n and value[i + 1] in '\\"':
                    out.append(value[i + 1])
                    i += 2
                elif c == '"':
                    i += 1
                    closed = True
                    break
                else:
                    out.append(c)
                    i += 1
            well_formed = well_formed and closed
            text = "".join(out)
        else:
            end = value.find(";", i)
            end = n if end < 0 else end
            text = value[i:end].strip()
            i = end
        params.setdefault(key, text)
    return main, params, well_formed


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """``multipart/form-data; boundary="x"`` -> ``("multipart/form-data", {"boundary": "x"})``.

    The media type and parameter names are lower-cased; quoted values are unquoted.
    """
    main, params, _ = _split_params(value)
    return main, params


def _decode_ext_value(value: str) -> str | None:
    """Decode an RFC 5987 ``charset'lang'percent-encoded`` value, or None if it is not one."""
    parts = value.split("'", 2)
    if len(parts) != 3:
        return None
    charset, _lang, encoded = parts
    raw = bytearray()
    i = 0
    try:
        while i < len(encoded):
            c = encoded[i]
            if c == "%":
                raw += bytes.fromhex(encoded[i + 1 : i + 3])
                i += 3
            else:
                raw += c.encode("ascii")
                i += 1
        return raw.decode(charset or "utf-8")
    except (ValueError, LookupError):
        return None


# --------------------------------------------------------------------------------- encoder


@dataclass(frozen=True)
class FileSpec:
    """A file to send: a path (read from disk when sent) or the bytes themselves.

    ``filename`` defaults to the path's base name (bytes need one); ``content_type`` is guessed
    from the filename's extension unless given; ``field`` is the form field name.
    """

    source: str | os.PathLike[str] | bytes
    filename: str | None = None
    content_type: str | None = None
    field: str = "input_files"


@dataclass(frozen=True, slots=True)
class PartInfo:
    """One part of an encoded body, as a dry run shows it."""

    name: str
    filename: str | None
    content_type: str | None
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class _Part:
    name: str
    filename: str | None
    content_type: str | None
    head: bytes
    data: bytes | None
    path: str | None
    size: int


def _utf8(text: str, what: str) -> bytes:
    if not isinstance(text, str):
        raise MultipartError(f"{what} must be text, not {type(text).__name__}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MultipartError(f"{what} cannot be encoded as UTF-8: {exc.reason}") from None


class MultipartEncoder:
    """A multipart/form-data body that streams from disk and can be sent again from the start.

    ``fields`` are text parts (``request_data``); ``files`` are file parts. Each iteration
    yields the whole body: small pieces are joined and file contents come in ``block_size``
    blocks, never a whole file. ``progress(bytes_sent, total)`` is called after each block has
    been taken by the consumer.

    A file that changes size between construction and sending raises
    :class:`~dagkit.errors.MultipartError`, since the Content-Length would no longer be true.
    """

    def __init__(
        self,
        fields: Sequence[tuple[str, str]],
        files: Sequence[FileSpec] = (),
        *,
        boundary: str | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if block_size < MIN_BLOCK_SIZE:
            raise MultipartError(f"block_size must be at least {MIN_BLOCK_SIZE} bytes")
        self._block_size = block_size
        self._progress = progress
        self._fixed_boundary = boundary is not None
        if boundary is not None:
            problem = check_boundary(boundary)
            if problem:
                raise MultipartError(f"cannot use boundary {boundary!r}: {problem}")
        contents = [(name, _utf8(value, f"field {name!r}")) for name, value in fields]
        disk = [self._resolve_file(spec) for spec in files]
        self.boundary = boundary or self._random_boundary(
            [data for _, data in contents] + [d for d, _, _, _ in disk if d is not None]
        )
        needle = b"--" + self.boundary.encode("ascii")
        for name, data in contents:
            if needle in data:
                raise MultipartError(f"field {name!r} contains the boundary {self.boundary!r}")
        parts = [self._part(name, None, None, data, None, len(data)) for name, data in contents]
        for (blob, path, size, filename), spec in zip(disk, files, strict=True):
            if blob is not None and needle in blob:
                raise MultipartError(f"file {filename!r} contains the boundary {self.boundary!r}")
            content_type = spec.content_type or limits.guess_content_type(filename)
            parts.append(self._part(spec.field, filename, content_type, blob, path, size))
        self._parts = parts
        self._close = needle + b"--" + CRLF
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self.content_length = sum(len(p.head) + p.size + 2 for p in parts) + len(self._close)

    @property
    def headers(self) -> dict[str, str]:
        """The Content-Type and Content-Length headers that go with this body."""
        return {"Content-Type": self.content_type, "Content-Length": str(self.content_length)}

    @staticmethod
    def _random_boundary(contents: Sequence[bytes]) -> str:
        while True:
            boundary = "dagkit-" + secrets.token_hex(16)
            needle = b"--" + boundary.encode("ascii")
            # Files on disk are not scanned: 128 random bits will not occur in them by chance.
            if not any(needle in data for data in contents):
                return boundary

    @staticmethod
    def _resolve_file(spec: FileSpec) -> tuple[bytes | None, str | None, int, str]:
        """(bytes or None, path or None, size, filename) for one file spec."""
        if isinstance(spec.source, bytes | bytearray | memoryview):
            if spec.filename is None:
                raise MultipartError("a file given as bytes needs a filename")
            data = bytes(spec.source)
            return data, None, len(data), spec.filename
        path = os.fspath(spec.source)
        try:
            st = os.stat(path)
        except OSError as exc:
            raise MultipartError(f"cannot read file {path!r}: {exc.strerror}") from None
        if not os.path.isfile(path):
            raise MultipartError(f"{path!r} is not a regular file")
        filename = spec.filename if spec.filename is not None else os.path.basename(path)
        return None, path, st.st_size, filename

    def _part(
        self,
        name: str,
        filename: str | None,
        content_type: str | None,
        data: bytes | None,
        path: str | None,
        size: int,
    ) -> _Part:
        disposition = f"form-data; name={quote_param(name)}"
        if filename is not None:
            disposition += f"; filename={quote_param(filename)}"
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if content_type is not None:
            if any(c in content_type for c in "\r\n") or not content_type.isascii():
                raise MultipartError(f"content type {content_type!r} is not a header value")
            lines.append(f"Content-Type: {content_type}")
        head = _utf8("\r\n".join(lines) + "\r\n\r\n", f"part {name!r}")
        return _Part(name, filename, content_type, head, data, path, size)

    def __iter__(self) -> Iterator[bytes]:
        return self._blocks()

    def _blocks(self) -> Iterator[bytes]:
        """Join the small pieces into blocks of about ``block_size``; pass big ones through."""
        total = self.content_length
        sent = 0
        pending: list[bytes] = []
        pending_len = 0
        for piece in self._pieces():
            if pending_len + len(piece) < self._block_size:
                pending.append(piece)
                pending_len += len(piece)
                continue
            block = b"".join([*pending, piece]) if pending else piece
            pending, pending_len = [], 0
            yield block
            sent += len(block)
            if self._progress is not None:
                self._progress(sent, total)
        if pending:
            block = b"".join(pending)
            yield block
            sent += len(block)
            if self._progress is not None:
                self._progress(sent, total)
        if sent != total:  # a bug in the length arithmetic must never reach the wire silently
            raise MultipartError(f"sent {sent} bytes but announced {total}")

    def send_to(self, sock: socket.socket) -> None:
        """Send the whole body over a plain (not TLS) connected socket, file contents with
        :meth:`socket.socket.sendfile`: the kernel copies them from the page cache to the socket,
        so no block passes through Python. The framing is sent as :meth:`__iter__` would
        produce it (the same bytes, in the same order), and each call starts from the first
        byte again, so a retry or a redirect may call it again.

        Socket failures raise :class:`OSError`; a file that cannot be read, or that changed size
        since the encoder was made, raises :class:`~dagkit.errors.MultipartError`."""
        if self._fixed_boundary:
            # A caller-chosen boundary must be looked for in each file: that needs the bytes.
            for block in self._blocks():
                sock.sendall(block)
            return
        total = self.content_length
        sent = 0
        pending: list[bytes] = []
        for part in self._parts:
            pending.append(part.head)
            if part.data is not None:
                pending += (part.data, CRLF)
                continue
            assert part.path is not None
            framing = b"".join(pending)
            sock.sendall(framing)
            sent += len(framing)
            sent += self._sendfile(sock, part.path, part.size, sent, total)
            pending = [CRLF]
        pending.append(self._close)
        framing = b"".join(pending)
        sock.sendall(framing)
        sent += len(framing)
        if self._progress is not None:
            self._progress(sent, total)
        if sent != total:  # a bug in the length arithmetic must never reach the wire silently
            raise MultipartError(f"sent {sent} bytes but announced {total}")

    def _sendfile(self, sock: socket.socket, path: str, size: int, before: int, total: int) -> int:
        """Send one file's ``size`` bytes with sendfile; the count sent."""
        try:
            f = open(path, "rb", buffering=0)  # noqa: SIM115 (closed below, OSError mapped)
        except OSError as exc:
            raise MultipartError(f"cannot read file {path!r}: {exc.strerror}") from None
        with f:
            now = os.fstat(f.fileno()).st_size
            if now != size:
                raise MultipartError(_changed(path, size, now))
            done = 0
            while done < size:
                count = sock.sendfile(f, done, min(SENDFILE_SLICE, size - done))
                if not count:  # the file ended early: it shrank while being sent
                    raise MultipartError(_changed(path, size, done))
                done += count
                if self._progress is not None:
                    self._progress(before + done, total)
            now = os.fstat(f.fileno()).st_size
            if now != size:
                raise MultipartError(_changed(path, size, now))
        return done

    def _pieces(self) -> Iterator[bytes]:
        for part in self._parts:
            yield part.head
            if part.data is not None:
                yield part.data
            else:
                assert part.path is not None
                yield from self._read_file(part.path, part.size)
            yield CRLF
        yield self._close

    def _read_file(self, path: str, size: int) -> Iterator[bytes]:
        needle = b"--" + self.boundary.encode("ascii")
        tail = b""
        try:
            with open(path, "rb", buffering=0) as f:
                now = os.fstat(f.fileno()).st_size
                if now != size:
                    raise MultipartError(_changed(path, size, now))
                remaining = size
                while remaining:
                    chunk = f.read(min(self._block_size, remaining))
                    if not chunk:
                        raise MultipartError(_changed(path, size, size - remaining))
                    if self._fixed_boundary:
                        # A caller-chosen boundary could really occur in the file; check each
                        # block and the seam with the one before.
                        if needle in chunk or needle in tail + chunk[: len(needle)]:
                            raise MultipartError(f"file {path!r} contains the boundary")
                        tail = chunk[-(len(needle) - 1) :]
                    remaining -= len(chunk)
                    yield chunk
                if f.read(1):
                    raise MultipartError(_changed(path, size, os.fstat(f.fileno()).st_size))
        except OSError as exc:
            raise MultipartError(f"cannot read file {path!r}: {exc.strerror}") from None

    def outline(self) -> list[Event]:
        """The events a parser would emit for this body, made without reading any file: each
        part's start, the contents of text fields, and each part's end with its size. Lets a
        checker judge a body before it is sent without reading the files twice."""
        events: list[Event] = []
        offset = 0
        for index, part in enumerate(self._parts):
            headers = [("Content-Disposition", "form-data")]
            if part.content_type is not None:
                headers.append(("Content-Type", part.content_type))
            events.append(
                PartStart(index, part.name, part.filename, part.content_type, headers, offset)
            )
            if part.filename is None and part.data is not None:
                events.append(PartData(index, part.data))
            events.append(PartEnd(index, part.size))
            offset += len(part.head) + part.size + 2
        return events

    def describe(self) -> list[PartInfo]:
        """Every part with its size and SHA-256 (files are hashed by streaming them)."""
        infos = []
        for part in self._parts:
            digest = hashlib.sha256()
            if part.data is not None:
                digest.update(part.data)
            else:
                assert part.path is not None
                for chunk in self._read_file(part.path, part.size):
                    digest.update(chunk)
            infos.append(
                PartInfo(part.name, part.filename, part.content_type, part.size, digest.hexdigest())
            )
        return infos

    def __repr__(self) -> str:
        return (
            f"<MultipartEncoder boundary={self.boundary!r} parts={len(self._parts)} "
            f"content_length={self.content_length}>"
        )


def _changed(path: str, expected: int, now: int) -> str:
    return (
        f"file {path!r} changed size while the request was being sent "
        f"({expected} bytes announced, {now} now); the Content-Length would be wrong"
    )


# ---------------------------------------------------------------------------------- parser


@dataclass(frozen=True, slots=True)
class PartStart:
    """A part begins; ``offset`` is the body offset of its first header byte."""

    index: int
    name: str | None
    filename: str | None
    content_type: str | None
    headers: list[tuple[str, str]]
    offset: int


@dataclass(frozen=True, slots=True)
class PartData:
    """Some of a part's content, in order."""

    index: int
    data: bytes


@dataclass(frozen=True, slots=True)
class PartEnd:
    """A part ended after ``size`` bytes of content."""

    index: int
    size: int


class ProblemKind(Enum):
    """What is wrong with a multipart body, in the wire format's own terms."""

    FRAMING = "framing"  #: delimiters, CRLFs or part headers are broken
    TRUNCATED = "truncated"  #: the body ends before its closing delimiter
    AFTER_CLOSE = "after-close"  #: bytes after the closing delimiter, which servers ignore
    DISPOSITION = "disposition"  #: a part without Content-Disposition: form-data and a name

    @property
    def breaks_body(self) -> bool:
        """Whether a part or the body cannot be read as sent (all but bytes after the end)."""
        return self is not ProblemKind.AFTER_CLOSE


@dataclass(frozen=True, slots=True)
class Problem:
    """Broken framing at body ``offset``, in part ``part_index`` when it is inside one."""

    kind: ProblemKind
    message: str
    offset: int
    part_index: int | None


Event: TypeAlias = PartStart | PartData | PartEnd | Problem

_PREAMBLE, _HEADERS, _BODY, _EPILOGUE, _DONE = range(5)


class MultipartParser:
    """Incremental multipart/form-data parser: ``feed()`` bytes, get events; ``close()`` at the end.

    Every part yields one :class:`PartStart`, its :class:`PartData` in order, and one
    :class:`PartEnd`. A part whose headers cannot be read is skipped with a :class:`Problem`.
    """

    def __init__(self, boundary: str, *, max_header_bytes: int = 16384) -> None:
        if not boundary or "\r" in boundary or "\n" in boundary:
            raise MultipartError(f"cannot parse with boundary {boundary!r}")
        self.boundary = boundary
        self._delim = CRLF + b"--" + boundary.encode("utf-8")
        self._max_header_bytes = max_header_bytes
        # The first delimiter may open the body without a CRLF before it: pretend there was one.
        self._buf = CRLF
        self._pos = 0
        self._base = -2  # body offset of _buf[0]
        self._state = _PREAMBLE
        self._index = -1  # index of the current part
        self._skip = 0  # bytes at _pos that end the headers and are not content
        self._size = 0  # content bytes of the current part so far
        self._skipping = False  # the current part's headers were unreadable: drop its bytes
        self._saw_delimiter = False
        self._epilogue_crlf = False
        self._closed = False

    # -- public

    @property
    def parts(self) -> int:
        """The parts begun so far (those whose headers could not be read included)."""
        return self._index + 1

    def feed(self, data: bytes) -> list[Event]:
        """Parse the next bytes of the body; returns the events they complete."""
        if self._closed:
            raise MultipartError("feed() after close()")
        if not data:
            return []
        data = bytes(data)
        if self._pos < len(self._buf):
            self._base += self._pos
            self._buf = self._buf[self._pos :] + data
        else:
            self._base += len(self._buf)
            self._buf = data
        self._pos = 0
        events: list[Event] = []
        self._run(events, final=False)
        return events

    def close(self) -> list[Event]:
        """The body has ended: flush the last part and report what is missing."""
        if self._closed:
            return []
        events: list[Event] = []
        self._run(events, final=True)
        self._closed = True
        end = self._base + len(self._buf)
        if self._state == _PREAMBLE:
            if end <= 0:
                message = "the body is empty: not even a closing delimiter"
                events.append(Problem(ProblemKind.TRUNCATED, message, 0, None))
            else:
                why = "valid " if self._saw_delimiter else ""
                message = (
                    f"no {why}delimiter line '--{self.boundary}' in the body"
                    " (does the Content-Type name the boundary the body uses?)"
                )
                events.append(Problem(ProblemKind.FRAMING, message, 0, None))
        elif self._state == _HEADERS:
            message = f"the body ends inside the headers of part {self._index}"
            events.append(Problem(ProblemKind.TRUNCATED, message, end, self._index))
        elif self._state == _BODY:
            self._emit(len(self._buf), events)
            self._end_part(events)
            message = f"the body ends inside part {self._index}, without a closing delimiter"
            events.append(Problem(ProblemKind.TRUNCATED, message, end, self._index))
        elif self._state == _EPILOGUE and self._buf[self._pos :] == b"\r":
            message = "a stray CR after the closing delimiter"
            events.append(Problem(ProblemKind.AFTER_CLOSE, message, self._base + self._pos, None))
        self._state = _DONE
        self._buf = b""
        self._pos = 0
        return events

    # -- machinery

    def _run(self, events: list[Event], *, final: bool) -> None:
        while True:
            if self._state == _PREAMBLE:
                progressed = self._preamble(events, final)
            elif self._state == _HEADERS:
                progressed = self._headers(events)
            elif self._state == _BODY:
                progressed = self._body(events, final)
            elif self._state == _EPILOGUE:
                progressed = self._epilogue(events)
            else:
                self._pos = len(self._buf)
                progressed = False
            if not progressed:
                return

    def _classify(self, j: int, final: bool) -> tuple[str, int]:
        """What follows a delimiter that ends at ``j``.

        ("close", after "--"), ("part", at the CRLF ending the line), ("bad", j) when it is not
        a delimiter line, ("more", j) when more bytes are needed, ("truncated", j) at the end.
        """
        buf = self._buf
        n = len(buf)
        wait = "truncated" if final else "more"
        if n - j < 2:
            if n - j == 1 and buf[j] not in b"- \t\r":
                return "bad", j
            return wait, j
        if buf[j : j + 2] == b"--":
            return "close", j + 2
        k = j
        while k < n and k - j <= _MAX_PADDING and buf[k] in b" \t":
            k += 1
        if k - j > _MAX_PADDING:
            return "bad", j
        if n - k < 2:
            if n - k == 1 and buf[k] != 13:
                return "bad", j
            return wait, j
        return ("part", k) if buf[k : k + 2] == CRLF else ("bad", j)

    def _not_a_delimiter(self, i: int, events: list[Event], where: str) -> None:
        after = self._buf[i + len(self._delim) : i + len(self._delim) + 1]
        why = "LF alone: line endings must be CRLF" if after == b"\n" else f"{after!r}"
        message = f"the boundary appears {where} but is followed by {why}; not a delimiter"
        part = None if self._state == _PREAMBLE else self._index
        events.append(Problem(ProblemKind.FRAMING, message, self._base + i + 2, part))

    def _preamble(self, events: list[Event], final: bool) -> bool:
        buf = self._buf
        i = buf.find(self._delim, self._pos)
        if i < 0:
            self._pos = max(self._pos, len(buf) - len(self._delim) + 1)
            return False
        self._saw_delimiter = True
        kind, j = self._classify(i + len(self._delim), final)
        if kind == "more":
            self._pos = i
            return False
        if kind == "truncated":
            message = "the body ends after its first delimiter"
            events.append(Problem(ProblemKind.TRUNCATED, message, self._base + i + 2, None))
            self._state = _DONE
            return True
        if kind == "bad":
            self._not_a_delimiter(i, events, "before the first part")
            self._pos = i + len(self._delim)
            return True
        if kind == "close":
            self._state, self._pos = _EPILOGUE, j
        else:
            self._start_headers(j)
        return True

    def _start_headers(self, crlf_at: int) -> None:
        # The header block keeps the CRLF that ends the delimiter line in front of it, so that
        # an empty header block is found as CRLF CRLF like any other.
        self._index += 1
        self._state, self._pos = _HEADERS, crlf_at
        self._skipping = False
        self._size = 0

    def _headers(self, events: list[Event]) -> bool:
        buf, pos = self._buf, self._pos
        end = buf.find(b"\r\n\r\n", pos, pos + self._max_header_bytes + 4)
        delim = buf.find(self._delim, pos, pos + self._max_header_bytes + len(self._delim))
        if delim >= 0 and (end < 0 or delim < end):
            message = f"the headers of part {self._index} are not followed by an empty line"
            events.append(Problem(ProblemKind.FRAMING, message, self._base + pos + 2, self._index))
            self._state, self._skipping, self._skip = _BODY, True, 0
            self._pos = delim
            return True
        if end < 0:
            if len(buf) - pos > self._max_header_bytes + 4:
                message = f"the headers of part {self._index} exceed {self._max_header_bytes} bytes"
                events.append(
                    Problem(ProblemKind.FRAMING, message, self._base + pos + 2, self._index)
                )
                self._state, self._skipping, self._skip = _BODY, True, 0
                return True
            return False
        offset = self._base + pos + 2
        start = self._parse_part_headers(buf[pos + 2 : end], offset, events)
        if start is None:
            self._skipping = True
        else:
            events.append(start)
        # Search for the closing delimiter from the last CRLF of the blank line: a body that
        # starts with the delimiter is an empty part.
        self._state, self._pos, self._skip = _BODY, end + 2, 2
        return True

    def _parse_part_headers(self, raw: bytes, offset: int, events: list[Event]) -> PartStart | None:
        index = self._index
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        headers: list[tuple[str, str]] = []
        for line in text.split("\r\n") if text else []:
            if "\r" in line or "\n" in line:
                message = f"part {index} has a bare CR or LF inside a header line"
                events.append(Problem(ProblemKind.FRAMING, message, offset, index))
                return None
            if line[:1] in (" ", "\t") and headers:  # obsolete line folding
                key, value = headers[-1]
                headers[-1] = (key, f"{value} {line.strip()}")
                continue
            key, colon, value = line.partition(":")
            if not colon or not _TOKEN.fullmatch(key):
                message = f"part {index} has a header line that is not 'Name: value': {line[:60]!r}"
                events.append(Problem(ProblemKind.FRAMING, message, offset, index))
                return None
            headers.append((key, value.strip()))
        disposition = _first(headers, "content-disposition")
        content_type = _first(headers, "content-type")
        name: str | None = None
        filename: str | None = None
        if disposition is None:
            message = f"part {index} has no Content-Disposition header"
            events.append(Problem(ProblemKind.DISPOSITION, message, offset, index))
        else:
            kind, params, well_formed = _split_params(disposition)
            if not well_formed:
                message = f"part {index} has a Content-Disposition with an unclosed quote"
                events.append(Problem(ProblemKind.FRAMING, message, offset, index))
            if kind != "form-data":
                message = f"part {index} has Content-Disposition {kind!r}, not 'form-data'"
                events.append(Problem(ProblemKind.DISPOSITION, message, offset, index))
            if "name" in params:
                name = _unescape_form_value(params["name"])
            else:
                message = f"part {index} has a Content-Disposition without a name"
                events.append(Problem(ProblemKind.DISPOSITION, message, offset, index))
            if "filename*" in params:
                filename = _decode_ext_value(params["filename*"])
            if filename is None and "filename" in params:
                filename = _unescape_form_value(params["filename"])
        return PartStart(index, name, filename, content_type, headers, offset)

    def _emit(self, end: int, events: list[Event]) -> None:
        """Hand out the content between the current position and ``end``."""
        start = self._pos + self._skip
        if end < start:
            return
        if end > start and not self._skipping:
            events.append(PartData(self._index, self._buf[start:end]))
            self._size += end - start
        self._pos, self._skip = end, 0

    def _end_part(self, events: list[Event]) -> None:
        if not self._skipping:
            events.append(PartEnd(self._index, self._size))

    def _body(self, events: list[Event], final: bool) -> bool:
        buf = self._buf
        i = buf.find(self._delim, self._pos)
        if i < 0:
            # Keep back what could be the start of a delimiter split across two feeds.
            tail = max(self._pos, len(buf) - len(self._delim) + 1)
            cr = buf.find(b"\r", tail)
            self._emit(len(buf) if cr < 0 else cr, events)
            return False
        kind, j = self._classify(i + len(self._delim), final)
        if kind == "more":
            self._emit(i, events)
            return False
        if kind == "bad":
            self._not_a_delimiter(i, events, f"inside part {self._index}")
            self._emit(i + len(self._delim), events)
            return True
        self._emit(i, events)
        self._pos, self._skip = i, 0
        self._end_part(events)
        if kind == "truncated":
            message = f"the body ends after a delimiter, without the closing '--{self.boundary}--'"
            events.append(Problem(ProblemKind.TRUNCATED, message, self._base + i + 2, self._index))
            self._state = _DONE
        elif kind == "close":
            self._state, self._pos = _EPILOGUE, j
        else:
            self._start_headers(j)
        return True

    def _epilogue(self, events: list[Event]) -> bool:
        # Allowed after the closing delimiter: transport padding, then one CRLF. Anything more
        # is reported once and dropped.
        buf, pos = self._buf, self._pos
        while pos < len(buf):
            byte = buf[pos]
            if byte in b" \t" and not self._epilogue_crlf:
                pos += 1
            elif byte == 13 and not self._epilogue_crlf and pos + 1 == len(buf):
                break  # maybe the CR of the final CRLF: wait for the LF
            elif buf[pos : pos + 2] == CRLF and not self._epilogue_crlf:
                self._epilogue_crlf = True
                pos += 2
            else:
                message = "bytes after the closing delimiter; servers ignore them"
                events.append(Problem(ProblemKind.AFTER_CLOSE, message, self._base + pos, None))
                self._state = _DONE
                pos = len(buf)
        self._pos = pos
        return False


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def iter_parts(
    stream: bytes | BinaryIO | Iterable[bytes], boundary: str
) -> Iterator[tuple[PartStart, bytes]]:
    """Each part with its whole content, for small bodies and tests.

    Raises :class:`~dagkit.errors.MultipartError` on the first framing error (warnings such as
    bytes after the closing delimiter are ignored).
    """
    parser = MultipartParser(boundary)
    current: PartStart | None = None
    chunks: list[bytes] = []
    for events in _parse_all(parser, stream):
        for event in events:
            if isinstance(event, PartStart):
                current, chunks = event, []
            elif isinstance(event, PartData):
                chunks.append(event.data)
            elif isinstance(event, PartEnd):
                assert current is not None
                yield current, b"".join(chunks)
            elif event.kind.breaks_body:
                raise MultipartError(
                    f"broken multipart body at byte {event.offset}: {event.message}"
                )


def _parse_all(
    parser: MultipartParser, stream: bytes | BinaryIO | Iterable[bytes]
) -> Iterator[list[Event]]:
    for block in read_blocks(stream):
        yield parser.feed(block)
    yield parser.close()


def read_blocks(
    stream: bytes | BinaryIO | Iterable[bytes], block_size: int = DEFAULT_BLOCK_SIZE
) -> Iterator[bytes]:
    """The bytes of ``stream`` (bytes, a binary file, or an iterable of bytes) in blocks."""
    if isinstance(stream, bytes | bytearray | memoryview):
        data = bytes(stream)
        for i in range(0, len(data), block_size):
            yield data[i : i + block_size]
        return
    read = getattr(stream, "read", None)
    if read is not None:
        while True:
            block = read(block_size)
            if not block:
                return
            if not isinstance(block, bytes | bytearray | memoryview):
                raise MultipartError("the stream must be opened in binary mode")
            yield bytes(block)
    else:
        for block in stream:
            if not isinstance(block, bytes | bytearray | memoryview):
                raise MultipartError("the stream must yield bytes")
            yield bytes(block)
