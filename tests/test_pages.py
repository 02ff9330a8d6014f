"""Pages a person can read: a row per site however many, plain names and units beside code
names (in the JSON too), numbers rounded to what their interval tells, links between the pages
of one folder, and a purchase that costs more said so."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.compare import MeanCI, ci_text, estimate_text
from sim.analysis.labels import LABEL_KEYS, OBJECTIVES, objective_label
from sim.analysis.metrics import summarize
from sim.analysis.recommendation import Finance, FrontierRow, Recommendation
from sim.analysis.summary import SiteFigures, Summary
from sim.analysis.year import WeekFigures, YearSummary
from sim.model.scenario import load_scenario
from sim.model.scenario_schema import Objectives
from sim.report.page import ROW_PX, nav
from sim.report.recommendation import _frontier_figure, _frontier_table
from sim.report.run_report import BUSY_MARKER, _satisfaction_figure, write_report
from sim.report.whatif import cell
from sim.report.year_report import _satisfaction
from sim.results import write_run
from sim.run import run_scenario
from tests.conftest import ROOT

LONG = "Dinas Pemberdayaan Perempuan, Perlindungan Anak, Pengendalian Penduduk dan KB"


# -- rounding ----------------------------------------------------------------------------------


def test_an_interval_that_includes_zero_says_so() -> None:
    assert estimate_text(1.0, 9.0) == "not distinguishable from 0 (within ± 9)"
    assert estimate_text(-0.00015, 0.00029) == "not distinguishable from 0 (within ± 0.00029)"
    assert cell(MeanCI(5, 1.0, 7.0, 9.0)) == "not distinguishable from 0 (within ± 9)"


def test_mean_and_half_width_are_rounded_to_the_half_widths_digit() -> None:
    assert estimate_text(12.34, 0.43) == "12.3 ± 0.4"  # one digit: 0.43 -> 0.4
    assert estimate_text(0.2051, 0.0205) == "0.205 ± 0.021"  # two when it starts 1-2
    assert estimate_text(1234.5, 15) == "1,234 ± 15"
    assert estimate_text(3.0, None) == "3"  # one seed: no interval
    assert estimate_text(None, None) == "-"


def test_a_tiny_half_width_is_never_a_row_of_zeros() -> None:
    text = estimate_text(4.4e-8, 1.2e-8)
    assert "0.000000" not in text and text == "44e-09 ± 12e-09"
    assert estimate_text(3e-9, 5e-9) == "not distinguishable from 0 (within ± 5e-09)"


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.floats(min_value=1e-5, max_value=1e5, allow_nan=False),
)
def test_rounding_keeps_one_or_two_significant_digits(mean: float, ci: float) -> None:
    """The half-width shows one significant digit (two when it starts 1 or 2), the mean the same
    decimals, within half a unit of that digit of the true figures."""
    amount, spread = ci_text(mean, ci)
    decimals = len(spread.split(".")[1]) if "." in spread else 0
    digits = spread.replace(",", "").replace(".", "").lstrip("0")
    if not decimals:  # tens, hundreds...: the zeros are places, not digits
        digits = digits.rstrip("0") or "0"
    assert 1 <= len(digits) <= 2
    assert amount.count(".") == (decimals > 0)
    unit = 10.0 ** (-decimals if decimals else len(spread.replace(",", "")) - len(digits))
    assert abs(float(amount.replace(",", "")) - mean) <= unit / 2 + 1e-9 * abs(mean)
    assert abs(float(spread.replace(",", "")) - ci) <= unit / 2 + 1e-12
    text = estimate_text(mean, ci)
    assert text.startswith("not distinguishable from 0") == (abs(mean) <= ci)


# -- labels ------------------------------------------------------------------------------------


def test_every_objective_has_a_label_a_unit_and_bahasa() -> None:
    assert set(OBJECTIVES) == set(Objectives.model_fields)
    assert objective_label("download_fct_p95_s").text() == "95th-percentile download time, s"
    for found in OBJECTIVES.values():
        assert found.label and found.unit and found.bahasa and found.bahasa != found.label


def test_summary_json_objectives_carry_label_and_unit_and_old_files_still_read(
    run_dir: Path,
) -> None:
    data = json.loads((run_dir / "summary.json").read_text())
    for row in data["objectives"]:
        found = objective_label(row["name"])
        assert (row["label"], row["unit"]) == (found.label, found.unit)
    new = Summary.from_json(data)
    old = {
        **data,
        "objectives": [
            {k: v for k, v in r.items() if k not in LABEL_KEYS} for r in data["objectives"]
        ],
    }
    assert Summary.from_json(old) == new
    assert new.to_json() == data  # written back with the labels, nothing else changed


def test_recommendation_json_names_its_objectives_and_old_files_still_read() -> None:
    answer = Recommendation(False, {}, {"max_mbps": 900}, Objectives().targets())  # none found
    data = answer.to_json()
    assert data["objective_labels"]["web_fct_p95_s"] == {
        "label": "95th-percentile web page load time",
        "unit": "s",
    }
    assert list(data).index("objective_labels") == list(data).index("objectives") + 1
    del data["objective_labels"]
    assert Recommendation.from_json(data) == answer


# -- report.html -------------------------------------------------------------------------------


def _site(n: int, satisfaction: float, kind: str = "office") -> SiteFigures:
    return SiteFigures(
        id=f"s{n}", name=f"{LONG} {n}", kind=kind, users=10, access_mbps=10.0, flows=5,
        offered_gb=1.0, delivered_gb=satisfaction, satisfaction=satisfaction, unmet_gb=0.0,
        busy_hour_satisfaction=satisfaction - 0.01, p95_mbps=1.0, abandoned_flows=0,
        paced_at_rate_share=None,
    )  # fmt: skip


def test_satisfaction_per_site_is_a_row_per_site_worst_first_with_full_names() -> None:
    sites = [_site(n, 0.5 + (n * 37 % 60) / 120, ("office", "hotspot")[n % 2]) for n in range(60)]
    fig = _satisfaction_figure(sites)
    bars = [t for t in fig.data if t.type == "bar"]
    assert bars and all(t.orientation == "h" for t in bars)
    order = list(fig.layout.yaxis.categoryarray)[::-1]  # top of the plot first
    by_name = {s.name: s for s in sites}
    shown = [by_name[label.replace("<br>", " ")] for label in order]  # full names, wrapped
    assert len(shown) == 60
    assert [s.satisfaction for s in shown] == sorted(s.satisfaction for s in sites)
    assert fig.layout.height >= 60 * ROW_PX * 2  # each name takes two lines here
    assert _satisfaction_figure(sites[:10]).layout.height < fig.layout.height
    marker = [t for t in fig.data if t.type == "scatter"]
    assert [t.name for t in marker] == [BUSY_MARKER] and marker[0].showlegend is not False


def test_report_explains_the_marker_heads_every_column_and_names_sites(
    run_dir: Path,
) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "◆: the same in the site's busiest clock hour" in html
    assert "<th></th>" not in html
    summary = Summary.from_json(json.loads((run_dir / "summary.json").read_text()))
    table = html[html.index("<h2>Objectives") : html.index("<h2>Upstream")].replace("&#x27;", "'")
    for row in summary.objectives:
        label = objective_label(row.name)
        assert f"<td>{label.label}, {label.unit}</td><td>{row.name}</td>" in table
    names = {s.id: s.name for s in summary.sites}
    for row in summary.objectives:
        if row.site:
            assert f"<td>{names[row.site]}</td>" in table


# -- links between the pages of a folder -------------------------------------------------------


def test_nav_links_the_pages_that_exist_in_the_folder(tmp_path: Path) -> None:
    assert nav(tmp_path, "whatif.html") == ""  # alone: no bar
    (tmp_path / "summary.json").write_text("{}")
    (tmp_path / "recommendation.json").write_text("{}")
    bar = nav(tmp_path, "report.html")
    assert "<b>run report</b>" in bar and "href='recommendation.html'" in bar
    assert "acceptance" not in bar and "what-if" not in bar
    (tmp_path / "acceptance.json").write_text("{}")
    assert "href='acceptance.html'" in nav(tmp_path, "recommendation.html")


def test_report_links_the_acceptance_page_of_its_folder(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<nav" not in html  # a one-day run has no other page
    (run_dir / "acceptance.json").write_text("{}")
    try:
        html = write_report(run_dir).read_text(encoding="utf-8")
    finally:
        (run_dir / "acceptance.json").unlink()
    assert re.search(r"<nav class='pages'><b>run report</b><a href='acceptance.html'>", html)


# -- recommendation.html -----------------------------------------------------------------------


def _finance(savings: float) -> Finance:
    return Finance(500.0, 1_440_000_000.0, 1_440_000_000.0 - savings, savings, None, None)


def test_a_dearer_answer_costs_more_and_a_cheaper_one_saves() -> None:
    assert _finance(-243_000_000).against_today() == "costs Rp243,000,000 more a year"
    assert _finance(96_000_000).against_today() == "saves Rp96,000,000 a year"
    assert _finance(0.2).against_today() == "costs the same a year"


def _row(mbps: float, role: str, feasible: bool, seeds: list[int]) -> FrontierRow:
    missed = [] if feasible else ["video_at_rate_share"]
    return FrontierRow(mbps, 4e5 * mbps, 4e5, feasible, role, missed, seeds)


FRONTIER = [
    _row(450, "search", False, [1, 2]),
    _row(500, "next cheaper (fresh seeds)", False, [7, 8, 9]),
    _row(500, "search", True, [1, 2]),  # the search's two seeds pass, the fresh three do not
    _row(525, "answer (fresh seeds)", True, [7, 8, 9]),
    _row(525, "search", True, [1, 2]),
]


def _recommendation(frontier: list[FrontierRow]) -> Recommendation:
    targets = Objectives().targets()
    return Recommendation(True, {}, {}, targets, policy="htb-weighted", frontier=frontier)


def test_the_frontier_lists_each_purchase_once_with_both_verdicts() -> None:
    html = _frontier_table(FRONTIER)
    rows = re.findall(r"<tr><td>([^<]*)</td>", html)
    assert rows == ["450", "500", "525"]
    assert "<th></th>" not in html
    answer = html[html.index("<tr><td>525</td>") :]
    assert "answer (fresh seeds), seeds 7, 8, 9: meets; search, seeds 1, 2: meets" in answer
    cheaper = html[html.index("<tr><td>500</td>") : html.index("<tr><td>525</td>")]
    assert "<td>misses</td>" in cheaper  # the verdict on fresh seeds stands
    assert "seeds 7, 8, 9: misses video_at_rate_share; search, seeds 1, 2: meets" in cheaper


def test_the_frontier_plot_has_a_row_per_purchase_so_labels_cannot_overlap() -> None:
    fig = _frontier_figure(_recommendation(FRONTIER), 525, replace(_finance(-1e7)))
    assert all(t.orientation == "h" for t in fig.data)
    labels = [y for t in fig.data for y in t.y]
    assert sorted(labels) == [
        "450 Mbit/s",
        "500 Mbit/s (next cheaper, today's)",
        "525 Mbit/s (answer)",
    ]
    assert fig.layout.height >= 3 * 2 * ROW_PX
    colours = {y: t.marker.color for t in fig.data for y in t.y}
    assert colours["525 Mbit/s (answer)"] == "#2ca02c" and colours["450 Mbit/s"] == "#d62728"
    assert colours["500 Mbit/s (next cheaper, today's)"] == "#d62728"  # fresh seeds' verdict


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    record = run_scenario(load_scenario(ROOT / "scenarios" / "example-small.toml"))
    return write_run(
        record, summarize(record).to_json(), tmp_path_factory.mktemp("results"), report=write_report
    )


def test_the_headroom_labels_of_the_two_directions_sit_apart() -> None:
    """The p95s are labelled below their points, downloads left and uploads right of the day,
    so the two numbers never meet however close the directions run."""
    from types import SimpleNamespace

    from sim.report.acceptance import _headroom_figure

    days = [
        SimpleNamespace(day=f"2022-02-0{n}", day_type="working", holiday=None,
                        down_p95_utilisation=down, down_peak_utilisation=down + 0.1,
                        up_p95_utilisation=up, up_peak_utilisation=up + 0.1)
        for n, (down, up) in enumerate(((0.80, 0.78), (0.40, 0.42), (0.9, 0.2)), start=1)
    ]  # fmt: skip
    fig = _headroom_figure(SimpleNamespace(days_summary=days, purchase_mbps=500.0))
    labelled = {t.name: t.textposition for t in fig.data if t.text is not None}
    assert labelled == {"down p95": "bottom left", "up p95": "bottom right"}
    assert all(t.cliponaxis is False for t in fig.data if t.text is not None)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_the_screenshot_script_shoots_the_page_of_a_run_folder(tmp_path: Path) -> None:
    """tools/screenshots.py --from a folder writes the README's image at the stated size; a
    folder without the page exits 2 naming it."""
    folder = tmp_path / "run"
    folder.mkdir()
    script = [sys.executable, str(ROOT / "tools" / "screenshots.py"), "--into", str(tmp_path)]
    refused = subprocess.run([*script, "--from", str(folder)], capture_output=True, text=True)
    assert refused.returncode == 2 and "no recommendation.html" in refused.stdout
    (folder / "recommendation.html").write_text("<h1 style='color:#d62728'>525 Mbit/s</h1>")
    subprocess.run([*script, "--from", str(folder)], check=True, capture_output=True)
    png = (tmp_path / "docs" / "recommendation.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1200, 1500)  # IHDR: width, height


def test_the_command_line_frontier_shows_each_purchase_once(capsys) -> None:
    from rich.console import Console

    wide = Console(width=200)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sim.cli.tables.out", wide)
        from sim.cli.tables import print_frontier

        print_frontier(_recommendation(FRONTIER))
    lines = [line for line in capsys.readouterr().out.splitlines() if re.match(r"│\s+\d", line)]
    assert [line.split("│")[1].strip() for line in lines] == ["450", "500", "525"]
    assert "next cheaper (fresh seeds) + search" in lines[1] and "│    no │" in lines[1]


def test_the_year_pages_weeks_are_ticked_on_their_mondays_with_room_either_side() -> None:
    """A run of a few days has one week: its axis spans that Monday ± 3.5 days, ticked weekly
    from the Monday (plotly's own range for one point is a millisecond wide)."""
    week = WeekFigures("2022-01-31", 2, {"office": 0.9999, "hotspot": 1.0})
    year = YearSummary(500.0, 2, 10, [], [week], [], {})
    axis = _satisfaction(year).layout.xaxis
    assert list(axis.range) == ["2022-01-27T12:00:00", "2022-02-03T12:00:00"]
    assert (axis.tick0, axis.dtick, axis.tickformat) == ("2022-01-31", 7 * 86_400_000, "%d %b %Y")
    weeks = [WeekFigures(f"2022-{m:02d}-07", 7, {"office": 1.0}) for m in range(1, 13)]
    weeks.append(WeekFigures("2022-12-12", 7, {"office": 1.0}))
    axis = _satisfaction(YearSummary(500.0, 365, 10, [], weeks, [], {})).layout.xaxis
    assert (axis.tick0, axis.dtick, axis.tickformat) == ("2022-01-01", "M1", "%b %Y")
