"""RouterOS export and script text as commands: `/menu path`, a verb, its target and key=values.

What an export or a hand-written script may hold, and how it is read:

- `\\` at a line's end continues the line, also in the middle of a word or value; the next
  line's indentation is dropped. CRLF is read as LF.
- `#` starts a comment line; blank lines separate nothing.
- `/queue simple` alone sets the menu for the lines after it; `/queue simple add ...;`
  (RouterOS 7's one-line commands) is one command with its own menu; `;` separates commands.
- Values are bare words, quoted strings (escapes `\\" \\\\ \\n \\r \\t \\$ \\?` and hex
  `\\4F`) or `[ ... ]` command expressions, kept as `Expr` text and never executed.
- `:local`, `:if` and other scripting commands, and `{ ... }` blocks, are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.configs.inforce import Origin, refuse

VERBS = frozenset(
    [
        "add",
        "set",
        "remove",
        "disable",
        "enable",
        "move",
        "print",
        "export",
        "unset",
        "reset",
        "comment",
        "edit",
        "find",
        "get",
        "monitor",
        "import",
    ]
)
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "$": "$", "?": "?", "_": " "}


@dataclass(frozen=True, slots=True)
class Expr:
    """A `[ ... ]` command expression, as text (never executed)."""

    text: str

    def find_conditions(self) -> dict[str, str] | None:
        """`[ find k=v ... ]` (optionally `where`) as {k: v}; None for any other expression."""
        words = self.text.strip()[1:-1].split()
        if not words or words[0] != "find":
            return None
        words = words[1:]
        if words[:1] == ["where"]:
            words = words[1:]
        pairs = [w.split("=", 1) for w in words]
        if any(len(p) != 2 for p in pairs):
            return None
        return {k: v.strip('"') for k, v in pairs}


Value = str | Expr


@dataclass(frozen=True, slots=True)
class Command:
    """One command: the menu it acts on, its verb, its positional target and its arguments."""

    menu: tuple[str, ...]
    verb: str
    target: Value | None
    args: dict[str, Value]
    origin: Origin


def commands(text: str, path: str) -> list[Command]:
    """Every command of a RouterOS file in order (see the module doc)."""
    out: list[Command] = []
    menu: tuple[str, ...] = ()
    for line, logical in _logical_lines(text):
        origin = Origin(path, line)
        for part in _split_commands(logical, origin):
            tokens = _tokens(part, origin)
            if not tokens:
                continue
            menu, command = _command(tokens, menu, origin)
            if command is not None:
                out.append(command)
    return out


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first physical line, text) of each logical line: continuations joined, comments out."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(lines, start=1):
        piece = raw.lstrip() if buffer else raw
        if not buffer:
            start = number
            if piece.lstrip().startswith("#"):
                continue
        trailing = len(piece) - len(piece.rstrip("\\"))
        if trailing % 2 == 1:
            buffer.append(piece[:-1])
            continue
        buffer.append(piece)
        joined = "".join(buffer)
        buffer = []
        if joined.strip():
            out.append((start, joined))
    if buffer:
        out.append((start, "".join(buffer)))
    return out


def _split_commands(line: str, origin: Origin) -> list[str]:
    """The line cut at each `;` outside quotes, brackets and braces."""
    parts: list[str] = []
    depth, quoted, escaped, begin = 0, False, False, 0
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char in "[{(":
            depth += 1
        elif not quoted and char in "]})":
            depth -= 1
        elif not quoted and depth == 0 and char == ";":
            parts.append(line[begin:i])
            begin = i + 1
    if quoted:
        raise refuse(origin, "a quoted value is not closed")
    parts.append(line[begin:])
    return [p for p in parts if p.strip()]


def _tokens(text: str, origin: Origin) -> list[tuple[str, Value | None]]:
    """(word, None) or (key, value) tokens; a `{` block or `:` command gives []."""
    stripped = text.strip()
    if stripped.startswith((":", "{", "}")):
        return []
    out: list[tuple[str, Value | None]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        if text[i] == "[":
            end = _bracket_end(text, i, origin)
            out.append(("", Expr(text[i:end])))
            i = end
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != "=":
            j += 1
        word = text[i:j]
        if j < n and text[j] == "=":
            value, i = _value(text, j + 1, origin)
            out.append((word, value))
        else:
            out.append((word, None))
            i = j
    return out


def _value(text: str, i: int, origin: Origin) -> tuple[Value, int]:
    """The value starting at i (quoted, bracketed or bare) and where it ends."""
    if i < len(text) and text[i] == '"':
        return _quoted(text, i, origin)
    if i < len(text) and text[i] == "[":
        end = _bracket_end(text, i, origin)
        return Expr(text[i:end]), end
    j = i
    while j < len(text) and not text[j].isspace():
        if text[j] == "[":  # e.g. a value ending in an expression: keep it whole
            j = _bracket_end(text, j, origin)
            continue
        j += 1
    value = text[i:j]
    return (Expr(value) if "[" in value else value), j


def _quoted(text: str, i: int, origin: Origin) -> tuple[str, int]:
    out: list[str] = []
    j = i + 1
    while j < len(text):
        char = text[j]
        if char == '"':
            return "".join(out), j + 1
        if char == "\\" and j + 1 < len(text):
            nxt = text[j + 1]
            hexa = text[j + 1 : j + 3]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                j += 2
                continue
            if len(hexa) == 2 and all(c in "0123456789ABCDEFabcdef" for c in hexa):
                out.append(chr(int(hexa, 16)))
                j += 3
                continue
            out.append(nxt)
            j += 2
            continue
        out.append(char)
        j += 1
    raise refuse(origin, "a quoted value is not closed")


def _bracket_end(text: str, i: int, origin: Origin) -> int:
    """The index after the `]` closing the `[` at i (quotes inside respected)."""
    depth, quoted, escaped = 0, False, False
    for j in range(i, len(text)):
        char = text[j]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char == "[":
            depth += 1
        elif not quoted and char == "]":
            depth -= 1
            if depth == 0:
                return j + 1
    raise refuse(origin, "a [ ... ] command expression is not closed")


def _command(
    tokens: list[tuple[str, Value | None]], menu: tuple[str, ...], origin: Origin
) -> tuple[tuple[str, ...], Command | None]:
    """The menu in force after these tokens, and the command they hold (None: a menu line)."""
    words = list(tokens)
    first = words[0][0]
    if first.startswith("/") and words[0][1] is None:
        path: list[str] = [p for p in first.split("/") if p]
        words.pop(0)
        while words and words[0][1] is None and words[0][0] and words[0][0] not in VERBS:
            path += [p for p in words.pop(0)[0].split("/") if p]
        if not words:
            return tuple(path), None
        here = tuple(path)
    else:
        here = menu
    verb, value = words.pop(0)
    if value is not None or verb not in VERBS:
        return menu, None  # not a command of a menu (a script line): nothing shapes here
    target: Value | None = None
    if words and words[0][1] is None and words[0][0]:
        target = words.pop(0)[0]
    elif words and words[0][0] == "" and isinstance(words[0][1], Expr):
        target = words.pop(0)[1]
    args = {key: val for key, val in words if key and val is not None}
    if target is None and "numbers" in args:
        target = args.pop("numbers")
    return menu, Command(here, verb, target, args, origin)  # a one-line command keeps the menu
