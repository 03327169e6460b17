"""File names to extensions and content types (``dagkit.core.limits``): the edges of a name."""

from __future__ import annotations

import pytest

from dagkit.core import limits


@pytest.mark.parametrize(
    ("filename", "ext"),
    [
        ("report.PDF", ".pdf"),
        ("a/b/c.DocX", ".docx"),
        ("archive.tar.gz", ".gz"),
        # A dot in a folder name is no extension, whichever separator the name uses.
        ("dir.v2/README", ""),
        ("C:\\docs.v2\\README", ""),
        ("C:\\docs\\scan.TIFF", ".tiff"),
        ("mixed\\dir.d/file", ""),
        ("up/dir.d\\file", ""),
        # A leading dot names a hidden file, not an extension.
        (".bashrc", ""),
        ("home/.profile", ""),
        ("home\\.profile", ""),
        ("home\\.notes.md", ".md"),
        ("noext", ""),
    ],
)
def test_extension_of_the_last_component(filename: str, ext: str) -> None:
    assert limits.extension(filename) == ext


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        # dagkit's own tables, the platform's list first.
        ("REPORT.PDF", "application/pdf"),
        ("scan.jpg", "image/jpeg"),  # not mimetypes' non-standard image/jpg
        ("rows.ndjson", "application/x-ndjson"),  # in no built-in table
        ("config.YAML", "application/yaml"),
        # mimetypes' standard table, then its common non-standard one.
        ("archive.zip", "application/zip"),
        ("song.mp3", "audio/mpeg"),
        ("tune.MID", "audio/midi"),
        ("picture.pict", "image/pict"),
        # Compressed bytes are not what the inner extension says.
        ("bundle.tgz", "application/octet-stream"),
        ("drawing.svgz", "application/octet-stream"),
        ("x.weird-ext", "application/octet-stream"),
        ("noext", "application/octet-stream"),
        ("dir.pdf/noext", "application/octet-stream"),
    ],
)
def test_content_type_sent_for_a_name(filename: str, content_type: str) -> None:
    assert limits.guess_content_type(filename) == content_type
