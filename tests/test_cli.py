"""The command line as users meet it: bad input, determinism, run folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, RUN_FILES

TOPOLOGY = (ROOT / "topologies" / "tiny.toml").as_posix()
GOOD = f"""
[scenario]
name = "cli-test"
topology = "{TOPOLOGY}"
seed = 3
start = 2022-02-01T08:00:00
duration = "30m"

[purchase]
upstream_mbps = 20

[policy]
name = "htb-weighted"
"""


def scenario(tmp_path: Path, text: str = GOOD, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_INPUTS = [
    # (description, scenario text or None for a missing file, extra args, key in the message)
    ("missing file", None, [], "file not found"),
    ("bad TOML", "[scenario\nname = 1", [], "not valid TOML"),
    (
        "misspelt key",
        GOOD.replace("upstream_mbps", "upstrem_mbps"),
        [],
        "purchase.upstrem_mbps: unknown key",
    ),
    (
        "zero capacity",
        GOOD.replace("upstream_mbps = 20", "upstream_mbps = 0"),
        [],
        "purchase.upstream_mbps",
    ),
    (
        "negative capacity",
        GOOD.replace("upstream_mbps = 20", "upstream_mbps = -5"),
        [],
        "purchase.upstream_mbps",
    ),
    (
        "ceil below rate",
        GOOD + "[policy.sites.office_a]\nrate_mbps = 10\nceil_mbps = 5\n",
        [],
        "policy.sites.office_a: ceil_mbps is below rate_mbps",
    ),
    (
        "rate above the access link",
        GOOD + "[policy.sites.office_a]\nrate_mbps = 80\n",
        [],
        "policy.sites.office_a.rate_mbps: 80 Mbit/s is above the leaf's ceiling",
    ),
    (
        "unknown site in weights",
        GOOD + "[policy.weights]\nnowhere = 2\n",
        [],
        "policy.weights.nowhere: no such site",
    ),
    (
        "unknown site to connect",
        GOOD + '[connect]\nnowhere = "vsat"\n',
        [],
        "connect.nowhere: no such site",
    ),
]


@pytest.mark.parametrize(
    ("what", "text", "args", "expected"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS]
)
def test_bad_input_is_one_clear_line_and_status_2(
    netlab, tmp_path, what, text, args, expected
) -> None:
    path = tmp_path / "absent.toml" if text is None else scenario(tmp_path, text)
    out = tmp_path / "results"
    result = netlab("run", str(path), "--out", str(out), *args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert str(path) in lines[0] and expected in lines[0], lines[0]
    assert not out.exists() or not any(out.iterdir())  # no results folder left behind


def test_check_prints_the_plan(netlab, tmp_path) -> None:
    result = netlab("check", str(scenario(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "htb-weighted" in result.stdout and "office_a" in result.stdout


def test_same_seed_same_summary_other_seed_differs(netlab, tmp_path) -> None:
    path = scenario(tmp_path)
    summaries = []
    for seed, out in (("3", "r1"), ("3", "r2"), ("4", "r3")):
        result = netlab("run", str(path), "--seed", seed, "--out", str(tmp_path / out), "-q")
        assert result.returncode == 0, result.stderr
        (folder,) = (tmp_path / out).iterdir()
        assert {p.name for p in folder.iterdir()} == RUN_FILES
        assert "report.html" in result.stdout
        summaries.append(json.loads((folder / "summary.json").read_text()))
        if out == "r1":
            flows_first = (folder / "flows.parquet").read_bytes()
        if out == "r2":
            assert (folder / "flows.parquet").read_bytes() == flows_first
    assert summaries[0] == summaries[1]
    assert summaries[0] != summaries[2]


def test_help_teaches_with_examples(netlab) -> None:
    result = netlab("run", "--help")
    assert result.returncode == 0
    assert "netlab run scenarios/kotim-baseline.toml" in result.stdout
    assert "--policy" in result.stdout


def test_export_round_trips_through_a_plan_file(netlab, tmp_path) -> None:
    path = scenario(tmp_path)
    plan_json = tmp_path / "plan.json"
    result = netlab("export", str(path), "--format", "json", "--output", str(plan_json))
    assert result.returncode == 0, result.stderr
    from_scenario = netlab("export", str(path), "--format", "tc")
    from_file = netlab("export", str(plan_json), "--format", "tc")
    assert from_file.returncode == 0 and from_file.stdout == from_scenario.stdout
    assert "tc class add dev eth1 parent 1:1" in from_file.stdout
    bad = netlab("export", str(path), "--format", "cisco")
    assert bad.returncode == 2 and "--format" in bad.stderr


def test_sweep_and_compare_from_the_command_line(netlab, tmp_path) -> None:
    sweep = ROOT / "scenarios" / "sweeps" / "tiny-policies.toml"
    result = netlab("sweep", str(sweep), "--out", str(tmp_path), "-q", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert "ran 30, already done 0, failed 0" in result.stdout
    again = netlab("compare", str(sweep), "--out", str(tmp_path), "-q")
    assert again.returncode == 0, again.stderr
    assert "beats" in again.stdout  # a plain verdict
    folder = tmp_path / "sweeps" / "tiny-policies"
    assert (folder / "results.csv").exists() and (folder / "comparison.html").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text(sweep.read_text().replace("mode =", "mood ="))
    failed = netlab("sweep", str(bad), "--out", str(tmp_path))
    assert failed.returncode == 2 and "sweep.mood: unknown key" in failed.stderr


def test_emulation_without_its_tools_is_status_3(netlab, tmp_path) -> None:
    """An environment problem is one line saying how to fix it, exit 3, no traceback."""
    env = {**os.environ, "PATH": "/usr/sbin:/sbin"}  # tc, ip, brctl but no mnexec
    result = netlab("emulate", str(scenario(tmp_path)), "--window", "08:00+10s", env=env)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    expected = "mnexec not found" if os.geteuid() == 0 else "needs root"
    assert expected in result.stderr
    assert not (ROOT / "results").exists() or not any(
        p.name.startswith("cli-test") for p in (ROOT / "results").iterdir()
    )
