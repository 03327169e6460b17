"""The TypedDicts of the node constructors' keyword arguments (see dagkit.model.catalogue)."""

# Generated from dagkit/model/catalogue/source.py by `dagkit schemas generate --catalogue`.
# Do not edit: edit the source and generate again.

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict


class AutoSettings(TypedDict, total=False):
    """Settings of Partition.auto."""

    provider: str | None
    provider_api_key: str | None
    model: str | None
    output_format: Literal['text/html', 'application/json'] | None
    format_html: bool | None
    unique_element_ids: bool | None
    user_prompt: Any
    prompt: Any
    custom_host_config: Any


class VlmSettings(TypedDict, total=False):
    """Settings of Partition.vlm."""

    allow_fast: bool | None
    provider: str | None
    provider_api_key: str | None
    model: str | None
    output_format: Literal['text/html', 'application/json'] | None
    format_html: bool | None
    unique_element_ids: bool | None
    user_prompt: Any
    prompt: Any
    custom_host_config: Any


class UnstructuredApiSettings(TypedDict, total=False):
    """Settings of Partition.hi_res and Partition.fast."""

    include_page_breaks: bool | None
    pdf_infer_table_structure: bool | None
    exclude_elements: Sequence[str] | None
    xml_keep_tags: bool | None
    encoding: str | None
    ocr_languages: Sequence[str] | None
    extract_image_block_types: Sequence[str] | None
    infer_table_structure: bool | None
    coordinates: bool | None


class ChunkSettings(TypedDict, total=False):
    """Settings every chunker takes."""

    unstructured_api_url: str | None
    unstructured_api_key: str | None
    include_orig_elements: bool | None
    new_after_n_chars: int | None
    max_characters: int | None
    overlap: int | None
    overlap_all: bool | None
    contextual_chunking_strategy: Literal['v1'] | None
    isolate_table: bool | None


class TitleChunkSettings(TypedDict, total=False):
    """Settings of Chunk.by_title."""

    unstructured_api_url: str | None
    unstructured_api_key: str | None
    include_orig_elements: bool | None
    new_after_n_chars: int | None
    max_characters: int | None
    overlap: int | None
    overlap_all: bool | None
    contextual_chunking_strategy: Literal['v1'] | None
    isolate_table: bool | None
    multipage_sections: bool | None
    combine_text_under_n_chars: int | None


class SimilarityChunkSettings(TypedDict, total=False):
    """Settings of Chunk.by_similarity."""

    unstructured_api_url: str | None
    unstructured_api_key: str | None
    include_orig_elements: bool | None
    new_after_n_chars: int | None
    max_characters: int | None
    overlap: int | None
    overlap_all: bool | None
    contextual_chunking_strategy: Literal['v1'] | None
    isolate_table: bool | None
    similarity_threshold: float | None
