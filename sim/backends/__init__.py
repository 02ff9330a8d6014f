"""Backends carry out the demand's transfers: the fluid simulator, or real Mininet hosts."""
