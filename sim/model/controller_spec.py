"""The `[controller]` table of a scenario file: what re-plans the shaping while traffic flows.

A controller is called every `interval` with what the backend observed since its last call
and may return a new plan (sim.shaping.control). It is a built-in (`name`) or a user's object
(`plugin = "FILE.py:Name"`, relative to the scenario file, or an entry point of the group
`netlab.controllers`), with its parameters in `params`, checked by its own schema.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from sim.model.fields import Duration
from sim.model.loading import PathText, Strict

ControllerName = Literal["demand-following"]  # sim.shaping.controllers.CONTROLLERS holds them
MIN_INTERVAL_S, MAX_INTERVAL_S = 1.0, 86400.0


class ControllerSpec(Strict):
    """A controller, how often it is called and its parameters."""

    name: ControllerName | None = None
    plugin: PathText | None = Field(
        default=None,
        description='"FILE.py:Name" (relative to the scenario file) or an entry point name',
    )
    interval: Duration = Field(default=60.0, description="seconds between calls")
    params: dict[str, Any] = Field(
        default={}, description="the controller's parameters, checked by its own schema"
    )
    enabled: bool = Field(
        default=True, description="false: no controller (a sweep's grid compares with, without)"
    )

    @model_validator(mode="after")
    def _one_controller(self) -> ControllerSpec:
        if (self.name is None) == (self.plugin is None):
            raise ValueError('give either name = "demand-following" or plugin = "FILE.py:Name"')
        if not MIN_INTERVAL_S <= self.interval <= MAX_INTERVAL_S:
            raise ValueError(f"interval must be between {MIN_INTERVAL_S:g} s and 24h")
        return self

    @property
    def label(self) -> str:
        """The controller as messages name it."""
        return self.name or str(self.plugin)
