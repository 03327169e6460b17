"""Which files a batch takes: inputs (files, directories, globs) -> files with their mirrored paths.

Each input has a *root*: a directory is its own root, a file's root is its parent directory, and
a glob's root is the part of the pattern before its first wildcard. A file's *relative path* is
its path from that root (with ``/`` separators), and its output goes to the same relative path
under the batch's out dir, so the tree of outputs mirrors the tree of inputs.

Directories are walked recursively in sorted order; hidden files and directories (a leading dot)
and the out dir itself are left out of a walk. A file given by name is always taken (and skipped
with a reason if the platform cannot process it).
"""

from __future__ import annotations

import glob
import os
import stat
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dagkit.core import limits
from dagkit.errors import Advice, AdviceKind
from dagkit.errors import BatchInputError as BatchInputError  # re-exported: its old home

_WILDCARDS = frozenset("*?[")


@dataclass(frozen=True)
class InputFile:
    """One file of a batch. ``skip`` says why it will not be sent (None: it will)."""

    source: str  #: the path as found (relative to the working directory when the input was)
    path: str  #: the path relative to its input root, ``/``-separated: what the output mirrors
    size: int
    skip: str | None = None

    @property
    def name(self) -> str:
        """The name the file is uploaded under (its base name)."""
        return self.path.rsplit("/", 1)[-1]


def find_inputs(
    inputs: Sequence[str | os.PathLike[str]],
    *,
    exclude: str | os.PathLike[str] | None = None,
    max_file_size: int = limits.MAX_FILE_SIZE,
) -> list[InputFile]:
    """Every file the inputs name, in the order given (each directory sorted), each once.

    A file reached twice (given twice, or through two inputs) is kept the first time. Two
    different files that would mirror to the same relative path (``r1/same.txt`` and
    ``r2/same.txt`` given as two inputs) are refused up front with :class:`BatchInputError`,
    naming every such pair: one output path cannot hold both, and no input may be dropped.
    ``exclude`` (the out dir) is never walked into.
    """
    if isinstance(inputs, str | bytes | os.PathLike):
        raise BatchInputError("inputs must be a list of paths, not a single path")
    excluded = Path(exclude).resolve() if exclude is not None else None
    seen_files: set[tuple[int, int]] = set()
    paths_taken: dict[str, str] = {}
    found: list[InputFile] = []
    collisions: list[str] = []
    for item in inputs:
        for source, relative in _expand(os.fspath(item), excluded):
            try:
                info = os.stat(source)
            except OSError as exc:
                found.append(InputFile(source, relative, 0, f"cannot read it: {exc.strerror}"))
                continue
            if not stat.S_ISREG(info.st_mode):
                continue  # a socket or a pipe met in a walk
            identity = (info.st_dev, info.st_ino)  # the same file, whatever the path to it
            if identity in seen_files:
                continue
            seen_files.add(identity)
            owner = paths_taken.setdefault(relative, source)
            if owner != source:
                collisions.append(f"{owner} and {source} both mirror to {relative!r}")
                continue
            found.append(_judge(source, relative, info.st_size, max_file_size))
    if collisions:
        shown = "; ".join(collisions[:_MAX_SHOWN])
        more = f" (and {len(collisions) - _MAX_SHOWN} more)" if len(collisions) > _MAX_SHOWN else ""
        raise BatchInputError(
            f"{len(collisions)} input file(s) would share an output path: {shown}{more}. "
            "Give a folder that holds them all as the input instead (its relative paths differ).",
            advice=[Advice.of(AdviceKind.SEPARATE_OUT_DIRS)],
        )
    return found


#: Collisions named in the message; the count says how many there are in all.
_MAX_SHOWN = 5


def _expand(item: str, excluded: Path | None) -> Iterator[tuple[str, str]]:
    """(path, relative path) for every file an input names."""
    if any(c in _WILDCARDS for c in item):
        root = _glob_root(item)
        matches = sorted(glob.glob(item, recursive=True))
        if not matches:
            raise BatchInputError(f"{item}: the pattern matches no file")
        for match in matches:
            if os.path.isdir(match):
                yield from _walk(match, root, excluded)
            elif os.path.isfile(match):
                yield match, _relative(match, root)
        return
    if os.path.isdir(item):
        yield from _walk(item, item, excluded)
    elif os.path.isfile(item):
        yield item, os.path.basename(item)
    elif os.path.lexists(item):
        raise BatchInputError(f"{item}: not a regular file or directory")
    else:
        raise BatchInputError(f"{item}: no such file or directory")


def _walk(top: str, root: str, excluded: Path | None) -> Iterator[tuple[str, str]]:
    for directory, dirs, files in os.walk(top):
        keep = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue
            # only a directory of the out dir's name can be it: resolve no other
            if (
                excluded is not None
                and name == excluded.name
                and Path(directory, name).resolve() == excluded
            ):
                continue
            keep.append(name)
        dirs[:] = keep  # os.walk descends in this (sorted) order
        prefix = _relative(directory, root)  # once per directory, not per file
        for name in sorted(files):
            if not name.startswith("."):
                yield os.path.join(directory, name), name if prefix == "." else f"{prefix}/{name}"


def _glob_root(pattern: str) -> str:
    """The directory part of a pattern before its first wildcard (``docs/**/*.md`` -> ``docs``)."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if any(c in _WILDCARDS for c in part):
            break
        fixed.append(part)
    return os.path.join(*fixed) if fixed else "."


def _relative(path: str, root: str) -> str:
    relative = Path(os.path.relpath(path, root)).as_posix()
    # "d/*/../../x/*.txt" matches outside its fixed part: such a file's output must still land
    # inside --out, so it goes by its name alone.
    if relative == ".." or relative.startswith("../"):
        return os.path.basename(path)
    return relative


def _judge(source: str, relative: str, size: int, max_file_size: int) -> InputFile:
    """The file, with the reason the platform would not take it, if there is one."""
    reason = skip_reason(relative.rsplit("/", 1)[-1], size, max_file_size)
    if reason is None and not os.access(source, os.R_OK):
        reason = "cannot read it: permission denied"
    return InputFile(source, relative, size, reason)


def skip_reason(name: str, size: int, max_file_size: int = limits.MAX_FILE_SIZE) -> str | None:
    """Why the platform would not take a file of this name and size, or None if it would."""
    if not limits.is_supported(name):
        ext = limits.extension(name) or "(no extension)"
        return f"the platform does not process {ext} files"
    if size > max_file_size:
        return f"the file is {size:,} bytes; the limit is {max_file_size:,} per file"
    if size == 0:
        return "the file is empty; the platform has nothing to process"
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "the file name contains a control character"
    return None
