"""`netlab whatif`: every combination on common seeds, what latency does to the new sites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.studies.whatif import WhatIfResult, taken, verdicts, whatif
from tests.conftest import ROOT

SMALL = ROOT / "scenarios" / "small-workday.toml"


@pytest.fixture(scope="module")
def combos():
    scenario = load_scenario(SMALL)
    return whatif(scenario, {"kec_seranau": ["vsat", "lte"]}, [1, 2], (9 * 3600.0, 1800.0))


def test_baseline_then_every_option_on_the_same_seeds(combos) -> None:
    assert [c.choice["kec_seranau"] for c in combos] == ["none", "vsat", "lte"]
    assert all(sorted(c.runs) == [1, 2] for c in combos)
    base = combos[0].monthly_idr
    assert combos[1].monthly_idr - base == 7_000_000  # the topology's VSAT price
    assert combos[2].monthly_idr - base == 750_000
    assert "kec_seranau:page_load_p50_s" not in combos[0].runs[1]  # not connected: no figures


def test_vsat_pages_slower_and_calls_worse_than_lte(combos) -> None:
    """600 ms and 1 % loss against 40 ms and 0.5 %: every VSAT page pays at least its
    handshakes (2 x 0.63 s) and slow start; G.107 puts its calls below MOS 3.6."""
    vsat, lte = combos[1], combos[2]
    p50 = "kec_seranau:page_load_p50_s"
    assert vsat.stats(p50).mean >= 2 * lte.stats(p50).mean
    assert vsat.stats(p50).mean > 2 * 0.63
    mos_vsat = vsat.stats("kec_seranau:call_mos").mean
    assert mos_vsat is None or mos_vsat < 3.6


def test_paired_differences_and_verdicts(combos) -> None:
    diff = taken(combos[1], combos[0], "others_satisfaction")
    assert diff.n == 2
    lines = verdicts(combos, ["kec_seranau"])
    assert len(lines) == 2 and lines[0].startswith("kec_seranau=vsat: Rp7,000,000 a month more")


def test_unknown_option_is_a_config_error() -> None:
    scenario = load_scenario(SMALL)
    with pytest.raises(ConfigError, match="--connect kec_seranau=radio: unknown last-mile option"):
        whatif(scenario, {"kec_seranau": ["radio"]}, [1, 2])


def test_whatif_from_the_command_line(netlab, tmp_path: Path) -> None:
    result = netlab(
        "whatif", str(SMALL), "--connect", "kec_seranau=lte", "--seeds", "2",
        "--window", "09:00+10m", "--out", str(tmp_path), "-q",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "kec_seranau=lte: Rp750,000 a month more (Rp9,000,000 a year)" in result.stdout
    folder = tmp_path / "whatif" / load_scenario(SMALL).name
    data = json.loads((folder / "whatif.json").read_text())
    assert [c["choice"] for c in data["combinations"]] == [
        {"kec_seranau": "none"},
        {"kec_seranau": "lte"},
    ]
    assert "kec_seranau" in (folder / "whatif.html").read_text()
    text = (folder / "whatif.json").read_text()
    assert json.dumps(WhatIfResult.from_json(data).to_json(), indent=1) == text
    bad = netlab("whatif", str(SMALL), "--connect", "kec_seranau", "--out", str(tmp_path))
    assert bad.returncode == 2 and "use SITE=OPTION" in bad.stderr


def test_cheapest_good_combination_by_hand() -> None:
    """Calls below MOS 3.6 or a significant loss to the others rule a combination out; of
    the rest the cheapest wins."""
    from sim.studies.whatif import Combination, cheapest_good

    def combo(option: str, cost: float, mos: float, others: list[float]) -> Combination:
        runs = {s: {"k:call_mos": mos, "others_satisfaction": v} for s, v in enumerate(others)}
        return Combination({"k": option}, cost, runs)

    base = combo("none", 100, 0.0, [0.99, 0.98, 0.97])
    vsat = combo("vsat", 107, 3.1, [0.99, 0.98, 0.97])
    lte = combo("lte", 101, 4.3, [0.89, 0.88, 0.87])  # takes 0.1 from the others
    radio = combo("radio", 102, 4.35, [0.99, 0.98, 0.97])
    assert cheapest_good([base, vsat, lte, radio], ["k"]) is radio
    assert cheapest_good([base, vsat], ["k"]) is None
