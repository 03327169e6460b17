"""HTTP/1.1 framing, read once for all of dagkit: message heads and chunked bodies.

``dagkit validate`` reads captured requests and responses with it, and the embedded server reads
request bodies from its sockets with it, so a capture and a live request are framed by the same
code. Everything here is linear in its input (a body of one-byte chunks included) and holds at
most one block besides what it hands out.

Reading is lenient where HTTP lets a recipient be (RFC 9112 §2.2): a line may end in a bare LF,
which hand-edited captures often have.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from typing import Protocol

from dagkit.errors import FramingError

__all__ = [
    "BlockReader",
    "FramingError",
    "Head",
    "LineReader",
    "coalesce",
    "dechunk",
    "is_hex_size",
    "read_head",
]

#: The longest chunk-size line (with its extensions) and trailer line read.
MAX_CHUNK_LINE = 4096
#: Trailer lines after the last chunk read before giving up.
MAX_TRAILERS = 100
_BLOCK = 1 << 20
_HEX = frozenset(b"0123456789abcdefABCDEF")
#: A chunk-size line of the usual form, for the fast path (the slow one judges the rest).
_SIZE_LINE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]{0,4000})?\r?\n")


class LineReader(Protocol):
    """What the readers here need: a socket file (``io.BufferedReader``), a :class:`BlockReader`."""

    def readline(self, limit: int = -1, /) -> bytes: ...

    def read(self, size: int = -1, /) -> bytes: ...


class BlockReader:
    """:class:`LineReader` over an iterable of byte blocks, in linear time.

    Each byte is searched once and copied at most twice (a line that spans blocks is joined
    once), so a body of a million tiny lines costs what its bytes cost.
    """

    def __init__(self, blocks: Iterable[bytes]) -> None:
        self._blocks = iter(blocks)
        self._buf = b""
        self._pos = 0

    def _more(self) -> bool:
        """Move on to the next non-empty block (the current one is used up); False at the end."""
        for block in self._blocks:
            if block:
                self._buf, self._pos = block, 0
                return True
        return False

    def readline(self, limit: int = -1, /) -> bytes:
        """Up to and including the next ``\\n``; at most ``limit`` bytes; ``b""`` at the end."""
        pieces: list[bytes] = []
        got = 0
        while True:
            if self._pos >= len(self._buf) and not self._more():
                break
            stop = len(self._buf) if limit < 0 else min(len(self._buf), self._pos + limit - got)
            end = self._buf.find(b"\n", self._pos, stop)
            piece = self._take((stop if end < 0 else end + 1) - self._pos)
            pieces.append(piece)
            got += len(piece)
            if end >= 0 or got == limit:
                break
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes (at most one block's worth; fewer only at the end)."""
        if self._pos >= len(self._buf) and not self._more():
            return b""
        end = len(self._buf) if size < 0 else self._pos + size
        return self._take(min(end, len(self._buf)) - self._pos)

    def _take(self, size: int) -> bytes:
        data = self._buf[self._pos : self._pos + size]
        self._pos += len(data)
        return data

    def take_chunks(self) -> tuple[bytes, bool]:
        """The data of the whole, well-formed chunks at hand, and whether the last chunk (size 0)
        was among them. The fast path of :func:`dechunk`: one regular-expression match per
        chunk; anything unusual (a chunk across blocks, a broken frame) is left to the slow one.
        """
        buf, pos = self._buf, self._pos
        out: list[bytes] = []
        match = _SIZE_LINE.match
        done = False
        while (found := match(buf, pos)) is not None:
            size = int(found.group(1), 16)
            start = found.end()
            if size == 0:
                pos, done = start, True
                break
            end = start + size
            if buf[end : end + 2] == b"\r\n":
                after = end + 2
            elif buf[end : end + 1] == b"\n":
                after = end + 1
            else:
                break
            if size <= _SMALL and (run := _run_of(found.group(0), size).match(buf, pos)):
                # A run of tiny chunks alike (how a hostile client sends): one match for all
                # of them, and their data gathered by strided slices, not a loop per chunk.
                stride = after - pos
                count = (run.end() - pos) // stride
                out.append(_gather(buf, start, pos + count * stride, size, stride))
                pos += count * stride
                continue
            out.append(buf[start:end])
            pos = after
        self._pos = pos
        return b"".join(out), done

    def rest(self) -> Iterator[bytes]:
        """What has not been read, in blocks."""
        if self._pos < len(self._buf):
            data = self._buf[self._pos :]
            self._buf, self._pos = b"", 0
            yield data
        yield from self._blocks


_SMALL = 64  # chunks up to this size are looked for in runs


@functools.lru_cache(maxsize=64)
def _run_of(size_line: bytes, size: int) -> re.Pattern[bytes]:
    """Consecutive chunks with this very size line, each followed by CRLF."""
    # possessive (++): nothing to backtrack into, and several times faster
    return re.compile(b"(?:" + re.escape(size_line) + b"[\\s\\S]{%d}\r\n)++" % size)


def _gather(buf: bytes, first: int, end: int, size: int, stride: int) -> bytes:
    """The data of chunks of ``size`` bytes, ``stride`` bytes apart, from ``first`` to ``end``."""
    if size == 1:
        return buf[first:end:stride]
    out = bytearray(((end - first + stride - 1) // stride) * size)
    for j in range(size):
        out[j::size] = buf[first + j : end : stride]
    return bytes(out)


# ------------------------------------------------------------------------------------ heads


class Head:
    """A message head: its start line, its fields in order, and how many lines it took."""

    def __init__(self, start_line: bytes, fields: list[tuple[str, str]], lines: int) -> None:
        self.start_line = start_line
        self.fields = fields
        self.lines = lines  # the start line, the fields and the empty line that ends the head

    def get(self, name: str, default: str = "") -> str:
        """A field's value (repeated fields joined with ``", "``, as RFC 9110 §5.3 allows)."""
        values = [v for n, v in self.fields if n == name.lower()]
        return ", ".join(values) if values else default

    def __contains__(self, name: str) -> bool:
        return any(n == name.lower() for n, _ in self.fields)

    @property
    def chunked(self) -> bool:
        return "chunked" in self.get("transfer-encoding").lower()


def read_head(reader: LineReader, *, limit: int, strict_names: bool = False) -> Head:
    """The head at the start of ``reader``: the start line, then fields up to an empty line.

    ``limit`` bounds the whole head in bytes. Folded lines (obs-fold) continue the field before
    them. ``strict_names`` refuses whitespace around a field name, as a server must (RFC 9112
    §5.1); without it a name is stripped. Raises :class:`FramingError`.
    """
    left = limit
    start = reader.readline(left + 1)
    left -= len(start)
    if not start.endswith(b"\n"):
        raise FramingError(_no_end(start, limit))
    fields: list[tuple[str, str]] = []
    lines = 1
    while True:
        line = reader.readline(left + 1)
        left -= len(line)
        lines += 1
        if not line.endswith(b"\n") or left < 0:
            raise FramingError(_no_end(line, limit))
        text = line.rstrip(b"\r\n").decode("latin-1")
        if not text:
            return Head(start.rstrip(b"\r\n"), fields, lines)
        if text[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {text.strip()}".strip())
            continue
        name, colon, value = text.partition(":")
        if not colon or not name.strip() or (strict_names and name != name.strip()):
            raise FramingError(f"line {lines} is not a header 'Name: value': {text[:80]!r}")
        fields.append((name.strip().lower(), value.strip()))


def _no_end(line: bytes, limit: int) -> str:
    if not line:
        return "the head ends before the empty line that closes it"
    return f"no end of the head (an empty line) in the first {limit:,} bytes"


# ---------------------------------------------------------------------------- chunked bodies


def is_hex_size(text: bytes) -> bool:
    """Whether ``text`` is a chunk size: hex digits only (``int()`` would also take ``-4``,
    ``+4``, ``0x4`` or ``4_0``), and at most 16 of them."""
    return 0 < len(text) <= 16 and not text.translate(None, bytes(_HEX))


def dechunk(reader: LineReader, *, block: int = _BLOCK) -> Iterator[bytes]:
    """The data of a ``Transfer-Encoding: chunked`` body, read from ``reader``.

    Reads exactly the chunked body and its trailers (a socket's next request stays unread).
    Raises :class:`FramingError` where the framing breaks; pieces before it are already out.
    """
    fast = reader.take_chunks if isinstance(reader, BlockReader) else None
    while True:
        if fast is not None:
            data, done = fast()
            if data:
                yield data
            if done:
                _trailers(reader)
                return
        line = reader.readline(MAX_CHUNK_LINE)
        if not line.endswith(b"\n"):
            raise FramingError("the chunked body ends or breaks where a chunk size line should be")
        size_text = line.split(b";", 1)[0].strip()
        if not is_hex_size(size_text):
            raise FramingError(f"a chunk size that is not hexadecimal: {size_text[:20]!r}")
        size = int(size_text, 16)
        if size == 0:
            _trailers(reader)
            return
        while size:
            piece = reader.read(min(size, block))
            if not piece:
                raise FramingError("the chunked body ends in the middle of a chunk")
            size -= len(piece)
            yield piece
        if reader.readline(3) not in (b"\r\n", b"\n"):
            raise FramingError("a chunk is not followed by CRLF")


def _trailers(reader: LineReader) -> None:
    for _ in range(MAX_TRAILERS):
        line = reader.readline(MAX_CHUNK_LINE)
        if line in (b"\r\n", b"\n", b""):  # a capture may end right after the last chunk
            return
        if not line.endswith(b"\n"):
            raise FramingError("a trailer line of the chunked body is cut short or too long")
    raise FramingError(f"more than {MAX_TRAILERS} trailer lines after the chunked body")


def coalesce(pieces: Iterable[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    """The same bytes in blocks of at least ``size`` (but the last): a body sent in tiny chunks
    then costs its consumer a call per block, not per chunk."""
    pending = bytearray()
    for piece in pieces:
        if not pending and len(piece) >= size:
            yield piece
            continue
        pending += piece
        if len(pending) >= size:
            yield bytes(pending)
            pending.clear()
    if pending:
        yield bytes(pending)
