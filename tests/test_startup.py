"""Start-up of ``dagkit validate``: it imports what validation needs and nothing else.

Timing belongs to ``tests/bench/bench_validate.py``; these tests guard the cause instead: each
run happens in a fresh interpreter, and what it imported is read from ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "tests" / "data" / "valid" / "quickstart.request_data.json"

#: Modules that validating a valid request_data file must not need: the command-line library
#: (a bare ``dagkit validate PATH...`` runs without click), the graph library, the reference
#: schema engine (only invalid documents need it), the HTTP stack, dagkit's own network
#: commands' machinery, and dataclasses (a dataclass compiles its methods when its module
#: is imported, ~0.5 ms each: the records on this path are ``dagkit.core.record.Record``s).
HEAVY = (
    "click",
    "dataclasses",
    "networkx",
    "jsonschema",
    "referencing",
    "http.client",
    "urllib.request",
    "ssl",
    "dagkit.model.dag",
    "dagkit.client.jobs",
    "dagkit.http.transport",
    "dagkit.server",
    "dagkit.cli._common",
)
FORMAT_MODULES = {
    "text": "dagkit.report.text",
    "json": "dagkit.report.json_report",
    "github": "dagkit.report.github",
    "sarif": "dagkit.report.sarif",
    "junit": "dagkit.report.junit",
}

_PROBE = """
import json, sys
from dagkit.cli import run
try:
    run(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported_by(*args: str) -> tuple[int, set[str]]:
    """The exit status of ``dagkit ARGS`` and every module it imported, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["exit"], set(report["modules"])


def test_validating_a_valid_file_imports_no_heavy_module() -> None:
    status, modules = imported_by("validate", str(VALID))
    assert status == 0
    assert not {m for m in modules for heavy in HEAVY if m == heavy or m.startswith(heavy + ".")}
    assert "jsonschema_rs" in modules, "the verdict came from somewhere else"
    others = set(FORMAT_MODULES.values()) - {FORMAT_MODULES["text"]}
    assert not modules & others, "report formats that were not chosen"


@pytest.mark.parametrize("fmt", sorted(FORMAT_MODULES))
def test_each_report_format_imports_only_its_own_module(fmt: str) -> None:
    status, modules = imported_by("validate", "--format", fmt, str(VALID))
    assert status == 0
    loaded = {name for name, module in FORMAT_MODULES.items() if module in modules}
    assert loaded == {fmt}


def test_an_invalid_file_brings_in_jsonschema_to_explain() -> None:
    status, modules = imported_by("validate", str(ROOT / "tests" / "data" / "invalid"))
    assert status == 1
    assert "jsonschema" in modules
