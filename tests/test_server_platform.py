"""The embedded server answers as the platform does where its answers were seen: FastAPI's 422
for a body without request_data, a job without files, file ids made from the uploaded name,
``output_node_files`` in the create answer, and the real ``hi_res_and_enrichment`` template."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_server import API, TEXT, THREE_NODES, schema_findings

from dagkit.client.jobs import match_input_files
from dagkit.server import RunningServer, serve_in_thread
from dagkit.server.upload import file_id
from dagkit.wire.multipart import MultipartEncoder

#: FastAPI's answer when the form has no request_data (the service is FastAPI).
MISSING_REQUEST_DATA = {
    "detail": [
        {"type": "missing", "loc": ["body", "request_data"], "msg": "Field required", "input": None}
    ]
}
#: ``250713305v1-d88db765.pdf``: the uploaded name's stem, a dash, 8 hex digits, the extension.
FILE_ID = re.compile(r"^(?P<stem>.+)-[0-9a-f]{8}(?P<ext>\.[^.]+)?$")


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve_in_thread(clock="instant", rate_limit=False) as running:
        yield running


@pytest.fixture
def manual() -> Iterator[RunningServer]:
    with serve_in_thread(clock="manual", rate_limit=False) as running:
        yield running


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (None, {}),
        (b"", {"Content-Type": "multipart/form-data; boundary=x"}),
        (THREE_NODES.encode(), {"Content-Type": "application/json"}),
        (b"request_data=%7B%7D", {"Content-Type": "text/plain"}),
    ],
    ids=["no body", "empty multipart", "json", "text"],
)
def test_a_post_without_request_data_is_fastapis_422(
    server: RunningServer, body: bytes | None, headers: dict[str, str]
) -> None:
    api = API(server)
    status, answer = api.call("POST", "/api/v1/jobs/", body=body, headers=headers)
    assert status == 422  # never 415: the spec declares only 200 and 422
    assert answer == MISSING_REQUEST_DATA
    assert server.jobs_created == 0
    for operation, code, data in api.seen:
        assert schema_findings(operation, code, data) == []


def test_a_job_without_files_is_accepted_and_completes_with_no_outputs(
    server: RunningServer,
) -> None:
    api = API(server)
    encoder = MultipartEncoder([("request_data", THREE_NODES)], [])
    status, created = api.call(
        "POST", "/api/v1/jobs/", body=b"".join(encoder), headers=encoder.headers
    )
    assert status == 200, created
    assert created["input_file_ids"] == [] and created["output_node_files"] == []
    job = api.job(created["id"])
    assert job["status"] == "COMPLETED"
    status, failed = api.call("GET", f"/api/v1/jobs/{created['id']}/failed-files")
    assert (status, failed) == (200, {"failed_files": []})
    status, details = api.call("GET", f"/api/v1/jobs/{created['id']}/details")
    assert status == 200 and details["processing_status"] == "SUCCESS"


def test_file_ids_are_made_from_the_uploaded_name(server: RunningServer) -> None:
    api = API(server)
    files = [
        ("250713305v1.pdf", b"%PDF-1.4\n"),
        ("report.txt", TEXT),
        ("report.txt", TEXT + b"\nA second copy.\n"),
        ("H03-Cryptosystem-proposed-by-Nash.md", b"# Nash\n\nA letter.\n"),
        ("README", b"plain"),
    ]
    status, created = api.create(files=files)
    assert status == 200, created
    ids = created["input_file_ids"]
    assert len(ids) == len(set(ids)) == 5  # two uploads of one name: two ids
    parts = [FILE_ID.match(i) for i in ids]
    assert all(parts), ids
    assert [(m["stem"], m["ext"]) for m in parts if m] == [
        ("250713305v1", ".pdf"),
        ("report", ".txt"),
        ("report", ".txt"),
        ("H03-Cryptosystem-proposed-by-Nash", ".md"),
        ("README", None),
    ]
    # each id downloads the output of its own file
    second = api.call("GET", f"/api/v1/jobs/{created['id']}/download?file_id={ids[2]}")[1]
    assert "A second copy." in " ".join(e["text"] for e in second)
    first = api.call("GET", f"/api/v1/jobs/{created['id']}/download?file_id={ids[1]}")[1]
    assert "A second copy." not in " ".join(e["text"] for e in first)


@pytest.mark.parametrize(
    "name", ["a b (1).txt", "résumé.txt", "x" * 300 + ".txt", ".hidden.txt", "semi;colon.txt"]
)
def test_any_accepted_name_gives_a_usable_file_id(server: RunningServer, name: str) -> None:
    api = API(server)
    status, created = api.create(files=[(name, TEXT)])
    assert status == 200, created
    [file_id] = created["input_file_ids"]
    assert "/" not in file_id and "\\" not in file_id and len(file_id) <= 120
    assert re.search(r"-[0-9a-f]{8}(\.txt)?$", file_id)
    from urllib.parse import quote

    status, _ = api.call("GET", f"/api/v1/jobs/{created['id']}/download?file_id={quote(file_id)}")
    assert status == 200


def test_the_create_answer_lists_one_output_per_file_and_node(manual: RunningServer) -> None:
    api = API(manual)
    status, created = api.create(files=[("a.txt", TEXT), ("b.txt", TEXT)])
    assert status == 200 and created["status"] == "SCHEDULED"
    outputs = created["output_node_files"]
    pairs = [(o["file_id"], o["node_type"]) for o in outputs]
    a, b = created["input_file_ids"]
    # file by file, node by node, as the platform lists them
    assert pairs == [(f, t) for f in (a, b) for t in ("partition", "chunk", "embed")]
    assert api.job(created["id"])["output_node_files"] == outputs


def test_only_the_platforms_templates_are_served(server: RunningServer) -> None:
    api = API(server)
    status, listed = api.call("GET", "/api/v1/templates/")
    assert status == 200
    assert [t["id"] for t in listed] == ["hi_res_partition", "hi_res_and_enrichment"]
    status, template = api.call("GET", "/api/v1/templates/hi_res_and_enrichment")
    assert status == 200
    nodes = [(n["type"], n["subtype"]) for n in template["nodes"]]
    assert nodes == [
        ("partition", "unstructured_api"),
        ("prompter", "openai_image_description"),
        ("prompter", "anthropic_ocr"),
        ("prompter", "anthropic_table2html"),
    ]
    assert template["nodes"][0]["settings"]["strategy"] == "hi_res"
    for operation, code, data in api.seen:
        assert schema_findings(operation, code, data) == []


def test_a_template_job_lists_the_templates_nodes(server: RunningServer) -> None:
    api = API(server)
    status, created = api.create(json.dumps({"template_id": "hi_res_and_enrichment"}))
    assert status == 200, created
    subtypes = [o["node_subtype"] for o in created["output_node_files"]]
    assert subtypes == [
        "unstructured_api",
        "openai_image_description",
        "anthropic_ocr",
        "anthropic_table2html",
    ]
    last: Any = api.call(
        "GET",
        f"/api/v1/jobs/{created['id']}/download?file_id={created['input_file_ids'][0]}",
    )[1]
    assert isinstance(last, list) and last


_NAMES = st.lists(
    st.tuples(
        st.text(alphabet="abcXYZ019 _-()é", min_size=1, max_size=12).map(str.strip).filter(bool),
        st.sampled_from(["", ".pdf", ".txt", ".tar", ".md"]),
    ).map("".join),
    min_size=1,
    max_size=10,
)


@settings(max_examples=100, deadline=None)
@given(_NAMES, st.randoms(use_true_random=False))
def test_the_client_finds_each_upload_by_the_id_the_server_made(
    names: list[str], rng: random.Random
) -> None:
    taken: list[str] = []
    for name in names:
        taken.append(file_id(name, taken))
    order = list(range(len(names)))
    rng.shuffle(order)  # whatever order the server lists them in
    matched = match_input_files([taken[i] for i in order], names)
    assert [names[m] if m is not None else None for m in matched] == [names[i] for i in order]
    assert sorted(m for m in matched if m is not None) == list(range(len(names)))


def _urlencoded(api: API, fields: list[tuple[str, str]]) -> tuple[int, Any]:
    from urllib.parse import urlencode

    return api.call(
        "POST",
        "/api/v1/jobs/",
        body=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def test_a_url_encoded_create_job_without_files_is_accepted(server: RunningServer) -> None:
    # what the official Python SDK sends for a job without files; FastAPI reads it as the form
    api = API(server)
    status, created = _urlencoded(api, [("request_data", THREE_NODES)])
    assert status == 200, created
    assert created["input_file_ids"] == [] and api.job(created["id"])["status"] == "COMPLETED"
    for operation, code, data in api.seen:
        assert schema_findings(operation, code, data) == []


def test_a_url_encoded_create_job_is_checked_like_a_multipart_one(server: RunningServer) -> None:
    api = API(server)
    status, answer = _urlencoded(api, [("other", "x")])
    assert (status, answer) == (422, MISSING_REQUEST_DATA)
    bad = json.dumps({"job_nodes": [{**json.loads(THREE_NODES)["job_nodes"][0], "type": 3}]})
    status, answer = _urlencoded(api, [("request_data", bad)])
    assert status == 422
    assert ["body", "request_data", "job_nodes", 0, "type"] in [d["loc"] for d in answer["detail"]]
    assert server.jobs_created == 0
