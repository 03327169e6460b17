"""HTTP/1.1 framing shared by captures and the server: heads and chunked bodies."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagkit.validate.capture import validate_http_request
from dagkit.wire.http1 import BlockReader, FramingError, coalesce, dechunk, read_head

CT = b"multipart/form-data; boundary=xx"


def _encode(pieces: list[bytes], *, ext: bytes = b"", end: bytes = b"\r\n") -> bytes:
    return b"".join(b"%x%s\r\n%s%s" % (len(p), ext, p, end) for p in pieces) + b"0\r\n\r\n"


def _blocks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@given(
    st.lists(st.binary(min_size=1, max_size=80), max_size=40),
    st.integers(1, 300),
    st.sampled_from([b"", b";name=value", b" "]),
    st.sampled_from([b"\r\n", b"\n"]),
)
def test_dechunk_round_trips_whatever_the_blocks(
    pieces: list[bytes], block: int, ext: bytes, end: bytes
) -> None:
    encoded = _encode(pieces, ext=ext, end=end)
    from_blocks = b"".join(dechunk(BlockReader(_blocks(encoded, block))))
    from_a_socket_file = b"".join(dechunk(io.BufferedReader(io.BytesIO(encoded))))
    assert from_blocks == from_a_socket_file == b"".join(pieces)


@given(st.binary(max_size=200), st.integers(1, 50), st.lists(st.integers(-1, 40), max_size=30))
def test_block_reader_reads_like_a_file(data: bytes, block: int, limits: list[int]) -> None:
    reader, reference = BlockReader(_blocks(data, block)), io.BytesIO(data)
    for limit in limits:
        assert reader.readline(limit) == reference.readline(limit)
    assert b"".join(reader.rest()) == reference.read()


def test_dechunk_reads_no_further_than_the_body() -> None:
    reader = io.BufferedReader(io.BytesIO(_encode([b"abc"]) + b"GET /next HTTP/1.1\r\n"))
    assert b"".join(dechunk(reader)) == b"abc"
    assert reader.read() == b"GET /next HTTP/1.1\r\n"


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        (b"-3\r\nabc\r\n0\r\n\r\n", "not hexadecimal"),
        (b"0x3\r\nabc\r\n0\r\n\r\n", "not hexadecimal"),
        (b"5\r\nabc", "middle of a chunk"),
        (b"3\r\nabcX\r\n0\r\n\r\n", "not followed by CRLF"),
        (b"3\r\nabc\r\n", "chunk size line"),
        (b"3" * 5000, "chunk size line"),
    ],
)
def test_broken_chunked_framing_says_what_is_wrong(encoded: bytes, message: str) -> None:
    with pytest.raises(FramingError, match=message):
        b"".join(dechunk(BlockReader(_blocks(encoded, 2))))


def test_one_byte_chunks_cost_what_their_bytes_cost() -> None:
    # 3.7 MB of one-byte chunks took about half a minute: each chunk copied the rest of its block.
    body = (
        b'--xx\r\nContent-Disposition: form-data; name="request_data"\r\n\r\n'
        b'{"template_id": "hi_res_partition"}\r\n--xx\r\nContent-Disposition: form-data; '
        b'name="input_files"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n'
        + b"x" * 620_000
        + b"\r\n--xx--\r\n"
    )
    head = b"POST /api/v1/jobs/ HTTP/1.1\r\nContent-Type: " + CT
    raw = head + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + _encode([bytes([c]) for c in body])
    assert len(raw) > 3_700_000
    assert validate_http_request(io.BytesIO(raw)) == []


def test_read_head_folds_lines_joins_repeats_and_counts_lines() -> None:
    reader = BlockReader([b"POST / HTTP/1.1\nA: 1\n  more\nB: x\nb: y\r\n\r\nbody"])
    head = read_head(reader, limit=1000)
    assert head.start_line == b"POST / HTTP/1.1"
    assert head.get("a") == "1 more" and head.get("B") == "x, y"
    assert head.lines == 6
    assert b"".join(reader.rest()) == b"body"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"POST / HTTP/1.1\r\nA: 1\r\n", "ends before the empty line"),
        (b"POST / HTTP/1.1\r\n" + b"A: 1\r\n" * 100, "first 200 bytes"),
        (b"POST / HTTP/1.1\r\nno colon\r\n\r\n", "not a header"),
    ],
)
def test_read_head_refuses_what_is_not_a_head(raw: bytes, message: str) -> None:
    with pytest.raises(FramingError, match=message):
        read_head(BlockReader([raw]), limit=200)


def test_strict_names_refuse_space_before_the_colon() -> None:
    raw = b"POST / HTTP/1.1\r\nName : v\r\n\r\n"
    assert read_head(BlockReader([raw]), limit=100).get("name") == "v"
    with pytest.raises(FramingError):
        read_head(BlockReader([raw]), limit=100, strict_names=True)


def test_coalesce_gathers_small_pieces() -> None:
    out = list(coalesce([b"a"] * 10 + [b"b" * 8], size=4))
    assert b"".join(out) == b"a" * 10 + b"b" * 8
    assert all(len(block) >= 4 for block in out)
