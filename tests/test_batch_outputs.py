"""A batch's outputs, made and put in place on a worker thread: whole or absent, never a part file
left behind by a run that ended, and complete before the journal says a file is done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_batch import KEY, ROOT, assert_outputs, client_for, jobs_per_file, make_tree, source

from dagkit.batch import outputs, run
from dagkit.batch.journal import JOURNAL_NAME
from dagkit.batch.outputs import JobOutputs, new_worker, place
from dagkit.core import partfiles
from dagkit.errors import DagkitError
from dagkit.server import serve_in_thread


def part_files(out: Path) -> list[Path]:
    return [
        Path(d, n)
        for d, _, names in os.walk(out)
        for n in names
        if n.startswith(partfiles.PREFIX) and n.endswith(partfiles.SUFFIX)
    ]


@pytest.fixture
def worker() -> Iterator[ThreadPoolExecutor]:
    pool = new_worker()
    yield pool
    pool.shutdown()


# ----------------------------------------------------------------------------- JobOutputs


def test_an_output_is_under_its_name_only_once_placed_whole(
    worker: ThreadPoolExecutor, tmp_path: Path
) -> None:
    targets = [tmp_path / "a" / "one.json", tmp_path / "b" / "c" / "two.json"]
    with JobOutputs(worker, targets) as made:
        for index, target in enumerate(targets):
            part = made.part(index)
            assert part.temp.parent == target.parent and not target.exists()
            part.file.write(b"[%d]" % index)
            assert not target.exists()
            assert place(part, target) == target
        assert [t.read_bytes() for t in targets] == [b"[0]", b"[1]"]
    assert part_files(tmp_path) == []


def test_parts_of_outputs_never_downloaded_are_removed(
    worker: ThreadPoolExecutor, tmp_path: Path
) -> None:
    targets = [tmp_path / f"{n}.json" for n in range(5)]
    with JobOutputs(worker, targets) as made:
        part = made.part(2)  # 0 and 1 are skipped
        part.file.write(b"[]")
        place(part, targets[2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2.json"]


def test_parts_are_taken_in_order(worker: ThreadPoolExecutor, tmp_path: Path) -> None:
    with JobOutputs(worker, [tmp_path / "a.json", tmp_path / "b.json"]) as made:
        made.part(1).discard()
        with pytest.raises(ValueError, match="part 0 was passed already"):
            made.part(0)
    assert list(tmp_path.iterdir()) == []


def test_a_part_that_cannot_be_put_in_place_is_an_error_and_is_removed(
    worker: ThreadPoolExecutor, tmp_path: Path
) -> None:
    target = tmp_path / "taken.json"
    (target / "inside").mkdir(parents=True)  # a directory that is not empty: no rename over it
    with JobOutputs(worker, [target]) as made:
        part = made.part(0)
        part.file.write(b"[]")
        with pytest.raises(DagkitError, match=r"cannot save the download as .*taken\.json"):
            place(part, target)
    assert part_files(tmp_path) == [] and (target / "inside").is_dir()


def test_a_folder_that_cannot_be_made_is_an_error_naming_it_and_the_others_go_on(
    worker: ThreadPoolExecutor, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a folder")
    targets = [tmp_path / "file" / "x.json", tmp_path / "ok" / "y.json"]
    with JobOutputs(worker, targets) as made:
        with pytest.raises(DagkitError, match=r"cannot save the download in .*file"):
            made.part(0)
        place(made.part(1), targets[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "ok"]
    assert targets[1].read_bytes() == b""


def test_leaving_on_an_error_removes_the_part_being_written(
    worker: ThreadPoolExecutor, tmp_path: Path
) -> None:
    target = tmp_path / "x.json"
    with pytest.raises(RuntimeError), JobOutputs(worker, [target, tmp_path / "y.json"]) as made:
        part = made.part(0)
        part.file.write(b"[half")
        part.discard()  # as the batch does when a download fails
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- through a batch

#: A batch in its own process that kills itself inside a job's downloads: the body of output
#: number ``die_at`` is written into its part file, which is not in place yet, and the parts of
#: the outputs after it are made ahead.
CHILD = """
import os, signal, sys
from dagkit.batch import run
from dagkit.client.jobs import JobsClient

url, key, dag, root, out, die_at = sys.argv[1:7]
downloads = 0


class Dying(JobsClient):
    def download_into(self, job, file_id, sink, node_id=None):
        global downloads
        answer = super().download_into(job, file_id, sink, node_id)
        downloads += 1
        if downloads == int(die_at):
            sink.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return answer


run(dag, [root], out, client=Dying(url=url, api_key=key), min_interval=0, poll_initial=0.01)
"""


@pytest.mark.parametrize("die_at", [1, 7])
def test_a_batch_killed_inside_a_jobs_downloads_resumes_to_whole_outputs(
    tmp_path: Path, die_at: int
) -> None:
    root, out = tmp_path / "docs", tmp_path / "out"
    rels = make_tree(root, 12, extras=False)
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        command = [
            sys.executable, "-c", CHILD, server.url, KEY, str(source(tmp_path)), str(root),
            str(out), str(die_at),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert child.returncode == -signal.SIGKILL, child.stderr
        left = part_files(out)
        assert left  # the killed run left part files: the one written, the ones made ahead
        for path in out.rglob("*.json"):  # and nothing partial under an output's name
            json.loads(path.read_bytes())

        report = run(source(tmp_path), [root], out, client=client_for(server), min_interval=0)

        assert report.counts["done"] == len(rels)
        assert_outputs(out, root, rels)
        assert part_files(out) == []
        assert max(jobs_per_file(server).values()) == 1
    assert (out / JOURNAL_NAME).exists()


def test_outputs_are_in_place_when_the_journal_says_done_even_on_a_slow_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, out = tmp_path / "docs", tmp_path / "out"
    rels = make_tree(root, 23, extras=False)
    seen: list[str] = []
    make = outputs.partfiles.create

    def slow_make(directory: Path) -> outputs.Part:
        threading.Event().wait(0.01)  # a slow disk: the worker is behind the downloads
        return make(directory)

    monkeypatch.setattr(outputs.partfiles, "create", slow_make)
    with serve_in_thread(api_key=KEY, rate_limit=False, clock="instant") as server:
        from dagkit.batch.journal import Journal

        finish = Journal.finish_job

        def checked(self: Journal, seq: int, done: list[tuple[int, str]], failed: object) -> None:
            for _, output in done:  # each one whole under its name already
                json.loads(Path(output).read_bytes())
                seen.append(output)
            finish(self, seq, done, failed)  # type: ignore[arg-type]

        Journal.finish_job = checked  # type: ignore[assignment,method-assign]
        try:
            report = run(source(tmp_path), [root], out, client=client_for(server), min_interval=0)
        finally:
            Journal.finish_job = finish  # type: ignore[method-assign]
    assert report.counts["done"] == len(rels) == len(seen)
    assert_outputs(out, root, rels)
    assert part_files(out) == []
