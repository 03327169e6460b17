"""The platform's documented limits for on-demand jobs, and the file types it takes.

Data only, so that the encoder, the body validator, the client and the embedded server agree.

Sizes are decimal: the docs say "10 MB", and dagkit reads that as 10,000,000 bytes rather than
10 MiB (10,485,760) because it is the reading that can only err on the safe side: a file that
passes dagkit's check is within the limit whichever unit the platform means. Preview docs
mention 50 MB; every check that uses :data:`MAX_FILE_SIZE` takes the limit as a parameter.
"""

from __future__ import annotations

import ntpath
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mimetypes

#: Files one job takes.
MAX_FILES_PER_JOB = 10
#: Bytes per file (10 MB, decimal; see the module docstring). Configurable wherever it is used.
MAX_FILE_SIZE = 10 * 1000 * 1000
#: The larger per-file limit that preview docs announce; pass it where the account has it.
MAX_FILE_SIZE_PREVIEW = 50 * 1000 * 1000
#: Seconds to leave between two create-job requests; closer launches get a rate-limit error.
MIN_LAUNCH_INTERVAL = 1.0
#: On-demand jobs running at once per account; more wait as SCHEDULED.
MAX_RUNNING_JOBS = 5

#: Form fields (parts without a filename) and files (parts with one) the service parses in one
#: body: Starlette's defaults, which its FastAPI form parsing uses. One more of either is
#: answered 400 "Too many fields. Maximum number of fields is 1000." (or "files").
MAX_FORM_FIELDS = 1000
MAX_FORM_FILES = 1000

# dagkit's own bounds, so that any input costs bounded time and memory (the platform documents
# none of these; each is far above what a real job needs).

#: Findings listed per file, and items in a 422's ``detail``; the rest are counted in one DK900.
MAX_FINDINGS = 1000
#: Bytes of request_data text dagkit checks or sends. A job's request_data is a few kilobytes;
#: even hundreds of nodes with long prompts stay far below this.
MAX_REQUEST_DATA_BYTES = 1_000_000
#: Bytes of a JSON answer the client reads (downloads stream to disk and have no limit). A list
#: of 10,000 jobs is about 5 MB. Raise it with the environment variable below.
MAX_ANSWER_BYTES = 16_000_000
ENV_MAX_ANSWER_BYTES = "DAGKIT_MAX_ANSWER_BYTES"

#: Extensions the platform lists as processable, with the content type dagkit sends for each.
#: ``application/octet-stream`` where no type is established (the platform detects the format
#: from the bytes; the type only has to be honest). ``.dif`` files must use LF line endings.
_PLATFORM_TYPES: dict[str, str] = {
    ".abw": "application/x-abiword",
    ".bmp": "image/bmp",
    ".csv": "text/csv",
    ".cwk": "application/octet-stream",
    ".dbf": "application/x-dbf",
    ".dif": "application/octet-stream",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".dot": "application/msword",
    ".dotm": "application/vnd.ms-word.template.macroEnabled.12",
    ".eml": "message/rfc822",
    ".epub": "application/epub+zip",
    ".et": "application/octet-stream",
    ".eth": "application/octet-stream",
    ".fods": "application/vnd.oasis.opendocument.spreadsheet-flat-xml",
    ".heic": "image/heic",
    ".htm": "text/html",
    ".html": "text/html",
    ".hwp": "application/x-hwp",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".md": "text/markdown",
    ".mcw": "application/octet-stream",
    ".msg": "application/vnd.ms-outlook",
    ".mw": "application/octet-stream",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".org": "text/x-org",
    ".p7s": "application/pkcs7-signature",
    ".pbd": "application/octet-stream",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".pot": "application/vnd.ms-powerpoint",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptm": "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".prn": "application/octet-stream",
    ".rst": "text/x-rst",
    ".rtf": "application/rtf",
    ".sdp": "application/octet-stream",
    ".sxg": "application/vnd.sun.xml.writer.global",
    ".tiff": "image/tiff",
    ".txt": "text/plain",
    ".tsv": "text/tab-separated-values",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xml": "text/xml",
    ".zabw": "application/octet-stream",
}

#: Extensions only the VLM partitioner reads (named by the partitioning docs, not the list).
VLM_ONLY_EXTENSIONS: frozenset[str] = frozenset({".gif", ".webp"})

#: Every extension dagkit lets through, lower case with the dot.
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(_PLATFORM_TYPES) | VLM_ONLY_EXTENSIONS

#: Images: the ``fast`` partitioning strategy rejects them (the server answers 422).
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".bmp", ".heic", ".jpeg", ".jpg", ".png", ".tiff", ".gif", ".webp"}
)

#: Types for extensions outside the platform list that mimetypes' built-in table lacks.
_EXTRA_TYPES: dict[str, str] = {
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".json": "application/json",
    ".ndjson": "application/x-ndjson",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".tif": "image/tiff",
    ".markdown": "text/markdown",
}

DEFAULT_CONTENT_TYPE = "application/octet-stream"


def extension(filename: str) -> str:
    """The lower-cased extension of the last path component, with its dot (``""`` if none).

    ``ntpath`` on every system: both ``/`` and ``\\`` end a component, as in names from either.
    """
    return ntpath.splitext(filename)[1].lower()


def is_supported(filename: str) -> bool:
    """Whether the platform processes a file of this name (judged by its extension)."""
    return extension(filename) in SUPPORTED_EXTENSIONS


def is_image(filename: str) -> bool:
    """Whether the file is an image, which the ``fast`` strategy cannot partition."""
    return extension(filename) in IMAGE_EXTENSIONS


def guess_content_type(filename: str) -> str:
    """The content type dagkit sends for ``filename``.

    dagkit's own table first (so the same file gets the same bytes on every machine), then the
    built-in table of :mod:`mimetypes` (never the machine's ``/etc/mime.types``), its standard
    types before its common non-standard ones, then ``application/octet-stream``. Only the last
    extension counts: ``x.tar.gz`` is compressed bytes, not a tar archive.
    """
    ext = extension(filename)
    if not ext:
        return DEFAULT_CONTENT_TYPE
    known = _PLATFORM_TYPES.get(ext) or _EXTRA_TYPES.get(ext)
    if known:
        return known
    standard, common = _builtin_mimetypes().types_map
    return standard.get(ext) or common.get(ext) or DEFAULT_CONTENT_TYPE


@lru_cache(maxsize=1)
def _builtin_mimetypes() -> mimetypes.MimeTypes:
    import mimetypes

    # A fresh MimeTypes() holds only Python's built-in table, not the system files.
    return mimetypes.MimeTypes()
