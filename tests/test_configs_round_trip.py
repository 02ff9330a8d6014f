"""Round trips: every plan of the regency's scenarios (and each static policy on the small
example), exported by netlab's tc and RouterOS exporters, imports back as the same classes,
parents, guarantees, ceilings and priorities (and quanta for tc), and the same site networks.

LibreQoS's files hold less, so its round trip asks less: the same classes, parents, sites,
leaf guarantees and every ceiling; no priority or quantum (LibreQoS has neither: every class
is read back at prio 0 with the kernel's quantum), and an inner class's guarantee comes back
as its ceiling (a node has one bandwidth). Per-user caps survive RouterOS as a PCQ type."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sim.configs.importer import import_config
from sim.shaping.deployment import deployment
from sim.shaping.export import export, write_files
from sim.shaping.plan import DIRECTIONS, ClassTree, ShapingPlan
from sim.shaping.tc import deployed_quanta
from tests.test_export import ALL_PLANS, PLAN_IDS


def _same_classes(original: ShapingPlan, imported: ShapingPlan, with_quantum: bool) -> None:
    for direction in DIRECTIONS:
        want, got = original.tree(direction), imported.tree(direction)
        assert [c.id for c in got.classes] == [c.id for c in want.classes]
        quanta, _ = deployed_quanta(want, "check")
        for a, b in zip(want.classes, got.classes, strict=True):
            assert (b.parent, b.site) == (a.parent, a.site)
            assert b.rate == pytest.approx(a.rate, abs=1.0)
            assert b.ceil == pytest.approx(a.ceil, abs=1.0)
            leaf = a.site is not None
            assert b.prio == (a.prio if leaf else 0)
            if with_quantum and leaf:
                assert b.quantum == quanta[a.id]


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
@pytest.mark.parametrize(
    ("fmt", "reader", "suffix"), [("tc", "tc", ".sh"), ("mikrotik", "routeros", ".rsc")]
)
def test_export_then_import_gives_the_plan_back(
    plan: ShapingPlan, fmt: str, reader: str, suffix: str, tmp_path: Path
) -> None:
    path = tmp_path / f"plan{suffix}"
    path.write_text(export(plan, fmt))
    imported = import_config([path], reader)
    _same_classes(plan, imported.plan, with_quantum=fmt == "tc")
    networks = deployment(plan).networks
    got = {s.site.id: tuple(str(n) for n in s.site.subnets) for s in imported.sites}
    assert got == networks
    assert imported.plan.policy == "deployed"


@pytest.mark.parametrize("plan", ALL_PLANS, ids=PLAN_IDS)
def test_libreqos_export_then_import_gives_the_plan_back(plan: ShapingPlan, tmp_path: Path) -> None:
    written = write_files(plan, "libreqos", deployment(plan), tmp_path)
    imported = import_config(written, "libreqos")
    for direction in DIRECTIONS:
        want, got = plan.tree(direction), imported.plan.tree(direction)
        assert got.root.id == want.root.id  # nodes come before circuits: compared by id
        assert sorted(c.id for c in got.classes) == sorted(c.id for c in want.classes)
        for a in want.classes:
            b = got.by_id(a.id)
            assert (b.parent, b.site, b.prio, b.quantum) == (a.parent, a.site, 0, None)
            assert b.ceil == pytest.approx(a.ceil, abs=1.0)
            guarantee = a.rate if a.site is not None else a.ceil  # a node: its one bandwidth
            assert b.rate == pytest.approx(guarantee, abs=1.0)
    got = {s.site.id: tuple(str(n) for n in s.site.subnets) for s in imported.sites}
    assert got == deployment(plan).networks


def _capped(plan: ShapingPlan, caps: dict[str, float]) -> ShapingPlan:
    """plan with per-user caps on the leaves of the sites named (both directions)."""

    def tree(t: ClassTree) -> ClassTree:
        return ClassTree(tuple(replace(c, per_user_bps=caps.get(c.site or "")) for c in t.classes))

    return replace(plan, down=tree(plan.down), up=tree(plan.up))


@pytest.mark.parametrize("plan", ALL_PLANS[:3], ids=PLAN_IDS[:3])
def test_per_user_caps_survive_routeros_as_pcq(plan: ShapingPlan, tmp_path: Path) -> None:
    sites = [c.site for c in plan.down.leaves]
    caps = {sites[0]: 2e6, sites[-1]: 512_000.0}
    capped = _capped(plan, caps)
    path = tmp_path / "plan.rsc"
    path.write_text(export(capped, "mikrotik"))
    imported = import_config([path], "routeros")
    _same_classes(capped, imported.plan, with_quantum=False)
    for direction in DIRECTIONS:
        got = {c.site: c.per_user_bps for c in imported.plan.tree(direction).leaves}
        assert got == {s: caps.get(str(s)) for s in got}
    assert any("held to 2 Mbit/s" in w for w in imported.warnings)
