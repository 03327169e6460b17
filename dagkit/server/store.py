"""Where the local server keeps jobs: one sqlite3 database and a directory of files.

Layout under the data directory::

    dagkit-server.sqlite3          jobs and their files (plus its -wal and -shm)
    dagkit-server.lock             held while a server uses the directory
    jobs/<job id>.input.<file id>                    an uploaded file
    jobs/<job id>/output.<node id>.<file id>.json    a node's elements for one file

Accepting a job makes no directory (making one costs as much as writing a small file): its
directory is made when its first output is written. Jobs stored by a dagkit before store format
2 have their input files in their directory (``jobs/<job id>/input.<file id>``, with a
``.dagkit-upload`` marker), where they are still read.

The server deletes only what it can prove it made: at start, an input file under ``jobs/`` named
after a job that does not exist (an upload a stopped server was receiving), or such a job's
directory when its name is a job id and it holds nothing but the server's own files. Anything
else in the data directory, or under ``jobs/``, makes the server refuse to start rather than
touch it.

The database carries its format in ``PRAGMA user_version``; an older format is upgraded in
place at start, a newer one (from a later dagkit) is refused with a clear message.

A job's ``step`` counts the nodes it has finished; a node's outputs are on disk before the step
that records them is committed, so a restart resumes a job at the first unfinished node.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import json
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagkit.core import atomic, filelock, jsontext
from dagkit.errors import Advice, AdviceKind
from dagkit.errors import DataDirError as DataDirError  # re-exported: its old home
from dagkit.model.nodes import Node

DATABASE = "dagkit-server.sqlite3"
LOCK = "dagkit-server.lock"
JOBS = "jobs"
#: Where the workflow operations keep their workflows (one JSON file each).
WORKFLOWS = "workflows"
#: The empty file that marked the directory of a job being received (store format 1).
UPLOAD_MARKER = ".dagkit-upload"
#: Every top-level name the server makes in its data directory.
_OWN_NAMES = frozenset(
    {DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", f"{DATABASE}-journal", LOCK, JOBS, WORKFLOWS}
)
_JOB_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_JOB_DIR_NAME = re.compile(f"^{_JOB_ID}$")
_INPUT_NAME = re.compile(f"^({_JOB_ID})\\.input\\.")
#: The format of the database this dagkit writes (``PRAGMA user_version``). 1: the first
#: format (written before the version was recorded, so a database at 0 with tables is at 1).
#: 2: new jobs' input files lie in ``jobs/`` itself, not in the job's directory (the tables
#: are the same; a dagkit that knows only format 1 would take those files for a stranger's).
STORE_VERSION = 2
ACTIVE = ("SCHEDULED", "IN_PROGRESS")
TERMINAL = ("COMPLETED", "STOPPED", "FAILED")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL,
    workflow_name TEXT NOT NULL,
    job_type TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    nodes TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    message TEXT
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, seq);
CREATE TABLE IF NOT EXISTS files (
    job_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    file_id TEXT NOT NULL,
    filename TEXT NOT NULL,
    size INTEGER NOT NULL,
    error TEXT,
    failed_at INTEGER,
    PRIMARY KEY (job_id, idx)
);
"""


@dataclass(frozen=True)
class StoredFile:
    """An input file of a job. ``failed_at`` is the index of the node it failed at."""

    index: int
    file_id: str
    filename: str
    size: int
    error: str | None = None
    failed_at: int | None = None


@dataclass(frozen=True)
class Job:
    id: str
    workflow_id: str
    workflow_name: str
    job_type: str
    status: str
    created_at: float
    nodes: tuple[Node, ...]
    files: tuple[StoredFile, ...] = ()
    step: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    message: str | None = None
    seq: int = field(default=0, compare=False)


class Store:
    """Jobs in sqlite3, files on disk. Safe to use from many threads."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._jobs = self.root / JOBS
        self._lock = threading.Lock()
        try:
            # Before making anything in what may be someone else's directory: without a
            # database no job is known, so everything under jobs/ must be the server's own.
            _check_top_level(self.root)
            if not (self.root / DATABASE).exists():
                _check_unowned(self.root / JOBS, known=set())
            (self.root / JOBS).mkdir(parents=True, exist_ok=True)
            self._lock_file = filelock.hold(
                self.root / LOCK,
                user="another dagkit server",
                advice=Advice.of(AdviceKind.SERVER_RUNNING),
                error=DataDirError,
            )
        except OSError as exc:
            raise DataDirError(f"cannot use {self.root} as the data directory: {exc}") from None
        try:
            self._db = sqlite3.connect(
                self.root / DATABASE, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            _migrate(self._db, self.root / DATABASE)
            self._remove_orphans()
        except sqlite3.Error as exc:
            self._lock_file.release()
            raise DataDirError(f"{self.root / DATABASE} cannot be used: {exc}") from None
        except BaseException:
            self._lock_file.release()
            raise

    def _remove_orphans(self) -> None:
        """Remove what uploads a stopped server was receiving left, once each is proven the
        server's own; anything else under ``jobs/`` stops the start (it is not ours to delete,
        and a server that ignored it could be pointed at the wrong directory)."""
        with self._lock:
            known = {row[0] for row in self._db.execute("SELECT id FROM jobs")}
        for path in _check_unowned(self.root / JOBS, known):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._lock_file.release()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")  # inside: a COMMIT the disk refuses is rolled back
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    # -- paths

    def new_inputs(self, job_id: str) -> NewInputs:
        """Where the input files of a job being received go (see :class:`NewInputs`)."""
        return NewInputs(self._jobs, job_id)

    def input_path(self, job_id: str, file_id: str) -> Path:
        """Where a job's input file is: in ``jobs/`` (store format 2), or in the job's own
        directory for a job stored by an earlier dagkit."""
        path = self._jobs / f"{job_id}.input.{file_id}"
        if path.exists():
            return path
        earlier = self._jobs.joinpath(job_id, f"input.{file_id}")
        return earlier if earlier.exists() else path

    def output_path(self, job_id: str, node_id: str, file_id: str) -> Path:
        return self._jobs.joinpath(job_id, f"output.{node_id}.{file_id}.json")

    # -- writing

    def add_job(self, job: Job) -> None:
        """Record a new job; its input files must already be in place."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO jobs (id, workflow_id, workflow_name, job_type, status, created_at,"
                " nodes, step) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    job.id,
                    job.workflow_id,
                    job.workflow_name,
                    job.job_type,
                    job.status,
                    job.created_at,
                    jsontext.dumps([n.to_dict() for n in job.nodes]),
                ),
            )
            db.executemany(
                "INSERT INTO files (job_id, idx, file_id, filename, size) VALUES (?, ?, ?, ?, ?)",
                [(job.id, f.index, f.file_id, f.filename, f.size) for f in job.files],
            )

    def update(self, job_id: str, *, expect: Iterable[str], **changes: Any) -> bool:
        """Change a job's columns if its status is one of ``expect``; whether it did."""
        allowed = {"status", "started_at", "finished_at", "step", "message"}
        if not changes or set(changes) - allowed:
            raise ValueError(f"cannot change {sorted(set(changes) - allowed)}")
        expected = tuple(expect)
        columns = ", ".join(f"{name} = ?" for name in changes)
        marks = ", ".join("?" for _ in expected)
        with self._transaction() as db:
            cursor = db.execute(
                f"UPDATE jobs SET {columns} WHERE id = ? AND status IN ({marks})",
                (*changes.values(), job_id, *expected),
            )
            return cursor.rowcount == 1

    def fail_file(self, job_id: str, index: int, error: str, node_index: int) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE files SET error = ?, failed_at = ? WHERE job_id = ? AND idx = ?",
                (error, node_index, job_id, index),
            )

    # -- reading

    def get(self, job_id: str) -> Job | None:
        jobs = self._select("WHERE id = ? ORDER BY seq", (job_id,))
        return jobs[0] if jobs else None

    def list(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[Job]:
        """Jobs in the order they were created, optionally filtered, at most ``limit``."""
        where: builtins.list[str] = []
        args: builtins.list[Any] = []
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if workflow_id is not None:
            where.append("workflow_id = ?")
            args.append(workflow_id)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        clause += " ORDER BY seq"
        if limit is not None:
            clause += " LIMIT ?"
            args.append(limit)
        return self._select(clause, tuple(args))

    def count(self, status: str | None = None) -> int:
        with self._lock:
            if status is None:
                row = self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()
            else:
                row = self._db.execute(
                    "SELECT COUNT(*) FROM jobs WHERE status = ?", (status,)
                ).fetchone()
        return int(row[0])

    def _select(self, clause: str, args: tuple[Any, ...]) -> builtins.list[Job]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, id, workflow_id, workflow_name, job_type, status, created_at,"
                f" started_at, finished_at, nodes, step, message FROM jobs {clause}",
                args,
            ).fetchall()
            ids = [row[1] for row in rows]
            files: dict[str, builtins.list[StoredFile]] = {job_id: [] for job_id in ids}
            for start in range(0, len(ids), 500):
                batch = ids[start : start + 500]
                marks = ", ".join("?" for _ in batch)
                for job_id, idx, file_id, filename, size, error, failed_at in self._db.execute(
                    "SELECT job_id, idx, file_id, filename, size, error, failed_at FROM files"
                    f" WHERE job_id IN ({marks}) ORDER BY idx",
                    batch,
                ):
                    files[job_id].append(StoredFile(idx, file_id, filename, size, error, failed_at))
        return [
            Job(
                id=row[1],
                workflow_id=row[2],
                workflow_name=row[3],
                job_type=row[4],
                status=row[5],
                created_at=row[6],
                started_at=row[7],
                finished_at=row[8],
                nodes=tuple(_nodes(row[9])),
                step=row[10],
                message=row[11],
                files=tuple(files[row[1]]),
                seq=row[0],
            )
            for row in rows
        ]

    # -- outputs

    def write_output(self, job_id: str, node_id: str, file_id: str, elements: Any) -> None:
        """Write one node's elements for one file, atomically (a failed write leaves nothing)."""
        path = self.output_path(job_id, node_id, file_id)
        path.parent.mkdir(exist_ok=True)  # a job's directory is made for its first output
        with atomic.create(path.parent) as pending:
            json.dump(elements, pending.file, ensure_ascii=False, separators=(",", ":"))
            pending.commit(path)

    def read_output_bytes(self, job_id: str, node_id: str, file_id: str) -> bytes | None:
        try:
            return self.output_path(job_id, node_id, file_id).read_bytes()
        except FileNotFoundError:
            return None


class NewInputs:
    """The input files of a job being received: :meth:`path` says where each goes (and keeps
    it in mind), :meth:`discard` removes them all if the job is not stored."""

    def __init__(self, jobs: Path, job_id: str) -> None:
        self._prefix = f"{job_id}.input."
        self._jobs = jobs
        self.paths: list[Path] = []

    def path(self, file_id: str) -> Path:
        path = self._jobs / f"{self._prefix}{file_id}"
        self.paths.append(path)
        return path

    def discard(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the quota) is full, from the filesystem or sqlite3."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return False


def _check_top_level(root: Path) -> None:
    """Refuse a data directory that holds anything the server does not make."""
    try:
        names = sorted(entry.name for entry in os.scandir(root))
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise OSError(errno.ENOTDIR, "not a directory") from None
    foreign = [name for name in names if name not in _OWN_NAMES]
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise DataDirError(
            f"{root} holds files dagkit serve did not make ({shown}); the server keeps its "
            "jobs in a directory of its own: use an empty or new directory, or the data "
            "directory of an earlier dagkit serve (nothing was changed)"
        )


def _check_unowned(jobs: Path, known: set[str]) -> list[Path]:
    """What under ``jobs`` no job in ``known`` owns (input files, directories), once each is
    proven the server's own; raises :class:`DataDirError` naming the first that is not."""
    try:
        entries = sorted(jobs.iterdir())
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        raise DataDirError(f"{jobs} is not a directory; dagkit serve did not make it") from None
    unowned = [path for path in entries if _owner(path.name) not in known]
    for path in unowned:
        if not _made_here(path):
            raise DataDirError(
                f"{path} was not made by dagkit serve, which keeps only its own jobs in {jobs}: "
                "move it out of the data directory (it was left untouched)"
            )
    return unowned


def _owner(name: str) -> str:
    """The job an entry of ``jobs/`` belongs to by its name (an input file's job, or the
    directory's own name)."""
    found = _INPUT_NAME.match(name)
    return found.group(1) if found else name


def _made_here(path: Path) -> bool:
    """Whether ``path`` (under ``jobs/``) is an input file or a job directory this server made:
    a regular file named as an input file of a job, or a directory named as a job id, holding
    nothing but the server's own files, and marked (or, as older dagkit left them, holding
    only uploaded files)."""
    if path.is_symlink():
        return False
    if _INPUT_NAME.match(path.name):
        return path.is_file()
    if not _JOB_DIR_NAME.match(path.name) or not path.is_dir():
        return False
    names = [entry.name for entry in os.scandir(path)]
    own = all(name == UPLOAD_MARKER or name.startswith(("input.", "output.")) for name in names)
    marked = UPLOAD_MARKER in names
    return own and (marked or all(name.startswith("input.") for name in names))


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the database to :data:`STORE_VERSION` (a new one is made at it); refuse a newer."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        has_tables = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'"
        ).fetchone()
        version = 1 if has_tables else 0
    if version > STORE_VERSION:
        raise DataDirError(
            f"{path} was written by a newer dagkit (store format {version}; this one reads up "
            f"to {STORE_VERSION}): upgrade dagkit, or use another data directory"
        )
    db.execute("BEGIN IMMEDIATE")
    try:
        if version < 1:
            for statement in _SCHEMA.split(";"):  # not executescript: it would commit
                if statement.strip():
                    db.execute(statement)
        # format 2 changed where files go, not the tables: nothing to do (jobs stored before it
        # keep their input files in their directory, where input_path finds them);
        # later formats: `if version < 3: ...` here, each step in this one transaction
        db.execute(f"PRAGMA user_version = {STORE_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _nodes(text: str) -> list[Node]:
    return [
        Node(
            name=d["name"], type=d["type"], subtype=d["subtype"], settings=d["settings"], id=d["id"]
        )
        for d in jsontext.loads(text)
    ]
