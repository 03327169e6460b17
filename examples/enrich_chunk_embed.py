"""Partition with hi_res, describe images and tables, OCR them, then chunk and embed.

Enrichments need element images and tables, which only Auto and hi_res produce; generative OCR
reads the element types listed in extract_image_block_types.

    dagkit build examples/enrich_chunk_embed.py
"""

from dagkit import Chunk, Embed, Enrich, Partition

dag = (
    Partition.hi_res(extract_image_block_types=["Image", "Table"])
    >> Enrich.image_description(provider="anthropic", model="claude-sonnet-4-5-20250929")
    >> Enrich.table_description(provider="openai", model="gpt-4o", name="Table description")
    >> Enrich.generative_ocr(provider="anthropic", name="OCR")
    >> Chunk.by_title(max_characters=1500, overlap=100)
    >> Embed.voyageai("voyage-3")
)
