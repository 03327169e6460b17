"""``dagkit validate PATH...`` without click says and does exactly what the click command does.

:func:`dagkit.cli.run` answers a bare ``dagkit validate PATH...`` without importing click
(:mod:`dagkit.cli.entry`). Each test here runs the real program twice on the same input, once
that way and once through click (``dagkit validate -- PATH...``: the same paths, but a command
line the fast path leaves to click), and holds standard output, standard error and the exit
status equal, byte for byte; and it checks that the first run really went without click.
"""

from __future__ import annotations

import inspect
import io
import os
import pty
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit.cli._check import check
from dagkit.cli._options import byte_size
from dagkit.cli.entry import click_would_add_nothing, is_plain_validate
from dagkit.cli.validate import validate
from dagkit.core.limits import MAX_FILE_SIZE

ROOT = Path(__file__).resolve().parent.parent
VALID = ROOT / "tests" / "data" / "valid"
INVALID = ROOT / "tests" / "data" / "invalid"
KEY = "sk-fast-path-secret-0123456789"

#: ``python -m dagkit ARGS`` as Python runs it, telling (in the file named first) whether click
#: was imported by the time the process ended.
_DRIVER = """
import atexit, runpy, sys
report = sys.argv.pop(1)
def tell():
    with open(report, "w") as f:
        f.write("click" if "click" in sys.modules else "")
atexit.register(tell)
runpy.run_module("dagkit", run_name="__main__", alter_sys=True)
"""


class Run:
    """What one run printed, its exit status, and whether it imported click."""

    def __init__(self, done: subprocess.CompletedProcess[bytes], clicked: bool) -> None:
        self.code, self.out, self.err = done.returncode, done.stdout, done.stderr
        self.clicked = clicked

    def seen(self) -> tuple[int, bytes, bytes]:
        return self.code, self.out, self.err


def environment(no_color: bool = True, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "UNSTRUCTURED_API_KEY")}
    env["PYTHONPATH"] = str(ROOT)
    if no_color:
        env["NO_COLOR"] = "1"
    return {**env, **extra}


def dagkit(args: list[str], *, stdin: bytes = b"", env: dict[str, str] | None = None) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "clicked"
        done = subprocess.run(
            [sys.executable, "-c", _DRIVER, str(report), *args],
            input=stdin,
            capture_output=True,
            env=environment() if env is None else env,
            cwd=ROOT,
            timeout=120,
        )
        return Run(done, report.read_text() == "click")


def both(
    paths: list[str], *, stdin: bytes = b"", env: dict[str, str] | None = None
) -> tuple[Run, Run]:
    """The fast run and the click run of ``dagkit validate PATHS``, checked equal."""
    assert is_plain_validate(["validate", *paths])
    fast = dagkit(["validate", *paths], stdin=stdin, env=env)
    slow = dagkit(["validate", "--", *paths], stdin=stdin, env=env)
    assert slow.clicked
    assert fast.seen() == slow.seen()
    return fast, slow


# --- the inputs --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Named paths: every kind of input the command reads, good, bad and skipped."""
    tmp = tmp_path_factory.mktemp("inputs")
    lines = tmp / "jobs.jsonl"
    lines.write_text(
        (VALID / "quickstart-compact.request_data.json").read_text().strip()
        + '\n{"job_nodes": []}\n'
    )
    unicode = tmp / "naïve-é.json"
    unicode.write_text(
        '{"job_nodes": [{"name": "Zerleger \\ud800 ü 分", "type": "partition", '
        '"subtype": "vlm"}, {"name": "Zerleger \\ud800 ü 分", "type": "chunk", '
        '"subtype": "chunk_by_title"}]}',
        encoding="utf-8",
    )
    escape = tmp / "red\x1b[31m.json"  # findings quote values escaped, paths as they are
    escape.write_text('{"job_nodes": []}')
    secret = tmp / f"{KEY}.json"
    secret.write_text(f'{{"job_nodes": [{{"name": "{KEY}", "type": "nope"}}]}}')
    walked = tmp / "walked"
    walked.mkdir()
    (walked / "package.json").write_text('{"name": "web", "version": "1.0.0"}')
    (walked / "job.request_data.json").write_bytes(STDIN)
    empty = tmp / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("not dagkit's")
    return {
        "valid": str(VALID / "quickstart.request_data.json"),
        "invalid": str(INVALID / "DK203-bad-strategy.json"),
        "warning": str(INVALID / "DK602-nodes-on-basic.workflow.json"),
        "workflow": str(VALID / "quickstart.workflow.json"),
        "response": str(VALID / "get-job.response.json"),
        "multipart": str(VALID / "create-job.multipart"),
        "bad multipart": str(INVALID / "DK403-truncated.multipart"),
        "http": str(VALID / "create-job.http"),
        "jsonl": str(lines),
        "python": str(ROOT / "examples" / "quickstart.py"),
        "unicode": str(unicode),
        "escape": str(escape),
        "secret": str(secret),
        "directory": str(INVALID),
        "skipped": str(walked),
        "glob": str(VALID / "quickstart*.json"),
        "stdin": "-",
        "missing": str(ROOT / "no-such-file.json"),
        "empty directory": str(empty),
    }


#: Inputs the fast path cannot finish itself: it hands them to click, which says so.
HANDED_OVER = {"missing", "empty directory"}
#: Inputs whose report holds an escape sequence: click removes it from a pipe, so it prints it.
ESCAPES = {"escape"}
STDIN = (VALID / "quickstart.request_data.json").read_bytes()


@pytest.mark.parametrize(
    "names",
    [
        ["valid"],
        ["invalid"],
        ["warning"],
        ["workflow", "response"],
        ["multipart"],
        ["bad multipart"],
        ["http"],
        ["jsonl"],
        ["python"],
        ["unicode"],
        ["escape"],
        ["secret"],
        ["directory"],
        ["skipped"],
        ["glob"],
        ["stdin"],
        ["stdin", "invalid"],
        ["valid", "missing"],
        ["stdin", "missing"],
        ["empty directory"],
        ["valid", "valid", "directory"],
    ],
    ids="+".join,
)
@pytest.mark.parametrize("no_color", [True, False], ids=["NO_COLOR", "colour"])
def test_the_fast_path_and_click_agree(
    names: list[str], no_color: bool, inputs: dict[str, str]
) -> None:
    env = environment(no_color, UNSTRUCTURED_API_KEY=KEY)
    fast, _ = both([inputs[n] for n in names], stdin=STDIN, env=env)
    assert fast.clicked == bool(set(names) & (HANDED_OVER | ESCAPES))
    assert KEY.encode() not in fast.out + fast.err


@settings(max_examples=15)
@given(
    names=st.lists(
        st.sampled_from(
            ["valid", "invalid", "warning", "jsonl", "unicode", "skipped", "stdin", "missing"]
        ),
        min_size=1,
        max_size=4,
    ),
    stdin=st.sampled_from([STDIN, b"", b"{", '{"job_nodes": [{"name": "ü"}]}'.encode()]),
)
def test_any_mix_of_inputs_agrees(names: list[str], stdin: bytes, inputs: dict[str, str]) -> None:
    fast, _ = both([inputs[n] for n in names], stdin=stdin)
    assert fast.clicked == ("missing" in names)


# --- what is not the happy path ----------------------------------------------------------------


def test_a_broken_pipe_ends_quietly_on_both_paths(inputs: dict[str, str]) -> None:
    def closed_reader(args: list[str]) -> tuple[int, bytes]:
        read, write = os.pipe()
        os.close(read)  # whatever is written now fails with EPIPE
        try:
            done = subprocess.run(
                [sys.executable, "-m", "dagkit", *args],
                stdout=write,
                stderr=subprocess.PIPE,
                env=environment(),
                cwd=ROOT,
                timeout=120,
            )
        finally:
            os.close(write)
        return done.returncode, done.stderr

    fast = closed_reader(["validate", inputs["directory"]])
    assert fast == closed_reader(["validate", "--", inputs["directory"]])
    assert fast == (1, b"")


def test_ctrl_c_is_reported_as_click_reports_it() -> None:
    def interrupted(args: list[str]) -> tuple[int, bytes, bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagkit", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment(),
            cwd=ROOT,
        )
        # Interrupt it once it waits for standard input: in read(0, ...) (Linux)
        syscall = Path(f"/proc/{proc.pid}/syscall")
        deadline = time.monotonic() + 60
        while not syscall.read_text().startswith("0 0x0 "):
            assert time.monotonic() < deadline, "it never read standard input"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        return proc.returncode, out, err

    if not Path(f"/proc/{os.getpid()}/syscall").exists():
        pytest.skip("needs Linux's /proc/PID/syscall to see the process wait")
    fast = interrupted(["validate", "-"])
    assert fast == interrupted(["validate", "--", "-"])
    assert fast[0] == 130 and b"interrupted" in fast[2]


def _on_a_tty(args: list[str], env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """The real program with its standard output on a pseudo-terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagkit", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    os.close(follower)
    chunks = []
    while select.select([leader], [], [], 60)[0]:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the program ended
            break
        if not data:
            break
        chunks.append(data)
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.wait(timeout=60)
    os.close(leader)
    return proc.returncode, b"".join(chunks), err


@pytest.mark.parametrize("no_color", [True, False])
@pytest.mark.parametrize("name", ["valid", "invalid", "escape", "skipped"])
def test_on_a_terminal_colour_and_escapes_are_the_same(
    name: str, no_color: bool, inputs: dict[str, str]
) -> None:
    env = environment(no_color)
    fast = _on_a_tty(["validate", inputs[name]], env)
    assert fast == _on_a_tty(["validate", "--", inputs[name]], env)
    if name == "invalid":
        assert (b"\033[31m" in fast[1]) is not no_color


# --- the command line it takes, and its defaults ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "plain"),
    [
        (["validate", "a.json"], True),
        (["validate", "a.json", "-", "dir/"], True),
        (["validate"], False),
        (["validate", "--", "a.json"], False),
        (["validate", "a.json", "--strict"], False),
        (["validate", "-h"], False),
        (["validate", "-j2", "a.json"], False),
        (["validate", "a.json", "--format=json"], False),
        (["--help"], False),
        (["build", "a.py"], False),
        (["validat", "a.json"], False),
        ([], False),
    ],
)
def test_only_a_bare_validate_takes_the_fast_path(args: list[str], plain: bool) -> None:
    assert is_plain_validate(args) is plain


def test_only_plain_standard_streams_and_no_completion_request_skip_click(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("_DAGKIT_COMPLETE", raising=False)
    with (tmp_path / "out").open("w", encoding="utf-8") as utf8:
        monkeypatch.setattr(sys, "stdout", utf8)
        monkeypatch.setattr(sys, "stderr", utf8)
        assert click_would_add_nothing()
        monkeypatch.setenv("_DAGKIT_COMPLETE", "bash_complete")
        assert not click_would_add_nothing()  # click answers with completions instead
        monkeypatch.delenv("_DAGKIT_COMPLETE")
        with (tmp_path / "ascii").open("w", encoding="ascii") as ascii_file:
            monkeypatch.setattr(sys, "stderr", ascii_file)
            assert not click_would_add_nothing()  # click would wrap it anew
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        assert not click_would_add_nothing()  # not the interpreter's own stream


def test_the_fast_path_uses_the_click_options_defaults() -> None:
    """Every option ``check`` takes defaults to what the click option gives when not named."""
    ctx = validate.make_context("validate", ["a.json"])
    parameters = inspect.signature(check).parameters
    defaults = {name: p.default for name, p in parameters.items() if p.default is not p.empty}
    given_by_click = {name: value for name, value in ctx.params.items() if name != "paths"}
    assert set(given_by_click) == set(defaults) - {"max_file_size"}  # a new option is passed on
    for name, value in given_by_click.items():
        assert value == defaults[name], name
    limit = next(p for p in validate.params if p.name == "max_file_size")
    assert isinstance(limit, click.Option) and not limit.expose_value
    assert byte_size(limit.get_default(ctx)) == defaults["max_file_size"] == MAX_FILE_SIZE
