"""Shell scripts of literal tc commands read as HTB records, never run.

A line is a tc command when a word `tc` (also `sudo tc`, `/sbin/tc`, `command tc`, or a
variable such as `$TC` standing first) is followed by `qdisc`, `class` or `filter`; other
shell lines are skipped. `\\` continues a line; `#` starts a comment; `;`, `&&`, `||` and
redirections end a command. A rate, ceil, quantum, prio or class id taken from a shell
variable is refused naming the variable, unless `variables` gives its value (the script's
own assignment is quoted in the message); backtick and `$( )` substitutions are refused.
A netlab export names each class in a comment (`# class ID ...`), which is kept as its name.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

from sim.configs.inforce import Notes, Origin, ShapingInForce, refuse
from sim.configs.rates import tc_rate, tc_size
from sim.configs.tc_tree import TcClass, TcFilter, TcRecords, shaping
from sim.configs.text import read_text

_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_ASSIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"$`]*\"|'[^']*'|[^\s$`;]*)\s*(#.*)?$")
_NETLAB_CLASS = re.compile(r"^# class (\w+)[ :(]")
_ENDS = {";", "&&", "||", "|", "&"}


def read_tc_scripts(paths: list[Path], variables: dict[str, str] | None = None) -> ShapingInForce:
    """The HTB trees the scripts build (see the module doc)."""
    records, notes = TcRecords(), Notes()
    for path in paths:
        text = read_text(path, "a tc shell script")
        assigned = {m[1]: m[2] for m in map(_ASSIGN.match, text.splitlines()) if m}
        for origin, argv, label in _tc_commands(text, str(path)):
            argv = [_substitute(t, variables or {}) for t in argv]
            _record(argv, origin, label, records, notes, assigned)
    return shaping(records, tuple(str(p) for p in paths), notes)


def _tc_commands(text: str, path: str) -> Iterator[tuple[Origin, list[str], str | None]]:
    """(origin, argv after `tc`, netlab class name) of every tc command, in order."""
    label: str | None = None
    lines = text.replace("\r\n", "\n").split("\n")
    number = 0
    while number < len(lines):
        start, line = number + 1, lines[number]
        while line.endswith("\\") and number + 1 < len(lines):
            number += 1
            line = line[:-1] + " " + lines[number]
        number += 1
        stripped = line.strip()
        found = _NETLAB_CLASS.match(stripped)
        if found or stripped.startswith("# unclassified"):
            label = found.group(1) if found else None
            continue
        for argv in _tc_argvs(stripped, Origin(path, start)):
            yield Origin(path, start), argv, label if argv[:1] == ["class"] else None
            label = None if argv[:1] == ["class"] else label


def _tc_argvs(line: str, origin: Origin) -> list[list[str]]:
    """The argv after `tc` of each tc command on the line (`;`, `&&`, `||` separate them)."""
    if not line or line.startswith("#"):
        return []
    try:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words = list(lexer)
    except ValueError:
        return []  # an unclosed quote in a line that may not be tc at all
    segments: list[list[str]] = [[]]
    for word in words:
        if word in _ENDS:
            segments.append([])
        else:
            segments[-1].append(word)
    return [argv for segment in segments if (argv := _tc_in(segment, line, origin))]


def _tc_in(words: list[str], line: str, origin: Origin) -> list[str]:
    for i, word in enumerate(words):
        is_tc = word.endswith("/tc") or word == "tc" or bool(_VAR.fullmatch(word))
        if is_tc and i + 1 < len(words) and words[i + 1] in ("qdisc", "class", "filter"):
            if "`" in line or "$(" in line:
                raise refuse(
                    origin, "a `...`, $( ) or $(( )) substitution in a tc command: never run"
                )
            rest = words[i + 1 :]
            end = next((j for j, w in enumerate(rest) if w[:1] in "<>"), len(rest))
            if end < len(rest) and rest[end - 1].isdigit():
                end -= 1  # the descriptor of `2>/dev/null`
            return rest[:end]
    return []


def _substitute(token: str, variables: dict[str, str]) -> str:
    """Variables given replaced by their values; others marked for `_need` to refuse."""

    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        if name in variables:
            return variables[name]
        return "\x00" + name + "\x00"

    return _VAR.sub(value, token)


def _need(token: str, what: str, origin: Origin, assigned: dict[str, str]) -> str:
    if "\x00" in token:
        name = token.split("\x00")[1]
        own = assigned.get(name)
        hint = f" (the script sets {name}={own})" if own is not None else ""
        raise refuse(
            origin,
            f"{what} comes from the shell variable {name}{hint}: give its value "
            f"(--set {name}=VALUE)",
        )
    return token


def classid(text: str) -> str:
    """A tc handle normalised: hex major and minor, `1:` is `1:0`."""
    major, _, minor = text.partition(":")
    return f"{int(major or '0', 16):x}:{int(minor or '0', 16):x}"


def _option(argv: list[str], key: str) -> str | None:
    return argv[argv.index(key) + 1] if key in argv[:-1] else None


def _record(
    argv: list[str],
    origin: Origin,
    label: str | None,
    records: TcRecords,
    notes: Notes,
    assigned: dict[str, str],
) -> None:
    """Add what one tc command does to the records (the device named by a variable keeps
    its `$NAME`: which device a tree is on does not change the plan)."""
    argv = [_need(t, t, origin, assigned) if i < 2 else t for i, t in enumerate(argv)]
    dev = (_option(argv, "dev") or "?").replace("\x00", "$", 1).replace("\x00", "")
    try:
        if argv[0] == "qdisc":
            _qdisc(argv, dev, records)
        elif argv[0] == "class" and argv[1] in ("add", "replace", "change") and "htb" in argv:
            _class(argv, dev, origin, label, records, assigned)
        elif argv[0] == "filter" and argv[1] in ("add", "replace", "change"):
            _filter(argv, dev, origin, records, notes, assigned)
    except (ValueError, IndexError) as exc:
        raise refuse(origin, f"tc {' '.join(argv[:2])}: {exc}") from None


def _qdisc(argv: list[str], dev: str, records: TcRecords) -> None:
    if argv[1] == "del" and "root" in argv:
        records.classes = [c for c in records.classes if c.dev != dev]
        records.filters = [f for f in records.filters if f.dev != dev]
        return
    if argv[1] not in ("add", "replace", "change"):
        return
    if "root" in argv and "htb" in argv:
        records.device(dev)
        return
    parent = _option(argv, "parent")
    kinds = [w for w in argv if w in _QDISCS]
    if parent is not None and kinds:
        records.leaf_qdiscs[(dev, classid(parent))] = kinds[0]


_QDISCS = {"pfifo", "bfifo", "sfq", "fq_codel", "cake", "red", "tbf", "fq", "pie", "netem"}


def _class(
    argv: list[str],
    dev: str,
    origin: Origin,
    label: str | None,
    records: TcRecords,
    assigned: dict[str, str],
) -> None:
    def number(key: str) -> str | None:
        text = _option(argv, key)
        return None if text is None else _need(text, f"the {key}", origin, assigned)

    cid = classid(_need(_option(argv, "classid") or "", "the classid", origin, assigned))
    parent_text = _option(argv, "parent") or ""
    parent = classid(parent_text) if parent_text else None
    parent = None if parent is None or parent.endswith(":0") else parent
    rate, ceil = number("rate"), number("ceil")
    prio, quantum = number("prio"), number("quantum")
    if rate is None:
        raise ValueError(f"class {cid} has no rate")
    old = next((c for c in records.classes if c.dev == dev and c.classid == cid), None)
    new = TcClass(
        dev,
        cid,
        parent,
        tc_rate(rate),
        tc_rate(ceil) if ceil else tc_rate(rate),  # tc's default ceil is the rate
        int(prio) if prio else None,
        tc_size(quantum) if quantum else None,
        origin,
        label or (old.name if old else None),
    )
    records.device(dev)
    if old is not None:
        records.classes[records.classes.index(old)] = new
    else:
        records.classes.append(new)


def _filter(
    argv: list[str],
    dev: str,
    origin: Origin,
    records: TcRecords,
    notes: Notes,
    assigned: dict[str, str],
) -> None:
    target = _option(argv, "flowid") or _option(argv, "classid")
    if target is None:
        return
    flow = classid(_need(target, "the flowid", origin, assigned))
    matches = [
        (argv[i + 2], argv[i + 3])
        for i, w in enumerate(argv[:-3])
        if w == "match" and argv[i + 1] == "ip" and argv[i + 2] in ("src", "dst")
    ]
    if "u32" not in argv or len(matches) != 1:
        notes.add(
            f"a tc filter selects class {flow} by something other than one address (e.g. "
            f"{' '.join(argv[7:12])}): that class gets no addresses",
            origin,
            topic="filter-kind",
        )
        return
    side, network = matches[0]
    network = _need(network, "the filter's address", origin, assigned)
    records.filters.append(TcFilter(dev, side, network, flow, origin))
