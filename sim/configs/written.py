"""An import as the files netlab reads: a topology, the plan as JSON and a scenario using it.

The topology marks every site as imported and writes each figure the configuration does not
give as an assumption, in a comment above it, for the user or `netlab calibrate` to replace.
The scenario's policy is `deployed` (the plan file, as the router applies it); its purchase is
the plan's root; its comments carry the import's warnings. Every value from a configuration
is written by tomli-w (quoted and escaped as TOML needs) and every comment is one line of
printable text, so nothing read can add a key or a table.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import tomli_w

from sim.configs.importer import Imported, imported_topology
from sim.shaping.plan import DIRECTIONS
from sim.shaping.planfile import to_json

TOPOLOGY = "topology.toml"
PLAN = "plan.json"
SCENARIO = "scenario.toml"
START = dt.datetime(2022, 2, 2, 7, 0)  # a working day (1 February 2022 was a holiday)
DURATION = "12h"
SEARCHED = ["htb-weighted", "htb-priority"]  # what `netlab optimize` compares against


def import_files(imported: Imported, name: str, source: str) -> dict[str, str]:
    """The three files' texts by name; `source` says how they were made (the command)."""
    return {
        TOPOLOGY: topology_text(imported, name, source),
        PLAN: to_json(imported.plan),
        SCENARIO: scenario_text(imported, name, source),
    }


def topology_text(imported: Imported, name: str, source: str) -> str:
    """The topology of the imported sites, assumptions commented above their keys."""
    topology = imported_topology(imported, name)
    lines = [
        *_comments(
            [
                f"{name}: sites imported by {source}.",
                "Figures marked 'assumed' are not in the configuration: replace them with what "
                "you know, or fit each site's demand to its measured counters with `netlab "
                "import-counters` and `netlab calibrate`. latency_ms is netlab's default.",
            ]
        ),
        _pairs({"name": topology.name, "description": topology.description}),
        "",
        "[hub]",
        _comment("the downloads root's ceiling in the configuration"),
        _pairs({"id": topology.hub.id, "name": topology.hub.name}),
        _pairs({"link_mbps": topology.hub.link_mbps}),
    ]
    for imported_site in imported.sites:
        site = next(s for s in topology.sites if s.id == imported_site.site.id)
        lines += ["", "[[sites]]", _comment(f"{imported_site.circuit.origin}: imported")]
        lines.append(_pairs({"id": site.id, "name": site.name}))
        values: dict[str, Any] = {
            "kind": site.kind,
            "users": site.users,
            "access_mbps": site.access_mbps,
        }
        for key, value in values.items():
            if key in imported_site.assumptions:
                lines.append(_comment(f"assumed: {imported_site.assumptions[key]}"))
            lines.append(_pairs({key: value}))
        if site.subnets:
            lines.append(_pairs({"subnets": [str(n) for n in site.subnets]}))
        lines.append(_pairs({"note": site.note}))
    return "\n".join(lines) + "\n"


def purchase_mbps(imported: Imported) -> float:
    """The purchase the scenario assumes: the plan's larger root ceiling (it must fit)."""
    return max(imported.plan.tree(d).root.ceil for d in DIRECTIONS) / 1e6


def scenario_text(imported: Imported, name: str, source: str) -> str:
    """A scenario of the topology with the `deployed` policy; warnings as comments."""
    mbps = purchase_mbps(imported)
    step = _nice_step(mbps / 20)
    header = [
        f"{name}: the shaping in force, imported by {source}.",
        f"`deployed` is the imported plan ({PLAN}) as the router applies it, whatever the "
        "purchase; compare it with other policies on these sites with a sweep over "
        '"policy.name" and `netlab compare`.',
    ]
    if imported.warnings:
        header.append("Warnings of the import:")
        header += [f"  - {w}" for w in imported.warnings]
    tables: list[tuple[str, list[str], dict[str, Any]]] = [
        ("scenario", [], _run_table(imported, name)),
        ("purchase", ["assumed: the plan's root (the configuration does not say what is bought)"],
         {"upstream_mbps": mbps}),
        ("network", ["the deployed root is the router's own, at the full purchase: the other "
                     "policies shape theirs there too, so that they compare like for like"],
         {"root_headroom": 1.0}),
        ("policy", [], {"name": "deployed", "plan": PLAN}),
        ("optimize", ["`netlab optimize` searches these policies on the imported sites; "
                      "`deployed` is fixed at its file's rates and is not searched"],
         {"policies": SEARCHED, "min_mbps": step, "max_mbps": step * math.ceil(3 * mbps / step),
          "step_mbps": step}),
    ]  # fmt: skip
    lines = _comments(header)
    for table, notes, values in tables:
        lines += ["", f"[{table}]", *_comments(notes), _pairs(values)]
    return "\n".join(lines) + "\n"


def _run_table(imported: Imported, name: str) -> dict[str, Any]:
    files = ", ".join(imported.inforce.files)
    return {
        "name": name,
        "description": f"the shaping in force, imported from {files}"[:1000],
        "topology": TOPOLOGY,
        "seed": 1,
        "start": START,
        "duration": DURATION,
        "sample_interval": "1m",
    }


def _nice_step(mbps: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten at or above `mbps` (a grid step)."""
    power = 10.0 ** math.floor(math.log10(max(mbps, 1e-3)))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= mbps * (1 - 1e-9))


def _pairs(values: dict[str, Any]) -> str:
    return tomli_w.dumps(values).rstrip("\n")


def _comments(texts: list[str]) -> list[str]:
    return [_comment(t) for t in texts]


def _comment(text: str) -> str:
    """One TOML comment line: control characters (a newline too) shown escaped."""
    return "# " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
