"""Policy plug-ins: a policy from a file beside the scenario, built, checked and refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.model.errors import ConfigError
from sim.model.scenario import load_scenario
from sim.shaping.policies import compile_policy, root_bps
from tests.conftest import ROOT

TOPOLOGY = ROOT / "topologies" / "small.toml"

PLUGIN = '''
from pydantic import BaseModel, Field
from sim.shaping.policy_api import Policy


class Params(BaseModel, extra="forbid"):
    essential_share: float = Field(default=0.5, gt=0, lt=1)


class EssentialFirst(Policy):
    """Essential offices split `essential_share` of R; the rest split 90 % of what is left."""

    name = "essential-first"
    Params = Params

    def build(self, params, sites, capacity):
        essential = [s for s in sites if s.essential]
        rest = [s for s in sites if not s.essential]
        classes = [self.root(capacity)]
        for s in essential:
            rate = capacity * params.essential_share / len(essential)
            classes.append(self.leaf(s, rate, capacity))
        for s in rest:
            rate = capacity * (1 - params.essential_share) * 0.9 / len(rest)
            classes.append(self.leaf(s, rate, capacity, prio=1))
        return classes


class Broken(EssentialFirst):
    def build(self, params, sites, capacity):
        raise RuntimeError("no tree today")
'''


def scenario_file(folder: Path, policy: str) -> Path:
    (folder / "mine.py").write_text(PLUGIN)
    path = folder / "s.toml"
    path.write_text(
        f'[scenario]\nname = "p"\ntopology = "{TOPOLOGY}"\nstart = 2022-02-01T08:00:00\n'
        f'duration = "1h"\n[purchase]\nupstream_mbps = 30\n[policy]\n{policy}\n'
    )
    return path


def test_a_file_policy_builds_its_classes_with_its_parameters(tmp_path: Path) -> None:
    path = scenario_file(
        tmp_path, 'plugin = "mine.py:EssentialFirst"\nparams = { essential_share = 0.6 }'
    )
    scenario = load_scenario(path)
    plan = compile_policy(scenario.spec.policy, scenario)
    root = root_bps(scenario)
    essential = [s for s in scenario.sites if s.essential]
    rest = [s for s in scenario.sites if not s.essential]
    assert essential and rest
    got = {c.site: c for c in plan.down.leaves}
    for s in essential:  # hand computation: 0.6 R split equally, clipped to the access link
        want = min(root * 0.6 / len(essential), s.access_bps)
        assert got[s.id].rate == pytest.approx(want, rel=1e-12) and got[s.id].prio == 0
    for s in rest:
        want = min(root * 0.4 * 0.9 / len(rest), s.access_bps)
        assert got[s.id].rate == pytest.approx(want, rel=1e-12) and got[s.id].prio == 1
    assert plan.policy == "plugin" and plan.up == plan.down


@pytest.mark.parametrize(
    ("policy", "key", "words"),
    [
        ('plugin = "gone.py:X"', "policy.plugin", "gone.py: no such file"),
        ('plugin = "mine.py:Nope"', "policy.plugin", "mine.py defines no 'Nope'"),
        ('plugin = "not-installed"', "policy.plugin", "nor an entry point of netlab.policies"),
        ('plugin = "mine.py:Broken"', "policy.plugin", "RuntimeError('no tree today')"),
        (
            'plugin = "mine.py:EssentialFirst"\nparams = { essential_share = 1.5 }',
            "policy.params.essential_share",
            "less than 1",
        ),
        (
            'plugin = "mine.py:EssentialFirst"\nparams = { share = 0.5 }',
            "policy.params.share",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_a_bad_plugin_is_one_line_naming_the_file_and_key(
    tmp_path: Path, policy: str, key: str, words: str
) -> None:
    scenario = load_scenario(scenario_file(tmp_path, policy))
    with pytest.raises(ConfigError) as caught:
        compile_policy(scenario.spec.policy, scenario)
    assert caught.value.path == str(scenario.path) and caught.value.key == key
    assert words in caught.value.problem and "\n" not in str(caught.value)


def test_params_without_a_plugin_are_refused_at_load(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, 'name = "htb-weighted"\nparams = { a = 1 }')
    with pytest.raises(ConfigError, match="params only apply to a plug-in policy"):
        load_scenario(path)
