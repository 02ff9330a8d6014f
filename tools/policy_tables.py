"""Write what follows from the policy declarations: the schema's names and the docs' table.

    .venv/bin/python tools/policy_tables.py          # rewrite both (make policies)
    .venv/bin/python tools/policy_tables.py --check  # exit 1 if either is stale

A built-in policy is declared once, as a `Policy` in sim/shaping/policies.POLICIES. The scenario
schema sits a layer below sim.shaping and cannot read that registry, so the names it accepts
are written into sim/model/policy_names.py (a Literal, which mypy checks too); the policy table
of docs/scenario-reference.md gets one row per policy (name, doc line, the keys it reads).
tests/test_policies.py runs the check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.shaping.policies import POLICIES, Policy  # noqa: E402

NAMES = ROOT / "sim" / "model" / "policy_names.py"
REFERENCE = ROOT / "docs" / "scenario-reference.md"
TABLE_HEAD = "| `name` | What it builds | Uses |\n|---|---|---|\n"
FIRST_AFTER = "| `plugin` |"  # the rows after the registry's: plugin and schedule, by hand


def names_module(policies: list[Policy]) -> str:
    """sim/model/policy_names.py for these policies."""
    names = "".join(f'    "{p.name}",\n' for p in policies)
    return (
        '"""The built-in policies\' names, as scenario files may give them in `[policy] name`.\n'
        "\n"
        "Written by `make policies` (tools/policy_tables.py) from sim.shaping.policies.POLICIES,\n"
        "where each policy is declared: do not edit. The schema (sim.model.policy_spec) sits a\n"
        "layer below sim.shaping, so it reads the names from here.\n"
        '"""\n'
        "\n"
        "from typing import Literal\n"
        "\n"
        f"StaticPolicyName = Literal[\n{names}]\n"
    )


def table_row(policy: Policy) -> str:
    uses = ", ".join(f"`{key}`" for key in (*policy.params, "sites"))
    return f"| `{policy.name}` | {policy.doc} | {uses} |\n"


def reference(text: str, policies: list[Policy]) -> str:
    """docs/scenario-reference.md's text with the registry's rows of the policy table."""
    head, found, rest = text.partition(TABLE_HEAD)
    if not found or FIRST_AFTER not in rest:
        raise SystemExit(f"{REFERENCE}: no policy table ({TABLE_HEAD.splitlines()[0]})")
    tail = rest[rest.index(FIRST_AFTER) :]
    return head + TABLE_HEAD + "".join(table_row(p) for p in policies) + tail


def stale() -> list[Path]:
    """The written files that do not match the registry."""
    policies = list(POLICIES.values())
    wanted = {
        NAMES: names_module(policies),
        REFERENCE: reference(REFERENCE.read_text(encoding="utf-8"), policies),
    }
    return [path for path, text in wanted.items() if path.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        late = stale()
        for path in late:
            print(f"{path.relative_to(ROOT)} is stale: run `make policies`")
        return 1 if late else 0
    policies = list(POLICIES.values())
    NAMES.write_text(names_module(policies), encoding="utf-8")
    REFERENCE.write_text(
        reference(REFERENCE.read_text(encoding="utf-8"), policies), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
