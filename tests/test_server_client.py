"""dagkit's own client against the embedded server: every operation, and faults driving retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dagkit.client.jobs import JobsClient
from dagkit.errors import AmbiguousRequestError, APIError, NotFoundError, ServerError
from dagkit.http.transport import RetryPolicy
from dagkit.model.nodes import Chunk, Embed, Partition
from dagkit.server import RunningServer, serve_in_thread

REPORT = "Annual Summary\n\nSales rose in all regions. Margins held.\n\n- Item one\n- Item two\n"


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve_in_thread(clock="instant", rate_limit=False) as running:
        yield running


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    report = tmp_path / "report.txt"
    report.write_text(REPORT, encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text("<h1>Hello</h1><p>A page with a paragraph.</p>", encoding="utf-8")
    return [report, page]


def client_for(server: RunningServer, sleeps: list[float] | None = None) -> JobsClient:
    record = sleeps.append if sleeps is not None else (lambda _s: None)
    return JobsClient(
        url=server.url,
        api_key="local-key",
        sleep=record,
        retry=RetryPolicy(jitter=False, backoff_initial=0.01),
    )


def test_client_runs_every_operation(
    server: RunningServer, files: list[Path], tmp_path: Path
) -> None:
    client = client_for(server)
    dag = (
        Partition.hi_res()
        >> Chunk.by_title(max_characters=200)
        >> Embed.azure_openai("text-embedding-3-large")
    )
    created = client.create_job(dag, files)
    assert created.status == "COMPLETED"  # instant clock: done inside create-job
    done = client.wait(created, poll_initial=0.01)
    assert done.status == "COMPLETED" and done.input_file_ids is not None
    details = client.job_details(done)
    assert details.processing_status == "SUCCESS"
    assert [s.node_name for s in details.node_stats] == ["Partitioner", "Chunker", "Embedder"]
    assert client.failed_files(done) == []
    assert [j.id for j in client.list_jobs(status="COMPLETED")] == [done.id]

    out = tmp_path / "out"
    out.mkdir()
    paths = client.download_all(done, out)
    assert sorted(p.name for p in paths) == ["page.html.json", "report.txt.json"]
    elements = json.loads((out / "report.txt.json").read_text(encoding="utf-8"))
    assert all(len(e["embeddings"]) == 3072 for e in elements)
    assert "Sales rose in all regions." in elements[0]["text"]

    assert client.cancel_job(done)["status"] == "completed"
    templates = client.list_templates()
    assert "hi_res_partition" in [t.id for t in templates]
    assert client.get_template("hi_res_partition").id == "hi_res_partition"
    with pytest.raises(NotFoundError):
        client.get_template("nope")


def test_download_into_writes_the_output_into_an_open_file_and_nothing_on_disk(
    server: RunningServer, files: list[Path], tmp_path: Path
) -> None:
    import io

    client = client_for(server)
    done = client.create_job(Partition.hi_res(), files)
    assert done.input_file_ids is not None
    out = tmp_path / "out"
    saved = client.download_output(done, done.input_file_ids[0], dest=out / "saved.json")
    sink = io.BytesIO()
    answer = client.download_into(done, done.input_file_ids[0], sink)
    assert answer.status == 200 and answer.body == b""
    assert sink.getvalue() == saved.read_bytes() and json.loads(sink.getvalue())
    assert sorted(p.name for p in out.iterdir()) == ["saved.json"]
    with pytest.raises(NotFoundError):
        client.download_into(done, "no-such-file", io.BytesIO())


def test_create_job_answered_500_is_not_sent_again(
    server: RunningServer, files: list[Path]
) -> None:
    server.faults.inject("create_job", "500", 3)
    client = client_for(server)
    with pytest.raises((AmbiguousRequestError, ServerError)):
        client.create_job(Partition.hi_res(), files)
    assert server.requests("create_job") == 1
    assert server.jobs_created == 0


def test_create_job_rate_limited_is_sent_again(server: RunningServer, files: list[Path]) -> None:
    server.faults.inject("create_job", "429")
    sleeps: list[float] = []
    client = client_for(server, sleeps)
    job = client.create_job(Partition.hi_res(), files)
    assert server.requests("create_job") == 2
    assert server.jobs_created == 1
    assert 1.0 in sleeps  # the server's Retry-After was honoured
    assert client.get_job(job).status == "COMPLETED"


def test_get_job_retried_after_503(server: RunningServer, files: list[Path]) -> None:
    client = client_for(server)
    job = client.create_job(Partition.hi_res(), files)
    server.faults.inject("get_job", "503", 2)
    assert client.get_job(job).status == "COMPLETED"
    assert server.requests("get_job") == 3


def test_dropped_create_job_is_ambiguous_and_not_resent(
    server: RunningServer, files: list[Path]
) -> None:
    server.faults.inject("create_job", "drop")
    client = client_for(server)
    with pytest.raises(AmbiguousRequestError):
        client.create_job(Partition.hi_res(), files)
    assert server.requests("create_job") == 1


def test_server_rejection_reaches_the_client_as_422(
    server: RunningServer, files: list[Path]
) -> None:
    client = JobsClient(url=server.url, api_key="k", validate=False)
    node = {"name": "P", "type": "partition", "subtype": "unstructured_api"}
    bad = json.dumps({"job_nodes": [{**node, "settings": {"strategy": "slow"}}]})
    with pytest.raises(APIError) as raised:
        client.create_job(bad, files)
    assert raised.value.status == 422
    locs = [item["loc"] for item in raised.value.detail]
    assert ["body", "request_data", "job_nodes", 0, "settings", "strategy"] in locs


def test_a_download_killed_mid_way_leaves_a_part_file_the_next_one_removes(
    server: RunningServer, files: list[Path], tmp_path: Path
) -> None:
    """``dagkit jobs download`` is killed with SIGKILL while the server holds the answer back;
    the next download into the folder removes the part file it left, and only such files:
    another process's live one, an unknown name and a recent file of the old naming stay."""
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time

    from dagkit.core import partfiles

    done = client_for(server).create_job(Partition.hi_res(), files)
    out = tmp_path / "out"
    out.mkdir()
    root = Path(__file__).resolve().parent.parent
    server.faults.inject("download_job_output", "stall", 1, stall=60)
    child = subprocess.Popen(
        [sys.executable, "-m", "dagkit", "jobs", "download", done.id, "--dest", str(out)],
        env={
            **os.environ,
            "PYTHONPATH": str(root),
            "UNSTRUCTURED_API_URL": server.url,
            "UNSTRUCTURED_API_KEY": "local-key",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        waiting = threading.Event()
        for _ in range(3000):  # until the download is under way (its part file exists)
            if any(out.glob(".dagkit-*.part")) and server.requests("download_job_output"):
                break
            waiting.wait(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    (left,) = out.glob(".dagkit-*.part")

    live = out / partfiles.new_name()  # this process is alive: its download is not stale
    live.write_bytes(b"in progress")
    unknown = out / ".dagkit-notes.part"  # not a name dagkit makes
    unknown.write_bytes(b"someone's")
    old_recent = out / ".dagkit-0123456789abcdef.part"  # older dagkit's naming, written now
    old_recent.write_bytes(b"maybe live")
    old_stale = out / ".dagkit-fedcba9876543210.part"  # the same, untouched for two hours
    old_stale.write_bytes(b"dead")
    two_hours_ago = time.time() - 7200
    os.utime(old_stale, (two_hours_ago, two_hours_ago))

    paths = client_for(server).download_all(done, out)
    assert not left.exists() and not old_stale.exists()
    assert live.exists() and unknown.exists() and old_recent.exists()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        p.name for p in paths
    )


def test_inputs_of_one_name_give_distinct_outputs_named_in_upload_order(
    server: RunningServer, tmp_path: Path
) -> None:
    """Same name twice, and names that only case or Unicode normalization tell apart (one file
    on macOS and Windows): each input gets its own output, named the same way every time."""
    import unicodedata

    names = ["a.txt", "a.txt", "Report.txt", "report.txt", "caf\u00e9.txt", "cafe\u0301.txt"]
    inputs = []
    for i, name in enumerate(names):
        path = tmp_path / f"d{i}" / name
        path.parent.mkdir()
        path.write_text(f"Document number {i}\n", encoding="utf-8")
        inputs.append(path)
    client = client_for(server)
    done = client.create_job(Partition.fast(), inputs)
    out = tmp_path / "out"
    paths = client.download_all(done, out)
    assert [p.name for p in paths] == [
        "a.txt.json",
        "a.txt-2.json",
        "Report.txt.json",
        "report.txt-2.json",
        "caf\u00e9.txt.json",
        "cafe\u0301.txt-2.json",
    ]
    keys = {unicodedata.normalize("NFC", p.name).casefold() for p in paths}
    assert len(keys) == len(names)  # distinct on every file system
    for i, path in enumerate(paths):
        assert json.loads(path.read_text(encoding="utf-8"))[0]["text"] == f"Document number {i}"
    assert client.download_all(done, out) == paths  # again: the same names, replaced
    assert len(list(out.iterdir())) == len(names)


def test_a_part_file_of_another_machine_goes_by_age_alone(tmp_path: Path) -> None:
    """On a shared disk a pid means nothing for another machine's part file: only the age rule
    removes it. This machine's part file of a process that has ended goes at once."""
    import os
    import subprocess
    import sys
    import time

    from dagkit.core import partfiles

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(ended.stdout)
    ours = tmp_path / partfiles.new_name().replace(f"-{os.getpid()}-", f"-{pid}-", 1)
    host = ours.name.split("-")[2]
    other_host = "0" * 6 if host != "0" * 6 else "1" * 6
    theirs = tmp_path / ours.name.replace(f"-{host}-", f"-{other_host}-", 1)
    for path in (ours, theirs):
        path.write_bytes(b"partial")
    assert partfiles.remove_stale(tmp_path) == 1
    assert not ours.exists() and theirs.exists()
    a_day_ago = time.time() - 86_400
    os.utime(theirs, (a_day_ago, a_day_ago))
    assert partfiles.remove_stale(tmp_path) == 1 and not theirs.exists()
