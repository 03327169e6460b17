"""No file sent twice, whatever moment a batch dies at, whatever its machine's clock says.

A batch process is killed with SIGKILL at each point of a launch, deterministically (the client
kills its own process there): before the request goes out, once the whole body is out but
before the answer is read, and after the answer but before the journal records it. Its clock is
set two minutes ahead, right, or two minutes behind the server's. The next run must find the job
the killed one created (or see that none was), and must not take for it a job someone else
created with the same files shortly before.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_batch import HI_RES, KEY, ROOT, assert_outputs, client_for, make_tree, source

from dagkit.batch import Progress, run
from dagkit.client.jobs import JobInfo, JobsClient
from dagkit.server import RunningServer, serve_in_thread
from dagkit.server.store import DATABASE

#: The batch, in a process of its own, killing itself at ``point``.
CHILD = """
import dataclasses, http.client, os, signal, sys, time
from datetime import datetime, timedelta
from dagkit.batch import run
from dagkit.client.jobs import JobsClient

url, key, dag, root, out, point, shift, decoy, die_at, per_job, zone = sys.argv[1:12]
dying = False
launches = 0


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def getresponse(self, _read_answer=http.client.HTTPConnection.getresponse):
    if dying:
        die()  # the whole body has gone out; the answer is not read
    return _read_answer(self)


http.client.HTTPConnection.getresponse = getresponse


def naive(info):  # the answer of a server writing created_at without an offset, in its zone
    if not float(zone):
        return info
    moment = datetime.fromisoformat(info.created_at.replace("Z", "+00:00"))
    written = (moment + timedelta(hours=float(zone))).replace(tzinfo=None).isoformat()
    return dataclasses.replace(info, created_at=written)


class Dying(JobsClient):
    def create_job(self, job, files, **kwargs):
        global dying, launches
        launches += 1
        if launches < int(die_at):
            return naive(super().create_job(job, files, **kwargs))
        if decoy:  # someone else sends one of the files just before this batch's request
            JobsClient(url=url, api_key=key).create_job(job, files[:1])
        if point == "before-send":
            die()
        dying = point == "before-answer"
        info = super().create_job(job, files, **kwargs)
        if point == "after-answer":
            die()  # the answer came; the journal does not know it yet
        return info


run(
    dag, [root], out, client=Dying(url=url, api_key=key), min_interval=0, poll_initial=0.01,
    reconcile_grace=0, clock=lambda: time.time() + float(shift), files_per_job=int(per_job),
)
"""


def _killed_batch(
    server: RunningServer,
    tmp_path: Path,
    point: str,
    shift: float,
    *,
    decoy: bool = False,
    die_at: int = 1,
    files_per_job: int = 10,
    zone: float = 0.0,
) -> None:
    """Run the batch in a process that kills itself at ``point`` of launch number ``die_at``
    (its server writing ``created_at`` without an offset, ``zone`` hours off UTC, if not 0)."""
    command = [
        sys.executable, "-c", CHILD, server.url, KEY, str(tmp_path / "dag.json"),
        str(tmp_path / "docs"), str(tmp_path / "out"), point, str(shift), "1" if decoy else "",
        str(die_at), str(files_per_job), str(zone),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr


def _wait_for_jobs(server: RunningServer, count: int) -> None:
    """The server reads a dead client's body on its own schedule: wait until it has."""
    done = threading.Event()
    for _ in range(1000):
        if server.jobs_created >= count:
            return
        done.wait(0.01)
    assert server.jobs_created >= count


def stranger_age(server: RunningServer, older: str, newer: str) -> float:
    """How many seconds after job ``older`` job ``newer`` was created (the server's clock)."""
    db = sqlite3.connect(server.data_dir / DATABASE)
    try:
        (gap,) = db.execute(
            "SELECT b.created_at - a.created_at FROM jobs a, jobs b WHERE a.id = ? AND b.id = ?",
            (older, newer),
        ).fetchone()
    finally:
        db.close()
    return float(gap)


def _age(server: RunningServer, job_id: str, seconds: float) -> None:
    """Make a job look created ``seconds`` earlier (on the server's clock)."""
    db = sqlite3.connect(server.data_dir / DATABASE)
    try:
        db.execute("UPDATE jobs SET created_at = created_at - ? WHERE id = ?", (seconds, job_id))
        db.commit()
    finally:
        db.close()


@pytest.mark.parametrize("shift", [0.0, 120.0, -120.0], ids=["same-clock", "ahead", "behind"])
@pytest.mark.parametrize("point", ["before-send", "before-answer", "after-answer"])
def test_a_batch_killed_at_any_point_of_a_launch_sends_its_files_once(
    tmp_path: Path, point: str, shift: float
) -> None:
    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    dag = source(tmp_path)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        # Someone sent the same three files half a minute ago: a job like this batch's in every
        # way (names, count, kind) except that it was created before this batch's request.
        stranger = client_for(server).create_job(HI_RES, [root / rel for rel in rels])
        _age(server, stranger.id, 30)
        _killed_batch(server, tmp_path, point, shift)
        if point != "before-send":
            _wait_for_jobs(server, 2)
        report = run(
            dag,
            [root],
            tmp_path / "out",
            client=client_for(server),
            min_interval=0,
            poll_initial=0.01,
            reconcile_grace=0,
            clock=lambda: time.time() + shift,
        )
        assert report.ok, report.to_dict()
        assert server.jobs_created == 2  # the stranger's, and exactly one of this batch's
        ours = [j for j in report.jobs if j.state == "done"]
        assert len(ours) == 1 and ours[0].id != stranger.id
        assert ours[0].reconciled == (point != "before-send")
    assert_outputs(tmp_path / "out", root, rels)


def test_a_job_with_another_number_of_files_is_not_taken_even_if_the_list_omits_them(
    tmp_path: Path,
) -> None:
    """A job with one of the files is created just before this batch's; the account's list
    leaves ``input_file_ids`` out (the spec allows null), so the count is asked for."""
    root = tmp_path / "docs"
    rels = make_tree(root, 2, extras=False)
    source(tmp_path)

    class ListsWithoutFiles(JobsClient):
        def list_jobs(self, *args: Any, **kwargs: Any) -> list[JobInfo]:
            jobs = super().list_jobs(*args, **kwargs)
            return [dataclasses.replace(j, input_file_ids=None) for j in jobs]

    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0, decoy=True)
        report = run(
            tmp_path / "dag.json",
            [root],
            tmp_path / "out",
            client=ListsWithoutFiles(url=server.url, api_key=KEY),
            min_interval=0,
            poll_initial=0.01,
            reconcile_grace=0,
        )
        assert report.ok, report.to_dict()
        assert server.jobs_created == 2  # the one-file job, and this batch's
        (ours,) = [j for j in report.jobs if j.state == "done"]
        assert ours.reconciled and len(ours.files) == 2
    assert_outputs(tmp_path / "out", root, rels)


def test_each_job_records_the_servers_time_even_when_asking_for_it_fails_once(
    tmp_path: Path,
) -> None:
    """A run that has had no answer asks the server for its time before the first launch, and
    only then; a 503 to that question postpones the launch (with a warning, longer each time),
    it does not end the batch or skip the bound."""
    from dagkit.batch import JOURNAL_NAME
    from dagkit.batch.journal import Journal
    from dagkit.http.transport import RetryPolicy

    root = tmp_path / "docs"
    rels = make_tree(root, 4, extras=False)
    events: list[Progress] = []
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        server.faults.inject("list_templates", "503", 2)
        report = run(
            source(tmp_path),
            [root],
            tmp_path / "out",
            client=client_for(server, RetryPolicy(max_attempts=1)),  # the batch sees the 503
            files_per_job=2,
            min_interval=0,
            poll_initial=0.01,
            clock=lambda: time.time() - 3600.0,  # an hour behind: it must not matter
            on_progress=events.append,
        )
        assert report.ok and server.jobs_created == 2
        assert server.requests("list_templates") == 3  # two 503s, then the answer; no more
        created = {j.id: j.created_at for j in server.store.list()}
    first, second = events[:2]  # each failure in a row waits longer
    assert first.warning and first.message is not None and first.jobs_waiting == 2
    assert "503" in first.message and first.message.endswith("; trying again in 0.2 s")
    assert second.warning and second.message is not None
    assert "503" in second.message and second.message.endswith("; trying again in 0.5 s")
    journal = Journal(tmp_path / "out" / JOURNAL_NAME)
    try:
        rows = journal.jobs()
    finally:
        journal.close()
    assert len(rows) == 2
    for row in rows:
        assert row.server_after is not None and row.job_id is not None
        # a lower bound on the server's time at the send, and the server's (not an hour off)
        assert created[row.job_id] - 600 < row.server_after <= created[row.job_id]
    assert_outputs(tmp_path / "out", root, rels)


def test_a_job_this_batch_created_just_before_is_not_taken_for_the_one_in_doubt(
    tmp_path: Path,
) -> None:
    """Launches not spaced: the batch's first job was created well within the margin before the
    second was sent. The second is in doubt; the first, though it fits in time, kind and count,
    is the journal's own and is never taken for it."""
    root = tmp_path / "docs"
    rels = make_tree(root, 6, extras=False)
    source(tmp_path)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0, die_at=2, files_per_job=3)
        assert server.jobs_created == 2
        report = run(
            tmp_path / "dag.json",
            [root],
            tmp_path / "out",
            client=client_for(server),
            files_per_job=3,
            min_interval=0,
            poll_initial=0.01,
            reconcile_grace=0,
        )
        assert report.ok, report.to_dict()
        assert server.jobs_created == 2
        assert sorted(j.reconciled for j in report.jobs) == [False, True]
        assert len({j.id for j in report.jobs}) == 2
    assert_outputs(tmp_path / "out", root, rels)


class ListsNewestFirst(JobsClient):
    """A server that lists its jobs newest first (dagkit serve lists them oldest first)."""

    def list_jobs(self, *args: Any, **kwargs: Any) -> list[JobInfo]:
        return list(reversed(super().list_jobs(*args, **kwargs)))


@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
def test_of_two_fitting_jobs_the_earlier_is_taken(tmp_path: Path, newest_first: bool) -> None:
    """After the batch died, someone sent the same files again a minute later: both jobs fit
    in every way; the one created first is the batch's request's, whatever the list's order."""
    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    dag = source(tmp_path)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0)
        (mine,) = server.store.list()
        later = client_for(server).create_job(HI_RES, [root / rel for rel in rels])
        _age(server, later.id, -60)
        kind = ListsNewestFirst if newest_first else JobsClient
        report = run(
            dag,
            [root],
            tmp_path / "out",
            client=kind(url=server.url, api_key=KEY),
            min_interval=0,
            poll_initial=0.01,
            reconcile_grace=0,
        )
        assert report.ok and server.jobs_created == 2
        assert [j.id for j in report.jobs] == [mine.id] and later.id != mine.id
    assert_outputs(tmp_path / "out", root, rels)


def test_a_workflow_run_is_not_taken_for_an_on_demand_job(tmp_path: Path) -> None:
    """The batch died before its request went out; meanwhile someone ran a workflow over the
    same files. That job fits in time, count and names, but a workflow's run is never an
    on-demand job: the files go again."""
    from dagkit.client.workflows import WorkflowsClient
    from dagkit.model.nodes import Partition

    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    dag = source(tmp_path)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "before-send", 0.0)
        workflows = WorkflowsClient(url=server.url, api_key=KEY)
        flow = workflows.create_workflow(Partition.hi_res(), name="colleague")
        run_job = workflows.run_workflow(flow, [root / rel for rel in rels])
        report = run(
            dag,
            [root],
            tmp_path / "out",
            client=client_for(server),
            min_interval=0,
            poll_initial=0.01,
            reconcile_grace=0,
        )
        assert report.ok and server.jobs_created == 2
        (ours,) = [j for j in report.jobs if j.state == "done"]
        assert ours.id != run_job.id and not ours.reconciled
    assert_outputs(tmp_path / "out", root, rels)


def test_a_template_batch_takes_its_job_whatever_type_the_server_reports() -> None:
    """The platform reports an on-demand job as ephemeral even when it runs a template."""
    from dagkit.batch.runner import _may_be_on_demand

    for job_type in (None, "ephemeral", "template", "on_demand_v2"):
        assert _may_be_on_demand(job_type, template=True)
    assert not _may_be_on_demand("template", template=False)
    for job_type in ("persistent", "scheduled"):
        assert not _may_be_on_demand(job_type, template=True)
        assert not _may_be_on_demand(job_type, template=False)


class ReportsTemplateJobs(JobsClient):
    """A server that reports a template's on-demand job as ``template`` (the platform's other
    answer for one)."""

    def list_jobs(self, *args: Any, **kwargs: Any) -> list[JobInfo]:
        jobs = super().list_jobs(*args, **kwargs)
        return [dataclasses.replace(j, job_type="template") for j in jobs]


@pytest.mark.parametrize("reported", ["ephemeral", "template"])
def test_a_template_batch_killed_after_the_answer_finds_its_job(
    tmp_path: Path, reported: str
) -> None:
    """The platform (and dagkit serve) reports a template's on-demand job as ephemeral, and
    sometimes as template: either way it is the batch's."""
    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    dag = source(tmp_path, json.dumps({"template_id": "hi_res_partition"}))
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0)
        (job,) = server.store.list()
        assert job.job_type == "ephemeral"
        kind = ReportsTemplateJobs if reported == "template" else JobsClient
        report = run(
            dag,
            [root],
            tmp_path / "out",
            client=kind(url=server.url, api_key=KEY),
            min_interval=0,
            poll_initial=0.01,
            reconcile_grace=0,
        )
        assert report.ok and server.jobs_created == 1
        assert [(j.id, j.reconciled) for j in report.jobs] == [(job.id, True)]
    assert_outputs(tmp_path / "out", root, rels)


# ----------------------------------------------------------------------------- the bounds


def _journal_sql(tmp_path: Path, sql: str, *args: Any) -> None:
    """Change the journal a killed batch left (as an older dagkit would have written it)."""
    from dagkit.batch import JOURNAL_NAME

    db = sqlite3.connect(tmp_path / "out" / JOURNAL_NAME)
    try:
        db.execute(sql, args)
        db.commit()
    finally:
        db.close()


def _resume(server: RunningServer, tmp_path: Path, root: Path, **kwargs: Any) -> Any:
    return run(
        tmp_path / "dag.json",
        [root],
        tmp_path / "out",
        **{
            "client": client_for(server),
            "min_interval": 0,
            "poll_initial": 0.01,
            "reconcile_grace": 0,
            **kwargs,
        },
    )


def test_the_latest_lower_bound_on_the_send_time_counts(tmp_path: Path) -> None:
    """The batch's first job was created a minute before its second request, which recorded
    the server's time; someone sent the second job's files half a minute before that request.
    Both bounds are lower bounds on the send: the later one rules the stranger out."""
    root = tmp_path / "docs"
    rels = make_tree(root, 6, extras=False)
    source(tmp_path)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0, die_at=2, files_per_job=3)
        first, mine = server.store.list()
        _age(server, first.id, 60)
        stranger = client_for(server).create_job(HI_RES, [root / rel for rel in rels[3:]])
        _age(server, stranger.id, 30)
        report = _resume(server, tmp_path, root, files_per_job=3)
        assert report.ok and server.jobs_created == 3
        assert [(j.id, j.reconciled) for j in report.jobs] == [(first.id, False), (mine.id, True)]
    assert_outputs(tmp_path / "out", root, rels)


def test_a_journal_without_the_servers_time_is_bounded_by_its_own_jobs(tmp_path: Path) -> None:
    """A journal from before the server's time was recorded with each job: the creation of the
    batch's earlier job still rules out a job someone made before it."""
    root = tmp_path / "docs"
    rels = make_tree(root, 6, extras=False)
    source(tmp_path)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0, die_at=2, files_per_job=3)
        first, mine = server.store.list()
        _journal_sql(tmp_path, "update jobs set server_after = null")
        _age(server, first.id, 60)
        stranger = client_for(server).create_job(HI_RES, [root / rel for rel in rels[3:]])
        _age(server, stranger.id, 90)
        report = _resume(server, tmp_path, root, files_per_job=3)
        assert report.ok and server.jobs_created == 3
        assert [(j.id, j.reconciled) for j in report.jobs] == [(first.id, False), (mine.id, True)]
    assert_outputs(tmp_path / "out", root, rels)


@pytest.mark.parametrize("naive", [False, True], ids=["utc-offset", "naive-utc"])
def test_a_job_created_right_at_the_bound_is_taken(tmp_path: Path, naive: bool) -> None:
    """The bound is inclusive: a job created exactly ``server_clock_margin`` before the time
    recorded with the request can be its job, one half a second earlier cannot; whether the
    server writes its times with an offset or (as the platform does) without one, in UTC."""
    from dagkit.http.servertime import ServerClock

    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    source(tmp_path)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0)
        (mine,) = server.store.list()
        created = ServerClock().created(client_for(server).get_job(mine.id).created_at)
        assert created is not None
        _journal_sql(tmp_path, "update jobs set server_after = ?", created + 2.0)
        # the same files sent by someone half a second before the bound: not taken
        stranger = client_for(server).create_job(HI_RES, [root / rel for rel in rels])
        _age(server, stranger.id, 0.5 + stranger_age(server, mine.id, stranger.id))
        kind = WritesNaiveTimes if naive else JobsClient
        report = _resume(server, tmp_path, root, client=kind(url=server.url, api_key=KEY))
        assert report.ok and server.jobs_created == 2
        assert [(j.id, j.reconciled) for j in report.jobs] == [(mine.id, True)]
    assert_outputs(tmp_path / "out", root, rels)


# ----------------------------------------------------------------------------- what a run tells


def test_a_job_in_doubt_is_looked_for_only_once_its_grace_has_passed(tmp_path: Path) -> None:
    """The server gets ``reconcile_grace`` s (on this machine's clock, from when the job was
    recorded) to finish creating a job in doubt. A run stopped while it waits leaves the job in
    doubt; the next one, with no grace left, finds it."""
    from dagkit.batch import JOURNAL_NAME
    from dagkit.batch.journal import Journal

    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    source(tmp_path)
    stop = threading.Event()

    def stops_when_read() -> float:
        stop.set()  # read only to tell how long the grace still lasts
        return time.time()

    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0)
        waited = _resume(
            server, tmp_path, root, reconcile_grace=3600.0, clock=stops_when_read, stop=stop
        )
        assert waited.interrupted and [j.state for j in waited.jobs] == ["sending"]
        journal = Journal(tmp_path / "out" / JOURNAL_NAME)
        try:
            assert [j.state for j in journal.jobs()] == ["sending"]
        finally:
            journal.close()
        report = _resume(server, tmp_path, root)
        assert report.ok and server.jobs_created == 1
    assert_outputs(tmp_path / "out", root, rels)


@pytest.mark.parametrize("point", ["before-send", "after-answer"])
def test_a_resumed_run_tells_what_it_makes_of_the_job_in_doubt(tmp_path: Path, point: str) -> None:
    """Each step of settling a job in doubt is a warning with the counts as they then stand."""
    root = tmp_path / "docs"
    make_tree(root, 3, extras=False)
    source(tmp_path)
    events: list[Progress] = []
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, point, 0.0)
        report = _resume(server, tmp_path, root, on_progress=events.append)
    told = [(p.message, p.warning, p.files_running, p.files_waiting) for p in events[:2]]
    (job,) = [j for j in report.jobs if j.state == "done"]
    if point == "before-send":
        assert told == [
            ("job #1: its creation was interrupted; checking the server", True, 3, 0),
            ("job #1: the server has no such job; its files go again", True, 0, 3),
        ]
        assert (report.jobs[0].state, report.jobs[0].reason) == (
            "void",
            "its request did not create a job",
        )
    else:
        assert told == [
            ("job #1: its creation was interrupted; checking the server", True, 3, 0),
            (f"job #1: found on the server as {job.id} (COMPLETED)", True, 3, 0),
        ]
    assert events[0].jobs_running == 1 and events[0].jobs_waiting == 0


def test_a_job_found_for_the_one_in_doubt_is_recorded_as_the_server_has_it(
    tmp_path: Path,
) -> None:
    """The journal records the job found at once (id, status, ended, reconciled): a run
    stopped right then leaves nothing in doubt, and the next one fetches its outputs."""
    from dagkit.batch import JOURNAL_NAME
    from dagkit.batch.journal import Journal

    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    source(tmp_path)
    stop = threading.Event()

    def stop_once_found(p: Progress) -> None:
        if p.message and "found on the server" in p.message:
            stop.set()

    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0)
        (mine,) = server.store.list()
        stopped = _resume(server, tmp_path, root, stop=stop, on_progress=stop_once_found)
        assert stopped.interrupted
        journal = Journal(tmp_path / "out" / JOURNAL_NAME)
        try:
            (row,) = journal.jobs()
        finally:
            journal.close()
        assert (row.state, row.job_id, row.status, row.reconciled, row.reason) == (
            "ended",
            mine.id,
            "COMPLETED",
            True,
            None,
        )
        report = _resume(server, tmp_path, root)
        assert report.ok and server.jobs_created == 1 and report.launched == 0
    assert_outputs(tmp_path / "out", root, rels)


def test_a_job_whose_get_leaves_out_its_files_is_fetched_by_what_the_list_said(
    tmp_path: Path,
) -> None:
    """The platform's get-job may leave ``input_file_ids`` out: the job found in the list is
    followed with the ids the list gave."""
    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    source(tmp_path)

    class GetsWithoutFiles(JobsClient):
        def get_job(self, *args: Any, **kwargs: Any) -> JobInfo:
            return dataclasses.replace(super().get_job(*args, **kwargs), input_file_ids=None)

    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0)
        (mine,) = server.store.list()
        client = GetsWithoutFiles(url=server.url, api_key=KEY)
        report = _resume(server, tmp_path, root, client=client)
        assert report.ok and server.jobs_created == 1
        assert [(j.id, j.reconciled) for j in report.jobs] == [(mine.id, True)]
    assert_outputs(tmp_path / "out", root, rels)


def _naive(info: JobInfo, hours: float) -> JobInfo:
    """``info`` as a server writes it whose ``created_at`` has no offset and is ``hours`` off
    UTC (the platform writes its times without an offset)."""
    from datetime import datetime, timedelta

    assert info.created_at is not None
    moment = datetime.fromisoformat(info.created_at.replace("Z", "+00:00"))
    written = (moment + timedelta(hours=hours)).replace(tzinfo=None).isoformat()
    return dataclasses.replace(info, created_at=written)


class WritesNaiveTimes(JobsClient):
    """A client of a server that writes ``created_at`` without an offset, in UTC (as the
    platform does) or ``hours`` off it."""

    hours = 0.0

    def get_job(self, *args: Any, **kwargs: Any) -> JobInfo:
        return _naive(super().get_job(*args, **kwargs), self.hours)

    def list_jobs(self, *args: Any, **kwargs: Any) -> list[JobInfo]:
        return [_naive(j, self.hours) for j in super().list_jobs(*args, **kwargs)]


class FiveHoursBehind(WritesNaiveTimes):
    hours = -5.0


def test_the_zone_of_a_servers_naive_times_is_kept_for_the_next_run(tmp_path: Path) -> None:
    """The first job's answer showed the server writes its times five hours behind UTC, with no
    offset; the run that resumes after the kill reads the job in doubt's ``created_at`` in that
    zone (read as UTC it would look five hours older than the request, and not be taken)."""
    root = tmp_path / "docs"
    rels = make_tree(root, 6, extras=False)
    source(tmp_path)
    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="instant", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "after-answer", 0.0, die_at=2, files_per_job=3, zone=-5.0)
        first, mine = server.store.list()
        stranger = client_for(server).create_job(HI_RES, [root / rel for rel in rels[3:]])
        _age(server, stranger.id, 30)
        (root / "late.txt").write_text("A file added since: this run launches a job too.\n")
        client = FiveHoursBehind(url=server.url, api_key=KEY)
        asked = server.requests("list_templates")
        report = _resume(server, tmp_path, root, files_per_job=3, client=client)
        assert report.ok and server.jobs_created == 4
        # the search for the job in doubt told the server's time: no need to ask before launching
        assert server.requests("list_templates") == asked
        assert [(j.id, j.reconciled) for j in report.jobs][:2] == [
            (first.id, False),
            (mine.id, True),
        ]
    assert_outputs(tmp_path / "out", root, [*rels, "late.txt"])


def test_a_run_stopped_with_a_job_in_doubt_says_why_it_is(tmp_path: Path) -> None:
    """The answer to a request was lost: the journal notes why the job is in doubt, and a run
    stopped right then leaves it for the next, which finds it."""
    from dagkit.errors import AmbiguousRequestError

    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    source(tmp_path)
    stop = threading.Event()
    events: list[Progress] = []

    class LosesTheAnswer(JobsClient):
        def create_job(self, *args: Any, **kwargs: Any) -> JobInfo:
            super().create_job(*args, **kwargs)
            raise AmbiguousRequestError("the connection dropped after the body was sent")

    def stop_when_in_doubt(p: Progress) -> None:
        events.append(p)
        if p.message and "may have created it" in p.message:
            stop.set()

    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        client = LosesTheAnswer(url=server.url, api_key=KEY)
        stopped = _resume(
            server, tmp_path, root, client=client, stop=stop, on_progress=stop_when_in_doubt
        )
        assert [(j.state, j.reason) for j in stopped.jobs] == [
            ("sending", "creation in doubt: the connection dropped after the body was sent")
        ]
        doubt = next(p for p in events if p.message and "may have" in p.message)
        assert doubt.warning and doubt.jobs_running == 1 and doubt.files_running == 3
        assert doubt.message == (
            "job #1: the server may have created it (the connection dropped after the body "
            "was sent); checking"
        )
        report = _resume(server, tmp_path, root)
        assert report.ok and server.jobs_created == 1 and report.launched == 0
        assert [j.reconciled for j in report.jobs] == [True]
    assert_outputs(tmp_path / "out", root, rels)


def test_a_resumed_run_counts_the_jobs_earlier_runs_finished(tmp_path: Path) -> None:
    """The progress of a run that resumes counts the jobs earlier runs finished, those that
    completed apart from those that failed."""
    root = tmp_path / "docs"
    make_tree(root, 8, extras=False)
    source(tmp_path)
    events: list[Progress] = []
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        server.fail_next_jobs(2)
        first = _resume(server, tmp_path, root, files_per_job=2)
        assert [j.status for j in first.jobs] == ["FAILED", "FAILED", "COMPLETED", "COMPLETED"]
        (root / "late.txt").write_text("A file added since.\n")
        second = _resume(server, tmp_path, root, files_per_job=2, on_progress=events.append)
        assert second.launched == 1
    launched = next(p for p in events if p.message and "launched" in p.message)
    assert (launched.jobs_done, launched.jobs_failed) == (2, 2)


def test_a_job_taken_for_the_one_in_doubt_is_checked_by_the_run_that_follows_it(
    tmp_path: Path,
) -> None:
    """The batch died before its request went out; someone's job of three other files is the
    only candidate and is taken, still running, when the run is stopped. The next run follows
    it again and still checks its outputs against the file names: they are not this batch's
    files, so they go again."""
    from dagkit.batch import JOURNAL_NAME
    from dagkit.batch.journal import Journal

    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    strangers = [tmp_path / f"s{i}.txt" for i in range(3)]
    for path in strangers:
        path.write_text(f"Stranger {path.name}\n")
    source(tmp_path)
    stop = threading.Event()

    def stop_once_found(p: Progress) -> None:
        if p.message and "found on the server" in p.message:
            stop.set()

    with serve_in_thread(
        api_key=KEY, rate_limit=False, clock="manual", data_dir=tmp_path / "server"
    ) as server:
        _killed_batch(server, tmp_path, "before-send", 0.0)
        theirs = client_for(server).create_job(HI_RES, strangers)
        stopped = _resume(server, tmp_path, root, stop=stop, on_progress=stop_once_found)
        assert stopped.interrupted
        journal = Journal(tmp_path / "out" / JOURNAL_NAME)
        try:
            (row,) = journal.jobs()
        finally:
            journal.close()
        assert (row.state, row.job_id, row.reconciled) == ("running", theirs.id, True)
        report = _resume(server, tmp_path, root, on_progress=lambda _: server.step(10))
        assert report.ok and server.jobs_created == 2
        void, ours = report.jobs
        assert (void.id, void.state, void.reconciled) == (theirs.id, "void", True)
        assert ours.state == "done" and not ours.reconciled
        # a job found not to be the batch's is never followed again
        asked = server.requests("get_job")
        again = _resume(server, tmp_path, root)
        assert again.ok and again.launched == 0 and server.requests("get_job") == asked
    assert_outputs(tmp_path / "out", root, rels)


@pytest.mark.parametrize(
    ("written", "is_alpha"),
    [
        ('[{"metadata": {"filename": "alpha.txt"}}]', True),
        ('[{"metadata": {"filename": "beta.txt"}}]', False),
        # the first element that names a file decides; the others are passed over
        (
            '[1, {"metadata": "x"}, {"metadata": {"filename": 5}}, '
            '{"metadata": {"filename": "beta.txt"}}, {"metadata": {"filename": "alpha.txt"}}]',
            False,
        ),
        ('[{"text": "no metadata"}, {"metadata": {"filename": "alpha.txt"}}]', True),
        # an output that names no file, or cannot be read as elements, is given the benefit
        ('[{"metadata": {}}]', True),
        ("[]", True),
        ('{"metadata": {"filename": "beta.txt"}}', True),
        ("not json", True),
        (None, True),
    ],
)
def test_whose_output_it_is_is_told_by_the_first_file_name_in_it(
    tmp_path: Path, written: str | None, is_alpha: bool
) -> None:
    from dagkit.batch.runner import _output_names

    path = tmp_path / "alpha.txt.json"
    if written is not None:
        path.write_text(written)
    assert _output_names(path, "alpha.txt") is is_alpha


# ----------------------------------------------------------------------------- launches that fail


def test_a_refused_connection_is_no_job_and_the_files_go_again(tmp_path: Path) -> None:
    """A request that never reached the server (connection refused) created nothing: its job is
    void at once, nothing is looked for, and the files go in the next launch. The server had
    answered this run already (its time), so one refusal does not end the batch."""
    from dagkit.http.transport import RetryPolicy

    root = tmp_path / "docs"
    rels = make_tree(root, 3, extras=False)
    source(tmp_path)
    events: list[Progress] = []

    class FirstConnectionRefused(JobsClient):
        refused = False

        def create_job(self, *args: Any, **kwargs: Any) -> JobInfo:
            if not self.refused:
                self.refused = True
                nobody = JobsClient(
                    url="http://127.0.0.1:9", api_key=KEY, retry=RetryPolicy(max_attempts=1)
                )
                return nobody.create_job(*args, **kwargs)
            return super().create_job(*args, **kwargs)

    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        client = FirstConnectionRefused(url=server.url, api_key=KEY)
        report = _resume(server, tmp_path, root, client=client, on_progress=events.append)
        assert report.ok and server.jobs_created == 1
        assert server.requests("list_jobs") == 0  # nothing was in doubt
    void, done = report.jobs
    assert void.state == "void" and (void.reason or "").startswith("not created: ")
    assert not void.reconciled and done.state == "done"
    first = events[0]
    assert first.warning and first.files_waiting == 3 and first.jobs_waiting == 1
    assert first.message is not None and first.message.startswith("not launched (")
    assert first.message.endswith("); next launch in 0.2 s")
    assert_outputs(tmp_path / "out", root, rels)


def test_a_file_gone_before_its_job_went_out_is_skipped_and_the_rest_go(tmp_path: Path) -> None:
    """A file deleted after the batch found it, before its job was sent: the job is not sent
    (void), the file is skipped with the reason, the other files of the job go again."""
    root = tmp_path / "docs"
    rels = make_tree(root, 4, extras=False)
    source(tmp_path)
    gone = root / rels[2]

    def delete_after_first_launch(p: Progress) -> None:
        if p.message and "launched" in p.message and gone.exists():
            gone.unlink()

    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        report = _resume(
            server, tmp_path, root, files_per_job=2, on_progress=delete_after_first_launch
        )
        assert server.jobs_created == 2 and server.requests("list_jobs") == 0
    assert report.complete and not report.interrupted
    states = {f.path: (f.state, f.reason) for f in report.files}
    assert states[rels[2]] == ("skipped", "cannot read it: No such file or directory")
    assert [states[rel][0] for rel in rels] == ["done", "done", "skipped", "done"]
    assert [j.state for j in report.jobs] == ["done", "void", "done"]
    assert (report.jobs[1].reason or "").startswith("not sent: ")
    assert_outputs(tmp_path / "out", root, [rels[0], rels[1], rels[3]])
