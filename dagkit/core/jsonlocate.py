"""Where things are in a JSON text: syntax errors, duplicate keys, and the place of a pointer.

Users edit request_data by hand, so a finding should say ``line 12, column 7``, not only
``/job_nodes/2/settings/strategy``. Everything here runs only when something is wrong, so it
may be slower than :func:`json.loads`, but it is linear in the text, never recursive (any depth
of nesting is fine), and never raises on any text.

Lines count ``\\n`` characters and columns count code points, both from 1, exactly as
:class:`json.JSONDecodeError` does, so every position dagkit reports agrees with it.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from typing import Any

from dagkit.core import pointers
from dagkit.core.limits import MAX_FINDINGS
from dagkit.findings import DocPath, Finding, Part, finding, more_findings

__all__ = ["Locator", "duplicate_keys", "locate", "syntax_error"]


def syntax_error(text: str) -> Finding | None:
    """A DK100 finding (line, column, what was expected) if ``text`` is not JSON, else None.

    Nesting too deep for the parser gives DK103. ``NaN`` and ``Infinity``, which Python's
    parser accepts but JSON does not, are DK100 too, and so is a number too long to convert.
    """
    try:
        json.loads(text, parse_constant=_reject_constant)
    except _Constant:
        return _constant_error(text)
    except json.JSONDecodeError as exc:
        message, hint = _explain(text, exc)
        return finding("DK100", message, hint=hint, line=exc.lineno, column=exc.colno)
    except RecursionError:
        return finding(
            "DK103",
            "the JSON nests deeper than dagkit can parse",
            hint="flatten the document: request_data needs only a few levels",
        )
    except ValueError:  # an integer beyond Python's digit limit
        return _number_error(text)
    return None


def duplicate_keys(text: str) -> list[Finding]:
    """A DK101 warning for each repeated key of an object, at its second (third...) occurrence.

    The pointer names the repeated member (the value that wins); line and column point at the
    repeated key. Text that is not JSON gives the duplicates before the first syntax error.
    """
    try:
        json.loads(text, object_pairs_hook=_refuse_duplicates)
        return []
    except _Duplicate:
        pass
    except (ValueError, RecursionError):
        pass
    return Locator(text).duplicates


def locate(text: str, pointer: str) -> tuple[int, int] | None:
    """The 1-based line and column where the value at ``pointer`` starts in ``text``.

    For a pointer that names nothing, the place of the deepest value on its way that exists
    (the enclosing object of a missing key). None when the text has no value at all or the
    pointer is not a JSON pointer.
    """
    return Locator(text).locate(pointer)


class Locator:
    """Scans a JSON text once, then answers many :meth:`locate` questions.

    The scan goes only as far as the questions need: findings about the start of a long
    answer do not cost a scan of all of it. Robust on any text: a syntax error ends the scan,
    and what came before it is still known.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._newlines: list[int] | None = None
        # The first MAX_FINDINGS repeated keys (where, key, offset); the rest are only counted.
        self._duplicates: list[tuple[DocPath, str, int]] = []
        self._more_duplicates = 0
        # the scan so far, to resume from
        self.root: _Node | int | None = None
        self._pos = 1 if text.startswith("\ufeff") else 0
        self._stack: list[_Frame] = []
        self._done = False

    # -- questions --------------------------------------------------------------------------

    def locate(self, pointer: str) -> tuple[int, int] | None:
        """Line and column of the value at ``pointer`` (see :func:`locate`)."""
        if pointer and not pointer.startswith("/"):
            return None
        return self.locate_path(pointers.split(pointer))

    def locate_path(self, path: Sequence[str | int]) -> tuple[int, int] | None:
        """Line and column of the value at ``path`` (keys and indexes from the root), or of
        the deepest value on its way that exists."""
        found = self._find(path)
        return None if found is None else self.position(_start(found[0]))

    def locate_key(self, pointer: str) -> tuple[int, int] | None:
        """Line and column of the key of the object member at ``pointer`` (its quote).

        Falls back to :meth:`locate` for array items, the root, and members that do not exist.
        """
        if pointer and not pointer.startswith("/"):
            return None
        found = self._find(pointers.split(pointer))
        if found is None:
            return None
        node, key_start = found
        return self.position(key_start if key_start is not None else _start(node))

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based line and column of a character offset into the text."""
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1

    @property
    def duplicates(self) -> list[Finding]:
        """A DK101 warning for every repeated key (see :func:`duplicate_keys`)."""
        return self.repeated_keys()

    def repeated_keys(self, total: int | None = None) -> list[Finding]:
        """The DK101 warnings of the first MAX_FINDINGS repeated keys, then a DK900 counting
        the rest. Given the ``total`` number of repeats (a parser counted them), the scan stops
        at the last one listed instead of going on to count the rest."""
        if total is None:
            self._scan()
        else:
            while not self._done and len(self._duplicates) < min(total, MAX_FINDINGS):
                self._scan(_BATCH)
            self._more_duplicates = max(0, total - len(self._duplicates))
        out = []
        for path, key, offset in self._duplicates:
            line, column = self.position(offset)
            where = "the top-level object" if not path else f"the object at {_pointer(path)}"
            out.append(
                finding(
                    "DK101",
                    f'key "{key}" appears more than once in {where}; the last value wins',
                    hint="remove one of them (or rename it if both are meant)",
                    path=(*path, key),
                    line=line,
                    column=column,
                )
            )
        if self._more_duplicates:
            out.append(more_findings(self._more_duplicates, errors=False))
        return out

    def _find(self, path: Sequence[str | int]) -> tuple[_Node | int, int | None] | None:
        while self.root is None and not self._done:
            self._scan(_BATCH)
        if self.root is None:
            return None
        node: _Node | int = self.root
        key_start: int | None = None
        for step in path:
            token = str(step)
            if not isinstance(node, _Node):
                break
            while True:
                child: _Node | int | None = None
                if isinstance(node.children, dict):
                    member = node.children.get(token)
                    if member is not None:
                        key_start, child = member
                elif re.fullmatch(_INDEX, token) and int(token) < len(node.children):
                    key_start, child = None, node.children[int(token)]
                if child is not None or node.closed or self._done:
                    break
                self._scan(_BATCH)  # not scanned that far yet
            if child is None:
                return node, None
            node = child
        return node, key_start

    # -- the scan ---------------------------------------------------------------------------

    def _scan(self, budget: int | None = None) -> None:
        """Build the tree of value positions, iteratively, for ``budget`` more tokens (None: to
        the end); stop quietly at a syntax error."""
        if self._done:
            return
        text = self.text
        match = re.compile(_TOKEN).match
        pos = self._pos
        root = self.root
        stack = self._stack
        frame: _Frame | None = stack[-1] if stack else None
        left = -1 if budget is None else budget
        while True:
            if left == 0:
                self._pos, self.root = pos, root
                return
            left -= 1
            token = match(text, pos)
            if token is None:
                break
            start, pos = token.span(1)
            char = text[start]
            if char == "}" or char == "]":
                if frame is None or char != frame.closer:
                    break
                frame.node.closed = True
                stack.pop()
                frame = stack[-1] if stack else None
                continue
            if char == ",":
                if frame is None:
                    break
                frame.want_key = frame.members is not None
                continue
            if char == ":":
                if frame is None or frame.key is None:
                    break
                continue
            if frame is not None and frame.want_key:
                if char != '"':
                    break
                frame.key = _decode_key(token.group(1))
                frame.key_start = start
                frame.want_key = False
                continue
            # a value
            value: _Node | int = start
            if char == "{" or char == "[":
                value = _Node(start, {} if char == "{" else [])
            name: str | int | None = None
            if frame is None:
                if root is not None:
                    break  # more text after the document
                root = value
            elif frame.members is not None:
                name = frame.key
                if name is None:
                    break
                if name in frame.members:
                    if len(self._duplicates) < MAX_FINDINGS:
                        if frame.path is None:  # once per object, however many repeats
                            frame.path = _path(stack)
                        self._duplicates.append((frame.path, name, frame.key_start))
                    else:
                        self._more_duplicates += 1
                frame.members[name] = (frame.key_start, value)
                frame.key = None
            else:
                items = frame.node.children
                assert isinstance(items, list)
                name = len(items)
                items.append(value)
            if isinstance(value, _Node):
                frame = _Frame(value, name)
                stack.append(frame)
        self._pos, self.root, self._done = pos, root, True


#: Tokens scanned at a time when a question needs more of the text.
_BATCH = 2048


class _Node:
    """An object or array: where it starts, its members' (key start, value) or items, and
    whether the scan has seen its end."""

    __slots__ = ("children", "closed", "start")

    def __init__(
        self, start: int, children: dict[str, tuple[int, _Node | int]] | list[_Node | int]
    ) -> None:
        self.start = start
        self.children = children
        self.closed = False


class _Frame:
    """An open container during the scan."""

    __slots__ = ("closer", "key", "key_start", "members", "name", "node", "path", "want_key")

    def __init__(self, node: _Node, name: str | int | None) -> None:
        self.node = node
        self.name = name  # its key or index in its parent
        self.members = node.children if isinstance(node.children, dict) else None
        self.closer = "]" if self.members is None else "}"
        self.want_key = self.members is not None
        self.key: str | None = None
        self.key_start = 0
        self.path: DocPath | None = None  # its place, once a repeated key needs it


def _start(node: _Node | int) -> int:
    return node.start if isinstance(node, _Node) else node


def _path(stack: list[_Frame]) -> DocPath:
    """The keys and indexes from the root to the innermost open container."""
    return tuple(frame.name for frame in stack[1:] if frame.name is not None)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def _pointer(path: DocPath) -> str:
    return pointers.join("", *path)


# The patterns below are compiled on first use (re caches them), not at import: a valid
# document never needs them, and ``dagkit validate`` starts for every CI run.
_WS = r"[ \t\n\r]*"
# One token after optional whitespace: a string, punctuation, a number or a literal. Lenient
# where leniency costs nothing (numbers), since json.loads has already judged the syntax.
_TOKEN = (
    r"(?xs)"  # VERBOSE, DOTALL
    + _WS
    + r"""(
        "[^"\\]*(?:\\.[^"\\]*)*"
      | [{}\[\],:]
      | -?[0-9][0-9.eE+-]*
      | true | false | null | NaN | -?Infinity
    )"""
)
_INDEX = r"0|[1-9][0-9]*"


def _decode_key(quoted: str) -> str:
    if "\\" not in quoted:
        return quoted[1:-1]
    try:
        key = json.loads(quoted)
    except ValueError:
        return quoted[1:-1]
    return key if isinstance(key, str) else quoted[1:-1]


# -- duplicate keys: the fast pre-check ---------------------------------------------------------


class _Duplicate(Exception):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _Duplicate
    return result


# -- syntax errors ------------------------------------------------------------------------------


class _Constant(Exception):
    pass


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


_CONSTANT = r'(?s)"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)'


def _constant_error(text: str) -> Finding:
    for match in re.finditer(_CONSTANT, text):
        if match.group(1):
            line, column = _line_col(text, match.start(1))
            return finding(
                "DK100",
                f"{match.group(1)} is not a JSON value",
                hint="JSON has no NaN or infinity: write a number, or null",
                line=line,
                column=column,
            )
    return finding("DK100", "NaN and Infinity are not JSON values", hint="write a number or null")


def _number_error(text: str) -> Finding:
    import sys

    digits = sys.get_int_max_str_digits() + 1
    long_number = re.compile(rf'"(?:[^"\\]|\\.)*"|(-?[0-9]{{{digits},}})', re.DOTALL)
    where: dict[str, int] = {}
    for match in long_number.finditer(text):
        if match.group(1):
            where["line"], where["column"] = _line_col(text, match.start(1))
            break
    return finding(
        "DK100",
        "a number has too many digits to be read",
        hint="no setting takes a number this long; check for a pasted value",
        **where,
    )


def _explain(text: str, exc: json.JSONDecodeError) -> tuple[str, str]:
    """A clear sentence for a :class:`json.JSONDecodeError`: what was expected, and a hint."""
    pos = exc.pos
    char = text[pos] if pos < len(text) else ""
    before = text[:pos].rstrip(" \t\r\n")
    previous = before[-1:] if before else ""
    at_end = not text[pos:].strip(" \t\r\n")
    found = _show_char(text, pos)
    msg = exc.msg
    if msg.startswith("Unexpected UTF-8 BOM"):
        return "the text starts with a byte order mark", "save the file as UTF-8 without a BOM"
    if text.startswith(("//", "/*"), pos) and not msg.startswith(("Unterminated", "Invalid")):
        return "comments are not allowed in JSON", "remove the comment"
    if msg == "Expecting value":
        if not text.strip(" \t\r\n"):
            return "the text is empty; a JSON value was expected", "write a JSON object: {...}"
        if at_end:
            if previous == ",":
                return "a comma ends the text", "remove the trailing comma"
            return "the text ends where a value was expected", "complete the document"
        if char in "]}" and previous == ",":
            return f'a comma before "{char}" is not allowed in JSON', "remove the trailing comma"
        return _bad_value(text, pos, found)
    if msg.startswith("Expecting property name"):
        if at_end:
            return "the text ends inside an object", 'close the object with "}"'
        if char == "}" and previous == ",":
            return 'a comma before "}" is not allowed in JSON', "remove the trailing comma"
        if char == "'":
            return "keys must be in double quotes, not single quotes", 'write "key" instead'
        if char == "/":
            return "comments are not allowed in JSON", "remove the comment"
        if char.isalpha() or char == "_":
            word = re.match(r"[\w$-]+", text[pos:])
            name = word.group(0) if word else char
            return f"the key {name} must be in double quotes", f'write "{name}"'
        return f"expected a key in double quotes, found {found}", 'write "key": value'
    if msg.startswith("Expecting ':'"):
        return (
            f"expected ':' after the key, found {found}",
            "put a colon between a key and its value",
        )
    if msg.startswith("Expecting ','"):
        if at_end:
            return "the text ends before every object and array is closed", (
                'close each open "{" with "}" and "[" with "]"'
            )
        if char == '"' or char.isalnum() or char in "{[-":
            return f"a comma is missing before {found}", "separate items with commas"
        return f"expected ',' or a closing bracket, found {found}", "separate items with commas"
    if msg == "Extra data":
        return (
            f"more text follows the end of the JSON document: {found}",
            "remove it, or wrap several values in one array",
        )
    if msg.startswith("Unterminated string"):
        return "a string starts here and is never closed", 'add the closing double quote (")'
    if msg.startswith("Invalid control character"):
        if char == "\n":
            return "a line break inside a string", r"write a line break in a string as \n"
        if char == "\t":
            return "a tab inside a string", r"write a tab in a string as \t"
        return "a control character inside a string", r"write it as a \u00XX escape"
    if msg.startswith("Invalid \\uXXXX"):
        return r"\u must be followed by four hex digits", r"write \u00e9 for é, for example"
    if msg.startswith("Invalid \\escape"):
        return (
            f"an invalid escape {text[pos : pos + 2]!r} in a string",
            r"JSON escapes are \" \\ \/ \b \f \n \r \t and \uXXXX; write a backslash as \\",
        )
    return msg, "fix the JSON syntax here"


def _bad_value(text: str, pos: int, found: str) -> tuple[str, str]:
    char = text[pos]
    word_match = re.match(r"[A-Za-z_]\w*", text[pos:])
    word = word_match.group(0) if word_match else ""
    literals = {"True": "true", "False": "false", "None": "null", "TRUE": "true", "FALSE": "false"}
    if word in literals or word.lower() in ("true", "false", "null"):
        right = literals.get(word, word.lower())
        return f"{word} is not a JSON value; JSON writes {right}", f"write {right}"
    if char == "'":
        return "strings must be in double quotes, not single quotes", 'write "text" instead'
    if char == "/":
        return "comments are not allowed in JSON", "remove the comment"
    if char in "+." or (char == "0" and text[pos + 1 : pos + 2].isdigit()):
        return f"a number cannot start with {found} in JSON", "write numbers like 0.5, 12 or -3"
    if word:
        return f"{word} is not a JSON value; text must be in double quotes", f'write "{word}"'
    return (
        f"expected a value (object, array, string, number, true, false or null), found {found}",
        "write a value here",
    )


def _show_char(text: str, pos: int) -> str:
    if pos >= len(text):
        return "the end of the text"
    char = text[pos]
    if char.isprintable() and not char.isspace():
        return f'"{char}"'
    return f"U+{ord(char):04X}"


def place(
    findings: list[Finding],
    text: str | None,
    *,
    part: Part | None = None,
    file: str | None = None,
    line_offset: int = 0,
    skip: frozenset[str] = frozenset(),
    locator: Locator | None = None,
) -> list[Finding]:
    """Give findings the line and column of their path in ``text`` (scanned once, and only
    when some finding needs it), shifted by ``line_offset``, and the part and file they are in.

    Findings whose code is in ``skip`` keep no position: their pointers concern another text.
    ``locator``: one already made for ``text``.
    """
    out = []
    for f in findings:
        if f.line is None and text is not None and f.code not in skip:
            if locator is None:
                locator = Locator(text)
            spot = locator.locate_path(f.path)
            if spot is not None:
                f = f.replace(line=spot[0], column=spot[1])
        if line_offset and f.line is not None:
            f = f.replace(line=f.line + line_offset)
        if part is not None and f.part is None:
            f = f.replace(part=part)
        if file is not None and f.file is None:
            f = f.replace(file=file)
        out.append(f)
    return out
