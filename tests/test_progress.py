"""progress.csv / progress.json written by SB3's own logger (``configure(folder, ["csv", "json"])``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3.common.logger import configure

from sb3doctor.errors import InputError
from sb3doctor.sources.progress import read_progress_csv, read_progress_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def sb3_log(folder: Path, dumps: list[dict]) -> Path:
    """Write ``dumps`` through SB3's logger, exactly as a training does."""
    logger = configure(str(folder), ["csv", "json"])
    for kv in dumps:
        for key, value in kv.items():
            logger.record(key, value)
        logger.dump(kv.get("time/total_timesteps", 0))
    logger.close()
    return folder


#: A PPO-like run where train/* appears at the second dump, eval/* only at the third and
#: train/clip_range_vf only at the last: SB3 rewrites the csv header each time.
DUMPS = [
    {"rollout/ep_rew_mean": 21.5, "time/iterations": 1, "time/total_timesteps": 64},
    {
        "rollout/ep_rew_mean": 23.25,
        "time/iterations": 2,
        "time/total_timesteps": 128,
        "train/approx_kl": np.float32(0.0022700671),
        "train/explained_variance": float("nan"),
        "train/loss": 1.234567891234,
    },
    {"eval/mean_reward": 59.0, "time/total_timesteps": 150, "train/loss": 0.5, "train/is_ok": True},
    {
        "rollout/ep_rew_mean": 30.0,
        "time/total_timesteps": 192,
        "train/clip_range_vf": 0.2,
        "custom/name": "text",
    },
]


@pytest.mark.parametrize("reader", [read_progress_csv, read_progress_json])
def test_columns_appearing_mid_run(tmp_path: Path, reader) -> None:
    folder = sb3_log(tmp_path / "run", DUMPS)
    name = "progress.csv" if reader is read_progress_csv else "progress.json"
    src = reader(folder / name)
    assert src.kind == name.replace(".", "_") and src.warnings == []
    m = src.metrics
    assert list(m["time/total_timesteps"].steps) == [64, 128, 150, 192]
    assert list(m["rollout/ep_rew_mean"].steps) == [64, 128, 192]
    assert list(m["rollout/ep_rew_mean"].values) == [21.5, 23.25, 30.0]
    assert list(m["train/loss"].values) == [1.234567891234, 0.5]  # full precision
    assert list(m["eval/mean_reward"].steps) == [150]
    assert list(m["train/clip_range_vf"].steps) == [192]
    assert math.isnan(m["train/explained_variance"].values[0])
    assert np.float32(m["train/approx_kl"].values[0]) == np.float32(0.0022700671)
    assert list(m["train/is_ok"].values) == [1.0]
    assert "custom/name" not in m  # strings are not metrics
    assert all(math.isnan(w) for s in m.values() for w in s.wall_times)


def test_csv_header_was_rewritten(tmp_path: Path) -> None:
    folder = sb3_log(tmp_path / "run", DUMPS)
    lines = (folder / "progress.csv").read_text().splitlines()
    # The premise of the test above: one header, old rows padded with empty cells.
    assert "train/clip_range_vf" in lines[0] and len(lines) == 5
    assert lines[1].endswith(",") or ",," in lines[1]


@pytest.mark.parametrize("name", ["progress.csv", "progress.json"])
def test_truncated_last_line_is_ignored_with_a_warning(tmp_path: Path, name: str) -> None:
    folder = sb3_log(tmp_path / "run", DUMPS)
    text = (folder / name).read_text()
    cut = tmp_path / name
    cut.write_text(text[: text.rindex("\n", 0, len(text) - 1) + 12])  # 11 chars of the last line
    reader = read_progress_csv if name.endswith(".csv") else read_progress_json
    src = reader(cut)
    assert list(src.metrics["time/total_timesteps"].steps) == [64, 128, 150]
    assert (
        len(src.warnings) == 1
        and f"{cut}:{len(text.splitlines())}:" in src.warnings[0]
        and "no line end" in src.warnings[0]
    )


def test_empty_csv_of_a_run_that_has_not_dumped_yet(tmp_path: Path) -> None:
    configure(str(tmp_path), ["csv"]).close()  # SB3 creates the file at configure time
    src = read_progress_csv(tmp_path / "progress.csv")
    assert src.metrics == {} and "empty" in src.warnings[0]


def test_not_a_progress_file(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="no time/total_timesteps column") as err:
        read_progress_csv(other)
    assert err.value.path == str(other)
    np.save(tmp_path / "x.npy", np.zeros(10))
    with pytest.raises(InputError, match="binary file"):
        read_progress_csv(tmp_path / "x.npy")
    notjson = tmp_path / "n.json"
    notjson.write_text("hello\nworld\n")
    with pytest.raises(InputError, match="no line is a JSON object"):
        read_progress_json(notjson)
    with pytest.raises(InputError, match="cannot read it"):
        read_progress_json(tmp_path / "missing.json")


def test_broken_middle_json_line_is_skipped(tmp_path: Path) -> None:
    folder = sb3_log(tmp_path / "run", DUMPS)
    lines = (folder / "progress.json").read_text().splitlines(keepends=True)
    lines[1] = lines[1][:20] + "\n"
    bad = tmp_path / "progress.json"
    bad.write_text("".join(lines))
    src = read_progress_json(bad)
    assert list(src.metrics["time/total_timesteps"].steps) == [64, 150, 192]
    assert any(":2:" in w for w in src.warnings)


def _fixture_runs() -> list[Path]:
    return sorted(
        p.parent for p in FIXTURES.glob("*/*/progress.json") if (p.parent / "progress.csv").exists()
    )


@pytest.mark.skipif(not _fixture_runs(), reason="fixtures/ not generated in this checkout")
@pytest.mark.parametrize("run_dir", _fixture_runs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_csv_and_json_hold_the_same_points(run_dir: Path) -> None:
    csv = read_progress_csv(run_dir / "progress.csv")
    js = read_progress_json(run_dir / "progress.json")
    assert csv.warnings == [] and js.warnings == []
    assert sorted(csv.metrics) == sorted(js.metrics)
    for key, series in csv.metrics.items():
        other = js.metrics[key]
        assert list(series.steps) == list(other.steps), key
        # csv holds str(value), json float(value): equal to float32 precision at least.
        assert np.allclose(series.values, other.values, rtol=1e-6, equal_nan=True), key
