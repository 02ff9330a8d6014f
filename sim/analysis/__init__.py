"""Figures computed from a run: metrics, comparison statistics, optimisation."""
