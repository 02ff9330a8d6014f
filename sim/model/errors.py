"""The one error type for bad input: it names the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """Bad input file. str() gives one line: `FILE: KEY: PROBLEM`."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {problem}")
