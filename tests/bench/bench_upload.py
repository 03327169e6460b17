"""Upload speed and memory of dagkit's transport, compared with curl in the same run.

    python tests/bench/bench_upload.py [--rounds 5] [--drain splice|recv]

1. Throughput: 10 files x 10 MB sent as one multipart create-job request to a local stdlib
   server (its own process) that drains the body (``--drain``: ``splice`` keeps it in the
   kernel, so the figure is the client's); the same files sent by
   ``curl -F ... -H 'Expect:'`` to the same server; and the machine's ceiling for this transfer:
   the same bytes on one plain socket, each file by one ``os.sendfile`` loop, with no HTTP
   client around it. Target: >= 3 GB/s median, and dagkit >= 0.8x curl. Where the ceiling
   itself is below 3 GB/s, the machine, not the client, bounds the figure.
2. Memory: peak RSS of a client process uploading a 100 MB and a 1 GB file. Target: the
   difference stays under 20 MB (the body streams; it is never held in memory).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import functools
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dagkit.http.transport import Request, RetryPolicy, Transport  # noqa: E402

FILES = 10
FILE_SIZE = 10 * 1000 * 1000
REQUEST_DATA = json.dumps({"job_nodes": [{"name": "Partitioner", "type": "partition"}]})


# --------------------------------------------------------------------------- the drain server


DRAINS = ("splice", "recv") if hasattr(os, "splice") else ("recv",)


class Drain(BaseHTTPRequestHandler):
    """Reads each request body and throws it away as cheaply as the machine allows, so that the
    figure is the client's: with ``splice`` (Linux) the bytes go socket -> pipe -> /dev/null
    inside the kernel and never reach user space; with ``recv`` they are read into one reused
    4 MiB buffer. dagkit and curl send to the same drain. The answer says how many body bytes
    arrived and the CPU seconds the drain thread spent on them."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    drain = DRAINS[0]

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        cpu = time.thread_time()
        remaining = int(self.headers.get("Content-Length") or 0)
        # The head was read through a buffer, which may already hold the first body bytes.
        buffered = self.rfile.peek(remaining)[:remaining] if remaining else b""
        self.rfile.read(len(buffered))
        received = len(buffered)
        if remaining > received:
            drain = _splice if self.drain == "splice" else _recv
            received += drain(self.connection, remaining - received)
        answer = {"received": received, "cpu": time.thread_time() - cpu}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


_PIPE_SIZE = 1 << 20  # the default pipe-max-size: fewer, larger splices


def _splice(sock: socket.socket, count: int) -> int:
    """Move up to ``count`` bytes from ``sock`` to /dev/null in the kernel; the count moved."""
    read_end, write_end = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        with contextlib.suppress(OSError, AttributeError):  # a smaller pipe only costs calls
            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        moved = 0
        while moved < count:
            got = os.splice(sock.fileno(), write_end, min(count - moved, _PIPE_SIZE))
            if not got:  # the client closed early
                break
            moved += got
            while got:
                got -= os.splice(read_end, devnull, got)
        return moved
    finally:
        for fd in (read_end, write_end, devnull):
            os.close(fd)


@functools.cache
def _recv_buffer() -> memoryview:
    """One 4 MiB buffer, made in the server only; its contents are dropped, so threads share it."""
    return memoryview(bytearray(4 << 20))


def _recv(sock: socket.socket, count: int) -> int:
    """Read and drop up to ``count`` bytes from ``sock``; the count read."""
    buffer = _recv_buffer()
    moved = 0
    while moved < count:
        got = sock.recv_into(buffer, min(count - moved, len(buffer)))
        if not got:
            break
        moved += got
    return moved


def serve(drain: str) -> None:
    Drain.drain = drain
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Drain)
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


# --------------------------------------------------------------------------- bodies


class _FilesBody:
    """A plain streaming multipart body, used when dagkit.wire.multipart is not there."""

    def __init__(self, paths: list[Path], boundary: str = "dagkit-bench-boundary") -> None:
        self.paths = paths
        self.boundary = boundary
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._heads = [
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="input_files"; '
                f'filename="{p.name}"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            for p in paths
        ]
        self._first = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="request_data"\r\n\r\n'
            f"{REQUEST_DATA}\r\n"
        ).encode()
        self._last = f"--{boundary}--\r\n".encode()
        sizes = sum(len(h) + p.stat().st_size + 2 for h, p in zip(self._heads, paths, strict=True))
        self.content_length = len(self._first) + sizes + len(self._last)

    def __iter__(self) -> Iterator[bytes]:
        yield self._first
        for head, path in zip(self._heads, self.paths, strict=True):
            yield head
            with path.open("rb") as f:
                while block := f.read(1 << 20):
                    yield block
            yield b"\r\n"
        yield self._last


def make_body(paths: list[Path]) -> tuple[Any, str]:
    try:
        from dagkit.wire.multipart import FileSpec, MultipartEncoder
    except ImportError:
        body = _FilesBody(paths)
        return body, "a plain streaming body (dagkit.wire.multipart not available)"
    encoder = MultipartEncoder(
        [("request_data", REQUEST_DATA)],
        [FileSpec(p, content_type="application/pdf") for p in paths],
    )
    return encoder, "dagkit.wire.multipart.MultipartEncoder"


CPU: list[float] = []  # dagkit's CPU seconds (user and system) per upload
DRAIN_CPU: dict[str, list[float]] = {"dagkit": [], "curl": []}  # the drain's, per upload


def upload(url: str, paths: list[Path]) -> float:
    """Seconds for one dagkit upload (request sent, answer read)."""
    transport = Transport(base_url=url, api_key="bench-key", retry=RetryPolicy(max_attempts=1))
    body, _ = make_body(paths)
    request = Request("POST", transport.url("/jobs/"), {"Content-Type": body.content_type}, body)
    cpu, start = time.process_time(), time.perf_counter()
    response = transport.send(request)
    elapsed = time.perf_counter() - start
    CPU.append(time.process_time() - cpu)
    answer = response.json()
    assert answer["received"] == body.content_length, response.text
    DRAIN_CPU["dagkit"].append(answer["cpu"])
    return elapsed


def curl_upload(url: str, paths: list[Path]) -> float:
    """Seconds curl spends on the same upload (its own time_total: no process start-up)."""
    command = ["curl", "-sS", "-w", "\\n%{time_total}", "-H", "Expect:"]
    command += ["-H", "unstructured-api-key: bench-key"]
    command += ["--form-string", f"request_data={REQUEST_DATA}"]
    for path in paths:
        command += ["-F", f"input_files=@{path};type=application/pdf"]
    command.append(f"{url}/api/v1/jobs/")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    answer, _, took = done.stdout.rpartition("\n")
    DRAIN_CPU["curl"].append(json.loads(answer)["cpu"])
    return float(took)


def ceiling_upload(url: str, paths: list[Path]) -> float:
    """Seconds for the least work that moves the same body to the same drain: the framing
    written once, each file handed to the kernel by ``os.sendfile`` until it is all sent, the
    answer read. No client does less, so this is what the machine allows."""
    body = _FilesBody(paths)
    port = int(url.rsplit(":", 1)[1])
    head = (
        f"POST /api/v1/jobs/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {body.content_type}\r\nContent-Length: {body.content_length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head + body._first)
        for part_head, path in zip(body._heads, paths, strict=True):
            sock.sendall(part_head)
            with path.open("rb") as f:
                size, offset = os.fstat(f.fileno()).st_size, 0
                while offset < size:
                    offset += os.sendfile(sock.fileno(), f.fileno(), offset, size - offset)
            sock.sendall(b"\r\n")
        sock.sendall(body._last)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    elapsed = time.perf_counter() - start
    received = json.loads(answer.partition(b"\r\n\r\n")[2])["received"]
    assert received == body.content_length, answer
    return elapsed


def client(url: str, size: int, folder: str) -> None:
    """Upload one sparse file of ``size`` bytes and print the peak RSS in KiB."""
    path = Path(folder) / f"sparse-{size}.bin"
    with path.open("wb") as f:
        f.truncate(size)
    try:
        upload(url, [path])
    finally:
        path.unlink()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


# --------------------------------------------------------------------------- the report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--drain",
        choices=DRAINS,
        default=DRAINS[0],
        help="how the server reads and drops bodies (default: %(default)s)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=3, metavar=("URL", "SIZE", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.drain)
        return
    if args.client:
        client(args.client[0], int(args.client[1]), args.client[2])
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--drain", args.drain],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        with tempfile.TemporaryDirectory(prefix="dagkit-bench-") as folder:
            report(url, Path(folder), args.rounds, args.drain)
    finally:
        server.terminate()
        server.wait()


def report(url: str, folder: Path, rounds: int, drain: str) -> None:
    paths = []
    for n in range(FILES):
        path = folder / f"file-{n}.pdf"
        path.write_bytes(os.urandom(FILE_SIZE))
        paths.append(path)
    total_mb = FILES * FILE_SIZE / 1e6
    _, kind = make_body(paths)
    print(f"body: {kind}; {FILES} files x {FILE_SIZE / 1e6:g} MB; best and median of {rounds}")
    print(f"server: drains each body with {drain}")

    upload(url, paths)  # warm the page cache and the server
    CPU.clear()
    DRAIN_CPU["dagkit"].clear()
    ours, theirs, ceiling = [], [], []
    for _ in range(rounds):  # interleaved, so all three see the same machine
        ours.append(upload(url, paths))
        if shutil.which("curl"):
            theirs.append(curl_upload(url, paths))
        ceiling.append(ceiling_upload(url, paths))
    best, median = min(ours), statistics.median(ours)
    print(f"dagkit : {total_mb / best:7.0f} MB/s best  {total_mb / median:7.0f} MB/s median")
    print(f"         client CPU per upload, median: {statistics.median(CPU) * 1000:.0f} ms")
    verdict = "ok" if total_mb / median >= 3000 else "BELOW TARGET"
    print(f"         target >= 3000 MB/s median: {verdict}")
    if theirs:
        cbest, cmedian = min(theirs), statistics.median(theirs)
        print(f"curl   : {total_mb / cbest:7.0f} MB/s best  {total_mb / cmedian:7.0f} MB/s median")
        ratio = cmedian / median
        drained = [statistics.median(DRAIN_CPU[k]) * 1000 for k in ("dagkit", "curl")]
        print("drain CPU per upload, median: {:.0f} ms (dagkit), {:.0f} ms (curl)".format(*drained))
        verdict = "ok" if ratio >= 0.8 else "BELOW TARGET"
        print(f"ratio dagkit/curl (median): {ratio:.2f}x  (target >= 0.8x: {verdict})")
    else:
        print("curl not installed: no comparison")
    cbest, cmedian = min(ceiling), statistics.median(ceiling)
    print(f"ceiling: {total_mb / cbest:7.0f} MB/s best  {total_mb / cmedian:7.0f} MB/s median")
    reach = cmedian / median
    print(f"         (the same bytes by bare os.sendfile; dagkit reaches {reach:.2f}x it)")

    peaks = {}
    for size in (100 * 1000 * 1000, 1000 * 1000 * 1000):
        done = subprocess.run(
            [sys.executable, __file__, "--client", url, str(size), str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        peaks[size] = int(done.stdout.strip()) / 1024
        print(f"peak RSS uploading {size / 1e6:6.0f} MB: {peaks[size]:6.1f} MiB")
    growth = peaks[1000 * 1000 * 1000] - peaks[100 * 1000 * 1000]
    verdict = "ok" if growth < 20 else "ABOVE TARGET"
    print(f"difference 1 GB - 100 MB: {growth:+.1f} MiB  (target < 20 MB: {verdict})")


if __name__ == "__main__":
    main()
