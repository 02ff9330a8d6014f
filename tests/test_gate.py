"""`netlab gate`: a lowered guarantee fails naming the site, neutral edits pass with every
difference exactly 0, verdicts repeat, the statistics match hand-computed values, and the
reports (JUnit, Markdown, history) say what the verdict says."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import tomli_w

from sim.model.scenario import load_scenario
from sim.report.gate import headline, publish
from sim.shaping.planfile import to_json
from sim.shaping.schedule import compile_schedule
from sim.studies.gate import GateResult, gate, judge, load_sides
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data" / "gate"
BASELINE = DATA / "kotim-tight.toml"
RSUD_LOWER = DATA / "kotim-rsud-lower.toml"
SEEDS = [1, 2]
WINDOW = (9 * 3600.0, 1800.0)  # 09:00 + 30 min


@pytest.fixture(scope="module")
def rsud_result() -> GateResult:
    return gate(*load_sides(BASELINE, RSUD_LOWER), SEEDS, WINDOW)


def test_lowering_rsuds_guarantee_fails_naming_rsud(netlab, tmp_path: Path) -> None:
    result = netlab(
        "gate", str(BASELINE), str(RSUD_LOWER), "--seeds", "2", "--out", str(tmp_path),
        "--history", str(tmp_path / "history.sqlite"),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "gate FAILED" in result.stdout
    assert "rsud (RSUD dr. Murjani Sampit)" in result.stdout
    failures = ET.parse(tmp_path / "junit.xml").getroot().iter("failure")
    failed_cases = {f.get("message", "").split()[0] for f in failures}
    assert failed_cases == {"rsud"}  # the hospital alone
    assert "**regressed**" in (tmp_path / "summary.md").read_text()


def test_only_rsud_regresses_and_by_a_clear_margin(rsud_result: GateResult) -> None:
    failed = rsud_result.failed
    assert {row.subject for row in failed} == {"rsud"}
    satisfaction = next(r for r in failed if r.objective == "satisfaction")
    # the guarantee fell from 13.1 to 2 Mbit/s on a saturated link: a large, certain loss
    assert satisfaction.diff is not None and satisfaction.ci is not None
    assert satisfaction.diff < -0.1  # a fifth of the hospital's traffic lost, on average
    assert satisfaction.diff + satisfaction.ci < -0.02  # even with t(0.975, 1) = 12.7
    assert satisfaction.n == len(SEEDS)


def test_verdicts_are_stable_across_reruns(rsud_result: GateResult) -> None:
    again = gate(*load_sides(BASELINE, RSUD_LOWER), SEEDS, WINDOW)
    assert again.rows == rsud_result.rows


def test_the_result_reads_back_from_its_json(rsud_result: GateResult) -> None:
    text = json.dumps(rsud_result.to_json())
    assert GateResult.from_json(json.loads(text)) == rsud_result


def neutral_copy(tmp_path: Path) -> Path:
    """kotim-tight.toml on a copy of the topology with its sites in reverse order, one site
    renamed and another site's id changed (its name kept)."""
    topology = tomllib.loads((ROOT / "topologies" / "kotim.toml").read_text())
    topology["sites"] = topology["sites"][::-1]
    for site in topology["sites"]:
        if site["id"] == "rsud":
            site["name"] = "Rumah Sakit Umum Daerah dr. Murjani"
        if site["id"] == "disdik":
            site["id"] = "pendidikan"
    (tmp_path / "topology.toml").write_text(tomli_w.dumps(topology))
    text = BASELINE.read_text().replace("../../../topologies/kotim.toml", "topology.toml")
    path = tmp_path / "neutral.toml"
    path.write_text(text)
    return path


def test_reordering_and_renaming_sites_changes_nothing(tmp_path: Path) -> None:
    result = gate(*load_sides(BASELINE, neutral_copy(tmp_path)), SEEDS, WINDOW)
    assert result.failed == []
    assert {row.verdict for row in result.rows} <= {"pass", "too few"}
    assert all(row.diff == 0.0 for row in result.rows if row.diff is not None)
    assert any(row.subject == "disdik" and row.n == 2 for row in result.rows)  # matched by name


def test_plan_files_are_gated_on_the_scenarios_demand(tmp_path: Path) -> None:
    plans = []
    for name, source in (("old", BASELINE), ("new", RSUD_LOWER)):
        path = tmp_path / f"{name}.json"
        path.write_text(to_json(compile_schedule(load_scenario(source)).otherwise))
        plans.append(path)
    result = gate(*load_sides(*plans, scenario=BASELINE), SEEDS, WINDOW)
    assert {row.subject for row in result.failed} == {"rsud"}


def test_a_plan_for_other_sites_is_one_clear_error(netlab, tmp_path: Path) -> None:
    tiny = load_scenario(ROOT / "tests" / "data" / "tiny.toml")
    plan = tmp_path / "tiny-plan.json"
    plan.write_text(to_json(compile_schedule(tiny).otherwise))
    result = netlab("gate", str(BASELINE), str(plan), "--out", str(tmp_path))
    assert result.returncode == 2
    assert "tiny-plan.json: down: plan's sites differ" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_interval_rule_against_hand_computed_figures() -> None:
    base = {("site", "a", "satisfaction"): {1: 0.90, 2: 0.80, 3: 0.85}}
    cases = {
        (-0.10, -0.10, -0.10): "regressed",  # mean -0.1, CI 0: certain and beyond 0.02
        (-0.01, -0.01, -0.01): "pass",  # certain but within the tolerance
        (-0.10, +0.05, -0.10): "pass",  # mean -0.05, CI 4.3027 * 0.0866 / sqrt(3) = 0.215
        (+0.05, +0.05, +0.05): "improved",
    }
    for diffs, expected in cases.items():
        cand = {
            key: {s: v + d for (s, v), d in zip(b.items(), diffs, strict=True)}
            for key, b in base.items()
        }
        (row,) = judge(base, cand, 0.02)
        assert row.verdict == expected, diffs
    cand = {key: {s: v - 0.10 + 0.15 * (s == 2) for s, v in b.items()} for key, b in base.items()}
    (row,) = judge(base, cand, 0.02)
    assert row.diff == pytest.approx(-0.05)
    assert row.ci == pytest.approx(4.3027 * 0.0075**0.5 / 3**0.5, rel=1e-4)


def test_a_site_the_candidate_no_longer_serves_fails() -> None:
    base = {
        ("site", "a", "satisfaction"): {1: 0.9, 2: 0.9},
        ("site", "b", "satisfaction"): {1: 1.0},
    }
    cand = {("site", "a", "satisfaction"): {1: 0.9, 2: 0.9}, ("site", "+c", "satisfaction"): {}}
    rows = {row.subject: row.verdict for row in judge(base, cand, 0.02)}
    assert rows == {"a": "pass", "b": "removed", "+c": "added"}


def test_reports_and_history_agree_with_the_verdict(rsud_result: GateResult, tmp_path) -> None:
    history = tmp_path / "history.sqlite"
    junit, markdown, trend = publish(rsud_result, tmp_path / "gate", history)
    root = ET.parse(junit).getroot()
    cases = list(root.iter("testcase"))
    assert len(cases) == len(rsud_result.rows)
    assert int(root.get("failures")) == len(rsud_result.failed) == 3
    assert {c.get("classname") for c in cases if c.find("failure") is not None} == {
        "gate.site.rsud"
    }
    assert headline(rsud_result) in markdown.read_text()
    with sqlite3.connect(history) as db:
        stored = db.execute("SELECT name, verdict FROM figures WHERE gate = 'gate'").fetchall()
    assert len(stored) == len(rsud_result.rows)
    assert ("site/rsud/satisfaction", "regressed") in stored
    assert "plotly" in trend.read_text()[:5_000_000]
