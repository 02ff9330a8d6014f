"""The calibrated scenario as a file: the starting scenario's text, then what was fitted.

The starting file is kept as written (its comments are its assumptions' sources); netlab
appends `[calendar]` and `[calibration]` below a marker line, and a later calibration replaces
everything below that marker.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from sim.model.errors import ConfigError
from sim.model.scenario import Scenario

MARKER = "# --- written by `netlab calibrate`: fitted to measured counters, see [calibration] ---"


def _value(value: Any) -> str:
    """A TOML value: numbers, strings, booleans, lists of them and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for {value!r}")


def calibrated_text(
    original: Path,
    calibrated: Scenario,
    out: Path,
    marker: str = MARKER,
    suffix: str = "calibrated",
) -> str:
    """The text of the calibrated scenario file to be written at `out`, its additions below
    `marker`, its name the original's with `-suffix` (once)."""
    text = original.read_text(encoding="utf-8").split(MARKER)[0].rstrip() + "\n"
    if re.search(r"^\[calibration[.\]]", text, re.MULTILINE):
        raise ConfigError(original, "calibration", "already set by hand; remove it to recalibrate")
    own_calendar = re.search(r"^\[calendar\]", text, re.MULTILINE) is not None
    if own_calendar and not calibrated.spec.calendar.use:
        raise ConfigError(original, "calendar.use", "calibration needs the calendar: set it true")
    topology = (original.parent / calibrated.spec.scenario.topology).resolve()
    relative = os.path.relpath(topology, out.resolve().parent)
    text = re.sub(
        r'^topology\s*=\s*".*"', f"topology = {_value(relative)}", text, count=1, flags=re.M
    )
    if calibrated.spec.policy.plan is not None:  # the deployed plan file, as the topology
        plan = (original.parent / calibrated.spec.policy.plan).resolve()
        where = _value(os.path.relpath(plan, out.resolve().parent))
        text = re.sub(r'^plan\s*=\s*".*"', f"plan = {where}", text, count=1, flags=re.M)
    name = re.sub(r"-" + suffix + "$", "", calibrated.name)[: 63 - len(suffix)] + "-" + suffix
    text = re.sub(r'^name\s*=\s*".*"', f"name = {_value(name)}", text, count=1, flags=re.M)
    lines = ["", marker]
    if not own_calendar:
        lines += ["[calendar]", "use = true", ""]
    spec = calibrated.spec.calibration
    lines += ["[calibration]", f"source = {_value(spec.source)}", f"days = {spec.days}"]
    if spec.friday_prayer_factor is not None:
        lines.append(f"friday_prayer_factor = {_value(spec.friday_prayer_factor)}")
    if spec.busy_hour_mbps is not None:
        lines.append(f"busy_hour_mbps = {_value(spec.busy_hour_mbps)}")
    if spec.interval_mbps is not None:
        lines.append(f"interval_mbps = {_value(spec.interval_mbps)}")
    if spec.identifiability:
        lines.append(f"identifiability = {_value(spec.identifiability)}")
    lines += [f"provenance = {_value(spec.provenance)}", ""]
    for site_id, site in spec.sites.items():
        lines.append(f"[calibration.sites.{site_id}]")
        for key, value in site.model_dump(exclude_defaults=True).items():
            lines.append(f"{key} = {_value(value)}")
        lines.append("")
    return text + "\n".join(lines)
