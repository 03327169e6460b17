"""Start-up of ``dagkit validate``: it imports what validation needs and nothing else.

Timing belongs to ``tests/bench/bench_validate.py``; these tests guard the cause instead: each
run happens in a fresh interpreter, and what it imported is read from ``sys.modules``.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from dagkit.schemas.store import package_files

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


#: Standard modules that a clean interpreter does not import at start-up and validation does not
#: need: importlib.resources (zipfile, tempfile, shutil: the packaged schemas are a directory)
#: and threading (one lock).
STDLIB_HEAVY = ("importlib.resources", "zipfile", "tempfile", "shutil", "threading")


def imported_by(*args: str, clean: bool = False) -> tuple[int, set[str]]:
    """The exit status of ``dagkit ARGS`` and every module it imported, in a fresh process;
    ``clean``: an interpreter that runs no site-packages ``.pth`` hooks (``-S``, with
    site-packages on the path), which may import standard modules of their own."""
    path = [str(ROOT)]
    if clean:
        paths = sysconfig.get_paths()
        path += dict.fromkeys([paths["purelib"], paths["platlib"]])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "NO_COLOR": "1"}
    python = [sys.executable, "-S"] if clean else [sys.executable]
    done = subprocess.run(
        [*python, "-c", _PROBE, *args], capture_output=True, text=True, env=env, cwd=ROOT
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


def test_a_clean_interpreter_validating_imports_no_heavy_standard_module() -> None:
    status, modules = imported_by("validate", str(VALID), clean=True)
    assert status == 0
    assert "jsonschema_rs" in modules
    assert not {
        m for m in modules for heavy in STDLIB_HEAVY if m == heavy or m.startswith(heavy + ".")
    }


@pytest.mark.parametrize("name", ["dagkit", "dagkit.model.catalogue", "json", "email"])
def test_package_files_of_a_directory_are_what_importlib_resources_says(name: str) -> None:
    assert package_files(name) == importlib.resources.files(name)
    assert type(package_files(name)) is type(importlib.resources.files(name))


def test_package_files_of_a_zipped_package_come_from_importlib_resources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "packages.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped_schemas/__init__.py", "")
        zipped.writestr("zipped_schemas/request-data.schema.json", "{}")
    monkeypatch.syspath_prepend(str(archive))
    try:
        files = package_files("zipped_schemas")
        expected = importlib.resources.files("zipped_schemas")
    finally:
        sys.modules.pop("zipped_schemas", None)
    assert (type(files), str(files)) == (type(expected), str(expected))
    assert isinstance(files, zipfile.Path)
    assert (files / "request-data.schema.json").read_text() == "{}"
