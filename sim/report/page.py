"""The page every netlab report is: HTML whose figures use one plotly.min.js beside it.

Each figure is a div that uses the page's one copy of plotly.js. That copy is the file
plotly.min.js in the page's folder (plotly's include_plotlyjs="directory"), written with the
first page, so the pages of one folder open offline and carry plotly.js (4.8 MB) once between
them, not once each.
"""

from __future__ import annotations

import textwrap
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

PLOTLY_JS = "plotly.min.js"  # beside every page, shared by the pages of its folder

PLOT_CONFIG = {"displaylogo": False, "responsive": True}
ROW_PX = 18  # height of one line of a site's name in a plot with a row per site
# The pages a run folder can hold, in the nav bar's order, each with the file it is made from
# (present before the page is written, so the first page written already links the others).
FOLDER_PAGES = (
    ("report.html", "run report", "summary.json"),
    ("recommendation.html", "recommendation", "recommendation.json"),
    ("acceptance.html", "acceptance trial", "acceptance.json"),
    ("whatif.html", "what-if", "whatif.json"),
    ("year.html", "year", "year.json"),
)  # a calibration page, named by its scenario, links these when written into such a folder

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.meta { color: #555; } .meta span { margin-right: 1.5em; }
.warnings { background: #fff3cd; border: 2px solid #e0a800; padding: 0.6em 1em; }
.warnings h2 { margin-top: 0; border: none; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f4f4f4; }
nav.pages { font-size: 0.95em; padding: 0.4em 0; border-bottom: 1px solid #ddd; }
nav.pages a, nav.pages b { margin-right: 1.2em; }
@media print { nav.pages { display: none; } }
"""


def page(title: str, body: list[str]) -> str:
    """An HTML page that loads plotly.min.js from its own folder, then the body's parts."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>netlab report: {escape(title)}</title>\n<style>{STYLE}</style>\n"
        f'<script src="{PLOTLY_JS}"></script>\n</head>\n<body>\n'
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def write_page(path: Path, title: str, body: list[str]) -> Path:
    """Write `page(title, body)` as `path`, and plotly.min.js beside it unless the folder
    already holds this plotly's copy (another page's); return `path`."""
    script = get_plotlyjs()
    bundle = path.parent / PLOTLY_JS
    if not bundle.is_file() or bundle.read_text(encoding="utf-8") != script:
        bundle.write_text(script, encoding="utf-8")
    path.write_text(page(title, body), encoding="utf-8")
    return path


def div(fig: go.Figure) -> str:
    """A figure as an HTML fragment that uses the page's one copy of plotly.js."""
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=PLOT_CONFIG)


def nav(folder: Path, current: str) -> str:
    """The bar linking the pages of one folder that exist (or whose source file does), the
    current one in bold; empty when the page is alone in its folder."""
    found = [
        (name, title)
        for name, title, source in FOLDER_PAGES
        if name == current or (folder / name).exists() or (folder / source).exists()
    ]
    if current not in {name for name, _ in found}:
        found.append((current, Path(current).stem))
    if len(found) < 2:
        return ""
    links = (
        f"<b>{escape(title)}</b>"
        if name == current
        else f"<a href='{escape(name)}'>{escape(title)}</a>"
        for name, title in found
    )
    return f"<nav class='pages'>{''.join(links)}</nav>"


def wrap_name(name: str, width: int = 48) -> str:
    """A site's full name on lines of at most `width` characters, for a plot's axis."""
    return "<br>".join(escape(line) for line in textwrap.wrap(name, width))
