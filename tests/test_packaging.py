"""dagkit installs with its schemas: from a wheel, from an sdist, and as an editable install.

Each install goes into a fresh virtual environment with no other packages (no jsonschema), and
loads every schema through ``importlib.resources`` there. The project is copied to a temporary
directory first, so building never writes into the checkout.

One build environment (a venv with setuptools and wheel from the package index, as pip's build
isolation would fetch them) builds all three; the checkout's own interpreter is not modified.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dagkit.schemas import store as schemas

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".venv", ".*_cache", ".hypothesis"
)

#: Run inside the fresh venv: load every schema both ways, report where they came from.
PROBE = """
import importlib.resources, json, sys
import dagkit, dagkit.schemas.store as s
root = importlib.resources.files("dagkit._schemas")
loaded = {n: s.load_schema(n) for n in s.schema_names()}
direct = {n: json.loads(root.joinpath(*s.schema_path(n).split("/")).read_text("utf-8"))
          for n in s.schema_names()}
assert loaded == direct
print(json.dumps({"root": str(root), "package": dagkit.__file__, "schemas": loaded,
                  "jsonschema": "jsonschema" in sys.modules}))
"""


def run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def pip(python: Path, *args: str | Path) -> str:
    """pip acting on another interpreter's environment (that venv needs no pip of its own)."""
    return run(
        sys.executable, "-m", "pip", "--python", python, *args, "--disable-pip-version-check"
    )


def fresh_venv(path: Path) -> Path:
    run(sys.executable, "-m", "venv", "--without-pip", path)
    return path / "bin" / "python"


class Built:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.source = root / "source"
        shutil.copytree(REPO, self.source, ignore=SKIP)
        readme = self.source / "README.md"
        if not readme.exists():  # pyproject names it; another engineer may not have written it yet
            readme.write_text("dagkit\n")
        self.builder = fresh_venv(root / "builder")
        pip(self.builder, "install", "--quiet", "setuptools>=68", "wheel")
        self.dist = root / "dist"
        pip(self.builder, "wheel", "--quiet", "--no-deps", "--no-build-isolation",
            "-w", self.dist / "wheel", self.source)  # fmt: skip
        run(self.builder, "-c",
            f"import setuptools.build_meta as b; b.build_sdist({str(self.dist / 'sdist')!r})",
            cwd=self.source)  # fmt: skip

    def wheel(self) -> Path:
        return next((self.dist / "wheel").glob("dagkit-*.whl"))

    def sdist(self) -> Path:
        return next((self.dist / "sdist").glob("dagkit-*.tar.gz"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("packaging"))


def probe(python: Path) -> dict[str, object]:
    result: dict[str, object] = json.loads(run(python, "-I", "-c", PROBE, cwd=python.parents[2]))
    return result


def assert_all_schemas(result: dict[str, object]) -> None:
    expected = {name: schemas.load_schema(name) for name in schemas.schema_names()}
    assert result["schemas"] == expected
    assert result["jsonschema"] is False, "loading schemas imported jsonschema"
    assert not str(result["package"]).startswith(str(REPO))


def test_wheel_install_loads_every_schema(built: Built, tmp_path: Path) -> None:
    python = fresh_venv(tmp_path / "venv")
    pip(python, "install", "--quiet", "--no-deps", "--no-index", built.wheel())
    result = probe(python)
    assert_all_schemas(result)
    assert str(result["root"]).startswith(str(tmp_path / "venv"))
    assert str(result["root"]).endswith("site-packages/dagkit/_schemas")


def test_sdist_holds_the_schemas_and_builds_an_install_that_loads_them(
    built: Built, tmp_path: Path
) -> None:
    with tarfile.open(built.sdist()) as sdist:
        members = {m.split("/", 1)[1] for m in sdist.getnames() if "/" in m}
        sdist.extractall(tmp_path / "unpacked", filter="data")
    for name in schemas.schema_names():
        assert f"schemas/{schemas.schema_path(name)}" in members
    unpacked = next((tmp_path / "unpacked").iterdir())
    pip(built.builder, "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "-w", tmp_path / "wheel", unpacked)  # fmt: skip
    python = fresh_venv(tmp_path / "venv")
    wheel = next((tmp_path / "wheel").glob("dagkit-*.whl"))
    pip(python, "install", "--quiet", "--no-deps", "--no-index", wheel)
    result = probe(python)
    assert_all_schemas(result)
    assert str(result["root"]).startswith(str(tmp_path / "venv"))


def test_editable_install_loads_every_schema_from_the_source_tree(built: Built) -> None:
    # The build venv is itself fresh apart from setuptools and wheel, which an editable install
    # without build isolation needs.
    pip(built.builder, "install", "--quiet", "--no-deps", "--no-build-isolation",
        "-e", built.source)  # fmt: skip
    result = probe(built.builder)
    assert_all_schemas(result)
    assert Path(str(result["root"])) == built.source / "schemas"
    assert Path(str(result["package"])).is_relative_to(built.source)


def test_every_subpackage_is_listed_in_pyproject() -> None:
    """setuptools is given an explicit package list (for the schemas/ mapping): keep it whole."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for init in (root / "dagkit").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"
