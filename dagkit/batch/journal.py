"""The batch journal: what has been sent, what the server made of it, what is on disk.

One sqlite3 database (WAL) per out dir. A job is recorded in state ``sending``, with its files,
*before* its request leaves, and that record is flushed to disk (``synchronous=FULL`` for that
transaction); every later change is an ordinary WAL commit, safe against a killed process. So
after any interruption the journal tells, for every file, one of:

- ``pending``: not in any job yet (or back from a job that was never created);
- ``in_job``: in the job ``files.job``, whose state says how far it got;
- ``done`` (its output is at ``output``), ``failed`` (``reason`` from the server),
  ``skipped`` (``reason``: why it was not sent).

Job states: ``sending`` (the request may or may not have created a job: reconcile before
anything else), ``running`` (created, not finished), ``ended`` (finished; outputs still to
fetch), ``done`` (outputs fetched, files settled), ``void`` (it was never created, or what was
taken for it was not it; its files went back to ``pending``).

A lock file next to the database keeps two batches from using one journal at the same time.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dagkit.batch.inputs import InputFile
from dagkit.core import filelock
from dagkit.errors import Advice, AdviceKind
from dagkit.errors import JournalError as JournalError  # re-exported: its old home

#: The journal's file name inside the out dir.
JOURNAL_NAME = ".dagkit-batch.sqlite3"
#: The journal's format (``PRAGMA user_version``). 1: the first (recorded only as the ``schema``
#: setting); 2: each job keeps the server's time before its request was sent (``server_after``).
#: An older journal is upgraded in place when opened; a newer one is refused.
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    plan INTEGER NOT NULL,
    path TEXT NOT NULL,
    source TEXT NOT NULL,
    size INTEGER NOT NULL,
    ord INTEGER,
    state TEXT NOT NULL,
    reason TEXT,
    output TEXT,
    job INTEGER,
    UNIQUE (plan, path)
);
CREATE INDEX IF NOT EXISTS files_state ON files (state, ord);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY,
    plan INTEGER NOT NULL,
    state TEXT NOT NULL,
    job_id TEXT UNIQUE,
    status TEXT,
    sent_at REAL NOT NULL,
    reconciled INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    server_after REAL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS job_files (
    job INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    file INTEGER NOT NULL,
    PRIMARY KEY (job, pos)
);
"""
#: The steps from each older format to the next, run in one transaction when a journal opens.
_UPGRADES: dict[int, tuple[str, ...]] = {
    1: ("ALTER TABLE jobs ADD COLUMN server_after REAL",),
}


@dataclass(frozen=True)
class FileRow:
    id: int
    plan: int
    path: str
    source: str
    size: int
    state: str
    reason: str | None = None
    output: str | None = None
    job: int | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class JobRow:
    """A job of the journal. ``sent_at`` is this machine's time when it was recorded (only ever
    compared with this machine's time); ``server_after`` the server's time then, at the least
    (None when the server had not told it, or in a journal from before it was kept)."""

    seq: int
    plan: int
    state: str
    job_id: str | None
    status: str | None
    sent_at: float
    reconciled: bool
    reason: str | None
    server_after: float | None = None


_FILE_COLUMNS = "id, plan, path, source, size, state, reason, output, job"
_JOB_COLUMNS = "seq, plan, state, job_id, status, sent_at, reconciled, reason, server_after"


class Journal:
    """The journal at ``path`` (created if missing). Use from one thread; close when done."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = filelock.hold(
            self.path.with_name(self.path.name + ".lock"),
            user="another dagkit batch",
            advice=Advice.of(AdviceKind.BATCH_RUNNING),
            error=JournalError,
        )
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._upgrade()
        except sqlite3.DatabaseError as exc:
            self._lock.release()
            raise JournalError(f"{self.path}: not a usable batch journal: {exc}") from None
        except BaseException:
            self._lock.release()
            raise

    def close(self) -> None:
        self._db.close()
        self._lock.release()

    def _version(self) -> int:
        """The journal's format: 0 for a new one."""
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version:
            return version
        has_meta = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if not has_meta:
            return 0
        recorded = self.read_meta("schema")  # the first format recorded itself only here
        if recorded in (None, "1"):
            return 1
        raise JournalError(
            f"{self.path} is in journal format {recorded}, which this dagkit does not know; "
            "use a new out dir"
        )

    def _upgrade(self) -> None:
        """Create the journal, or bring an older one to :data:`SCHEMA_VERSION` in place."""
        version = self._version()
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"{self.path} was written by a newer dagkit (journal format {version}; this one "
                f"reads up to {SCHEMA_VERSION}): upgrade dagkit to resume this batch, or use a "
                "new out dir"
            )
        if version == SCHEMA_VERSION:
            return
        with self._tx(durable=True) as db:
            if version == 0:
                for statement in _SCHEMA.split(";"):  # not executescript: it would commit
                    if statement.strip():
                        db.execute(statement)
            else:
                for step in range(version, SCHEMA_VERSION):
                    for statement in _UPGRADES[step]:
                        db.execute(statement)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)",
                (str(SCHEMA_VERSION),),  # what a dagkit from before user_version checks
            )
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _tx(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction; ``durable`` flushes it to disk before returning (power loss too)."""
        db = self._db
        if durable:
            db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")
        finally:
            if durable:
                db.execute("PRAGMA synchronous=NORMAL")

    # ------------------------------------------------------------------ settings

    def read_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def write_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ------------------------------------------------------------------ files

    def sync_inputs(self, plans: int, inputs: Sequence[InputFile], *, retry_failed: bool) -> None:
        """Bring the files in line with this run's inputs (each input once per planned job).

        New files are added; files not yet sent take this run's verdict (pending or skipped);
        files that failed go back to pending with ``retry_failed``; files in a job or done are
        kept. Files no earlier run sent and this run no longer names are dropped.
        """
        rows = [
            (plan, f.path, f.source, f.size, order, "skipped" if f.skip else "pending", f.skip)
            for order, f in enumerate(inputs)
            for plan in range(plans)
        ]
        with self._tx() as db:
            db.execute("UPDATE files SET ord = NULL")
            db.executemany(
                "INSERT INTO files (plan, path, source, size, ord, state, reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (plan, path) DO UPDATE SET ord = excluded.ord,"
                " source = CASE WHEN files.state IN ('pending', 'skipped', 'failed')"
                "   THEN excluded.source ELSE files.source END,"
                " size = CASE WHEN files.state IN ('pending', 'skipped', 'failed')"
                "   THEN excluded.size ELSE files.size END,"
                " reason = CASE WHEN files.state IN ('pending', 'skipped')"
                "   THEN excluded.reason ELSE files.reason END,"
                " state = CASE WHEN files.state IN ('pending', 'skipped')"
                "   THEN excluded.state ELSE files.state END",
                rows,
            )
            if retry_failed:
                db.execute(
                    "UPDATE files SET state = 'pending', reason = NULL, job = NULL"
                    " WHERE state = 'failed' AND ord IS NOT NULL"
                )
            db.execute("DELETE FROM files WHERE ord IS NULL AND state IN ('pending', 'skipped')")

    def pending(self) -> list[FileRow]:
        """Files waiting for a job, in input order (then planned job order)."""
        return self._files("WHERE state = 'pending' ORDER BY ord, plan")

    def files(self) -> list[FileRow]:
        """Every file, in input order (files from earlier runs only, last)."""
        return self._files("ORDER BY ord IS NULL, ord, plan, id")

    def files_of(self, seq: int) -> list[FileRow]:
        """The files of journal job ``seq``, in upload order."""
        rows = self._db.execute(
            f"SELECT {_prefixed('f', _FILE_COLUMNS)} FROM job_files j JOIN files f"
            " ON f.id = j.file WHERE j.job = ? ORDER BY j.pos",
            (seq,),
        ).fetchall()
        return [FileRow(*row) for row in rows]

    def skip(self, file_ids: Iterable[int], reason: str) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE files SET state = 'skipped', reason = ?, job = NULL WHERE id = ?",
                [(reason, i) for i in file_ids],
            )

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, COUNT(*) FROM files GROUP BY state").fetchall()
        return {str(state): int(n) for state, n in rows}

    def _files(self, clause: str, args: tuple[object, ...] = ()) -> list[FileRow]:
        rows = self._db.execute(f"SELECT {_FILE_COLUMNS} FROM files {clause}", args).fetchall()
        return [FileRow(*row) for row in rows]

    # ------------------------------------------------------------------ jobs

    def begin_job(
        self,
        plan: int,
        file_ids: Sequence[int],
        sent_at: float | None = None,
        server_after: float | None = None,
    ) -> int:
        """Record a job about to be sent (flushed to disk before this returns); its seq.
        ``server_after``: the server's time now, at the least (see :class:`JobRow`)."""
        with self._tx(durable=True) as db:
            cursor = db.execute(
                "INSERT INTO jobs (plan, state, sent_at, server_after) VALUES (?, 'sending', ?, ?)",
                (plan, time.time() if sent_at is None else sent_at, server_after),
            )
            seq = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO job_files (job, pos, file) VALUES (?, ?, ?)",
                [(seq, pos, file_id) for pos, file_id in enumerate(file_ids)],
            )
            db.executemany(
                "UPDATE files SET state = 'in_job', job = ?, reason = NULL WHERE id = ?",
                [(seq, file_id) for file_id in file_ids],
            )
        return seq

    def job_created(
        self, seq: int, job_id: str, status: str, *, ended: bool, reconciled: bool = False
    ) -> None:
        """The server created job ``seq`` as ``job_id``; ``ended`` if it has finished already."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state = ?, job_id = ?, status = ?, reconciled = ?,"
                " reason = NULL WHERE seq = ?",
                ("ended" if ended else "running", job_id, status, int(reconciled), seq),
            )

    def job_status(self, seq: int, status: str, *, ended: bool) -> None:
        state = "ended" if ended else "running"
        with self._tx() as db:
            db.execute("UPDATE jobs SET status = ?, state = ? WHERE seq = ?", (status, state, seq))

    def job_note(self, seq: int, reason: str) -> None:
        """Why job ``seq`` is where it is (e.g. why its creation is in doubt)."""
        with self._tx() as db:
            db.execute("UPDATE jobs SET reason = ? WHERE seq = ?", (reason, seq))

    def void_job(self, seq: int, reason: str) -> None:
        """Job ``seq`` does not exist (or is not ours): its unsettled files go back to pending."""
        with self._tx() as db:
            db.execute("UPDATE jobs SET state = 'void', reason = ? WHERE seq = ?", (reason, seq))
            db.execute(
                "UPDATE files SET state = 'pending', job = NULL, output = NULL"
                " WHERE job = ? AND state = 'in_job'",
                (seq,),
            )

    def finish_job(
        self,
        seq: int,
        done: Sequence[tuple[int, str]],
        failed: Sequence[tuple[int, str]],
    ) -> None:
        """Settle job ``seq``: ``done`` as (file id, output path), ``failed`` as (file id, why)."""
        with self._tx() as db:
            db.executemany(
                "UPDATE files SET state = 'done', output = ?, reason = NULL WHERE id = ?",
                [(output, file_id) for file_id, output in done],
            )
            db.executemany(
                "UPDATE files SET state = 'failed', reason = ?, output = NULL WHERE id = ?",
                [(reason, file_id) for file_id, reason in failed],
            )
            db.execute("UPDATE jobs SET state = 'done' WHERE seq = ?", (seq,))

    def jobs(self, *states: str) -> list[JobRow]:
        """Jobs in any of ``states`` (every job when none is given), oldest first."""
        if states:
            marks = ", ".join("?" for _ in states)
            clause, args = f"WHERE state IN ({marks})", states
        else:
            clause, args = "", ()
        rows = self._db.execute(
            f"SELECT {_JOB_COLUMNS} FROM jobs {clause} ORDER BY seq", args
        ).fetchall()
        return [JobRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8]) for r in rows]

    def known_job_ids(self) -> set[str]:
        """Every server job id this journal has ever taken for one of its jobs."""
        rows = self._db.execute("SELECT job_id FROM jobs WHERE job_id IS NOT NULL").fetchall()
        return {str(row[0]) for row in rows}


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))
