"""Episode returns recovered from SB3's running means (sb3doctor.episodes), on real runs.

Every off-policy run here has a monitor.csv beside its event file: the recovered batch means
are checked against the episodes it recorded, which the event file never saw.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sb3doctor.engine import evaluate
from sb3doctor.episodes import EpisodeBatches, episode_batches
from sb3doctor.model import Run, Series
from sb3doctor.ruleset import builtin_rules
from sb3doctor.sources import read_runs

ROOT = Path(__file__).resolve().parents[1]
BENCH_RUNS = ROOT / "bench" / "benchmark" / "runs"


def _event_run(folder: Path) -> Run:
    (run,) = read_runs(next(folder.glob("events.out.tfevents.*")))
    return run


def _batches(run: Run) -> EpisodeBatches | None:
    metrics = run.metrics
    return episode_batches(metrics["rollout/ep_rew_mean"], metrics.get("rollout/ep_len_mean"), run.algo)


def _monitor_episodes(folder: Path) -> tuple[list[int], list[float]]:
    """(step at which each episode ended, its return) from the folder's monitor.csv."""
    path = next(folder.glob("*monitor.csv"))
    with path.open(encoding="utf-8") as fh:
        fh.readline()  # the JSON header
        rows = list(csv.DictReader(fh))
    ends, total = [], 0
    for row in rows:
        total += int(row["l"])
        ends.append(total)
    return ends, [float(row["r"]) for row in rows]


@pytest.mark.parametrize(
    "folder",
    [
        ROOT / "fixtures" / "td3_pendulum" / "TD3_1",
        ROOT / "fixtures" / "sac_pendulum" / "SAC_1",
        ROOT / "fixtures" / "dqn_cartpole" / "DQN_1",
        BENCH_RUNS / "healthy-ddpg-pendulum-s1",
        BENCH_RUNS / "healthy-dqn-lunarlander-s1",  # variable lengths, past 100 episodes
    ],
    ids=lambda p: p.name if p.name != p.parent.name else p.parent.name,
)
def test_batch_means_match_the_monitor_episodes(folder: Path) -> None:
    run = _event_run(folder)
    batches = _batches(run)
    assert batches is not None
    ends, returns = _monitor_episodes(folder)
    previous = 0
    for step, mean in zip(batches.series.steps, batches.series.values, strict=True):
        added = [r for end, r in zip(ends, returns, strict=True) if previous < end <= step]
        assert len(added) == batches.per_point
        assert mean == pytest.approx(sum(added) / len(added), abs=0.05)
        previous = step
    assert len(batches.series) == len(run.metrics["rollout/ep_rew_mean"])


def test_past_a_hundred_episodes_the_running_mean_lags_and_the_batches_do_not() -> None:
    folder = BENCH_RUNS / "healthy-dqn-lunarlander-s1"
    run = _event_run(folder)
    batches = _batches(run)
    assert batches is not None
    ends, returns = _monitor_episodes(folder)
    assert len(returns) > 100
    last_step = batches.series.steps[-1]
    recent = [r for end, r in zip(ends, returns, strict=True) if end <= last_step][-20:]
    truth = sum(recent) / len(recent)
    recovered = sum(batches.series.values[-5:]) / 5
    rolling = run.metrics["rollout/ep_rew_mean"].values[-1]
    assert abs(recovered - truth) < 1.0
    assert abs(rolling - truth) > 50  # the 100-episode mean still holds the early crashes


@pytest.mark.parametrize(
    ("path", "why"),
    [
        (ROOT / "fixtures" / "td3_pendulum" / "TD3_1" / "stdout.log", "3 significant digits"),
        (ROOT / "fixtures" / "ppo_cartpole" / "PPO_1", "on-policy: tables end mid-episode"),
        (BENCH_RUNS / "reward_plateau-ars-pendulum-sb3-defaults-s3", "ARS: not monitor's episodes"),
    ],
)
def test_no_recovery_where_it_would_not_be_exact(path: Path, why: str) -> None:
    (run,) = read_runs(next(path.glob("events.out.tfevents.*")) if path.is_dir() else path)
    assert _batches(run) is None, why


def _sb3_tables(
    returns: list[float], lengths: list[int], log_interval: int, window: int = 100
) -> tuple[Series, Series]:
    """The running means SB3's off-policy loop logs: a table after every log_interval episodes,
    each the mean of the last ``window`` episodes, at the summed length of all of them."""
    steps, means, mean_lengths = [], [], []
    for n in range(log_interval, len(returns) + 1, log_interval):
        steps.append(sum(lengths[:n]))
        means.append(sum(returns[max(0, n - window) : n]) / min(n, window))
        mean_lengths.append(sum(lengths[max(0, n - window) : n]) / min(n, window))
    return Series.from_points(steps, means), Series.from_points(steps, mean_lengths)


def test_short_first_episodes_then_long_ones_are_recovered_past_the_window() -> None:
    # a CartPole-like run: 8 episodes of 20 steps, then 500-step ones; at 104 episodes the
    # running length's ratio (100.17) is neither past the window nor an integer
    lengths = [20] * 8 + [500] * 192
    returns = [float(10 + (i * 37) % 90) for i in range(200)]
    batches = episode_batches(*_sb3_tables(returns, lengths, 4), "DQN")
    assert batches is not None
    assert list(batches.series.values) == pytest.approx(
        [sum(returns[i : i + 4]) / 4 for i in range(0, 200, 4)], abs=1e-6
    )


def test_a_log_interval_that_does_not_divide_the_window_is_refused() -> None:
    # log_interval 3: past 100 episodes the window drops a third of a batch at a time, whose
    # returns a batch mean cannot tell; with episodes of one length no check would notice
    returns = [float((i * 53) % 200 - 1200) for i in range(150)]
    assert episode_batches(*_sb3_tables(returns, [200] * 150, 3), "TD3") is None
    assert episode_batches(*_sb3_tables(returns, [200] * 150, 5), "TD3") is not None


def test_counts_that_do_not_step_evenly_are_refused() -> None:
    # one table after 4 episodes, the next after 7 more: not one table every log_interval
    returns = Series.from_points([800, 2200, 3000], [-1200.0, -1100.0, -1000.0])
    lengths = Series.from_points([800, 2200, 3000], [200.0, 200.0, 200.0])
    assert episode_batches(returns, lengths, "TD3") is None


def test_a_stats_window_size_other_than_a_hundred_is_followed_when_given() -> None:
    # 4 episodes of 200 steps per table, the means over the last 8 episodes (stats_window_size=8)
    episode_returns = [-1200.0 + 10 * i for i in range(40)]
    steps, means, lens = [], [], []
    for table in range(1, 11):
        n = 4 * table
        last = episode_returns[max(0, n - 8) : n]
        steps.append(200 * n)
        means.append(sum(last) / len(last))
        lens.append(200.0)
    returns, lengths = Series.from_points(steps, means), Series.from_points(steps, lens)
    batches = episode_batches(returns, lengths, "TD3", window=8)
    assert batches is not None
    assert list(batches.series.values) == pytest.approx(
        [sum(episode_returns[i : i + 4]) / 4 for i in range(0, 40, 4)]
    )


def test_a_solved_ddpg_run_read_from_its_event_file_is_not_called_random_play() -> None:
    """The false verdict this module removes: with only the event file and --env, the
    100-episode mean of a run that solved Pendulum in its last 2,000 steps (-1011, over all 75
    of its episodes) read as "no better than random play"."""
    folder = BENCH_RUNS / "healthy-ddpg-pendulum-s1"
    run = _event_run(folder)
    run.hyperparams["env_id"] = "Pendulum-v1"  # what --env adds
    assert run.metrics["rollout/ep_rew_mean"].values[-1] < -1000
    findings = evaluate(run, builtin_rules())
    assert not [f.rule for f in findings if f.severity != "info"]
    _, returns = _monitor_episodes(folder)
    assert sum(returns[-8:]) / 8 > -200  # and it is solved: the monitor's last episodes
