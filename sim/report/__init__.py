"""The run report: plotly figures and a self-contained HTML page made from a run folder."""
