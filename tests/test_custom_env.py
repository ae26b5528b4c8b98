"""Runs on a custom env, the most common case of a user's run: a gymnasium env sb3doctor has no
reference numbers for and no time limit it knows, logged by a plain SB3 script (an event file
from ``tensorboard_log`` and Monitor files, no rl-zoo config).

Two sources: real benchmark runs replayed through ``watch`` with their Monitor headers saying
``"env_id": "None"`` (what SB3's Monitor writes for an env that was never registered), and a
real, few-second PPO training on a small corridor env defined here, which it solves.

Before round 15 each of them raised a warning: rl-zoo's PPO on CartPole (8 envs) was told "no
episode is ending" from a quarter of its run to three quarters (the episode statistics pause
while every env is inside a long episode, and without the env's time limit nothing bounded that
pause); rl-zoo's DDPG on Pendulum was told its returns "collapsed" at two thirds of its run, from
a lucky stretch of its random warm-up; and the solved corridor was told its entropy had
collapsed and its updates were too small "while ep_rew_mean has been flat below its best"
(0.9098 against a best of 0.91).
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

# the watched-folder replay of test_live_replay (pytest puts this folder on sys.path)
from test_live_replay import raised_above_info, replay

from sb3doctor.cli import main
from sb3doctor.sources import read_runs

torch.set_num_threads(1)


#: rl-zoo's PPO on CartPole, 8 envs (0.monitor.csv ... 7.monitor.csv): ep_len_mean sits at 102.69
#: for 2,560 steps (320 per env) while the Monitor has already seen 500-step episodes; and
#: rl-zoo's DDPG on Pendulum: 10,000 steps of random play, then training starts with a dip below
#: the luckiest stretch of that random play.
HEALTHY_ON_AN_UNREGISTERED_ENV = ("healthy-ppo-cartpole-s3", "healthy-ddpg-pendulum-s3")


def test_healthy_runs_on_an_unregistered_env_raise_nothing_above_info(tmp_path: Path) -> None:
    for run_id in HEALTHY_ON_AN_UNREGISTERED_ENV:
        seen = replay(run_id, tmp_path / run_id, custom_env=True)
        assert raised_above_info(seen) == [], run_id


class Corridor(gym.Env[np.ndarray, int]):
    """Ten cells to the right is the goal (+1); every step costs 0.01; 200 steps at most. The
    best return is 0.91 (ten steps); a random walk needs about a hundred."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.position, self.steps = 0, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.position, self.steps = 0, 0
        return np.array([0.0], np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.position = max(0, self.position + (1 if action == 1 else -1))
        self.steps += 1
        done = self.position >= 10
        obs = np.array([self.position / 10], np.float32)
        return obs, 1.0 if done else -0.01, done, self.steps >= 200, {}


@pytest.fixture(scope="module")
def corridor_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corridor")
    # VecMonitor over 4 envs: one train.monitor.csv for all of them; solved after ~4,000 steps,
    # and 20,480 steps long, as the run that got two warnings before round 15
    venv = VecMonitor(DummyVecEnv([Corridor] * 4), str(root / "vecmonitor" / "train"))
    PPO("MlpPolicy", venv, n_steps=128, seed=0, tensorboard_log=str(root / "vecmonitor")).learn(20_480)
    # a script's own loop: Monitor(env, f"named/env_{i}") for each of 4 envs (a short run: only
    # its file names are looked at)
    named = root / "named"
    venv = DummyVecEnv([lambda i=i: Monitor(Corridor(), str(named / f"env_{i}")) for i in range(4)])
    PPO("MlpPolicy", venv, n_steps=128, seed=0, tensorboard_log=str(named)).learn(2_048)
    return root


@pytest.mark.slow
def test_a_solved_custom_env_raises_nothing_above_info(
    corridor_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = corridor_runs / "vecmonitor"
    assert main(["analyze", str(folder), "--format", "json", "--fail-on", "never"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["env"] is None and run["algo"] == "PPO"
    # solved: the running mean of the returns ends within a hair of the best possible 0.91
    (read,) = read_runs(folder)
    assert read.metrics["rollout/ep_rew_mean"].values[-1] > 0.9
    loud = [(f["rule"], f["message"]) for f in run["findings"] if f["severity"] in ("warning", "error")]
    assert loud == []


@pytest.mark.slow
def test_named_monitor_files_give_the_env_count_and_a_vecmonitor_does_not(corridor_runs: Path) -> None:
    (named,) = read_runs(corridor_runs / "named")
    assert named.hyperparams["n_envs"] == 4
    (vec,) = read_runs(corridor_runs / "vecmonitor")
    assert "monitor" in vec.sources and "n_envs" not in vec.hyperparams
