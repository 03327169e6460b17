"""Options and help text that several commands share, each defined once.

:func:`out_option` is the one name for where output goes (``--out``/``-o``), with the
spellings commands used before kept as hidden aliases. :func:`examples` is the epilog of every
command's ``--help``. ``--max-file-size`` is the per-file limit: what ``validate`` applies to
bodies, what ``submit``, ``batch`` and ``workflows run`` check before uploading, and what
``serve`` (and ``--local``) accepts. Commands do not take it as a parameter:
:func:`max_file_size` reads it from the click context, so the connection helpers pick it up
wherever a client or a server is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from dagkit.core.limits import MAX_FILE_SIZE

_F = TypeVar("_F", bound=Callable[..., Any])
_KEY = "dagkit.max_file_size"
_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


def byte_size(text: str | int) -> int:
    """A size in bytes: ``10000000``, ``10MB`` (decimal) or ``10MiB`` (binary)."""
    if isinstance(text, int):
        return text
    value = text.strip().lower().replace(" ", "")
    number = value.rstrip("kmgib")
    unit = value[len(number) :]
    if not number.isdigit() or unit not in _UNITS or int(number) == 0:
        raise click.BadParameter(f"{text!r} is not a size; write bytes, or e.g. 10MB or 50MiB")
    return int(number) * _UNITS[unit]


def _store(ctx: click.Context, param: click.Parameter, value: str | int) -> int:
    size = byte_size(value)
    ctx.meta[_KEY] = size
    return size


def limit_options(command: _F) -> _F:
    """Add ``--max-file-size`` to a command; read it with :func:`max_file_size`."""
    option = click.option(
        "--max-file-size",
        type=str,
        callback=_store,
        default=str(MAX_FILE_SIZE),
        expose_value=False,
        is_eager=True,
        metavar="BYTES",
        help="Per-file limit: bytes, or e.g. 50MB, 10MiB (default 10MB, as documented; "
        "some accounts allow 50MB).",
    )
    return option(command)


class _AliasedOption(click.Option):
    """An option whose older spellings still work but are not shown in ``--help``."""

    def __init__(self, *args: Any, hidden_aliases: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hidden_aliases = hidden_aliases

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        shown, self.opts = self.opts, [o for o in self.opts if o not in self.hidden_aliases]
        try:
            return super().get_help_record(ctx)
        finally:
            self.opts = shown


def out_option(
    dest: str, help: str, *, aliases: tuple[str, ...] = (), **kwargs: Any
) -> Callable[[_F], _F]:
    """``--out``/``-o``: where a command writes what it makes (a file or a directory, as
    ``kwargs`` say); ``aliases`` are the older spellings, accepted and hidden."""
    return click.option(
        "--out",
        "-o",
        *aliases,
        dest,
        cls=_AliasedOption,
        hidden_aliases=aliases,
        help=help,
        **kwargs,
    )


def examples(*lines: str) -> str:
    """A ``--help`` epilog of example command lines (kept as written, like git's and gh's)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def max_file_size() -> int:
    """The --max-file-size of the command running (the documented 10 MB outside one)."""
    ctx = click.get_current_context(silent=True)
    size = ctx.meta.get(_KEY) if ctx is not None else None
    return size if isinstance(size, int) else MAX_FILE_SIZE


__all__ = ["byte_size", "examples", "limit_options", "max_file_size", "out_option"]


def follow_options(command: _F) -> _F:
    """``--wait``, ``--out`` and ``--wait-timeout``: how a command that starts jobs follows
    them (``submit`` and ``workflows run``)."""
    wait = click.option("--wait", is_flag=True, help="Follow the job(s) until they end.")
    out = out_option(
        "download",
        "Save every output into DIR (implies --wait).",
        aliases=("--download",),
        metavar="DIR",
        type=click.Path(file_okay=False),
    )
    timeout = click.option(
        "--wait-timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Wait, and give up after this long (the job keeps running; implies --wait) "
        "[default: no limit].",
    )
    return wait(out(timeout(command)))
