"""The node catalogue as precomputed data (see dagkit.model.catalogue)."""

# Generated from dagkit/model/catalogue/source.py by `dagkit schemas generate --catalogue`.
# Do not edit: edit the source and generate again.

from dagkit.model.catalogue.entries import EmbeddingModel as _M
from dagkit.model.catalogue.entries import NodeKind as _K
from dagkit.model.catalogue.entries import Setting as _S

NODE_TYPES: tuple[str, ...] = ('partition', 'prompter', 'chunk', 'embed', 'structured_data_extractor')
ENRICHMENT_SUBTYPES: dict[str, dict[str, str]] = {'image_description': {'anthropic': 'anthropic_image_description', 'bedrock': 'bedrock_image_description', 'openai': 'openai_image_description', 'vertexai': 'vertexai_image_description'}, 'table_description': {'anthropic': 'anthropic_table_description', 'bedrock': 'bedrock_table_description', 'openai': 'openai_table_description', 'vertexai': 'vertexai_table_description'}, 'table_to_html': {'twopass': 'twopass_table2html', 'anthropic': 'anthropic_table2html', 'openai': 'openai_table2html'}, 'ner': {'anthropic': 'anthropic_ner', 'openai': 'openai_ner'}, 'generative_ocr': {'anthropic': 'anthropic_ocr', 'bedrock': 'bedrock_ocr', 'openai': 'openai_ocr'}}
SUBTYPES: dict[str, tuple[str, ...]] = {'partition': ('vlm', 'unstructured_api'), 'prompter': ('anthropic_image_description', 'bedrock_image_description', 'openai_image_description', 'vertexai_image_description', 'anthropic_table_description', 'bedrock_table_description', 'openai_table_description', 'vertexai_table_description', 'twopass_table2html', 'anthropic_table2html', 'openai_table2html', 'anthropic_ner', 'openai_ner', 'anthropic_ocr', 'bedrock_ocr', 'openai_ocr'), 'chunk': ('chunk_by_character', 'chunk_by_title', 'chunk_by_page', 'chunk_by_similarity'), 'embed': ('azure_openai', 'bedrock', 'ibm', 'openai', 'togetherai', 'voyageai'), 'structured_data_extractor': ('llm', 'regex')}
CLOSED_SUBTYPES: frozenset[str] = frozenset(['chunk', 'partition', 'structured_data_extractor'])
MODELS: dict[str, dict[str, tuple[str, ...]]] = {'partition': {'anthropic': ('claude-opus-4-5-20251101', 'claude-3-7-sonnet-20250219', 'claude-sonnet-4-20250514', 'claude-sonnet-4-5-20250929'), 'auto': (), 'bedrock': ('us.amazon.nova-lite-v1:0', 'us.amazon.nova-pro-v1:0', 'us.anthropic.claude-3-opus-20240229-v1:0', 'us.anthropic.claude-3-haiku-20240307-v1:0', 'us.anthropic.claude-3-sonnet-20240229-v1:0', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'us.anthropic.claude-sonnet-4-20250514-v1:0'), 'openai': ('gpt-4o', 'gpt-5-mini-2025-08-07'), 'vertexai': ('gemini-2.0-flash-001',)}, 'enrichment': {'anthropic': ('claude-opus-4-5-20251101', 'claude-3-7-sonnet-20250219', 'claude-sonnet-4-20250514', 'claude-sonnet-4-5-20250929'), 'bedrock': ('us.amazon.nova-lite-v1:0', 'us.amazon.nova-pro-v1:0', 'us.anthropic.claude-3-haiku-20240307-v1:0', 'us.anthropic.claude-3-opus-20240229-v1:0', 'us.anthropic.claude-3-sonnet-20240229-v1:0', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'us.anthropic.claude-sonnet-4-20250514-v1:0', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'), 'openai': ('gpt-4o', 'gpt-4o-mini', 'gpt-5-mini'), 'vertexai': ('gemini-2.0-flash-001',)}, 'extract': {'anthropic': ('claude-opus-4-5-20251101', 'claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'claude-3-7-sonnet-20250219', 'claude-sonnet-4-20250514'), 'azure_openai': ('gpt-5-mini', 'gpt-4o', 'gpt-4o-mini'), 'bedrock': ('us.anthropic.claude-opus-4-20250514-v1:0', 'us.anthropic.claude-sonnet-4-20250514-v1:0', 'us.anthropic.claude-3-7-sonnet-20250219-v1:0', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'), 'openai': ('gpt-4o', 'gpt-5-mini', 'gpt-4o-mini')}, 'embed': {'azure_openai': ('text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002'), 'bedrock': ('amazon.titan-embed-text-v2:0', 'amazon.titan-embed-text-v1', 'amazon.titan-embed-image-v1', 'cohere.embed-english-v3', 'cohere.embed-multilingual-v3'), 'ibm': ('sentence-transformers/all-minilm-l6-v2', 'ibm/granite-embedding-278m-multilingual', 'intfloat/multilingual-e5-large', 'ibm/slate-125m-english-rtrvr-v2', 'ibm/slate-125m-multilingual-rtrvr-v2'), 'openai': ('text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002'), 'togetherai': ('togethercomputer/m2-bert-80M-32k-retrieval', 'togethercomputer/m2-bert-80M-8k-retrieval', 'togethercomputer/m2-bert-80M-2k-retrieval'), 'voyageai': ('voyage-3', 'voyage-3-large', 'voyage-3-lite', 'voyage-code-3', 'voyage-finance-2', 'voyage-law-2', 'voyage-code-2', 'voyage-multimodal-3')}}
PROVIDERS: dict[str, tuple[str, ...]] = {'partition': ('anthropic', 'auto', 'bedrock', 'openai', 'vertexai'), 'enrichment': ('anthropic', 'bedrock', 'openai', 'vertexai'), 'extract': ('anthropic', 'azure_openai', 'bedrock', 'openai'), 'embed': ('azure_openai', 'bedrock', 'ibm', 'openai', 'togetherai', 'voyageai')}
REMOVED_MODELS: dict[str, str] = {'claude-3-5-sonnet-20241022': 'removed on 2025-10-22', 'us.anthropic.claude-3-5-sonnet-20241022-v2:0': 'removed on 2025-10-22'}
DEFAULT_ENRICHMENT_MODELS: dict[str, str] = {'anthropic': 'claude-sonnet-4-20250514', 'bedrock': 'us.anthropic.claude-sonnet-4-20250514-v1:0', 'openai': 'gpt-4o', 'vertexai': 'gemini-2.0-flash-001'}
ELEMENT_TYPES: dict[str, tuple[str, ...]] = {'exclude_elements': ('Address', 'EmailAddress', 'FigureCaption', 'Footer', 'Formula', 'Header', 'Image', 'ListItem', 'NarrativeText', 'PageBreak', 'Table', 'Title', 'UncategorizedText'), 'extract_image_block_types': ('Abstract', 'BulletedText', 'Caption', 'CodeSnippet', 'CompositeElement', 'Figure', 'FigureCaption', 'Form', 'FormKeysValues', 'Formula', 'Header', 'Image', 'List', 'List-item', 'ListItem', 'NarrativeText', 'Paragraph', 'Picture', 'Table', 'Text', 'Threading', 'Title', 'UncategorizedText')}
ASSUMED_OPTIONS: tuple[str, ...] = ('skip_preflight',)

EMBEDDING_MODELS: dict[str, dict[str, _M]] = {
    'azure_openai': {'text-embedding-3-small': _M(1536, 8192, 28672), 'text-embedding-3-large': _M(3072, 8192, 28672), 'text-embedding-ada-002': _M(1536, 8192, 28672)},
    'bedrock': {'amazon.titan-embed-text-v2:0': _M(1024, 8192, 28672), 'amazon.titan-embed-text-v1': _M(1536, 8192, 28672), 'amazon.titan-embed-image-v1': _M(1024, 256, 896), 'cohere.embed-english-v3': _M(1024, 512, 1792), 'cohere.embed-multilingual-v3': _M(1024, 512, 1792)},
    'ibm': {},
    'openai': {'text-embedding-3-small': _M(1536, 8192, 28672), 'text-embedding-3-large': _M(3072, 8192, 28672), 'text-embedding-ada-002': _M(1536, 8192, 28672)},
    'togetherai': {'togethercomputer/m2-bert-80M-32k-retrieval': _M(768, 8192, 28672), 'togethercomputer/m2-bert-80M-8k-retrieval': _M(768, 8192, 28672), 'togethercomputer/m2-bert-80M-2k-retrieval': _M(768, 2048, 7168)},
    'voyageai': {'voyage-3': _M(1024, 32000, 112000), 'voyage-3-large': _M(1024, 32000, 112000), 'voyage-code-3': _M(1024, 32000, 112000), 'voyage-finance-2': _M(1024, 32000, 112000), 'voyage-multimodal-3': _M(1024, 32000, 112000), 'voyage-3-lite': _M(512, 32000, 112000), 'voyage-code-2': _M(1536, 16000, 56000), 'voyage-law-2': _M(1024, 16000, 56000)},
}

_S0 = _S('is_dynamic', 'boolean', const=True, description='true picks the Auto strategy (false, or leaving it out, is VLM)', required=True)
_S1 = _S('allow_fast', 'boolean', const=True, description='Auto may use the fast strategy on simple pages; the platform fills true')
_S2 = _S('provider', 'string', default='anthropic', description='the model provider')
_S3 = _S('provider_api_key', 'string', description="your own provider key; null uses Unstructured's", secret=True)
_S4 = _S('model', 'string', default='claude-sonnet-4-20250514', description='the model')
_S5 = _S('output_format', 'string', default='text/html', description='what the model is asked to produce', enum=('text/html', 'application/json'))
_S6 = _S('format_html', 'boolean', default=True, description='tidy the HTML the model returns')
_S7 = _S('unique_element_ids', 'boolean', default=True, description='random element ids; false uses a SHA-256 of the text')
_S8 = _S('user_prompt', 'any', description='a prompt for the model (no source shows its form)')
_S9 = _S('prompt', 'any', description='a prompt for the model (no source shows its form)')
_S10 = _S('custom_host_config', 'any', description='where a self-hosted model runs (no source shows its form)')
_S11 = _S('is_dynamic', 'boolean', const=False, default=False, description='false picks the VLM strategy (true is Auto); the platform fills false')
_S12 = _S('allow_fast', 'boolean', default=True, description='may use the fast strategy on simple pages')
_S13 = _S('strategy', 'string', const='hi_res', description='hi_res or fast; picks the partitioning strategy', required=True)
_S14 = _S('include_page_breaks', 'boolean', default=False, description='emit PageBreak elements')
_S15 = _S('pdf_infer_table_structure', 'boolean', default=False, description='table HTML for PDFs (has no effect with the fast strategy)')
_S16 = _S('exclude_elements', 'array', description='element types to drop from the output', items_type='string')
_S17 = _S('xml_keep_tags', 'boolean', default=False, description='keep XML tags in the text of XML files')
_S18 = _S('encoding', 'string', default='utf-8', description='text encoding of text files')
_S19 = _S('ocr_languages', 'array', default=('eng',), description='Tesseract language codes', items_type='string')
_S20 = _S('extract_image_block_types', 'array', description='element types whose images are cut out (generative OCR reads only these)', items_type='string')
_S21 = _S('infer_table_structure', 'boolean', default=False, description='table HTML in metadata.text_as_html')
_S22 = _S('coordinates', 'boolean', default=False, description='element coordinates in metadata')
_S23 = _S('strategy', 'string', const='fast', description='hi_res or fast; picks the partitioning strategy', required=True)
_S24 = _S('provider_type', 'string', description='the provider the subtype names; filled if absent')
_S25 = _S('model', 'string', description="the model; the platform's default if absent")
_S26 = _S('user', 'string', description='the whole replacement prompt')
_S27 = _S('prompt', 'object', description='the prompt parts to replace', fields={'user': _S26})
_S28 = _S('prompt_interface_overrides', 'object', description='replace the built-in NER prompt', fields={'prompt': _S27})
_S29 = _S('unstructured_api_url', 'string', description='a different chunking endpoint')
_S30 = _S('unstructured_api_key', 'string', description='the key for unstructured_api_url', secret=True)
_S31 = _S('include_orig_elements', 'boolean', default=False, description='keep the chunked elements in metadata.orig_elements')
_S32 = _S('new_after_n_chars', 'integer', description='soft maximum: start a new chunk after this many characters', minimum=0)
_S33 = _S('max_characters', 'integer', description='hard maximum characters per chunk (must fit the embedding model)', exclusive_minimum=0)
_S34 = _S('overlap', 'integer', description='characters repeated between chunks', minimum=0)
_S35 = _S('overlap_all', 'boolean', default=False, description='overlap every chunk, not only split oversized elements')
_S36 = _S('contextual_chunking_strategy', 'string', const='v1', description='prepend document context to each chunk (only v1 exists)')
_S37 = _S('isolate_table', 'boolean', default=True, description='put each table in a chunk of its own')
_S38 = _S('multipage_sections', 'boolean', default=False, description="let a section's chunks span pages")
_S39 = _S('combine_text_under_n_chars', 'integer', description='merge sections shorter than this', minimum=0)
_S40 = _S('similarity_threshold', 'number', description='how alike neighbouring elements must be to share a chunk (0 to 1, exclusive)', exclusive_maximum=1, exclusive_minimum=0)
_S41 = _S('model_name', 'string', description='the embedding model', required=True)
_S42 = _S('json_schema', 'string', description='an OpenAI Structured Outputs schema serialized as a string')
_S43 = _S('extraction_guidance', 'string', description='a prompt saying what to extract')
_S44 = _S('schema_to_extract', 'object', description='what to extract: a JSON schema (as a string) or a prompt, or both (the docs say one, their quickstart sends both)', fields={'json_schema': _S42, 'extraction_guidance': _S43}, one_required=('json_schema', 'extraction_guidance'), required=True)
_S45 = _S('provider', 'string', description='the model provider')
_S46 = _S('model', 'string', description='the model')
_S47 = _S('output_mode', 'string', default='elements_with_extracted_data', description='keep the elements next to the extracted data, or return only the data', enum=('elements_with_extracted_data', 'extracted_data_only'))
_S48 = _S('name', 'string', description='names the list of matches', required=True)
_S49 = _S('pattern', 'string', description='a Python re pattern', required=True)
_S50 = _S('regex_patterns', 'array', description='named Python regular expressions; one list of matches per name', fields={'name': _S48, 'pattern': _S49}, items_type='object', min_items=1, required=True)

KINDS: dict[str, _K] = {
    'auto': _K('auto', 'partition', 'vlm', 'Auto partitioner', {'is_dynamic': _S0, 'allow_fast': _S1, 'provider': _S2, 'provider_api_key': _S3, 'model': _S4, 'output_format': _S5, 'format_html': _S6, 'unique_element_ids': _S7, 'user_prompt': _S8, 'prompt': _S9, 'custom_host_config': _S10}, discriminator=('is_dynamic', True), provider='partition', schema_def='autoPartitionSettings'),
    'vlm': _K('vlm', 'partition', 'vlm', 'VLM partitioner', {'is_dynamic': _S11, 'allow_fast': _S12, 'provider': _S2, 'provider_api_key': _S3, 'model': _S4, 'output_format': _S5, 'format_html': _S6, 'unique_element_ids': _S7, 'user_prompt': _S8, 'prompt': _S9, 'custom_host_config': _S10}, discriminator=('is_dynamic', False), provider='partition', schema_def='vlmPartitionSettings'),
    'hi_res': _K('hi_res', 'partition', 'unstructured_api', 'High Res partitioner', {'strategy': _S13, 'include_page_breaks': _S14, 'pdf_infer_table_structure': _S15, 'exclude_elements': _S16, 'xml_keep_tags': _S17, 'encoding': _S18, 'ocr_languages': _S19, 'extract_image_block_types': _S20, 'infer_table_structure': _S21, 'coordinates': _S22}, discriminator=('strategy', 'hi_res'), schema_def='hiResPartitionSettings'),
    'fast': _K('fast', 'partition', 'unstructured_api', 'Fast partitioner', {'strategy': _S23, 'include_page_breaks': _S14, 'pdf_infer_table_structure': _S15, 'exclude_elements': _S16, 'xml_keep_tags': _S17, 'encoding': _S18, 'ocr_languages': _S19, 'extract_image_block_types': _S20, 'infer_table_structure': _S21, 'coordinates': _S22}, discriminator=('strategy', 'fast'), schema_def='fastPartitionSettings'),
    'anthropic_image_description': _K('anthropic_image_description', 'prompter', 'anthropic_image_description', 'Image description (Anthropic)', {'provider_type': _S24, 'model': _S25}, provider='anthropic', task='image_description', schema_def='prompterSettings'),
    'bedrock_image_description': _K('bedrock_image_description', 'prompter', 'bedrock_image_description', 'Image description (Amazon Bedrock)', {'provider_type': _S24, 'model': _S25}, provider='bedrock', task='image_description', schema_def='prompterSettings'),
    'openai_image_description': _K('openai_image_description', 'prompter', 'openai_image_description', 'Image description (OpenAI)', {'provider_type': _S24, 'model': _S25}, provider='openai', task='image_description', schema_def='prompterSettings'),
    'vertexai_image_description': _K('vertexai_image_description', 'prompter', 'vertexai_image_description', 'Image description (Vertex AI)', {'provider_type': _S24, 'model': _S25}, provider='vertexai', task='image_description', schema_def='prompterSettings'),
    'anthropic_table_description': _K('anthropic_table_description', 'prompter', 'anthropic_table_description', 'Table description (Anthropic)', {'provider_type': _S24, 'model': _S25}, provider='anthropic', task='table_description', schema_def='prompterSettings'),
    'bedrock_table_description': _K('bedrock_table_description', 'prompter', 'bedrock_table_description', 'Table description (Amazon Bedrock)', {'provider_type': _S24, 'model': _S25}, provider='bedrock', task='table_description', schema_def='prompterSettings'),
    'openai_table_description': _K('openai_table_description', 'prompter', 'openai_table_description', 'Table description (OpenAI)', {'provider_type': _S24, 'model': _S25}, provider='openai', task='table_description', schema_def='prompterSettings'),
    'vertexai_table_description': _K('vertexai_table_description', 'prompter', 'vertexai_table_description', 'Table description (Vertex AI)', {'provider_type': _S24, 'model': _S25}, provider='vertexai', task='table_description', schema_def='prompterSettings'),
    'twopass_table2html': _K('twopass_table2html', 'prompter', 'twopass_table2html', 'Table to HTML (two-pass)', {}, provider='twopass', task='table_to_html', schema_def='prompterTwoPassSettings'),
    'anthropic_table2html': _K('anthropic_table2html', 'prompter', 'anthropic_table2html', 'Table to HTML (Anthropic)', {'provider_type': _S24, 'model': _S25}, provider='anthropic', task='table_to_html', schema_def='prompterSettings'),
    'openai_table2html': _K('openai_table2html', 'prompter', 'openai_table2html', 'Table to HTML (OpenAI)', {'provider_type': _S24, 'model': _S25}, provider='openai', task='table_to_html', schema_def='prompterSettings'),
    'anthropic_ner': _K('anthropic_ner', 'prompter', 'anthropic_ner', 'Named entity recognition (Anthropic)', {'provider_type': _S24, 'model': _S25, 'prompt_interface_overrides': _S28}, provider='anthropic', task='ner', schema_def='prompterNerSettings'),
    'openai_ner': _K('openai_ner', 'prompter', 'openai_ner', 'Named entity recognition (OpenAI)', {'provider_type': _S24, 'model': _S25, 'prompt_interface_overrides': _S28}, provider='openai', task='ner', schema_def='prompterNerSettings'),
    'anthropic_ocr': _K('anthropic_ocr', 'prompter', 'anthropic_ocr', 'Generative OCR (Anthropic)', {'provider_type': _S24, 'model': _S25}, provider='anthropic', task='generative_ocr', schema_def='prompterSettings'),
    'bedrock_ocr': _K('bedrock_ocr', 'prompter', 'bedrock_ocr', 'Generative OCR (Amazon Bedrock)', {'provider_type': _S24, 'model': _S25}, provider='bedrock', task='generative_ocr', schema_def='prompterSettings'),
    'openai_ocr': _K('openai_ocr', 'prompter', 'openai_ocr', 'Generative OCR (OpenAI)', {'provider_type': _S24, 'model': _S25}, provider='openai', task='generative_ocr', schema_def='prompterSettings'),
    'chunk_by_character': _K('chunk_by_character', 'chunk', 'chunk_by_character', 'Chunk by character', {'unstructured_api_url': _S29, 'unstructured_api_key': _S30, 'include_orig_elements': _S31, 'new_after_n_chars': _S32, 'max_characters': _S33, 'overlap': _S34, 'overlap_all': _S35, 'contextual_chunking_strategy': _S36, 'isolate_table': _S37}, schema_def='chunk_by_characterSettings'),
    'chunk_by_title': _K('chunk_by_title', 'chunk', 'chunk_by_title', 'Chunk by title', {'unstructured_api_url': _S29, 'unstructured_api_key': _S30, 'include_orig_elements': _S31, 'new_after_n_chars': _S32, 'max_characters': _S33, 'overlap': _S34, 'overlap_all': _S35, 'contextual_chunking_strategy': _S36, 'isolate_table': _S37, 'multipage_sections': _S38, 'combine_text_under_n_chars': _S39}, schema_def='chunk_by_titleSettings'),
    'chunk_by_page': _K('chunk_by_page', 'chunk', 'chunk_by_page', 'Chunk by page', {'unstructured_api_url': _S29, 'unstructured_api_key': _S30, 'include_orig_elements': _S31, 'new_after_n_chars': _S32, 'max_characters': _S33, 'overlap': _S34, 'overlap_all': _S35, 'contextual_chunking_strategy': _S36, 'isolate_table': _S37}, schema_def='chunk_by_pageSettings'),
    'chunk_by_similarity': _K('chunk_by_similarity', 'chunk', 'chunk_by_similarity', 'Chunk by similarity', {'unstructured_api_url': _S29, 'unstructured_api_key': _S30, 'include_orig_elements': _S31, 'new_after_n_chars': _S32, 'max_characters': _S33, 'overlap': _S34, 'overlap_all': _S35, 'contextual_chunking_strategy': _S36, 'isolate_table': _S37, 'similarity_threshold': _S40}, schema_def='chunk_by_similaritySettings'),
    'azure_openai': _K('azure_openai', 'embed', 'azure_openai', 'Azure OpenAI embedder', {'model_name': _S41}, provider='azure_openai', schema_def='embedSettings'),
    'bedrock': _K('bedrock', 'embed', 'bedrock', 'Amazon Bedrock embedder', {'model_name': _S41}, provider='bedrock', schema_def='embedSettings'),
    'ibm': _K('ibm', 'embed', 'ibm', 'IBM watsonx.ai embedder', {'model_name': _S41}, provider='ibm', schema_def='embedSettings'),
    'openai': _K('openai', 'embed', 'openai', 'OpenAI embedder', {'model_name': _S41}, provider='openai', schema_def='embedSettings'),
    'togetherai': _K('togetherai', 'embed', 'togetherai', 'Together AI embedder', {'model_name': _S41}, provider='togetherai', schema_def='embedSettings'),
    'voyageai': _K('voyageai', 'embed', 'voyageai', 'Voyage AI embedder', {'model_name': _S41}, provider='voyageai', schema_def='embedSettings'),
    'llm': _K('llm', 'structured_data_extractor', 'llm', 'LLM extractor', {'schema_to_extract': _S44, 'provider': _S45, 'model': _S46, 'output_mode': _S47}, schema_def='llmExtractSettings'),
    'regex': _K('regex', 'structured_data_extractor', 'regex', 'Regex extractor', {'regex_patterns': _S50, 'output_mode': _S47}, schema_def='regexExtractSettings'),
}

BY_PAIR: dict[tuple[str, str], tuple[_K, ...]] = {
    ('partition', 'vlm'): (KINDS['auto'], KINDS['vlm'],),
    ('partition', 'unstructured_api'): (KINDS['hi_res'], KINDS['fast'],),
    ('prompter', 'anthropic_image_description'): (KINDS['anthropic_image_description'],),
    ('prompter', 'bedrock_image_description'): (KINDS['bedrock_image_description'],),
    ('prompter', 'openai_image_description'): (KINDS['openai_image_description'],),
    ('prompter', 'vertexai_image_description'): (KINDS['vertexai_image_description'],),
    ('prompter', 'anthropic_table_description'): (KINDS['anthropic_table_description'],),
    ('prompter', 'bedrock_table_description'): (KINDS['bedrock_table_description'],),
    ('prompter', 'openai_table_description'): (KINDS['openai_table_description'],),
    ('prompter', 'vertexai_table_description'): (KINDS['vertexai_table_description'],),
    ('prompter', 'twopass_table2html'): (KINDS['twopass_table2html'],),
    ('prompter', 'anthropic_table2html'): (KINDS['anthropic_table2html'],),
    ('prompter', 'openai_table2html'): (KINDS['openai_table2html'],),
    ('prompter', 'anthropic_ner'): (KINDS['anthropic_ner'],),
    ('prompter', 'openai_ner'): (KINDS['openai_ner'],),
    ('prompter', 'anthropic_ocr'): (KINDS['anthropic_ocr'],),
    ('prompter', 'bedrock_ocr'): (KINDS['bedrock_ocr'],),
    ('prompter', 'openai_ocr'): (KINDS['openai_ocr'],),
    ('chunk', 'chunk_by_character'): (KINDS['chunk_by_character'],),
    ('chunk', 'chunk_by_title'): (KINDS['chunk_by_title'],),
    ('chunk', 'chunk_by_page'): (KINDS['chunk_by_page'],),
    ('chunk', 'chunk_by_similarity'): (KINDS['chunk_by_similarity'],),
    ('embed', 'azure_openai'): (KINDS['azure_openai'],),
    ('embed', 'bedrock'): (KINDS['bedrock'],),
    ('embed', 'ibm'): (KINDS['ibm'],),
    ('embed', 'openai'): (KINDS['openai'],),
    ('embed', 'togetherai'): (KINDS['togetherai'],),
    ('embed', 'voyageai'): (KINDS['voyageai'],),
    ('structured_data_extractor', 'llm'): (KINDS['llm'],),
    ('structured_data_extractor', 'regex'): (KINDS['regex'],),
}
SECRET_SETTINGS: frozenset[str] = frozenset(['provider_api_key', 'unstructured_api_key'])
