"""The batch journal on its own, on real sqlite files: its format and upgrades, the lock, what
each step writes (and only that), the flush to disk before a request leaves, and a failed step
leaving nothing half-written."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagkit.batch.inputs import InputFile
from dagkit.batch.journal import SCHEMA_VERSION, FileRow, JobRow, Journal, JournalError


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    opened = Journal(tmp_path / "j.sqlite3")
    try:
        yield opened
    finally:
        opened.close()


def inputs(*names: str, skip: str | None = None, size: int = 10) -> list[InputFile]:
    return [InputFile(f"/src/{n}", n, size, skip) for n in names]


def raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    """What a plain sqlite connection reads in the journal's file."""
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


# ----------------------------------------------------------------------------- the file


def test_a_new_journal_is_at_the_latest_format_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "j.sqlite3"  # its directory is made
    Journal(path).close()
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert raw(path, "PRAGMA journal_mode") == [("wal",)]
    assert raw(path, "SELECT key, value FROM meta") == [("schema", str(SCHEMA_VERSION))]
    columns = [row[1] for row in raw(path, "PRAGMA table_info(jobs)")]
    assert "server_after" in columns
    indexes = {row[0] for row in raw(path, "SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"files_state", "jobs_state"} <= indexes
    # opening it again changes nothing
    journal = Journal(path)
    journal.close()
    assert raw(path, "SELECT key, value FROM meta") == [("schema", str(SCHEMA_VERSION))]


def test_a_journal_without_its_format_recorded_is_taken_for_the_first(tmp_path: Path) -> None:
    """The first format wrote ``meta`` and may not have recorded itself there at all."""
    path = tmp_path / "j.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE files (id INTEGER PRIMARY KEY, plan INTEGER NOT NULL, path TEXT NOT NULL,"
        " source TEXT NOT NULL, size INTEGER NOT NULL, ord INTEGER, state TEXT NOT NULL,"
        " reason TEXT, output TEXT, job INTEGER, UNIQUE (plan, path));"
        "CREATE TABLE jobs (seq INTEGER PRIMARY KEY, plan INTEGER NOT NULL, state TEXT NOT NULL,"
        " job_id TEXT UNIQUE, status TEXT, sent_at REAL NOT NULL,"
        " reconciled INTEGER NOT NULL DEFAULT 0, reason TEXT);"
        "CREATE TABLE job_files (job INTEGER NOT NULL, pos INTEGER NOT NULL,"
        " file INTEGER NOT NULL, PRIMARY KEY (job, pos));"
        "INSERT INTO jobs VALUES (1, 0, 'running', 'job-a', 'SCHEDULED', 5.0, 1, NULL);"
    )
    db.close()
    journal = Journal(path)
    try:
        assert journal.jobs() == [JobRow(1, 0, "running", "job-a", "SCHEDULED", 5.0, True, None)]
        assert journal.read_meta("schema") == str(SCHEMA_VERSION)
    finally:
        journal.close()
    assert raw(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_a_journal_of_an_unknown_recorded_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema', '7');"
    )
    db.close()
    with pytest.raises(JournalError) as caught:
        Journal(path)
    assert str(caught.value) == (
        f"{path} is in journal format 7, which this dagkit does not know; use a new out dir"
    )
    path.unlink()  # the refusal let go of the lock: the out dir can be used again at once
    Journal(path).close()


def test_a_newer_journal_is_refused_with_both_formats_named(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    Journal(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JournalError) as caught:
        Journal(path)
    assert str(caught.value) == (
        f"{path} was written by a newer dagkit (journal format {SCHEMA_VERSION + 1}; this one "
        f"reads up to {SCHEMA_VERSION}): upgrade dagkit to resume this batch, or use a new out dir"
    )
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.close()
    Journal(path).close()  # the refusal let go of the lock


def test_a_file_that_is_not_a_journal_is_refused_and_lets_go_of_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(JournalError, match=r"^.*j\.sqlite3: not a usable batch journal: "):
        Journal(path)
    path.unlink()
    Journal(path).close()


def test_one_journal_is_held_by_one_batch_until_it_closes(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    first = Journal(path)
    try:
        with pytest.raises(JournalError) as caught:
            Journal(path)
        message = str(caught.value)
        assert message.startswith(f"another dagkit batch is using {tmp_path} (process ")
        assert f"holding {tmp_path / 'j.sqlite3.lock'})" in message
        assert (tmp_path / "j.sqlite3.lock").is_file()
    finally:
        first.close()
    Journal(path).close()


def test_a_lock_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "j.sqlite3.lock").mkdir()
    with pytest.raises(JournalError) as caught:
        Journal(tmp_path / "j.sqlite3")
    assert str(caught.value) == (
        f"{tmp_path / 'j.sqlite3.lock'}: cannot open the lock file: Is a directory"
    )


def test_a_job_record_is_flushed_to_disk_before_it_returns(journal: Journal) -> None:
    """``synchronous=FULL`` for the transaction that records a job about to be sent, and only
    for it (every other change is an ordinary WAL commit)."""
    journal.sync_inputs(1, inputs("a.txt"), retry_failed=False)
    statements: list[str] = []
    journal._db.set_trace_callback(statements.append)

    def modes() -> list[str]:
        return [s for s in statements if s.startswith(("pragma", "begin", "commit", "insert"))]

    seq = journal.begin_job(0, [f.id for f in journal.pending()], sent_at=1.0)
    assert modes() == [
        "pragma synchronous=full",
        "begin immediate",
        "insert into jobs (plan, state, sent_at, server_after) values (0, 'sending', 1.0, NULL)",
        f"insert into job_files (job, pos, file) values ({seq}, 0, 1)",
        "commit",
        "pragma synchronous=normal",
    ]
    statements.clear()
    journal.job_note(seq, "why")
    assert [s for s in statements if s.startswith("pragma")] == []
    journal._db.set_trace_callback(None)
    assert journal._db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL


def test_a_failed_step_writes_nothing_and_the_journal_goes_on(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("a.txt", "b.txt"), retry_failed=False)
    a, b = journal.pending()
    first = journal.begin_job(0, [a.id])
    second = journal.begin_job(0, [b.id])
    journal.job_created(first, "job-1", "SCHEDULED", ended=False)
    with pytest.raises(sqlite3.IntegrityError):  # one server job cannot be two of the journal's
        journal.job_created(second, "job-1", "SCHEDULED", ended=False)
    assert [(j.seq, j.state, j.job_id) for j in journal.jobs()] == [
        (first, "running", "job-1"),
        (second, "sending", None),
    ]
    journal.job_created(second, "job-2", "SCHEDULED", ended=True)  # a new transaction opens
    assert journal.known_job_ids() == {"job-1", "job-2"}


def test_a_failed_durable_step_also_restores_the_ordinary_commit_mode(journal: Journal) -> None:
    with pytest.raises(sqlite3.IntegrityError), journal._tx(durable=True) as db:
        db.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')")
        db.execute("INSERT INTO meta (key, value) VALUES ('k', 'w')")
    assert journal.read_meta("k") is None
    assert journal._db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert not journal._db.in_transaction


# ----------------------------------------------------------------------------- settings, files


def test_settings_are_kept_and_replaced(journal: Journal) -> None:
    assert journal.read_meta("dag") is None
    journal.write_meta("dag", "one")
    journal.write_meta("dag", "two")
    assert journal.read_meta("dag") == "two"


def test_inputs_become_files_once_per_planned_job(journal: Journal) -> None:
    journal.sync_inputs(
        2, [*inputs("d/a.txt", "b.txt"), *inputs("c.exe", skip="bad type")], retry_failed=False
    )
    assert journal.files() == [
        FileRow(1, 0, "d/a.txt", "/src/d/a.txt", 10, "pending"),
        FileRow(2, 1, "d/a.txt", "/src/d/a.txt", 10, "pending"),
        FileRow(3, 0, "b.txt", "/src/b.txt", 10, "pending"),
        FileRow(4, 1, "b.txt", "/src/b.txt", 10, "pending"),
        FileRow(5, 0, "c.exe", "/src/c.exe", 10, "skipped", "bad type"),
        FileRow(6, 1, "c.exe", "/src/c.exe", 10, "skipped", "bad type"),
    ]
    assert [f.id for f in journal.pending()] == [1, 2, 3, 4]
    assert journal.counts() == {"pending": 4, "skipped": 2}
    assert journal.files()[0].name == "a.txt"


def test_a_later_run_takes_new_verdicts_only_for_files_not_yet_sent(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("p", "s", "j", "d", "f"), retry_failed=False)
    p, s, j, d, f = journal.pending()
    journal.skip([s.id], "too big")
    seq = journal.begin_job(0, [j.id, d.id, f.id])
    journal.finish_job(seq, [(d.id, "/out/d.json")], [(f.id, "broken")])
    # the next run sees every file again, changed on disk, and this time the other way round
    later = [
        InputFile("/new/p", "p", 20, "now skipped"),
        InputFile("/new/s", "s", 20),
        InputFile("/new/j", "j", 20, "now skipped"),
        InputFile("/new/d", "d", 20, "now skipped"),
        InputFile("/new/f", "f", 20, "now skipped"),
    ]
    journal.sync_inputs(1, later, retry_failed=False)
    assert journal.files() == [
        FileRow(p.id, 0, "p", "/new/p", 20, "skipped", "now skipped"),
        FileRow(s.id, 0, "s", "/new/s", 20, "pending"),
        FileRow(j.id, 0, "j", "/src/j", 10, "in_job", None, None, seq),
        FileRow(d.id, 0, "d", "/src/d", 10, "done", None, "/out/d.json", seq),
        FileRow(f.id, 0, "f", "/new/f", 20, "failed", "broken", None, seq),
    ]


def test_failed_files_go_again_only_when_asked_and_only_if_still_named(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("a", "b", "c"), retry_failed=False)
    a, b, c = journal.pending()
    seq = journal.begin_job(0, [a.id, b.id, c.id])
    journal.finish_job(seq, [(c.id, "/out/c.json")], [(a.id, "x"), (b.id, "y")])
    journal.sync_inputs(1, inputs("a", "c"), retry_failed=True)  # b is no longer named
    assert journal.files() == [
        FileRow(a.id, 0, "a", "/src/a", 10, "pending"),
        FileRow(c.id, 0, "c", "/src/c", 10, "done", None, "/out/c.json", seq),
        FileRow(b.id, 0, "b", "/src/b", 10, "failed", "y", None, seq),  # kept, last
    ]
    assert [f.id for f in journal.pending()] == [a.id]


def test_files_no_run_sent_and_no_longer_named_are_dropped(journal: Journal) -> None:
    journal.sync_inputs(1, [*inputs("a", "b"), *inputs("c", skip="no")], retry_failed=False)
    a, b = journal.pending()
    journal.begin_job(0, [b.id])
    journal.sync_inputs(1, inputs("z"), retry_failed=False)
    assert [(f.path, f.state) for f in journal.files()] == [("z", "pending"), ("b", "in_job")]
    assert a.id not in {f.id for f in journal.files()}


def test_pending_files_come_in_input_order_then_planned_job_order(journal: Journal) -> None:
    journal.sync_inputs(2, inputs("b", "a"), retry_failed=False)
    journal.sync_inputs(2, inputs("a", "b"), retry_failed=False)
    assert [(f.path, f.plan) for f in journal.pending()] == [
        ("a", 0),
        ("a", 1),
        ("b", 0),
        ("b", 1),
    ]
    assert [(f.path, f.plan) for f in journal.files()] == [
        ("a", 0),
        ("a", 1),
        ("b", 0),
        ("b", 1),
    ]


def test_skipping_takes_a_file_out_of_its_job(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("a", "b"), retry_failed=False)
    a, b = journal.pending()
    journal.begin_job(0, [a.id, b.id])
    journal.skip([a.id, b.id], "unreadable")
    assert [(f.state, f.reason, f.job) for f in journal.files()] == [
        ("skipped", "unreadable", None),
        ("skipped", "unreadable", None),
    ]


# ----------------------------------------------------------------------------- jobs


def test_a_job_about_to_be_sent_holds_its_files_in_upload_order(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("a", "b", "c"), retry_failed=False)
    a, b, c = journal.pending()
    journal.begin_job(0, [a.id], sent_at=1.0)
    before = time.time()
    seq = journal.begin_job(0, [c.id, a.id], server_after=1234.5)
    after = time.time()
    assert seq == 2
    (row,) = journal.jobs("sending")[1:]
    assert (row.seq, row.plan, row.state, row.job_id, row.status) == (2, 0, "sending", None, None)
    assert (row.reconciled, row.reason, row.server_after) == (False, None, 1234.5)
    assert before <= row.sent_at <= after  # this machine's time when none is given
    assert journal.jobs()[0].sent_at == 1.0 and journal.jobs()[0].server_after is None
    assert [f.id for f in journal.files_of(seq)] == [c.id, a.id]
    assert journal.files_of(seq)[0] == FileRow(c.id, 0, "c", "/src/c", 10, "in_job", job=seq)
    assert journal.pending() == [FileRow(b.id, 0, "b", "/src/b", 10, "pending")]
    assert journal.counts() == {"in_job": 2, "pending": 1}


def test_a_created_job_clears_its_note_and_says_how_it_was_found(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("a", "b"), retry_failed=False)
    a, b = journal.pending()
    one = journal.begin_job(0, [a.id], sent_at=1.0)
    two = journal.begin_job(0, [b.id], sent_at=2.0)
    journal.job_note(one, "creation in doubt: timed out")
    journal.job_note(two, "creation in doubt: reset")
    assert [j.reason for j in journal.jobs()] == [
        "creation in doubt: timed out",
        "creation in doubt: reset",
    ]
    journal.job_created(one, "job-1", "SCHEDULED", ended=False, reconciled=True)
    journal.job_created(two, "job-2", "COMPLETED", ended=True)
    assert journal.jobs() == [
        JobRow(one, 0, "running", "job-1", "SCHEDULED", 1.0, True, None),
        JobRow(two, 0, "ended", "job-2", "COMPLETED", 2.0, False, None),
    ]
    journal.job_status(one, "IN_PROGRESS", ended=False)
    assert (journal.jobs()[0].state, journal.jobs()[0].status) == ("running", "IN_PROGRESS")
    journal.job_status(one, "FAILED", ended=True)
    assert (journal.jobs()[0].state, journal.jobs()[0].status) == ("ended", "FAILED")
    assert journal.jobs()[1].status == "COMPLETED"  # the other job is untouched
    assert [j.seq for j in journal.jobs("ended")] == [one, two]
    assert journal.jobs("running", "sending") == []


def test_a_void_job_gives_back_only_its_unsettled_files(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("a", "b", "c"), retry_failed=False)
    a, b, c = journal.pending()
    seq = journal.begin_job(0, [a.id, b.id])
    other = journal.begin_job(0, [c.id])
    journal.finish_job(seq, [(a.id, "/out/a.json")], [])
    journal.void_job(seq, "not this batch's")
    assert journal.files() == [
        FileRow(a.id, 0, "a", "/src/a", 10, "done", None, "/out/a.json", seq),
        FileRow(b.id, 0, "b", "/src/b", 10, "pending"),
        FileRow(c.id, 0, "c", "/src/c", 10, "in_job", None, None, other),
    ]
    assert [(j.state, j.reason) for j in journal.jobs()] == [
        ("void", "not this batch's"),
        ("sending", None),
    ]
    assert journal.jobs("void")[0].seq == seq


def test_a_finished_job_settles_each_file(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("a", "b", "c"), retry_failed=False)
    a, b, c = journal.pending()
    seq = journal.begin_job(0, [a.id, b.id])
    other = journal.begin_job(0, [c.id])
    journal.finish_job(seq, [(a.id, "/out/a.json")], [(b.id, "the job ended FAILED")])
    assert journal.files_of(seq) == [
        FileRow(a.id, 0, "a", "/src/a", 10, "done", None, "/out/a.json", seq),
        FileRow(b.id, 0, "b", "/src/b", 10, "failed", "the job ended FAILED", None, seq),
    ]
    assert [j.state for j in journal.jobs()] == ["done", "sending"]
    assert journal.files_of(other)[0].state == "in_job"
    assert journal.counts() == {"done": 1, "failed": 1, "in_job": 1}


def test_known_job_ids_are_every_id_ever_taken(journal: Journal) -> None:
    journal.sync_inputs(1, inputs("a", "b", "c"), retry_failed=False)
    a, b, c = journal.pending()
    one = journal.begin_job(0, [a.id])
    two = journal.begin_job(0, [b.id])
    journal.begin_job(0, [c.id])
    journal.job_created(one, "job-1", "SCHEDULED", ended=False)
    journal.job_created(two, "job-2", "SCHEDULED", ended=False)
    journal.void_job(two, "not ours")
    assert journal.known_job_ids() == {"job-1", "job-2"}
