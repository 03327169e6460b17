"""``dagkit.batch`` against the embedded jobs API over real sockets: grouping, pacing, the running
limit, mirrored outputs, the report, faults, jobs in doubt, and resuming after a killed process."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dagkit.batch import (
    JOURNAL_NAME,
    REPORT_NAME,
    BatchReport,
    ConfigDriftError,
    JournalError,
    Progress,
    run,
)
from dagkit.batch.journal import Journal
from dagkit.client.jobs import JobInfo, JobsClient
from dagkit.errors import AmbiguousRequestError
from dagkit.http.transport import RetryPolicy
from dagkit.server import RunningServer, serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
KEY = "batch-secret-9QfX2"
HI_RES = json.dumps(
    {
        "job_nodes": [
            {
                "name": "Partitioner",
                "type": "partition",
                "subtype": "unstructured_api",
                "settings": {"strategy": "hi_res"},
            }
        ]
    }
)
FAST = HI_RES.replace("hi_res", "fast")
#: Supported types of the mixed set (the server partitions text-like ones, describes the rest).
MIXED = (".txt", ".md", ".html", ".csv", ".png", ".pdf", ".docx", ".jpg")
FAST_RETRY = RetryPolicy(max_attempts=3, total_budget=10.0, backoff_initial=0.01, backoff_max=0.05)


# ----------------------------------------------------------------------------- helpers


def source(tmp_path: Path, text: str = HI_RES, name: str = "dag.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def make_tree(root: Path, count: int, *, extras: bool = True) -> list[str]:
    """``count`` supported files of mixed types with unique names and contents in nested
    directories, plus (with ``extras``) files the platform cannot take. Their relative paths."""
    paths = []
    for i in range(count):
        ext = MIXED[i % len(MIXED)]
        rel = f"d{i % 3}/sub{i % 2}/file{i:03d}{ext}"
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f"Title {i}\n\nParagraph of file {rel}.\n".encode())
        paths.append(rel)
    if extras:
        (root / "d0" / "program.exe").write_bytes(b"MZ")
        (root / "d1" / "data.xyz").write_text("xyz")
        (root / "d2" / "empty.txt").write_bytes(b"")
    return paths


def client_for(server: RunningServer, retry: RetryPolicy = FAST_RETRY) -> JobsClient:
    return JobsClient(url=server.url, api_key=KEY, retry=retry)


def server_jobs(server: RunningServer) -> list[tuple[Any, list[bytes]]]:
    """Every job the server holds, with the contents of its input files."""
    out = []
    for job in server.store.list():
        contents = [server.store.input_path(job.id, f.file_id).read_bytes() for f in job.files]
        out.append((job, contents))
    return out


def jobs_per_file(server: RunningServer, *, completed_only: bool = False) -> Counter[bytes]:
    counts: Counter[bytes] = Counter()
    for job, contents in server_jobs(server):
        if not completed_only or job.status == "COMPLETED":
            counts.update(contents)
    return counts


def assert_outputs(out: Path, root: Path, rels: Sequence[str]) -> None:
    """Every file's output is at its mirrored path and is the output of that file."""
    for rel in rels:
        target = out / (rel + ".json")
        assert target.is_file(), rel
        elements = json.loads(target.read_text(encoding="utf-8"))
        assert isinstance(elements, list) and elements
        assert elements[0]["metadata"]["filename"] == Path(rel).name


def read_report(out: Path) -> dict[str, Any]:
    data = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "docs"
    return root, make_tree(root, 57)


# ----------------------------------------------------------------------------- the whole run


def test_57_files_make_6_paced_jobs_within_the_running_limit(
    tmp_path: Path, tree: tuple[Path, list[str]]
) -> None:
    root, rels = tree
    out = tmp_path / "out"
    seen: list[Progress] = []
    # Steps of 1.5 s keep each job unfinished for several launches, so the limit of 5 binds.
    with serve_in_thread(api_key=KEY, rate_limit=True, clock=1.5) as server:
        report = run(
            source(tmp_path),
            [root],
            out,
            client=client_for(server),
            poll_initial=0.3,
            poll_max=0.5,
            on_progress=seen.append,
        )
        jobs = sorted(server.store.list(), key=lambda j: j.created_at)
        creates = server.requests("create_job")

    assert report.counts == {"done": 57, "failed": 0, "skipped": 3, "in_job": 0, "pending": 0}
    assert report.ok and not report.interrupted
    assert len(jobs) == 6 and creates == 6  # no launch was refused by the server's rate limit
    assert sorted(len(j.files) for j in jobs) == [7, 10, 10, 10, 10, 10]
    gaps = [b.created_at - a.created_at for a, b in itertools.pairwise(jobs)]
    assert min(gaps) >= 0.9  # created_at is stamped once the body is in, a little after arrival
    # At no moment were more than 5 jobs unfinished on the server (so never more running).
    events = sorted([(j.created_at, 1) for j in jobs] + [(j.finished_at, -1) for j in jobs])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    assert peak <= 5
    assert max(p.jobs_running for p in seen) <= 5
    assert_outputs(out, root, rels)

    data = read_report(out)
    assert data["complete"] is True
    assert data["summary"]["done"] == 57 and data["summary"]["skipped"] == 3
    assert sorted(f["path"] for f in data["files"]) == sorted(
        [*rels, "d0/program.exe", "d1/data.xyz", "d2/empty.txt"]
    )
    skipped = {f["path"]: f["reason"] for f in data["files"] if f["state"] == "skipped"}
    assert ".exe" in skipped["d0/program.exe"] and "empty" in skipped["d2/empty.txt"]
    for f in data["files"]:
        if f["state"] == "done":
            assert Path(f["output"]) == out / (f["path"] + ".json")
            assert f["job_id"] in {j.id for j in jobs}
    assert sorted(j["id"] for j in data["jobs"]) == sorted(j.id for j in jobs)


def test_a_second_run_sends_nothing_and_a_new_file_goes_alone(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    rels = make_tree(root, 12, extras=False)
    out = tmp_path / "out"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        client = client_for(server)
        first = run(source(tmp_path), [root], out, client=client, min_interval=0, poll_initial=0.01)
        assert first.counts["done"] == 12 and server.requests("create_job") == 2
        again = run(source(tmp_path), [root], out, client=client, min_interval=0)
        assert again.ok and again.launched == 0 and server.requests("create_job") == 2
        (root / "late.md").write_text("# Late\n\nA file added after the batch.\n")
        third = run(source(tmp_path), [root], out, client=client, min_interval=0, poll_initial=0.01)
        assert third.launched == 1 and third.counts["done"] == 13
        assert max(jobs_per_file(server).values()) == 1
    assert_outputs(out, root, [*rels, "late.md"])


def test_inputs_mix_files_directories_and_globs_mirrored_from_their_roots(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "a" / "b").mkdir(parents=True)
    (docs / "a" / "b" / "deep.md").write_text("# Deep\n\ntext\n")
    (docs / "a" / "top.txt").write_text("top\n")
    (docs / ".git").mkdir()
    (docs / ".git" / "config.txt").write_text("hidden\n")
    single = tmp_path / "elsewhere" / "one.csv"
    single.parent.mkdir()
    single.write_text("a,b\n1,2\n")
    other = tmp_path / "other"
    (other / "x").mkdir(parents=True)
    (other / "x" / "g.html").write_text("<h1>G</h1><p>para</p>")
    out = tmp_path / "out"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        report = run(
            source(tmp_path),
            [docs, single, f"{other}/**/*.html", docs / "a" / "top.txt"],
            out,
            client=client_for(server),
            min_interval=0,
            poll_initial=0.01,
        )
    assert report.ok
    # the same file reached twice (directory and by name) is taken once
    assert sorted(f.path for f in report.files) == [
        "a/b/deep.md",
        "a/top.txt",
        "one.csv",
        "x/g.html",
    ]
    assert_outputs(out, docs, ["a/b/deep.md", "a/top.txt"])
    assert (out / "one.csv.json").is_file() and (out / "x" / "g.html.json").is_file()
    assert not (out / ".git").exists()


def test_a_dag_of_two_branches_runs_every_file_through_both(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    rels = make_tree(root, 4, extras=False)
    out = tmp_path / "out"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        report = run(
            ROOT / "examples" / "compare_chunkers.py",
            [root],
            out,
            client=client_for(server),
            min_interval=0,
            poll_initial=0.01,
        )
        assert server.requests("create_job") == 2
    assert report.ok and report.branches == 2 and report.counts["done"] == 8
    for branch in ("branch-1", "branch-2"):
        assert_outputs(out / branch, root, rels)


# ----------------------------------------------------------------------------- failures


def test_failed_files_carry_the_servers_reason_and_the_exit_is_not_ok(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    make_tree(root, 8, extras=False)  # file004.png and file007.jpg cannot go through "fast"
    out = tmp_path / "out"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        report = run(
            source(tmp_path, FAST),
            [root],
            out,
            client=client_for(server),
            min_interval=0,
            poll_initial=0.01,
        )
        reader = client_for(server)
        expected = {
            f.document: f.error for job in server.store.list() for f in reader.failed_files(job.id)
        }
    failed = {f.path.rsplit("/", 1)[-1]: f.reason for f in report.files if f.state == "failed"}
    assert set(failed) == {"file004.png", "file007.jpg"}
    assert failed == expected
    assert report.complete and not report.ok
    assert not (out / "d1" / "sub0" / "file004.png.json").exists()


def test_faults_429_503_dropped_connections_and_a_failed_job(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    rels = make_tree(root, 30, extras=False)
    out = tmp_path / "out"
    messages: list[str] = []

    def note(p: Progress) -> None:
        if p.message:
            messages.append(p.message)

    single = RetryPolicy(max_attempts=1)  # every fault reaches the batch itself
    with serve_in_thread(api_key=KEY, rate_limit=False, clock=0.05) as server:
        server.faults.inject("create_job", "429", 2, retry_after=1)
        server.faults.inject("create_job", "drop", 1)  # in doubt: the server made nothing
        server.faults.inject("create_job", "503", 1)  # 503 without Retry-After: in doubt too
        server.faults.inject("get_job", "503", 2)
        server.faults.inject("list_jobs", "drop", 1)
        server.faults.inject("download_job_output", "drop", 2)
        server.fail_next_jobs(1)
        report = run(
            source(tmp_path),
            [root],
            out,
            client=client_for(server, single),
            files_per_job=5,
            min_interval=0.05,
            max_running=2,
            poll_initial=0.05,
            poll_max=0.2,
            reconcile_grace=0.1,
            on_progress=note,
        )
        assert server.faults.pending() == 0
        by_file = jobs_per_file(server)
        failed_job = [j for j in server.store.list() if j.status == "FAILED"]

        assert len(failed_job) == 1
        assert report.counts["failed"] == len(failed_job[0].files)
        assert report.counts["done"] == 30 - len(failed_job[0].files)
        assert all("FAILED" in (f.reason or "") for f in report.files if f.state == "failed")
        assert max(by_file.values()) == 1  # no file went out twice, despite every fault
        assert any("429" in m for m in messages)
        assert any("may have created" in m for m in messages)

        retried = run(
            source(tmp_path),
            [root],
            out,
            client=client_for(server),
            retry_failed=True,
            min_interval=0.05,
            poll_initial=0.05,
            poll_max=0.2,
        )
        assert retried.ok and retried.launched == 1
        assert sorted(jobs_per_file(server, completed_only=True).values()) == [1] * 30
    assert_outputs(out, root, rels)


def test_a_lost_answer_to_a_created_job_is_found_not_sent_again(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    rels = make_tree(root, 9, extras=False)
    out = tmp_path / "out"

    class LosesFirstAnswer(JobsClient):
        lost = 0

        def create_job(self, *args: Any, **kwargs: Any) -> JobInfo:
            info = super().create_job(*args, **kwargs)
            if not self.lost:
                self.lost += 1
                raise AmbiguousRequestError("the connection dropped after the body was sent")
            return info

    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        client = LosesFirstAnswer(url=server.url, api_key=KEY)
        report = run(
            source(tmp_path),
            [root],
            out,
            client=client,
            files_per_job=3,
            min_interval=0,
            poll_initial=0.01,
            reconcile_grace=0,
        )
        assert server.requests("create_job") == 3
        assert max(jobs_per_file(server).values()) == 1
    assert report.ok
    assert [j.reconciled for j in report.jobs] == [True, False, False]
    assert_outputs(out, root, rels)


def test_a_job_taken_for_one_in_doubt_is_checked_against_its_outputs(tmp_path: Path) -> None:
    """Another client's job with as many files is the only candidate: its outputs name other
    files, so the batch lets it go and sends its own files."""
    root = tmp_path / "docs"
    rels = make_tree(root, 2, extras=False)
    strangers = [tmp_path / "s1.txt", tmp_path / "s2.txt"]
    for path in strangers:
        path.write_text(f"Stranger {path.name}\n")
    out = tmp_path / "out"

    class SendsSomeoneElses(JobsClient):
        tricked = False

        def create_job(self, job: Any = None, files: Sequence[Any] = (), **kw: Any) -> JobInfo:
            if not self.tricked:
                self.tricked = True
                super().create_job(job, strangers)
                raise AmbiguousRequestError("no answer")
            return super().create_job(job, files, **kw)

    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        client = SendsSomeoneElses(url=server.url, api_key=KEY)
        report = run(
            source(tmp_path),
            [root],
            out,
            client=client,
            min_interval=0,
            poll_initial=0.01,
            reconcile_grace=0,
        )
    assert report.ok
    void = [j for j in report.jobs if j.state == "void"]
    assert len(void) == 1 and void[0].reconciled and "not this batch's" in (void[0].reason or "")
    assert_outputs(out, root, rels)


def test_stop_leaves_a_journal_the_next_run_finishes(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    rels = make_tree(root, 20, extras=False)
    out = tmp_path / "out"
    stop = threading.Event()

    def stop_after_first_launch(p: Progress) -> None:
        if p.message and "launched" in p.message:
            stop.set()

    with serve_in_thread(api_key=KEY, rate_limit=False, clock=0.05) as server:
        client = client_for(server)
        first = run(
            source(tmp_path),
            [root],
            out,
            client=client,
            files_per_job=4,
            min_interval=0,
            on_progress=stop_after_first_launch,
            stop=stop,
        )
        assert first.interrupted and not first.complete and first.launched == 1
        assert first.counts["in_job"] == 4 and first.counts["pending"] == 16
        assert read_report(out)["interrupted"] is True
        second = run(
            source(tmp_path),
            [root],
            out,
            client=client,
            files_per_job=4,
            min_interval=0,
            poll_initial=0.05,
        )
        assert second.ok and second.launched == 4
        assert sorted(jobs_per_file(server).values()) == [1] * 20
    assert_outputs(out, root, rels)


def test_a_different_dag_in_the_same_out_dir_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    make_tree(root, 1, extras=False)
    out = tmp_path / "out"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        client = client_for(server)
        run(source(tmp_path), [root], out, client=client, min_interval=0, poll_initial=0.01)
        with pytest.raises(ConfigDriftError, match="another DAG"):
            run(source(tmp_path, FAST, "fast.json"), [root], out, client=client)
        assert server.requests("create_job") == 1


def test_one_journal_serves_one_batch_at_a_time(tmp_path: Path) -> None:
    first = Journal(tmp_path / JOURNAL_NAME)
    try:
        with pytest.raises(JournalError, match="another dagkit batch"):
            Journal(tmp_path / JOURNAL_NAME)
    finally:
        first.close()
    Journal(tmp_path / JOURNAL_NAME).close()  # free again once closed


# ----------------------------------------------------------------------------- killed, resumed

_KILL_ROUNDS = 12


@pytest.mark.slow
def test_sigkill_at_random_points_never_sends_a_file_twice(tmp_path: Path) -> None:
    """The batch runs in a subprocess killed with SIGKILL at random moments, then once to the
    end. Every create-job request is held 0.4 s by the server before it reads the body, so many
    kills land while a job is being sent: the server then creates a job whose answer nobody
    reads, and the next run must find it instead of sending its files again."""
    root = tmp_path / "docs"
    rels = make_tree(root, 48, extras=False)
    out = tmp_path / "out"
    dag = source(tmp_path)
    chance = random.Random(20261129)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock=0.05, data_dir=tmp_path / "server"
    ) as server:
        server.faults.inject("create_job", "stall", 10_000, stall=0.4)
        command = [
            sys.executable, "-m", "dagkit", "batch", str(dag), str(root), "--out", str(out),
            "--url", server.url, "--files-per-job", "3", "--min-interval", "0.05",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT), "UNSTRUCTURED_API_KEY": KEY}
        killed = 0
        for _ in range(_KILL_ROUNDS):
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(chance.uniform(0.4, 1.8))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.wait()
        final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert final.returncode == 0, final.stderr
        counts = jobs_per_file(server)
    assert killed >= 5  # the batch really was killed along the way, many times
    assert sorted(counts.values()) == [1] * 48  # every file in exactly one job on the server
    data = read_report(out)
    assert data["complete"] and data["summary"]["done"] == 48
    assert sorted(f["path"] for f in data["files"] if f["state"] == "done") == sorted(rels)
    assert_outputs(out, root, rels)


# ----------------------------------------------------------------------------- small pieces


def test_report_is_what_the_batch_report_says(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    make_tree(root, 3)
    out = tmp_path / "out"
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        report = run(
            source(tmp_path),
            [root],
            out,
            client=client_for(server),
            min_interval=0,
            poll_initial=0.01,
            report=tmp_path / "elsewhere" / "r.json",
        )
    assert isinstance(report, BatchReport)
    assert report.report_path == tmp_path / "elsewhere" / "r.json"
    written = json.loads(report.report_path.read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(report.to_dict()))
    assert not (out / REPORT_NAME).exists()


def test_a_file_the_server_refuses_is_skipped_and_the_rest_go_on(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    make_tree(root, 4, extras=False)
    big = root / "d0" / "big.txt"
    big.write_text("Big\n\n" + "word " * 100)  # within dagkit's limit, over this server's
    out = tmp_path / "out"
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", max_file_size=200
    ) as server:
        report = run(
            source(tmp_path),
            [root],
            out,
            client=client_for(server),
            min_interval=0,
            poll_initial=0.01,
        )
        assert server.requests("create_job") == 2  # refused with the big file, then without
    skipped = {f.path: f.reason for f in report.files if f.state == "skipped"}
    assert list(skipped) == ["d0/big.txt"] and "limit" in (skipped["d0/big.txt"] or "")
    assert report.counts["done"] == 4 and report.complete
