"""What an emulated run records of its machine (manifest.json's and stress.json's "info"):
the bring-up, what the network emulates and what not, the CPU load and the tc updates.

MininetBackend fills it in as the run goes (bring-up, then `finish`, then `close`); figures
not measured yet are None and left out of `to_json`, whose keys keep the order in which the
backend learns them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Emulated:
    """Which parts of the site model the emulated network reproduces, and a note saying so."""

    htb_shaping: bool
    access_links: bool
    upstream_link: bool
    delay: bool
    loss: bool
    note: str


@dataclass(frozen=True)
class CpuLoad:
    """Share of all cores busy over the run: mean, max, and the share of samples over the
    CPU-bound threshold."""

    cpu_busy_mean: float
    cpu_busy_max: float
    cpu_bound_share: float


@dataclass
class EmulationInfo:
    """The machine's record of an emulated run (see the module docstring)."""

    run_tag: str
    scale: float
    hosts: int
    tcp_congestion_control: str
    bring_up_s: float
    bring_up_phases_s: dict[str, float]
    emulated: Emulated
    cpu: CpuLoad | None = None  # after `finish`, when the CPU was sampled
    tc_rebuilds: dict[str, int] | None = None  # per direction, after `finish`
    tc_changes: dict[str, int] | None = None
    tear_down_s: float | None = None  # after `close`

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data: the CPU figures flattened in place, figures not known left out."""
        data: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key == "cpu":
                data.update(value or {})
            elif value is not None:
                data[key] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EmulationInfo:
        """Read back what to_json wrote."""
        cpu_keys = {"cpu_busy_mean", "cpu_busy_max", "cpu_bound_share"}
        fields = {k: v for k, v in data.items() if k not in cpu_keys}
        cpu = CpuLoad(**{k: data[k] for k in cpu_keys}) if cpu_keys <= set(data) else None
        return cls(**{**fields, "emulated": Emulated(**data["emulated"]), "cpu": cpu})
