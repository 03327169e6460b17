"""The workflow templates the local server offers, as data: the platform's two.

Only ``hi_res_partition`` and ``hi_res_and_enrichment`` are known to exist on the platform (its
docs, the on-demand quickstart notebook, the Python SDK's tests). Their nodes are the ones the
platform listed for jobs made from them (the quickstart notebook's saved output of
create-job): ``hi_res_and_enrichment`` is a hi_res partitioner, then image description,
generative OCR and table-to-HTML enrichments, with no chunker. Node ids are the ones seen there
too, so a template looks the same on every run and as on the platform.
"""

from __future__ import annotations

from dagkit.model.nodes import Node
from dagkit.wire.answers import TemplateDetail

_LAST_UPDATED = "2025-12-10T00:00:00+00:00"
_VERSION = "1.0.0"


def _template(key: str, name: str, description: str, nodes: list[Node]) -> TemplateDetail:
    return TemplateDetail(key, name, description, _VERSION, _LAST_UPDATED, nodes=nodes)


def _hi_res() -> Node:
    # the platform gives this node the same id in both templates
    return Node(
        name="partition step",
        type="partition",
        subtype="unstructured_api",
        settings={"strategy": "hi_res"},
        id="93fc2ce8-e7c8-424f-a6aa-41460fc5d35d",
    )


def _enrichment(name: str, subtype: str, node_id: str) -> Node:
    # settings as a job made from the template sends them: none, the platform fills its defaults
    return Node(name=name, type="prompter", subtype=subtype, settings={}, id=node_id)


def _builtin() -> dict[str, TemplateDetail]:
    templates = [
        _template(
            "hi_res_partition",
            "High Resolution Partition",
            "Partition documents with high resolution strategy",
            [_hi_res()],
        ),
        _template(
            "hi_res_and_enrichment",
            "High Resolution and Enrichment",
            "Partition with enrichment",
            [
                _hi_res(),
                _enrichment(
                    "image description",
                    "openai_image_description",
                    "4eb78731-4669-438c-9e2c-c76fcb1c9a52",
                ),
                _enrichment(
                    "generative ocr", "anthropic_ocr", "35cacdfe-3ac1-4183-bbf4-826cd88c882c"
                ),
                _enrichment(
                    "table to html",
                    "anthropic_table2html",
                    "ee5d4bf2-3783-4818-9f69-9ebbaa8778ea",
                ),
            ],
        ),
    ]
    return {t.id: t for t in templates}


#: Every built-in template by id, in listing order.
TEMPLATES: dict[str, TemplateDetail] = _builtin()
