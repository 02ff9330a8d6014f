"""The corpus of real third-party files (../shared/real-inputs, skipped where absent): every
RouterOS, tc and LibreQoS file imports or ends in one ConfigError line naming the file; the
files the issue names import; the 557-unit building's guarantees are flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.configs.importer import Imported, import_config, imported_topology
from sim.model.errors import ConfigError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "real-inputs"
if not CORPUS.is_dir():  # a worktree under /work/wt/NAME: the corpus is beside /work/main
    CORPUS = Path(__file__).resolve().parents[3] / "shared" / "real-inputs"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="no ../shared/real-inputs corpus")

LQ = "libreqos"
GROUPS: list[tuple[str, list[str]]] = [
    *[("routeros", [f"routeros/{p.name}"]) for p in sorted(CORPUS.glob("routeros/*.rsc"))],
    *[("tc", [f"htb/{p.name}"]) for p in sorted(CORPUS.glob("htb/*"))],
    (LQ, [f"{LQ}/network.example.HEAD.json", f"{LQ}/ShapedDevices.example.HEAD.csv"]),
    (LQ, [f"{LQ}/network.example.2025-01.json", f"{LQ}/ShapedDevices.example.2025-11-sqm.csv"]),
    (LQ, [f"{LQ}/network.example.2025-01.json", f"{LQ}/ShapedDevices.example.2023-03.csv"]),
    (LQ, [f"{LQ}/network.example.HEAD.json", f"{LQ}/ShapedDevices.v1.2.2022-09.csv"]),
    (LQ, [f"{LQ}/radius-harness_network.json", f"{LQ}/radius-harness_ShapedDevices.csv"]),
    (LQ, [f"{LQ}/manualNetwork.template.csv"]),
    (LQ, [f"{LQ}/queuingStructure.example_with_children.json"]),
    (LQ, [f"{LQ}/tc-qdisc-show-json.bench-example.json"]),
]
MUST_IMPORT = {
    "routeros/mm1rza_P-001-SMK1PUSAT.rsc",
    "routeros/Im0nk3yar0und_queue.rsc",
    "routeros/tsettle_config.rsc",
    "htb/kaepr_pistonheads_tc.sh",
    f"{LQ}/ShapedDevices.example.HEAD.csv",
    f"{LQ}/ShapedDevices.example.2025-11-sqm.csv",
}


def _import(fmt: str, names: list[str]) -> Imported:
    imported = import_config([CORPUS / n for n in names], fmt)
    imported_topology(imported, "corpus")  # the sites make a valid topology
    return imported


@pytest.mark.parametrize(("fmt", "names"), GROUPS, ids=[" + ".join(n) for _, n in GROUPS])
def test_every_file_imports_or_says_why_in_one_line(fmt: str, names: list[str]) -> None:
    try:
        imported = _import(fmt, names)
    except ConfigError as exc:
        assert not MUST_IMPORT & set(names), f"must import: {exc}"
        message = str(exc)
        assert "\n" not in message and message.startswith(str(CORPUS)), message
        return
    assert imported.plan.down.leaves and imported.plan.up.leaves
    assert imported.sites


def test_the_557_unit_building_is_flagged_oversubscribed() -> None:
    imported = _import("routeros", ["routeros/cptnkickbutt_ewt_hoy_buildout.rsc"])
    assert len(imported.sites) == 557
    flagged = [w for w in imported.warnings if "OVERSUBSCRIBED" in w and "557 queues" in w]
    assert flagged and "139 Gbit/s" in flagged[0]


def test_the_isp_router_keeps_its_nesting_and_pcq() -> None:
    imported = _import("routeros", ["routeros/mm1rza_P-001-SMK1PUSAT.rsc"])
    down = imported.plan.down
    assert down.root.id == "global_all_traffic" and down.root.ceil == 300e6
    firman = down.by_id("voucher_firman")
    assert firman.parent == "mitra_firman" and firman.ceil == 10e6 and firman.prio == 0
    assert imported.plan.up.by_id("voucher_firman").ceil == 4e6
    assert sum("PCQ" in w for w in imported.warnings) >= 1


def test_shell_variables_are_refused_by_name_or_taken_when_given() -> None:
    with pytest.raises(ConfigError, match="line 151: .*shell variable USPEED"):
        import_config([CORPUS / "htb" / "magnific0_wondershaper.sh"], "tc")
    path = CORPUS / "htb" / "fraxflax_fraxwall_fraxshape.sh"
    with pytest.raises(ConfigError, match='LIMIT \\(the script sets LIMIT="500"\\)'):
        import_config([path], "tc")
    imported = import_config([path], "tc", {"LIMIT": "500", "UNITS": "kbit"})
    assert imported.plan.down.root.ceil == 500e3
