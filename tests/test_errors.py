"""The exception tree drawn in dagkit/errors.py is the real class hierarchy, and every public
exception dagkit defines lives there."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import dagkit
from dagkit import errors
from dagkit.errors import DagkitError
from dagkit.findings import finding

_ROW = re.compile(r"^(?P<indent>[ │├└─]*?)(?P<name>[A-Z]\w+)(?: \((?P<extra>\w+)\))?(?:\s|$)")


def _drawing() -> dict[str, tuple[str | None, str | None]]:
    """``{class name: (drawn parent, drawn second base)}`` from the module docstring."""
    text = errors.__doc__ or ""
    block = text.split("::\n", 1)[1].strip("\n").split("\n\n", 1)[0]
    rows: dict[str, tuple[str | None, str | None]] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        match = _ROW.match(line.strip("\n")[4:])
        assert match, f"cannot read the drawing's line {line!r}"
        depth = len(match["indent"]) // 4
        del stack[depth:]
        parent = stack[-1][1] if stack else None
        rows[match["name"]] = (parent, match["extra"])
        stack.append((depth, match["name"]))
    return rows


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_all_subclasses(sub)}
    return found


def _import_everything() -> None:
    for info in pkgutil.walk_packages(dagkit.__path__, "dagkit."):
        if info.name != "dagkit.__main__":
            importlib.import_module(info.name)


def test_the_drawing_is_the_class_hierarchy() -> None:
    drawn = _drawing()
    assert next(iter(drawn)) == "DagkitError"
    for name, (parent, extra) in drawn.items():
        cls = getattr(errors, name)
        dagkit_bases = [b.__name__ for b in cls.__bases__ if issubclass(b, DagkitError)]
        other_bases = [b.__name__ for b in cls.__bases__ if not issubclass(b, DagkitError)]
        assert dagkit_bases == ([parent] if parent else []), name
        expected_other = [extra] if extra else ([] if parent else ["Exception"])
        assert other_bases == expected_other, name


def test_every_dagkit_exception_is_drawn_and_lives_in_errors() -> None:
    _import_everything()
    real = {cls for cls in _all_subclasses(DagkitError) if cls.__module__.startswith("dagkit")}
    assert {cls.__module__ for cls in real} == {"dagkit.errors"}
    assert {cls.__name__ for cls in real} | {"DagkitError"} == set(_drawing())


def test_the_drawing_test_can_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = errors.__doc__ or ""
    moved = drawn.replace("│   ├── DagError ", "├── DagError     ")
    monkeypatch.setattr(errors, "__doc__", moved)
    with pytest.raises(AssertionError):
        test_the_drawing_is_the_class_hierarchy()


def test_bad_arguments_are_value_errors() -> None:
    from dagkit.http.transport import RetryPolicy

    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_to_dict_carries_findings_and_the_fields_of_the_kind() -> None:
    problem = finding("DK101", "bad", path=("job_nodes", 0))
    base = errors.ValidationFailed("checks failed", [problem]).to_dict()
    assert base == {
        "type": "ValidationFailed",
        "message": "checks failed",
        "notes": [],
        "findings": [problem.to_dict()],
    }
    api = errors.NotFoundError("no such job", status=404, request_id="r1").to_dict()
    assert (api["status"], api["request_id"], api["findings"]) == (404, "r1", [])
    assert errors.ConnectError("refused").to_dict()["reached_server"] is False
    assert DagkitError("plain").findings == ()


# --- advice: data in the library, worded for Python there and as flags by the CLI ---------------

_FLAG_OR_COMMAND = re.compile(r"(?<![\w-])--[a-z]|`dagkit ")


@pytest.mark.parametrize("kind", list(errors.AdviceKind))
def test_every_advice_is_worded_for_python_and_for_the_command_line(
    kind: errors.AdviceKind,
) -> None:
    from dagkit.cli._common import CLI_WORDS

    values = {"since": "2026-01-02T03:04:05Z", "job_id": "j-1", "name": "my flow"}
    values["created_since"] = " for a job created since 2026-01-02T03:04:05Z"
    advice = errors.Advice.of(kind, **values)
    python, cli = advice.render(errors.PYTHON_WORDS), advice.render(CLI_WORDS)
    assert "{" not in python + cli  # every slot filled
    assert not _FLAG_OR_COMMAND.search(python), python
    words = [v for v in kind.value.split("{")[1:] if v.split("}")[0] not in values]
    assert python != cli if words else python == cli


def test_an_error_words_its_advice_for_whoever_reads_it() -> None:
    from dagkit.cli._common import CLI_WORDS

    wait = errors.Advice.of(errors.AdviceKind.FOLLOW_JOB, job_id="j-1")
    error = errors.TimeoutError(
        "no answer within 5 s.",
        reached_server=True,
        advice=[errors.Advice.of(errors.AdviceKind.RAISE_READ_TIMEOUT), wait],
    )
    assert error.unadvised == "no answer within 5 s."
    assert (
        str(error)
        == error.describe()
        == (
            "no answer within 5 s. If the server is slow rather than down, raise the read timeout "
            "(timeout=(connect, read)). It keeps running: follow it with JobsClient.wait('j-1')."
        )
    )
    assert error.describe(CLI_WORDS) == (
        "no answer within 5 s. If the server is slow rather than down, raise the read timeout "
        "(--timeout). It keeps running: follow it with `dagkit jobs wait j-1`."
    )
    assert error.to_dict()["message"] == str(error)
    assert DagkitError("plain").advice == () and str(DagkitError("plain")) == "plain"
    # a shell-quoted name on the command line, a Python literal in Python
    look = errors.Advice.of(errors.AdviceKind.LOOK_FOR_WORKFLOW, name="it's")
    assert 'list_workflows(name="it\'s")' in look.render(errors.PYTHON_WORDS)
    assert "--name 'it'\"'\"'s'`" in look.render(CLI_WORDS)
