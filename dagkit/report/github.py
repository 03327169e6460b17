"""The ``github`` report: one workflow command per finding, shown as an annotation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dagkit.report import with_file

if TYPE_CHECKING:
    from dagkit.findings import Finding
    from dagkit.validate.files import FileResult


def render(results: Sequence[FileResult], *, strict: bool, colour: bool) -> str:
    return "".join(_github_line(f) + "\n" for r in results for f in with_file(r))


def _github_line(f: Finding) -> str:
    """``::error file=...,line=...,col=...,title=CODE::message`` for one finding."""
    props = [("file", f.file or "")]
    if f.line is not None:
        props.append(("line", str(f.line)))
        if f.column is not None:
            props.append(("col", str(f.column)))
    props.append(("title", f.code))
    where = f.inside()
    message = f.message + (f" ({where})" if where else "") + (f"\n{f.hint}" if f.hint else "")
    head = ",".join(f"{key}={_escape_property(value)}" for key, value in props)
    return f"::{f.severity} {head}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    # GitHub's rules for a command's message: %, CR and LF are percent-encoded.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    # A property value also may not hold the ':' and ',' that delimit properties.
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
