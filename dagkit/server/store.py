"""Where the local server keeps jobs: one sqlite3 database and a directory of files.

Layout under the data directory::

    dagkit-server.sqlite3          jobs and their files
    jobs/<job id>/input.<file id>                    an uploaded file
    jobs/<job id>/output.<node id>.<file id>.json    a node's elements for one file

(One flat directory per job: creating directories is the slowest part of accepting a job.)

A job's ``step`` counts the nodes it has finished; a node's outputs are on disk before the step
that records them is committed, so a restart resumes a job at the first unfinished node.
"""

from __future__ import annotations

import builtins
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dagkit import jsontext
from dagkit.errors import DagkitError
from dagkit.nodes import Node

DATABASE = "dagkit-server.sqlite3"
LOCK = "dagkit-server.lock"
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


class DataDirError(DagkitError):
    """The data directory cannot be used: not writable, a broken database, or in use."""


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
        self._lock = threading.Lock()
        try:
            (self.root / "jobs").mkdir(parents=True, exist_ok=True)
            self._lock_file = _lock_dir(self.root / LOCK)
        except OSError as exc:
            raise DataDirError(f"cannot use {self.root} as the data directory: {exc}") from None
        try:
            self._db = sqlite3.connect(
                self.root / DATABASE, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._remove_orphans()
        except sqlite3.Error as exc:
            self._lock_file.close()
            raise DataDirError(f"{self.root / DATABASE} cannot be used: {exc}") from None

    def _remove_orphans(self) -> None:
        """Remove the directories of uploads that a previous run stopped in the middle of."""
        with self._lock:
            known = {row[0] for row in self._db.execute("SELECT id FROM jobs")}
        for path in (self.root / "jobs").iterdir():
            if path.name not in known:
                shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._lock_file.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- paths

    def job_dir(self, job_id: str) -> Path:
        return self.root / "jobs" / job_id

    def input_path(self, job_id: str, file_id: str) -> Path:
        return self.job_dir(job_id) / f"input.{file_id}"

    def output_path(self, job_id: str, node_id: str, file_id: str) -> Path:
        return self.job_dir(job_id) / f"output.{node_id}.{file_id}.json"

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
        """Write one node's elements for one file, atomically."""
        path = self.output_path(job_id, node_id, file_id)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(elements, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)

    def read_output_bytes(self, job_id: str, node_id: str, file_id: str) -> bytes | None:
        try:
            return self.output_path(job_id, node_id, file_id).read_bytes()
        except FileNotFoundError:
            return None


def _lock_dir(path: Path) -> IO[bytes]:
    """Hold an exclusive lock on ``path`` while the returned file is open: two servers on one
    data directory would both run its jobs."""
    handle = open(path, "ab")  # noqa: SIM115 - held open for the store's lifetime
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise OSError("another dagkit server is using it") from None
    return handle


def _nodes(text: str) -> list[Node]:
    return [
        Node(
            name=d["name"], type=d["type"], subtype=d["subtype"], settings=d["settings"], id=d["id"]
        )
        for d in jsontext.loads(text)
    ]
