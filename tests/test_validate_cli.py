"""``dagkit validate``: paths, kinds, exit codes, formats, --output, colour; and files.py."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from dagkit.cli import main
from dagkit.validate.files import (
    FileResult,
    InputPathError,
    boundary_content_type,
    detect_kind,
    expand_paths,
    validate_paths,
)

DATA = Path(__file__).resolve().parent / "data"
VALID = DATA / "valid"
INVALID = DATA / "invalid"
QUICKSTART = VALID / "quickstart.request_data.json"
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, input: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["validate", *args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


# --- exit codes ------------------------------------------------------------------------------


def test_valid_directory_exits_0() -> None:
    code, out, _ = run(str(VALID))
    assert code == 0
    count = len([p for p in VALID.iterdir() if p.suffix in (".json", ".multipart", ".http")])
    assert out.strip().splitlines()[-1] == f"{count} files, 0 errors, 0 warnings"


def test_invalid_file_exits_1_with_location() -> None:
    path = INVALID / "DK202-wrong-type.json"
    code, out, _ = run(str(path))
    assert code == 1
    assert out.startswith(f"{path}:17:27: DK202 error:")
    assert "\n    at: /job_nodes/1/settings/max_characters\n" in out


def test_warnings_fail_only_with_strict() -> None:
    path = str(INVALID / "DK210-unknown-setting.json")
    assert run(path)[0] == 0
    code, out, _ = run(path, "--strict")
    assert code == 1 and "(--strict: warnings fail)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json"], "missing.json: no such file or directory"),
        (["nothing-*.json"], "nothing-*.json: no file matches this pattern"),
        ([str(QUICKSTART), "--format", "xml"], "'xml' is not one of"),
        ([str(QUICKSTART), "--kind", "yaml"], "'yaml' is not one of"),
        ([str(QUICKSTART), "--status", "99"], "99"),
        ([str(QUICKSTART), "--max-file-size", "ten"], "is not a size"),
        ([str(QUICKSTART), "--operation", "get_jobs"], "is not an operation of the jobs API"),
        ([], "Missing argument"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert message in err and "Traceback" not in err + out


def test_missing_file_among_good_ones_is_still_a_usage_error() -> None:
    code, _, err = run(str(QUICKSTART), "nope/also-missing.json")
    assert code == 2 and "also-missing.json" in err


def test_empty_directory_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("not dagkit's")
    code, _, err = run(str(tmp_path))
    assert code == 2 and "no *.json" in err


# --- kinds and options -----------------------------------------------------------------------


def test_stdin() -> None:
    code, out, _ = run("-", input=QUICKSTART.read_bytes())
    assert code == 0 and out.startswith("1 file, 0 errors")
    code, out, _ = run("-", input=b'{"job_nodes": []}')
    assert code == 1 and out.startswith("<stdin>:")


def test_max_file_size_applies_to_files_in_bodies() -> None:
    body = str(VALID / "create-job.multipart")
    assert run(body)[0] == 0
    code, out, _ = run(body, "--max-file-size", "20")
    assert code == 1 and "DK414" in out and 'input_files[0] "notes.txt"' in out
    assert run(str(VALID / "create-job.http"), "--max-file-size", "20")[0] == 1
    assert run(body, "--max-file-size", "50B")[0] == 1  # notes.txt has 79 bytes
    assert run(body, "--max-file-size", "1KiB")[0] == 0
    assert run(body, "--max-file-size", "0")[0] == 2


def test_content_type_option_overrides_the_inferred_boundary() -> None:
    body = str(VALID / "create-job.multipart")
    code, out, _ = run(body, "--content-type", "multipart/form-data; boundary=other")
    assert code == 1 and "DK40" in out


def test_kind_forces_the_kind() -> None:
    code, out, _ = run(str(QUICKSTART), "--kind", "response", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["files"][0]["kind"] == "response"


def test_operation_and_status_for_responses() -> None:
    path = str(VALID / "create-job-422.response.json")
    assert run(path)[0] == 0
    assert run(path, "--operation", "get_job", "--status", "422")[0] == 0
    code, out, _ = run(path, "--operation", "get_job", "--status", "200")
    assert code == 1 and "DK501" in out


def test_response_with_no_recognisable_shape_asks_for_the_operation(tmp_path: Path) -> None:
    path = tmp_path / "odd.response.json"
    path.write_text('{"hello": "world"}')
    code, out, _ = run(str(path))
    assert code == 1 and "DK503" in out and "--operation" in out
    assert run(str(path), "--operation", "cancel_job", "--status", "200")[0] == 0


# --- formats and --output --------------------------------------------------------------------


def test_json_format() -> None:
    code, out, err = run(
        str(INVALID / "DK302-duplicate-name.json"), str(QUICKSTART), "--format", "json", "--strict"
    )
    doc = json.loads(out)
    assert code == 1
    assert [f["valid"] for f in doc["files"]] == [False, True]
    assert doc["files"][0]["findings"][0]["node"] == {"index": 1, "name": "Partitioner"}
    assert doc["summary"]["warnings"] == 1
    assert err.strip() == "2 files, 0 errors, 1 warning; 1 file invalid (--strict: warnings fail)"


def test_github_sarif_junit_formats() -> None:
    path = str(INVALID / "DK203-bad-strategy.json")
    out = run(path, "--format", "github")[1]
    assert out.startswith(f"::error file={path},line=8,col=21,title=DK203::")
    sarif = json.loads(run(path, "--format", "sarif")[1])
    assert sarif["runs"][0]["results"][0]["ruleId"] == "DK203"
    junit = ET.fromstring(run(path, "--format", "junit")[1])
    assert junit.get("failures") == "1"


def test_output_is_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old report")
    code, out, err = run(str(QUICKSTART), "--format", "json", "--output", str(target))
    assert code == 0 and out == "" and "1 file, 0 errors" in err
    assert json.loads(target.read_text())["summary"]["files"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temp file left
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_output_into_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "no" / "report.txt"
    code, _, err = run(str(QUICKSTART), "--output", str(target))
    assert code == 2 and "cannot write the report" in err
    assert not target.exists()


def test_output_of_a_usage_error_leaves_the_old_report(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old report")
    assert run("missing.json", "--output", str(target))[0] == 2
    assert target.read_text() == "old report"


def test_lone_surrogates_in_findings_are_printed_as_escapes(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(
        '{"job_nodes": [{"name": "\\ud800", "type": "chunk", "subtype": "chunk_by_title"}]}'
    )
    for fmt in ("text", "json", "github", "sarif", "junit"):
        code, out, _ = run(str(path), "--format", fmt)
        assert code == 1 and out


# --- colour ----------------------------------------------------------------------------------


def _on_a_tty(*args: str, env: dict[str, str]) -> str:
    """Run the real command with its stdout on a pseudo-terminal; return what it printed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagkit", "validate", *args],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_only_on_a_tty_and_never_with_no_color() -> None:
    path = str(INVALID / "DK203-bad-strategy.json")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\033[31m" in _on_a_tty(path, env=env)
    assert "\033[" not in _on_a_tty(path, env={**env, "NO_COLOR": "1"})
    assert "\033[" not in run(path)[1]  # not a terminal


def test_real_process_exit_codes() -> None:
    def status(*args: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "dagkit", "validate", *args], capture_output=True, cwd=ROOT
        ).returncode

    assert status(str(QUICKSTART)) == 0
    assert status(str(INVALID / "DK303-chunk-first.json")) == 1
    assert status("no-such-file.json") == 2


# --- files.py --------------------------------------------------------------------------------


def test_expand_paths_walks_directories_and_globs(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("a.json", "b/c.multipart", "b/d.http", "b/e.bin", "b/f.txt", ".hidden/g.json"):
        (tmp_path / name).write_text("{}")
    base = str(tmp_path)
    assert expand_paths([base]) == [
        f"{base}/a.json",
        f"{base}/b/c.multipart",
        f"{base}/b/d.http",
        f"{base}/b/e.bin",
    ]
    assert expand_paths([f"{base}/**/*.http", f"{base}/a.json", f"{base}/./a.json"]) == [
        f"{base}/b/d.http",
        f"{base}/a.json",
    ]
    # A file named explicitly is taken whatever its name.
    assert expand_paths([f"{base}/b/f.txt", "-"]) == [f"{base}/b/f.txt", "-"]
    with pytest.raises(InputPathError, match="no such file"):
        expand_paths([f"{base}/zzz.json"])


@pytest.mark.parametrize(
    ("head", "name", "kind"),
    [
        (b'{"job_nodes": []}', "x.json", "request-data"),
        (b'\xef\xbb\xbf  {"template_id": "t"}', "x.json", "request-data"),
        (b'{"jobnodes": []}', "x.json", "request-data"),  # a typo still gets request_data's check
        (b'{"id": "1", "workflow_id": "2"}', "x.json", "response"),
        (b'{"detail": [{"loc": ["body", "request_data", "job_nodes", 0]}]}', "x.json", "response"),
        (b'{"hello": 1}', "x.response.json", "response"),
        (b"[]", "x.json", "response"),
        (b"HTTP/1.1 200 OK\r\n", "x", "response"),
        (b"POST /api/v1/jobs/ HTTP/1.1\r\n", "x", "http"),
        (b"--abc\r\n", "x", "body"),
        (b"request_data=%7B%7D", "x", "body"),  # url-encoded: the SDK's create-job without files
        (b"preamble\r\n--abc\r\n", "x.multipart", "body"),
        (b"garbage", "x.http", "http"),
        (b"garbage", "x.json", "request-data"),
        (b"", "x.json", "request-data"),
    ],
)
def test_detect_kind(head: bytes, name: str, kind: str) -> None:
    assert detect_kind(head, name) == kind


def test_a_urlencoded_body_is_validated_as_one(tmp_path: Path) -> None:
    path = tmp_path / "no-files.bin"
    path.write_bytes(b"request_data=%7B%22template_id%22%3A+%22hi_res_partition%22%7D")
    assert boundary_content_type(path.read_bytes()) == "application/x-www-form-urlencoded"
    code, out, _ = run("--strict", str(path))
    assert code == 0 and out.strip() == "1 file, 0 errors, 0 warnings"


def test_boundary_is_read_from_the_first_delimiter_line() -> None:
    assert boundary_content_type(b"--abc  \r\nrest") == 'multipart/form-data; boundary="abc"'
    assert boundary_content_type(b'preamble\n--x"y\\z\r\n') == (
        'multipart/form-data; boundary="x\\"y\\\\z"'
    )
    assert boundary_content_type(b"no delimiter") is None


def test_file_result_validity() -> None:
    from dagkit.findings import finding

    warning = finding("DK210", "w")
    error = finding("DK202", "e")
    assert FileResult("a", "request-data", []).valid(strict=True)
    assert FileResult("a", "request-data", [warning]).valid()
    assert not FileResult("a", "request-data", [warning]).valid(strict=True)
    assert not FileResult("a", "request-data", [error, warning]).valid()


def test_a_process_pool_gives_the_same_results_in_the_same_order(tmp_path: Path) -> None:
    for i, source in enumerate(sorted(INVALID.iterdir()) + sorted(VALID.iterdir())):
        shutil.copy(source, tmp_path / f"{i:03d}-{source.name}")
    serial = validate_paths([str(tmp_path)], jobs=1)
    pooled = validate_paths([str(tmp_path)], jobs=2)
    assert pooled == serial
    assert [r.path for r in serial] == sorted(r.path for r in serial)


@pytest.mark.parametrize("failing", ["open", "read"])
def test_unreadable_file_is_a_usage_error(tmp_path: Path, failing: str) -> None:
    # Files that fail for root too (CI runs as root, who reads any file whatever its mode): a
    # Unix socket exists but cannot be opened (ENXIO); Linux's /proc/self/mem opens, but
    # reading its first bytes fails (EIO: nothing is mapped at address 0).
    path = tmp_path / "input.json"
    with contextlib.ExitStack() as cleanup:
        if failing == "open":
            listener = cleanup.enter_context(socket.socket(socket.AF_UNIX))
            listener.bind(str(path))
        else:
            if not Path("/proc/self/mem").exists():
                pytest.skip("no /proc/self/mem: not Linux")
            path.symlink_to("/proc/self/mem")
        code, _, err = run(str(path))
    assert code == 2 and f"{path}: cannot be read" in err


def test_a_directory_given_to_validate_file_is_a_clear_error(tmp_path: Path) -> None:
    from dagkit.validate.files import validate_file

    with pytest.raises(InputPathError, match="is a directory"):
        validate_file(str(tmp_path))


def test_pool_only_for_many_files_and_idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagkit.validate import files

    assert files._workers(3, 2) == 2  # never more processes than files
    assert files._workers(None, 10) == 1
    monkeypatch.setattr(files.os, "sched_getaffinity", lambda _: {0, 1}, raising=False)
    monkeypatch.setattr(files.os, "getloadavg", lambda: (0.2, 0.1, 0.1))
    assert files._workers(None, files.POOL_THRESHOLD) == 2
    assert files._workers(None, files.POOL_THRESHOLD - 1) == 1
    monkeypatch.setattr(files.os, "getloadavg", lambda: (1.6, 1.5, 1.5))
    assert files._workers(None, 10 * files.POOL_THRESHOLD) == 1  # busy: serial
    monkeypatch.setattr(files.os, "sched_getaffinity", lambda _: set(range(16)), raising=False)
    assert files._workers(None, files.POOL_THRESHOLD) == 4


def test_valid_files_need_no_heavy_import() -> None:
    """jsonschema, networkx and the HTTP stack stay unloaded while every file is valid."""
    probe = (
        "import sys\n"
        "from dagkit.cli import main\n"
        "try:\n"
        "    main(['validate', sys.argv[1]])\n"
        "except SystemExit as exit:\n"
        "    print(exit.code, *sorted(sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(VALID)], capture_output=True, text=True, cwd=ROOT
    ).stderr.split()
    modules = set(out[1:]) if out else set()
    assert out and out[0] == "0" and "dagkit.validate.files" in modules
    heavy = {"jsonschema", "referencing", "networkx", "urllib.request", "http.client"}
    assert heavy.isdisjoint(modules)


def test_pre_commit_hook() -> None:
    import re

    yaml = pytest.importorskip("yaml")
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "dagkit-validate" and hook["entry"] == "dagkit validate"
    files = re.compile(hook["files"])
    for name in ("jobs/a.request_data.json", "b.request-data.json", "pipeline.dag.json"):
        assert files.search(name), name
    for name in ("package.json", "request_data.json.bak", "dag.json"):
        assert not files.search(name), name


def test_blank_lines_before_a_captured_response_count_in_line_numbers(tmp_path: Path) -> None:
    from dagkit.validate.files import validate_file

    body = (
        b'{"id": "not-a-uuid", "workflow_id": "x", "workflow_name": "w", '
        b'"status": "COMPLETED", "created_at": "2026-01-01T00:00:00Z"}'
    )
    capture = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + body
    plain, padded = tmp_path / "a.http", tmp_path / "b.http"
    plain.write_bytes(capture)
    padded.write_bytes(b"\n\n" + capture)
    lines = [
        [
            f.line
            for f in validate_file(
                str(p), kind="response", operation="get_job", status=200
            ).findings
        ]
        for p in (plain, padded)
    ]
    assert lines[0] and lines[1] == [n + 2 for n in lines[0]]


# --- --select and --ignore ---------------------------------------------------------------------

MIXED = INVALID / "DK304-DK305-chunk-after-embedder.json"  # DK304 error, DK305 warning


def codes_in(fmt: str, out: str) -> list[str]:
    """The finding codes a report in format ``fmt`` holds."""
    import re
    import xml.etree.ElementTree as ET

    if fmt == "json":
        return [f["code"] for file in json.loads(out)["files"] for f in file["findings"]]
    if fmt == "sarif":
        return [r["ruleId"] for r in json.loads(out)["runs"][0]["results"]]
    if fmt == "junit":
        texts = [
            e.text or "" for e in ET.fromstring(out).iter() if e.tag in ("failure", "system-out")
        ]
        return re.findall(r": (DK\d{3}) (?:error|warning):", "\n".join(texts))
    pattern = r"title=(DK\d{3})::" if fmt == "github" else r": (DK\d{3}) (?:error|warning):"
    return re.findall(pattern, out)


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit"])
@pytest.mark.parametrize(
    ("args", "codes", "exit_code"),
    [
        ([], ["DK304", "DK305"], 1),
        (["--ignore", "DK304"], ["DK305"], 0),
        (["--ignore", "DK304", "--strict"], ["DK305"], 1),
        (["--ignore", "DK304", "--ignore", "DK305", "--strict"], [], 0),
        (["--select", "DK305"], ["DK305"], 0),
        (["--select", "DK30"], ["DK304", "DK305"], 1),  # a prefix, as linters take it
        (["--select", "DK3", "--ignore", "node-order"], ["DK305"], 0),  # a name; ignore wins
        (["--select", "dk304"], ["DK304"], 1),
    ],
)
def test_select_and_ignore_in_every_format(
    fmt: str, args: list[str], codes: list[str], exit_code: int
) -> None:
    code, out, _ = run(str(MIXED), "--format", fmt, *args)
    assert code == exit_code
    assert sorted(codes_in(fmt, out)) == codes


def test_select_and_ignore_change_the_counts() -> None:
    code, out, _ = run(str(MIXED), "--ignore", "DK304")
    assert code == 0
    assert out.strip().splitlines()[-1] == "1 file, 0 errors, 1 warning"


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_a_pattern_that_names_no_code_is_a_usage_error(option: str) -> None:
    code, _, err = run(str(MIXED), option, "DK3055")
    assert code == 2 and '"DK3055" names no finding code' in err
