"""What ``dagkit batch`` costs on its own, and 1,000 files through the embedded jobs API.

    python tests/bench/bench_batch.py [--files 1000] [--rounds 3] [--dir DIR] [--server-dir DIR]

The server runs in its own process (``dagkit serve --clock instant --no-rate-limit``), so its
work is not counted as the client's. Each round runs :func:`dagkit.batch.run` over ``--files``
small documents of mixed types (10 per job, launches not spaced, polls every 10 ms) into a fresh
out dir.

1. Overhead per job: everything dagkit does besides waiting for the server and the rate limit:
   the run's wall time minus the time inside HTTP exchanges (the transport's ``send`` and
   ``stream``, which wait for the server) minus the time asleep (pacing, polling), per job. It
   is split into the batch itself (journal, grouping, bookkeeping, of which the journal's flush
   of each job before it is sent) and the client outside the transport (checking each request
   before it goes out, checking each answer). Target: at most 3 ms per job.
2. Wall time for the whole run. Target: under 15 s for 1,000 files.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dagkit.batch import run  # noqa: E402
from dagkit.batch.journal import Journal  # noqa: E402
from dagkit.client.jobs import JobsClient  # noqa: E402

REQUEST_DATA = (
    '{"job_nodes":[{"name":"Partitioner","type":"partition","subtype":"unstructured_api",'
    '"settings":{"strategy":"fast"}}]}'
)
KINDS = (".txt", ".md", ".html", ".csv")


class Clock:
    """Seconds spent inside the wrapped callables, by label (nested calls counted once)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - started

        return timed


class TimedStop(threading.Event):
    """A stop event that counts the time the batch spends asleep on it."""

    def __init__(self) -> None:
        super().__init__()
        self.slept = 0.0

    def wait(self, timeout: float | None = None) -> bool:
        started = time.perf_counter()
        try:
            return super().wait(timeout)
        finally:
            self.slept += time.perf_counter() - started


def make_files(root: Path, count: int) -> None:
    for i in range(count):
        ext = KINDS[i % len(KINDS)]
        target = root / f"d{i % 10}" / f"doc{i:05d}{ext}"
        target.parent.mkdir(parents=True, exist_ok=True)
        body = f"Title {i}\n\n" + " ".join(f"word{j}" for j in range(150)) + "\n"
        target.write_text(body, encoding="utf-8")


def start_server(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dagkit",
            "serve",
            "--port",
            "0",
            "--clock",
            "instant",
            "--no-rate-limit",
            "--max-running",
            "1000",
            "--quiet",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    for line in process.stdout:
        match = re.search(r"listening on (\S+)", line)
        if match:
            return process, match.group(1)
    raise RuntimeError("dagkit serve did not start")


def one_round(source: Path, url: str, files: Path, out: Path) -> dict[str, float]:
    clock = Clock()
    client = JobsClient(url=url, api_key="bench")
    transport = client.transport
    transport.send = clock.wrap("http", transport.send)  # type: ignore[method-assign]
    transport.stream = clock.wrap("http", transport.stream)  # type: ignore[method-assign]
    for name in (
        "create_job",
        "get_job",
        "list_jobs",
        "download_output",
        "download_into",
        "failed_files",
    ):
        if hasattr(client, name):  # an older tree, measured beside this one, may lack one
            setattr(client, name, clock.wrap("client", getattr(client, name)))
    original_begin = Journal.begin_job
    Journal.begin_job = clock.wrap("journal_flush", original_begin)  # type: ignore[method-assign]
    stop = TimedStop()
    try:
        started, cpu = time.perf_counter(), time.process_time()
        report = run(
            source,
            [files],
            out,
            client=client,
            min_interval=0,
            poll_initial=0.01,
            poll_max=0.01,
            stop=stop,
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        Journal.begin_job = original_begin  # type: ignore[method-assign]
    assert report.ok, report.counts
    jobs = len([j for j in report.jobs if j.state == "done"])
    http = clock.spent.get("http", 0.0)
    in_client = clock.spent.get("client", 0.0)
    return {
        "wall": wall,
        "jobs": jobs,
        "files": report.counts["done"],
        "overhead_ms": (wall - http - stop.slept) / jobs * 1000,
        "batch_ms": (wall - in_client - stop.slept) / jobs * 1000,
        "client_ms": (in_client - http) / jobs * 1000,
        "flush_ms": clock.spent.get("journal_flush", 0.0) / jobs * 1000,
        "http_ms": http / jobs * 1000,
        "slept_ms": stop.slept / jobs * 1000,
        "cpu_ms": cpu / jobs * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--dir",
        help="where the files, out dirs and journal go [default: the system's temp dir]; "
        "/dev/shm takes the disk out of the figures",
    )
    parser.add_argument(
        "--server-dir",
        default="/dev/shm" if os.path.isdir("/dev/shm") else None,
        help="where the server keeps its data [default: /dev/shm]: the server stands in for a "
        "remote service, so its disk writes must not queue up with the client's",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="dagkit-bench-batch-", dir=args.dir) as temp,
        tempfile.TemporaryDirectory(prefix="dagkit-bench-server-", dir=args.server_dir) as srv,
    ):
        base = Path(temp)
        make_files(base / "files", args.files)
        server, url = start_server(Path(srv) / "server")
        try:
            source = base / "dag.json"
            source.write_text(REQUEST_DATA, encoding="utf-8")
            results = []
            for n in range(args.rounds):
                out = base / f"out{n}"
                results.append(one_round(source, url, base / "files", out))
                shutil.rmtree(out)
        finally:
            server.terminate()
            server.wait()
    where = args.dir or tempfile.gettempdir()
    print(
        f"{args.files} files, {results[0]['jobs']:.0f} jobs per round, {args.rounds} rounds, "
        f"in {where} (server data in {args.server_dir or where})"
    )
    for key, label, unit in [
        ("wall", "wall time of the run", "s"),
        ("overhead_ms", "dagkit overhead per job (target <= 3 ms)", "ms"),
        ("batch_ms", "  of which the batch (journal, bookkeeping)", "ms"),
        ("flush_ms", "    of which flushing each job's record before it is sent", "ms"),
        ("client_ms", "  of which the client outside HTTP (checks, writing outputs)", "ms"),
        ("http_ms", "time in HTTP exchanges per job (server included)", "ms"),
        ("slept_ms", "time asleep per job (polling)", "ms"),
        ("cpu_ms", "CPU of this process per job (HTTP client included; load-proof)", "ms"),
    ]:
        values = [r[key] for r in results]
        print(
            f"{label:66s} median {statistics.median(values):8.2f} {unit}  (min {min(values):.2f})"
        )


if __name__ == "__main__":
    main()
