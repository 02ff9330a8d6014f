"""A scenario file against its topology: the chosen last-mile options switched on, their
monthly cost, and every site, kind and app the file names checked to exist."""

from __future__ import annotations

from pathlib import Path

from sim.model.errors import ConfigError
from sim.model.policy_spec import PolicyParams
from sim.model.scenario_schema import ScenarioFile
from sim.model.topology import SITE_KINDS, Topology


def lastmile_cost(topology: Topology, connect: dict[str, str]) -> float:
    """Monthly cost (Rp) of the last-mile options switched on (with_connected_sites checks them)."""
    total = 0.0
    for site in topology.sites:
        for option in site.lastmile:
            if connect.get(site.id) == option.id:
                total += option.monthly_cost_idr
    return total


def with_connected_sites(path: Path, topology: Topology, connect: dict[str, str]) -> Topology:
    """The topology with the chosen last-mile option of each listed unreached site switched on."""
    sites = []
    for site in topology.sites:
        option_id = connect.get(site.id)
        if option_id is None:
            sites.append(site)
            continue
        if site.reached:
            raise ConfigError(path, f"connect.{site.id}", "site is already reached")
        options = {option.id: option for option in site.lastmile}
        if option_id not in options:
            raise ConfigError(
                path,
                f"connect.{site.id}",
                f"unknown option {option_id!r} (have: {', '.join(options)})",
            )
        option = options[option_id]
        sites.append(
            site.model_copy(
                update={
                    "reached": True,
                    "access_mbps": option.mbps,
                    "latency_ms": option.latency_ms,
                }
            )
        )
    unknown = sorted(set(connect) - {site.id for site in topology.sites})
    if unknown:
        raise ConfigError(path, f"connect.{unknown[0]}", "no such site in the topology")
    return topology.model_copy(update={"sites": sites})


def check_references(path: Path, spec: ScenarioFile, topology: Topology) -> None:
    """Every site the policy and calibration name exists; every served kind has a profile."""
    _check_site_references(path, spec, topology)
    _check_calibrated_sites(path, spec, topology)


def _check_calibrated_sites(path: Path, spec: ScenarioFile, topology: Topology) -> None:
    known = {site.id for site in topology.sites}
    for site_id, site in spec.calibration.sites.items():
        if site_id not in known:
            raise ConfigError(path, f"calibration.sites.{site_id}", "not a site of the topology")
        for app in site.mix:
            if app not in spec.demand.apps:
                raise ConfigError(path, f"calibration.sites.{site_id}.mix", f"unknown app {app!r}")


def _check_site_references(path: Path, spec: ScenarioFile, topology: Topology) -> None:
    known = {site.id for site in topology.sites}
    policies: list[tuple[str, PolicyParams]] = [("policy", spec.policy)]
    if spec.policy.otherwise is not None:
        policies.append(("policy.otherwise", spec.policy.otherwise))
    policies += [
        (f"policy.schedule[{i}].policy", e.policy) for i, e in enumerate(spec.policy.schedule)
    ]
    for key, params in policies:
        for table, site_ids in (("weights", params.weights), ("sites", params.sites)):
            for site_id in site_ids:
                if site_id not in known:
                    raise ConfigError(
                        path, f"{key}.{table}.{site_id}", "no such site in the topology"
                    )
    for kind in SITE_KINDS:
        if any(site.kind == kind for site in topology.served) and kind not in spec.demand.kinds:
            raise ConfigError(path, f"demand.kinds.{kind}", "no profile for a kind of site served")
