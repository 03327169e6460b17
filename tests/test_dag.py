"""JobDAG: building, processing order, plans, shape findings, drawing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dagkit.errors import DagError
from dagkit.model.dag import JobDAG, as_dag
from dagkit.model.nodes import Node

P = Node("Partitioner", "partition", "vlm", {"is_dynamic": True, "allow_fast": True})
C = Node("Chunker", "chunk", "chunk_by_title", {"max_characters": 2048})
C2 = Node("Pages", "chunk", "chunk_by_page", {"max_characters": 1000})
E = Node("Embedder", "embed", "azure_openai", {"model_name": "text-embedding-3-large"})


def codes(dag: JobDAG) -> list[str]:
    return [f.code for f in dag.check()]


def test_rshift_chains_nodes_in_order() -> None:
    dag = P >> C >> E
    assert isinstance(dag, JobDAG)
    assert dag.nodes() == [P, C, E]
    assert dag.plan() == [[P, C, E]]
    assert dag.check() == []


def test_rshift_joins_two_dags_and_leaves_operands_unchanged() -> None:
    left, right = JobDAG.chain(P), JobDAG.chain(C, E)
    joined = left >> right
    assert joined.nodes() == [P, C, E]
    assert len(left) == 1 and len(right) == 2


def test_node_rshift_dag_prepends() -> None:
    assert (P >> JobDAG.chain(C, E)).nodes() == [P, C, E]


def test_rshift_refuses_a_dag_with_several_leaves() -> None:
    dag = JobDAG.chain(P)
    dag.add_chain(C, after=0)
    dag.add_chain(C2, after=0)
    with pytest.raises(DagError, match="exactly one leaf"):
        dag >> E


def test_connect_unknown_key_is_a_clear_error() -> None:
    dag = JobDAG.chain(P)
    with pytest.raises(DagError, match="no node with key 7"):
        dag.connect(0, 7)


def test_add_rejects_non_nodes() -> None:
    with pytest.raises(DagError, match="Node objects"):
        JobDAG().add({"name": "x"})  # type: ignore[arg-type]


def test_branching_dag_plans_one_job_per_path_in_insertion_order() -> None:
    dag = JobDAG()
    (p,) = dag.add_chain(P)
    dag.add_chain(C, E, after=p)
    dag.add_chain(C2, after=p)
    assert dag.plan() == [[P, C, E], [P, C2]]
    assert [n.name for n in dag.nodes()] == ["Partitioner", "Chunker", "Embedder", "Pages"]
    assert dag.check() == []


def test_merging_branches_cannot_be_planned() -> None:
    dag = JobDAG()
    p, c, c2, e = (dag.add(n) for n in (P, C, C2, E))
    for a, b in [(p, c), (p, c2), (c, e), (c2, e)]:
        dag.connect(a, b)
    found = dag.check()
    assert [f.code for f in found] == ["DK309"]
    assert found[0].node is not None and found[0].node.name == "Embedder"
    with pytest.raises(DagError, match="branches cannot merge"):
        dag.plan()


def test_two_roots_cannot_be_planned() -> None:
    dag = JobDAG()
    a, b, c = dag.add(P), dag.add(Node("P2", "partition", "vlm", {})), dag.add(C)
    dag.connect(a, c)
    dag.connect(b, c)
    assert "DK309" in codes(dag)


def test_cycle_is_named() -> None:
    dag = JobDAG.chain(P, C, E)
    dag.connect(2, 1)
    found = dag.check()
    assert [f.code for f in found] == ["DK300"]
    assert "Chunker -> Embedder -> Chunker" in found[0].message
    with pytest.raises(DagError, match="cycle"):
        dag.keys()


def test_self_loop_is_a_cycle() -> None:
    dag = JobDAG.chain(P)
    dag.connect(0, 0)
    assert codes(dag) == ["DK300"]


def test_disconnected_pieces_are_named() -> None:
    dag = JobDAG.chain(P, C)
    dag.add(E)
    found = dag.check()
    assert [f.code for f in found] == ["DK301"]
    assert "Partitioner, Chunker; Embedder" in found[0].message


def test_empty_dag() -> None:
    assert codes(JobDAG()) == ["DK308"]


def test_equality_ignores_keys_but_not_order_or_settings() -> None:
    a = JobDAG.chain(P, C)
    b = JobDAG()
    kc = b.add(C)
    kp = b.add(P)
    b.connect(kp, kc)
    assert a == b
    assert a != JobDAG.chain(P, C2)
    assert a != JobDAG.chain(P, C, skip_preflight=True)


def test_as_dag_accepts_node_list_and_rejects_others() -> None:
    assert as_dag([P, C]) == JobDAG.chain(P, C)
    assert as_dag(P) == JobDAG.chain(P)
    with pytest.raises(DagError, match="expected a JobDAG"):
        as_dag("partition")


def test_draw_formats() -> None:
    dag = JobDAG()
    (p,) = dag.add_chain(P)
    dag.add_chain(C, after=p)
    dag.add_chain(Node('Say "hi"', "chunk", "chunk_by_page"), after=p)
    text = dag.draw("text")
    assert text.splitlines() == [
        "Partitioner (partition/vlm)",
        "├── Chunker (chunk/chunk_by_title)",
        '└── Say "hi" (chunk/chunk_by_page)',
    ]
    mermaid = dag.draw("mermaid")
    assert (
        mermaid.startswith("flowchart LR\n") and "n0 --> n1" in mermaid and "n0 --> n2" in mermaid
    )
    assert "#quot;hi#quot;" in mermaid
    dot = dag.draw("dot")
    assert dot.startswith("digraph job {") and '"Say \\"hi\\"\\n(chunk/chunk_by_page)"' in dot
    with pytest.raises(ValueError, match="unknown graph format"):
        dag.draw("svg")  # type: ignore[arg-type]


def test_drawing_a_cyclic_dag_terminates() -> None:
    dag = JobDAG.chain(P, C)
    dag.connect(1, 0)
    assert "(again)" in dag.draw("text")


@settings(max_examples=60)
@given(st.data())
def test_processing_order_respects_every_edge(data: st.DataObject) -> None:
    """Random trees of chains: every edge goes forward in nodes() and in every planned job."""
    dag = JobDAG()
    count = data.draw(st.integers(1, 12))
    for i in range(count):
        key = dag.add(Node(f"n{i}", "chunk", "chunk_by_page"))
        if i:
            dag.connect(data.draw(st.integers(0, i - 1)), key)
    order = {k: i for i, k in enumerate(dag.keys())}
    assert all(order[a] < order[b] for a, b in dag.edges())
    jobs = dag.plan()
    assert len(jobs) == len(dag.leaves())
    assert all(job[0].name == "n0" for job in jobs)


def test_node_repr_hides_provider_keys() -> None:
    node = Node("Chunker", "chunk", "chunk_by_title", {"unstructured_api_key": "sekrit-123"})
    assert "sekrit-123" not in repr(node)
    assert "sekrit-123" not in repr(JobDAG.chain(node).plan())
