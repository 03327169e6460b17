"""A submission in one library call, against the embedded server on loopback: check, dry-run,
create, wait, download (a folder per job), and what an interrupted or failed create says."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from dagkit.cli._common import CLI_WORDS
from dagkit.client.jobs import JobInfo, JobsClient
from dagkit.client.submission import QuietListener, submit
from dagkit.errors import (
    APIError,
    ConnectError,
    DagkitValueError,
    JobsInterrupted,
    UsageError,
    ValidationFailed,
)
from dagkit.findings import Finding
from dagkit.model.nodes import Partition
from dagkit.server import RunningServer, serve_in_thread
from dagkit.wire.serialize import TemplateJob

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FILES = [EXAMPLES / "files" / "faq.html", EXAMPLES / "files" / "meeting-notes.txt"]
KEY = "submission-test-key"


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve_in_thread(api_key=KEY, clock="instant", rate_limit=False) as running:
        yield running


def client(server: RunningServer, **options: object) -> JobsClient:
    return JobsClient(url=server.url, api_key=KEY, min_launch_interval=0, **options)  # type: ignore[arg-type]


class Heard(QuietListener):
    """Every event, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def checked(self, findings: Sequence[Finding]) -> None:
        self.events.append(f"checked {len(findings)}")

    def created(self, job: JobInfo) -> None:
        self.events.append("created")

    def updated(self, job: JobInfo) -> None:
        self.events.append(f"updated {job.status}")

    def saved(self, path: Path) -> None:
        self.events.append(f"saved {path.name}")


def test_one_call_checks_creates_waits_and_downloads(server: RunningServer, tmp_path: Path) -> None:
    heard = Heard()
    result = submit(
        EXAMPLES / "quickstart.py", FILES, client=client(server), out=tmp_path, listener=heard
    )
    assert result.ok and result.followed and result.dry_run is None
    [outcome] = result.jobs
    assert outcome.job.status == "COMPLETED" and outcome.failed_files == []
    assert outcome.folder == tmp_path
    assert sorted(p.name for p in outcome.downloads or []) == [
        "faq.html.json",
        "meeting-notes.txt.json",
    ]
    assert all(p.is_file() for p in outcome.downloads or [])
    assert heard.events == [
        "checked 0",
        "created",
        "updated COMPLETED",
        "saved faq.html.json",
        "saved meeting-notes.txt.json",
    ]
    entry = result.to_dict()["jobs"][0]
    assert entry["id"] == outcome.job.id and len(entry["downloads"]) == 2
    assert entry["failed_files"] == []


def test_a_dag_of_several_jobs_gets_a_folder_per_job(server: RunningServer, tmp_path: Path) -> None:
    result = submit(
        EXAMPLES / "compare_chunkers.py", FILES[:1], client=client(server), out=tmp_path
    )
    assert result.ok and len(result.jobs) == 2 == server.jobs_created
    folders = [outcome.folder for outcome in result.jobs]
    assert folders == [tmp_path / outcome.job.id for outcome in result.jobs]
    assert all((folder / "faq.html.json").is_file() for folder in folders if folder)


def test_without_wait_the_jobs_are_only_created(server: RunningServer) -> None:
    result = submit(Partition.fast(), FILES[:1], client=client(server))
    assert result.ok and not result.followed
    [outcome] = result.jobs
    assert outcome.failed_files is None and outcome.downloads is None
    assert "failed_files" not in result.to_dict()["jobs"][0]


def test_a_json_source_is_sent_as_written(server: RunningServer, tmp_path: Path) -> None:
    source = tmp_path / "job.json"
    text = (
        '{ "job_nodes": [ {"name": "P", "type": "partition", "subtype": "unstructured_api",\n'
        '  "settings": {"strategy": "fast", "pdf_infer_table_structure": false}} ] }'
    )
    source.write_text("\ufeff" + text, encoding="utf-8")  # a BOM is dropped, nothing else
    result = submit(source, FILES[:1], client=client(server), dry_run=True)
    assert result.jobs == [] and result.dry_run is not None
    assert f"\n{text}\n" in result.dry_run
    assert server.jobs_created == 0  # a dry run sends nothing
    created = submit(source, FILES[:1], client=client(server), wait=True)
    assert created.ok and created.jobs[0].job.status == "COMPLETED"


def test_findings_of_a_json_source_are_placed_in_it_and_nothing_is_sent(
    server: RunningServer, tmp_path: Path
) -> None:
    source = tmp_path / "bad.json"
    source.write_text(
        '{"job_nodes": [\n {"name": "P", "type": "partition", "subtype": "unstructured_api",\n'
        '  "settings": {"strategy": "hi_resolution"}}]}'
    )
    with pytest.raises(ValidationFailed, match="not submitted") as caught:
        submit(source, FILES[:1], client=client(server))
    first = caught.value.findings[0]
    assert (first.file, first.line) == (str(source), 3)
    assert server.requests("create_job") == 0


def test_nothing_is_sent_without_a_key_or_to_an_out_that_is_a_file(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UNSTRUCTURED_API_KEY", raising=False)
    keyless = JobsClient(url=server.url)
    with pytest.raises(UsageError, match="no API key"):
        submit(Partition.fast(), FILES[:1], client=keyless)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match="is not a folder"):
        submit(Partition.fast(), FILES[:1], client=client(server), out=blocker / "out")
    assert server.requests("create_job") == 0


def test_a_file_name_given_as_str_is_not_taken_for_request_data() -> None:
    with pytest.raises(DagkitValueError, match=r"pass the file as a Path"):
        submit("examples/quickstart.py")


def test_a_job_that_fails_is_not_ok(server: RunningServer) -> None:
    server.fail_next_jobs(1)
    result = submit(TemplateJob("hi_res_partition"), FILES[:1], client=client(server), wait=True)
    [outcome] = result.jobs
    assert outcome.job.status == "FAILED" and not result.ok
    assert outcome.failed_files is None  # only a COMPLETED job's files are listed


class InterruptAt(QuietListener):
    """A Ctrl-C in the upload of the second job, or (``waiting``) at the first status seen."""

    def __init__(self, *, waiting: bool) -> None:
        self.waiting = waiting
        self.jobs: list[JobInfo] = []

    def created(self, job: JobInfo) -> None:
        self.jobs.append(job)

    def uploading(self, sent: int, total: int) -> None:
        if not self.waiting and self.jobs:
            raise KeyboardInterrupt

    def updated(self, job: JobInfo) -> None:
        if self.waiting:
            raise KeyboardInterrupt


def test_ctrl_c_while_waiting_names_every_job_of_the_submission() -> None:
    with (
        serve_in_thread(api_key=KEY, clock="manual", rate_limit=False) as manual,
        pytest.raises(JobsInterrupted) as caught,
    ):
        submit(
            EXAMPLES / "compare_chunkers.py",
            FILES[:1],
            client=client(manual),
            wait=True,
            listener=InterruptAt(waiting=True),
        )
    exc = caught.value
    assert isinstance(exc, KeyboardInterrupt) and not exc.sending
    assert len(exc.jobs) == 2 == manual.jobs_created
    assert str(exc).startswith("interrupted: job ") and "keeps running" in str(exc)
    # in Python's words for a Python caller; the CLI words the same advice as commands
    assert [f"follow job {j.id} with JobsClient.wait({j.id!r})" for j in exc.jobs] == exc.__notes__
    cli = [f"follow job {j.id} with `dagkit jobs wait {j.id}`" for j in exc.jobs]
    assert exc.notes(CLI_WORDS) == cli


def test_ctrl_c_during_the_second_upload_names_the_first_job(server: RunningServer) -> None:
    heard = InterruptAt(waiting=False)
    with pytest.raises(JobsInterrupted) as caught:
        submit(EXAMPLES / "compare_chunkers.py", FILES[:1], client=client(server), listener=heard)
    exc = caught.value
    assert exc.sending and len(heard.jobs) == 1
    assert [j.id for j in exc.jobs] == [heard.jobs[0].id]
    assert str(exc) == "interrupted while sending job 2 of 2: it may have been created"
    assert exc.__notes__[0].startswith("check with JobsClient.list_jobs() for a job created since")
    job_id = exc.jobs[0].id
    assert exc.__notes__[1] == f"follow job {job_id} with JobsClient.wait({job_id!r})"
    assert exc.notes(CLI_WORDS)[0].startswith("check with `dagkit jobs list` for a job created")
    assert exc.to_dict()["jobs"][0]["id"] == exc.jobs[0].id
    assert (exc.to_dict()["in_doubt"], exc.to_dict()["planned"]) == (2, 2)


def test_a_refused_create_says_no_job_was_made(server: RunningServer) -> None:
    unchecked = client(server, validate=False)
    with pytest.raises(APIError) as caught:
        submit('{"job_nodes": "not a list"}', FILES[:1], client=unchecked)
    assert caught.value.status == 422
    assert "the server refused the request: no job was created" in caught.value.__notes__


def test_a_create_that_reached_nothing_says_so() -> None:
    with serve_in_thread(api_key=KEY) as gone:
        url = gone.url
    nowhere = JobsClient(url=url, api_key=KEY)
    with pytest.raises(ConnectError) as caught:
        submit(Partition.fast(), FILES[:1], client=nowhere)
    assert "nothing reached the server: no job was created" in caught.value.__notes__


def test_the_readme_example_runs_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Submit and follow jobs", 1)[1].split("\n## ", 1)[0]
    (code,) = [c for c in re.findall(r"```python\n(.+?)\n```", section, re.S) if "submit(" in c]
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})
