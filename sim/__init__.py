"""netlab: capacity simulation and emulation of a centrally shaped internet purchase."""

__version__ = "0.1.0"
