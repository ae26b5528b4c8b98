"""Overhead of ``DoctorCallback`` on CartPole PPO: training time with and without it.

Each repetition trains the same PPO CartPole-v1 model (seed 0, torch 1 thread) twice, once
with the callback and once without, in alternating order; the ratio of the two wall times is
taken per repetition (paired) and the median reported. The callback's own time in the rules
(``eval_seconds``) is measured directly as well: on a busy machine the paired ratio is noisy,
while the in-callback time is exact. Target: under 1 % of training time.

Run: ``python bench/bench_callback.py [--timesteps 20000] [--reps 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

torch.set_num_threads(1)

from stable_baselines3 import PPO  # noqa: E402

from sb3doctor.callbacks import DoctorCallback  # noqa: E402


def train(timesteps: int, with_doctor: bool) -> tuple[float, DoctorCallback | None]:
    model = PPO("MlpPolicy", "CartPole-v1", seed=0, verbose=0, device="cpu")
    doctor = DoctorCallback(verbose=0) if with_doctor else None
    t0 = time.perf_counter()
    model.learn(timesteps, callback=doctor)
    return time.perf_counter() - t0, doctor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timesteps", type=int, default=20_480)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    ratios, shares, per_dump = [], [], []
    for rep in range(args.reps):
        order = [False, True] if rep % 2 == 0 else [True, False]
        times: dict[bool, float] = {}
        for with_doctor in order:
            wall, doctor = train(args.timesteps, with_doctor)
            times[with_doctor] = wall
            if doctor is not None:
                shares.append(doctor.eval_seconds / wall)
                per_dump.append(doctor.eval_seconds / max(1, doctor.dumps))
        ratios.append(times[True] / times[False])
        print(
            json.dumps(
                {
                    "rep": rep,
                    "without_s": round(times[False], 3),
                    "with_s": round(times[True], 3),
                    "ratio": round(ratios[-1], 4),
                    "rules_share": round(shares[-1], 5),
                    "rules_ms_per_dump": round(per_dump[-1] * 1e3, 3),
                }
            )
        )
    print(
        f"PPO CartPole {args.timesteps} steps, {args.reps} paired reps: with/without = "
        f"{statistics.median(ratios):.3f}x (median); time in the rules = "
        f"{statistics.median(shares) * 100:.2f} % of training, "
        f"{statistics.median(per_dump) * 1e3:.2f} ms per dump (target < 1 %)"
    )


if __name__ == "__main__":
    main()
