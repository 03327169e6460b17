"""How fast is a schema verdict? ``python tests/bench/bench_schema.py`` prints a table.

Per-call times on the 3-node quickstart request_data, all taken in one run (machines drift by
1.1-1.7x between runs, so compare the ratios): json.loads of the text (the floor for anything
that parses it), the verdict (jsonschema-rs as dagkit configures it: dagkit's formats, the
packaged schemas by ``$id``), ``schemacheck.check`` (verdict plus the finding machinery around
it), a reused jsonschema ``Draft202012Validator`` (the reference, and the verdict when
jsonschema-rs cannot be imported), and fastjsonschema when it is installed. Then the cold start
of a process that checks one document, with and without jsonschema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

QUICKSTART = (
    '{"job_nodes":[{"name":"Partitioner","type":"partition","subtype":"vlm","settings":'
    '{"is_dynamic":true,"allow_fast":true}},{"name":"Chunker","type":"chunk","subtype":'
    '"chunk_by_title","settings":{"max_characters":2048,"new_after_n_chars":1500,"overlap":160}},'
    '{"name":"Embedder","type":"embed","subtype":"azure_openai","settings":{"model_name":'
    '"text-embedding-3-large"}}]}'
)


def per_call(fn: Callable[[], Any], *, budget: float = 0.4) -> float:
    """Seconds per call: the best of five rounds of about ``budget`` seconds each."""
    number = 1
    while True:
        elapsed = timeit.timeit(fn, number=number)
        if elapsed > budget / 5:
            break
        number *= 2
    return min(timeit.repeat(fn, number=number, repeat=5)) / number


def cold_start(code: str, runs: int = 7) -> float:
    """Best wall time of a fresh interpreter running ``code``.

    Bytecode is cached (outside the checkout), as it is for an installed package: without it
    every run would also compile every imported module from source.
    """
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(Path(tempfile.gettempdir()) / "dagkit-bench"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    best = float("inf")
    for _ in range(runs + 1):  # the first run fills the bytecode cache
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    from jsonschema import Draft202012Validator

    from dagkit.schemas import check as schemacheck
    from dagkit.schemas import store as schemas

    doc = json.loads(QUICKSTART)
    schema = schemas.load_schema("request-data")
    engine = schemacheck._verdict("request-data")
    assert engine is not None, "jsonschema-rs is not installed"
    reference = Draft202012Validator(
        schema, registry=schemas.registry(), format_checker=schemas.format_checker()
    )
    assert engine.validator.is_valid(doc) and reference.is_valid(doc)
    assert schemacheck.check("request-data", doc) == []

    rows: list[tuple[str, float]] = [
        ("json.loads(text)", per_call(lambda: json.loads(QUICKSTART))),
        ("verdict (jsonschema-rs is_valid)", per_call(lambda: engine.validator.is_valid(doc))),
        ("schemacheck.check()", per_call(lambda: schemacheck.check("request-data", doc))),
        (
            "json.loads + schemacheck.check",
            per_call(lambda: schemacheck.check("request-data", json.loads(QUICKSTART))),
        ),
    ]
    try:
        from dagkit.validate.request_data import validate_request_data
    except ImportError:
        pass
    else:
        assert validate_request_data(QUICKSTART) == []
        rows.append(
            (
                "validate_request_data(text) (schema+rules)",
                per_call(lambda: validate_request_data(QUICKSTART)),
            )
        )
    rows.append(
        ("jsonschema Draft202012Validator.is_valid", per_call(lambda: reference.is_valid(doc)))
    )
    try:
        import fastjsonschema  # type: ignore[import-not-found]
    except ImportError:
        rows.append(("fastjsonschema (not installed; no 2020-12)", float("nan")))
    else:
        try:
            fj = fastjsonschema.compile(schema)
            rows.append(("fastjsonschema (2020-12 as draft 7)", per_call(lambda: fj(doc))))
        except Exception as exc:  # it does not know 2020-12
            rows.append((f"fastjsonschema: {type(exc).__name__}", float("nan")))

    floor = rows[0][1]
    fast = rows[1][1]
    print(f"quickstart request_data, {len(QUICKSTART)} bytes; Python {sys.version.split()[0]}")
    print(f"{'what':46} {'per call':>11} {'calls/s':>10} {'x loads':>8} {'x verdict':>10}")
    for name, seconds in rows:
        if seconds != seconds:  # nan: not measured
            print(f"{name:46} {'-':>11}")
            continue
        print(
            f"{name:46} {seconds * 1e6:9.1f} us {1 / seconds:10,.0f} "
            f"{seconds / floor:8.1f} {seconds / fast:10.1f}"
        )

    check_one = (
        "import json; from dagkit.schemas import check as schemacheck; "
        f"assert schemacheck.check('request-data', json.loads({QUICKSTART!r})) == []"
    )
    print()
    print("cold start of a process (best of 7, wall):")
    print(f"  python -c pass                               {cold_start('pass') * 1e3:7.1f} ms")
    print(f"  import dagkit.schemas.check + check one valid  {cold_start(check_one) * 1e3:7.1f} ms")
    print(
        "  import jsonschema                            "
        f"{cold_start('import jsonschema') * 1e3:7.1f} ms"
    )


if __name__ == "__main__":
    main()
