"""Controllers by name, loaded and checked, and the loop that consults one during a run.

`CONTROLLERS` holds the built-ins; a plug-in is loaded by sim.shaping.plugins. `ControlLoop`
is everything a run does with a controller except the clock: it turns cumulative leaf
counters into per-interval readings, asks the controller, validates its plan (the same
classes as the plan in force, every guarantee positive and within its ceil, the root no
larger than the purchase's) and keeps the changes. A tree it checked once is not checked
again: a plan is checked only in the classes that are not the very classes of the checked plan
in force, which is all a controller that moves a few guarantees changes. A controller that
raises or answers an invalid plan ends the run: `ControllerError` says which, when and what.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

from sim.model.controller_spec import ControllerSpec
from sim.model.errors import ConfigError
from sim.model.flow import Direction
from sim.model.scenario import Scenario
from sim.shaping.control import Change, Decision, LeafStates, Observation, Readings, changes
from sim.shaping.demand_following import DemandFollowing
from sim.shaping.plan import DIRECTIONS, ClassTree, ShapingPlan, check_rates, fresh_places
from sim.shaping.plugins import check_params, load_reference
from sim.shaping.policies import root_bps

CONTROLLERS: dict[str, type] = {DemandFollowing.name: DemandFollowing}


class ControllerError(Exception):
    """A controller raised or answered an invalid plan: one line naming it and the time."""


def load_controller(spec: ControllerSpec, path: Path) -> tuple[Any, object]:
    """The controller object `spec` names and its checked parameters."""
    if spec.name is not None:
        controller: Any = CONTROLLERS[spec.name]()
    else:
        assert spec.plugin is not None  # enforced by ControllerSpec
        controller = load_reference(spec.plugin, path, "controller.plugin", "netlab.controllers")
        if not callable(getattr(controller, "decide", None)):
            raise ConfigError(path, "controller.plugin", f"{spec.plugin} has no decide()")
    schema = getattr(controller, "Params", None)
    params = (
        spec.params
        if schema is None
        else check_params(schema, spec.params, path, "controller.params")
    )
    return controller, params


class ControlLoop:
    """One run's controller: readings in, validated plans out, every change kept."""

    def __init__(self, scenario: Scenario, plan: ShapingPlan) -> None:
        spec = scenario.spec.controller
        assert spec is not None
        self.label = spec.label
        self.interval = float(spec.interval)
        self.scenario = scenario
        self.plan = plan
        self.log: list[Change] = []
        self.controller, params = load_controller(spec, scenario.path)
        self.last: dict[Direction, LeafStates] = {}
        self.last_time = 0.0
        self.checked: dict[Direction, ClassTree] = {}  # the trees in force that passed _invalid
        start = getattr(self.controller, "start", None)
        if callable(start):
            self._guarded(0.0, lambda: start(params, scenario.sites, root_bps(scenario), plan))

    def prime(self, states: dict[Direction, LeafStates], now: float) -> None:
        """The counters at the start: the first readings are taken from them."""
        self.last, self.last_time = states, now

    def step(self, states: dict[Direction, LeafStates], now: float) -> ShapingPlan | None:
        """Ask the controller; the plan to put in force now, or None to keep the one in force."""
        seen = Observation(
            now,
            self.scenario.start + dt.timedelta(seconds=now),
            now - self.last_time,
            self.plan,
            {d: Readings.between(self.last[d], states[d]) for d in DIRECTIONS},
        )
        self.last, self.last_time = states, now
        answer = self._guarded(now, lambda: self.controller.decide(seen))
        if answer is None:
            return None
        decision = answer if isinstance(answer, Decision) else Decision(answer)
        if not isinstance(decision.plan, ShapingPlan):
            raise self._error(now, f"answered {type(decision.plan).__name__}, not a plan")
        problem = self._invalid(decision.plan)
        if problem:
            raise self._error(now, f"answered an invalid plan: {problem}")
        found = changes(self.plan, decision.plan, now, self.label, decision.why)
        if not found:
            return None
        self.log += found
        self.plan = decision.plan
        self.checked = {d: decision.plan.tree(d) for d in DIRECTIONS}
        return decision.plan

    def _guarded(self, now: float, call: Any) -> Any:
        try:
            return call()
        except Exception as exc:  # the user's code: its failure ends the run in one line
            raise self._error(now, f"raised {type(exc).__name__}: {exc}") from exc

    def _error(self, now: float, what: str) -> ControllerError:
        clock = self.scenario.start + dt.timedelta(seconds=now)
        return ControllerError(
            f"controller {self.label} {what} (at simulated {now:g} s, {clock:%Y-%m-%d %H:%M:%S})"
        )

    def _invalid(self, plan: ShapingPlan) -> str:
        for direction in DIRECTIONS:
            old, new = self.plan.tree(direction), plan.tree(direction)
            checked = self.checked.get(direction) is old
            if checked and new is old:
                continue
            differ = f"{direction}: its classes differ from the plan in force"
            places = fresh_places(old, new) if checked else range(len(new.classes))
            if places is None or len(new.classes) != len(old.classes):
                return differ
            fresh = [(new.classes[i], old.classes[i]) for i in places]
            if any((c.id, c.parent, c.site) != (was.id, was.parent, was.site) for c, was in fresh):
                return differ
            if new.root.ceil > root_bps(self.scenario) * (1 + 1e-9):
                return f"{direction}: root ceil above the purchase"
            classes = [c for c, _ in fresh]
            if any(not math.isfinite(c.rate) or not math.isfinite(c.ceil) for c in classes):
                return f"{direction}: a rate is not finite"
            if any(
                c.per_user_bps is not None and not 0 < c.per_user_bps < math.inf for c in classes
            ):
                return f"{direction}: a per-user cap is not a positive finite rate"
            try:
                check_rates(classes, f"{self.label} {direction}")
            except ValueError as exc:
                return str(exc)
        return ""
