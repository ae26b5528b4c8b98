"""Env steps per second of the reference warehouse env, against gymnasium's toy-text and
classic-control peers (FrozenLake-v1, CliffWalking-v1, CartPole-v1).

Three levels are timed for each env, with the same pre-drawn random actions:

* ``raw``: ``env.unwrapped.step`` in a loop (the env's own cost)
* ``make``: the env from ``gymnasium.make`` with its default wrappers (order enforcing,
  passive checker, time limit), as a training script uses it
* ``vec``: SB3's ``DummyVecEnv`` of one ``Monitor``-wrapped env (what ``sb3doctor train``
  steps; auto-reset included)

Usage: ``python bench/bench_env.py [--steps N] [--repeat R]``. Prints steps/s (best of R)
and the ratio warehouse / peer at each level.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sb3doctor.envs  # noqa: F401  (registers the env)

ENVS = {
    "WarehouseRobot 6x6": ("sb3doctor/WarehouseRobot-v0", {}),
    "WarehouseRobot 10x10 proximity": (
        "sb3doctor/WarehouseRobot-v0",
        {"grid_rows": 10, "grid_cols": 10, "reward_mode": "proximity"},
    ),
    "FrozenLake-v1": ("FrozenLake-v1", {"is_slippery": False}),
    "CliffWalking-v1": ("CliffWalking-v1", {}),
    "CartPole-v1": ("CartPole-v1", {}),
}


def _time_steps(env: gym.Env, actions: np.ndarray) -> float:
    env.reset(seed=0)
    step, reset = env.step, env.reset
    acts = actions.tolist()
    t0 = time.perf_counter()
    for a in acts:
        _, _, terminated, truncated, _ = step(a)
        if terminated or truncated:
            reset()
    return len(acts) / (time.perf_counter() - t0)


def time_raw(env_id: str, kwargs: dict, actions: np.ndarray) -> float:
    """Steps/s of the bare env class, without gymnasium's wrappers."""
    return _time_steps(gym.make(env_id, **kwargs).unwrapped, actions)


def time_make(env_id: str, kwargs: dict, actions: np.ndarray) -> float:
    """Steps/s through gym.make's wrappers (TimeLimit, OrderEnforcing, PassiveEnvChecker)."""
    return _time_steps(gym.make(env_id, **kwargs), actions)


def time_vec(env_id: str, kwargs: dict, actions: np.ndarray) -> float:
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    venv = DummyVecEnv([lambda: Monitor(gym.make(env_id, **kwargs))])
    venv.seed(0)
    venv.reset()
    batched = actions.reshape(-1, 1)
    t0 = time.perf_counter()
    for a in batched:
        venv.step(a)
    return len(batched) / (time.perf_counter() - t0)


def best(fn: Callable[[str, dict, np.ndarray], float], repeat: int, *args: object) -> float:
    return max(fn(*args) for _ in range(repeat))  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    levels = {"raw": time_raw, "make": time_make, "vec": time_vec}
    results: dict[str, dict[str, float]] = {}
    for name, (env_id, kwargs) in ENVS.items():
        n_actions = gym.make(env_id, **kwargs).action_space.n  # type: ignore[attr-defined]
        actions = rng.integers(0, n_actions, size=args.steps)
        results[name] = {lvl: best(fn, args.repeat, env_id, kwargs, actions) for lvl, fn in levels.items()}
        row = "  ".join(f"{lvl} {sps / 1e3:8.1f}k/s" for lvl, sps in results[name].items())
        print(f"{name:<32} {row}", flush=True)

    ref = results["WarehouseRobot 6x6"]
    print("\nratio WarehouseRobot 6x6 / peer (>1: the warehouse env is faster)")
    for name in ("FrozenLake-v1", "CliffWalking-v1", "CartPole-v1"):
        row = "  ".join(f"{lvl} {ref[lvl] / results[name][lvl]:5.2f}x" for lvl in levels)
        print(f"  vs {name:<26} {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
