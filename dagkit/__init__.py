"""dagkit: build, validate and submit Unstructured Platform on-demand job DAGs.

The everyday names are importable from here; each is loaded on first use so that
``import dagkit`` stays cheap (the CLI starts thousands of times a day in CI).

The packages stand in floors (:data:`LAYERS`, lowest first): a module imports only from its
own floor or the ones below, never from above. ``tests/test_layers.py`` reads every module's
imports (at the top and inside functions) and fails on an upward one; the only exceptions are
the seams named in :data:`UPWARD_SEAMS`, each with its reason. Inside a package listed in
:data:`ORDER`, the same holds module by module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagkit.core.exports import lazy_exports

__version__ = "0.1.0"

#: The floors of the package, lowest first: (name, the subpackages and modules on it).
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("errors", "findings", "core")),
    ("schemas", ("schemas",)),
    ("model", ("model",)),
    ("wire", ("wire",)),
    ("validation and reports", ("validate", "report")),
    ("http", ("http",)),
    ("client", ("client",)),
    ("batch and server", ("batch", "server")),
    ("dev tooling", ("devtools",)),
    ("cli", ("cli", "testing", "__main__")),
)
#: Inside a package, its modules in the order they stand: each imports only those before it.
ORDER: dict[str, tuple[str, ...]] = {
    # the catalogue's data; a node's fields and lookups; the job rules; their quick verdict on a
    # valid document; JobDAG and the Node whose ``>>`` builds one; the typed constructors
    # (Partition.fast()...) that make Nodes
    "model": ("catalogue", "base", "rules", "clean", "dag", "nodes"),
}
#: The upward imports that stay, (importer, imported): why each cannot go (yet).
UPWARD_SEAMS: dict[tuple[str, str], str] = {}

_EXPORTS: dict[str, str] = {
    "DagkitError": "dagkit.errors",
    "Finding": "dagkit.findings",
    "Node": "dagkit.model.nodes",
    "Partition": "dagkit.model.nodes",
    "Enrich": "dagkit.model.nodes",
    "Chunk": "dagkit.model.nodes",
    "Embed": "dagkit.model.nodes",
    "Extract": "dagkit.model.nodes",
    "JobDAG": "dagkit.model.dag",
    "to_request_data": "dagkit.wire.serialize",
    "from_request_data": "dagkit.wire.serialize",
    "load_dag": "dagkit.wire.serialize",
    "plan_request_data": "dagkit.wire.serialize",
    "TemplateJob": "dagkit.wire.serialize",
    "to_workflow": "dagkit.wire.workflows",
    "from_workflow": "dagkit.wire.workflows",
    "JobsClient": "dagkit.client.jobs",
    "WorkflowsClient": "dagkit.client.workflows",
    "submit": "dagkit.client.submission",
}

__all__ = [
    "Chunk",
    "DagkitError",
    "Embed",
    "Enrich",
    "Extract",
    "Finding",
    "JobDAG",
    "JobsClient",
    "Node",
    "Partition",
    "TemplateJob",
    "WorkflowsClient",
    "__version__",
    "from_request_data",
    "from_workflow",
    "load_dag",
    "plan_request_data",
    "submit",
    "to_request_data",
    "to_workflow",
]

if TYPE_CHECKING:
    from dagkit.client.jobs import JobsClient
    from dagkit.client.submission import submit
    from dagkit.client.workflows import WorkflowsClient
    from dagkit.errors import DagkitError
    from dagkit.findings import Finding
    from dagkit.model.dag import JobDAG
    from dagkit.model.nodes import Chunk, Embed, Enrich, Extract, Node, Partition
    from dagkit.wire.serialize import (
        TemplateJob,
        from_request_data,
        load_dag,
        plan_request_data,
        to_request_data,
    )
    from dagkit.wire.workflows import from_workflow, to_workflow


__getattr__ = lazy_exports(__name__, _EXPORTS)
