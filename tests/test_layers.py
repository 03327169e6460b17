"""Imports flow one way: no module imports from a floor above its own (dagkit.LAYERS), and
inside a package listed in dagkit.ORDER, no module imports one that stands after it."""

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


def _modules(path: Path) -> list[tuple[int, str]]:
    """(line, full dotted name) for every run-time import of a dagkit module in ``path``; for
    ``from dagkit.x import y`` both ``dagkit.x`` and ``dagkit.x.y`` (y may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_only(tree)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or node.lineno in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, name) for line, name in found if name.startswith("dagkit.")]


def _out_of_order(path: Path, relative: Path) -> list[str]:
    """The imports of ``path`` (at ``relative`` in dagkit/) of a module of its own package
    that stands after its own in dagkit.ORDER."""
    package = relative.parts[0]
    order = dagkit.ORDER.get(package)
    if order is None or len(relative.parts) < 2:
        return []
    own = relative.parts[1].removesuffix(".py")
    if own == "__init__":
        return []
    assert own in order, f"{relative}: not in dagkit.ORDER[{package!r}]"
    problems = []
    for line, name in _modules(path):
        parts = name.split(".")
        if parts[:2] != ["dagkit", package] or len(parts) < 3 or parts[2] not in order:
            continue
        if order.index(parts[2]) > order.index(own):
            problems.append(f"{relative}:{line}: {own} imports {parts[2]}, which stands after it")
    return problems


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
        problems += _problems(path, relative) + _out_of_order(path, relative)
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


def test_every_module_of_an_ordered_package_has_its_place() -> None:
    for package, order in dagkit.ORDER.items():
        folder = PACKAGE / package
        on_disk = {
            p.name.removesuffix(".py")
            for p in folder.iterdir()
            if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
        }
        assert on_disk == set(order), package


@pytest.mark.parametrize(
    "source",
    [
        "from dagkit.model.nodes import Partition\n",
        "from dagkit.model import dag\n",
        "import dagkit.model.dag\n",
        "def late() -> None:\n    from dagkit.model.dag import JobDAG\n",
    ],
)
def test_an_import_of_a_later_module_is_caught(tmp_path: Path, source: str) -> None:
    module = tmp_path / "rules.py"
    module.write_text(source, encoding="utf-8")
    assert len(_out_of_order(module, Path("model/rules.py"))) == 1
    assert _out_of_order(module, Path("model/nodes.py")) == []


def test_the_model_has_no_cycle_left() -> None:
    # nodes -> dag -> rules -> nodes was one; now each model module imports only earlier ones.
    problems = [
        p
        for path in sorted((PACKAGE / "model").rglob("*.py"))
        for p in _out_of_order(path, path.relative_to(PACKAGE))
    ]
    assert problems == []
