"""The ``dagkit`` program: :func:`run` reads the command line and runs it.

``dagkit validate PATH...`` is what CI runs thousands of times a day, and click costs about as much
start-up as validating a file does. So a command line that can only mean "validate these paths
with every default" runs :func:`dagkit.cli._check.check`, the validate command's own body,
without importing click; any other command line (an option, ``--help``, another command) goes to
the click group (:data:`dagkit.cli.group.main`), as does everything the fast path cannot finish
itself (a missing path, an interrupt, a broken pipe): the exception is handed to the click
command, which reports it in click's words, so the output, the exit status and the work done are
the same either way. ``tests/test_fast_validate.py`` runs both paths on the same inputs.
"""

from __future__ import annotations

import codecs
import io
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from dagkit.http.redact import redact_output


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """Run the ``dagkit`` command line ``argv`` (default: ``sys.argv[1:]``) and exit."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not (is_plain_validate(args) and click_would_add_nothing()):
        _click(args)
    try:
        # lazy: the validate command's body, for the one command line that skips click
        from dagkit.cli._check import check, write

        redact_output()  # what the click group does first, before any command prints
        code = check(args[1:], echo=write)
    except (Exception, KeyboardInterrupt) as exc:
        # lazy: only a run that did not end well needs click, to say so in click's words
        from dagkit.cli._check import Handover

        _click(args, obj=Handover(exc))
    sys.exit(code)


def is_plain_validate(args: Sequence[str]) -> bool:
    """Whether ``args`` surely mean the same to click as "validate these paths with every
    default": ``validate`` and one or more paths (``-`` is standard input), and nothing that
    click could read as an option."""
    return (
        len(args) >= 2
        and args[0] == "validate"
        and all(arg == "-" or not arg.startswith("-") for arg in args[1:])
    )


def click_would_add_nothing() -> bool:
    """Whether click would print what a plain write prints, and read nothing in the environment
    the fast path does not: a POSIX system (on Windows click expands arguments and writes through
    its own console streams), the interpreter's own UTF-8 standard streams (which ``click.echo``
    writes to as they are), and no shell-completion request (``_DAGKIT_COMPLETE``)."""
    return (
        os.name == "posix"
        and _plain_stream(sys.stdout)
        and _plain_stream(sys.stderr)
        and not any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ)
    )


def _plain_stream(stream: object) -> bool:
    if type(stream) is not io.TextIOWrapper or stream.errors is None:
        return False
    try:
        return codecs.lookup(stream.encoding).name == "utf-8"
    except LookupError:
        return False


def _click(args: list[str], **context: Any) -> NoReturn:
    # lazy: every command line but a bare `dagkit validate PATH...` goes through click
    from dagkit.cli.group import main

    main.main(args, **context)
    raise AssertionError("click exits")  # standalone mode never returns
