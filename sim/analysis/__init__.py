"""Figures computed from runs: metrics, objectives, comparison statistics, the records a
study writes; nothing here runs a simulation (that is sim.studies)."""
