"""Workflows: DAG ⇄ create/update bodies and answers, and their validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dagkit import Chunk, Embed, JobDAG, Partition, plan_request_data, to_request_data
from dagkit.errors import DagError, RequestDataError
from dagkit.report import render
from dagkit.testing import workflow_bodies
from dagkit.validate.files import FileResult, detect_kind, validate_file
from dagkit.validate.workflow import validate_workflow
from dagkit.wire.serialize import load_dag
from dagkit.wire.workflows import (
    dumps_workflow,
    from_workflow,
    plan_workflows,
    processing_order,
    to_workflow,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "workflows"
NOTEBOOK_BODY = DATA / "workflow-operations-quickstart.create.json"
UNORDERED_ANSWER = DATA / "memory-layer-for-rag.answer.json"
SOURCE = "0c363dec-3c70-45ee-8041-481044a6e1cc"


def quickstart() -> JobDAG:
    dag = load_dag(ROOT / "examples" / "quickstart.py")
    assert isinstance(dag, JobDAG)
    return dag


def errors(findings: list[Any]) -> list[Any]:
    return [f for f in findings if f.is_error]


# --- the model -----------------------------------------------------------------------------------


def test_workflow_nodes_are_the_job_nodes_of_the_same_dag() -> None:
    dag = quickstart()
    body = to_workflow(dag, name="docs", source_id=SOURCE, schedule="daily", reprocess_all=True)
    assert list(body) == [
        "name",
        "workflow_type",
        "source_id",
        "schedule",
        "reprocess_all",
        "workflow_nodes",
    ]
    assert body["workflow_type"] == "custom"
    job_nodes = json.loads(to_request_data(dag))["job_nodes"]
    assert body["workflow_nodes"] == job_nodes
    # the same serializer: the node text inside the body is the node text inside request_data
    assert to_request_data(dag)[len('{"job_nodes":') : -1] in dumps_workflow(body)


def test_fields_left_none_are_not_sent_and_name_none_makes_an_update_body() -> None:
    body = to_workflow(quickstart(), name=None)
    assert list(body) == ["workflow_type", "workflow_nodes"]


def test_a_branching_dag_is_refused_and_planned_into_one_workflow_per_path() -> None:
    dag = load_dag(ROOT / "examples" / "compare_chunkers.py")
    assert isinstance(dag, JobDAG)
    with pytest.raises(DagError, match=r"branches into 2 paths.*plan_workflows"):
        to_workflow(dag, name="compare")
    bodies = plan_workflows(dag, name="compare", destination_id="d")
    assert [b["name"] for b in bodies] == ["compare-1", "compare-2"]
    assert [b["workflow_nodes"] for b in bodies] == [
        json.loads(text)["job_nodes"] for text in plan_request_data(dag)
    ]
    assert all(b["destination_id"] == "d" for b in bodies)
    one = plan_workflows(quickstart(), name="single")
    assert [b["name"] for b in one] == ["single"]


def test_a_schedule_the_platform_does_not_take_is_refused() -> None:
    with pytest.raises(DagError, match="every hour"):
        to_workflow(quickstart(), name="x", schedule="hourly")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow_bodies())
def test_bodies_round_trip_through_from_workflow(body: dict[str, Any]) -> None:
    read = from_workflow(body)
    assert read.body() == body
    text = dumps_workflow(body)
    again = from_workflow(text)
    assert dumps_workflow(again.body()) == text  # byte for byte
    assert again.dag == read.dag
    assert again.name == body["name"] and again.schedule == body.get("schedule")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow_bodies())
def test_generated_bodies_validate_without_errors(body: dict[str, Any]) -> None:
    assert errors(validate_workflow(dumps_workflow(body))) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow_bodies(), st.randoms(use_true_random=False))
def test_an_answer_listing_nodes_in_any_order_reads_back_as_the_dag(
    body: dict[str, Any], random: Any
) -> None:
    """The platform lists an answer's nodes in any order; dagkit reads them back by type.
    Enrichments keep the order the answer gives them (nothing says theirs)."""
    shuffled = list(body["workflow_nodes"])
    random.shuffle(shuffled)
    answer = {
        "id": "w",
        "name": body["name"],
        "sources": [body["source_id"]] if "source_id" in body else [],
        "destinations": [],
        "status": "active",
        "created_at": "2025-01-01T00:00:00Z",
        "workflow_nodes": shuffled,
    }
    read = from_workflow(answer)
    sent = from_workflow(body)
    assert read.dag is not None and sent.dag is not None
    got, want = read.dag.nodes(), sent.dag.nodes()
    assert [n.type for n in got] == [n.type for n in want]
    assert [n for n in got if n.type != "prompter"] == [n for n in want if n.type != "prompter"]
    prompters = [n for n in shuffled if n["type"] == "prompter"]
    assert [n.to_dict() for n in got if n.type == "prompter"] == prompters
    assert read.source_id == body.get("source_id")
    assert errors(validate_workflow(dumps_workflow(answer))) == []


def test_an_answer_is_read_back_in_processing_order() -> None:
    answer = json.loads(UNORDERED_ANSWER.read_text())
    assert [n["type"] for n in answer["workflow_nodes"]] == [
        "prompter",
        "prompter",
        "embed",
        "partition",
        "chunk",
    ]
    read = from_workflow(answer)
    assert read.dag is not None
    nodes = read.dag.nodes()
    assert [n.type for n in nodes] == ["partition", "prompter", "prompter", "chunk", "embed"]
    assert [n.name for n in nodes[1:3]] == ["Table summarizer", "Image summarizer"]
    assert read.id == answer["id"] and read.status == "active"
    assert read.source_id == answer["sources"][0]
    assert read.destination_id == answer["destinations"][0]
    assert read.workflow_type == "custom" and read.reprocess_all is False
    assert read.crontab == () and read.schedule is None


def test_a_body_keeps_its_order_and_an_answer_schedule_maps_back() -> None:
    body = to_workflow(quickstart(), name="q", source_id=SOURCE, schedule="weekly")
    answer = {
        "id": "w",
        "name": "q",
        "sources": [SOURCE],
        "destinations": [],
        "status": "active",
        "created_at": "2025-01-01T00:00:00Z",
        "workflow_nodes": list(reversed(body["workflow_nodes"])),
        "schedule": {"crontab_entries": [{"cron_expression": "0 0 * * 0"}]},
    }
    read = from_workflow(answer)
    assert read.schedule == "weekly" and read.crontab == ("0 0 * * 0",)
    assert read.dag == quickstart()


def test_processing_order_keeps_ties_and_puts_unknown_types_last() -> None:
    nodes = [{"type": "mystery"}, {"type": "prompter"}, {"type": "partition"}, {"type": "prompter"}]
    assert processing_order(nodes) == [2, 1, 3, 0]


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ("[]", ""),
        ('{"name": "x", "workflow_nodes": {}}', "/workflow_nodes"),
        ('{"name": "x", "workflow_nodes": [{"name": "P", "type": 3}]}', "/workflow_nodes/0"),
    ],
)
def test_from_workflow_says_where_a_document_cannot_be_read(document: str, pointer: str) -> None:
    with pytest.raises(RequestDataError) as caught:
        from_workflow(document)
    assert caught.value.findings[0].pointer == pointer


def test_a_workflow_without_nodes_reads_as_no_dag() -> None:
    read = from_workflow({"name": "t", "workflow_type": "custom", "template_id": "hi_res"})
    assert read.dag is None and read.template_id == "hi_res"
    with pytest.raises(DagError):
        read.body()


# --- validation ----------------------------------------------------------------------------------


def swapped(path: Path, index: int) -> str:
    doc = json.loads(path.read_text())
    node = doc["workflow_nodes"][index]
    node["type"], node["subtype"] = node["subtype"], node["type"]
    return json.dumps(doc, indent=4)


def test_a_notebook_body_with_swapped_type_and_subtype_fails_at_that_node() -> None:
    text = swapped(NOTEBOOK_BODY, 4)
    found = [f for f in validate_workflow(text, file="nb.json") if f.code == "DK203"]
    assert len(found) == 1
    f = found[0]
    assert f.pointer == "/workflow_nodes/4/type"
    assert f.node is not None and (f.node.index, f.node.name) == (4, "Chunker")
    line = text.splitlines()[f.line - 1]  # type: ignore[operator]
    assert line[f.column - 1 :].startswith('"chunk_by_title"')  # type: ignore[operator]
    assert "workflow_nodes[4].type" in f.message and "job_nodes" not in f.message
    report = render([FileResult("nb.json", "workflow", [f])], "text")
    assert f"nb.json:{f.line}:{f.column}: DK203 error" in report
    assert "node:" not in report  # the message already names the node


def test_the_notebook_body_has_no_workflow_or_shape_error() -> None:
    """Everything but node settings: the workflow schema, node shapes, order and rules."""
    found = validate_workflow(NOTEBOOK_BODY.read_bytes())
    assert not [f for f in errors(found) if "/settings" not in f.pointer]


def test_the_notebook_body_validates_with_no_error() -> None:
    assert errors(validate_workflow(NOTEBOOK_BODY.read_bytes())) == []


@pytest.mark.parametrize("path", sorted(DATA.glob("*.answer.json")), ids=lambda p: p.name)
def test_the_platforms_saved_workflow_answers_validate_with_no_error(path: Path) -> None:
    result = validate_file(str(path))
    assert result.kind == "workflow"
    assert errors(result.findings) == []
    read = from_workflow(path.read_bytes())
    assert read.dag is not None and not errors(read.dag.check())  # in processing order


def test_an_answer_is_judged_in_processing_order_and_reported_where_it_is() -> None:
    answer = json.loads(UNORDERED_ANSWER.read_text())
    found = validate_workflow(json.dumps(answer, indent=2))
    assert not [f for f in found if f.code in ("DK303", "DK304", "DK305")]
    broken = json.loads(UNORDERED_ANSWER.read_text())
    broken["workflow_nodes"][4]["settings"]["max_characters"] = -5  # the chunker, listed last
    found = [f for f in validate_workflow(json.dumps(broken)) if f.code == "DK204"]
    assert [f.pointer for f in found] == ["/workflow_nodes/4/settings/max_characters"]
    assert found[0].node is not None and found[0].node.index == 4


def rule_codes(doc: dict[str, Any], operation: str | None = None) -> list[str]:
    return [f.code for f in validate_workflow(json.dumps(doc), operation=operation)]


def test_workflow_rules() -> None:
    nodes = to_workflow(quickstart(), name=None)["workflow_nodes"]
    custom = {"name": "w", "workflow_type": "custom"}
    assert "DK600" in rule_codes(custom)
    assert "DK600" not in rule_codes({**custom, "template_id": "t"})
    assert "DK600" not in rule_codes({"name": "w"}, "update_workflow")
    assert "DK601" in rule_codes({**custom, "template_id": "t", "workflow_nodes": nodes})
    assert "DK602" in rule_codes({**custom, "workflow_type": "basic", "workflow_nodes": nodes})
    scheduled = {**custom, "workflow_nodes": nodes, "schedule": "daily"}
    assert "DK604" in rule_codes(scheduled)
    assert rule_codes({**scheduled, "source_id": SOURCE}) == []
    assert "DK201" in rule_codes({"workflow_nodes": nodes})  # a create body needs its name
    assert rule_codes({"workflow_nodes": nodes}, "update_workflow") == []


def test_an_empty_node_list_and_a_bad_schedule_are_errors_at_their_pointers() -> None:
    found = validate_workflow(
        '{"name": "w", "workflow_type": "custom", "workflow_nodes": [], "schedule": "hourly"}'
    )
    assert {(f.code, f.pointer) for f in errors(found)} >= {
        ("DK308", "/workflow_nodes"),
        ("DK203", "/schedule"),
    }
    assert all("job_nodes" not in f.message for f in found)


def test_syntax_errors_and_duplicate_keys_have_positions() -> None:
    [bad] = validate_workflow('{"name": "w",\n "workflow_type": }')
    assert (bad.code, bad.line) == ("DK100", 2)
    found = validate_workflow('{"name": "w", "name": "v", "workflow_type": "custom"}')
    assert "DK101" in [f.code for f in found]


# --- kind detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        b'{"name": "w", "workflow_type": "custom", "template_id": "t"}',
        b'{"workflow_nodes": []}',
        UNORDERED_ANSWER.read_bytes(),
    ],
)
def test_workflow_documents_are_told_by_their_content(text: bytes) -> None:
    assert detect_kind(text, "x.json") == "workflow"


def test_a_422_naming_workflow_nodes_is_a_response() -> None:
    text = b'{"detail": [{"loc": ["body", "workflow_nodes", 0], "msg": "x", "type": "y"}]}'
    assert detect_kind(text, "x.json") == "response"


def test_validate_file_checks_workflows_and_kind_forces_it(tmp_path: Path) -> None:
    path = tmp_path / "deploy.json"
    path.write_text(swapped(NOTEBOOK_BODY, 0))
    result = validate_file(str(path))
    assert result.kind == "workflow"
    assert any(f.pointer == "/workflow_nodes/0/type" for f in result.findings)
    forced = tmp_path / "odd.json"
    forced.write_text('{"name": "w"}')
    assert validate_file(str(forced)).kind == "request-data"
    result = validate_file(str(forced), kind="workflow")
    assert [f.code for f in result.findings] == ["DK201"]  # workflow_type is missing
    assert validate_file(str(forced), kind="workflow", operation="update_workflow").findings == []


def test_a_workflow_built_in_python_validates() -> None:
    dag = (
        Partition.hi_res()
        >> Chunk.by_title(max_characters=1024)
        >> Embed.bedrock("amazon.titan-embed-text-v2:0")
    )
    body = to_workflow(dag, name="py", source_id=SOURCE, destination_id="d", schedule="daily")
    assert errors(validate_workflow(dumps_workflow(body))) == []


# --- captured workflow requests ------------------------------------------------------------------

VALID = ROOT / "tests" / "data" / "valid"


def test_captured_sdk_workflow_requests_are_judged_as_workflows(tmp_path: Path) -> None:
    for name in ("create-workflow.sdk.http", "run-workflow.sdk.http"):
        result = validate_file(str(VALID / name))
        assert (result.kind, result.findings) == ("http", []), name
    capture = (VALID / "create-workflow.sdk.http").read_bytes()
    head, _, body = capture.partition(b"\r\n\r\n")
    broken = body.replace(b'"type":"chunk"', b'"type":"chunk_by_title"', 1)
    head = head.replace(b"Content-Length: 474", b"Content-Length: %d" % len(broken))
    path = tmp_path / "bad.http"
    path.write_bytes(head + b"\r\n\r\n" + broken)
    [swap] = [f for f in validate_file(str(path)).findings if f.code == "DK203"]
    assert (swap.pointer, swap.line) == ("/workflow_nodes/1/type", head.count(b"\n") + 3)
    run = tmp_path / "run.http"
    run.write_bytes(b"POST /api/v1/workflows/x/run HTTP/1.1\r\nAccept: application/json\r\n\r\n")
    assert validate_file(str(run)).findings == []
    job = tmp_path / "job.http"
    job.write_bytes(b"POST /api/v1/jobs/ HTTP/1.1\r\nAccept: application/json\r\n\r\n")
    assert [f.code for f in validate_file(str(job)).findings] == ["DK400"]  # create-job as before


def test_an_update_body_reads_back_as_an_update_body() -> None:
    body = to_workflow(quickstart(), name=None, schedule="daily", source_id=SOURCE)
    assert "name" not in from_workflow(body).body()
