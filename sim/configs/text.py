"""Configuration files as text: the project's file checks, then UTF-8 (Latin-1 as a fallback)."""

from __future__ import annotations

from pathlib import Path

from sim.model.errors import ConfigError
from sim.model.loading import read_bytes

MAX_CONFIG_BYTES = 20 * 2**20  # a router export of thousands of queues is a few MB


def read_text(path: Path, what: str) -> str:
    """The file's text; a UTF-8 BOM is dropped, bytes that are not UTF-8 read as Latin-1."""
    raw = read_bytes(path, what)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(path, "", f"larger than {MAX_CONFIG_BYTES // 2**20} MiB, {what}")
    if b"\x00" in raw:
        raise ConfigError(path, "", f"contains NUL bytes: a binary file, not {what}")
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # RouterOS writes comments in the router's code page
