"""`tc class show` output (text, `-d`, `-s`, or `-j` JSON) with `tc filter show` u32 matches.

A show file holds one device's classes, named by the file (`tc class show dev X` does not
print the device). A filter file applies to the class file listed just before it. In text,
rates are tc units; in JSON they are bytes/s. A u32 key `match HEX/MASK at 16` is a
destination network, `at 12` a source network.
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

from sim.configs.inforce import Notes, Origin, ShapingInForce, refuse
from sim.configs.rates import tc_rate, tc_size
from sim.configs.tc_script import classid
from sim.configs.tc_tree import TcClass, TcFilter, TcRecords, shaping
from sim.configs.text import read_text
from sim.model.errors import ConfigError

_CLASS = re.compile(r"^class htb (\S+) (?:root|parent (\S+))")
_FLOWID = re.compile(r"\bflowid (\S+)")
_KEY = re.compile(r"^\s*match ([0-9a-f]{8})/([0-9a-f]{8}) at (12|16)\b")


def is_show_output(text: str) -> bool:
    """True for `tc ... show` output rather than a script."""
    head = text.lstrip()[:200]
    return head.startswith(("class ", "filter ", "qdisc ")) or head.replace(" ", "")[:2] in (
        "[{",
        "[]",
    )


def read_tc_show(paths: list[Path]) -> ShapingInForce:
    """The shaping of class-show files, each followed by its filter-show file if any."""
    records, notes = TcRecords(), Notes()
    dev = ""
    for path in paths:
        text = read_text(path, "tc show output")
        stripped = text.lstrip()
        if stripped.startswith("filter "):
            if not dev:
                raise ConfigError(path, "", "a filter listing before any class listing")
            records.filters += _filters(text, dev, str(path))
        elif stripped.startswith("qdisc ") or '"kind"' in stripped[:400]:
            raise ConfigError(
                path, "", "a qdisc listing holds no classes: give `tc -j class show dev DEV`"
            )
        else:
            dev = path.stem
            records.device(dev)
            parse = _json_classes if stripped.startswith("[") else _text_classes
            records.classes += parse(text, dev, str(path))
    return shaping(records, tuple(str(p) for p in paths), notes)


def _text_classes(text: str, dev: str, path: str) -> list[TcClass]:
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = _CLASS.match(line)
        if not found:
            continue
        words = line.split()
        origin = Origin(path, number)

        def value(key: str, words: list[str] = words) -> str | None:
            return words[words.index(key) + 1] if key in words[:-1] else None

        try:
            rate, ceil, prio, quantum = (value(k) for k in ("rate", "ceil", "prio", "quantum"))
            out.append(
                TcClass(
                    dev,
                    classid(found.group(1)),
                    classid(found.group(2)) if found.group(2) else None,
                    tc_rate(rate or ""),
                    tc_rate(ceil) if ceil else tc_rate(rate or ""),
                    int(prio) if prio else None,
                    tc_size(quantum) if quantum else None,
                    origin,
                )
            )
        except ValueError as exc:
            raise refuse(origin, f"class {found.group(1)}: {exc}") from None
    return out


def _json_classes(text: str, dev: str, path: str) -> list[TcClass]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(path, f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from None
    out = []
    for i, entry in enumerate(data if isinstance(data, list) else []):
        if not isinstance(entry, dict) or entry.get("class") != "htb":
            continue
        try:
            parent = entry.get("parent")
            out.append(
                TcClass(
                    dev,
                    classid(str(entry["handle"])),
                    classid(str(parent)) if parent and not entry.get("root") else None,
                    float(entry["rate"]) * 8,
                    float(entry["ceil"]) * 8 if "ceil" in entry else None,
                    int(entry["prio"]) if "prio" in entry else None,
                    int(entry["quantum"]) if "quantum" in entry else None,
                    Origin(path, 1),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(path, f"[{i}]", f"not an HTB class entry: {exc}") from None
    return out


def _filters(text: str, dev: str, path: str) -> list[TcFilter]:
    out = []
    flow: tuple[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        found = _FLOWID.search(line)
        if found:
            flow = (classid(found.group(1)), number)
            continue
        key = _KEY.match(line)
        if key and flow is not None:
            address = ipaddress.IPv4Address(int(key.group(1), 16))
            prefix = bin(int(key.group(2), 16)).count("1")
            network = str(ipaddress.IPv4Network(f"{address}/{prefix}", strict=False))
            side = "dst" if key.group(3) == "16" else "src"
            out.append(TcFilter(dev, side, network, flow[0], Origin(path, flow[1])))
    return out
