"""The HTML report of a real run folder: offline, one figure per chart, made from files."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from sim.analysis.metrics import summarize
from sim.model.scenario import load_scenario
from sim.report.page import write_page
from sim.report.run_report import write_report
from sim.results import write_run
from sim.run import run_scenario

ROOT = Path(__file__).resolve().parent.parent
FIGURE_TITLES = [
    "Upstream: traffic through the root class",
    "Satisfaction per site",
    "Flow completion time of finished transfers",
    "Slowdown of finished transfers",
    "share of time at the needed rate",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    record = run_scenario(load_scenario(ROOT / "scenarios" / "example-small.toml"))
    return write_run(
        record, summarize(record).to_json(), tmp_path_factory.mktemp("results"), report=write_report
    )


@pytest.fixture(scope="module")
def page(run_dir: Path) -> str:
    return (run_dir / "report.html").read_text(encoding="utf-8")


def test_report_is_written_into_the_run_folder(run_dir: Path) -> None:
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    assert path.stat().st_size < 1_000_000  # plotly.js (4.8 MB) is beside it, not in it


def test_header_names_the_scenario(page: str) -> None:
    assert "<h1>example-small</h1>" in page
    assert "Eight sites, scheduled policy, LTE for Seranau" in page
    assert "fluid" in page and "100 Mbit/s" in page


def test_offline_with_plotly_js_beside_it(run_dir: Path, page: str) -> None:
    """The one script the page loads is the folder's plotly.min.js; nothing from the network."""
    scripts = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]*)", page, flags=re.IGNORECASE)
    assert scripts == ["plotly.min.js"]
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", page, flags=re.IGNORECASE)
    assert not re.search(r"\* plotly\.js v\d", page)
    assert len(re.findall(r"\* plotly\.js v\d", (run_dir / "plotly.min.js").read_text())) == 1


def test_a_page_replaces_another_plotly_js_and_keeps_its_own(tmp_path: Path) -> None:
    """write_page writes plotly.min.js when the folder has none or another version's, and
    leaves this plotly's copy alone (the second page of a folder)."""
    bundle = tmp_path / "plotly.min.js"
    bundle.write_text("/* plotly.js v1.0.0 */")
    write_page(tmp_path / "a.html", "a", ["<p>a</p>"])
    assert bundle.read_text(encoding="utf-8") == get_plotlyjs()
    os.utime(bundle, ns=(0, 0))  # a rewrite would set the time to now
    write_page(tmp_path / "b.html", "b", ["<p>b</p>"])
    assert bundle.stat().st_mtime_ns == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html", "plotly.min.js"]


def test_one_figure_per_chart(page: str) -> None:
    assert page.count('class="plotly-graph-div"') == len(FIGURE_TITLES)
    for title in FIGURE_TITLES:
        assert page.count(title) == 1, title


def test_report_comes_from_the_files_only(run_dir: Path, tmp_path: Path) -> None:
    """Editing the folder's files changes the report: nothing is taken from memory."""
    run_dir = Path(shutil.copytree(run_dir, tmp_path / run_dir.name))
    manifest = json.loads((run_dir / "manifest.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    manifest["warnings"] = ["guarantees exceed the root & were scaled <down>"]
    summary["unserved"] = [
        {"id": "kec_hanaut", "name": "Kecamatan Pulau Hanaut", "users": 9, "kind": "subdistrict"}
    ]
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    (run_dir / "summary.json").write_text(json.dumps(summary))
    page = write_report(run_dir).read_text(encoding="utf-8")
    assert "class='warnings'" in page
    assert "guarantees exceed the root &amp; were scaled &lt;down&gt;" in page  # escaped
    assert "Kecamatan Pulau Hanaut" in page
