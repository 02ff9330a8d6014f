"""Counter import: each format's reader on real-looking files, and the cleaning's decisions.

Expected bytes are computed by hand from the files in tests/data/counters/.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from sim.measure.counters import clean
from sim.measure.formats import parse_zone, read
from sim.measure.sites import read_measured
from sim.model.errors import ConfigError

DATA = Path(__file__).parent / "data" / "counters"
WIB = parse_zone("WIB")


def cleaned(name: str, fmt: str):
    intervals, events = clean(read(DATA / name, fmt, WIB))
    kinds = sorted(e.kind for e in events)
    return intervals, kinds, events


def test_mrtg_log_rates_gap_and_consolidation():
    intervals, kinds, _ = cleaned("ether5.log", "mrtg")
    # the row after a 20-min silence averages over the silence: left out, reported
    assert kinds == ["gap", "interval-change"]
    assert [i.seconds for i in intervals] == [1800, 1800, 1800, 300, 300, 300, 300]
    assert [i.rx for i in intervals] == [5.4e6, 10.8e6, 16.2e6, 3e6, 3e6, 3.6e6, 3.75e6]
    assert intervals[-1].tx == 3400 * 300
    assert intervals[-1].start == 1669779000 - 300


@pytest.mark.parametrize("name", ["upstream.xml", "upstream.json"])
def test_rrd_xport_xml_and_json(name):
    intervals, kinds, _ = cleaned(name, "rrd-xport")
    assert kinds == ["unknown"]  # the NaN row
    assert [i.start for i in intervals] == [1669770000 + 300 * k for k in range(4)]
    assert intervals[0].rx == 1.25e6 * 300 and intervals[1].tx == 3e5 * 300
    assert math.isnan(intervals[2].rx)


def test_rrd_fetch_text():
    intervals, kinds, _ = cleaned("ether7.fetch", "rrd-fetch")
    assert kinds == ["unknown"]
    assert [i.rx for i in intervals[:2]] == [1.25e5 * 300, 1.5e5 * 300]
    assert intervals[0].start == 1669770000


def test_routeros_wrap_reset_duplicate_and_order():
    intervals, kinds, events = cleaned("routeros.csv", "mikrotik")
    assert kinds == ["duplicate", "out-of-order", "reset", "reset", "wrap32"]
    ether5 = [i for i in intervals if i.interface == "ether5"]
    assert [i.tx for i in ether5] == [967_000, 1_000_000 + 2**32 - 4_294_967_000]
    assert [i.rx for i in ether5] == [300_000, 300_000]
    ether6 = [i for i in intervals if i.interface == "ether6"]
    assert [i.rx for i in ether6[:2]] == [600_000, 600_000]
    assert math.isnan(ether6[2].rx) and math.isnan(ether6[2].tx)  # the reset: unknown
    assert ether6[3].rx == 600_000 and ether6[3].tx == 3_000_000
    # RouterOS v6 dates are local (WIB): 08:00 WIB is 01:00 UTC
    assert ether5[0].start == dt.datetime(2023, 3, 6, 1, tzinfo=dt.UTC).timestamp()
    assert next(e for e in events if e.kind == "wrap32").line == 5


def test_generic_csv_time_zones_and_interval_change():
    intervals, kinds, _ = cleaned("generic.csv", "csv")
    assert kinds == ["interval-change"]
    # offset, naive (WIB) and Z stamps are one clock: every 5-min interval is 300 s
    assert [i.seconds for i in intervals] == [300, 300, 300, 60, 60]
    assert [i.rx for i in intervals] == [3e6, 3e6, 3e6, 6e5, 6e5]


def test_generic_csv_rates():
    intervals, kinds, _ = cleaned("rates.csv", "csv")
    assert kinds == []
    assert [i.tx for i in intervals] == [1e6 * 300, 2e6 * 300]


def test_counter_64_bit_wrap_and_32_bit_reset():
    from sim.measure.formats import Reading

    big = 2**64 - 1000
    rows = [
        Reading(n, 300.0 * n, "x", v, v, "counter") for n, v in enumerate([big - 5000, big, 4000])
    ]
    intervals, events = clean(rows)
    assert [e.kind for e in events] == ["wrap64", "wrap64"]
    assert intervals[1].rx == 5000  # 1000 to the top, then 4000


@pytest.mark.parametrize(
    ("fmt", "text", "where"),
    [
        ("mrtg", "1669779000 1 2\n1669779000 12500 3400 15000\n", "line 2: expected 5 fields"),
        ("mrtg", "1669779000 1 2\n1669778700 1 2 3 4\n1669779000 1 2 3 4\n", "line 2: MRTG rows"),
        (
            "csv",
            "timestamp,interface,rx_bytes,tx_bytes\n"
            "2023-03-06 08:00,e1,1,2\n2023-03-06 08:05,e1,abc,2\n",
            "line 3: rx_bytes is not a number",
        ),
        ("csv", "timestamp,interface,rx_bytes,tx_bytes\nyesterday,e1,1,2\n", "line 2: not a time"),
        ("csv", "time,interface,rx_bytes\n", "line 1: header lacks column(s) timestamp"),
        (
            "mikrotik",
            "time,name,rx-byte,tx-byte\nmar/06/2023 08:00:00,ether1,-5,2\n",
            "line 2: rx-byte must be",
        ),
        ("rrd-xport", "<xport><meta><step>300", "line 1: not valid XML"),
        ("rrd-fetch", "1669770300: 1.0\n", "line 1: expected 'time: in out'"),
    ],
)
def test_bad_files_name_file_line_and_problem(tmp_path, fmt, text, where):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        read(path, fmt, WIB)
    assert str(caught.value).startswith(f"{path}: {where}")
    assert "\n" not in str(caught.value)


def test_import_counters_command(netlab, tmp_path):
    result = netlab(
        "import-counters",
        str(DATA / "routeros.csv"),
        "-f",
        "mikrotik",
        "--scenario",
        "scenarios/example-small.toml",
        "--map",
        str(_map(tmp_path)),
        "--out",
        str(tmp_path / "m"),
    )
    assert result.returncode == 0, result.stderr
    assert "wrap32" in result.stdout and "reset" in result.stdout
    rows = read_measured(tmp_path / "m")
    setda = [r for r in rows if r.site == "setda"]
    assert [r.down for r in setda] == [967_000, 1_000_000 + 2**32 - 4_294_967_000]  # tx = down
    assert [r.up for r in setda] == [300_000, 300_000]


def test_import_counters_bad_file_exits_2(netlab, tmp_path):
    bad = tmp_path / "bad.log"
    bad.write_text("1669779000 1 2\n1669779000 12500\n")
    result = netlab(
        "import-counters",
        str(bad),
        "-f",
        "mrtg",
        "--scenario",
        "scenarios/example-small.toml",
        "--out",
        str(tmp_path / "m"),
    )
    assert result.returncode == 2
    assert f"{bad}: line 2: expected 5 fields" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _map(tmp_path: Path) -> Path:
    path = tmp_path / "map.toml"
    path.write_text('ether5 = "setda"\nether6 = "disdik"\n')
    return path


def test_topology_counters_map_interfaces_and_a_map_file_overrides(tmp_path):
    from sim.measure.counters import Interval
    from sim.measure.sites import interface_map, to_sites
    from sim.model.topology import load_topology

    text = (Path(__file__).parents[1] / "topologies" / "tiny.toml").read_text()
    text = text.replace('kind = "office"', 'kind = "office"\ncounters = "ether5"', 1)
    text = text.replace("[hub]", '[hub]\ncounters = "sfp1"', 1)
    path = tmp_path / "t.toml"
    path.write_text(text)
    topology = load_topology(path)
    first = topology.sites[0].id
    assert interface_map(topology, None) == {"ether5": first, "sfp1": topology.hub.id}
    mapping = tmp_path / "map.toml"
    mapping.write_text(f'ether9 = "{first}"\n')
    assert interface_map(topology, mapping)["ether9"] == first
    rows, unmapped = to_sites(
        [
            Interval("sfp1", 0, 300, 10, 2),
            Interval("ether5", 0, 300, 3, 7),
            Interval("x", 0, 1, 1, 1),
        ],
        interface_map(topology, None),
        topology.hub.id,
    )
    # upstream: received is the download; a site's port: sent is its download
    assert {(r.site, r.down, r.up) for r in rows} == {(topology.hub.id, 10, 2), (first, 7, 3)}
    assert unmapped == ["x"]
    mapping.write_text('ether9 = "nowhere"\n')
    with pytest.raises(ConfigError, match="ether9: names no site"):
        interface_map(topology, mapping)


def test_mrtg_zero_rows_against_a_rising_counter_are_unknown():
    """zero.log and zero.old (after a real pair): between their line-1 polls (539 s) the out
    counter rose 1,609,267,656 bytes (2.99 MB/s) while the rows say 0: discarded samples, so
    every zero out row reads as unknown; the in rows, which rose as the rows say, stay."""
    from sim.measure.quirks import log_quirks

    by_file = {DATA / n: read(DATA / n, "mrtg", WIB, "up") for n in ("zero.log", "zero.old")}
    readings, events = log_quirks(by_file, True, False, now=1408467301.0)
    assert [e.kind for e in events] == ["zero-rows"]
    assert "tx rows read 0 while the counter on line 1 rose 1.61 GB in 539 s (2.99 MB/s)" in (
        events[0].detail
    )
    assert all(math.isnan(r.tx) for r in readings)
    assert sorted(r.rx for r in readings if r.time == 1408467301) == [112906]
    intervals, _ = clean(readings)
    assert {i.rx for i in intervals if i.start == 1408467000} == {112906 * 301}


def test_a_stale_log_says_how_old_its_newest_reading_is():
    from sim.measure.quirks import log_quirks

    by_file = {DATA / "ether5.log": read(DATA / "ether5.log", "mrtg", WIB)}
    newest = 1669779000  # line 2 of ether5.log: 2022-11-30 03:30 UTC
    _, events = log_quirks(by_file, True, False, now=newest + 40 * 86400)
    assert [(e.kind, e.detail) for e in events] == [
        ("stale", "newest reading 2022-11-30 03:30 UTC, 40 days before this import: log stopped?")
    ]
    assert log_quirks(by_file, True, False, now=newest + 86400)[1] == []


def test_mrtg_off_grid_first_rows_are_kept_and_reported(tmp_path):
    """A 299-s step then a 1-s one at the head (as the real logs have): each row is an interval
    of its own length, the jump to 1 s reported (299 s is within 10 % of 300), no bytes made up
    or lost."""
    text = "1000 5 5\n1000 100 10 100 10\n999 50 5 50 5\n700 10 1 10 1\n400 10 1 10 1\n"
    path = tmp_path / "off-grid.log"
    path.write_text(text)
    intervals, events = clean(read(path, "mrtg", WIB))
    assert [i.seconds for i in intervals] == [300, 300, 299, 1]
    assert sum(i.rx for i in intervals) == 10 * 300 + 10 * 300 + 50 * 299 + 100 * 1
    assert [(e.kind, e.detail) for e in events] == [("interval-change", "interval 299 s -> 1 s")]
