"""`netlab emulate --cleanup` says what it removed, by name (issue 9, item 14).

The clean-up itself needs root and Mininet (tests/emulation/test_cleanup.py); here it is
replaced by what it returns, and the message is checked against it.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import sim.studies.emulate
from sim.backends.mininet.cleanup import describe
from sim.cli import app

NOTHING: dict[str, list[str]] = {"processes": [], "interfaces": []}
SOME = {"processes": ["4242 (nlk3x)"], "interfaces": ["nlk3xb0", "nlk3xs0-eth0"]}


def test_nothing_removed_says_so() -> None:
    assert describe(NOTHING) == "no leftovers of earlier runs"


def test_what_was_removed_is_named() -> None:
    assert describe(SOME) == (
        "removed leftovers of earlier runs: processes 4242 (nlk3x); "
        "interfaces nlk3xb0, nlk3xs0-eth0"
    )
    only = describe({"processes": [], "interfaces": ["nlab1b0"]})
    assert only == "removed leftovers of earlier runs: interfaces nlab1b0"


@pytest.mark.parametrize("removed", [NOTHING, SOME], ids=["nothing", "some"])
def test_the_command_prints_the_names(monkeypatch, removed) -> None:
    monkeypatch.setattr(sim.studies.emulate, "cleanup", lambda: removed)
    result = CliRunner().invoke(app, ["emulate", "--cleanup"])
    assert result.exit_code == 0
    assert result.stdout.strip() == describe(removed)
    assert "2 leftover" not in result.stdout
