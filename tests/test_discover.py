"""Discovery: a user path -> the runs and log files under it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sb3doctor.errors import InputError
from sb3doctor.sources.discover import classify_file, discover, natural_key


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_classify_by_name() -> None:
    assert classify_file(Path("events.out.tfevents.1700000000.host.1.0")) == "tensorboard"
    assert classify_file(Path("progress.csv")) == "progress_csv"
    assert classify_file(Path("progress.json")) == "progress_json"
    assert classify_file(Path("0.monitor.csv")) == "monitor"
    assert classify_file(Path("monitor.csv")) == "monitor"
    assert classify_file(Path("stdout.log")) == "stdout"
    assert classify_file(Path("log.txt")) == "stdout"
    assert classify_file(Path("config.json")) == "config"
    # Inside a folder, unknown files are not logs; named explicitly, they are read as stdout.
    assert classify_file(Path("notes.md")) is None
    assert classify_file(Path("notes.md"), explicit=True) == "stdout"
    assert classify_file(Path("other.csv"), explicit=True) == "progress_csv"


def test_parent_folder_gives_one_run_per_subfolder_in_natural_order(tmp_path: Path) -> None:
    for name in ["PPO_10", "PPO_2", "A2C_1"]:
        touch(tmp_path / "logs" / name / "events.out.tfevents.1.host")
    touch(tmp_path / "logs" / "README.md")
    runs = discover(tmp_path / "logs")
    assert [r.name for r in runs] == ["A2C_1", "PPO_2", "PPO_10"]
    assert all(list(r.files) == ["tensorboard"] for r in runs)


def test_run_folder_collects_every_source_and_sorts_restarts_by_time(tmp_path: Path) -> None:
    run = tmp_path / "PPO_1"
    touch(run / "events.out.tfevents.1700000500.host.2.0")
    touch(run / "events.out.tfevents.1700000100.host.1.0")
    touch(run / "progress.csv")
    touch(run / "monitor.csv")
    touch(run / "stdout.log")
    touch(run / "config.json", "{}")
    touch(run / "model.zip")
    (found,) = discover(run)
    assert found.name == "PPO_1"
    assert set(found.files) == {"tensorboard", "progress_csv", "monitor", "stdout", "config"}
    assert [p.name for p in found.files["tensorboard"]] == [
        "events.out.tfevents.1700000100.host.1.0",
        "events.out.tfevents.1700000500.host.2.0",
    ]
    assert "model.zip" not in [p.name for p in found.log_files]


def test_nested_runs_are_named_by_relative_path(tmp_path: Path) -> None:
    touch(tmp_path / "sweep" / "seed1" / "PPO_1" / "progress.csv")
    touch(tmp_path / "sweep" / "seed2" / "PPO_1" / "progress.csv")
    names = [r.name for r in discover(tmp_path / "sweep")]
    assert names == ["seed1/PPO_1", "seed2/PPO_1"]


def test_single_file_and_stdin(tmp_path: Path) -> None:
    ev = touch(tmp_path / "PPO_3" / "events.out.tfevents.1.h")
    (run,) = discover(ev)
    assert run.name == "PPO_3" and run.files == {"tensorboard": [ev]}
    (stdin,) = discover("-")
    assert stdin.files == {"stdout": [Path("-")]}


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        discover(tmp_path / "nope")
    assert str(err.value) == f"{tmp_path / 'nope'}: no such file or directory"


def test_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    touch(tmp_path / "empty" / "model.zip")
    with pytest.raises(InputError, match="no SB3 log found"):
        discover(tmp_path / "empty")


def test_config_json_alone_is_refused(tmp_path: Path) -> None:
    cfg = touch(tmp_path / "config.json", "{}")
    with pytest.raises(InputError, match="give the run folder"):
        discover(cfg)


def test_natural_key() -> None:
    assert sorted(["PPO_10", "PPO_9", "PPO_1"], key=natural_key) == ["PPO_1", "PPO_9", "PPO_10"]
