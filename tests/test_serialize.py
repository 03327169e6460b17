"""request_data: canonical bytes, round trips, numbers as written, DAG sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit import testing
from dagkit.errors import DagError, RequestDataError, SourceError
from dagkit.model.dag import JobDAG
from dagkit.model.nodes import Node
from dagkit.wire.serialize import (
    TemplateJob,
    from_request_data,
    load_dag,
    plan_request_data,
    to_request_data,
)

P = Node("Partitioner", "partition", "vlm", {"is_dynamic": True, "allow_fast": True})
C = Node("Chunker", "chunk", "chunk_by_title", {"max_characters": 2048})
QUICKSTART = (
    '{"job_nodes":[{"name":"Partitioner","type":"partition","subtype":"vlm",'
    '"settings":{"is_dynamic":true,"allow_fast":true}},{"name":"Chunker","type":"chunk",'
    '"subtype":"chunk_by_title","settings":{"max_characters":2048}}]}'
)


def test_canonical_form() -> None:
    assert to_request_data(P >> C) == QUICKSTART


def test_node_key_order_is_fixed_and_id_last() -> None:
    node = Node("Ünïcode ✓", "partition", "vlm", {"b": 1, "a": [1, "x"]}, id="n-1")
    text = to_request_data([node])
    assert text == (
        '{"job_nodes":[{"name":"Ünïcode ✓","type":"partition","subtype":"vlm",'
        '"settings":{"b":1,"a":[1,"x"]},"id":"n-1"}]}'
    )


@settings(max_examples=80)
@given(testing.job_dags())
def test_dag_round_trips_through_request_data(dag: JobDAG) -> None:
    texts = plan_request_data(dag)
    assert texts == plan_request_data(dag), "the same DAG must give the same bytes"
    jobs = dag.plan()
    expected = [JobDAG.chain(*job, skip_preflight=dag.skip_preflight) for job in jobs]
    assert [from_request_data(t) for t in texts] == expected


@settings(max_examples=80)
@given(testing.request_data())
def test_canonical_text_round_trips_byte_for_byte(text: str) -> None:
    assert to_request_data(from_request_data(text)) == text


@settings(max_examples=80)
@given(testing.request_data())
def test_serialized_order_respects_every_edge(text: str) -> None:
    dag = from_request_data(text)
    assert isinstance(dag, JobDAG)
    names = [n["name"] for n in json.loads(text)["job_nodes"]]
    position = {k: i for i, k in enumerate(dag.keys())}
    assert all(position[a] < position[b] for a, b in dag.edges())
    assert [n.name for n in dag.nodes()] == names


_number_texts = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=None)
    .map(lambda d: format(d, "f") if abs(d.adjusted()) < 20 else str(d))
    .filter(lambda s: "." in s or "e" in s.lower()),
    st.sampled_from(["1.50", "1e5", "1E-7", "0.123456789012345678901", "-0.0", "2.0e+10"]),
)


@given(_number_texts)
def test_numbers_survive_byte_for_byte(number: str) -> None:
    text = (
        '{"job_nodes":[{"name":"C","type":"chunk","subtype":"chunk_by_similarity",'
        f'"settings":{{"similarity_threshold":{number}}}}}]}}'
    )
    json.loads(text)  # the generated text is JSON
    assert to_request_data(from_request_data(text)) == text


def test_template_form() -> None:
    job = from_request_data('{"template_id":"hi_res_and_enrichment"}')
    assert job == TemplateJob("hi_res_and_enrichment")
    assert to_request_data(job) == '{"template_id":"hi_res_and_enrichment"}'
    flagged = TemplateJob("t", skip_preflight=True)
    assert from_request_data(to_request_data(flagged)) == flagged


def test_skip_preflight_round_trips_on_dags() -> None:
    dag = JobDAG.chain(P, skip_preflight=False)
    text = to_request_data(dag)
    assert text.endswith(',"skip_preflight":false}')
    assert from_request_data(text) == dag


def test_multi_job_dag_needs_plan_request_data() -> None:
    dag = JobDAG.chain(P)
    dag.add_chain(C, after=0)
    dag.add_chain(Node("Pages", "chunk", "chunk_by_page"), after=0)
    with pytest.raises(DagError, match="plans into 2 jobs"):
        to_request_data(dag)
    assert len(plan_request_data(dag)) == 2


@pytest.mark.parametrize(
    ("text", "code", "pointer"),
    [
        ('{"job_nodes": [}', "DK100", ""),
        ("[1, 2]", "DK202", ""),
        ('{"template_id": "t", "job_nodes": []}', "DK207", ""),
        ("{}", "DK207", ""),
        ('{"job_nodes": {}}', "DK202", "/job_nodes"),
        ('{"job_nodes": [{"name": "x", "type": 3, "subtype": "y"}]}', "DK202", "/job_nodes/0"),
        ('{"template_id": 7}', "DK202", "/template_id"),
        ('{"template_id": "t", "skip_preflight": "yes"}', "DK202", "/skip_preflight"),
        ('{"x": NaN}', "DK100", ""),
    ],
)
def test_unparseable_request_data_is_a_clear_error(text: str, code: str, pointer: str) -> None:
    with pytest.raises(RequestDataError) as info:
        from_request_data(text)
    (f,) = info.value.findings
    assert (f.code, f.pointer) == (code, pointer)


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(RequestDataError) as info:
        from_request_data('{\n  "job_nodes": [\n    {"name": }\n  ]\n}')
    (f,) = info.value.findings
    assert (f.line, f.column) == (3, 14)
    assert "line 3 column 14" in str(info.value)


def test_not_utf8() -> None:
    with pytest.raises(RequestDataError, match="not UTF-8"):
        from_request_data(b'{"template_id": "\xff"}')


def test_load_json_source(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_text(QUICKSTART)
    assert load_dag(path) == P >> C


def test_load_python_source_default_and_named_attribute(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.py"
    path.write_text(
        "from dagkit.model.nodes import Node\n"
        "P = Node('Partitioner', 'partition', 'vlm', {'is_dynamic': True, 'allow_fast': True})\n"
        "dag = P >> Node('Chunker', 'chunk', 'chunk_by_title', {'max_characters': 2048})\n"
        "def only_partition():\n    return [P]\n"
    )
    assert load_dag(str(path)) == P >> C
    assert load_dag(f"{path}:only_partition") == JobDAG.chain(P)
    assert load_dag(f"{path}:P") == JobDAG.chain(P)


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("dag = (\n", "", r"pipeline\.py:1:\d+: syntax error"),
        ("x = 1\nraise RuntimeError('boom')\n", "", r"pipeline\.py:2: RuntimeError: boom"),
        (
            "from dagkit.model.nodes import Node\nother = Node('a', 'b', 'c')\n",
            "",
            "no attribute 'dag'; it defines other",
        ),
        ("dag = 42\n", "", "expected a JobDAG"),
        ("def dag():\n    raise ValueError('nope')\n", "", r"dag\(\) failed: ValueError: nope"),
        ("x = 1\n", ":missing", "no attribute 'missing'"),
    ],
)
def test_bad_python_sources_are_clear_errors(
    tmp_path: Path, content: str, suffix: str, message: str
) -> None:
    path = tmp_path / "pipeline.py"
    path.write_text(content)
    with pytest.raises(SourceError, match=message):
        load_dag(f"{path}{suffix}")


def test_missing_and_bad_json_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        load_dag(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{\n"job_nodes": [,]}')
    with pytest.raises(SourceError, match=r"bad\.json:2:15: request_data is not valid JSON"):
        load_dag(bad)


def test_a_bom_is_skipped_as_validate_skips_it(tmp_path: Path) -> None:
    path = tmp_path / "job.json"
    path.write_bytes(b"\xef\xbb\xbf" + QUICKSTART.encode())
    assert load_dag(path) == P >> C


@pytest.mark.parametrize("settings", ["false", "[]", '""', "0"])
def test_settings_that_are_not_an_object_are_refused_not_dropped(settings: str) -> None:
    text = (
        f'{{"job_nodes":[{{"name":"P","type":"partition","subtype":"vlm","settings":{settings}}}]}}'
    )
    with pytest.raises(RequestDataError, match="settings that are an object"):
        from_request_data(text)
