"""The long-format metric table: Run.to_dataframe and the csv/json/parquet writers."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from sb3doctor.export import write_csv, write_json, write_parquet
from sb3doctor.model import Series, SourceData
from sb3doctor.sources import build_run


@pytest.fixture
def runs():
    tb = SourceData("tensorboard", Path("/logs/PPO_1/events.out.tfevents.1.h"))
    tb.metrics["train/approx_kl"] = Series.from_points([2048, 4096], [0.012345678, 0.5], [1.7e9, 1.7e9 + 3.5])
    out = SourceData("stdout", Path("/logs/PPO_1/stdout.log"))
    out.metrics["time/iterations"] = Series.from_points([2048, 4096], [1, 2])
    out.metrics["train/value_loss"] = Series.from_points([4096], [float("nan")])
    return [build_run(Path("/logs/PPO_1"), "PPO_1", [tb, out])]


def test_to_dataframe_is_long_format_with_exact_columns(runs) -> None:
    df = runs[0].to_dataframe()
    assert list(df.columns) == ["step", "metric", "value", "wall_time"]
    assert len(df) == 5
    kl = df[df.metric == "train/approx_kl"]
    assert kl.value.tolist() == [0.012345678, 0.5]
    assert kl.wall_time.tolist() == [1.7e9, 1.7e9 + 3.5]
    assert df[df.metric == "time/iterations"].wall_time.isna().all()
    assert df.step.dtype == "int64"


def test_csv_round_trips_through_pandas(runs) -> None:
    buf = io.StringIO()
    write_csv(runs, buf)
    text = buf.getvalue()
    assert text.splitlines()[0] == "run,step,metric,value,wall_time"
    # Empty wall_time where the source (stdout) has no clock.
    assert "PPO_1,2048,time/iterations,1.0," in text.splitlines()
    back = pd.read_csv(io.StringIO(text))
    assert len(back) == 5
    assert back[back.metric == "train/approx_kl"].value.tolist() == [0.012345678, 0.5]
    assert math.isnan(back[back.metric == "train/value_loss"].value.iloc[0])


def test_json_is_valid_and_complete(runs) -> None:
    buf = io.StringIO()
    write_json(runs, buf)
    rows = json.loads(buf.getvalue())
    assert len(rows) == 5
    assert rows[0] == {
        "run": "PPO_1",
        "step": 2048,
        "metric": "time/iterations",
        "value": 1.0,
        "wall_time": None,
    }
    assert [r["value"] for r in rows if r["metric"] == "train/value_loss"] == [None]


def test_parquet(runs, tmp_path: Path) -> None:
    dest = tmp_path / "out.parquet"
    write_parquet(runs, str(dest))
    df = pd.read_parquet(dest)
    assert list(df.columns) == ["run", "step", "metric", "value", "wall_time"]
    assert len(df) == 5
    assert df[df.metric == "train/approx_kl"].wall_time.tolist() == [1.7e9, 1.7e9 + 3.5]
