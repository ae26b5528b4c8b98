"""rl-baselines3-zoo run folders, from real rl_zoo3 2.9 trainings (``fixtures/rlzoo``).

``python -m rl_zoo3.train --algo ppo|qrdqn --env CartPole-v1 --eval-freq 2000
--tensorboard-log tb --log-folder logs`` (8k / 6k steps, seed 3), models left out.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sb3doctor.cli import main
from sb3doctor.errors import InputError
from sb3doctor.sources import read_runs
from sb3doctor.sources.zoo import read_evaluations, read_zoo_config

ZOO = Path(__file__).resolve().parents[1] / "fixtures" / "rlzoo"
PPO_RUN = ZOO / "logs" / "ppo" / "CartPole-v1_1"
QRDQN_RUN = ZOO / "logs" / "qrdqn" / "CartPole-v1_1"


def test_zoo_folder_is_one_run_with_algo_env_and_tuned_hyperparams() -> None:
    (run,) = read_runs(PPO_RUN)
    assert run.algo == "PPO"
    hp = run.hyperparams
    assert hp["env_id"] == "CartPole-v1"
    # rl-zoo's tuned PPO CartPole entry, lin_ schedules read as their start value
    assert hp["learning_rate"] == 0.001 and hp["lr_schedule"] == "decaying"
    assert hp["clip_range"] == 0.2 and hp["clip_range_schedule"] == "linear"
    assert hp["n_epochs"] == 20 and hp["n_envs"] == 8 and hp["seed"] == 3
    # the EvalCallback's evaluations.npz becomes eval/ metrics at its timesteps
    ev = run.metrics["eval/mean_reward"]
    assert list(ev.steps) == [2000, 4000, 6000, 8000]  # --eval-freq 2000 (per env step)
    assert ev.values[0] == pytest.approx(69.3333, abs=1e-3)  # the mean over the 3 eval episodes
    assert "eval/mean_ep_length" in run.metrics


def test_the_event_file_alone_gives_the_rollout_through_its_table_spacing() -> None:
    """SB3 keeps time/iterations and train/n_updates out of TensorBoard, but PPO writes a table
    after every rollout: rl-zoo's 8 envs x 32 steps show as train/* points 256 steps apart."""
    (event,) = (ZOO / "tb" / "CartPole-v1" / "PPO_1").glob("events.out.tfevents.*")
    (run,) = read_runs(event)
    assert run.hyperparams["table_steps"] == 8 * 32
    assert "rollout_size" not in run.hyperparams  # a run logged every k rollouts spaces them k times
    (qrdqn,) = read_runs(next((ZOO / "tb" / "CartPole-v1" / "QRDQN_1").glob("events.out.tfevents.*")))
    assert "table_steps" not in qrdqn.hyperparams  # off-policy tables follow episodes, not rollouts


def test_sb3_contrib_zoo_folder() -> None:
    (run,) = read_runs(QRDQN_RUN)
    assert run.algo == "QRDQN" and run.hyperparams["env_id"] == "CartPole-v1"
    assert run.hyperparams["exploration_fraction"] == 0.16  # rl-zoo's tuned value


def test_zoo_tree_gives_one_run_per_training(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", str(ZOO / "logs"), "--format", "json", "--fail-on", "never"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert sorted((r["algo"], r["env"]["id"]) for r in doc["runs"]) == [
        ("PPO", "CartPole-v1"),
        ("QRDQN", "CartPole-v1"),
    ]
    # the matching TensorBoard runs (zoo --tensorboard-log) get their env from the folder name
    code = main(["analyze", str(ZOO / "tb"), "--format", "json", "--fail-on", "never"])
    doc = json.loads(capsys.readouterr().out)
    assert sorted((r["algo"], r["env"]["id"], r["env"]["source"]) for r in doc["runs"]) == [
        ("PPO", "CartPole-v1", "folder name"),
        ("QRDQN", "CartPole-v1", "folder name"),
    ]


def test_zoo_config_is_data_not_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "CartPole-v1_1"
    shutil.copytree(PPO_RUN, run)
    marker = tmp_path / "pwned"
    (run / "CartPole-v1" / "args.yml").write_text(f"!!python/object/apply:os.system\n- touch {marker}\n")
    with pytest.raises(InputError, match="not a readable rl-zoo YAML"):
        read_zoo_config([run / "CartPole-v1" / "args.yml"])
    code = main(["analyze", str(run)])
    err = capsys.readouterr().err
    assert code == 2 and "args.yml" in err and not marker.exists()


def test_evaluations_npz_is_loaded_without_pickle(tmp_path: Path) -> None:
    path = tmp_path / "evaluations.npz"
    np.savez(path, timesteps=np.array([1, 2]), results=np.array([[1.0], [2.0]], dtype=object))
    with pytest.raises(InputError, match=r"evaluations\.npz"):
        read_evaluations(path)
    good = read_evaluations(PPO_RUN / "evaluations.npz")
    assert len(good.metrics["eval/mean_reward"]) >= 1


def test_the_zoo_root_joins_each_run_with_its_tensorboard_run() -> None:
    """fixtures/rlzoo is what `python -m rl_zoo3.train ... --log-folder logs --tensorboard-log tb`
    leaves: logs/<algo>/CartPole-v1_1 (Monitor, evaluations, config) and tb/CartPole-v1/<ALGO>_1
    (the event file). Given the root, each training is one run with all of it."""
    runs = read_runs(Path(__file__).resolve().parents[1] / "fixtures" / "rlzoo")
    assert sorted((r.name, r.algo) for r in runs) == [
        ("logs/ppo/CartPole-v1_1", "PPO"),
        ("logs/qrdqn/CartPole-v1_1", "QRDQN"),
    ]
    for run in runs:
        assert run.sources == ["evaluations", "monitor", "tensorboard"]
        assert "train/loss" in run.metrics or "train/approx_kl" in run.metrics  # from the event file
        assert "episode/reward" in run.metrics and "eval/mean_reward" in run.metrics
        assert run.hyperparams["env_id"] == "CartPole-v1" and run.hyperparams["seed"] == 3
