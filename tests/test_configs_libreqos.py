"""LibreQoS import on a small fixture: key casings, a 15-column header over 13-field rows,
comment lines, quoted multi-address cells, unquoted commas in a comment, an empty Circuit ID."""

from __future__ import annotations

from pathlib import Path

from sim.configs.importer import import_config

DATA = Path(__file__).parent / "data" / "configs"


def test_nodes_are_tiers_and_circuits_sites() -> None:
    im = import_config([DATA / "network.json", DATA / "ShapedDevices.csv"], "libreqos")
    down = im.plan.down
    assert down.root.ceil == 600e6  # 300 + 200 + the unparented circuit's 100
    assert down.by_id("ap_1").parent == "tower_a"
    budi = down.by_id("rumah_budi_rt_3")
    assert (budi.parent, budi.rate, budi.ceil) == ("ap_1", 10e6, 50e6)
    warung = im.plan.up.by_id("warung")
    assert (warung.parent, warung.rate, warung.ceil) == ("tower_b", 1e6, 5e6)
    assert down.by_id("sekolah").parent == "libreqos_root"
    sites = {s.site.id: [str(n) for n in s.site.subnets] for s in im.sites}
    assert sites["rumah_budi_rt_3"] == ["100.64.0.1/32", "100.64.0.2/32", "100.64.0.3/32"]
    assert sites["warung"] == ["100.64.1.0/30"]
    assert any("Nowhere" in w for w in im.warnings)
    assert any("IPv6" in w for w in im.warnings)
