"""A scenario: what to simulate (topology, purchase, policy, demand, time window), resolved.

`load_scenario` reads a scenario TOML, validates it against the schema
(sim.model.scenario_schema; unknown keys are errors) and returns a resolved `Scenario` with the
topology loaded and the chosen last-mile options switched on (sim.model.resolve). All units are
converted at validation, once. Variants of a scenario (another purchase, policy, growth or
connection) come from its typed `with_*` methods, not from re-reading files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.model.demand import DEFAULT_DEMAND, merged
from sim.model.errors import ConfigError
from sim.model.fields import clock_seconds
from sim.model.filekind import expect_kind
from sim.model.loading import read_toml, validate
from sim.model.resolve import check_references, lastmile_cost, with_connected_sites
from sim.model.scenario_schema import ScenarioFile, Target
from sim.model.topology import Site, Topology, load_topology
from sim.model.units import mbps


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with its topology resolved (connections applied).

    Change one with the `with_*` methods: each returns a new Scenario, re-validated and
    resolved against the topology already read (no file is read again); bad values raise
    ConfigError naming the scenario file and the key, as they would in the file.
    """

    path: Path
    spec: ScenarioFile
    inventory: Topology  # the topology file as read, before [connect]
    topology: Topology  # with the [connect] options switched on
    lastmile_idr_month: float = 0.0

    @classmethod
    def resolve(cls, path: Path, spec: ScenarioFile, inventory: Topology) -> Scenario:
        """Switch on the chosen last-mile options and check the site references."""
        lastmile_idr_month = lastmile_cost(inventory, spec.connect)
        topology = with_connected_sites(path, inventory, spec.connect)
        check_references(path, spec, topology)
        return cls(path, spec, inventory, topology, lastmile_idr_month)

    def edited(self, data: dict[str, Any]) -> Scenario:
        """This scenario with its file data replaced by `data` (shaped as `spec.model_dump()`)."""
        _check_demand_table(self.path, data)
        data = {**data, "demand": merged(DEFAULT_DEMAND, data.get("demand", {}))}
        spec = validate(self.path, data, ScenarioFile)
        inventory = self.inventory
        if spec.scenario.topology != self.spec.scenario.topology:
            inventory = _load_topology(self.path, spec)
        return Scenario.resolve(self.path, spec, inventory)

    def with_purchase(self, upstream_mbps: float) -> Scenario:
        """Buy `upstream_mbps` instead (the price tiers stay)."""
        return self._with_table("purchase", upstream_mbps=upstream_mbps)

    def with_policy(self, name: str, **params: Any) -> Scenario:
        """Shape with policy `name`: the file's parameters when it already uses `name`, else
        the policy's defaults; `params` (e.g. guaranteed_share=0.8) override either."""
        own = self.spec.policy
        kept = own.model_dump() if own.name == name else {}
        data = self.spec.model_dump()
        data["policy"] = {**kept, **params, "name": name}
        return self.edited(data)

    def with_growth(self, growth: float) -> Scenario:
        """Demand `growth` times the profiles' (replaces the file's factor, does not multiply)."""
        return self._with_table("demand", growth=growth)

    def with_connect(self, site: str, option: str) -> Scenario:
        """Reach the unreached `site` with its last-mile `option` (an id in the topology)."""
        data = self.spec.model_dump()
        data["connect"] = {**data["connect"], site: option}
        return self.edited(data)

    def with_target(self, target: Target) -> Scenario:
        """Deploy (and so simulate) the plan on `target`: RouterOS gives every leaf one quantum."""
        return self._with_table("network", target=target)

    def with_run(self, **fields: Any) -> Scenario:
        """Change keys of the [scenario] table: seed, start, duration, description..."""
        return self._with_table("scenario", **fields)

    def with_window(self, span: tuple[float, float] | None = None) -> Scenario:
        """Cut to the analysis window `span` (start after midnight, length; seconds), by default
        the [optimize] window, on the first working day, sampled every 5 minutes (at most)."""
        spec = self.spec.optimize
        start_s, length = span or (clock_seconds(spec.window_start), float(spec.window))
        day = self.start.date()
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        start = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=start_s)
        return self.with_run(start=start, duration=length, sample_interval=min(300.0, length))

    def _with_table(self, table: str, **fields: Any) -> Scenario:
        data = self.spec.model_dump()
        data[table] = {**data[table], **fields}
        return self.edited(data)

    @property
    def name(self) -> str:
        return self.spec.scenario.name

    @property
    def seed(self) -> int:
        return self.spec.scenario.seed

    @property
    def duration(self) -> float:
        return float(self.spec.scenario.duration)

    @property
    def start(self) -> dt.datetime:
        return self.spec.scenario.start

    @property
    def upstream_bps(self) -> float:
        return mbps(self.spec.purchase.upstream_mbps)

    @property
    def sites(self) -> list[Site]:
        """Sites that are served (have an access link) in this scenario."""
        return self.topology.served

    @property
    def monthly_cost_idr(self) -> float:
        """Purchase plus switched-on last-mile options, per month."""
        return self.spec.purchase.monthly_cost_idr() + self.lastmile_idr_month

    @property
    def unserved(self) -> list[Site]:
        return [site for site in self.topology.sites if not site.reached]


def load_scenario(path: Path | str) -> Scenario:
    """Load, validate and resolve a scenario file (raises ConfigError)."""
    path = Path(path)
    expect_kind(path, "scenario")  # a sweep, topology, run folder...: say what it is
    data = read_toml(path)
    _check_demand_table(path, data)
    data["demand"] = merged(DEFAULT_DEMAND, data.get("demand", {}))
    spec = validate(path, data, ScenarioFile)
    return Scenario.resolve(path, spec, _load_topology(path, spec))


def _check_demand_table(path: Path, data: dict[str, Any]) -> None:
    """[demand] is merged into the defaults before validation, so its type is checked first."""
    if not isinstance(data.get("demand", {}), dict):
        raise ConfigError(path, "demand", "must be a table ([demand])")


def _load_topology(path: Path, spec: ScenarioFile) -> Topology:
    """The scenario's topology; a file that cannot be read is the scenario's key's fault."""
    try:
        return load_topology(_topology_path(path, spec))
    except ConfigError as exc:
        if exc.key:  # a bad value inside the topology: its own file and key
            raise
        raise ConfigError(path, "scenario.topology", str(exc)) from None


def _topology_path(path: Path, spec: ScenarioFile) -> Path:
    return path.parent / spec.scenario.topology
