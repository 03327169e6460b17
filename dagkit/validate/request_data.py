"""Findings for a request_data text: JSON syntax, duplicate keys, schema, catalogue, job rules.

The verdict for valid text is fast (no jsonschema import); line and column numbers are only
worked out when there is something to report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagkit.core import jsontext
from dagkit.core.limits import MAX_REQUEST_DATA_BYTES
from dagkit.findings import Finding, Part, cap_findings, finding
from dagkit.model import clean, rules
from dagkit.schemas import check as schemacheck
from dagkit.schemas.store import REQUEST_DATA

if TYPE_CHECKING:
    from dagkit.core.jsonlocate import Locator


def validate_request_data(
    text: str | bytes, *, part: Part | None = None, file: str | None = None
) -> list[Finding]:
    """Every finding for one request_data text, with path, line and column filled in.

    A leading byte order mark is skipped, as editors do, so columns match what they show.
    """
    readable = decoded(text, "request_data", part=part, file=file)
    if isinstance(readable, list):
        return readable
    text = readable
    if _too_large(text):
        return _place([too_large()], None, part=part, file=file)
    if is_clean(text):
        return []
    return _explained(text, part=part, file=file)


def _too_large(text: str) -> bool:
    # UTF-8 takes at most 4 bytes a code point (3 for a lone surrogate): most texts need no count
    return len(text) > MAX_REQUEST_DATA_BYTES or (
        4 * len(text) > MAX_REQUEST_DATA_BYTES
        and len(text.encode("utf-8", "surrogatepass")) > MAX_REQUEST_DATA_BYTES
    )


def is_clean(text: str) -> bool:
    """Whether the request_data ``text`` (without a byte order mark) certainly has no finding:
    the common case, told apart cheaply. It parses at the C parser's speed, proves from the text
    that no object repeats a key, asks jsonschema-rs alone for the schema's verdict and
    :func:`dagkit.model.clean.keys_if_clean` for the rules'. False when anything may be
    amiss: the explaining path then finds (and places) what is."""
    try:
        doc = jsontext.loads_plain(text)
    except (ValueError, RecursionError):
        return False
    keys = clean.keys_if_clean(doc)
    return (
        keys is not None
        and jsontext.repeats_no_key(text, keys)
        and schemacheck.verdict(REQUEST_DATA, doc) is True
    )


def _explained(text: str, *, part: Part | None, file: str | None) -> list[Finding]:
    """Every finding for ``text``, placed: the path that explains what is wrong."""
    locator = None
    try:
        _, findings, locator = _parse_and_check(text)
    except RecursionError:
        findings = [finding("DK103", "the JSON nests too deeply to check")]
    return _place(cap_findings(findings), text, part=part, file=file, locator=locator)


def _place(
    findings: list[Finding],
    text: str | None,
    *,
    part: Part | None,
    file: str | None,
    locator: Locator | None = None,
) -> list[Finding]:
    """:func:`dagkit.core.jsonlocate.place`, loaded only when there is a finding to place."""
    # lazy: only text with a finding needs locating (a valid file never loads the locator)
    from dagkit.core.jsonlocate import place

    return place(findings, text, part=part, file=file, locator=locator)


def validate_request_lines(text: str | bytes, *, file: str | None = None) -> list[Finding]:
    """Every finding for JSON Lines of request_data (one job's per line, as ``dagkit build``
    prints a DAG that plans several jobs): each line is checked as request_data, and its
    findings are placed at its line of the file. Blank lines are skipped."""
    readable = decoded(text, "request_data", part=None, file=file)
    if isinstance(readable, list):
        return readable
    lines = jsontext.json_lines(readable)
    if not lines:
        empty = finding(
            "DK100",
            "no request_data line in this JSON Lines file",
            hint="write one job's request_data per line, as `dagkit build` prints them",
            file=file,
        )
        return [empty]
    return cap_findings(
        f.replace(line=number + (f.line or 1) - 1)
        for number, line in lines
        for f in validate_request_data(line, file=file)
    )


def decoded(
    text: str | bytes, what: str, *, part: Part | None, file: str | None
) -> str | list[Finding]:
    """``text`` as a string without a leading byte order mark (skipped, as editors do, so
    columns match what they show), or the located DK102 finding when it is not UTF-8."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = finding(
                "DK102",
                f"{what} is not valid UTF-8 (bad byte at offset {exc.start})",
                hint="save the file as UTF-8",
            )
            return _place([bad], None, part=part, file=file)
    return text.removeprefix("\ufeff")


def too_large() -> Finding:
    """DK420: request_data over :data:`~dagkit.core.limits.MAX_REQUEST_DATA_BYTES`."""
    return finding(
        "DK420",
        f"request_data is over {MAX_REQUEST_DATA_BYTES:,} bytes, dagkit's limit for it "
        "(a job's request_data is a few kilobytes); it is not checked further",
        hint="check that the file is request_data; long prompts or schemas belong in files",
    )


def parse_and_check(text: str) -> tuple[Any, list[Finding]]:
    """The parsed document (None when it does not parse) and its findings, unplaced."""
    doc, findings, _ = _parse_and_check(text)
    return doc, findings


def _parse_and_check(text: str) -> tuple[Any, list[Finding], Locator | None]:
    """:func:`parse_and_check`, and the text's locator if it was needed (to place the findings
    without scanning the text again)."""
    # lazy: only text with a finding needs locating (a valid file never loads the locator)
    from dagkit.core.jsonlocate import Locator, syntax_error

    try:
        doc, repeated = jsontext.loads_noting_duplicates(text)
    except (ValueError, RecursionError):
        syntax = syntax_error(text)
        return None, [syntax or finding("DK100", "the text is not valid JSON")], None
    # Where the repeats are is worked out only when there are some.
    locator = Locator(text) if repeated else None
    duplicates = locator.repeated_keys(repeated) if locator is not None else []
    return doc, [*rules.attach_nodes(duplicates, doc), *rules.check_document(doc)], locator


__all__ = ["parse_and_check", "too_large", "validate_request_data", "validate_request_lines"]
