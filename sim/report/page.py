"""The page every netlab report is: self-contained HTML with plotly.js inlined once.

Each figure is a div that uses the page's one copy of plotly.js, so a report opens offline
and carries plotly.js only once however many figures it has.
"""

from __future__ import annotations

from html import escape

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

PLOT_CONFIG = {"displaylogo": False, "responsive": True}

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.meta { color: #555; } .meta span { margin-right: 1.5em; }
.warnings { background: #fff3cd; border: 2px solid #e0a800; padding: 0.6em 1em; }
.warnings h2 { margin-top: 0; border: none; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; } th { background: #f4f4f4; }
"""


def page(title: str, body: list[str]) -> str:
    """A self-contained HTML page: plotly.js inlined once, then the body's parts."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>netlab report: {escape(title)}</title>\n<style>{STYLE}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def div(fig: go.Figure) -> str:
    """A figure as an HTML fragment that uses the page's one copy of plotly.js."""
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, config=PLOT_CONFIG)
