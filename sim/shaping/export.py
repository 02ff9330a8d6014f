"""Deployable forms of a ShapingPlan, one module per target; this is the entry point.

    tc        sim.shaping.tc_script  (the commands of the one compiler, sim.shaping.tc)
    mikrotik  sim.shaping.routeros   (RouterOS v7: mangle marks and a queue tree)
    json      sim.shaping.planfile   (the plan as a file, read back validated)
    libreqos  sim.shaping.libreqos   (network.json and ShapedDevices.csv: two files)

A format of several files (FILE_SETS) is written into a directory by `write_files`, all or
none; `export` gives them as one text for reading, each file under a `==> NAME <==` line.

Where the plan goes (site networks, the hub's interfaces, NAT) is a Deployment built from the
topology; what it does not say is a placeholder, flagged in the output (sim.shaping.deployment).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from pathlib import Path

from sim.shaping.deployment import Deployment, deployment
from sim.shaping.libreqos import to_libreqos
from sim.shaping.plan import ShapingPlan
from sim.shaping.planfile import plan_from_dict, to_json
from sim.shaping.routeros import to_routeros
from sim.shaping.tc_script import to_tc_script

FORMATS: tuple[str, ...] = ("tc", "mikrotik", "json", "libreqos")
FILE_SETS: tuple[str, ...] = ("libreqos",)


def export(plan: ShapingPlan, fmt: str, where: Deployment | None = None) -> str:
    """The plan in one of FORMATS as text; where None: every address and interface assumed."""
    if fmt == "json":
        return to_json(plan_from_dict(plan.to_dict()))
    where = where if where is not None else deployment(plan)
    if fmt in FILE_SETS:
        files = export_files(plan, fmt, where)
        return "".join(f"==> {name} <==\n{text}" for name, text in files.items())
    if fmt == "tc":
        return to_tc_script(plan, where)
    if fmt == "mikrotik":
        return to_routeros(plan, where)
    raise ValueError(f"unknown export format {fmt!r} (formats: {', '.join(FORMATS)})")


def export_files(plan: ShapingPlan, fmt: str, where: Deployment) -> dict[str, str]:
    """A format of FILE_SETS as its files: name -> text."""
    if fmt == "libreqos":
        return to_libreqos(plan, _addresses_only(where))
    raise ValueError(f"{fmt!r} is not a format of several files ({', '.join(FILE_SETS)})")


def placeholders(fmt: str, where: Deployment) -> tuple[str, ...]:
    """What the output of fmt holds that the topology did not say."""
    if fmt == "json":
        return ()
    return _addresses_only(where).placeholders if fmt in FILE_SETS else where.placeholders


def _addresses_only(where: Deployment) -> Deployment:
    """LibreQoS takes its interfaces and NAT from its own configuration, not from these files."""
    kept = tuple(p for p in where.placeholders if p.startswith("addresses"))
    return replace(where, placeholders=kept)


def write_files(plan: ShapingPlan, fmt: str, where: Deployment, directory: Path) -> list[Path]:
    """Write the files of fmt into directory (made if missing), all or none: each is rendered
    and written under a temporary name first, then all are renamed; the paths written."""
    files = export_files(plan, fmt, where)
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, text in files.items():
            handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=directory)
            staged.append((temporary, directory / name))
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
    return [path for _, path in staged]
