"""The embedded server is used through its face, ``dagkit.server``: outside the server's own
package nothing imports its submodules, and what it imports from the face is public."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dagkit
import dagkit.server as server

ROOT = Path(dagkit.__file__).resolve().parent.parent
FACE = "dagkit.server"


def _outside_the_server() -> list[Path]:
    inside = Path(server.__file__).parent
    paths = [*(ROOT / "dagkit").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
    return sorted(p for p in paths if inside not in p.parents)


def _reaches_in(path: Path) -> list[str]:
    """Each import in ``path`` that goes past the face, or names what it does not offer."""
    problems = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith(FACE + "."):
                problems.append(f"{path.name}:{node.lineno}: from {node.module}")
            elif node.module == FACE:
                hidden = [a.name for a in node.names if a.name not in server.__all__]
                problems += [f"{path.name}:{node.lineno}: {name} is not public" for name in hidden]
        elif isinstance(node, ast.Import):
            problems += [
                f"{path.name}:{node.lineno}: import {a.name}"
                for a in node.names
                if a.name.startswith(FACE + ".")
            ]
    return problems


def test_nothing_outside_the_server_reaches_past_its_face() -> None:
    assert [p for path in _outside_the_server() for p in _reaches_in(path)] == []


def test_a_reach_past_the_face_is_caught(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from dagkit.server.app import ServerConfig\nfrom dagkit.server import _x\n")
    assert _reaches_in(module) == ["m.py:1: from dagkit.server.app", "m.py:2: _x is not public"]


def test_the_face_reads_a_command_lines_words() -> None:
    assert server.parse_clock("instant") == "instant"
    assert server.parse_clock("0.5") == 0.5
    with pytest.raises(ValueError):
        server.parse_clock("fast")
    assert server.parse_fault("create_job:503:2") == ("create_job", "503", 2)
    with pytest.raises(ValueError, match="create_job"):
        server.parse_fault("create_jb:503")
