"""A transfer as the demand model asks for it and a backend carries it, and what carries it.

`Flow` is the record every layer shares: the demand model creates it, a backend fills in its
end, delivered bytes and status, and the metrics read it. `Transport` is all the demand model
needs of a backend, so demand depends on this module, not on the backends. `FlowFormat` names
the ways a run folder keeps its flows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

Direction = Literal["down", "up"]  # down: towards the sites; up: from them
FlowStatus = Literal["active", "done", "abandoned", "cut"]
# How a run folder keeps its flows (`--flows`; sim/analysis/flowfile.py writes and reads them)
FlowFormat = Literal["parquet", "csv", "none"]
FLOW_FORMATS: tuple[FlowFormat, ...] = ("parquet", "csv", "none")


@dataclass(slots=True, eq=False)
class Flow:
    """One transfer. Sizes are goodput bytes, rates goodput bits/s; results filled on end."""

    id: int
    site: str
    app: str
    direction: Direction
    start: float
    size: float  # elastic: bytes to move; paced: bytes it would move at its rate
    rate: float = 0.0  # paced: needed goodput rate, bits/s; 0 for elastic
    duration: float = 0.0  # paced: seconds
    patience: float = math.inf  # elastic: the user abandons after this many seconds
    end: float = math.nan
    delivered: float = 0.0
    status: FlowStatus = "active"
    time_at_rate: float = 0.0  # paced: seconds it got at least its needed rate
    on_end: Callable[[Flow], None] | None = field(default=None, repr=False)  # see Transport

    @property
    def paced(self) -> bool:
        return self.rate > 0


class Transport(Protocol):
    """What carries flows: every backend is one (sim.backends.base.Backend)."""

    def transfer(self, flow: Flow, on_end: Callable[[Flow], None] | None = None) -> None:
        """Start a flow now; call on_end(flow) when it has ended, at the simulated time it
        ended but outside the backend's own bookkeeping, so on_end may start the next flow.
        A callback, not a SimPy event: an event per flow (made, scheduled, stepped, resuming
        a process) costs more than most of what the fluid backend does for the flow."""
