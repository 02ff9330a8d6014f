"""netlab: capacity simulation and emulation of a centrally shaped internet purchase."""

from sim.model.compiled import run_sources_if_asked

__version__ = "0.1.0"

run_sources_if_asked()  # NETLAB_PURE=1: the engine runs from its sources (sim/model/compiled.py)
