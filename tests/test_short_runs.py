"""A finished run far shorter than its env needs (a smoke test of a few thousand steps) is too
short to judge a critic or a policy's entropy: rl-zoo's own healthy settings, stopped early and
read as finished runs, get no warning; RET-TOO-EARLY says the run is too short instead.

The runs are real trainings of the labelled benchmark (``bench/benchmark/runs``, dev split),
rl-zoo's tuned hyperparameters, which learned by the benchmark's protocol when run in full.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest

from sb3doctor.engine import evaluate
from sb3doctor.model import Run, Series
from sb3doctor.rules_path import builtin_rules_dir
from sb3doctor.ruleset import load_rules
from sb3doctor.sources import read_runs

RUNS = Path(__file__).resolve().parents[1] / "bench" / "benchmark" / "runs"


def finished_at(run_id: str, last_step: int) -> Run:
    """The benchmark run as if ``learn(total_timesteps=last_step)`` had been called: its logs up to
    that step, and the plan saying so."""
    src = RUNS / run_id
    if not src.is_dir():
        pytest.fail(f"benchmark run {src} missing: run bench/benchmark/make_runs.py")
    (run,) = read_runs(src)
    metrics = {}
    for name, s in run.metrics.items():
        keep = [i for i, st in enumerate(s.steps) if st <= last_step]
        if keep:
            metrics[name] = Series(
                array("q", (s.steps[i] for i in keep)),
                array("d", (s.values[i] for i in keep)),
                array("d", (s.wall_times[i] for i in keep)),
            )
    run.metrics = metrics
    run.hyperparams = {**run.hyperparams, "planned_timesteps": last_step, "n_timesteps": last_step}
    return run


@pytest.mark.parametrize(
    ("run_id", "last_step"),
    [
        # PPO on MountainCarContinuous (rl-zoo: 20,000 steps): its critic is worse than a
        # constant after 1,000 and 2,000 steps, as every critic is that early
        ("healthy-ppo-mountaincarcontinuous-s1", 1000),
        ("healthy-ppo-mountaincarcontinuous-s1", 2000),
        # PPO on CartPole (8 envs): the policy is still near uniform after 3,000 steps
        ("healthy-ppo-cartpole-s1", 3000),
    ],
)
def test_a_short_finished_run_of_healthy_settings_gets_no_warning(run_id: str, last_step: int) -> None:
    findings = evaluate(finished_at(run_id, last_step), load_rules([builtin_rules_dir()]))
    assert [f.rule for f in findings if f.severity in ("warning", "error")] == []


def test_only_the_length_keeps_the_critic_rule_quiet() -> None:
    # the full run (20,000 steps) learned and is quiet; cut at 2,000 steps its critic is still
    # worse than a constant, and VF-EV-NEGATIVE holds on everything but the run's length
    (run,) = read_runs(RUNS / "healthy-ppo-mountaincarcontinuous-s1")
    assert [f.rule for f in evaluate(run, load_rules([builtin_rules_dir()])) if f.severity != "info"] == []
    short = finished_at("healthy-ppo-mountaincarcontinuous-s1", 2000)
    rules = [r for r in load_rules([builtin_rules_dir()]) if r.id == "VF-EV-NEGATIVE"]
    # the critic's numbers are the same; only the budget condition keeps the rule quiet
    assert short.metrics["train/explained_variance"].values[-1] < 0
    assert evaluate(short, rules) == []
