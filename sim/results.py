"""Run folders: results/<scenario>-<UTC time>-<short hash>/, written whole or not at all.

Files (DESIGN.md §5): manifest.json, flows.csv, classes.csv, summary.json, report.html. The
folder is written under a hidden temporary name and renamed when complete; on any failure the
temporary folder is removed, so a half-written result never appears.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.metrics import bottleneck_bps, slowdown
from sim.run import RunRecord
from sim.shaping.plan import DIRECTIONS, ClassTree

FLOW_COLUMNS = [
    "id",
    "site",
    "kind",
    "app",
    "direction",
    "start_s",
    "end_s",
    "size_bytes",
    "delivered_bytes",
    "needed_bps",
    "time_at_rate_s",
    "status",
    "fct_s",
    "slowdown",
]
CLASS_COLUMNS = [
    "time_s",
    "direction",
    "class",
    "parent",
    "site",
    "allocated_bps",
    "delivered_bps",
    "drops",
    "offered_bps",
]


def run_name(record: RunRecord, now: dt.datetime) -> str:
    """<scenario>-<UTC time>-<hash of the resolved scenario, seed and backend>."""
    resolved = json.dumps(record.scenario.spec.model_dump(mode="json"), sort_keys=True)
    digest = hashlib.sha256(f"{resolved}|{record.backend}".encode()).hexdigest()[:7]
    return f"{record.scenario.name}-{now:%Y%m%dT%H%M%SZ}-{digest}"


def write_run(
    record: RunRecord,
    summary: dict[str, Any],
    root: Path,
    report: Callable[[Path], Path] | None = None,
    extra: dict[str, Any] | None = None,
    also: Callable[[Path], object] | None = None,
) -> Path:
    """Write the run folder under `root` atomically and return its path.

    `extra` maps further JSON file names to their data (e.g. the optimiser's recommendation);
    `also` writes further files into the folder before it is renamed into place.
    """
    now = dt.datetime.now(dt.UTC)
    root.mkdir(parents=True, exist_ok=True)
    final = root / run_name(record, now)
    temporary = root / f".{final.name}.partial-{os.getpid()}"
    try:
        temporary.mkdir()
        _write_json(temporary / "manifest.json", manifest(record, now))
        _write_csv(temporary / "flows.csv", FLOW_COLUMNS, flow_rows(record))
        _write_csv(temporary / "classes.csv", CLASS_COLUMNS, class_rows(record))
        _write_json(temporary / "summary.json", summary)
        for name, data in (extra or {}).items():
            _write_json(temporary / name, data)
        if report is not None:
            report(temporary)
        if also is not None:
            also(temporary)
        temporary.rename(final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return final


def manifest(record: RunRecord, now: dt.datetime) -> dict[str, Any]:
    scenario = record.scenario
    return {
        "scenario": scenario.spec.model_dump(mode="json"),
        "scenario_file": str(scenario.path),
        "topology": scenario.topology.name,
        "seed": scenario.seed,
        "backend": record.backend,
        "purchase_mbps": scenario.spec.purchase.upstream_mbps,
        "plans": [plan.to_dict() for plan in record.plans],
        "users": record.users,
        "flows": len(record.flows),
        "warnings": record.warnings,
        "timings": record.timings,
        "info": record.info,
        "created_utc": now.isoformat(timespec="seconds"),
        "host": {"name": platform.node(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": {
            "python": sys.version.split()[0],
            **{pkg: _version(pkg) for pkg in ("netlab", "simpy", "numpy", "pydantic")},
        },
    }


def flow_rows(record: RunRecord) -> Iterator[list[object]]:
    """One row a flow; fct and slowdown only for completed elastic flows."""
    kinds = {site.id: site.kind for site in record.scenario.sites}
    column = {site: i for i, site in enumerate(record.site_ids)}
    flows = record.flows
    elapsed = np.array([f.end - f.start for f in flows], dtype=float)
    sizes = np.array([f.size for f in flows], dtype=float)
    sites = np.array([column[f.site] for f in flows], dtype=int)
    overhead = record.scenario.spec.network.overhead
    ratios = slowdown(elapsed, sizes, bottleneck_bps(record)[sites], overhead) if flows else []
    for f, fct_s, ratio in zip(flows, elapsed, ratios, strict=False):
        fct = slowdown_text = ""
        if not f.paced and f.status == "done":
            fct, slowdown_text = _num(float(fct_s)), _num(float(ratio))
        yield [
            f.id,
            f.site,
            kinds[f.site],
            f.app,
            f.direction,
            _num(f.start),
            _num(f.end),
            _num(f.size),
            _num(f.delivered),
            _num(f.rate),
            _num(f.time_at_rate),
            f.status,
            fct,
            slowdown_text,
        ]


def class_rows(record: RunRecord) -> Iterator[list[object]]:
    """Per class per interval: L2 allocation, goodput delivered, drops, offered goodput."""
    overhead = record.scenario.spec.network.overhead
    offered = offered_bytes(record)
    for plan_no, plan in enumerate(record.plans):
        steps = np.flatnonzero(record.plan_index == plan_no)
        if steps.size == 0:
            continue
        for direction in DIRECTIONS:
            tree = plan.tree(direction)
            members = membership(tree, record.site_ids)
            wire = record.wire_bytes[direction][steps] @ members.T * 8.0 / record.interval
            drops = record.drops[direction][steps] @ members.T
            asked = offered[direction][steps] @ members.T * 8.0 / record.interval
            for row, step in enumerate(steps):
                time_s = _num(record.times[step])
                for col, c in enumerate(tree.classes):
                    yield [
                        time_s,
                        direction,
                        c.id,
                        c.parent or "",
                        c.site or "",
                        _num(wire[row, col]),
                        _num(wire[row, col] / overhead),
                        int(drops[row, col]),
                        _num(asked[row, col]),
                    ]


def membership(tree: ClassTree, site_ids: list[str]) -> np.ndarray:
    """[class, site] 1 where the site's leaf lies under (or is) the class."""
    column = {site: i for i, site in enumerate(site_ids)}
    parents = {c.id: c.parent for c in tree.classes}
    matrix = np.zeros((len(tree.classes), len(site_ids)))
    row = {c.id: i for i, c in enumerate(tree.classes)}
    for c in tree.classes:
        if c.site is None or c.site not in column:
            continue
        node: str | None = c.id
        while node is not None:
            matrix[row[node], column[c.site]] = 1.0
            node = parents[node]
    return matrix


def offered_bytes(record: RunRecord) -> dict[str, np.ndarray]:
    """[interval, site] goodput bytes offered by flows that started in the interval."""
    column = {site: i for i, site in enumerate(record.site_ids)}
    steps = len(record.times)
    out = {d: np.zeros((steps, len(record.site_ids))) for d in DIRECTIONS}
    for f in record.flows:
        step = min(int(f.start // record.interval), steps - 1)
        out[f.direction][step, column[f.site]] += f.size
    return out


def load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read a run folder's manifest and summary back."""
    manifest_data = json.loads((run_dir / "manifest.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    return manifest_data, summary


def _num(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return f"{value:.9g}"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _write_csv(path: Path, columns: list[str], rows: Iterator[list[object]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
