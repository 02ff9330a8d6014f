"""The one error type for bad input: it names the file, the key and what is wrong; and the one
way a message suggests the name that was probably meant."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class ConfigError(Exception):
    """Bad input file. str() gives one line: `FILE: KEY: PROBLEM`."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {problem}")


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a misspelt word (difflib's ratio of at least 0.6), or None."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return close[0] if close else None


def unknown_choice(what: str, word: str, choices: Iterable[str]) -> str:
    """`unknown policy; did you mean htb-weighted? (one of: ...)`: the problem of a name that is
    not one of a fixed set, with the nearest one and all of them."""
    known = list(choices)
    close = nearest(word, known)
    hint = f"; did you mean {close}?" if close else ""
    return f"unknown {what}{hint} (one of: {', '.join(known)})"
