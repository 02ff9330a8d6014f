"""Scenario, topology and demand specifications: parsing, validation, units."""
