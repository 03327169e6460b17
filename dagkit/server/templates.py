"""The workflow templates the local server offers, as data.

Template ids are opaque strings on the platform; these are the two the docs name plus two more
that cover the other common layouts. Node ids are fixed (derived from the template and node
names) so that a template looks the same on every run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from dagkit.nodes import Node

_NAMESPACE = uuid.UUID("4d1c3f2e-8b7a-4c55-9a10-d46a1f0e2b37")
_LAST_UPDATED = "2026-01-15T00:00:00+00:00"


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    description: str
    nodes: tuple[Node, ...]
    version: str = "1.0.0"
    last_updated: str = _LAST_UPDATED

    def list_item(self) -> dict[str, Any]:
        """The template as ``list_templates`` shows it (a ``TemplateListItem``)."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "version": self.version,
            "last_updated": self.last_updated,
        }

    def detail(self) -> dict[str, Any]:
        """The template as ``get_template`` shows it (a ``TemplateDetail``)."""
        return {**self.list_item(), "nodes": [node_dict(n) for n in self.nodes]}


def node_dict(node: Node) -> dict[str, Any]:
    """A ``TemplateNode``: id, name, type, subtype, settings."""
    return {
        "id": node.id or "",
        "name": node.name,
        "type": node.type,
        "subtype": node.subtype,
        "settings": dict(node.settings),
    }


def _node(template: str, name: str, type_: str, subtype: str, **settings: Any) -> Node:
    node_id = str(uuid.uuid5(_NAMESPACE, f"{template}/{name}"))
    return Node(name=name, type=type_, subtype=subtype, settings=settings, id=node_id)


def _hi_res(template: str) -> Node:
    return _node(template, "Partitioner", "partition", "unstructured_api", strategy="hi_res")


def _chunker(template: str) -> Node:
    return _node(
        template,
        "Chunker",
        "chunk",
        "chunk_by_title",
        max_characters=2048,
        new_after_n_chars=1500,
        overlap=160,
    )


def _builtin() -> dict[str, Template]:
    templates = [
        Template(
            "hi_res_partition",
            "High Res Partition",
            "Partition documents with the hi_res strategy.",
            (_hi_res("hi_res_partition"),),
        ),
        Template(
            "hi_res_and_enrichment",
            "High Res and Enrichment",
            "Partition with hi_res, describe images and tables, then chunk by title.",
            (
                _hi_res("hi_res_and_enrichment"),
                _node(
                    "hi_res_and_enrichment",
                    "Image Description",
                    "prompter",
                    "openai_image_description",
                    provider_type="openai",
                    model="gpt-4o",
                ),
                _node(
                    "hi_res_and_enrichment",
                    "Table Description",
                    "prompter",
                    "openai_table_description",
                    provider_type="openai",
                    model="gpt-4o",
                ),
                _chunker("hi_res_and_enrichment"),
            ),
        ),
        Template(
            "fast_partition",
            "Fast Partition",
            "Partition text-based documents quickly with the fast strategy (no images).",
            (
                _node(
                    "fast_partition",
                    "Partitioner",
                    "partition",
                    "unstructured_api",
                    strategy="fast",
                ),
            ),
        ),
        Template(
            "hi_res_chunk_and_embed",
            "High Res, Chunk and Embed",
            "Partition with hi_res, chunk by title and embed with text-embedding-3-small.",
            (
                _hi_res("hi_res_chunk_and_embed"),
                _chunker("hi_res_chunk_and_embed"),
                _node(
                    "hi_res_chunk_and_embed",
                    "Embedder",
                    "embed",
                    "azure_openai",
                    model_name="text-embedding-3-small",
                ),
            ),
        ),
    ]
    return {t.id: t for t in templates}


#: Every built-in template by id, in listing order.
TEMPLATES: dict[str, Template] = _builtin()
