"""Benchmark of the embedded jobs API: create-job and get-job requests per second.

    python tests/bench/bench_server.py [--requests 200] [--threads 8] [--rounds 3]
        [--peer PATH] [--only manual|instant] [--profile FILE]

The load of the load test, timed: N create-job requests with a small file from T threads over
keep-alive connections, against a server on loopback without the launch rate limit. Run with
the "manual" clock (jobs are stored, not processed) and the "instant" clock (each job is also
partitioned, chunked and embedded inside its request). Then N get-job requests the same way.
Every request must succeed, every job id must be distinct and the server must have created
exactly N jobs, or the benchmark fails.

The server runs in a process of its own, as a test suite's server does (``dagkit serve``, or a
fixture's): the client's threads would otherwise share the server's GIL, and the figure would
charge the client's work to the server. Besides req/s it reports the server process's CPU time
per request (user + system, from the server itself), which depends far less on the load of a
shared machine, and its CPU time from start until it serves. ``--peer PATH`` runs the server of
another dagkit checkout (e.g. an older revision: ``git worktree add /tmp/old <rev>``) in
alternate rounds of the same run, so the two are compared under the same load. ``--profile
FILE`` writes a cProfile of every server thread's CPU time (pstats format) over one manual-clock
round.

Last, one create-job upload of 10 files of 9 MB each (streamed from disk by the client), to
show the rate at which the server validates and stores a body, and the server's peak RSS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
REPO = Path(__file__).resolve().parents[2]

#: The server process: serves, prints its port, then answers one command per line of stdin
#: ("stats": jobs created, CPU seconds, peak RSS in KiB) until stdin closes.
_SERVER = r"""
import resource, sys, threading, time
from dagkit.server import serve_in_thread

clock, profile_to = sys.argv[1], sys.argv[2]
profiles = []
if profile_to:
    import cProfile, pstats
    lock = threading.Lock()
    def per_thread(frame, event, arg):
        sys.setprofile(None)  # this thread's own profiler takes over
        profiler = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profiler)
        profiler.enable()
    threading.setprofile(per_thread)
server = serve_in_thread(clock=clock, rate_limit=False)
print(server.port, flush=True)
for line in sys.stdin:
    cpu = time.process_time()  # to the microsecond: os.times() counts 10 ms ticks
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(server.jobs_created, cpu, rss, flush=True)
server.stop()
if profile_to:
    stats = None
    for profiler in profiles:
        profiler.disable()
        stats = pstats.Stats(profiler) if stats is None else stats.add(profiler)
    if stats is not None:
        stats.dump_stats(profile_to)
"""


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen[str]

    def stats(self) -> tuple[int, float, int]:
        """(jobs created, CPU seconds, peak RSS in KiB) of the server process so far."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        jobs, cpu, rss = self.process.stdout.readline().split()
        return int(jobs), float(cpu), int(rss)


@contextmanager
def server_process(clock: str, tree: Path = REPO, profile: str = "") -> Iterator[Server]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, clock, profile],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tree,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            raise SystemExit(f"the server in {tree} did not start")
        yield Server("127.0.0.1", int(port), process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(60)


def run_threads(
    server: Server,
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


@dataclass
class Round:
    start_cpu: float  # server CPU seconds from its start until it serves
    creates: float  # req/s
    create_cpu: float  # server CPU seconds per create
    gets: float
    get_cpu: float


def bench(clock: str, total: int, threads: int, tree: Path = REPO, profile: str = "") -> Round:
    with server_process(clock, tree, profile) as server:
        _, cpu0, _ = server.stats()
        took, ids = run_threads(server, total, threads, create)
        created, cpu1, _ = server.stats()
        if len(ids) != total or len(set(ids)) != total or created != total:
            raise SystemExit(
                f"lost or duplicated jobs: {len(ids)} ids, {len(set(ids))} distinct, "
                f"{created} created"
            )
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
        _, cpu2, _ = server.stats()
    return Round(cpu0, total / took, (cpu1 - cpu0) / total, total / got, (cpu2 - cpu1) / total)


def upload(files: int = 10, size: int = 9_000_000) -> tuple[float, float]:
    """(MB/s, the server's peak RSS in MB) for one create-job with ``files`` files of ``size``
    bytes."""
    with tempfile.TemporaryDirectory() as tmp, server_process("manual") as server:
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
        _, _, rss = server.stats()
        return encoder.content_length / took / 1e6, rss / 1024


def report(name: str, clock: str, rounds: list[Round]) -> None:
    def med(values: Iterator[float]) -> float:
        return statistics.median(values)

    print(
        f"  {name:<5} clock={clock:<8} start {med(r.start_cpu for r in rounds) * 1000:.0f} ms CPU,"
        f" create-job {med(r.creates for r in rounds):6.0f} req/s"
        f" ({med(r.create_cpu for r in rounds) * 1000:.2f} ms server CPU each)"
        f"   get-job {med(r.gets for r in rounds):6.0f} req/s"
        f" ({med(r.get_cpu for r in rounds) * 1000:.2f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer", type=Path, help="another checkout's server, in alternate rounds")
    parser.add_argument("--only", choices=("manual", "instant"))
    parser.add_argument("--profile", help="write a cProfile of one manual-clock round here")
    args = parser.parse_args()
    print(f"{args.requests} requests from {args.threads} threads, median of {args.rounds} rounds")
    print(f"  load average at start: {os.getloadavg()[0]:.1f}")
    if args.profile:
        bench("manual", args.requests, args.threads, profile=str(Path(args.profile).resolve()))
    trees = {"this": REPO, **({"peer": args.peer.resolve()} if args.peer else {})}
    for clock in ("manual", "instant") if args.only is None else (args.only,):
        rounds: dict[str, list[Round]] = {name: [] for name in trees}
        for _ in range(args.rounds):
            for name, tree in trees.items():
                rounds[name].append(bench(clock, args.requests, args.threads, tree))
        for name in trees:
            report(name, clock, rounds[name])
    print(f"  load average at end: {os.getloadavg()[0]:.1f}")
    if args.only is None:
        rate, rss = upload()
        print(f"one upload of 10 x 9 MB: {rate:.0f} MB/s, peak RSS of the server {rss:.0f} MB")


if __name__ == "__main__":
    main()
