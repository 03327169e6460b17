"""Every file path and module name the README and the project's own configuration name exists.

Modules move between packages; a sentence naming the old place keeps reading well and quietly
sends the reader nowhere. These tests read the names out of the text, so a new mention is held
to the tree without anyone listing it here.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

import dagkit

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

#: A path inside the repository, as prose and code blocks write it (``dagkit/http/redact.py``,
#: ``examples/files/``); globs and placeholders are cut at their first wildcard.
_PATH = re.compile(r"(?<![\w./-])((?:dagkit|schemas|tests|examples|\.ci)/[\w./{},-]*)")
#: A dotted name of dagkit's (``dagkit.client.submission.run_workflow``); mutmut's names of
#: mutants (``dagkit.validate.body.x__count_part*``, ``...xǁBodyCheckerǁfeed__*``) included.
_DOTTED = re.compile(r"(?<![\w./-])(dagkit(?:\.[\wǁ]+)+)")
#: Names that look dotted but are not dagkit's modules: files a command writes, and the
#: package the schemas/ folder becomes when installed (pyproject's package-dir).
_NOT_MODULES = {"dagkit.sarif", "dagkit._schemas"}


def _expand(path: str) -> list[str]:
    """``a/{b,c}.py`` as ``a/b.py`` and ``a/c.py``."""
    match = re.search(r"\{([^}]*)\}", path)
    if match is None:
        return [path]
    return [
        expanded
        for choice in match.group(1).split(",")
        for expanded in _expand(path[: match.start()] + choice + path[match.end() :])
    ]


def readme_paths() -> list[str]:
    found = set()
    for raw in _PATH.findall(README):
        found.update(_expand(raw.rstrip(".,")))
    return sorted(found)


def readme_names() -> list[str]:
    return sorted({n.rstrip(".") for n in _DOTTED.findall(README)} - _NOT_MODULES)


def _resolve(dotted: str) -> object:
    """The module, class, function or attribute ``dotted`` names; a mutmut mutant name resolves
    to the function or method it mutates."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            found = _attribute(found, part, dotted)
        return found
    raise AssertionError(f"README names {dotted}: no such module")


def _attribute(owner: object, part: str, dotted: str) -> object:
    if part.startswith("xǁ"):  # mutmut's method mutants: xǁClassǁmethod__mutmut_N
        _, cls, method = part.split("ǁ")  # xǁClassǁ alone: every method of the class
        found = _attribute(owner, cls, dotted)
        return _attribute(found, method.removesuffix("__"), dotted) if method else found
    if part.startswith("x_") and isinstance(owner, ModuleType):  # function mutants: x_name
        prefix = part[2:]
        names = [n for n in vars(owner) if n.startswith(prefix)]
        assert names, f"README names {dotted}: {owner.__name__} has no function {prefix}*"
        return getattr(owner, names[0])
    assert hasattr(owner, part), f"README names {dotted}: {owner!r} has no {part!r}"
    return getattr(owner, part)


def test_the_readme_names_many_paths_and_modules() -> None:
    # the patterns still match the README's way of writing names
    assert {"dagkit/http/redact.py", "dagkit/model/catalogue/data.py"} <= set(readme_paths())
    assert {"dagkit.client.submission.run_workflow", "dagkit.wire.answers"} <= set(readme_names())


@pytest.mark.parametrize("path", readme_paths())
def test_every_path_the_readme_names_exists(path: str) -> None:
    assert (ROOT / path).exists(), f"README names {path}, which is not in the repository"


@pytest.mark.parametrize("dotted", readme_names())
def test_every_dagkit_name_the_readme_names_resolves(dotted: str) -> None:
    _resolve(dotted)


def test_the_installed_schemas_package_is_the_schemas_folder() -> None:
    """``dagkit._schemas`` (README, Schemas) exists only once installed: pyproject maps it."""
    assert "dagkit._schemas" in README
    assert PYPROJECT["tool"]["setuptools"]["package-dir"]["dagkit._schemas"] == "schemas"
    assert (ROOT / "schemas" / "__init__.py").is_file()


def _exists(path: str) -> bool:
    """A file or folder, or a test named as pytest names it (``file::test[param]``)."""
    file, _, test = path.partition("::")
    if not (ROOT / file).exists():
        return False
    name = test.split("::")[-1].partition("[")[0]
    return not name or f"def {name}(" in (ROOT / file).read_text(encoding="utf-8")


def test_every_path_pyproject_names_exists() -> None:
    mutmut = PYPROJECT["tool"]["mutmut"]
    named = [
        *mutmut["source_paths"],
        *mutmut["only_mutate"],
        *mutmut["also_copy"],
        *(a for a in mutmut["pytest_add_cli_args_test_selection"] if a.startswith("tests/")),
        *PYPROJECT["tool"]["ruff"]["extend-exclude"],
        PYPROJECT["project"]["readme"],
    ]
    missing = [path for path in named if not _exists(path)]
    assert not missing, f"pyproject.toml names {missing}, which are not in the repository"
    module, _, function = PYPROJECT["project"]["scripts"]["dagkit"].partition(":")
    assert callable(getattr(importlib.import_module(module), function))


# -- the layout the README draws ----------------------------------------------------------------


def _layout() -> list[str]:
    section = README.split("## Development", 1)[1]
    block = re.search(r"```\n(.+?)\n```", section, re.S)
    assert block is not None
    return block.group(1).splitlines()


def test_the_layout_lists_the_floors_of_dagkit_layers_in_their_order() -> None:
    """The tree in "Development" names, line by line, the floors of ``dagkit.LAYERS``."""
    lines = _layout()
    assert lines[0].startswith("dagkit/")
    floors = []
    for line in lines[1:]:
        if not line.startswith("  "):
            break
        names = re.split(r"\s{2,}", line.strip())[0]  # the names, then the description
        floors.append(tuple(name.rstrip("/") for name in names.split(" · ")))
    assert floors == [modules for _, modules in dagkit.LAYERS]


def test_the_layout_names_every_package_and_module_of_dagkit() -> None:
    package = ROOT / "dagkit"
    on_disk = {
        p.name.removesuffix(".py")
        for p in package.iterdir()
        if (p.is_dir() and (p / "__init__.py").is_file())
        or (p.suffix == ".py" and p.name != "__init__.py")
    }
    in_layers = {module for _, modules in dagkit.LAYERS for module in modules}
    assert on_disk == in_layers, "dagkit.LAYERS and the packages on disk differ"


def test_the_layout_draws_the_model_in_dagkit_order() -> None:
    (line,) = [line for line in _layout() if line.strip().startswith("model/")]
    steps = [step.split()[0].rstrip("/") for step in line.split("model/", 1)[1].split("→")]
    assert tuple(steps) == dagkit.ORDER["model"]


def test_every_top_level_folder_is_in_the_layout() -> None:
    drawn = {line.split()[0].rstrip("/") for line in _layout() if line and not line[0].isspace()}
    tracked = {"dagkit", "schemas", "tests", "examples"}
    assert tracked <= drawn
    assert all((ROOT / name).is_dir() for name in drawn)
