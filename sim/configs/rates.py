"""Rates and sizes as configurations write them, in bits/s and bytes.

RouterOS: `10M`, `920k`, `1G`, bare bits/s, decimal multiples (k = 1000). tc: `5mbit`,
`95Mbit`, `2kbps` (bytes/s), IEC `Kibit`, a bare number is bits/s; sizes (quantum) in bytes
with binary multiples (`1k` = 1024). A text that is none of these raises ValueError.
"""

from __future__ import annotations

import math
import re

_ROS = re.compile(r"(\d+(?:\.\d+)?)([kKMGT]?)")
_ROS_FACTOR = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_TC = re.compile(r"(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([A-Za-z]*)")
_TC_PREFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
_TC_IEC = {"ki": 1024.0, "mi": 1024.0**2, "gi": 1024.0**3, "ti": 1024.0**4}
_SIZE = re.compile(r"(\d+)([A-Za-z]*)")
_SIZE_FACTOR = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3}


def routeros_rate(text: str) -> float:
    """A RouterOS rate in bits/s (`0` and `000000k` are 0: no limit)."""
    found = _ROS.fullmatch(text.strip())
    if not found:
        raise ValueError(f"not a RouterOS rate: {text!r}")
    return float(found.group(1)) * _ROS_FACTOR[found.group(2)]


def routeros_pair(text: str) -> tuple[float, float]:
    """An `upload/download` pair (one value sets both), in bits/s."""
    parts = text.split("/")
    if len(parts) == 1:
        rate = routeros_rate(parts[0])
        return rate, rate
    if len(parts) != 2:
        raise ValueError(f"not an upload/download pair: {text!r}")
    return routeros_rate(parts[0]), routeros_rate(parts[1])


def tc_rate(text: str) -> float:
    """A tc rate in bits/s."""
    found = _TC.fullmatch(text.strip())
    if not found:
        raise ValueError(f"not a tc rate: {text!r}")
    number, unit = float(found.group(1)), found.group(2).lower()
    per_byte = unit.endswith("bps")
    stem = unit.removesuffix("bps") if per_byte else unit.removesuffix("bit")
    if not per_byte and not unit.endswith("bit") and unit:
        raise ValueError(f"not a tc rate unit: {text!r}")
    factor = _TC_IEC.get(stem) if stem in _TC_IEC else _TC_PREFIX.get(stem)
    if factor is None or not math.isfinite(number):
        raise ValueError(f"not a tc rate unit: {text!r}")
    return number * factor * (8 if per_byte else 1)


def tc_size(text: str) -> int:
    """A tc size in bytes (`1514`, `1600b`, `10k`)."""
    found = _SIZE.fullmatch(text.strip())
    factor = _SIZE_FACTOR.get(found.group(2).lower()) if found else None
    if found is None or factor is None:
        raise ValueError(f"not a size in bytes: {text!r}")
    return int(found.group(1)) * factor


def mbps_value(text: str) -> float:
    """A LibreQoS figure in Mbit/s (`155`, `2.5`), as bits/s."""
    value = float(text.strip())
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"not a rate in Mbit/s: {text!r}")
    return value * 1e6
