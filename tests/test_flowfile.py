"""A run's flows as flows.parquet (the default), flows.csv or not at all: the same rows and
values either way, read back through one function, written in row groups as batches arrive."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.analysis import flowfile
from sim.analysis.flowfile import (
    FLOW_COLUMNS,
    TEXT_COLUMNS,
    Bottlenecks,
    csv_cell,
    read_flows,
    writing,
)
from sim.analysis.metrics import summarize
from sim.analysis.series import flow_completion
from sim.model.scenario import load_scenario
from sim.report.run_report import write_report
from sim.results import write_run
from sim.run import RunRecord, run_scenario
from tests.conftest import ROOT

SAME_SECOND = dt.datetime(2026, 12, 7, 18, 0, 0, tzinfo=dt.UTC)
MADE_UP = Bottlenecks({"s": 1e6, "x": 1e6, "y": 2e6}, 1.0)  # the sites of made-up flows
ECDF_TITLES = ("Flow completion time of finished transfers", "Slowdown of finished transfers")


@pytest.fixture(scope="module")
def record() -> RunRecord:
    scenario = load_scenario(ROOT / "scenarios" / "example-small.toml").with_run(
        start="2022-02-01T09:00:00", duration="2h"
    )
    return run_scenario(scenario)


@pytest.fixture(scope="module")
def folders(record: RunRecord, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same run written with each --flows format (and its report)."""
    summary = summarize(record).to_json()
    root = tmp_path_factory.mktemp("runs")
    return {
        fmt: write_run(record, summary, root / fmt, write_report, now=SAME_SECOND, flows=fmt)
        for fmt in ("parquet", "csv", "none")
    }


def test_each_format_writes_its_file_and_only_it(folders: dict[str, Path]) -> None:
    names = {fmt: {p.name for p in folder.iterdir()} for fmt, folder in folders.items()}
    assert "flows.parquet" in names["parquet"] and "flows.csv" not in names["parquet"]
    assert "flows.csv" in names["csv"] and "flows.parquet" not in names["csv"]
    assert not {"flows.csv", "flows.parquet"} & names["none"]
    # csv keeps both tables as CSV; parquet and none keep the classes as Parquet
    assert names["none"] | {"flows.csv", "classes.csv"} == names["csv"] | {"classes.parquet"}
    assert "classes.parquet" in names["none"] and "classes.csv" not in names["none"]


def test_parquet_holds_the_csv_rows_and_values(
    record: RunRecord, folders: dict[str, Path], tmp_path: Path
) -> None:
    """Read back, the Parquet table is the CSV's: the same rows in the same order, text and ids
    equal, every float the CSV's when written at the CSV's 9 significant digits, missing values
    in the same cells; and written out as CSV it is the CSV byte for byte."""
    parquet = read_flows(folders["parquet"])
    text = read_flows(folders["csv"])
    assert parquet is not None and text is not None
    assert len(parquet["id"]) == len(record.flows) > 1000
    for column in FLOW_COLUMNS:
        got, want = parquet[column], text[column]
        if column in TEXT_COLUMNS or column == "id":
            assert got.tolist() == want.tolist(), column
        else:
            rounded = np.array([float(f"{v:.9g}") for v in got])
            np.testing.assert_array_equal(rounded, want, err_msg=column)
    assert np.isnan(parquet["fct_s"]).sum() > 0  # paced and unfinished flows have none
    with writing(tmp_path, "csv", MADE_UP) as writer:
        assert writer is not None
        writer.append(parquet)
    assert (tmp_path / "flows.csv").read_bytes() == (folders["csv"] / "flows.csv").read_bytes()


def test_parquet_keeps_the_run_exact_and_is_smaller(
    record: RunRecord, folders: dict[str, Path]
) -> None:
    parquet = read_flows(folders["parquet"], ("id", "start_s", "delivered_bytes"))
    assert parquet is not None
    assert parquet["start_s"].tolist() == [f.start for f in record.flows]
    assert parquet["delivered_bytes"].tolist() == [f.delivered for f in record.flows]
    csv_size = (folders["csv"] / "flows.csv").stat().st_size
    assert (folders["parquet"] / "flows.parquet").stat().st_size < 0.5 * csv_size


def test_derived_columns_equal_what_the_run_computed(
    record: RunRecord, folders: dict[str, Path]
) -> None:
    """flows.parquet stores neither fct_s nor slowdown, nor delivered_bytes where the flow
    arrived whole; read back, each equals the run's own figure bit for bit (NaN where the run
    has none), the figures summary.json's percentiles are taken over."""
    path = folders["parquet"] / "flows.parquet"
    stored = pq.read_schema(path).names
    assert "fct_s" not in stored and "slowdown" not in stored
    delivered = pq.read_table(path, columns=["delivered_bytes"]).column(0)
    whole = sum(f.delivered == f.size for f in record.flows)
    assert delivered.null_count == whole > len(record.flows) / 2
    fct, slowdowns = flow_completion(record)
    for columns in (None, ("slowdown",), ("fct_s", "id"), ("delivered_bytes",)):
        back = read_flows(folders["parquet"], *(() if columns is None else (columns,)))
        assert back is not None
        if "fct_s" in back:
            np.testing.assert_array_equal(back["fct_s"], fct)
        if "slowdown" in back:
            np.testing.assert_array_equal(back["slowdown"], slowdowns)
            assert np.nanmax(slowdowns) > 1.5  # some flows were really slowed
        if "delivered_bytes" in back:
            assert back["delivered_bytes"].tolist() == [f.delivered for f in record.flows]
    assert np.isnan(fct).sum() > 0 and (~np.isnan(fct)).sum() > 1000


def test_missing_values_are_nan_in_both_formats(tmp_path: Path) -> None:
    """A non-finite float is an empty CSV cell and a Parquet null; both read back as NaN."""
    batch = {c: np.array(["x", "y"]) for c in TEXT_COLUMNS}
    batch |= {c: np.array([1.5, 2.0]) for c in FLOW_COLUMNS if c not in batch}
    batch["id"] = np.array([7, 8])
    batch["time_at_rate_s"] = np.array([math.nan, 0.25])
    batch["needed_bps"] = np.array([math.inf, 1.0])
    for fmt in ("parquet", "csv"):
        folder = tmp_path / fmt
        folder.mkdir()
        with writing(folder, fmt, MADE_UP) as writer:
            assert writer is not None
            writer.append(batch)
        back = read_flows(folder)
        assert back is not None
        assert back["id"].tolist() == [7, 8] and back["site"].tolist() == ["x", "y"]
        assert math.isnan(back["time_at_rate_s"][0]) and back["time_at_rate_s"][1] == 0.25
        assert math.isnan(back["needed_bps"][0]) and back["needed_bps"][1] == 1.0
    assert csv_cell(math.inf) == "" and csv_cell(0.1 + 0.2) == "0.3" and csv_cell(3) == 3


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=250), min_size=1, max_size=12))
def test_parquet_row_groups_fill_as_batches_arrive(sizes: list[int]) -> None:
    """However the batches are cut, every row group but the last holds ROW_GROUP rows and the
    rows come back in the order appended."""
    import tempfile

    row_group = 100
    with tempfile.TemporaryDirectory() as name, pytest.MonkeyPatch.context() as patch:
        patch.setattr(flowfile, "ROW_GROUP", row_group)
        folder, first = Path(name), 0
        with writing(folder, "parquet", MADE_UP) as writer:
            assert writer is not None
            for size in sizes:
                writer.append(_batch(first, size))
                first += size
        groups = pq.ParquetFile(folder / "flows.parquet").metadata
        counts = [groups.row_group(i).num_rows for i in range(groups.num_row_groups)]
        back = read_flows(folder, ("id", "start_s"))
    total = sum(sizes)
    assert sum(counts) == total
    assert all(n == row_group for n in counts[:-1]) and 0 < (counts[-1] if counts else 1) <= 100
    assert back is not None and back["id"].tolist() == list(range(total))
    assert back["start_s"].tolist() == [i / 3 for i in range(total)]


def _batch(first: int, size: int) -> dict[str, np.ndarray]:
    ids = np.arange(first, first + size)
    batch = {c: np.full(size, "s") for c in TEXT_COLUMNS}
    batch |= {c: ids / 3 for c in FLOW_COLUMNS if c not in batch}
    batch["id"] = ids
    return batch


def test_a_run_without_flows_keeps_every_other_report(folders: dict[str, Path]) -> None:
    """--flows none: report.html has every figure but the two ECDFs, and says why."""
    assert read_flows(folders["none"]) is None
    kept = (folders["parquet"] / "report.html").read_text(encoding="utf-8")
    bare = (folders["none"] / "report.html").read_text(encoding="utf-8")
    assert all(title in kept for title in ECDF_TITLES)
    assert not any(title in bare for title in ECDF_TITLES)
    assert "The flows were not kept (<code>--flows none</code>)" in bare
    for title in ("Upstream: traffic through the root class", "share of time at the needed rate"):
        assert title in bare
    assert kept.count('class="plotly-graph-div"') == bare.count('class="plotly-graph-div"') + 2


def test_reports_are_the_same_from_either_file(folders: dict[str, Path]) -> None:
    """Both readers give report.html the same figures (ECDF points differ below 1e-8 at most)."""
    pages = [(folders[f] / "report.html").read_text(encoding="utf-8") for f in ("parquet", "csv")]
    assert pages[0].count("plotly-graph-div") == pages[1].count("plotly-graph-div")


def test_write_stages_are_told_in_order(record: RunRecord, tmp_path: Path) -> None:
    told: list[str] = []
    summary = summarize(record).to_json()
    write_run(record, summary, tmp_path, write_report, also=lambda f: None, step=told.append)
    assert told == ["flows.parquet", "classes.parquet", "report.html", "the other pages"]
    told.clear()
    write_run(record, summary, tmp_path, flows="none", step=told.append)
    assert told == ["no flows file", "classes.parquet"]


def test_flows_option_on_the_command_line(netlab, tmp_path: Path) -> None:
    """`--flows csv` keeps flows.csv; a misspelt format is the option's fault, before any run."""
    small = str(ROOT / "scenarios" / "example-small.toml")
    result = netlab("run", small, "-d", "20m", "-q", "--flows", "csv", "-o", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "r").iterdir()
    assert (folder / "flows.csv").is_file() and not (folder / "flows.parquet").exists()
    bad = netlab("run", small, "--flows", "parket", "-o", str(tmp_path / "bad"))
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "netlab: error: --flows parket: unknown format; did you mean parquet? "
        "(one of: parquet, csv, none)"
    ]
    assert not (tmp_path / "bad").exists()
