"""Benchmarks for the multipart encoder and body validation; prints the figures.

    python tests/bench/bench_multipart.py [--quick]

1. Encoder throughput: 10 x 10 MiB files from disk (page cache warm), blocks consumed in memory.
2. Body validation throughput on a 10 x 1 MiB body, and openapi-core's validation of the same
   body with an OpenAPI 3.0 document of the create-job operation when openapi-core is installed
   (``pip install openapi-core``; skipped cleanly otherwise).
3. Peak RSS of validate_body on 100 MB and 1 GB bodies generated on the fly (never materialised),
   each in its own subprocess, read from ``ru_maxrss``.

Absolute figures move from run to run on shared machines; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from dagkit.validate.body import validate_body  # noqa: E402
from dagkit.wire.multipart import FileSpec, MultipartEncoder  # noqa: E402

MiB = 1 << 20
REQUEST_DATA = '{"template_id": "hi_res_and_enrichment"}'
BOUNDARY = "dagkit-bench-boundary"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def bench_encoder(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        specs = []
        for i in range(10):
            path = Path(tmp) / f"file{i}.pdf"
            path.write_bytes(os.urandom(10 * MiB))
            path.read_bytes()  # warm the page cache
            specs.append(FileSpec(path))
        encoder = MultipartEncoder([("request_data", REQUEST_DATA)], specs)

        def consume() -> None:
            total = 0
            for block in encoder:
                total += len(block)
            assert total == encoder.content_length

        times = timed(consume, repeat)
        size = encoder.content_length
        best, median = size / min(times) / 1e9, size / statistics.median(times) / 1e9
        print(f"encoder, 10 x 10 MiB from disk ({size / 1e6:.0f} MB):")
        print(f"  best {best:.2f} GB/s, median {median:.2f} GB/s")


def ten_by_one_mib() -> tuple[bytes, str]:
    files = [FileSpec(os.urandom(MiB), filename=f"doc{i}.pdf") for i in range(10)]
    encoder = MultipartEncoder([("request_data", REQUEST_DATA)], files, boundary=BOUNDARY)
    return b"".join(encoder), encoder.content_type


def bench_validation(repeat: int) -> None:
    body, content_type = ten_by_one_mib()
    assert validate_body(body, content_type) == []
    times = timed(lambda: validate_body(io.BytesIO(body), content_type), repeat)
    dagkit_rate = len(body) / min(times) / 1e6
    median = len(body) / statistics.median(times) / 1e6
    print(f"validate_body, 10 x 1 MiB body ({len(body) / 1e6:.1f} MB):")
    print(f"  best {dagkit_rate:,.0f} MB/s, median {median:,.0f} MB/s ({min(times) * 1e3:.1f} ms)")
    other = openapi_core_validator(body, content_type)
    if other is None:
        print("  openapi-core: not installed, comparison skipped (pip install openapi-core)")
        return
    other()  # warm up: builds its validators
    other_times = timed(other, max(2, repeat // 3))
    other_rate = len(body) / min(other_times) / 1e6
    ms = min(other_times) * 1e3
    print(f"  openapi-core (OpenAPI 3.0 document): best {other_rate:,.1f} MB/s ({ms:.0f} ms)")
    print(f"  ratio dagkit / openapi-core: {dagkit_rate / other_rate:.1f}x")


def openapi_core_validator(body: bytes, content_type: str) -> Callable[[], None] | None:
    try:
        from openapi_core import OpenAPI
        from openapi_core.testing import MockRequest
    except ImportError:
        return None
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "jobs", "version": "1"},
        "servers": [{"url": "http://localhost"}],
        "paths": {
            "/api/v1/jobs/": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["request_data"],
                                    "properties": {
                                        "request_data": {"type": "string"},
                                        "input_files": {
                                            "type": "array",
                                            "items": {"type": "string", "format": "binary"},
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    api = OpenAPI.from_dict(spec)

    def run() -> None:
        request = MockRequest(
            "http://localhost", "post", "/api/v1/jobs/", data=body, content_type=content_type
        )
        api.validate_request(request)  # raises if it finds the request invalid

    return run


# --------------------------------------------------------------------------------- memory


def generated_body(total: int) -> Iterator[bytes]:
    """A valid body of about ``total`` bytes: request_data and 10 files, made block by block."""
    block = bytes(range(256)) * (MiB // 256)  # one reused block: no CRLF followed by '-'
    delim = f"--{BOUNDARY}\r\n".encode()
    yield delim + b'Content-Disposition: form-data; name="request_data"\r\n\r\n'
    yield REQUEST_DATA.encode() + b"\r\n"
    per_file = total // 10
    for i in range(10):
        yield (
            delim
            + (
                f'Content-Disposition: form-data; name="input_files"; filename="f{i}.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode()
        )
        remaining = per_file
        while remaining:
            n = min(remaining, len(block))
            yield block if n == len(block) else block[:n]
            remaining -= n
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


def rss_child(total: int) -> None:
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    validate_body(generated_body(10 * MiB), content_type, max_file_size=1 << 40)  # warm up
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    findings = validate_body(generated_body(total), content_type, max_file_size=1 << 40)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {
        "bytes": total,
        "baseline_kib": baseline,
        "peak_kib": peak,
        "vmhwm_kib": vm_hwm_kib(),
        "seconds": seconds,
        "findings": [f.code for f in findings],
    }
    print(json.dumps(result))


def vm_hwm_kib() -> int | None:
    """This process's own peak RSS; unlike ru_maxrss it does not inherit the parent's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def bench_memory(sizes: list[int]) -> None:
    # Run before the parent allocates its benchmark data: on Linux a child's ru_maxrss starts
    # from the parent's peak at fork time.
    print("validate_body peak RSS, body generated on the fly (one subprocess each):")
    peaks = []
    for total in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--rss-child", str(total)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        peaks.append(result["peak_kib"])
        rate = result["bytes"] / result["seconds"] / 1e6
        hwm = result["vmhwm_kib"]
        print(
            f"  {total / 1e6:>6,.0f} MB body: peak RSS {result['peak_kib'] / 1024:.1f} MiB"
            f" (after imports and warm-up {result['baseline_kib'] / 1024:.1f} MiB;"
            f" VmHWM {'?' if hwm is None else f'{hwm / 1024:.1f}'} MiB),"
            f" {rate:,.0f} MB/s, findings {result['findings']}"
        )
    if len(peaks) == 2:
        print(f"  difference: {(peaks[1] - peaks[0]) / 1024:+.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller bodies")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return
    repeat = 3 if args.quick else 10
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    bench_memory([100 * 1000 * 1000, (100 if args.quick else 1000) * 1000 * 1000])
    bench_encoder(repeat)
    bench_validation(repeat)


if __name__ == "__main__":
    main()
