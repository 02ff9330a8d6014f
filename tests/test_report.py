"""The HTML report of a real run folder: self-contained, one figure per chart, made from files."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from sim.analysis.metrics import summarize
from sim.model.scenario import load_scenario
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
    assert path.stat().st_size > 1_000_000  # plotly.js alone is several MB


def test_header_names_the_scenario(page: str) -> None:
    assert "<h1>example-small</h1>" in page
    assert "Eight sites, scheduled policy, LTE for Seranau" in page
    assert "fluid" in page and "100 Mbit/s" in page


def test_self_contained_with_plotly_inlined_once(page: str) -> None:
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, flags=re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", page, flags=re.IGNORECASE)
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1


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
