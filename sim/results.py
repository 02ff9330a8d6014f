"""Run folders: results/<scenario>-<UTC time>-<short hash>/, written whole or not at all.

Files (docs/architecture.md, "The results folder"): manifest.json, flows.parquet (or flows.csv,
or none: `--flows`), classes.parquet (classes.csv with `--flows csv`), summary.json, report.html
(and the plotly.min.js its pages share). This module only writes: every
figure comes from sim.analysis.metrics. The folder is written under a hidden temporary name and
renamed when complete; on any failure the temporary folder is removed, so a half-written result
never appears.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import json
import math
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import classfile
from sim.analysis.flowfile import (
    FILE_NAMES,
    FLOW_COLUMNS,
    ROW_GROUP,
    Bottlenecks,
    Columns,
    FlowFormat,
    writing,
)
from sim.analysis.flows import bottleneck_bps
from sim.analysis.series import class_series, flow_completion
from sim.model.errors import ConfigError
from sim.model.scenario import Scenario
from sim.run import RunRecord
from sim.studies.pool import process_exists


def run_name(record: RunRecord, now: dt.datetime) -> str:
    """<scenario>-<UTC time>-<hash of the resolved scenario, seed and backend>."""
    return folder_name(record.scenario, record.backend, now)


def folder_name(scenario: Scenario, backend: str, now: dt.datetime) -> str:
    """<scenario>-<UTC time>-<hash of the resolved scenario, seed and backend>."""
    resolved = json.dumps(scenario.spec.model_dump(mode="json"), sort_keys=True)
    digest = hashlib.sha256(f"{resolved}|{backend}".encode()).hexdigest()[:7]
    return f"{scenario.name}-{now:%Y%m%dT%H%M%SZ}-{digest}"


class StagedFolder:
    """A run folder written under a hidden name in `root` and renamed into place when the
    `with` block ends without error (`final` is then its path); on error it is removed."""

    def __init__(self, root: Path, name: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        remove_dead_partials(root)
        self.root, self.name = root, name
        self.path = root / f".{name}{PARTIAL}{os.getpid()}"
        self.final: Path | None = None

    def __enter__(self) -> Path:
        self.path.mkdir()
        return self.path

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            try:
                self.final = _rename_unique(self.path, self.root, self.name)
                return
            except BaseException:
                shutil.rmtree(self.path, ignore_errors=True)
                raise
        shutil.rmtree(self.path, ignore_errors=True)


def write_run(
    record: RunRecord,
    summary: dict[str, Any],
    root: Path,
    report: Callable[[Path], Path] | None = None,
    extra: dict[str, Any] | None = None,
    also: Callable[[Path], object] | None = None,
    now: dt.datetime | None = None,
    flows: FlowFormat = "parquet",
    step: Callable[[str], object] | None = None,
) -> Path:
    """Write the run folder under `root` atomically and return its path.

    `extra` maps further JSON file names to their data (e.g. the optimiser's recommendation);
    `also` writes further files into the folder before it is renamed into place; `flows` is
    the flows file's format (sim.analysis.flowfile); `step(what)` is told each stage (a file's
    name, "the other pages") before it starts: at most four stages. Partial folders that
    killed runs left behind are removed first.
    """
    tell = step or (lambda name: None)
    now = now or dt.datetime.now(dt.UTC)
    staged = StagedFolder(root, run_name(record, now))
    with staged as temporary:
        write_json(temporary / "manifest.json", manifest(record, now))
        tell(FILE_NAMES.get(flows, "no flows file"))
        write_flows(record, temporary, flows)
        tell(classfile.file_name(flows))
        classfile.write_classes(temporary, flows, class_columns(record))
        write_json(temporary / "summary.json", summary)
        if record.control is not None:
            _write_csv(temporary / "controller.csv", CONTROL_COLUMNS, control_rows(record))
        for file_name, data in (extra or {}).items():
            write_json(temporary / file_name, data)
        for page, write in (("report.html", report), ("the other pages", also)):
            if write is not None:
                tell(page)
                write(temporary)
    assert staged.final is not None
    return staged.final


PARTIAL = ".partial-"  # a folder being written: .<name>.partial-<pid>


def _rename_unique(temporary: Path, root: Path, name: str) -> Path:
    """Rename the finished folder to `name`, or `name-2`, `name-3`, ... when a run of the same
    scenario and seed finished in the same second: rename is atomic and refuses a non-empty
    target, so two writers never overwrite each other."""
    for n in range(1, 1000):
        final = root / (name if n == 1 else f"{name}-{n}")
        if final.exists():
            continue
        try:
            temporary.rename(final)
            return final
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    raise FileExistsError(f"{root / name}: 999 runs of this name already exist")


def write_folder(
    folder: Path, files: dict[str, str], check: Callable[[Path], object] | None = None
) -> Path:
    """Write `files` (name: text) as the new folder `folder`, whole or not at all.

    They are written under a hidden temporary name beside it, `check` is called on that
    folder (it raises to refuse it), then the folder is renamed into place. A `folder` that
    exists and is not empty is refused (ConfigError naming --out); on any failure nothing is
    left, not even the parents made for it.
    """
    check_out_dir(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"--out {folder}", "", "exists and is not empty: give a new folder")
    missing = [parent for parent in folder.parents if not parent.exists()]
    temporary = folder.parent / f".{folder.name}{PARTIAL}{os.getpid()}"
    try:
        temporary.mkdir(parents=True)
        for name, text in files.items():
            (temporary / name).write_text(text, encoding="utf-8")
        if check is not None:
            check(temporary)
        temporary.rename(folder)
        return folder
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        if missing:  # the outermost parent this call made
            shutil.rmtree(missing[-1], ignore_errors=True)
        raise


def check_out_dir(root: Path, option: str = "--out") -> None:
    """Raise ConfigError (one line) unless folders can be made under root: called before
    simulating, so a bad --out (a file, a path under a file, a read-only folder, /proc) costs
    no simulation. Nothing is left behind: the probe folder is removed, root is not created."""
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    where = f"{option} {root}"
    if not existing.is_dir():
        raise ConfigError(where, "", f"{'' if existing == root else f'{existing} '}is a file")
    try:
        probe = Path(tempfile.mkdtemp(prefix=f".{PARTIAL}probe-", dir=existing))
        probe.rmdir()
    except OSError as error:
        problem = f"cannot create folders in {existing} ({error.strerror})"
        raise ConfigError(where, "", problem) from None


def remove_dead_partials(root: Path) -> list[Path]:
    """Remove the `.<name>.partial-<pid>` folders under `root` whose writer is no longer
    alive (a run killed with SIGKILL); return what was removed."""
    removed = []
    for path in root.glob(f".*{PARTIAL}*"):
        pid = path.name.rpartition(PARTIAL)[2]
        if path.is_dir() and pid.isdigit() and not process_exists(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


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
        "info": _info(record),
        "created_utc": now.isoformat(timespec="seconds"),
        "host": {"name": platform.node(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": {
            "python": sys.version.split()[0],
            **{pkg: _version(pkg) for pkg in ("netlab", "simpy", "numpy", "pydantic")},
        },
    }


def _info(record: RunRecord) -> dict[str, Any]:
    """manifest.json's "info": an emulated run's machine record and window; empty otherwise."""
    info = {} if record.emulation is None else record.emulation.to_json()
    if record.window is not None:
        info["window"] = asdict(record.window)
    return info


# flows.parquet/csv's numeric columns (start_s to time_at_rate_s), in the order flow_batches
# takes them from each Flow
NUMBER_COLUMNS = tuple(FLOW_COLUMNS[FLOW_COLUMNS.index("start_s") : FLOW_COLUMNS.index("status")])


def write_flows(record: RunRecord, folder: Path, fmt: FlowFormat) -> None:
    """The record's flows as folder's flows file in `fmt` (none: nothing), in row groups."""
    bottlenecks = Bottlenecks(
        dict(zip(record.site_ids, bottleneck_bps(record).tolist(), strict=True)),
        record.scenario.spec.network.overhead,
    )
    with writing(folder, fmt, bottlenecks) as writer:
        if writer is not None:
            for batch in flow_batches(record):
                writer.append(batch)


def write_day_flows(record: RunRecord, folder: Path, fmt: FlowFormat = "parquet") -> None:
    """A by-day run's sink (sim.studies.by_day): the day's flows in `fmt` as
    folder/days/<date>/flows.parquet (or .csv), written by the worker that ran the day."""
    if fmt == "none":
        return
    day = folder / "days" / record.scenario.start.date().isoformat()
    day.mkdir(parents=True)
    write_flows(record, day, fmt)


def flow_batches(record: RunRecord, rows: int = ROW_GROUP) -> Iterator[Columns]:
    """The record's flows as columns (sim.analysis.flowfile.FLOW_COLUMNS), `rows` flows a
    batch; completion time and slowdown only for finished elastic flows (NaN otherwise)."""
    kinds = {site.id: site.kind for site in record.scenario.sites}
    fct, slowdowns = flow_completion(record)
    for first in range(0, len(record.flows), rows):
        flows = record.flows[first : first + rows]
        numbers = np.array(
            [(f.start, f.end, f.size, f.delivered, f.rate, f.time_at_rate) for f in flows],
            dtype=float,
        ).reshape(len(flows), 6)
        yield {
            "id": np.array([f.id for f in flows], dtype=np.int64),
            "site": np.array([f.site for f in flows], dtype=str),
            "kind": np.array([kinds[f.site] for f in flows], dtype=str),
            "app": np.array([f.app for f in flows], dtype=str),
            "direction": np.array([f.direction for f in flows], dtype=str),
            **dict(zip(NUMBER_COLUMNS, numbers.T, strict=True)),
            "status": np.array([f.status for f in flows], dtype=str),
            "fct_s": fct[first : first + rows],
            "slowdown": slowdowns[first : first + rows],
        }


def class_columns(record: RunRecord) -> Columns:
    """Per class per interval (sim.analysis.classfile.CLASS_COLUMNS): L2 allocation, goodput
    delivered, drops, offered goodput; plan by plan, each interval's classes in tree order."""
    parts: dict[str, list[np.ndarray]] = {c: [] for c in classfile.CLASS_COLUMNS}
    for series in class_series(record):
        rows, classes = len(series.steps), series.tree.classes
        named = {
            "direction": [series.direction] * len(classes),
            "class": [c.id for c in classes],
            "parent": [c.parent or "" for c in classes],
            "site": [c.site or "" for c in classes],
        }
        parts["time_s"].append(
            np.repeat(np.asarray(record.times, float)[series.steps], len(classes))
        )
        for name, values in named.items():
            parts[name].append(np.tile(np.array(values, dtype=str), rows))
        parts["allocated_bps"].append(series.allocated_bps.ravel())
        parts["delivered_bps"].append(series.delivered_bps.ravel())
        parts["drops"].append(series.drops.ravel().astype(np.int64))
        parts["offered_bps"].append(series.offered_bps.ravel())
    return {
        name: np.concatenate(arrays) if arrays else np.array([], _dtype(name))
        for name, arrays in parts.items()
    }


def _dtype(column: str) -> type:
    """The numpy type of a classes column with no rows."""
    return str if column in classfile.TEXT_COLUMNS else int if column == "drops" else float


CONTROL_COLUMNS = [
    "time_s",
    "clock",
    "controller",
    "direction",
    "class",
    "field",
    "old",
    "new",
    "why",
]


def control_rows(record: RunRecord) -> Iterator[list[object]]:
    """Every change a live controller made: when, to which class and field, from, to, why."""
    for c in record.control or []:
        clock = record.scenario.start + dt.timedelta(seconds=c.time)
        yield [
            _num(c.time),
            clock.isoformat(sep=" "),
            c.controller,
            c.direction,
            c.class_id,
            c.field,
            _num(c.old),
            _num(c.new),
            c.why,
        ]


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


def write_json(path: Path, data: Any) -> None:
    """`data` as indented JSON (a results folder's files)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def _write_csv(path: Path, columns: list[str], rows: Iterator[list[object]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
