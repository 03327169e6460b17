"""What a kept-alive connection saves, per request, against a new connection each time.

    python tests/bench/bench_transport.py [--requests 300] [--rounds 5]

A small stdlib server in its own process answers ``GET /api/v1/jobs/j`` with a job's JSON, over
plain http and (when ``openssl`` can make a certificate) https. The same transport sends the
same GET, in rounds that alternate: once as it does (one connection kept for every request),
once closing its kept connection after each request, which is what it did before connections
were kept (the peer, measured in the same run). Printed per request: wall time and the client
process's CPU time (load-proof); the ratios are what count on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dagkit.http.transport import Request, Transport  # noqa: E402

JOB = json.dumps({"id": "j", "status": "COMPLETED", "created_at": "2026-12-01T00:00:00Z"}).encode()


class Answer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response_only(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(JOB)))
        self.end_headers()
        self.wfile.write(JOB)


def serve(cert: str | None, key: str | None) -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    httpd.daemon_threads = True
    if cert and key:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def certificate(folder: Path) -> tuple[str, str] | None:
    if shutil.which("openssl") is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def one_round(transport: Transport, count: int, kept: bool) -> tuple[float, float]:
    """Wall and CPU seconds per request."""
    request = Request("GET", transport.url("/jobs/j"))
    transport.close()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        transport.send(request)
        if not kept:
            transport.close()
    return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count


def bench(scheme: str, cert: tuple[str, str] | None, count: int, rounds: int) -> None:
    args = [sys.executable, __file__, "--serve", *(cert or ())]
    server = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        transport = Transport(
            base_url=f"{scheme}://localhost:{port}",
            api_key="bench-key",
            ca_bundle=cert[0] if cert else None,
        )
        one_round(transport, 20, True)  # warm up: imports, TLS context
        figures: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(rounds):
            for kept in (True, False):
                figures[kept].append(one_round(transport, count, kept))
    finally:
        server.terminate()
        server.wait()
    print(f"{scheme}: {count} GETs x {rounds} rounds each way, medians per request")
    for kept, label in ((True, "kept connection"), (False, "new connection each (peer)")):
        wall = statistics.median(w for w, _ in figures[kept]) * 1000
        cpu = statistics.median(c for _, c in figures[kept]) * 1000
        print(f"  {label:28s} wall {wall:6.3f} ms   client CPU {cpu:6.3f} ms")
    ratio_wall = statistics.median(w for w, _ in figures[False]) / statistics.median(
        w for w, _ in figures[True]
    )
    ratio_cpu = statistics.median(c for _, c in figures[False]) / statistics.median(
        c for _, c in figures[True]
    )
    print(f"  peer / kept: wall {ratio_wall:.2f}x, client CPU {ratio_cpu:.2f}x")


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        serve(*(sys.argv[2:4] or (None, None)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    bench("http", None, args.requests, args.rounds)
    with tempfile.TemporaryDirectory(prefix="dagkit-bench-tls-") as folder:
        cert = certificate(Path(folder))
        if cert is None:
            print("https: skipped (openssl is not installed)")
        else:
            bench("https", cert, args.requests, args.rounds)


if __name__ == "__main__":
    main()
