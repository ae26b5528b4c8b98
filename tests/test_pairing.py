"""One training, one run: Monitor files and EvalCallback's evaluations.npz written to folders of
their own are joined to the TensorBoard run of the same training (``sources.pairing``).

The logs are written by real, tiny SB3 trainings (about a second each) in the two layouts of
SB3's documentation: ``Monitor(env, log_dir)`` with ``tensorboard_log=log_dir``, and
``make_vec_env(monitor_dir=...)`` with ``tensorboard_log`` and ``EvalCallback(log_path=...)``
in sibling folders.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import gymnasium as gym
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.monitor import Monitor

from sb3doctor.cli import main
from sb3doctor.sources import read_runs
from sb3doctor.watch import Watcher

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layouts")
    # Monitor(env, log_dir) and tensorboard_log=log_dir: log_dir/train.monitor.csv, log_dir/PPO_1/
    log_dir = root / "monitor_beside"
    log_dir.mkdir()
    env = Monitor(gym.make("CartPole-v1"), str(log_dir / "train"))
    PPO("MlpPolicy", env, n_steps=256, seed=0, tensorboard_log=str(log_dir)).learn(1024)
    # the same, run as `python train.py > log_dir/train.log` with verbose=1
    logged = root / "monitor_and_log"
    logged.mkdir()
    env = Monitor(gym.make("CartPole-v1"), str(logged / "train"))
    with open(logged / "train.log", "w") as out, contextlib.redirect_stdout(out):
        PPO("MlpPolicy", env, n_steps=256, seed=0, verbose=1, tensorboard_log=str(logged)).learn(1024)
    # make_vec_env(monitor_dir=run/monitor), tensorboard_log=run/tb, EvalCallback(log_path=run/eval)
    run = root / "makevec"
    venv = make_vec_env("CartPole-v1", n_envs=2, monitor_dir=str(run / "monitor"), seed=0)
    eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=1)
    evaluation = EvalCallback(eval_env, eval_freq=256, n_eval_episodes=2, log_path=str(run / "eval"))
    model = PPO("MlpPolicy", venv, n_steps=128, seed=0, tensorboard_log=str(run / "tb"))
    model.learn(1024, callback=evaluation)
    # Monitor(env, log_dir), EvalCallback(log_path=log_dir) and tensorboard_log=log_dir: the
    # Monitor files and evaluations.npz in one folder, the event file in log_dir/PPO_1
    both = root / "monitor_and_eval_beside"
    both.mkdir()
    env = Monitor(gym.make("CartPole-v1"), str(both / "train"))
    evaluation = EvalCallback(
        Monitor(gym.make("CartPole-v1")), eval_freq=256, n_eval_episodes=2, log_path=str(both)
    )
    PPO("MlpPolicy", env, n_steps=256, seed=0, tensorboard_log=str(both)).learn(1024, callback=evaluation)
    return root


def test_monitor_beside_tensorboard_log_is_one_run(layouts: Path) -> None:
    (run,) = read_runs(layouts / "monitor_beside")
    assert run.name == "PPO_1" and run.algo == "PPO"
    assert {"monitor", "tensorboard"} <= set(run.sources)
    assert run.facts["env_id"] == "CartPole-v1"  # the Monitor header names the env
    assert len(run.metrics["episode/reward"]) > 5 and len(run.metrics["train/value_loss"]) >= 3


def test_a_captured_stdout_log_beside_the_monitor_does_not_keep_it_apart(layouts: Path) -> None:
    """`python train.py > log_dir/train.log`: the Monitor file still joins PPO_1, and the log,
    the printed output of the same training, is read once as that."""
    (run,) = read_runs(layouts / "monitor_and_log")
    assert run.name == "PPO_1" and run.algo == "PPO"
    assert "monitor" in run.sources and run.facts["env_id"] == "CartPole-v1"
    assert any("train.log: the printed output of this training" in w for w in run.warnings)


def test_make_vec_env_monitor_dir_and_eval_log_path_join_the_run(layouts: Path) -> None:
    (run,) = read_runs(layouts / "makevec")
    assert run.name == "tb/PPO_1"
    assert {"evaluations", "monitor", "tensorboard"} <= set(run.sources)
    assert len([p for p in run.source_files if p.name.endswith("monitor.csv")]) == 2
    assert run.facts["env_id"] == "CartPole-v1"
    # make_vec_env names one Monitor file per env by its rank: 0.monitor.csv, 1.monitor.csv
    assert run.hyperparams["n_envs"] == 2


def test_one_named_monitor_file_does_not_state_the_env_count(layouts: Path) -> None:
    """Monitor(env, "log_dir/train") writes train.monitor.csv: one env here, but a VecMonitor
    writes every env's episodes into one such file, so the name says nothing about n_envs."""
    (run,) = read_runs(layouts / "monitor_beside")
    assert "n_envs" not in run.hyperparams


def test_evaluations_beside_the_monitor_join_the_run_with_it(layouts: Path) -> None:
    """Before round 14 the folder holding both stayed a run of its own ("algorithm: unknown"),
    and PPO_1 was judged without its episodes."""
    (run,) = read_runs(layouts / "monitor_and_eval_beside")
    assert run.name == "PPO_1" and run.algo == "PPO"
    assert {"evaluations", "monitor", "tensorboard"} <= set(run.sources)
    assert run.facts["env_id"] == "CartPole-v1"
    assert len(run.metrics["episode/reward"]) > 5 and "eval/mean_reward" in run.metrics


def test_the_cli_reports_one_run_with_its_env(layouts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(layouts), "--format", "json", "--fail-on", "never"]) == 0
    doc = json.loads(capsys.readouterr().out)
    runs = {r["name"]: r for r in doc["runs"]}
    assert sorted(runs) == [
        "makevec/tb/PPO_1",
        "monitor_and_eval_beside/PPO_1",
        "monitor_and_log/PPO_1",
        "monitor_beside/PPO_1",
    ]
    assert all(r["env"]["id"] == "CartPole-v1" for r in runs.values())


def test_a_monitor_from_another_time_stays_apart(layouts: Path, tmp_path: Path) -> None:
    """The same files, but the event file's name says it was created a day after the Monitor's
    last episode: not the training it recorded, so the two stay separate runs."""
    folder = tmp_path / "monitor_beside"
    shutil.copytree(layouts / "monitor_beside", folder)
    (event,) = (folder / "PPO_1").glob("events.out.tfevents.*")
    parts = event.name.split(".")
    parts[3] = str(int(parts[3]) + 86_400)
    event.rename(event.with_name(".".join(parts)))
    runs = read_runs(folder)
    assert sorted(r.name for r in runs) == ["PPO_1", "monitor_beside"]


def test_two_trainings_in_one_monitor_window_stay_apart(layouts: Path, tmp_path: Path) -> None:
    """A Monitor folder whose time span covers two trainings' event files (one Monitor reused
    by two learn() calls that each started a new PPO_N): which one it recorded is not known."""
    folder = tmp_path / "monitor_beside"
    shutil.copytree(layouts / "monitor_beside", folder)
    shutil.copytree(folder / "PPO_1", folder / "PPO_2")
    assert sorted(r.name for r in read_runs(folder)) == ["PPO_1", "PPO_2", "monitor_beside"]


def test_watch_forgets_the_monitor_half_run_once_joined(layouts: Path, tmp_path: Path) -> None:
    """watch started before the training: the Monitor file appears first and is watched alone;
    once the event file appears, the Monitor belongs to that run and the half-run is dropped."""
    folder = tmp_path / "monitor_beside"
    folder.mkdir()
    (monitor,) = (layouts / "monitor_beside").glob("*.monitor.csv")
    shutil.copy(monitor, folder / monitor.name)
    watcher = Watcher(folder, lambda run: [])
    watcher.poll()
    assert [state.name for state in watcher.runs.values()] == ["monitor_beside"]
    shutil.copytree(layouts / "monitor_beside" / "PPO_1", folder / "PPO_1")
    os.utime(folder / monitor.name)
    watcher.poll()
    assert [state.name for state in watcher.runs.values()] == ["PPO_1"]


def test_a_broken_file_in_a_joined_folder_is_skipped_not_fatal(
    layouts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Monitor file cut by a crash mid-write (NULs), or an evaluations.npz half saved, in a
    folder joined to the run: named and skipped, the run's readable logs still analyzed."""
    folder = tmp_path / "monitor_beside"
    shutil.copytree(layouts / "monitor_beside", folder)
    (monitor,) = folder.glob("*.monitor.csv")
    with open(monitor, "ab") as fh:
        fh.write(b"\x00" * 4096)
    run = tmp_path / "makevec"
    shutil.copytree(layouts / "makevec", run)
    npz = run / "eval" / "evaluations.npz"
    npz.write_bytes(npz.read_bytes()[:100])
    for path, broken in ((folder, monitor), (run, npz)):
        code, out, err = _cli(capsys, "analyze", str(path), "--format", "json", "--fail-on", "never")
        assert code == 0, err
        (doc,) = json.loads(out)["runs"]
        assert doc["steps"][1] >= 1024
        assert f"{broken}: skipped" in err


def test_a_monitor_header_nested_too_deeply_does_not_take_the_folder_down(
    layouts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "rec"
    shutil.copytree(layouts / "monitor_beside" / "PPO_1", folder / "PPO_1")
    (folder / "m").mkdir()
    (folder / "m" / "monitor.csv").write_text("#" + "[" * 4000 + "\nr,l,t\n")
    code, out, err = _cli(capsys, "analyze", str(folder), "--format", "json", "--fail-on", "never")
    assert code == 0, err
    assert [r["name"] for r in json.loads(out)["runs"]] == ["PPO_1"]
    assert "m/monitor.csv" in err and "Traceback" not in err


def test_monitor_folders_competing_for_one_run_both_stay_apart(layouts: Path, tmp_path: Path) -> None:
    """An eval env's Monitor folder recording over the same time as the training's: which one
    is the training's is not known, whatever order the folders are listed in."""
    run = tmp_path / "makevec"
    shutil.copytree(layouts / "makevec", run)
    shutil.copytree(run / "monitor", run / "eval_monitor")
    names = sorted(r.name for r in read_runs(run))
    assert names == ["eval_monitor", "monitor", "tb/PPO_1"]


def test_evaluations_join_only_a_run_written_while_they_were_saved(layouts: Path, tmp_path: Path) -> None:
    run = tmp_path / "makevec"
    shutil.copytree(layouts / "makevec", run)
    # two eval folders for one run: which is the run's own is not known
    shutil.copytree(run / "eval", run / "eval_det")
    assert sorted(r.name for r in read_runs(run)) == ["eval", "eval_det", "tb/PPO_1"]
    shutil.rmtree(run / "eval_det")
    # saved a day after the run's event file was last written: another training's
    npz = run / "eval" / "evaluations.npz"
    later = (run / "tb" / "PPO_1").stat().st_mtime + 86_400
    os.utime(npz, (later, later))
    assert sorted(r.name for r in read_runs(run)) == ["eval", "tb/PPO_1"]
    # and an event-file run deeper than two levels below the eval folder's parent is no candidate
    other = tmp_path / "proj"
    shutil.copytree(layouts / "makevec" / "eval", other / "eval")
    shutil.copytree(layouts / "makevec" / "tb" / "PPO_1", other / "other" / "x" / "PPO_1")
    assert sorted(r.name for r in read_runs(other)) == ["eval", "other/x/PPO_1"]


def test_watch_keeps_a_joined_monitor_when_a_second_training_starts(layouts: Path, tmp_path: Path) -> None:
    """After the join, a second learn() starting PPO_2 in the same folder makes the Monitor
    ambiguous for analyze's pairing; watch keeps it with the run it was joined to rather than
    reporting its episodes twice."""
    folder = tmp_path / "monitor_beside"
    shutil.copytree(layouts / "monitor_beside", folder)
    watcher = Watcher(folder, lambda run: [])
    events = watcher.poll()
    assert [state.name for state in watcher.runs.values()] == ["PPO_1"]
    # run_started names the env the joined Monitor header gives, as analyze does
    (started,) = [e.to_dict() for e in events if e.kind == "run_started"]
    assert started["env"] == "CartPole-v1"
    shutil.copytree(folder / "PPO_1", folder / "PPO_2")
    watcher.poll()
    assert sorted(state.name for state in watcher.runs.values()) == ["PPO_1", "PPO_2"]
    episodes = {s.name: len(s.run.metrics.get("episode/reward", [])) for s in watcher.runs.values()}
    assert episodes["PPO_1"] > 5 and episodes["PPO_2"] == 0


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_script_run_again_into_the_same_folder_joins_the_new_run(layouts: Path, tmp_path: Path) -> None:
    """The script ran twice into one folder: the second run rewrote the Monitor file and wrote
    PPO_2; PPO_1's event file was created before this Monitor existed, so it is not a candidate."""
    folder = tmp_path / "monitor_beside"
    shutil.copytree(layouts / "monitor_beside", folder)
    shutil.copytree(folder / "PPO_1", folder / "PPO_2")
    (event,) = (folder / "PPO_1").glob("events.out.tfevents.*")
    parts = event.name.split(".")
    parts[3] = str(int(parts[3]) - 30)  # the first run, half a minute earlier
    event.rename(event.with_name(".".join(parts)))
    runs = {r.name: r for r in read_runs(folder)}
    assert sorted(runs) == ["PPO_1", "PPO_2"]
    assert "monitor" in runs["PPO_2"].sources and "monitor" not in runs["PPO_1"].sources
