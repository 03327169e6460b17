"""dagkit's own imports sit at the top of its modules; an import inside a function is a named
seam, kept lazy because it costs start-up time where it is not needed (most of all on the path of
``dagkit validate one.json``), with its reason here and a ``# lazy:`` comment where it is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dagkit

PACKAGE = Path(dagkit.__file__).parent

_API = "the client and the HTTP stack load when a command talks to the API, not for --help"
_RUN = "loaded when the command runs, not for --help or a usage error"
_KIND = "validating request_data loads only the checks its own kind of file needs"

#: (importing module, imported module or package) -> why the import waits until it is needed.
ALLOWED: dict[tuple[str, str], str] = {
    ("dagkit.cli.group", "dagkit.cli._common"): "only a command that fails needs the error printer",
    ("dagkit.cli.entry", "dagkit.cli._check"): "only a bare `dagkit validate PATH...` runs it here",
    ("dagkit.cli.entry", "dagkit.cli.group"): "a bare `dagkit validate PATH...` needs no click",
    ("dagkit.cli._common", "dagkit.client.jobs"): _API,
    ("dagkit.cli._common", "dagkit.http.transport"): _API,
    ("dagkit.cli._common", "dagkit.server"): "only --local runs the embedded server",
    ("dagkit.cli.batch", "dagkit.batch"): _RUN,
    ("dagkit.cli.batch", "dagkit.http.transport"): _API,
    ("dagkit.cli.jobs", "dagkit.client.submission"): _API,
    ("dagkit.cli.serve", "dagkit.server"): _RUN,
    ("dagkit.cli.serve", "dagkit.http.transport"): _RUN,
    ("dagkit.cli.submit", "dagkit.client.submission"): _API,
    ("dagkit.cli._check", "dagkit.core.atomic"): "only --out writes a file (secrets, hashlib)",
    ("dagkit.cli.workflows", "dagkit.client.jobs"): _API,
    ("dagkit.cli.workflows", "dagkit.client.submission"): _API,
    ("dagkit.cli.workflows", "dagkit.client.workflows"): _API,
    (
        "dagkit.model.nodes",
        "dagkit.model.catalogue",
    ): "only type checkers use TypedDicts",
    ("dagkit.validate.files", "dagkit.core.forkmap"): "only many files fork (pickle: start-up)",
    (
        "dagkit.validate.request_data",
        "dagkit.core.jsonlocate",
    ): "only text with a finding needs locating: a valid request_data is judged without it",
    ("dagkit.validate.files", "dagkit.validate"): _KIND,
    (
        "dagkit.validate.files",
        "dagkit.wire.serialize",
    ): "only a .py source needs networkx",
}


def _module(relative: Path) -> str:
    parts = ["dagkit", *relative.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _in_functions(source: str) -> list[tuple[int, str]]:
    """(line, imported dagkit module) for each import inside a function, outside
    ``if TYPE_CHECKING:`` blocks."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test).endswith("TYPE_CHECKING"):
                continue
            if in_function and isinstance(child, ast.ImportFrom) and child.level == 0:
                module = child.module or ""
                if module == "dagkit":
                    found.extend((child.lineno, f"dagkit.{a.name}") for a in child.names)
                elif module.startswith("dagkit."):
                    found.append((child.lineno, module))
            elif in_function and isinstance(child, ast.Import):
                names = [a.name for a in child.names if a.name.startswith("dagkit.")]
                found.extend((child.lineno, name) for name in names)
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inner)

    visit(ast.parse(source), False)
    return found


def _seam(importer: str, imported: str) -> tuple[str, str] | None:
    """The ALLOWED entry that covers this import: the imported module or a package above it."""
    parts = imported.split(".")
    while parts:
        if (importer, ".".join(parts)) in ALLOWED:
            return importer, ".".join(parts)
        parts.pop()
    return None


def _lazy_imports() -> list[tuple[Path, int, str, str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        for line, imported in _in_functions(path.read_text(encoding="utf-8")):
            out.append((relative, line, _module(relative), imported))
    return out


def test_every_import_inside_a_function_is_a_named_seam() -> None:
    unnamed = [
        f"dagkit/{relative}:{line}: {imported} (add it to ALLOWED with its reason, or import "
        "it at the top)"
        for relative, line, importer, imported in _lazy_imports()
        if _seam(importer, imported) is None
    ]
    assert unnamed == []


def test_every_seam_says_why_where_it_is() -> None:
    silent = []
    for relative, line, _, imported in _lazy_imports():
        above = (PACKAGE / relative).read_text(encoding="utf-8").split("\n")[line - 3 : line - 1]
        if not any(text.strip().startswith("# lazy:") for text in above):
            silent.append(f"dagkit/{relative}:{line}: {imported}")
    assert silent == []


def test_every_named_seam_is_still_used() -> None:
    used = {_seam(importer, imported) for _, _, importer, imported in _lazy_imports()}
    assert set(ALLOWED) - used == set()


@pytest.mark.parametrize(
    "source",
    [
        "def f() -> None:\n    from dagkit.model.dag import JobDAG\n",
        "def f() -> None:\n    import dagkit.wire.serialize\n",
        "class C:\n    def m(self) -> None:\n        from dagkit import errors\n",
    ],
)
def test_a_new_import_inside_a_function_is_caught(source: str) -> None:
    found = _in_functions(source)
    assert len(found) == 1
    assert _seam("dagkit.core.limits", found[0][1]) is None


def test_imports_at_the_top_or_only_for_type_checkers_are_not_seams() -> None:
    source = (
        "from typing import TYPE_CHECKING\nfrom dagkit.model import dag\n"
        "if TYPE_CHECKING:\n    from dagkit.client.jobs import JobsClient\n"
        "def f() -> None:\n    if TYPE_CHECKING:\n        from dagkit import server\n"
    )
    assert _in_functions(source) == []
