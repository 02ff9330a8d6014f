"""RouterOS import on small fixtures: the lexer's tricky constructs, simple queues, queue trees
with mangle marks and address lists, and the refusals (one line naming file and line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.configs.importer import import_config, read_config
from sim.configs.inforce import Origin
from sim.configs.rates import routeros_pair, routeros_rate
from sim.configs.rsc_lexer import Expr, commands
from sim.model.errors import ConfigError

DATA = Path(__file__).parent / "data" / "configs"


def test_units() -> None:
    assert routeros_rate("10M") == 10e6
    assert routeros_rate("920k") == 920e3
    assert routeros_rate("1G") == 1e9
    assert routeros_rate("64000") == 64e3
    assert routeros_rate("000000k") == 0
    assert routeros_pair("4M/15M") == (4e6, 15e6)
    assert routeros_pair("15000k/15000k") == (15e6, 15e6)
    with pytest.raises(ValueError):
        routeros_rate("10Mbps")


def test_lexer_continuations_quotes_and_one_line_commands() -> None:
    text = (
        '# comment\r\n/queue simple\r\nadd name="a \\"b\\"" limit\\\r\n'
        "    -at=1M/2M priority=\\\r\n"
        "    1/1\r\n/queue tree add name=x parent=[ /interface get [ find ] ];\r\n\r\n"
        "/ip address add address=1.2.3.4/24 interface=ether1; /queue type add name=t kind=sfq;\n"
    )
    got = commands(text, "f.rsc")
    assert got[0].menu == ("queue", "simple")
    assert got[0].args == {"name": 'a "b"', "limit-at": "1M/2M", "priority": "1/1"}
    assert got[0].origin == Origin("f.rsc", 3)
    assert got[1].menu == ("queue", "tree") and isinstance(got[1].args["parent"], Expr)
    assert [c.menu for c in got[2:]] == [("ip", "address"), ("queue", "type")]


def test_simple_queues_upload_download_from_the_target() -> None:
    im = import_config([DATA / "simple.rsc"], "routeros")
    down, up = im.plan.down, im.plan.up
    assert down.root.id == "all" and down.root.ceil == 200e6 and up.root.ceil == 100e6
    kantor = down.by_id("kantor_pusat")
    assert (kantor.rate, kantor.ceil, kantor.prio) == (10e6, 50e6, 1)
    assert (up.by_id("kantor_pusat").rate, up.by_id("kantor_pusat").ceil) == (5e6, 20e6)
    assert down.by_id("sekolah").ceil == 25e6  # `set 2` on the third item
    assert down.by_id("overlap").prio == 7  # `set [ find name=Overlap ] priority=8/8`
    assert "off" not in [c.id for c in down.classes]  # disabled
    text = "\n".join(im.warnings)
    assert "overlaps 'Kantor \"Pusat\"'" in text and "'Overlap' matches no traffic" in text
    assert text.count("simple-queue burst") == 1 and "PCQ (pcq-dl)" in text
    sites = {s.site.id: s for s in im.sites}
    assert [str(n) for n in sites["kantor_pusat"].site.subnets] == ["10.1.0.0/24", "10.1.1.0/24"]
    assert sites["sekolah"].site.access_mbps == 25 and "users" in sites["sekolah"].assumptions


def test_pcq_per_address_is_recorded() -> None:
    inforce = read_config([DATA / "simple.rsc"], "routeros")
    sekolah = next(c for c in inforce.down if c.name == "Sekolah")
    assert sekolah.discipline is not None and sekolah.discipline.per_address is not None
    assert sekolah.discipline.per_address.rate == 2e6
    assert sekolah.discipline.per_address.classifier == ("dst-address",)
    plan = import_config([DATA / "simple.rsc"], "routeros").plan
    assert plan.down.by_id("sekolah").per_user_bps == 2e6  # pcq-rate: each user's cap


def test_queue_tree_with_marks_and_address_lists() -> None:
    im = import_config([DATA / "tree.rsc"], "routeros")
    assert [c.id for c in im.plan.down.classes] == ["download", "office", "guest"]
    assert [c.id for c in im.plan.up.classes] == ["upload", "office", "guest"]
    assert im.plan.down.by_id("office").prio == 0 and im.plan.down.by_id("guest").prio == 7
    assert im.plan.up.by_id("guest").ceil == 5e6
    subnets = {s.site.id: [str(n) for n in s.site.subnets] for s in im.sites}
    assert subnets == {"office": ["10.5.0.0/24"], "guest": ["10.6.0.10/31"]}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("expression.rsc", "line 3: priority=[ :pick"),
        ("positional.rsc", "line 3: /queue simple set 4: no such item"),
    ],
)
def test_refusals_name_file_and_line(name: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        import_config([DATA / name], "routeros")
    message = str(caught.value)
    assert message.startswith(str(DATA / name)) and expected in message
    assert "\n" not in message


def test_a_placeholder_rate_is_refused_unless_the_uplink_is_given(tmp_path: Path) -> None:
    path = tmp_path / "placeholder.rsc"
    path.write_text(
        "/queue tree\nadd max-limit=000000k name=wan parent=ether1\n"
        "add name=a packet-mark=a parent=wan priority=1\n"
    )
    with pytest.raises(ConfigError, match="give the uplink rate"):
        import_config([path], "routeros")
    im = import_config([path], "routeros", uplink_mbps=50)
    assert im.plan.up.root.ceil == 50e6
