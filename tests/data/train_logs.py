"""Short real SB3 trainings whose console output the stdout tests parse.

    python tests/data/train_logs.py OUT ppo    # PPO CartPole + EvalCallback + target_kl, printed to stdout
    python tests/data/train_logs.py OUT others # A2C, DQN, SAC: OUT/<algo>.log + OUT/<algo>/progress.csv,
                                               # and OUT/chunked.log (A2C learn() in chunks)

Every run also writes progress.csv/progress.json through SB3's own logger, so the tests can
compare the 3-significant-digit stdout values with the full-precision ones.
"""

import contextlib
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym
import torch
from stable_baselines3 import A2C, DQN, PPO, SAC
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor

torch.set_num_threads(1)
out, which = sys.argv[1], sys.argv[2]
if which == "ppo":
    # lr and target_kl chosen so that "Early stopping at step ..." lines appear.
    model = PPO(
        "MlpPolicy",
        "CartPole-v1",
        n_steps=64,
        batch_size=32,
        n_epochs=4,
        learning_rate=3e-3,
        target_kl=0.002,
        verbose=1,
        seed=0,
    )
    model.set_logger(configure(os.path.join(out, "ppo"), ["stdout", "csv", "json"]))
    callback = EvalCallback(Monitor(gym.make("CartPole-v1")), eval_freq=100, n_eval_episodes=2, verbose=1)
    model.learn(256, callback=callback)
else:
    makers = {
        "a2c": (lambda: A2C("MlpPolicy", "CartPole-v1", n_steps=8, verbose=1, seed=0), 400, 10),
        "dqn": (lambda: DQN("MlpPolicy", "CartPole-v1", learning_starts=50, verbose=1, seed=0), 300, 4),
        "sac": (lambda: SAC("MlpPolicy", "Pendulum-v1", learning_starts=100, verbose=1, seed=0), 220, 1),
    }
    # Seed 004's loop: learn() in chunks with reset_num_timesteps=False and a TensorBoard
    # folder prints "Logging to <same folder>" before each chunk; it is still one run.
    with open(os.path.join(out, "chunked.log"), "w") as fh, contextlib.redirect_stdout(fh):
        model = A2C("MlpPolicy", "CartPole-v1", verbose=1, seed=0, tensorboard_log=os.path.join(out, "tb"))
        for _ in range(3):
            model.learn(100, reset_num_timesteps=False, log_interval=5)
    for name, (make, budget, log_interval) in makers.items():
        folder = os.path.join(out, name)
        with open(folder + ".log", "w") as fh, contextlib.redirect_stdout(fh):
            model = make()
            model.set_logger(configure(folder, ["stdout", "csv", "json"]))
            model.learn(budget, log_interval=log_interval)
