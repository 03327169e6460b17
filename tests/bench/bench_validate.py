"""Benchmarks of ``dagkit validate`` (run on demand: ``python tests/bench/bench_validate.py``).

(a) ``dagkit validate`` over 1,000 distinct request_data files against ``check-jsonschema
    --no-cache --schemafile schemas/request-data.schema.json`` over the same files, both as cold
    processes in the same run (target: dagkit at least 10x faster, though it also checks the
    job rules and the catalogue). check-jsonschema is installed with pip into a private venv
    for this benchmark only; the comparison is skipped when that fails.
(b) In-process rate of ``validate_request_data`` on the 3-node quickstart text, and its ratio to
    ``json.loads`` of the same text (target >= 50,000/s), with a breakdown.
(c) Start-up: median wall time of ``dagkit validate one.json`` over 20 runs, next to
    ``python -c pass`` (target: at most 60 ms, about twice ``python -c pass``); and both again
    under ``python -S`` (site-packages on PYTHONPATH), without the .pth hooks some environments
    run at every start, which make ``python -c pass`` look slow and hide what dagkit imports.
(d) Many files in one process: serial against two forked processes, to place the threshold.
(e) Peak memory of ``dagkit validate`` on a 20 MB and a 200 MB multipart body file: bodies are
    streamed from disk, so the two must be close.

Absolute figures move from run to run on shared machines: compare the ratios of one run. Name
the benchmarks to run only those: ``python tests/bench/bench_validate.py c`` (start-up alone).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SCHEMA = ROOT / "schemas" / "request-data.schema.json"
QUICKSTART = (
    '{"job_nodes":[{"name":"Partitioner","type":"partition","subtype":"vlm","settings":'
    '{"is_dynamic":true,"allow_fast":true}},{"name":"Chunker","type":"chunk","subtype":'
    '"chunk_by_title","settings":{"max_characters":2048,"new_after_n_chars":1500,"overlap":160}},'
    '{"name":"Embedder","type":"embed","subtype":"azure_openai","settings":{"model_name":'
    '"text-embedding-3-large"}}]}'
)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
BENCH_VENV = CACHE / "dagkit-bench-venv"
#: Bytecode for the benchmarked processes, outside the checkout. An installed dagkit has its
#: .pyc files (pip compiles them); a process that compiles every module from source each time
#: (PYTHONDONTWRITEBYTECODE=1 in some environments) measures the compiler, not dagkit.
PYCACHE = CACHE / "dagkit-bench-pycache"


def dagkit_command() -> list[str]:
    script = shutil.which("dagkit")
    return [script] if script else [sys.executable, "-m", "dagkit"]


def env(bytecode: bool = True, *, site_packages: bool = False) -> dict[str, str]:
    """``site_packages``: put them on PYTHONPATH, for a ``python -S`` that runs no .pth hooks."""
    path = [str(ROOT)]
    if site_packages:
        path += dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    out = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "NO_COLOR": "1"}
    if bytecode:
        out.pop("PYTHONDONTWRITEBYTECODE", None)
        out["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        out["PYTHONDONTWRITEBYTECODE"] = "1"
        out.pop("PYTHONPYCACHEPREFIX", None)
    return out


# --- the files -------------------------------------------------------------------------------

EMBEDDERS = [
    ("azure_openai", "text-embedding-3-large", 28672),
    ("azure_openai", "text-embedding-3-small", 28672),
    ("bedrock", "cohere.embed-english-v3", 1792),
    ("bedrock", "amazon.titan-embed-text-v2:0", 28672),
    ("voyageai", "voyage-3", 112000),
    ("togetherai", "togethercomputer/m2-bert-80M-32k-retrieval", 28672),
]
CHUNKERS = ["chunk_by_title", "chunk_by_character", "chunk_by_page"]


def request_data(rng: random.Random, i: int) -> str:
    """One distinct, valid request_data: varied partitioner, names, chunk sizes and models."""
    partition = rng.choice(
        [
            {"subtype": "vlm", "settings": {"is_dynamic": True, "allow_fast": True}},
            {"subtype": "unstructured_api", "settings": {"strategy": "hi_res"}},
            {"subtype": "unstructured_api", "settings": {"strategy": "fast"}},
        ]
    )
    nodes = [{"name": f"Partitioner {i}", "type": "partition", **partition}]
    if rng.random() < 0.8:
        subtype, model, ceiling = rng.choice(EMBEDDERS)
        size = rng.randint(200, min(ceiling, 4000))
        settings = {"max_characters": size, "new_after_n_chars": rng.randint(0, size)}
        if rng.random() < 0.5:
            settings["overlap"] = rng.randint(0, size // 4)
        nodes.append(
            {"name": f"Chunker {i}", "type": "chunk", "subtype": rng.choice(CHUNKERS),
             "settings": settings}
        )  # fmt: skip
        if rng.random() < 0.7:
            nodes.append(
                {"name": f"Embedder {i}", "type": "embed", "subtype": subtype,
                 "settings": {"model_name": model}}
            )  # fmt: skip
    doc = {"job_nodes": nodes}
    return json.dumps(doc, indent=rng.choice([None, 2])) + "\n"


def make_files(directory: Path, count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        path = directory / f"job-{i:05d}.request_data.json"
        path.write_text(request_data(rng, i), encoding="utf-8")
        paths.append(str(path))
    return paths


# --- helpers ---------------------------------------------------------------------------------


def wall(
    command: list[str], runs: int = 1, *, bytecode: bool = True, site_packages: bool = False
) -> tuple[float, int]:
    """Median wall seconds of ``command`` and its last exit status (after one warm-up run)."""
    times, status = [], 0
    for i in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env(bytecode, site_packages=site_packages),
        )
        if i == 0:
            continue  # the warm-up: page cache, bytecode
        times.append(time.perf_counter() - start)
        status = done.returncode
        if status not in (0, 1):
            raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{done.stderr.decode()[-2000:]}")
    return statistics.median(times), status


def rate(fn: Callable[[], object], seconds: float = 2.0) -> float:
    """Calls per second of ``fn`` over about ``seconds``."""
    fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            fn()
        count += 200
    return count / elapsed


def check_jsonschema() -> Path | None:
    """check-jsonschema in a private venv (installed on first use), or None if unavailable."""
    exe = BENCH_VENV / "bin" / "check-jsonschema"
    if exe.exists():
        return exe
    print(f"  installing check-jsonschema into {BENCH_VENV} (once) ...", flush=True)
    try:
        venv.create(BENCH_VENV, with_pip=True, clear=True)
        subprocess.run(
            [str(BENCH_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "check-jsonschema"],
            check=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"  check-jsonschema cannot be installed ({exc}); comparison skipped")
        return None
    return exe if exe.exists() else None


# --- the benchmarks --------------------------------------------------------------------------


def dagkit_in_bench_venv() -> list[str] | None:
    """dagkit from this checkout run by the peer's venv interpreter (its dependencies installed
    there once), so both start the same way: a venv runs none of the .pth hooks an environment
    may put in the system site-packages, which cost some interpreters tens of ms per start."""
    python = BENCH_VENV / "bin" / "python"
    probe = [str(python), "-c", "import click, jsonschema, jsonschema_rs, networkx"]
    if subprocess.run(probe, capture_output=True).returncode != 0:
        install = [str(python), "-m", "pip", "install", "-q", "click", "jsonschema"]
        install += ["jsonschema-rs", "networkx"]
        try:
            subprocess.run(install, check=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"  dagkit's dependencies cannot be installed in the venv ({exc})")
            return None
    return [str(python), "-m", "dagkit"]


def bench_many_files(count: int = 1000, runs: int = 3) -> None:
    print(f"(a) {count} distinct request_data files, cold processes, median of {runs}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_files(Path(tmp), count)
        dk, dk_status = wall([*dagkit_command(), "validate", *paths], runs)
        print(f"  dagkit validate           {dk * 1000:8.0f} ms  (exit {dk_status}; this python)")
        exe = check_jsonschema()
        if exe is None:
            return
        command = [str(exe), "--no-cache", "--schemafile", str(SCHEMA), *paths]
        cj, cj_status = wall(command, runs)
        print(f"  check-jsonschema          {cj * 1000:8.0f} ms  (exit {cj_status}; its venv)")
        print(f"  ratio                     {cj / dk:8.1f}x")
        same = dagkit_in_bench_venv()
        if same is None:
            return
        dv, dv_status = wall([*same, "validate", *paths], runs)
        print(f"  dagkit validate, same venv{dv * 1000:8.0f} ms  (exit {dv_status})")
        print(f"  ratio, same interpreter   {cj / dv:8.1f}x  (target >= 10x)")


def bench_in_process() -> None:
    from dagkit.core import jsonlocate, jsontext
    from dagkit.model import rules
    from dagkit.schemas import check as schemacheck
    from dagkit.validate.request_data import validate_request_data

    print("(b) in-process, the 3-node quickstart request_data")
    assert validate_request_data(QUICKSTART) == []
    doc = jsontext.loads(QUICKSTART)
    figures = {
        "validate_request_data": rate(lambda: validate_request_data(QUICKSTART)),
        "  json.loads": rate(lambda: json.loads(QUICKSTART)),
        "  jsontext.loads": rate(lambda: jsontext.loads(QUICKSTART)),
        "  duplicate_keys": rate(lambda: jsonlocate.duplicate_keys(QUICKSTART)),
        "  rules.check_document": rate(lambda: rules.check_document(doc)),
        "    schemacheck.check": rate(lambda: schemacheck.check("request-data", doc)),
    }
    for name, per_second in figures.items():
        print(f"  {name:<26}{per_second:10,.0f}/s  {1e6 / per_second:8.1f} µs")
    ratio = figures["  json.loads"] / figures["validate_request_data"]
    print(f"  validate costs {ratio:.0f}x json.loads  (target >= 50,000/s)")


def bench_startup(runs: int = 20) -> None:
    print(f"(c) start-up, median of {runs} runs")
    one = ROOT / "tests" / "data" / "valid" / "quickstart.request_data.json"
    bare, _ = wall([sys.executable, "-c", "pass"], runs)
    no_site, _ = wall([sys.executable, "-S", "-c", "pass"], runs)
    dk, status = wall([*dagkit_command(), "validate", str(one)], runs)
    source, _ = wall([*dagkit_command(), "validate", str(one)], runs, bytecode=False)
    command = [sys.executable, "-S", "-m", "dagkit", "validate", str(one)]
    no_hooks, _ = wall(command, runs, site_packages=True)
    print(f"  python -c pass            {bare * 1000:8.1f} ms")
    print(
        f"  python -S -c pass         {no_site * 1000:8.1f} ms  (without site-packages .pth hooks)"
    )
    print(f"  dagkit validate one.json  {dk * 1000:8.1f} ms  (exit {status}; target <= 60 ms)")
    print(f"  dagkit's own share        {(dk - bare) * 1000:8.1f} ms")
    print(f"  ... with no bytecode      {source * 1000:8.1f} ms  (every module compiled each run)")
    print(
        f"  ... without .pth hooks    {no_hooks * 1000:8.1f} ms  (python -S, site-packages on "
        f"PYTHONPATH: {(no_hooks - no_site) * 1000:.1f} ms more than python -S -c pass)"
    )


def bench_pool(counts: tuple[int, ...] = (250, 500, 1000, 4000)) -> None:
    from dagkit.validate import files
    from dagkit.validate.files import validate_paths

    print("(d) many files: one process against two (forked)")
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            paths = make_files(Path(tmp), count, seed=count)
            validate_paths(paths[:10], jobs=1)  # imports done, like a real run after its first file
            start = time.perf_counter()
            validate_paths(paths, jobs=1)
            serial = time.perf_counter() - start
            start = time.perf_counter()
            validate_paths(paths, jobs=2)
            pooled = time.perf_counter() - start
            auto = files._workers(None, count)
            print(
                f"  {count:5d} files: serial {serial * 1000:7.0f} ms,"
                f" forked {pooled * 1000:7.0f} ms"
                f"  ({count / serial:,.0f} vs {count / pooled:,.0f} files/s); default now: "
                + ("serial" if auto == 1 else f"{auto} processes")
            )


def write_body(path: Path, size: int) -> None:
    """A create-job body with one file part of ``size`` bytes, written in blocks."""
    boundary = b"dagkit-bench-boundary"
    head = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="request_data"\r\n\r\n'
        + QUICKSTART.encode() + b"\r\n--" + boundary
        + b'\r\nContent-Disposition: form-data; name="input_files"; filename="big.txt"\r\n'
        + b"Content-Type: text/plain\r\n\r\n"
    )  # fmt: skip
    block = b"All work and no play makes a dull body.\n" * 25_000
    with open(path, "wb") as out:
        out.write(head)
        written = 0
        while written < size:
            piece = block[: size - written]
            out.write(piece)
            written += len(piece)
        out.write(b"\r\n--" + boundary + b"--\r\n")


def bench_body_memory(sizes: tuple[int, ...] = (20_000_000, 200_000_000)) -> None:
    print("(e) peak RSS of dagkit validate on a multipart body file (--max-file-size 1GB)")
    probe = (
        "import resource, sys, time; from dagkit.validate.files import validate_paths; "
        "t = time.perf_counter(); r = validate_paths([sys.argv[1]], max_file_size=10**9); "
        "t = time.perf_counter() - t; "
        "print(len(r[0].findings), t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / "body.multipart"
            write_body(path, size)
            out = subprocess.run(
                [sys.executable, "-c", probe, str(path)], capture_output=True, env=env(), check=True
            ).stdout.split()
            findings, seconds, rss_kib = int(out[0]), float(out[1]), int(out[2])
            print(
                f"  {size / 1e6:5.0f} MB body: {findings} findings, {seconds * 1000:6.0f} ms "
                f"({size / 1e6 / seconds:6.0f} MB/s), peak RSS {rss_kib / 1024:5.1f} MiB"
            )
            path.unlink()


if __name__ == "__main__":
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load {load:.2f}; python {sys.version.split()[0]}")
    BENCHMARKS = {
        "a": bench_many_files,
        "b": bench_in_process,
        "c": bench_startup,
        "d": bench_pool,
        "e": bench_body_memory,
    }
    chosen = sys.argv[1:] or ["b", "c", "a", "d", "e"]  # the order they always ran in
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"no benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    for name in chosen:
        BENCHMARKS[name]()
