"""Overhead of ``DoctorCallback`` on PPO, A2C, DQN, SAC and TD3, side by side.

For each algorithm and each ``log_interval`` (SB3's default for the algorithm, and 1: a dump
per rollout or per episode, the worst case), each repetition trains the same model (seed 0,
torch 1 thread, CPU) twice, once with the callback and once without, in alternating order.
Two numbers are reported:

* ``in callback``: the time spent inside the callback's writers (recording the dump, the
  rules, the messages) as a share of the training time with the callback. Measured directly
  with ``perf_counter``, so it does not depend on the machine's other load; this is the
  number the target is about.
* ``wall``: with / without wall time, median of the paired repetitions. On a shared machine
  this ratio carries a few percent of noise either way, so it checks the first number rather
  than replacing it.

Targets: under 1 % at the default ``log_interval``, under 3 % at ``log_interval=1``.

Run: ``python bench/bench_callback.py [--reps 2] [--scale 1.0] [--algos PPO,DQN]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

torch.set_num_threads(1)

from stable_baselines3 import A2C, DQN, PPO, SAC, TD3  # noqa: E402

from sb3doctor.callbacks import DoctorCallback  # noqa: E402


@dataclass(frozen=True)
class Setup:
    """One algorithm's benchmark: env, constructor arguments, steps, SB3's default log_interval."""

    cls: Any
    env: str
    kwargs: dict[str, Any]
    steps: int
    default_log_interval: int


# Short runs (a few thousand steps) with SB3's defaults except where a default would spend the
# whole run warming up (off-policy learning_starts).
SETUPS: dict[str, Setup] = {
    "PPO": Setup(PPO, "CartPole-v1", {}, 8_192, 1),
    "A2C": Setup(A2C, "CartPole-v1", {}, 8_000, 100),
    "DQN": Setup(DQN, "CartPole-v1", {"learning_starts": 1_000}, 8_000, 4),
    "SAC": Setup(SAC, "Pendulum-v1", {"learning_starts": 200}, 1_600, 4),
    "TD3": Setup(TD3, "Pendulum-v1", {"learning_starts": 200}, 1_600, 4),
}


#: ``--every-dump`` sets this to 0: the rules then run at every dump (no throttling), for comparison.
MIN_EVAL_INTERVAL: float | None = None


def train(
    setup: Setup, steps: int, log_interval: int, with_doctor: bool
) -> tuple[float, DoctorCallback | None]:
    """Train once; the wall time of ``learn`` and the callback (None without it)."""
    model = setup.cls("MlpPolicy", setup.env, seed=0, verbose=0, device="cpu", **setup.kwargs)
    doctor = DoctorCallback(verbose=0, min_eval_interval=MIN_EVAL_INTERVAL) if with_doctor else None
    t0 = time.perf_counter()
    model.learn(steps, callback=doctor, log_interval=log_interval)
    return time.perf_counter() - t0, doctor


def measure(name: str, log_interval: int, reps: int, scale: float) -> dict[str, Any]:
    """Paired repetitions for one (algorithm, log_interval)."""
    setup = SETUPS[name]
    steps = max(500, int(setup.steps * scale))
    ratios, shares, dumps, evals = [], [], [], []
    for rep in range(reps):
        times: dict[bool, float] = {}
        for with_doctor in [False, True] if rep % 2 == 0 else [True, False]:
            wall, doctor = train(setup, steps, log_interval, with_doctor)
            times[with_doctor] = wall
            if doctor is not None:
                shares.append(doctor.callback_seconds / wall)
                dumps.append(doctor.dumps)
                evals.append(doctor.evaluations)
        ratios.append(times[True] / times[False])
    return {
        "algo": name,
        "log_interval": log_interval,
        "steps": steps,
        "dumps": int(statistics.median(dumps)),
        "evaluations": int(statistics.median(evals)),
        "share": statistics.median(shares),
        "wall": statistics.median(ratios) - 1.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=2, help="paired repetitions per row (default 2)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every run's steps (default 1)")
    ap.add_argument("--algos", default=",".join(SETUPS), help="comma-separated subset of " + ",".join(SETUPS))
    ap.add_argument(
        "--every-dump",
        action="store_true",
        help="evaluate the rules at every dump (no throttling), for comparison",
    )
    args = ap.parse_args()
    global MIN_EVAL_INTERVAL
    MIN_EVAL_INTERVAL = 0.0 if args.every_dump else None
    rows = []
    widths = (-5, 14, 6, 6, 6, 12, 8)  # negative: left-aligned
    header = ("algo", "log_interval", "steps", "dumps", "evals", "in callback", "wall")
    print(" ".join(h.ljust(-w) if w < 0 else h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for name in args.algos.split(","):
        setup = SETUPS[name]
        for log_interval, label in ((setup.default_log_interval, "default"), (1, "1")):
            if label == "1" and setup.default_log_interval == 1:
                continue  # PPO's default is already 1
            row = measure(name, log_interval, args.reps, args.scale)
            rows.append(row)
            shown = f"{log_interval} ({label})" if label == "default" else "1"
            print(
                f"{name:<5} {shown:>14} {row['steps']:>6} {row['dumps']:>6} {row['evaluations']:>6} "
                f"{row['share'] * 100:>11.2f}% {row['wall'] * 100:>+7.1f}%",
                flush=True,
            )
    worst_default = max(
        r["share"] for r in rows if r["log_interval"] == SETUPS[r["algo"]].default_log_interval
    )
    worst_one = max((r["share"] for r in rows if r["log_interval"] == 1), default=0.0)
    print(
        f"worst time in the callback: {worst_default * 100:.2f}% at the default log_interval (target < 1%), "
        f"{worst_one * 100:.2f}% at log_interval=1 (target < 3%)"
    )


if __name__ == "__main__":
    main()
