"""netlab identifiers for names from configuration files: unique, short, inert.

Class ids match `[A-Za-z][A-Za-z0-9_]{0,31}` and site ids `[a-z][a-z0-9_]{0,15}` (what plan
files and topologies accept): the name lower-cased, other characters as `_`, a letter in
front when it starts otherwise, cut to length, and a number added where two would meet.
"""

from __future__ import annotations

import re


def _slug(name: str, length: int) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "q"
    if not text[0].isalpha():
        text = "q" + text
    return text[:length].rstrip("_")


def unique_ids(names: list[str], length: int, taken: set[str] | None = None) -> dict[str, str]:
    """An id per distinct name, in order, none equal to another or to one in `taken`."""
    used = set(taken or ())
    out: dict[str, str] = {}
    for name in names:
        if name in out:
            continue
        base = _slug(name, length)
        candidate, n = base, 1
        while candidate in used:
            n += 1
            suffix = f"_{n}"
            candidate = base[: length - len(suffix)] + suffix
        used.add(candidate)
        out[name] = candidate
    return out
