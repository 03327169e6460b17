"""The pieces of ``dagkit.batch`` on their own: grouping, input discovery and mirrored paths, the
journal's bookkeeping, the report's JSON, and reading the server's timestamps. Property tests
where a rule must hold for every input."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagkit.batch import (
    BatchInputError,
    BatchReport,
    FileResult,
    InputFile,
    JobResult,
    find_inputs,
    group_files,
    output_path,
    skip_reason,
)
from dagkit.batch.journal import FileRow, Journal
from dagkit.http.servertime import ServerClock, http_date
from dagkit.server.views import timestamp

NAMES = st.sampled_from(["a.txt", "b.md", "c.pdf", "d.csv", "e.html"])
SEGMENT = st.text(
    alphabet=st.characters(
        whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_ ", max_codepoint=0x2FF
    ),
    min_size=1,
    max_size=8,
).filter(lambda s: s.strip() == s and s not in (".", ".."))


def rows(draws: list[tuple[int, str, int]]) -> list[FileRow]:
    return [
        FileRow(i, plan, f"dir{i}/{name}", f"/src/{i}/{name}", size, "pending")
        for i, (plan, name, size) in enumerate(draws)
    ]


# ----------------------------------------------------------------------------- grouping


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), NAMES, st.integers(0, 1000)), max_size=60),
    st.integers(1, 10),
    st.integers(1, 3000),
)
def test_groups_respect_every_limit_and_keep_every_file_once(
    draws: list[tuple[int, str, int]], per_job: int, max_bytes: int
) -> None:
    files = rows(draws)
    groups = group_files(files, per_job, max_bytes)
    flat = [f for g in groups for f in g]
    assert sorted(f.id for f in flat) == [f.id for f in files]  # each file exactly once
    for group in groups:
        assert group and len(group) <= per_job
        assert len({f.plan for f in group}) == 1  # one branch's request_data per job
        assert len({f.name for f in group}) == len(group)  # names tell failed files apart
        assert len(group) == 1 or sum(f.size for f in group) <= max_bytes
        assert [f.id for f in group] == sorted(f.id for f in group)  # input order kept


def test_groups_fill_up_in_order() -> None:
    files = [FileRow(i, 0, f"f{i}.txt", f"/s/f{i}.txt", 10, "pending") for i in range(23)]
    assert [len(g) for g in group_files(files, 10, 10**9)] == [10, 10, 3]
    assert [len(g) for g in group_files(files, 10, 45)] == [4, 4, 4, 4, 4, 3]


# ----------------------------------------------------------------------------- inputs, paths


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sets(st.lists(SEGMENT, min_size=1, max_size=3).map(tuple), min_size=1, max_size=12))
def test_a_walk_finds_every_file_once_at_its_relative_path(
    tmp_path_factory: pytest.TempPathFactory, tree: set[tuple[str, ...]]
) -> None:
    root = tmp_path_factory.mktemp("tree")
    written: set[str] = set()
    for parts in tree:  # directories have no dot in their names, files end in .txt
        target = root.joinpath(*parts[:-1], parts[-1] + ".txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x")
        written.add(target.relative_to(root).as_posix())
    found = find_inputs([root])
    assert sorted(f.path for f in found) == sorted(written)
    assert len({f.path for f in found}) == len(found)
    for f in found:
        assert Path(f.source) == root / f.path and f.skip is None
    assert [f.path for f in found] == [f.path for f in find_inputs([root])]  # stable order


@given(
    st.lists(SEGMENT, min_size=1, max_size=4).map("/".join),
    st.integers(0, 3),
    st.integers(1, 4),
)
def test_an_output_path_stays_inside_the_out_dir(rel: str, plan: int, plans: int) -> None:
    out = Path("/out")
    target = output_path(out, min(plan, plans - 1), rel, plans)
    assert target.is_relative_to(out)
    assert target.name == rel.rsplit("/", 1)[-1] + ".json"
    if plans > 1:
        assert target.relative_to(out).parts[0] == f"branch-{min(plan, plans - 1) + 1}"


@given(st.sets(st.lists(SEGMENT, min_size=1, max_size=3).map("/".join), max_size=20))
def test_distinct_relative_paths_get_distinct_outputs(rels: set[str]) -> None:
    outputs = {output_path(Path("/out"), 0, rel, 1) for rel in rels}
    assert len(outputs) == len(rels)


def test_a_file_given_by_name_mirrors_to_its_base_name(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "one.md").write_text("# one")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / "one.md").write_text("# another one")
    [found] = find_inputs([tmp_path / "x" / "one.md"])
    assert found.path == "one.md"
    # two of them would share one output: refused up front, both named
    with pytest.raises(BatchInputError, match=r"x/one\.md and .*y/one\.md both mirror"):
        find_inputs([tmp_path / "x" / "one.md", tmp_path / "y" / "one.md"])


def test_globs_take_their_fixed_part_as_root(tmp_path: Path) -> None:
    (tmp_path / "docs" / "a").mkdir(parents=True)
    (tmp_path / "docs" / "a" / "k.md").write_text("# k")
    (tmp_path / "docs" / "top.md").write_text("# t")
    found = find_inputs([f"{tmp_path}/docs/**/*.md"])
    assert sorted(f.path for f in found) == ["a/k.md", "top.md"]
    with pytest.raises(BatchInputError, match="matches no file"):
        find_inputs([f"{tmp_path}/docs/*.pdf"])
    with pytest.raises(BatchInputError, match="no such file"):
        find_inputs([tmp_path / "nothing"])


def test_the_out_dir_is_never_walked(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# a")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.md.json").write_text("[]")
    (tmp_path / "out" / "b.md").write_text("# b")
    assert [f.path for f in find_inputs([tmp_path], exclude=tmp_path / "out")] == ["a.md"]


@pytest.mark.parametrize(
    ("name", "size", "expected"),
    [
        ("report.pdf", 10, None),
        ("notes.TXT", 10, None),
        ("program.exe", 10, "does not process .exe"),
        ("README", 10, "(no extension)"),
        ("big.pdf", 10_000_001, "limit is 10,000,000"),
        ("empty.txt", 0, "empty"),
        ("bad\x07name.txt", 3, "control character"),
    ],
)
def test_skip_reasons(name: str, size: int, expected: str | None) -> None:
    reason = skip_reason(name, size)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason


# ----------------------------------------------------------------------------- the journal


def inputs(count: int) -> list[InputFile]:
    return [InputFile(f"/src/f{i}.txt", f"f{i}.txt", 10 + i) for i in range(count)]


def test_a_job_is_recorded_before_it_is_sent_and_settles_its_files(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        journal.sync_inputs(1, inputs(5), retry_failed=False)
        pending = journal.pending()
        assert [f.path for f in pending] == [f"f{i}.txt" for i in range(5)]
        seq = journal.begin_job(0, [f.id for f in pending[:3]])
        assert [j.state for j in journal.jobs()] == ["sending"]
        assert [f.path for f in journal.files_of(seq)] == ["f0.txt", "f1.txt", "f2.txt"]
        assert journal.counts() == {"in_job": 3, "pending": 2}
        journal.job_created(seq, "job-1", "SCHEDULED", ended=False)
        journal.job_status(seq, "COMPLETED", ended=True)
        ids = [f.id for f in pending[:3]]
        journal.finish_job(seq, [(ids[0], "/out/f0.txt.json")], [(ids[1], "bad"), (ids[2], "bad")])
        assert journal.counts() == {"done": 1, "failed": 2, "pending": 2}
        assert journal.known_job_ids() == {"job-1"}
        # a later run: failed files come back only with retry_failed
        journal.sync_inputs(1, inputs(5), retry_failed=False)
        assert journal.counts()["failed"] == 2
        journal.sync_inputs(1, inputs(5), retry_failed=True)
        assert journal.counts() == {"done": 1, "pending": 4}
    finally:
        journal.close()


def test_a_void_job_gives_its_files_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    try:
        journal.sync_inputs(2, inputs(2), retry_failed=False)
        assert len(journal.pending()) == 4  # every file once per planned branch
        seq = journal.begin_job(0, [f.id for f in journal.pending() if f.plan == 0])
        journal.void_job(seq, "never created")
        assert journal.counts() == {"pending": 4}
        assert journal.jobs()[0].state == "void" and journal.jobs()[0].reason == "never created"
    finally:
        journal.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=12), st.integers(0, 12))
def test_inputs_are_synced_idempotently(flags: list[bool], dropped: int) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        journal = Journal(Path(directory) / "j.sqlite3")
        try:
            files = [
                InputFile(f"/s/{i}.txt", f"{i}.txt", 5, None if ok else "no")
                for i, ok in enumerate(flags)
            ]
            journal.sync_inputs(1, files, retry_failed=False)
            first = journal.files()
            journal.sync_inputs(1, files, retry_failed=False)
            assert journal.files() == first
            assert journal.counts().get("skipped", 0) == flags.count(False)
            # files no run has sent and this run no longer names are dropped
            journal.sync_inputs(1, files[dropped:], retry_failed=False)
            assert [f.path for f in journal.files()] == [f.path for f in files[dropped:]]
        finally:
            journal.close()


def test_a_journal_that_is_not_one_is_refused(tmp_path: Path) -> None:
    from dagkit.batch import JournalError

    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(JournalError, match="not a usable batch journal"):
        Journal(path)


#: The journal as the first dagkit batch wrote it (format 1, recorded only in ``meta``).
_JOURNAL_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    id INTEGER PRIMARY KEY, plan INTEGER NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL,
    size INTEGER NOT NULL, ord INTEGER, state TEXT NOT NULL, reason TEXT, output TEXT,
    job INTEGER, UNIQUE (plan, path)
);
CREATE INDEX files_state ON files (state, ord);
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY, plan INTEGER NOT NULL, state TEXT NOT NULL, job_id TEXT UNIQUE,
    status TEXT, sent_at REAL NOT NULL, reconciled INTEGER NOT NULL DEFAULT 0, reason TEXT
);
CREATE INDEX jobs_state ON jobs (state);
CREATE TABLE job_files (
    job INTEGER NOT NULL, pos INTEGER NOT NULL, file INTEGER NOT NULL, PRIMARY KEY (job, pos)
);
INSERT INTO meta VALUES ('schema', '1'), ('request_data_sha256', 'abc');
INSERT INTO files VALUES (1, 0, 'a.txt', '/docs/a.txt', 5, 0, 'in_job', NULL, NULL, 1);
INSERT INTO jobs VALUES (1, 0, 'sending', NULL, NULL, 1700000000.0, 0, NULL);
INSERT INTO job_files VALUES (1, 0, 1);
"""


def test_a_journal_from_an_older_dagkit_is_upgraded_and_a_newer_one_refused(
    tmp_path: Path,
) -> None:
    import sqlite3

    from dagkit.batch import JournalError
    from dagkit.batch.journal import SCHEMA_VERSION

    path = tmp_path / "j.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(_JOURNAL_V1)
    db.close()
    journal = Journal(path)
    try:
        (row,) = journal.jobs()
        assert (row.state, row.sent_at, row.server_after) == ("sending", 1700000000.0, None)
        assert [f.path for f in journal.files_of(1)] == ["a.txt"]
        assert journal.read_meta("request_data_sha256") == "abc"
        seq = journal.begin_job(0, [], sent_at=1.0, server_after=2.5)
        assert journal.jobs()[-1].server_after == 2.5 and seq == 2
    finally:
        journal.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "2"
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(JournalError, match=r"written by a newer dagkit .*upgrade dagkit"):
        Journal(path)
    Journal(path.with_name("fresh.sqlite3")).close()  # a new one is made at the latest format


# ----------------------------------------------------------------------------- report, time

FILE_RESULTS = st.builds(
    FileResult,
    source=st.text(max_size=20),
    path=st.text(min_size=1, max_size=20),
    state=st.sampled_from(["done", "failed", "skipped", "in_job", "pending"]),
    reason=st.none() | st.text(max_size=40),
    output=st.none() | st.text(max_size=30),
    job_id=st.none() | st.uuids().map(str),
    branch=st.integers(1, 3),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(FILE_RESULTS, max_size=15))
def test_the_written_report_reads_back_as_its_dict(files: list[FileResult]) -> None:
    import tempfile

    report = BatchReport(
        out_dir=Path("out"),
        files=files,
        jobs=[JobResult("j", "done", "COMPLETED", [f.path for f in files])],
    )
    with tempfile.TemporaryDirectory() as directory:
        path = report.write(Path(directory) / "r.json")
        assert json.loads(path.read_text(encoding="utf-8")) == report.to_dict()
        assert os.listdir(directory) == ["r.json"]  # no temporary file left behind
    counts = report.counts
    assert sum(counts.values()) == len(files)
    assert report.complete == (counts["in_job"] == counts["pending"] == 0)
    assert report.ok == (report.complete and counts["failed"] == 0)


@given(st.floats(min_value=0, max_value=4_000_000_000, allow_nan=False))
def test_server_timestamps_read_back_to_the_millisecond(seconds: float) -> None:
    parsed = ServerClock().created(timestamp(seconds))
    assert parsed is not None and abs(parsed - seconds) < 0.001 + 1e-6


def test_a_timestamp_without_offset_is_utc_whatever_the_local_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the platform's get-job sends created_at without an offset; it is UTC, not local time
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        naive = ServerClock().created("2025-10-07T20:17:04.419033")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert naive == ServerClock().created("2025-10-07T20:17:04.419033Z")


def test_unreadable_timestamps_are_none_and_naive_ones_utc() -> None:
    clock = ServerClock()
    assert clock.created(None) is None and clock.created("yesterday") is None
    utc = clock.created("2026-01-02T03:04:05Z")
    assert utc == clock.created("2026-01-02T03:04:05+00:00")
    assert utc == clock.created("2026-01-02T03:04:05")  # as the platform writes it


def test_the_server_clock_is_fed_only_by_answers_and_never_goes_back() -> None:
    ticks = [1000.0]  # this machine's monotonic clock
    clock = ServerClock(lambda: ticks[0])
    assert clock.now() is None
    date = http_date("Tue, 01 Dec 2026 16:04:34 GMT")
    assert date is not None
    clock.observe_date("Tue, 01 Dec 2026 16:04:34 GMT")
    ticks[0] += 5.5
    assert clock.now() == date + 5.5  # the server's time plus what elapsed here since
    clock.observe(date + 1)  # an older answer (it took long to arrive) does not move it back
    assert clock.now() == date + 5.5
    clock.observe_date("not a date")
    clock.observe(date + 9)
    assert clock.now() == date + 9


@pytest.mark.parametrize("hours", [-5, 0, 1, 5.5])
def test_the_zone_of_naive_created_at_is_learned_from_a_new_job(hours: float) -> None:
    from datetime import UTC, datetime, timedelta

    clock = ServerClock(lambda: 0.0)
    clock.observe_date("Tue, 01 Dec 2026 16:04:34 GMT")
    local = datetime(2026, 12, 1, 16, 4, 33, 500000, tzinfo=UTC) + timedelta(hours=hours)
    written = local.replace(tzinfo=None).isoformat()  # a job created half a second earlier
    clock.learn_zone(written)
    assert clock.naive_offset == -hours * 3600
    assert clock.created(written) == http_date("Tue, 01 Dec 2026 16:04:33 GMT") + 0.5  # type: ignore[operator]


def test_a_pattern_reaching_outside_its_root_keeps_outputs_inside_out(tmp_path: Path) -> None:
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f.txt").write_text("hello")
    pattern = str(tmp_path / "d" / "*" / ".." / ".." / "x" / "*.txt")
    (found,) = find_inputs([pattern])
    assert found.path == "f.txt"


def test_an_out_dir_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    source = tmp_path / "a.txt"
    source.write_text("hello")
    from dagkit.batch import run
    from dagkit.client.jobs import JobsClient
    from dagkit.wire.serialize import TemplateJob

    client = JobsClient(url="http://127.0.0.1:9", api_key="never-sent")  # fails before any request
    with pytest.raises(BatchInputError, match="cannot create the out dir"):
        run(TemplateJob("hi_res_partition"), [str(source)], blocker / "out", client=client)


def test_the_report_gets_ordinary_file_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = BatchReport(tmp_path, files=[], jobs=[]).write(tmp_path / "report.json")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
    assert json.loads(path.read_text())["files"] == []
