"""Round trips: every plan of the regency's scenarios (and each static policy on the small
example), exported by netlab's tc and RouterOS exporters, imports back as the same classes,
parents, guarantees, ceilings and priorities (and quanta for tc), and the same site networks."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.configs.importer import import_config
from sim.shaping.deployment import deployment
from sim.shaping.export import export
from sim.shaping.plan import DIRECTIONS, ShapingPlan
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
