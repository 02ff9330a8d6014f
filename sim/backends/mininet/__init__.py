"""Emulation backend: real Mininet hosts, kernel HTB on the hub, real TCP between agents.

topo.py builds the network, shaper.py runs the tc compiler's commands (sim/shaping/tc.py),
host_agent.py is the traffic process inside each host, agent_client.py the controller's side
that starts and drives them, backend.py the MininetBackend behind the Backend interface,
cleanup.py names everything with the "nl" prefix and removes leftovers. Importing this
package needs no root or Mininet.
"""
