"""Unit conversion, once at load time: files speak Mbps, ms, "24h"; code bits/s and s."""

from __future__ import annotations

import math
import re

MBPS = 1e6  # bits per second in one Mbit/s
# The largest rate anywhere (purchase, access link, class): 100 Gbit/s, so that 50 ms of it
# still fits tc's 32-bit burst and every plan a scenario builds can be exported.
MAX_MBPS = 100_000.0
_DURATION = re.compile(r"\s*(\d{1,12}(?:\.\d{1,12})?)\s*(ms|s|m|h|d)\s*")
_SECONDS = {"ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def mbps(value: float) -> float:
    """Mbit/s to bits/s."""
    return float(value) * MBPS


def parse_duration(text: str | float | int) -> float:
    """Parse "90s", "5m", "24h", "10d" (or a bare number of seconds) into seconds."""
    if isinstance(text, int | float):
        seconds = float(text)
    else:
        match = _DURATION.fullmatch(text)
        if not match:
            raise ValueError(f"not a duration: {text!r} (use e.g. '30s', '5m', '24h', '10d')")
        seconds = float(match.group(1)) * _SECONDS[match.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"duration must be positive and finite, got {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """Short human form of a duration, the inverse of parse_duration for whole units."""
    for unit in ("d", "h", "m"):
        size = _SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
