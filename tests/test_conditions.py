"""Every condition kind on hand-built series: held / not held and the evidence numbers."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from sb3doctor.conditions import Context, evaluate, select, stat
from sb3doctor.model import Series

NAN = float("nan")


def ctx(metric: str = "m", hyperparams: dict | None = None, **series: list[float]) -> Context:
    """A context whose series are given as name=[values] (steps 1000, 2000, ...)."""
    metrics = {
        name.replace("__", "/"): Series.from_points([1000 * (i + 1) for i in range(len(v))], v)
        for name, v in series.items()
    }
    rng = None
    if metrics:
        rng = (min(s.steps[0] for s in metrics.values()), max(s.steps[-1] for s in metrics.values()))
    return Context(metrics, rng, hyperparams or {}, metric)


def test_select_windows() -> None:
    steps = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    values = [float(s) for s in steps]
    assert list(select(steps, values, {"last": 3}, (0, 100))[0]) == [80, 90, 100]
    assert list(select(steps, values, {"last": 50}, (0, 100))[0]) == steps  # more than there are
    assert list(select(steps, values, {"first": 2}, (0, 100))[0]) == [0, 10]
    assert list(select(steps, values, {"last_frac": 0.2}, (0, 100))[0]) == [80, 90, 100]
    assert list(select(steps, values, {"from_frac": 0.5}, (0, 100))[0]) == [50, 60, 70, 80, 90, 100]
    # fractions are of the run's range, not of the metric's own
    assert list(select(steps, values, {"last_frac": 0.5}, (0, 200))[0]) == [100]
    assert list(select(steps, values, "all", None)[0]) == steps


def test_stats() -> None:
    v = [1.0, -3.0, 2.0, 4.0]
    assert stat("last", v) == 4.0
    assert stat("mean", v) == 1.0
    assert stat("median", v) == 1.5
    assert stat("min", v) == -3.0
    assert stat("max", v) == 4.0
    assert stat("std", v) == pytest.approx(math.sqrt(6.5))
    assert stat("abs_median", v) == 2.5


def test_threshold_holds_with_evidence() -> None:
    cond = {"kind": "threshold", "stat": "median", "window": {"last": 3}, "op": ">", "value": 0.05}
    ev = evaluate(cond, ctx(m=[0.01, 0.02, 0.08, 0.09, 0.1]))
    assert ev.held
    assert ev.observed == 0.09
    assert ev.threshold == 0.05
    assert ev.n == 3
    assert ev.steps == (3000, 5000)
    assert ev.metric == "m"
    assert not evaluate(cond, ctx(m=[0.08, 0.09, 0.1, 0.01, 0.02])).held


def test_threshold_min_points_and_nan_skipped() -> None:
    cond = {"kind": "threshold", "stat": "max", "op": ">", "value": 1.0, "min_points": 3}
    assert not evaluate(cond, ctx(m=[5.0, 6.0])).held  # too few points
    ev = evaluate(cond, ctx(m=[NAN, 0.5, NAN, 0.7, 0.2]))
    assert not ev.held and ev.n == 3 and ev.observed == 0.7  # NaN ignored by statistics
    assert not evaluate(cond, ctx(other=[5.0, 5.0, 5.0])).held  # metric absent


def test_sustained_fraction_and_consecutive() -> None:
    frac = {"kind": "sustained", "op": "<", "value": 0.0, "fraction": 0.75}
    ev = evaluate(frac, ctx(m=[-1.0, -0.5, 0.2, -0.1]))
    assert ev.held and ev.observed == 0.75
    assert not evaluate(frac, ctx(m=[-1.0, 0.5, 0.2, -0.1])).held
    run = {"kind": "sustained", "op": ">", "value": 1.0, "consecutive": 3}
    ev = evaluate(run, ctx(m=[2.0, 0.0, 2.0, 3.0, 4.0, 0.0]))
    assert ev.held and ev.observed == 3 and ev.steps == (3000, 5000)
    assert not evaluate(run, ctx(m=[2.0, 2.0, 0.0, 3.0, 4.0, 0.0])).held


def test_trend_relative_change() -> None:
    cond = {"kind": "trend", "op": "<", "value": -0.5}
    ev = evaluate(cond, ctx(m=[10.0, 8.0, 6.0, 4.0, 2.0]))
    # slope -0.002/step over 4000 steps = -8, mean 6 -> -1.33
    assert ev.held and ev.observed == pytest.approx(-8 / 6)
    assert not evaluate(cond, ctx(m=[2.0, 4.0, 6.0, 8.0, 10.0])).held
    flat = evaluate({"kind": "trend", "op": ">", "value": 0.1, "scale": "range"}, ctx(m=[3.0, 3.0, 3.0]))
    assert flat.observed == 0.0 and not flat.held


def test_spike_latest_and_window() -> None:
    cond = {"kind": "spike", "factor": 5.0, "lookback": 4}
    ev = evaluate(cond, ctx(m=[1.0, 1.2, 0.9, 1.1, 10.0]))
    assert ev.held and ev.observed == pytest.approx(10.0 / 1.05)
    # by default only the latest point is judged
    assert not evaluate(cond, ctx(m=[1.0, 1.2, 0.9, 1.1, 10.0, 1.0])).held
    anywhere = dict(cond, window="all")
    ev = evaluate(anywhere, ctx(m=[1.0, 1.2, 0.9, 1.1, 10.0, 1.0]))
    assert ev.held and ev.steps == (1000, 5000)
    neg = {"kind": "spike", "factor": 5.0, "abs": True}
    assert evaluate(neg, ctx(m=[-1.0, -1.0, -1.0, -20.0])).held
    assert not evaluate({"kind": "spike", "factor": 5.0}, ctx(m=[-1.0, -1.0, -1.0, -20.0])).held


def test_drop_from_peak() -> None:
    cond = {"kind": "drop_from_peak", "op": ">", "value": 0.5, "window": {"last": 2}}
    ev = evaluate(cond, ctx(m=[0.0, 50.0, 100.0, 90.0, 20.0, 10.0]))
    assert ev.held and ev.observed == pytest.approx((100 - 15) / 100) and ev.steps == (3000, 6000)
    assert not evaluate(cond, ctx(m=[0.0, 50.0, 100.0, 90.0, 95.0, 96.0])).held
    # no rise at all: nothing to drop from
    assert not evaluate(cond, ctx(m=[5.0, 4.0, 3.0, 2.0])).held
    assert not evaluate(dict(cond, min_rise=200.0), ctx(m=[0.0, 100.0, 10.0, 10.0])).held


def test_plateau_below_best() -> None:
    cond = {"kind": "plateau", "value": 0.05, "window": {"last": 4}, "below_best": True}
    ev = evaluate(cond, ctx(m=[0.0, 100.0, 60.0, 60.5, 60.2, 60.1]))
    assert ev.held and ev.observed == pytest.approx(0.5 / 100)
    # still climbing
    assert not evaluate(cond, ctx(m=[0.0, 20.0, 40.0, 60.0, 80.0, 100.0])).held
    # flat at its best: a plateau, but not below the best
    assert not evaluate(cond, ctx(m=[0.0, 100.0, 100.0, 100.0, 100.0, 100.0])).held


def test_frozen_with_step_advance_times_value() -> None:
    cond = {"kind": "frozen", "min_points": 3, "min_step_advance_x": 20}
    # value 100 frozen over 5 points = 4000 steps >= 20 x 100
    ev = evaluate(cond, ctx(m=[90.0, 100.0, 100.0, 100.0, 100.0, 100.0]))
    assert ev.held and ev.observed == 4000 and ev.threshold == 2000 and ev.n == 5 and ev.steps == (2000, 6000)
    # frozen at 500 over 4000 steps < 20 x 500: could just be long episodes
    assert not evaluate(cond, ctx(m=[90.0, 500.0, 500.0, 500.0, 500.0, 500.0])).held
    assert not evaluate(cond, ctx(m=[1.0, 2.0, 3.0, 4.0])).held


def test_frozen_under_a_time_limit_needs_one_limit_per_env() -> None:
    from sb3doctor.reference import RunReference

    cond = {"kind": "frozen", "min_points": 3, "min_step_advance_x": 5, "min_step_advance_time_limit": 1}
    frozen = [20.0, 30.0, 30.0, 30.0, 30.0, 30.0]  # 4000 steps frozen, 5 x 30 = 150 needed
    c = ctx(hyperparams={"n_envs": 8}, m=frozen)
    c.reference = lambda: RunReference(env_id="CartPole-v1", time_limit=500)
    ev = evaluate(cond, c)  # 8 envs x 500 steps = 4000: just reached
    assert ev.held and ev.threshold == 4000
    c16 = ctx(hyperparams={"n_envs": 16}, m=frozen)
    c16.reference = c.reference
    assert not evaluate(cond, c16).held  # 16 envs may all still be inside one 500-step episode
    unknown = ctx(hyperparams={"n_envs": 16}, m=frozen)
    unknown.reference = lambda: RunReference()
    assert evaluate(cond, unknown).held  # no known limit: the mean-length test alone


def test_budget_planned_frac() -> None:
    cond = {"kind": "budget", "planned_frac": 0.5}
    series = [1.0] * 10  # steps 1000..10000
    ev = evaluate(cond, ctx(hyperparams={"planned_timesteps": 40_000}, m=series))
    assert not ev.held and ev.observed == 0.25
    assert evaluate(cond, ctx(hyperparams={"planned_timesteps": 20_000}, m=series)).held
    # the last step the logs show is no plan: total_timesteps recovered from them is ignored
    assert evaluate(cond, ctx(hyperparams={"total_timesteps": 40_000}, m=series)).held
    # no plan known: a finished run has used all of it ...
    assert evaluate(cond, ctx(m=series)).held
    # ... but one still training may be anywhere in it: rl-zoo's budget for the env stands in,
    # and without one the share is unknown (0) until the run has ended
    live = ctx(m=series)
    live.live = True
    ev = evaluate(cond, live)
    assert not ev.held and ev.observed == 0.0
    live.reference = lambda: SimpleNamespace(budget=15_000)
    assert evaluate(cond, live).held and evaluate(cond, live).observed == pytest.approx(10_000 / 15_000)


def test_budget_onset_factor() -> None:
    """Waits for factor x the slowest measured onset, counted from the first update."""
    from sb3doctor.reference import RunReference

    cond = {"kind": "budget", "onset_factor": 1.5}
    # an off-policy run: episodes from step 1000, first update at step 4000, last step 10000
    c = Context(
        {
            "episode/reward": Series.from_points([1000 * (i + 1) for i in range(10)], [1.0] * 10),
            "train/actor_loss": Series.from_points([1000 * (i + 4) for i in range(7)], [1.0] * 7),
        },
        (1000, 10_000),
        {},
        None,
        algo="TD3",
    )
    c.reference = lambda: RunReference(env_id="Pendulum-v1", onset=5000, onset_runs=6)
    ev = evaluate(cond, c)  # 6,000 steps since the first update < 1.5 x 5,000
    assert not ev.held and ev.observed == 6000 and ev.threshold == 7500
    assert ev.extra == {"onset": 5000, "onset_wait": 7500, "trained": 6000, "onset_runs": 6}
    c.reference = lambda: RunReference(env_id="Pendulum-v1", onset=4000, onset_runs=6)
    assert evaluate(cond, c).held  # 6,000 >= 1.5 x 4,000
    # never longer than rl-zoo trains that agent, never shorter than the onset itself
    c.reference = lambda: RunReference(env_id="Pendulum-v1", onset=5000, onset_runs=6, budget=10_000)
    assert evaluate(cond, c).threshold == 6000  # 10,000 - the first update at 4,000
    c.reference = lambda: RunReference(env_id="Pendulum-v1", onset=5000, onset_runs=6, budget=8000)
    assert evaluate(cond, c).threshold == 5000
    # a pair nobody measured: no extra wait
    c.reference = lambda: RunReference(env_id="Pendulum-v1")
    assert evaluate(cond, c).held
    assert evaluate(cond, ctx(m=[1.0] * 3)).held  # no reference at all


def test_budget_trained_steps() -> None:
    """Steps since the first update; an off-policy warm-up has none."""
    cond = {"kind": "budget", "trained_steps": 0}
    warmup = {
        "rollout/ep_rew_mean": Series.from_points([800, 1600, 2400], [-1300.0, -900.0, -1400.0]),
        "time/fps": Series.from_points([800, 1600, 2400], [300.0, 300.0, 300.0]),
    }
    ev = evaluate(cond, Context(warmup, (800, 2400), {}, None, algo="DDPG"))
    assert not ev.held and ev.observed is None
    trained = dict(warmup, **{"train/actor_loss": Series.from_points([1600, 2400], [-5.0, -6.0])})
    ev = evaluate(cond, Context(trained, (800, 2400), {}, None, algo="DDPG"))
    assert ev.held and ev.observed == 800
    longer = {"kind": "budget", "trained_steps": 1000}
    assert not evaluate(longer, Context(trained, (800, 2400), {}, None, algo="DDPG")).held
    # an on-policy run's logs without train/* were filtered: it trains from its first rollout
    assert evaluate(cond, Context(warmup, (800, 2400), {}, None, algo="A2C")).held
    # monitor.csv alone: no logger, the clock starts at the first episode
    episodes = {"episode/reward": Series.from_points([200, 400, 600], [-1.0, -2.0, -3.0])}
    assert evaluate(cond, Context(episodes, (200, 600), {}, None, algo="DDPG")).held


def test_missing_needs_a_present_witness() -> None:
    cond = {"kind": "missing", "metric": "rollout/ep_rew_mean", "present": "time/fps", "min_points": 3}
    ev = evaluate(cond, ctx(time__fps=[100.0, 110.0, 120.0]))
    assert ev.held and ev.observed == 3 and ev.steps == (1000, 3000)
    assert not evaluate(cond, ctx(time__fps=[100.0, 110.0, 120.0], rollout__ep_rew_mean=[1.0])).held
    assert not evaluate(cond, ctx(time__fps=[100.0])).held
    many = dict(cond, present=["time/total_timesteps", "time/fps"])
    assert evaluate(many, ctx(time__fps=[100.0, 110.0, 120.0])).held


def test_non_finite_glob() -> None:
    cond = {"kind": "non_finite", "metrics": ["train/*"]}
    ev = evaluate(cond, ctx(train__loss=[1.0, NAN, math.inf], train__value_loss=[1.0, 2.0], rollout__x=[NAN]))
    assert ev.held and ev.observed == 2 and ev.metric == "train/loss" and ev.steps == (2000, 3000)
    assert not evaluate(cond, ctx(train__loss=[1.0, 2.0], rollout__x=[NAN])).held


def test_ratio_to_bound_ln_n_actions_and_first() -> None:
    cond = {
        "kind": "ratio_to_bound",
        "stat": "median",
        "bound": "ln_n_actions",
        "negate": True,
        "op": "<",
        "value": 0.1,
        "window": {"last": 3},
    }
    # entropy_loss = -H; H = 0.05 vs ln 4 = 1.386
    ev = evaluate(cond, ctx(m=[-1.38, -0.5, -0.05, -0.05, -0.05], hyperparams={"n_actions": 4}))
    assert ev.held and ev.observed == pytest.approx(0.05 / math.log(4))
    assert not evaluate(cond, ctx(m=[-1.38, -1.2, -1.1, -1.0, -1.0], hyperparams={"n_actions": 4})).held
    # the bound is unknown: no verdict
    assert not evaluate(cond, ctx(m=[-1.38, -0.5, -0.05, -0.05, -0.05])).held
    first = {"kind": "ratio_to_bound", "stat": "last", "bound": "first", "op": "<", "value": 0.2}
    assert evaluate(first, ctx(m=[1.0, 0.5, 0.3, 0.1])).held


def test_counter_ratio() -> None:
    cond = {
        "kind": "counter_ratio",
        "metric": "train/n_updates",
        "of": "time/iterations",
        "stat": "median",
        "op": "<=",
        "value": 2,
    }
    # 10 epochs per iteration normally; early stopping after 1-2 epochs
    early = ctx(train__n_updates=[10.0, 12.0, 13.0, 15.0, 16.0], time__iterations=[1.0, 2.0, 3.0, 4.0, 5.0])
    ev = evaluate(cond, early)
    assert ev.held and ev.observed == pytest.approx(1.5) and ev.n == 4
    full = ctx(train__n_updates=[10.0, 20.0, 30.0, 40.0], time__iterations=[1.0, 2.0, 3.0, 4.0])
    assert not evaluate(cond, full).held


def test_step_gap_counts_the_samples_behind_each_update() -> None:
    cond = {
        "kind": "step_gap",
        "stat": "max",
        "window": {"first": 2},
        "op": "<",
        "value": 32,
        "min_points": 1,
    }
    tiny = Context({"m": Series.from_points([16, 24, 32, 40], [0.6, 0.2, 0.1, 0.2])}, (16, 40), {}, "m")
    ev = evaluate(cond, tiny)
    assert ev.held and ev.observed == 8 and ev.n == 1  # rl-zoo's PPO on MountainCarContinuous
    big = Context({"m": Series.from_points([4096, 6144, 8192], [0.6, 0.2, 0.1])}, (4096, 8192), {}, "m")
    assert evaluate(cond, big).observed == 2048 and not evaluate(cond, big).held
    one = Context({"m": Series.from_points([4096], [0.6])}, (4096, 4096), {}, "m")
    assert not evaluate(cond, one).held and evaluate(cond, one).observed is None  # no gap yet


def test_combinators() -> None:
    hi = {"kind": "threshold", "stat": "last", "op": ">", "value": 1.0, "min_points": 1}
    lo = {"kind": "threshold", "stat": "last", "op": "<", "value": 5.0, "min_points": 1}
    c = ctx(m=[3.0])
    assert evaluate({"all_of": [hi, lo]}, c).held
    assert evaluate({"kind": "all_of", "conditions": [hi, lo]}, c).held
    assert not evaluate({"all_of": [hi, dict(lo, value=2.0)]}, c).held
    assert evaluate({"any_of": [dict(hi, value=10.0), lo]}, c).held
    ev = evaluate({"not": dict(hi, value=10.0)}, c)
    assert ev.held and ev.observed == 3.0  # evidence from the inner condition
    # evidence of all_of comes from its first condition
    assert evaluate({"all_of": [hi, lo]}, c).threshold == 1.0


def test_unknown_kind_raises() -> None:
    with pytest.raises(ValueError, match="unknown condition kind"):
        evaluate({"kind": "bogus"}, ctx(m=[1.0]))


def test_training_clock_starts_at_the_first_update() -> None:
    """On-policy tables carry the updates made since the previous table; off-policy ones start
    after ``learning_starts`` of random play."""
    from sb3doctor.conditions import training_start

    def clock(algo: str, train_steps: list[int]) -> int | None:
        metrics = {
            "train/value_loss": Series.from_points(train_steps, [1.0] * len(train_steps)),
            "rollout/ep_rew_mean": Series.from_points([1024, *train_steps], [1.0] * (len(train_steps) + 1)),
        }
        return training_start(Context(metrics, (1024, train_steps[-1]), {}, None, algo=algo))

    # PPO (log_interval 1, 1024-step rollouts): the first table has no train/*, the second
    # carries the first update, made at step 1024
    assert clock("PPO", [2048, 3072, 4096]) == 1024
    # A2C (log_interval 100, 5-step rollouts): the first train/* point is the 100th update
    assert clock("A2C", [500, 1000, 1500]) == 0
    # DQN: the first update follows learning_starts steps of random play
    assert clock("DQN", [1105, 1321, 1702]) == 1105
    # one logged update: nothing to tell the table spacing by, the point itself
    assert clock("PPO", [2048]) == 2048


@pytest.mark.parametrize(
    ("fixture", "algo", "first_update"), [("a2c_cartpole", "A2C", 0), ("dqn_cartpole", "DQN", 1105)]
)
def test_training_clock_on_real_runs(fixture: str, algo: str, first_update: int) -> None:
    """rl-zoo's A2C on CartPole logs its first update at step 2,000 (50 updates of 40 samples
    in): the clock starts at 0; rl-zoo's DQN trains from step 1,000 on (learning_starts)."""
    from pathlib import Path

    from sb3doctor.conditions import training_start
    from sb3doctor.sources import read_runs

    (run,) = read_runs(Path(__file__).parent.parent / "fixtures" / fixture)
    assert run.algo == algo
    context = Context(run.metrics, run.step_range(), run.hyperparams, None, algo=run.algo)
    assert training_start(context) == first_update


def test_training_clock_survives_a_gap_in_the_log() -> None:
    """A gap after the first logged update (merged files, a logger paused) must not push the
    on-policy clock back to 0: it stays at the table written before that update at the latest."""
    from sb3doctor.conditions import training_start

    metrics = {
        "train/value_loss": Series.from_points([2048, 51200, 52224], [1.0, 1.0, 1.0]),
        "rollout/ep_rew_mean": Series.from_points([1024, 2048, 51200, 52224], [1.0] * 4),
    }
    assert training_start(Context(metrics, (1024, 52224), {}, None, algo="PPO")) == 1024


def test_step_gap_skips_repeated_steps_and_counts_nan_points() -> None:
    cond = dict(kind="step_gap", metric="train/explained_variance", stat="median", op="<", value=32)
    # two overlapping event files of one 8-sample run: every step twice, no gap of 0
    steps = [8, 8, 16, 16, 24, 24, 32, 32]
    dup = Context({"train/explained_variance": Series.from_points(steps, [0.1] * 8)}, (8, 32), {}, None)
    ev = evaluate(cond, dup)
    assert ev.held and ev.observed == 8
    # SB3 logs NaN when a rollout's returns do not vary: the point still marks an update
    nan = Context(
        {"train/explained_variance": Series.from_points([8, 16, 24, 32], [0.1, NAN, NAN, 0.2])},
        (8, 32),
        {},
        None,
    )
    assert evaluate(cond, nan).observed == 8
