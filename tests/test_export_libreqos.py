"""`netlab export -f libreqos`: network.json (tiers as nodes) and ShapedDevices.csv (sites as
circuits) in the layout LibreQoS reads, checked field by field against the plan; the round trip
through the importer is in tests/test_configs_round_trip.py."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from sim.shaping.deployment import deployment
from sim.shaping.export import export, export_files, write_files
from sim.shaping.libreqos import HEADER
from sim.shaping.plan import ClassTree, ShapingPlan
from sim.shaping.planfile import to_json
from tests.test_export import PLANS

ROOT = Path(__file__).resolve().parent.parent
BY_NAME = dict(PLANS)


def _rows(text: str) -> list[list[str]]:
    """The CSV's rows as LibreQoS reads them: `#` lines skipped, then the header."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    assert rows[0] == HEADER and len(HEADER) == 13
    return rows[1:]


def test_tiers_are_nodes_under_the_root_and_sites_are_circuits() -> None:
    plan = BY_NAME["small-htb-priority"]
    files = export_files(plan, "libreqos", deployment(plan))
    network = json.loads(files["network.json"])
    root = network["root"]
    assert (root["downloadBandwidthMbps"], root["uploadBandwidthMbps"]) == (97, 97)
    tiers = [c for c in plan.down.classes if c.site is None][1:]
    assert list(root["children"]) == [t.id for t in tiers]
    for tier in tiers:
        node = root["children"][tier.id]
        assert node["downloadBandwidthMbps"] == pytest.approx(tier.ceil / 1e6, abs=1e-6)
        assert "children" not in node  # circuits hang on nodes from the CSV's Parent Node
    rows = _rows(files["ShapedDevices.csv"])
    assert [r[0] for r in rows] == [c.site for c in plan.down.leaves]
    networks = deployment(plan).networks
    for row, down in zip(rows, plan.down.leaves, strict=True):
        up = plan.up.by_id(down.id)
        assert row[4] == down.parent and row[6] == ", ".join(networks[str(down.site)])
        figures = [float(x) * 1e6 for x in row[8:12]]
        assert figures == pytest.approx([down.rate, up.rate, down.ceil, up.ceil], abs=0.5)


def test_the_header_says_what_libreqos_does_not_take() -> None:
    """htb-priority has tier guarantees, priorities and quanta; LibreQoS has none of them."""
    plan = BY_NAME["small-htb-priority"]
    text = export_files(plan, "libreqos", deployment(plan))
    header = [line for line in text["ShapedDevices.csv"].splitlines() if line.startswith("#")]
    said = "\n".join(header)
    for what in ("guarantees of inner classes", "priorities", "quantum weights"):
        assert f"NOT DEPLOYED: {what}" in said
    assert "at least 97/97 Mbit/s" in said
    flat = export(BY_NAME["small-equal-static"], "libreqos")
    assert "NOT DEPLOYED" not in flat
    low = export(BY_NAME["small-max-min"], "libreqos")
    assert "WARNING: 16 circuit figures under LibreQoS 1.5's least" in low


def test_per_user_caps_are_named_as_not_deployed() -> None:
    plan = BY_NAME["small-htb-equal"]
    site = plan.down.leaves[0].site
    capped = replace(
        plan,
        down=ClassTree(
            tuple(
                replace(c, per_user_bps=2e6 if c.site == site else None) for c in plan.down.classes
            )
        ),
    )
    text = export_files(capped, "libreqos", deployment(capped))["ShapedDevices.csv"]
    assert f"NOT DEPLOYED: per-user caps of {site}" in text


def test_trees_of_different_shapes_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    plan = BY_NAME["small-htb-priority"]
    lopsided = replace(plan, up=BY_NAME["small-htb-equal"].up)
    with pytest.raises(ValueError, match="one tree for both directions"):
        write_files(lopsided, "libreqos", deployment(lopsided), tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_command_writes_both_files_or_shows_them(netlab, tmp_path: Path) -> None:
    scenario = str(ROOT / "scenarios" / "example-small.toml")
    out = tmp_path / "lqos"
    out.mkdir()  # an existing directory is where the files go
    result = netlab("export", scenario, "-f", "libreqos", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["ShapedDevices.csv", "network.json"]
    assert "wrote" in result.stderr and "lan_interface" not in result.stderr
    shown = netlab("export", scenario, "-f", "libreqos")
    assert shown.returncode == 0, shown.stderr
    network = (out / "network.json").read_text()
    devices = (out / "ShapedDevices.csv").read_text()
    assert shown.stdout == f"==> network.json <==\n{network}==> ShapedDevices.csv <==\n{devices}"


def test_the_command_refuses_a_plan_libreqos_cannot_hold(netlab, tmp_path: Path) -> None:
    plan = BY_NAME["small-htb-priority"]
    path = tmp_path / "plan.json"
    path.write_text(to_json(replace(plan, up=BY_NAME["small-htb-equal"].up)))
    result = netlab("export", str(path), "-f", "libreqos", "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "--format libreqos: LibreQoS keeps one tree" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
    stdout = netlab("export", str(path), "-f", "libreqos")
    assert stdout.returncode == 2 and stdout.stdout == ""


def test_export_text_of_a_plan_and_its_files_agree(tmp_path: Path) -> None:
    plan: ShapingPlan = BY_NAME["kotim-baseline-0-htb-weighted"]
    written = write_files(plan, "libreqos", deployment(plan), tmp_path)
    joined = "".join(f"==> {p.name} <==\n{p.read_text()}" for p in written)
    assert export(plan, "libreqos") == joined
