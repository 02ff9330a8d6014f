"""The built-in policies' names, as scenario files may give them in `[policy] name`.

Written by `make policies` (tools/policy_tables.py) from sim.shaping.policies.POLICIES,
where each policy is declared: do not edit. The schema (sim.model.policy_spec) sits a
layer below sim.shaping, so it reads the names from here.
"""

from typing import Literal

StaticPolicyName = Literal[
    "equal-static",
    "weighted-static",
    "htb-equal",
    "htb-weighted",
    "htb-priority",
    "max-min",
    "deployed",
]
