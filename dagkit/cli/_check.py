"""What ``dagkit validate`` does once its command line is read, without click.

:func:`check` is the one body of the command: validate the paths, keep the selected codes,
render, print the report (or write it with ``--out``), the summary and skipped-file lines on
standard error, and the exit status. The click command (:mod:`dagkit.cli.validate`) parses the
options and calls it; :func:`dagkit.cli.run` calls it directly for a bare ``dagkit validate
PATH...``, so that the everyday run never imports click. How text reaches the terminal is the
caller's: ``echo`` is ``click.echo`` in the click command and :func:`write` on the fast path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from dagkit.cli._terminal import colour_ok, is_tty
from dagkit.core.limits import MAX_FILE_SIZE
from dagkit.core.suggest import shortlist
from dagkit.errors import DagkitError, UsageError
from dagkit.report import plural, render, select, summary_line
from dagkit.validate.files import Kind, validate_paths

#: ``echo(text, err)``: print ``text`` as it is (no newline added) on standard output, or on
#: standard error when ``err``.
Echo = Callable[[str, bool], None]


class Handover:
    """An exception the click-free run of ``dagkit validate`` raised, handed to the click
    command (as the context's ``obj``) to raise again, so that click reports it in its own words
    and with its own exit status, as if the command had raised it: nothing is validated or
    printed twice."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def check(
    paths: Iterable[str],
    *,
    echo: Echo,
    kind: Kind | None = None,
    content_type: str | None = None,
    operation: str | None = None,
    status: int | None = None,
    max_file_size: int = MAX_FILE_SIZE,
    exclude: Iterable[str] = (),
    strict: bool = False,
    selected: Iterable[str] = (),
    ignored: Iterable[str] = (),
    fmt: str = "text",
    output: str | None = None,
    jobs: int | None = None,
) -> int:
    """Validate ``paths``, print what was found and return the exit status: 0 all valid, 1
    something invalid (with ``strict``, warnings too).

    A path that names nothing or cannot be read raises :class:`~dagkit.errors.InputPathError`
    before anything is printed; a report that cannot be written to ``output`` raises
    :class:`~dagkit.errors.UsageError`. The defaults are the command's own (a test holds them
    equal to the click options' defaults).
    """
    skipped: list[str] = []
    results = validate_paths(
        paths,
        kind=kind,
        content_type=content_type,
        operation=operation,
        status=status,
        max_file_size=max_file_size,
        jobs=jobs,
        exclude=exclude,
        skipped=skipped,
    )
    results = select(results, tuple(selected), tuple(ignored))
    colour = fmt == "text" and output is None and colour_ok(sys.stdout)
    report = printable(render(results, fmt, strict=strict, colour=colour))
    if output is None:
        echo(report, False)
    else:
        _write_report(output, report)
    if output is not None or fmt != "text":
        echo(summary_line(results, strict=strict) + "\n", True)
    if skipped:
        echo(skipped_line(skipped) + "\n", True)
    return 0 if all(r.valid(strict) for r in results) else 1


def write(text: str, err: bool) -> None:
    """``click.echo(text, nl=False, err=err)`` without click, for standard streams that click
    would use as they are (:func:`dagkit.cli.run` makes sure of that): write and flush. Escape
    sequences are the one thing click changes, removing them from output that is not a
    terminal, so text that holds one away from a terminal is left to click itself."""
    stream = sys.stderr if err else sys.stdout
    if "\x1b" in text and not is_tty(stream):
        # lazy: only an escape sequence in output that is not a terminal needs click's rule
        import click

        click.echo(text, nl=False, err=err)
        return
    stream.write(text)
    stream.flush()


def skipped_line(skipped: list[str]) -> str:
    return (
        f"skipped {plural(len(skipped), 'file')} that hold no request_data, body, response or "
        f"workflow: {shortlist(skipped, 3)} (name a file to check it anyway)"
    )


def printable(text: str) -> str:
    """Lone surrogates (from JSON escapes such as ``"\\ud800"``) written as escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _write_report(path: str, text: str) -> None:
    # lazy: only --out writes a file; atomic's temporary names pull in secrets and hashlib
    from dagkit.core.atomic import write_text

    try:
        write_text(path, text)
    except DagkitError as exc:
        raise UsageError(f"cannot write the report: {exc}") from None
