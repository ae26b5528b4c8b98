"""Runs that left nothing but a TensorBoard event file (``PPO(..., tensorboard_log=...)`` with
no Monitor file and no config): the env is unknown and the returns are SB3's 100-episode
``rollout/ep_rew_mean``, one point per table. Replayed through ``watch`` as they were written.

The healthy runs are rl-zoo's own settings from the labelled benchmark (``bench/benchmark``),
which learned by the benchmark's protocol. Before round 6 both raised warnings here: a freeze of
the episode statistics that thawed again (8 envs, episodes getting longer) was called "no episode
is ending", and a critic at explained_variance 0 on LunarLander was called broken because the
last fifth of a 10-table run had too few points to show that the returns rose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# the watched-folder replay of test_live_replay (pytest puts this folder on sys.path)
from test_live_replay import raised_above_info, replay

from sb3doctor.conditions import Context, evaluate
from sb3doctor.model import Series


@pytest.mark.parametrize(
    "run_id",
    [
        # rl-zoo PPO on CartPole (8 envs): ep_len_mean sits at 121.04 for 7 tables (1,536 steps,
        # under one episode per env) while the policy gets better, then moves on
        "healthy-ppo-cartpole-s3",
        # rl-zoo PPO on LunarLander (16 envs x 1024 steps, gamma 0.999): explained_variance
        # within 0.003 of 0 for all 10 tables while ep_rew_mean climbs from -150 to -50
        "healthy-ppo-lunarlander-s5",
    ],
)
def test_a_healthy_event_file_raises_nothing_above_info(run_id: str, tmp_path: Path) -> None:
    seen = replay(run_id, tmp_path, with_monitors=False)
    loud = raised_above_info(seen)
    assert loud == []


def test_episodes_that_never_end_still_warn_from_the_event_file_alone(tmp_path: Path) -> None:
    # The warehouse grid without a time limit (seed 004's bug): the statistics freeze for good.
    seen = replay("episode_stats_frozen-a2c-warehouse-notl-s2", tmp_path, with_monitors=False)
    raised = raised_above_info(seen)
    assert raised and raised[0][0] <= 0.5


def _rolling(values: list[float], **hyperparams: object) -> Context:
    steps = [16384 * (i + 1) for i in range(len(values))]
    metrics = {"rollout/ep_rew_mean": Series.from_points(steps, values)}
    return Context(metrics, (steps[0], steps[-1]), dict(hyperparams), "rollout/ep_rew_mean")


def test_a_rise_of_the_rolling_mean_counts_even_with_few_tables() -> None:
    # 10 tables: the last fifth holds 2, fewer than the 5 a window of episodes needs; the last
    # 5 tables (each already a mean of 100 episodes) are taken instead.
    rose = {"kind": "return_level", "measure": "effect", "bound": "lower", "window": {"last_frac": 0.2},
            "op": ">=", "value": 1.0, "min_points": 5, "without_reference": True}  # fmt: skip
    climbing = [-170, -142, -134, -125, -109, -91, -78, -49, -37, -39]
    ev = evaluate(rose, _rolling(climbing))
    assert ev.held and ev.n == 5 and ev.observed > 1.0
    flat = [-170, -142, -160, -151, -139, -165, -148, -158, -143, -161]
    ev = evaluate(rose, _rolling(flat))
    assert ev.observed is not None and not ev.held
    # with fewer tables than the window needs in all, nothing is judged
    assert evaluate(rose, _rolling(climbing[:4])).observed is None


def test_a_frozen_stretch_counts_as_trailing_only_while_it_lasts() -> None:
    frozen_now = {"kind": "frozen", "min_points": 5, "trailing": True}
    thawed = [10.0, 12.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 18.0, 21.0]
    stuck = [10.0, 12.0, 15.0, 18.0, 21.0, 21.0, 21.0, 21.0, 21.0, 21.0]
    metrics = {"m": Series.from_points(list(range(1000, 11000, 1000)), thawed)}
    assert not evaluate(frozen_now, Context(metrics, (1000, 10000), {}, "m")).held
    assert evaluate({"kind": "frozen", "min_points": 5}, Context(metrics, (1000, 10000), {}, "m")).held
    metrics = {"m": Series.from_points(list(range(1000, 11000, 1000)), stuck)}
    ev = evaluate(frozen_now, Context(metrics, (1000, 10000), {}, "m"))
    assert ev.held and ev.steps == (5000, 10000)


def test_the_running_mean_is_judged_as_of_the_episodes_it_averages() -> None:
    """SB3's ep_rew_mean averages the last 100 episodes: at step t, with episodes of L steps, it
    describes the run about 50 x L steps earlier (t / 2 while fewer than 100 have ended)."""
    from sb3doctor.conditions import returns_as_of

    steps = [4096 * (i + 1) for i in range(10)]
    rolling = Series.from_points(steps, [-500.0] * 10)
    lengths = Series.from_points(steps, [460.0] * 10)
    metrics = {"rollout/ep_rew_mean": rolling, "rollout/ep_len_mean": lengths}
    ctx = Context(metrics, (0, 40960), {}, "rollout/ep_rew_mean", algo="PPO")
    assert returns_as_of(ctx) == 20480  # 100 x 460 > 40,960 steps: every episode so far
    short = {**metrics, "rollout/ep_len_mean": Series.from_points(steps, [100.0] * 10)}
    assert returns_as_of(Context(short, (0, 40960), {}, "rollout/ep_rew_mean", algo="PPO")) == 35960
    # a planned quarter counted to that step: not reached at 27% of a 150k-step plan
    wait = {"kind": "budget", "planned_frac": 0.25}
    hp = {"planned_timesteps": 150_000}
    ctx = Context(metrics, (0, 40960), hp, "rollout/ep_rew_mean", algo="PPO")
    assert evaluate(wait, ctx).held
    ev = evaluate({**wait, "as_of": "returns"}, ctx)
    assert not ev.held and ev.observed == pytest.approx(20480 / 150_000)
    # episodes read one by one (monitor.csv) are as recent as the run
    episodes = {"episode/reward": Series.from_points(steps, [-500.0] * 10), **metrics}
    assert returns_as_of(Context(episodes, (0, 40960), hp, "rollout/ep_rew_mean", algo="PPO")) == 40960
    assert evaluate({**wait, "as_of": "returns"}, Context(episodes, (0, 40960), hp, algo="PPO")).held


@pytest.mark.parametrize(
    ("run_id", "env_id"),
    [
        # rl-zoo PPO on Acrobot (16 envs x 256 steps): at a quarter of its 150k steps the
        # running mean (-460) still averages every episode so far, random ones included, where
        # monitor.csv's latest are at -245; it is judged as of the middle of those episodes
        # (it was called "no better than random play" at 25%)
        ("healthy-ppo-acrobot-s4", "Acrobot-v1"),
        # rl-zoo PPO on LunarLander (16 x 1024 steps, gamma 0.999): returns near random play for
        # up to ~60,000 steps and a critic at EV ~0 for ~150,000 in rl-zoo's own seeds. The
        # spacing of its tables shows rl-zoo's settings, so both measured onsets are waited for
        # (it was warned "no better than random play" at half-way, its critic at ~70%)
        ("healthy-ppo-lunarlander-s12", "LunarLander-v3"),
        ("healthy-ppo-lunarlander-s4", "LunarLander-v3"),
    ],
)
def test_a_tuned_ppo_watched_from_its_event_file_raises_nothing_above_info(
    run_id: str, env_id: str, tmp_path: Path
) -> None:
    # what `watch --env ENV --total-timesteps 150000` states (the runs planned 150,000 steps)
    given = {"env_id": env_id, "planned_timesteps": 150_000}
    seen = replay(run_id, tmp_path, with_monitors=False, given=given)
    loud = raised_above_info(seen)
    assert loud == []
    # ... and it says why it waits: "too early to judge" at info level
    assert any(s[2].startswith("RET-TOO-EARLY") for s in seen), seen
