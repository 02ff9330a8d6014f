"""A run folder's per-class series as a file: classes.parquet, or classes.csv with `--flows csv`.

One row a class per interval and direction (CLASS_COLUMNS). Parquet keeps every float as the
run computed it, text dictionary-encoded, zstd (the 10-day trial's 270,720 rows: about 2.5 MB
against 14.3 MB as CSV); the CSV writes 9 significant digits, so the Parquet table written as
CSV is the CSV of the same run byte for byte. `read_classes` reads either into numpy columns,
through pyarrow both ways, an empty CSV cell (a non-finite figure) as NaN.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sim.model.flow import FlowFormat

TEXT_COLUMNS = ("direction", "class", "parent", "site")
SCHEMA = pa.schema(
    [
        ("time_s", pa.float64()),
        *((c, pa.string()) for c in TEXT_COLUMNS),
        ("allocated_bps", pa.float64()),
        ("delivered_bps", pa.float64()),
        ("drops", pa.int64()),
        ("offered_bps", pa.float64()),
    ]
)
CLASS_COLUMNS = SCHEMA.names
FILE_NAMES = ("classes.parquet", "classes.csv")  # the one a folder has; Parquet first

Columns = dict[str, np.ndarray]  # CLASS_COLUMNS -> one array each, of equal length


def file_name(fmt: FlowFormat) -> str:
    """The classes file that a run kept with `--flows fmt` writes: CSV only with csv."""
    return "classes.csv" if fmt == "csv" else "classes.parquet"


def write_classes(folder: Path, fmt: FlowFormat, columns: Columns) -> Path:
    """The per-class columns as the folder's classes file for `--flows fmt`; its path."""
    path = folder / file_name(fmt)
    if path.suffix == ".parquet":
        table = pa.Table.from_pydict({c: columns[c] for c in CLASS_COLUMNS}, schema=SCHEMA)
        pq.write_table(table, path, compression="zstd", use_dictionary=list(TEXT_COLUMNS))
        return path
    cells = [
        [_cell(v) for v in columns[c].tolist()] if columns[c].dtype.kind == "f" else columns[c]
        for c in CLASS_COLUMNS
    ]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CLASS_COLUMNS)
        writer.writerows(zip(*cells, strict=True))
    return path


def _cell(value: float) -> str:
    """A float as classes.csv writes it: 9 significant digits, a non-finite one empty."""
    return f"{value:.9g}" if math.isfinite(value) else ""


def read_classes(folder: Path, columns: Iterable[str] = CLASS_COLUMNS) -> Columns:
    """The named columns of the folder's classes file (classes.parquet, else classes.csv):
    floats as float64 (NaN where missing), drops as int64, text as str arrays."""
    wanted = list(columns)
    parquet, text = (folder / name for name in FILE_NAMES)
    if parquet.is_file() or not text.is_file():
        table = pq.read_table(parquet, columns=wanted)  # neither: names classes.parquet
    else:
        types = {c: SCHEMA.field(c).type for c in wanted}
        options = pacsv.ConvertOptions(column_types=types, include_columns=wanted)
        table = pacsv.read_csv(text, convert_options=options)
    return {c: _numpy(table.column(c)) for c in wanted}


def _numpy(values: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_string(values.type):
        return np.array(values.to_pylist(), dtype=str)
    if pa.types.is_integer(values.type):
        return values.to_numpy().astype(np.int64)
    return values.to_numpy().astype(float)  # nulls become NaN
