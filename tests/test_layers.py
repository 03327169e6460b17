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


def _upward() -> list[str]:
    problems: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        importer = relative.parts[0].removesuffix(".py")
        if importer == "__init__":
            continue  # the package's lazy exports
        assert importer in FLOOR, f"{relative}: not on any floor of dagkit.LAYERS"
        for line, imported in _imports(path):
            if imported == "__version__" or imported == importer:
                continue
            assert imported in FLOOR, f"{relative}:{line}: {imported} is on no floor"
            if (
                FLOOR[imported] > FLOOR[importer]
                and (importer, imported) not in dagkit.UPWARD_SEAMS
            ):
                problems.append(f"{relative}:{line}: {importer} imports {imported}, a floor up")
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


def test_an_upward_import_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dagkit, "UPWARD_SEAMS", {})
    assert any("nodes imports dag" in p for p in _upward())
