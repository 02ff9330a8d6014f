"""The entry point: files of one format read, converted to a plan and sites, with warnings.

`read_config` gives the shaping in force (the intermediate model); `import_config` also the
ShapingPlan (policy `deployed`), the topology sites with their assumptions and every warning
as one line each; `imported_topology` a validated Topology of those sites. Bad input raises
ConfigError naming the file, the line and the construct not taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from sim.configs.inforce import Notes, ShapingInForce
from sim.configs.libreqos import read_libreqos
from sim.configs.routeros import read_routeros
from sim.configs.tc_script import read_tc_scripts
from sim.configs.tc_show import is_show_output, read_tc_show
from sim.configs.text import read_text
from sim.configs.to_plan import to_plan
from sim.configs.to_sites import ImportedSite, to_sites
from sim.model.errors import ConfigError
from sim.model.topology import Hub, Topology
from sim.shaping.plan import ShapingPlan

FORMATS: tuple[str, ...] = ("routeros", "tc", "libreqos")


@dataclass(frozen=True)
class Imported:
    """What an import gives: the model read, the plan, the sites and the warnings."""

    inforce: ShapingInForce
    plan: ShapingPlan
    sites: list[ImportedSite]
    warnings: list[str]


def read_config(
    paths: list[Path], fmt: str, variables: dict[str, str] | None = None
) -> ShapingInForce:
    """The shaping in force of the files (fmt: one of FORMATS; variables: tc shell values)."""
    if not paths:
        raise ValueError("no files to import")
    if fmt == "routeros":
        return read_routeros(paths)
    if fmt == "tc":
        shown = [is_show_output(read_text(p, "tc output or a tc script")) for p in paths]
        return read_tc_show(paths) if all(shown) else read_tc_scripts(paths, variables)
    if fmt == "libreqos":
        network = [p for p in paths if p.suffix.lower() == ".json"]
        shaped = [p for p in paths if p.suffix.lower() != ".json"]
        if len(network) > 1 or len(shaped) > 1:
            raise ConfigError(paths[0], "", "give one network.json and one ShapedDevices.csv")
        return read_libreqos(network[0] if network else None, shaped[0] if shaped else None)
    raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")


def import_config(
    paths: list[Path],
    fmt: str,
    variables: dict[str, str] | None = None,
    uplink_mbps: float | None = None,
) -> Imported:
    """Read the files and convert them (uplink_mbps: the purchase, when the file lacks it)."""
    inforce = read_config(paths, fmt, variables)
    plan, lines = to_plan(inforce, uplink_mbps * 1e6 if uplink_mbps else None)
    notes = Notes()
    sites = to_sites(inforce, plan, notes)
    warnings = [*lines, *(str(n) for n in notes.items)]
    warnings += [w for w in plan.warnings if w not in warnings]
    return Imported(inforce, plan, sites, warnings)


def imported_topology(imported: Imported, name: str, hub_name: str = "imported hub") -> Topology:
    """A topology of the imported sites; the hub's link is the downloads root's ceiling."""
    hub = Hub(name=hub_name, link_mbps=imported.plan.down.root.ceil / 1e6)
    try:
        return Topology(
            name=name,
            description=f"imported from {', '.join(imported.inforce.files)}",
            hub=hub,
            sites=[s.site for s in imported.sites],
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(imported.inforce.files[0], where, first["msg"]) from None
