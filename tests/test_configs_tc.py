"""tc import on small fixtures: scripts (sudo, $TC, continuations, `;`), variables refused or
given, substitutions refused, `tc class show` text and JSON with `tc filter show`."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.configs.importer import import_config
from sim.configs.rates import tc_rate, tc_size
from sim.model.errors import ConfigError

DATA = Path(__file__).parent / "data" / "configs"


def test_units() -> None:
    assert tc_rate("95mbit") == 95e6 and tc_rate("95Mbit") == 95e6
    assert tc_rate("2500kbps") == 20e6  # bytes per second
    assert tc_rate("1Kibit") == 1024 and tc_rate("1000") == 1000
    assert tc_size("1600b") == 1600 and tc_size("1k") == 1024
    with pytest.raises(ValueError):
        tc_rate("10 furlongs")


def test_script_directions_from_filters_and_variables_given() -> None:
    im = import_config([DATA / "script.sh"], "tc", {"UPLINK": "20mbit"})
    down, up = im.plan.down, im.plan.up
    assert [(c.rate, c.ceil, c.prio, c.quantum) for c in down.classes] == [
        (100e6, 100e6, 0, None),
        (30e6, 100e6, 1, 30000),
        (10e6, 50e6, 2, None),
    ]
    assert up.root.ceil == 20e6 and up.classes[1].rate == 20e6  # 2500kbps
    subnets = [[str(n) for n in s.site.subnets] for s in im.sites]
    assert subnets == [["192.168.10.0/24"], ["192.168.20.0/24"]]
    assert any("OVERSUBSCRIBED" in w and "uploads" in w for w in im.warnings)
    assert any("fq_codel" in w for w in im.warnings)


def test_a_rate_from_a_variable_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError) as caught:
        import_config([DATA / "script.sh"], "tc")
    assert "line 13" in str(caught.value) and "UPLINK" in str(caught.value)


def test_substitutions_are_never_run() -> None:
    with pytest.raises(ConfigError, match="line 2: .*never run"):
        import_config([DATA / "backtick.sh"], "tc")


@pytest.mark.parametrize("classes", ["classes.txt", "classes.json"])
def test_class_show_with_filter_show(classes: str) -> None:
    im = import_config([DATA / classes, DATA / "filters.txt"], "tc")
    tree = im.plan.down
    assert [(c.rate, c.ceil, c.prio, c.quantum) for c in tree.classes] == [
        (50e6, 50e6, 0, None),
        (10e6, 50e6, 0, 200000),
        (5e6, 25e6, 3, None),
    ]
    assert [[str(n) for n in s.site.subnets] for s in im.sites] == [
        ["10.20.1.0/24"],
        ["10.20.2.0/24"],
    ]
    assert any("taken for both directions" in w for w in im.warnings)
