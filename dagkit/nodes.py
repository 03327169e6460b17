"""The node catalogue: every node type and subtype the jobs API documents, as data, and small
constructors for every kind of node.

A :class:`Node` is plain data: ``name``, ``type``, ``subtype``, ``settings`` and an optional
``id``, exactly the object that goes into ``job_nodes``. ``a >> b`` chains nodes into a
:class:`dagkit.dag.JobDAG`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagkit.dag import JobDAG


@dataclass(frozen=True, eq=True)
class Node:
    """One entry of ``job_nodes``. Two nodes are equal when all their fields are."""

    name: str
    type: str
    subtype: str
    settings: dict[str, Any] = field(default_factory=dict)
    id: str | None = None

    __hash__ = None  # type: ignore[assignment]  # settings is a dict: nodes are values, not keys

    def __rshift__(self, other: Node | JobDAG) -> JobDAG:
        from dagkit.dag import JobDAG

        return JobDAG.chain(self) >> other

    def __rrshift__(self, other: Node) -> JobDAG:
        from dagkit.dag import JobDAG

        return JobDAG.chain(other, self)

    def to_dict(self) -> dict[str, Any]:
        """The node as it appears in ``job_nodes`` (key order: name, type, subtype, settings, id)."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "subtype": self.subtype,
            "settings": self.settings,
        }
        if self.id is not None:
            out["id"] = self.id
        return out
