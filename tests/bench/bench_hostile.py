"""Hostile and huge input: each must finish within 2 s and 100 MB on this machine.

    python tests/bench/bench_hostile.py [--slow 9000] [--only floor,nested,...]

Each case runs the command it concerns in a process of its own and reports that process's wall
time and peak RSS (``os.wait4``): ``dagkit validate`` for files, ``dagkit jobs ...`` against a
loopback server this script plays, and ``dagkit serve`` itself for the hostile requests, where
the time is the client's request and the memory the server's peak. The first row is the floor:
the same kind of process doing nothing hostile (``dagkit validate`` of a tiny valid file).

The cases:

- nested repeated keys: 900 levels, 100,000 repeats of one key inside (0.6 MB);
- repeated keys: 10^6 repeats of one key (6 MB), over the request_data limit;
- an answer list that breaks the schema (2 MB), read by ``validate`` and by ``jobs list``;
- a 1-byte-chunked ``.http`` capture (2.1 MB);
- 10^6 tiny multipart parts (11 MB) posted to ``dagkit serve``;
- a 500 MB answer to ``dagkit jobs get``;
- slow connections: N connections that never finish their request head, then a fast client
  (the time is the fast client's request; it must get its answer).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY = "bench-key"
LIMIT_SECONDS = 2.0
LIMIT_MB = 100.0
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "UNSTRUCTURED_API_KEY": KEY}


class Row:
    def __init__(self, name: str, seconds: float, rss_mb: float, outcome: str) -> None:
        self.name, self.seconds, self.rss_mb, self.outcome = name, seconds, rss_mb, outcome

    @property
    def within(self) -> bool:
        return self.seconds <= LIMIT_SECONDS and self.rss_mb <= LIMIT_MB


# Linux keeps a process's peak RSS across exec, so a command forked from this script (which
# builds large inputs) would report at least this script's peak. Commands are therefore started
# by a small launcher process, started first, and their figures come from its os.wait4().
LAUNCHER = r"""
import json, os, signal, subprocess, sys, tempfile, time
started = {}
for line in sys.stdin:
    op, args = json.loads(line)
    if op == "run":
        with tempfile.TemporaryFile() as out:
            t = time.perf_counter()
            p = subprocess.Popen(args, stdout=out, stderr=out)
            _, status, usage = os.wait4(p.pid, 0)
            took = time.perf_counter() - t
            out.seek(0)
            text = out.read().decode("utf-8", "replace").strip().splitlines()
        code = os.waitstatus_to_exitcode(status)
        result = [took, usage.ru_maxrss, code, text[-1] if text else ""]
    elif op == "start":
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started[p.pid] = p
        result = [p.pid, p.stdout.readline()]
    else:
        p = started.pop(args)
        p.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(p.pid, 0)
        result = [usage.ru_maxrss]
    print(json.dumps(result), flush=True)
"""


class Launcher:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=ENV,
            cwd=ROOT,
            text=True,
        )

    def ask(self, op: str, args: object) -> list[object]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps([op, args]) + "\n")
        self.process.stdin.flush()
        answer: list[object] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


LAUNCH: Launcher | None = None


def launcher() -> Launcher:
    global LAUNCH
    if LAUNCH is None:
        LAUNCH = Launcher()
    return LAUNCH


def run_measured(args: list[str]) -> tuple[float, float, int, str]:
    """Run a dagkit command; its wall time, peak RSS (MB), exit status and last output line."""
    took, rss_kb, code, last = launcher().ask("run", [sys.executable, "-m", "dagkit", *args])
    assert isinstance(took, float) and isinstance(rss_kb, int) and isinstance(code, int)
    return took, rss_kb / 1024, code, str(last)[:110]


# ------------------------------------------------------------------------------- inputs


def nested_repeats(path: Path) -> None:
    depth, keys = 900, 100_000
    inner = "{" + ",".join('"k":1' for _ in range(keys)) + "}"
    path.write_text('{"a":' * depth + inner + "}" * depth)


def many_repeats(path: Path) -> None:
    path.write_text("{" + ",".join('"k":1' for _ in range(1_000_000)) + "}")


def bad_list() -> bytes:
    item = {"id": "not-a-uuid", "status": "WHAT", "created_at": "yesterday"}
    return json.dumps([item] * 30_000).encode()


def one_byte_chunks(path: Path) -> None:
    rd = b'{"template_id": "hi_res_partition"}'
    body = (
        b'--xx\r\nContent-Disposition: form-data; name="request_data"\r\n\r\n' + rd + b"\r\n"
        b'--xx\r\nContent-Disposition: form-data; name="input_files"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + b"x" * 349_000 + b"\r\n--xx--\r\n"
    )
    chunked = b"".join(b"1\r\n%c\r\n" % c for c in body) + b"0\r\n\r\n"
    head = b"POST /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    path.write_bytes(head + b"Content-Type: multipart/form-data; boundary=xx\r\n\r\n" + chunked)


def write_bad_list(path: Path) -> None:
    path.write_bytes(bad_list())


# ----------------------------------------------------------------- a server this script plays


class Answers(http.server.ThreadingHTTPServer):
    """Answers GET /api/v1/jobs/ with a list that breaks the schema and any GET of one job
    with an endless stream of JSON (a 500 MB answer, never fully read)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.listing = bad_list()
        super().__init__(("127.0.0.1", 0), _AnswerHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _AnswerHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Answers

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/jobs"):
            self._send(self.server.listing)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(500_000_000))
        self.end_headers()
        block = b'"' + b"x" * (1 << 20) + b'",'
        try:
            self.wfile.write(b"[")
            for _ in range(480):
                self.wfile.write(block)
        except OSError:
            pass  # the client hung up

    def _send(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Serve:
    """``dagkit serve`` in a process of its own; its peak RSS once stopped."""

    def __init__(self) -> None:
        args = [sys.executable, "-m", "dagkit", "serve", "--port", "0", "--api-key", KEY, "-q"]
        pid, line = launcher().ask("start", args)
        self.pid = pid
        self.url = str(line).rsplit(" ", 1)[-1].strip()
        host_port = self.url.split("//", 1)[1]
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)

    def stop(self) -> float:
        (rss_kb,) = launcher().ask("stop", self.pid)
        assert isinstance(rss_kb, int)
        return rss_kb / 1024

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> int:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            connection.request(method, path, body, {"unstructured-api-key": KEY, **headers})
            answer = connection.getresponse()
            answer.read()
            return answer.status
        finally:
            connection.close()


# -------------------------------------------------------------------------------- cases


def case_floor(work: Path) -> Row:
    path = work / "small.json"
    path.write_text('{"template_id": "hi_res_partition"}')
    took, rss, code, last = run_measured(["validate", str(path)])
    return Row("floor: validate a tiny valid file", took, rss, f"exit {code}: {last}")


def make_input(make: Callable[[Path], None], path: Path) -> None:
    """Write an input from a process of its own: building it here would grow this one."""
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
    code += f"import bench_hostile as b; b.{make.__name__}(b.Path({str(path)!r}))"
    subprocess.run([sys.executable, "-c", code], check=True, env=ENV, cwd=ROOT)


def case_validate(name: str, make: Callable[[Path], None], filename: str) -> Callable[[Path], Row]:
    def run(work: Path) -> Row:
        path = work / filename
        make_input(make, path)
        size = path.stat().st_size / 1e6
        took, rss, code, last = run_measured(["validate", str(path)])
        return Row(f"{name} ({size:.1f} MB)", took, rss, f"exit {code}: {last}")

    return run


def case_bad_list_file(work: Path) -> Row:
    path = work / "list.response.json"
    make_input(write_bad_list, path)
    took, rss, code, last = run_measured(["validate", "--kind", "response", str(path)])
    name = "answer list breaking the schema, validate (2.0 MB)"
    return Row(name, took, rss, f"exit {code}: {last}")


def case_answers(work: Path, what: str) -> Row:
    server = Answers()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        if what == "list":
            args, name = ["jobs", "list"], "answer list breaking the schema, jobs list (2.0 MB)"
        else:
            args, name = ["jobs", "get", str(uuid.uuid4())], "500 MB answer, jobs get"
        took, rss, code, last = run_measured([*args, "--url", server.url])
    finally:
        server.shutdown()
        server.server_close()
    return Row(name, took, rss, f"exit {code}: {last}")


def tiny_parts(count: int) -> Iterator[bytes]:
    part = b"--xx\r\n\r\na\r\n"  # no Content-Disposition: each part is an error
    block = part * 10_000
    for _ in range(count // 10_000):
        yield block
    yield b"--xx--\r\n"


def case_tiny_parts(work: Path) -> Row:
    server = Serve()
    try:
        count = 1_000_000
        size = count * 11 + 8
        connection = http.client.HTTPConnection(server.host, server.port, timeout=120)
        started = time.perf_counter()
        connection.putrequest("POST", "/api/v1/jobs/")
        connection.putheader("unstructured-api-key", KEY)
        connection.putheader("Content-Type", "multipart/form-data; boundary=xx")
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        for block in tiny_parts(count):
            connection.send(block)
        answer = connection.getresponse()
        data = answer.read()
        took = time.perf_counter() - started
        connection.close()
        detail = json.loads(data)["detail"]
        shown = f"{len(detail):,} items in detail" if isinstance(detail, list) else repr(detail)
        outcome = f"{answer.status}: {shown} ({len(data):,} bytes)"
    finally:
        rss = server.stop()
    return Row(f"10^6 tiny multipart parts to serve ({size / 1e6:.0f} MB)", took, rss, outcome)


def case_slow_connections(work: Path, count: int) -> Row:
    server = Serve()
    slow: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.create_connection((server.host, server.port), timeout=30)
            sock.setblocking(False)
            with contextlib.suppress(OSError):  # refused or closed for room already
                sock.send(b"GET /api/v1/jobs/ HTTP/1.1\r\nHost: x\r\n")
            slow.append(sock)
        started = time.perf_counter()
        status = server.request("GET", "/api/v1/jobs/")
        took = time.perf_counter() - started
        for sock in slow:
            sock.close()
        slow.clear()
        after_started = time.perf_counter()
        after = server.request("GET", "/api/v1/jobs/")
        after_took = time.perf_counter() - after_started
        outcome = f"fast client {status}; after release {after} in {after_took * 1000:.0f} ms"
    finally:
        for sock in slow:
            sock.close()
        rss = server.stop()
    return Row(f"{count:,} slow connections to serve, then a fast client", took, rss, outcome)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=9000, help="slow connections to open")
    parser.add_argument(
        "--only",
        help="comma-separated cases: floor,nested,repeats,list-file,list,chunked,parts,answer,slow",
    )
    options = parser.parse_args()
    cases: list[tuple[str, Callable[[Path], Row]]] = [
        ("floor", case_floor),
        ("nested", case_validate("nested repeated keys, validate", nested_repeats, "nested.json")),
        ("repeats", case_validate("10^6 repeated keys, validate", many_repeats, "repeats.json")),
        ("list-file", case_bad_list_file),
        ("list", lambda work: case_answers(work, "list")),
        ("chunked", case_validate("1-byte chunked .http, validate", one_byte_chunks, "c.http")),
        ("parts", case_tiny_parts),
        ("answer", lambda work: case_answers(work, "get")),
        ("slow", lambda work: case_slow_connections(work, options.slow)),
    ]
    rows = []
    launcher()  # while this process is small
    with tempfile.TemporaryDirectory(prefix="dagkit-bench-") as temp:
        for key, case in cases:
            if options.only and key not in options.only.split(","):
                continue
            row = case(Path(temp))
            rows.append(row)
            mark = "ok  " if row.within else "OVER"
            print(f"{mark} {row.seconds:6.2f} s {row.rss_mb:7.1f} MB  {row.name}", flush=True)
            print(f"                           {row.outcome}", flush=True)
    over = [r for r in rows if not r.within]
    launcher().close()
    within = len(rows) - len(over)
    print(f"\n{within} of {len(rows)} within {LIMIT_SECONDS:g} s and {LIMIT_MB:g} MB")
    sys.exit(1 if over else 0)


if __name__ == "__main__":
    main()
