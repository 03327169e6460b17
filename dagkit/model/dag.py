"""``JobDAG``: typed nodes in a ``networkx.DiGraph``, the rules they must follow, and the jobs
they plan into.

:class:`Node`, the user-facing node, lives here because its ``>>`` builds a :class:`JobDAG`;
the rules and the DAG read only what :class:`dagkit.model.base.NodeBase` holds.

The jobs API takes one ordered ``job_nodes`` list per job: a chain. A DAG that is a single chain
becomes one job. A DAG that branches after a shared prefix (a partitioner feeding two chunkers,
to compare them) becomes one job per root-to-leaf path. Anything else (two roots, branches that
merge, cycles) cannot be sent and :meth:`JobDAG.check` says why.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from dagkit.errors import DagError
from dagkit.findings import DocPath, Finding, NodeRef, finding
from dagkit.model import rules
from dagkit.model.base import NodeBase

if TYPE_CHECKING:
    import networkx as nx

GraphFormat = Literal["text", "mermaid", "dot"]


class Node(NodeBase):
    """One entry of ``job_nodes``. Two nodes are equal when all their fields are.

    ``a >> b`` chains nodes (or DAGs) into a :class:`JobDAG`. The typed constructors in
    :mod:`dagkit.model.nodes` (``Partition.fast()``, ``Chunk.by_title()``...) make these.
    """

    def __rshift__(self, other: Node | JobDAG) -> JobDAG:
        return JobDAG.chain(self) >> other


class JobDAG:
    """A DAG of job nodes. Keys are small ints handed out in insertion order."""

    def __init__(self, *, skip_preflight: bool | None = None) -> None:
        import networkx as nx

        self._graph: nx.DiGraph[int] = nx.DiGraph()
        self._next_key = 0
        #: Sent as request_data's ``skip_preflight`` when not None (a newer API option).
        self.skip_preflight = skip_preflight

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def chain(cls, *nodes: Node, skip_preflight: bool | None = None) -> JobDAG:
        """A DAG of the given nodes, each feeding the next."""
        dag = cls(skip_preflight=skip_preflight)
        dag.add_chain(*nodes)
        return dag

    def add(self, node: Node) -> int:
        """Add a node (unconnected) and return its key."""
        if not isinstance(node, Node):
            raise DagError(f"a JobDAG holds Node objects, not {type(node).__name__}")
        key = self._next_key
        self._next_key += 1
        self._graph.add_node(key, node=node)
        return key

    def connect(self, before: int, after: int) -> None:
        """Make node ``before`` feed node ``after``."""
        for key in (before, after):
            if key not in self._graph:
                raise DagError(
                    f"no node with key {key} in this DAG (keys: {self.keys_unordered()})"
                )
        self._graph.add_edge(before, after)

    def add_chain(self, *nodes: Node, after: int | None = None) -> list[int]:
        """Add nodes in a chain, the first fed by ``after`` when given; returns their keys."""
        keys = [self.add(node) for node in nodes]
        links = ([after] if after is not None else []) + keys
        for a, b in itertools.pairwise(links):
            self.connect(a, b)
        return keys

    def __rshift__(self, other: Node | JobDAG) -> JobDAG:
        """``dag >> node`` or ``dag >> dag``: a new DAG with ``other`` after this DAG's one leaf."""
        result = self.copy()
        leaves = result.leaves()
        if len(leaves) != 1:
            names = ", ".join(result.node(k).name for k in leaves) or "none"
            raise DagError(
                f"'>>' needs a DAG with exactly one leaf to attach to; this one has {names}. "
                "Use add_chain(..., after=key) to say where the new nodes go"
            )
        if isinstance(other, Node):
            result.add_chain(other, after=leaves[0])
        elif isinstance(other, JobDAG):
            mapping = {k: result.add(other.node(k)) for k in other.keys_unordered()}
            for a, b in other._graph.edges:
                result.connect(mapping[a], mapping[b])
            for root in other.roots():
                result.connect(leaves[0], mapping[root])
        else:
            return NotImplemented
        return result

    def copy(self) -> JobDAG:
        dag = JobDAG(skip_preflight=self.skip_preflight)
        dag._graph = self._graph.copy()
        dag._next_key = self._next_key
        return dag

    # -- reading ----------------------------------------------------------------------------

    @property
    def graph(self) -> nx.DiGraph[int]:
        """A read-only view of the underlying graph (node attribute ``node`` holds the Node)."""
        view: nx.DiGraph[int] = self._graph.copy(as_view=True)
        return view

    def node(self, key: int) -> Node:
        try:
            node: Node = self._graph.nodes[key]["node"]
        except KeyError:
            raise DagError(f"no node with key {key} in this DAG") from None
        return node

    def keys_unordered(self) -> list[int]:
        return sorted(self._graph.nodes)

    def keys(self) -> list[int]:
        """Keys in processing order: parents before children, ties broken by insertion order."""
        import networkx as nx

        try:
            return list(nx.lexicographical_topological_sort(self._graph, key=lambda k: k))
        except nx.NetworkXUnfeasible:
            raise DagError(f"the DAG has a cycle: {self._cycle_text()}") from None

    def nodes(self) -> list[Node]:
        """Nodes in processing order."""
        return [self.node(k) for k in self.keys()]

    def edges(self) -> list[tuple[int, int]]:
        return sorted(self._graph.edges)

    def roots(self) -> list[int]:
        return [k for k in self.keys_unordered() if self._graph.in_degree(k) == 0]

    def leaves(self) -> list[int]:
        return [k for k in self.keys_unordered() if self._graph.out_degree(k) == 0]

    def __len__(self) -> int:
        return self._graph.number_of_nodes()

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes())

    def _shape(self) -> tuple[list[Node], list[tuple[int, int]], bool | None]:
        """What equality compares: nodes by position in processing order, and edges by position."""
        try:
            order = self.keys()
        except DagError:
            order = self.keys_unordered()
        position = {k: i for i, k in enumerate(order)}
        edges = sorted((position[a], position[b]) for a, b in self._graph.edges)
        return [self.node(k) for k in order], edges, self.skip_preflight

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JobDAG):
            return NotImplemented
        return self._shape() == other._shape()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        names = " -> ".join(n.name for n in self._shape()[0])
        return f"<JobDAG {len(self)} nodes: {names}>"

    # -- rules and plans --------------------------------------------------------------------

    def check(self) -> list[Finding]:
        """Every finding for this DAG: its shape, then each planned job's schema and rules.

        Findings about a node carry its index and name within its job and a JSON Pointer into
        that job's request_data.
        """
        shape = self._shape_findings()
        if any(f.is_error for f in shape):
            return shape
        found: dict[tuple[str, DocPath, str], Finding] = {}
        for job in self._key_paths():
            doc = {"job_nodes": [self.node(k).to_dict() for k in job]}
            for f in rules.check_document(doc):
                found.setdefault((f.code, f.path, f.message), f)
        return shape + list(found.values())

    def plan(self) -> list[list[Node]]:
        """The jobs this DAG becomes: one node list per root-to-leaf path, in a fixed order.

        Raises :class:`DagError` when the shape cannot be planned (cycle, pieces, merges).
        """
        errors = [f for f in self._shape_findings() if f.is_error]
        if errors:
            raise DagError("; ".join(f.message for f in errors))
        return [[self.node(k) for k in path] for path in self._key_paths()]

    def _key_paths(self) -> list[list[int]]:
        paths: list[list[int]] = []

        def walk(key: int, prefix: list[int]) -> None:
            path = [*prefix, key]
            children = sorted(self._graph.successors(key))
            if not children:
                paths.append(path)
            for child in children:
                walk(child, path)

        for root in self.roots():
            walk(root, [])
        return paths

    def _ref(self, key: int) -> NodeRef:
        try:
            index = self.keys().index(key)
        except DagError:
            index = self.keys_unordered().index(key)
        return NodeRef(index, self.node(key).name)

    def _cycle_text(self) -> str:
        import networkx as nx

        cycle = nx.find_cycle(self._graph)
        names = [self.node(a).name for a, _ in cycle] + [self.node(cycle[0][0]).name]
        return " -> ".join(names)

    def _shape_findings(self) -> list[Finding]:
        import networkx as nx

        g = self._graph
        if len(g) == 0:
            return [finding("DK308", "the DAG has no nodes", hint="add a partition node first")]
        out: list[Finding] = []
        for component in nx.strongly_connected_components(g):
            members = sorted(component)
            if len(members) > 1 or g.has_edge(members[0], members[0]):
                sub = g.subgraph(members)
                cycle = nx.find_cycle(sub)
                names = [self.node(a).name for a, _ in cycle] + [self.node(cycle[0][0]).name]
                out.append(
                    finding(
                        "DK300",
                        "the DAG has a cycle: " + " -> ".join(names),
                        hint="jobs run nodes in one direction; remove the edge back to "
                        f'"{names[0]}"',
                        node=self._ref(members[0]),
                    )
                )
        pieces = sorted(sorted(c) for c in nx.weakly_connected_components(g))
        if len(pieces) > 1:
            described = "; ".join(", ".join(self.node(k).name for k in part) for part in pieces)
            out.append(
                finding(
                    "DK301",
                    f"the DAG falls apart into {len(pieces)} unconnected pieces: {described}",
                    hint="connect the pieces, or build one JobDAG per piece",
                )
            )
        if out:
            return out
        roots = self.roots()
        if len(roots) > 1:
            starts = ", ".join(f'"{self.node(k).name}"' for k in roots)
            out.append(
                finding(
                    "DK309",
                    f"the DAG starts at {len(roots)} nodes ({starts}); every job starts at one",
                    hint="give the branches one shared partitioner, or build separate DAGs",
                    node=self._ref(roots[1]),
                )
            )
        for key in self.keys_unordered():
            parents = sorted(g.predecessors(key))
            if len(parents) > 1:
                fed_by = ", ".join(f'"{self.node(k).name}"' for k in parents)
                out.append(
                    finding(
                        "DK309",
                        f'"{self.node(key).name}" is fed by {len(parents)} nodes ({fed_by}); '
                        "branches cannot merge, each job is one chain",
                        hint="duplicate the node into each branch instead of merging",
                        node=self._ref(key),
                    )
                )
        return out

    # -- drawing ----------------------------------------------------------------------------

    def draw(self, fmt: GraphFormat = "text") -> str:
        """The DAG as plain text, a Mermaid flowchart, or Graphviz dot."""
        try:
            order = self.keys()
        except DagError:
            order = self.keys_unordered()
        position = {k: i for i, k in enumerate(order)}
        if fmt == "mermaid":
            lines = ["flowchart LR"]
            lines += [
                f'  n{position[k]}["{_mermaid_escape(_label(self.node(k), "<br/>"))}"]'
                for k in order
            ]
            lines += [f"  n{position[a]} --> n{position[b]}" for a, b in self.edges()]
            return "\n".join(lines) + "\n"
        if fmt == "dot":
            lines = ["digraph job {", "  rankdir=LR;", "  node [shape=box];"]
            lines += [
                f"  n{position[k]} [label={_dot_quote(_label(self.node(k), chr(10)))}];"
                for k in order
            ]
            lines += [f"  n{position[a]} -> n{position[b]};" for a, b in self.edges()]
            return "\n".join(lines) + "\n}\n"
        if fmt == "text":
            return self._draw_text(order)
        raise DagError(f"unknown graph format {fmt!r}; use text, mermaid or dot")

    def _draw_text(self, order: Sequence[int]) -> str:
        lines: list[str] = []
        drawn: set[int] = set()

        def walk(key: int, indent: str, last: bool, top: bool) -> None:
            branch = "" if top else ("└── " if last else "├── ")
            mark = " (again)" if key in drawn else ""
            lines.append(f"{indent}{branch}{_label(self.node(key), ' ')}{mark}")
            if key in drawn:
                return
            drawn.add(key)
            children = sorted(self._graph.successors(key))
            child_indent = indent if top else indent + ("    " if last else "│   ")
            for i, child in enumerate(children):
                walk(child, child_indent, i == len(children) - 1, False)

        for root in [k for k in order if self._graph.in_degree(k) == 0] or list(order[:1]):
            walk(root, "", True, True)
        return "\n".join(lines) + "\n"


def _label(node: Node, sep: str) -> str:
    return f"{node.name}{sep}({node.type}/{node.subtype})"


def _mermaid_escape(text: str) -> str:
    return text.replace('"', "#quot;")


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def as_dag(value: Any) -> JobDAG:
    """A JobDAG from a JobDAG, a Node, or a sequence of Nodes (a chain)."""
    if isinstance(value, JobDAG):
        return value
    if isinstance(value, Node):
        return JobDAG.chain(value)
    if isinstance(value, list | tuple) and all(isinstance(n, Node) for n in value):
        return JobDAG.chain(*value)
    raise DagError(f"expected a JobDAG, a Node or a list of Nodes, not {type(value).__name__}")
