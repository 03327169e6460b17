"""Benchmark of the embedded jobs API: create-job and get-job requests per second.

    python tests/bench/bench_server.py [--requests 200] [--threads 8] [--rounds 3]

The load of the load test, timed: N create-job requests with a small file from T threads over
keep-alive connections, against a server on loopback without the launch rate limit. Run with
the "manual" clock (jobs are stored, not processed) and the "instant" clock (each job is also
partitioned, chunked and embedded inside its request). Then N get-job requests the same way.
Every request must succeed and every job id must be distinct, or the benchmark fails.

Last, one create-job upload of 10 files of 9 MB each (streamed from disk by the client), to
show the rate at which the server validates and stores a body, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from dagkit.server import RunningServer, serve_in_thread
from dagkit.wire.multipart import FileSpec, MultipartEncoder

KEY = "bench-key"
REQUEST_DATA = json.dumps(
    {
        "job_nodes": [
            {
                "name": "Partitioner",
                "type": "partition",
                "subtype": "unstructured_api",
                "settings": {"strategy": "fast"},
            },
            {
                "name": "Chunker",
                "type": "chunk",
                "subtype": "chunk_by_title",
                "settings": {"max_characters": 500},
            },
            {
                "name": "Embedder",
                "type": "embed",
                "subtype": "azure_openai",
                "settings": {"model_name": "text-embedding-3-small"},
            },
        ]
    }
)
SMALL_FILE = b"A small file\n\nWith two paragraphs of text, as a test would send.\n" * 4


def run_threads(
    server: RunningServer,
    total: int,
    threads: int,
    request: Callable[[http.client.HTTPConnection], str],
) -> tuple[float, list[str]]:
    """Seconds taken for ``total`` requests spread over ``threads`` keep-alive connections."""
    results: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    share = [total // threads + (1 if i < total % threads else 0) for i in range(threads)]
    start = threading.Barrier(threads + 1)

    def worker(count: int) -> None:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
        start.wait()
        try:
            for _ in range(count):
                try:
                    value = request(conn)
                except Exception as exc:
                    with lock:
                        errors.append(repr(exc))
                    continue
                with lock:
                    results.append(value)
        finally:
            conn.close()

    pool = [threading.Thread(target=worker, args=(n,)) for n in share]
    for t in pool:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in pool:
        t.join()
    took = time.perf_counter() - began
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return took, results


def create(conn: http.client.HTTPConnection) -> str:
    encoder = MultipartEncoder(
        [("request_data", REQUEST_DATA)], [FileSpec(SMALL_FILE, filename="s.txt")]
    )
    conn.request(
        "POST",
        "/api/v1/jobs/",
        body=b"".join(encoder),
        headers={**encoder.headers, "unstructured-api-key": KEY},
    )
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"create-job answered {response.status}: {data[:200]!r}")
    return str(json.loads(data)["id"])


def bench(clock: str, total: int, threads: int) -> tuple[float, float]:
    with serve_in_thread(clock=clock, rate_limit=False) as server:
        took, ids = run_threads(server, total, threads, create)
        if len(ids) != total or len(set(ids)) != total or server.jobs_created != total:
            raise SystemExit(f"lost or duplicated jobs: {len(ids)} ids, {len(set(ids))} distinct")
        job_ids = iter(ids * 2)
        lock = threading.Lock()

        def get(conn: http.client.HTTPConnection) -> str:
            with lock:
                job_id = next(job_ids)
            conn.request("GET", f"/api/v1/jobs/{job_id}", headers={"unstructured-api-key": KEY})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"get-job answered {response.status}")
            return job_id

        got, _ = run_threads(server, total, threads, get)
    return total / took, total / got


def upload(files: int = 10, size: int = 9_000_000) -> tuple[float, float]:
    """(MB/s, peak RSS in MB) for one create-job with ``files`` files of ``size`` bytes."""
    with tempfile.TemporaryDirectory() as tmp, serve_in_thread(clock="manual") as server:
        paths = []
        for i in range(files):
            path = Path(tmp) / f"f{i}.txt"
            path.write_bytes(os.urandom(1 << 20) * (size >> 20) + os.urandom(size % (1 << 20)))
            paths.append(path)
        encoder = MultipartEncoder([("request_data", REQUEST_DATA)], [FileSpec(p) for p in paths])
        conn = http.client.HTTPConnection(server.host, server.port, timeout=120)
        began = time.perf_counter()
        conn.request(
            "POST",
            "/api/v1/jobs/",
            body=iter(encoder),
            headers={**encoder.headers, "unstructured-api-key": KEY},
        )
        response = conn.getresponse()
        response.read()
        took = time.perf_counter() - began
        conn.close()
        if response.status != 200:
            raise SystemExit(f"the upload answered {response.status}")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return encoder.content_length / took / 1e6, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.requests} requests from {args.threads} threads, median of {args.rounds} rounds")
    for clock in ("manual", "instant"):
        rounds = [bench(clock, args.requests, args.threads) for _ in range(args.rounds)]
        creates = statistics.median(r[0] for r in rounds)
        gets = statistics.median(r[1] for r in rounds)
        print(f"  clock={clock:<8} create-job {creates:7.0f} req/s   get-job {gets:7.0f} req/s")
    rate, rss = upload()
    print(f"one upload of 10 x 9 MB: {rate:.0f} MB/s, peak RSS of the process {rss:.0f} MB")


if __name__ == "__main__":
    main()
