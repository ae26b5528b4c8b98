"""Write the full-resolution long-format metric table of runs: csv, json or parquet.

CSV and JSON are written without pandas (pandas alone costs ~0.3 s of start-up); parquet
needs pyarrow (``pip install sb3doctor[parquet]``) and imports it only then.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from typing import IO

from sb3doctor.errors import InputError
from sb3doctor.model import Run

COLUMNS = ("run", "step", "metric", "value", "wall_time")
FORMATS = ("csv", "json", "parquet")


def iter_rows(runs: list[Run]) -> Iterator[tuple[str, int, str, float, float]]:
    """Yield ``(run, step, metric, value, wall_time)`` for every point, metric by metric."""
    for run in runs:
        for metric in sorted(run.metrics):
            s = run.metrics[metric]
            for step, value, wall in zip(s.steps, s.values, s.wall_times, strict=True):
                yield run.name, step, metric, value, wall


def _wall(x: float) -> str:
    # repr() is the shortest string that reads back to the same float; NaN wall times
    # (sources without a clock) are written as empty cells.
    return "" if math.isnan(x) else repr(x)


def write_csv(runs: list[Run], out: IO[str]) -> None:
    """Write the long table as CSV with a header row."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    # A NaN metric value is data (e.g. explained_variance of constant returns): keep "nan".
    writer.writerows((r, s, m, repr(v), _wall(w)) for r, s, m, v, w in iter_rows(runs))


def write_json(runs: list[Run], out: IO[str]) -> None:
    """Write the long table as one JSON array of row objects (NaN -> null)."""
    out.write("[")
    first = True
    for r, s, m, v, w in iter_rows(runs):
        row = {
            "run": r,
            "step": s,
            "metric": m,
            "value": None if math.isnan(v) or math.isinf(v) else v,
            "wall_time": None if math.isnan(w) else w,
        }
        out.write(("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False))
        first = False
    out.write("\n]\n")


def write_parquet(runs: list[Run], destination: str) -> None:
    """Write the long table as a parquet file (needs pyarrow)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InputError(
            "parquet export needs pyarrow: pip install 'sb3doctor[parquet]'", destination
        ) from exc
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for row in iter_rows(runs):
        for c, v in zip(COLUMNS, row, strict=True):
            cols[c].append(v)
    cols["wall_time"] = [None if math.isnan(w) else w for w in cols["wall_time"]]
    table = pa.table(
        {
            "run": pa.array(cols["run"], pa.string()),
            "step": pa.array(cols["step"], pa.int64()),
            "metric": pa.array(cols["metric"], pa.string()),
            "value": pa.array(cols["value"], pa.float64()),
            "wall_time": pa.array(cols["wall_time"], pa.float64()),
        }
    )
    pq.write_table(table, destination)
