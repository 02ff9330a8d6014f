"""The 10-day trial's first two days (Imlek, then a working day) through `netlab run`, and the
berita acara as headless Chromium prints it: at most two A4 pages, the record only."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.report.acceptance import write_acceptance_report

TRIAL = Path(__file__).parent.parent / "scenarios" / "kotim-trial-10d.toml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
A4_POINTS = (595, 842)  # width, height


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trial")
    result = CliRunner().invoke(app, ["run", str(TRIAL), "-d", "2d", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    (found,) = out.iterdir()
    return found


def test_imlek_is_not_applicable_for_offices_and_subdistricts(folder: Path) -> None:
    data = json.loads((folder / "acceptance.json").read_text())
    imlek, wednesday = data["days_summary"]
    assert (imlek["day"], imlek["day_type"]) == ("2022-02-01", "holiday")
    assert imlek["holiday"] == "Tahun Baru Imlek 2573 Kongzili"
    assert wednesday["day_type"] == "working"
    kinds = {"office": 0, "subdistrict": 0, "hotspot": 0}
    for cell in data["cells"]:
        if cell["day"] != "2022-02-01":
            continue
        kinds[cell["kind"]] += 1
        verdicts = {c["verdict"] for c in cell["criteria"].values()}
        if cell["kind"] == "hotspot":  # judged on its day-off window, 10:00-22:00
            assert verdicts == {"pass"} and cell["busy_hours"] == 12
        else:
            assert verdicts == {"n/a"} and cell["busy_hours"] == 0
    assert kinds == {"office": 32, "subdistrict": 10, "hotspot": 4}
    # on Wednesday every site is judged; the holiday adds 42 n/a to each cell criterion
    assert data["counts_by_check"]["busy_satisfaction"]["n/a"] == 42
    assert data["counts_by_check"]["guarantee"] == {"pass": 50, "fail": 0, "n/a": 42}


def _pdf(html: Path, out: Path) -> bytes:
    """`html` printed to PDF by headless Chromium (A4 from the page's @page rule)."""
    assert CHROMIUM is not None
    profile = out.parent / f"{out.stem}-profile"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return out.read_bytes()


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's size in points, from its /MediaBox (Chromium writes one per page)."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def _text(pdf_path: Path) -> str | None:
    """The PDF's text when poppler's pdftotext is installed."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    return subprocess.run(
        [tool, str(pdf_path), "-"], capture_output=True, check=True
    ).stdout.decode()


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")


@needs_chromium
def test_the_berita_acara_prints_on_two_a4_pages(folder: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "trial.pdf"
    pages = _pages(_pdf(folder / "acceptance.html", pdf))
    assert 1 <= len(pages) <= 2
    assert all(abs(w - A4_POINTS[0]) < 2 and abs(h - A4_POINTS[1]) < 2 for w, h in pages)
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True).stdout
        assert re.search(rb"Pages:\s+(\d+)", info).group(1) == str(len(pages)).encode()
    text = _text(pdf)
    if text is not None:
        assert "BERITA ACARA" in text and "Tahun Baru Imlek 2573 Kongzili" in text
        assert "NIP" in text and "Jabatan" in text and "LULUS" in text
        assert "Every check" not in text  # the screen's plots and tables do not print


@needs_chromium
def test_a_month_of_sixty_sites_with_failures_still_prints_on_two_pages(
    folder: Path, tmp_path: Path
) -> None:
    """The worst the record holds: 31 day lines and a full list of failures."""
    data = json.loads((folder / "acceptance.json").read_text())
    days = [f"2022-03-{d:02d}" for d in range(1, 32)]
    sites = data["sites_summary"] + [
        {**s, "site": s["site"] + "-2", "name": s["name"] + " (cabang)"}
        for s in data["sites_summary"][:14]
    ]
    model = {c["site"]: c for c in data["cells"] if c["day"] == "2022-02-02"}
    cells = []
    for day in days:
        for site in sites:
            cell = copy.deepcopy(model[site["site"].removesuffix("-2")])
            cell.update(day=day, site=site["site"], name=site["name"])
            cell["criteria"]["guarantee"].update(value=0.8, verdict="fail")
            cells.append(cell)
    summary = [{**data["days_summary"][1], "day": day} for day in days]
    data.update(days=days, cells=cells, days_summary=summary, sites_summary=sites, verdict="fail")
    (tmp_path / "acceptance.json").write_text(json.dumps(data))
    pages = _pages(_pdf(write_acceptance_report(tmp_path), tmp_path / "month.pdf"))
    assert 1 <= len(pages) <= 2
