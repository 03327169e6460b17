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
create table if not exists meta (key text primary key, value text not null);
create table if not exists files (
    id integer primary key,
    plan integer not null,
    path text not null,
    source text not null,
    size integer not null,
    ord integer,
    state text not null,
    reason text,
    output text,
    job integer,
    unique (plan, path)
);
create index if not exists files_state on files (state, ord);
create table if not exists jobs (
    seq integer primary key,
    plan integer not null,
    state text not null,
    job_id text unique,
    status text,
    sent_at real not null,
    reconciled integer not null default 0,
    reason text,
    server_after real
);
create index if not exists jobs_state on jobs (state);
create table if not exists job_files (
    job integer not null,
    pos integer not null,
    file integer not null,
    primary key (job, pos)
);
"""
#: The steps from each older format to the next, run in one transaction when a journal opens.
_UPGRADES: dict[int, tuple[str, ...]] = {
    1: ("alter table jobs add column server_after real",),
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
#: A job's files in upload order (``job`` is a column of both tables: every column is prefixed).
_FILES_OF_JOB = (
    f"select {', '.join('f.' + c for c in _FILE_COLUMNS.split(', '))} from job_files j"
    " join files f on f.id = j.file where j.job = ? order by j.pos"
)


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
            self._db.execute("pragma journal_mode=wal")
            self._db.execute("pragma synchronous=normal")
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
        version = int(self._db.execute("pragma user_version").fetchone()[0])
        if version:
            return version
        has_meta = self._db.execute(
            "select 1 from sqlite_master where type = 'table' and name = 'meta'"
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
        # an ordinary commit: should power fail before it reaches the disk, the next open finds
        # the older format (WAL keeps the file whole) and upgrades again
        with self._tx() as db:
            if version == 0:
                for statement in _SCHEMA.split(";"):  # not executescript: it would commit
                    if statement.strip():
                        db.execute(statement)
            else:
                for step in range(version, SCHEMA_VERSION):
                    for statement in _UPGRADES[step]:
                        db.execute(statement)
            db.execute(
                "insert or replace into meta (key, value) values ('schema', ?)",
                (str(SCHEMA_VERSION),),  # what a dagkit from before user_version checks
            )
            db.execute(f"pragma user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _tx(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction; ``durable`` flushes it to disk before returning (power loss too)."""
        db = self._db
        if durable:
            db.execute("pragma synchronous=full")
        db.execute("begin immediate")
        try:
            yield db
        except BaseException:
            db.execute("rollback")
            raise
        else:
            db.execute("commit")
        finally:
            if durable:
                db.execute("pragma synchronous=normal")

    # ------------------------------------------------------------------ settings

    def read_meta(self, key: str) -> str | None:
        row = self._db.execute("select value from meta where key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def write_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("insert or replace into meta (key, value) values (?, ?)", (key, value))

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
            db.execute("update files set ord = null")
            db.executemany(
                "insert into files (plan, path, source, size, ord, state, reason)"
                " values (?, ?, ?, ?, ?, ?, ?)"
                " on conflict (plan, path) do update set ord = excluded.ord,"
                " source = case when files.state in ('pending', 'skipped', 'failed')"
                "   then excluded.source else files.source end,"
                " size = case when files.state in ('pending', 'skipped', 'failed')"
                "   then excluded.size else files.size end,"
                " reason = case when files.state in ('pending', 'skipped')"
                "   then excluded.reason else files.reason end,"
                " state = case when files.state in ('pending', 'skipped')"
                "   then excluded.state else files.state end",
                rows,
            )
            if retry_failed:
                db.execute(
                    "update files set state = 'pending', reason = null, job = null"
                    " where state = 'failed' and ord is not null"
                )
            db.execute("delete from files where ord is null and state in ('pending', 'skipped')")

    def pending(self) -> list[FileRow]:
        """Files waiting for a job, in input order (then planned job order)."""
        return self._files("where state = 'pending' order by ord, plan")

    def files(self) -> list[FileRow]:
        """Every file, in input order (files from earlier runs only, last)."""
        return self._files("order by ord is null, ord, plan, id")

    def files_of(self, seq: int) -> list[FileRow]:
        """The files of journal job ``seq``, in upload order."""
        rows = self._db.execute(_FILES_OF_JOB, (seq,)).fetchall()
        return [FileRow(*row) for row in rows]

    def skip(self, file_ids: Iterable[int], reason: str) -> None:
        with self._tx() as db:
            db.executemany(
                "update files set state = 'skipped', reason = ?, job = null where id = ?",
                [(reason, i) for i in file_ids],
            )

    def counts(self) -> dict[str, int]:
        rows = self._db.execute("select state, count(*) from files group by state").fetchall()
        return {str(state): int(n) for state, n in rows}

    def _files(self, clause: str, args: tuple[object, ...] = ()) -> list[FileRow]:
        rows = self._db.execute(f"select {_FILE_COLUMNS} from files {clause}", args).fetchall()
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
                "insert into jobs (plan, state, sent_at, server_after) values (?, 'sending', ?, ?)",
                (plan, time.time() if sent_at is None else sent_at, server_after),
            )
            seq = cursor.lastrowid
            assert seq is not None  # an insert sets it
            db.executemany(
                "insert into job_files (job, pos, file) values (?, ?, ?)",
                [(seq, pos, file_id) for pos, file_id in enumerate(file_ids)],
            )
            db.executemany(
                "update files set state = 'in_job', job = ?, reason = null where id = ?",
                [(seq, file_id) for file_id in file_ids],
            )
        return seq

    def job_created(
        self, seq: int, job_id: str, status: str, *, ended: bool, reconciled: bool = False
    ) -> None:
        """The server created job ``seq`` as ``job_id``; ``ended`` if it has finished already."""
        with self._tx() as db:
            db.execute(
                "update jobs set state = ?, job_id = ?, status = ?, reconciled = ?,"
                " reason = null where seq = ?",
                ("ended" if ended else "running", job_id, status, int(reconciled), seq),
            )

    def job_status(self, seq: int, status: str, *, ended: bool) -> None:
        state = "ended" if ended else "running"
        with self._tx() as db:
            db.execute("update jobs set status = ?, state = ? where seq = ?", (status, state, seq))

    def job_note(self, seq: int, reason: str) -> None:
        """Why job ``seq`` is where it is (e.g. why its creation is in doubt)."""
        with self._tx() as db:
            db.execute("update jobs set reason = ? where seq = ?", (reason, seq))

    def void_job(self, seq: int, reason: str) -> None:
        """Job ``seq`` does not exist (or is not ours): its unsettled files go back to pending."""
        with self._tx() as db:
            db.execute("update jobs set state = 'void', reason = ? where seq = ?", (reason, seq))
            db.execute(
                "update files set state = 'pending', job = null, output = null"
                " where job = ? and state = 'in_job'",
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
                "update files set state = 'done', output = ?, reason = null where id = ?",
                [(output, file_id) for file_id, output in done],
            )
            db.executemany(
                "update files set state = 'failed', reason = ?, output = null where id = ?",
                [(reason, file_id) for file_id, reason in failed],
            )
            db.execute("update jobs set state = 'done' where seq = ?", (seq,))

    def jobs(self, *states: str) -> list[JobRow]:
        """Jobs in any of ``states`` (every job when none is given), oldest first."""
        query = f"select {_JOB_COLUMNS} from jobs"
        if states:
            query += f" where state in ({', '.join('?' for _ in states)})"
        rows = self._db.execute(f"{query} order by seq", states).fetchall()
        return [JobRow(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), r[7], r[8]) for r in rows]

    def known_job_ids(self) -> set[str]:
        """Every server job id this journal has ever taken for one of its jobs."""
        rows = self._db.execute("select job_id from jobs where job_id is not null").fetchall()
        return {str(row[0]) for row in rows}
