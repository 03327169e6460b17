"""Imports flow one way: no module imports from a floor above its own (dagkit.LAYERS)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dagkit

PACKAGE = Path(dagkit.__file__).parent
FLOOR = {module: i for i, (_, modules) in enumerate(dagkit.LAYERS) for module in modules}


def _owner(dotted: str) -> str | None:
    """The top-level module or subpackage of dagkit that ``dotted`` names."""
    parts = dotted.split(".")
    return parts[1] if parts[0] == "dagkit" and len(parts) > 1 else None


def _type_only(tree: ast.Module) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks (no import happens at run time)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported dagkit module or subpackage) for every import in ``path``, at the top
    and inside functions alike."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_only(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "dagkit":
                names = [alias.name for alias in node.names]
            else:
                names = [_owner(node.module) or ""]
        elif isinstance(node, ast.Import):
            names = [_owner(alias.name) or "" for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n and node.lineno not in skip]
    return found


def _problems(path: Path, relative: Path) -> list[str]:
    """The upward imports of the module at ``path``, which sits at ``relative`` in dagkit/."""
    importer = relative.parts[0].removesuffix(".py")
    assert importer in FLOOR, f"{relative}: not on any floor of dagkit.LAYERS"
    problems: list[str] = []
    for line, imported in _imports(path):
        if imported == "__version__" or imported == importer:
            continue
        assert imported in FLOOR, f"{relative}:{line}: {imported} is on no floor"
        if FLOOR[imported] > FLOOR[importer] and (importer, imported) not in dagkit.UPWARD_SEAMS:
            problems.append(f"{relative}:{line}: {importer} imports {imported}, a floor up")
    return problems


def _upward() -> list[str]:
    problems: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative == Path("__init__.py"):
            continue  # the package's lazy exports
        problems += _problems(path, relative)
    return problems


def test_no_module_imports_from_a_floor_above() -> None:
    assert _upward() == []


def test_the_seams_are_still_needed() -> None:
    # A seam that no longer exists must leave the list, so the list stays true.
    seen = {
        (path.relative_to(PACKAGE).parts[0].removesuffix(".py"), imported)
        for path in PACKAGE.rglob("*.py")
        for _, imported in _imports(path)
    }
    assert set(dagkit.UPWARD_SEAMS) <= seen


def test_every_package_and_module_stands_on_a_floor() -> None:
    on_disk = {
        p.name.removesuffix(".py")
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
    }
    assert on_disk == set(FLOOR)


@pytest.mark.parametrize(
    "source",
    [
        "from dagkit.client.jobs import JobsClient\n",
        "import dagkit.http.transport\n",
        "from dagkit import wire\n",
        "def late() -> None:\n    from dagkit.cli import main\n",
    ],
)
def test_an_upward_import_is_caught(tmp_path: Path, source: str) -> None:
    module = tmp_path / "bad.py"
    module.write_text(source, encoding="utf-8")
    assert len(_problems(module, Path("model/bad.py"))) == 1
    assert _problems(module, Path("cli/bad.py")) == []


def test_a_type_only_import_is_not_an_upward_one(tmp_path: Path) -> None:
    module = tmp_path / "typed.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
        "    from dagkit.client.jobs import JobsClient\n",
        encoding="utf-8",
    )
    assert _problems(module, Path("model/typed.py")) == []
