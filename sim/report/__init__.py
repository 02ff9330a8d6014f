"""The run report: plotly figures and an HTML page that opens offline, made from a run folder."""
