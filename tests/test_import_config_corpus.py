"""`netlab import-config` then `netlab run` on the files of the real corpus the issue names
(../shared/real-inputs, skipped where absent), and the 557-unit building's warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.model.scenario import load_scenario
from tests.test_configs_corpus import CORPUS, LQ

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="no ../shared/real-inputs corpus")

NAMED: list[tuple[str, list[str]]] = [
    ("routeros", ["routeros/mm1rza_P-001-SMK1PUSAT.rsc"]),
    ("routeros", ["routeros/Im0nk3yar0und_queue.rsc"]),
    ("routeros", ["routeros/tsettle_config.rsc"]),
    ("libreqos", [f"{LQ}/network.example.HEAD.json", f"{LQ}/ShapedDevices.example.HEAD.csv"]),
    (
        "libreqos",
        [f"{LQ}/network.example.2025-01.json", f"{LQ}/ShapedDevices.example.2025-11-sqm.csv"],
    ),
    ("tc", ["htb/kaepr_pistonheads_tc.sh"]),
]


@pytest.mark.parametrize(("fmt", "names"), NAMED, ids=[n[-1] for _, n in NAMED])
def test_named_files_import_and_run(netlab, tmp_path: Path, fmt: str, names: list[str]) -> None:
    out = tmp_path / "imported"
    files = [str(CORPUS / n) for n in names]
    result = netlab("import-config", *files, "-f", fmt, "--out", str(out))
    assert result.returncode == 0, result.stderr
    scenario = load_scenario(out / "scenario.toml")
    assert scenario.spec.policy.name == "deployed" and scenario.sites
    run = netlab("run", str(out / "scenario.toml"), "--duration", "1h", "-o", str(tmp_path))
    assert run.returncode == 0, run.stderr
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith(scenario.name + "-")]
    summary = json.loads((folder / "summary.json").read_text())
    assert sorted(s["id"] for s in summary["sites"]) == sorted(s.id for s in scenario.sites)


def test_the_557_unit_building_prints_its_oversubscription(netlab, tmp_path: Path) -> None:
    path = CORPUS / "routeros" / "cptnkickbutt_ewt_hoy_buildout.rsc"
    out = tmp_path / "building"
    result = netlab("import-config", str(path), "-f", "routeros", "--out", str(out))
    assert result.returncode == 0, result.stderr
    flagged = [w for w in result.stderr.splitlines() if "OVERSUBSCRIBED" in w and "557 queues" in w]
    assert flagged and "139 Gbit/s" in flagged[0], result.stderr
    assert flagged[0].removeprefix("warning: ") in (out / "scenario.toml").read_text()
    assert len(load_scenario(out / "scenario.toml").sites) == 557
