"""Generated valid jobs with exactly one rule broken are reported with the right code and node."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dagkit import Embed, testing
from dagkit.findings import Finding
from dagkit.model.dag import JobDAG
from dagkit.model.nodes import Node


def errors(dag: JobDAG) -> list[Finding]:
    return [f for f in dag.check() if f.is_error]


@settings(max_examples=60)
@given(testing.chains())
def test_generated_chains_have_no_error(chain: list[Node]) -> None:
    assert errors(JobDAG.chain(*chain)) == []


@settings(max_examples=60)
@given(testing.chains(), st.data())
def test_a_back_edge_is_a_cycle_through_its_nodes(chain: list[Node], data: st.DataObject) -> None:
    assume(len(chain) >= 2)
    dag = JobDAG.chain(*chain)
    keys = dag.keys()
    late = data.draw(st.integers(1, len(keys) - 1))
    early = data.draw(st.integers(0, late))
    dag.connect(keys[late], keys[early])
    (found,) = errors(dag)
    assert found.code == "DK300"
    assert found.node is not None and found.node.name in {n.name for n in chain[early : late + 1]}
    assert chain[early].name in found.message and chain[late].name in found.message


@settings(max_examples=60)
@given(testing.chains())
def test_an_embedder_before_the_chunker_is_named(chain: list[Node]) -> None:
    chunk = next((i for i, n in enumerate(chain) if n.type == "chunk"), None)
    assume(chunk is not None)
    assert chunk is not None
    early = Embed.azure_openai("text-embedding-3-small", name="Early embedder")
    broken = [*chain[:chunk], early, *chain[chunk:]]
    found = JobDAG.chain(*broken).check()
    assert errors(JobDAG.chain(*broken)), "an embedder before the chunker cannot run"
    assert any(
        f.code == "DK305"
        and f.node is not None
        and (f.node.index, f.node.name) == (chunk, early.name)
        for f in found
    ), found


@settings(max_examples=60)
@given(testing.chains())
def test_a_subtype_outside_the_closed_set_is_an_enum_error(chain: list[Node]) -> None:
    broken = [chain[0].replace(subtype="magic"), *chain[1:]]
    found = errors(JobDAG.chain(*broken))
    assert any(
        f.code == "DK203"
        and f.pointer == "/job_nodes/0/subtype"
        and f.node is not None
        and f.node.index == 0
        for f in found
    ), found


@settings(max_examples=60)
@given(testing.chains(), st.sampled_from([0, -1, -2048]))
def test_an_out_of_range_chunk_size_is_named(chain: list[Node], size: int) -> None:
    chunk = next((i for i, n in enumerate(chain) if n.type == "chunk"), None)
    assume(chunk is not None)
    assert chunk is not None
    node = chain[chunk]
    broken = list(chain)
    broken[chunk] = node.replace(settings={**node.settings, "max_characters": size})
    found = errors(JobDAG.chain(*broken))
    assert any(
        f.code == "DK204"
        and f.pointer == f"/job_nodes/{chunk}/settings/max_characters"
        and f.node is not None
        and f.node.name == node.name
        for f in found
    ), found
