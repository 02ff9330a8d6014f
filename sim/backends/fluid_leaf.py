"""The fluid backend's state per leaf class: its flows, grouped by need or cap, and its clocks.

A leaf's paced flows are grouped by the rate they need, its elastic flows by their cap (each
flow's own, or the leaf's per-user cap where that is lower), so that a change of the leaf's fair
level moves groups, not flows (sim/backends/fluid.py, which keeps these up to date). All rates
are L2 bits/s, all clocks wire bytes served to each flow.

`make core` compiles this module with mypyc (docs/architecture.md, "The compiled core"): its
annotations must hold at run time, and an edit takes effect once it is compiled again.
"""

from __future__ import annotations

import math

from sim.model.compiled import refuse_stale
from sim.model.flow import Direction, Flow
from sim.shaping.control import LeafStates
from sim.shaping.plan import ShapingPlan

refuse_stale(__file__)


class PacedGroup:
    """The paced flows of one leaf that need the same rate: all at their need, or all at the
    leaf's level. `marks` holds, per flow, the time (at need) or the clock (at the level) at
    which it was last credited."""

    __slots__ = ("need", "at_need", "marks")

    def __init__(self, need: float) -> None:
        self.need = need  # wire bits/s
        self.at_need = True
        self.marks: dict[Flow, float] = {}


class ElasticGroup:
    """The elastic flows of one leaf with the same cap (wire bits/s, inf: none): they all move
    at `rate` = min(cap, the leaf's fair level), so one clock (wire bytes served to each)
    and one heap of finishes on it serve them all."""

    __slots__ = ("cap", "rate", "clock", "heap", "start_clock")

    def __init__(self, cap: float) -> None:
        self.cap = cap
        self.rate = 0.0
        self.clock = 0.0
        self.heap: list[tuple[float, int, Flow]] = []  # (finish on clock, id, flow)
        self.start_clock: dict[Flow, float] = {}  # flow -> the clock when it started


class Leaf:
    """One site's leaf class in one direction, with the flows it carries."""

    __slots__ = (
        "site",
        "direction",
        "alloc",
        "egroups",
        "n_elastic",
        "elastic_demand",
        "group_of",
        "setup",
        "clock",
        "level",
        "since",
        "groups",
        "n_paced",
        "n_starved",
        "paced_demand",
        "bytes",
        "version",
        "due",
        "alarm",
        "alarm_due",
        "heads_moved",
        "index",
        "access",
        "user_cap",
    )

    def __init__(self, site: str, direction: Direction, access: float) -> None:
        self.site = site
        self.direction = direction
        self.access = access  # bits/s of the site's access link
        self.index: int | None = None  # its class in the tree in force (None: not shaped)
        self.user_cap = math.inf  # wire bits/s each flow may take (the class's per-user cap)
        self.alloc = 0.0  # bits/s granted by the tree
        self.egroups: dict[float, ElasticGroup] = {}  # cap -> elastic flows with that cap
        self.n_elastic = 0
        self.elastic_demand = 0.0  # wire bits/s of the capped elastic flows' caps
        self.group_of: dict[Flow, ElasticGroup] = {}  # elastic flow -> its group
        self.setup: dict[Flow, float] = {}  # elastic flows in handshake/slow start -> cap
        self.clock = 0.0  # wire bytes served to each paced flow at the level since the start
        self.level = 0.0  # bits/s each flow at the level gets now (0 when none)
        self.since = 0.0  # time the clock and byte counter were last brought up to date
        self.groups: dict[float, PacedGroup] = {}  # need -> paced flows with that need
        self.n_paced = 0
        self.n_starved = 0  # paced flows at the level, below their need
        self.paced_demand = 0.0  # wire bits/s all paced flows need
        self.bytes = 0.0  # cumulative L2 bytes through the leaf
        self.version = -1  # the sequence number of its live finish deadline (-1: none)
        self.due = math.inf  # when its next finish is due (inf: none)
        self.alarm = -1  # the sequence number of its finish entry in the heap (-1: none)
        self.alarm_due = math.inf  # and when that entry is due
        self.heads_moved = False  # a flow joined or left: its next finish may have moved

    def demand(self) -> float:
        if not self.n_elastic:
            return self.paced_demand
        if math.inf in self.egroups:
            return math.inf
        total = self.paced_demand + self.elastic_demand
        return math.inf if total >= self.access else total


class Readout:
    """Reads the leaves of one direction into the columns a live controller observes: bytes so
    far and the demand now (at most the access link); the fluid model drops nothing and has no
    queue, so those two columns are the same objects at every reading."""

    def __init__(self, leaves: dict[str, Leaf]) -> None:
        self.sites = tuple(leaves)
        self.leaves = list(leaves.values())
        self.drops: tuple[int, ...] = (0,) * len(self.sites)
        self.backlog: tuple[float | None, ...] = (None,) * len(self.sites)

    def read(self, now: float) -> LeafStates:
        leaves = self.leaves
        return LeafStates(
            self.sites,
            [lf.bytes + lf.alloc * (now - lf.since) / 8.0 for lf in leaves],
            self.drops,
            self.backlog,
            [min(lf.demand(), lf.access) for lf in leaves],
        )


def user_caps(plan: ShapingPlan, direction: Direction) -> dict[str, float]:
    """Each site's per-user cap in the plan's tree for direction, where its leaf has one."""
    caps: dict[str, float] = {}
    for c in plan.tree(direction).leaves:
        if c.site is not None and c.per_user_bps is not None:
            caps[c.site] = c.per_user_bps
    return caps
