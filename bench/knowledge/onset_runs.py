"""Train the runs that measure when rl-zoo's tuned agents first leave random play.

``RET-NOT-LEARNING`` says "no better than random play" once a run has had a quarter of the
fastest rl-zoo budget on its env. Some tuned agents are slower than that to leave random play:
rl-zoo's TD3 on Pendulum acts at random for its first 10,000 steps and then needs ~3,000 more
updates; DQN on CartPole sits at random play for 10,000-30,000 steps in some seeds. Those healthy
runs were warned mid-run. What the rule needs is how long each tuned (algorithm, env) pair takes
to leave random play, measured on runs of its own: this script trains them, and
``make_knowledge.py onsets`` turns their logs into ``sb3doctor/knowledge/onsets.csv``.

The seeds (101 on) are not any benchmark split's seeds (1-15), so the benchmark stays a fair
test of the rule that uses the numbers. Each run is a plain ``python -m rl_zoo3.train`` with the
zoo's hyperparameters (see ``bench/benchmark/make_runs.py``, whose trainer this reuses), kept
under ``bench/knowledge/onset_runs/<run_id>/``. Finished runs are skipped: re-run at will.

Usage::

    python bench/knowledge/onset_runs.py --jobs 2
    python bench/knowledge/onset_runs.py --list
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.benchmark import make_runs  # noqa: E402
from bench.benchmark.specs import RunSpec  # noqa: E402

OUT = ROOT / "bench" / "knowledge" / "onset_runs"

#: (algo, env, timesteps, seeds): rl-zoo's budget where a run of it takes minutes here; PPO on
#: LunarLander (zoo: 1M steps, no schedule) is cut at 150,000, where every tuned seed has left
#: random play. Only pairs whose agents were seen to leave random play late are measured. DQN on
#: CartPole and PPO on LunarLander have more seeds: the first three of DQN's onsets spread from
#: 4,000 to 29,000 steps, and the slowest seed is what the wait is made of.
PAIRS: tuple[tuple[str, str, int, int], ...] = (
    ("td3", "Pendulum-v1", 20_000, 6),
    ("dqn", "CartPole-v1", 50_000, 10),
    ("ppo", "LunarLander-v3", 150_000, 8),
    ("trpo", "MountainCar-v0", 100_000, 6),
    ("ddpg", "Pendulum-v1", 20_000, 4),
    ("qrdqn", "MountainCar-v0", 120_000, 3),
    ("dqn", "MountainCar-v0", 120_000, 6),
    ("ppo", "LunarLanderContinuous-v3", 300_000, 8),
)
FIRST_SEED = 101


def onset_specs() -> list[RunSpec]:
    """Every onset run, seed-major so that a partial set already covers every pair."""
    specs = []
    for i in range(max(n for *_, n in PAIRS)):
        for algo, env, steps, n in PAIRS:
            if i < n:
                short = env.split("-")[0].lower()
                seed = FIRST_SEED + i
                specs.append(RunSpec(f"onset-{algo}-{short}-s{seed}", algo, env, steps, seed=seed))
    return specs


def main() -> int:
    """Train the onset runs not yet trained (or list them)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1500.0, help="seconds per run")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    # The benchmark's trainer writes under its module-level folders: point them here.
    make_runs.RUNS, make_runs.META = OUT, OUT / "meta"
    specs = onset_specs()
    if args.list:
        for s in specs:
            print(f"{s.run_id:40s} {s.timesteps:>8,d} done={make_runs.is_done(s)}")
        return 0
    pending = [s for s in specs if not make_runs.is_done(s)]
    print(f"{len(specs) - len(pending)} of {len(specs)} onset runs done; training {len(pending)}", flush=True)
    make_runs.train_all(pending, args.jobs, args.timeout, width=40)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
