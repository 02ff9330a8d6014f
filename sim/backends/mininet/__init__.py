"""Emulation backend: real Mininet hosts, kernel HTB on the hub, real TCP between agents.

topo.py builds the network, shaper.py runs the tc compiler's commands (sim/shaping/tc.py),
agents.py drives one long-lived traffic agent per host (agent.py runs inside the hosts),
backend.py is the MininetBackend behind the Backend interface, cleanup.py names everything
with the "nl" prefix and removes leftovers. Importing this package needs no root or Mininet.
"""
