"""The policy interface: what netlab's own policies and a user's plug-in policy implement.

A policy turns the served sites and the root rate into HTB classes (the root first, then inner
classes and one leaf per site); netlab then applies `[policy.sites]`, the target's rules and
the plan checks, exactly as for its own policies. Its parameters are a pydantic model
(`Params`), so a bad value in `[policy.params]` is one line naming the key.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from sim.model.topology import Site
from sim.shaping.plan import HtbClass


class NoParams(BaseModel):
    """The schema of a policy without parameters: any key given is an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@runtime_checkable
class PolicyBuilder(Protocol):
    """A policy: its name, its parameters' schema and how it builds the classes."""

    @property
    def name(self) -> str:
        """The policy's name in messages and reports."""
        ...

    @property
    def Params(self) -> type[BaseModel]:  # noqa: N802 (a schema class, named like one)
        """The pydantic model of the policy's `[policy.params]`."""
        ...

    def build(self, params: Any, sites: list[Site], capacity: float) -> list[HtbClass]:
        """The classes for `sites` under a root of `capacity` bits/s (`params`: a Params)."""
        ...


class Policy:
    """Base class for a plug-in policy: set `name`, `Params` and `doc`; write `build`."""

    name: ClassVar[str] = "unnamed"
    doc: ClassVar[str] = ""
    Params: ClassVar[type[BaseModel]] = NoParams

    def build(self, params: Any, sites: list[Site], capacity: float) -> list[HtbClass]:
        raise NotImplementedError(f"policy {self.name} has no build()")

    @staticmethod
    def root(capacity: float) -> HtbClass:
        """The root class every tree starts with."""
        return HtbClass("root", None, capacity, capacity)

    @staticmethod
    def leaf(site: Site, rate: float, ceil: float, parent: str = "root", prio: int = 0) -> HtbClass:
        """A site's leaf, its ceiling clipped to the site's access link."""
        ceil = min(ceil, site.access_bps)
        return HtbClass(site.id, parent, min(rate, ceil), ceil, prio, None, site.id)
