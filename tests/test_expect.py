"""Expectations: parsing, every statistic/window/operator, missing metrics, NaN, grouping
and aggregation across seeds (hand-built runs and the real fixture runs)."""

from __future__ import annotations

import csv
import json
import math
import shutil
import statistics
from pathlib import Path

import pytest

from sb3doctor.errors import ConfigError
from sb3doctor.expect import (
    AGGREGATES,
    CATEGORY,
    OPS,
    STATS,
    Window,
    evaluate_expectations,
    expectation_findings,
    group_key,
    group_runs,
    parse_expectation,
    parse_expectations,
)
from sb3doctor.model import Run, Series, SourceData
from sb3doctor.sources import build_run, read_runs

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"


def make_run(path: str, metrics: dict[str, tuple[list[int], list[float]]]) -> Run:
    """A run built the way the readers build one (SourceData -> build_run)."""
    src = SourceData("progress_csv", Path(path) / "progress.csv")
    for name, (steps, values) in metrics.items():
        src.metrics[name] = Series.from_points(steps, values)
    return build_run(Path(path), Path(path).name, [src])


def reward_run(path: str, values: list[float], step: int = 1000) -> Run:
    steps = [step * (i + 1) for i in range(len(values))]
    return make_run(
        path, {"rollout/ep_rew_mean": (steps, values), "train/approx_kl": (steps, [0.01] * len(values))}
    )


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "metric", "stat", "window", "op", "value"),
    [
        ("rollout/ep_rew_mean:last>=475", "rollout/ep_rew_mean", "last", None, ">=", 475.0),
        ("train/approx_kl:max<0.1", "train/approx_kl", "max", None, "<", 0.1),
        (
            "train/explained_variance:median@last20%>0.5",
            "train/explained_variance",
            "median",
            Window("last", 20, True),
            ">",
            0.5,
        ),
        (
            "train/value_loss:mean@last50<=2e3",
            "train/value_loss",
            "mean",
            Window("last", 50, False),
            "<=",
            2000.0,
        ),
        (
            "train/entropy_loss:first@first10%!=0",
            "train/entropy_loss",
            "first",
            Window("first", 10, True),
            "!=",
            0.0,
        ),
        ("  time/fps : min @ first5 == -1.5  ", "time/fps", "min", Window("first", 5, False), "==", -1.5),
        (
            "rollout/ep_len_mean:std@last2.5%<3",
            "rollout/ep_len_mean",
            "std",
            Window("last", 2.5, True),
            "<",
            3.0,
        ),
        ("rollout/ep_rew_mean:MEDIAN>1", "rollout/ep_rew_mean", "median", None, ">", 1.0),
        ("rollout/ep_rew_mean >= 475", "rollout/ep_rew_mean", "last", None, ">=", 475.0),
    ],
)
def test_parse_every_form(
    text: str, metric: str, stat: str, window: Window | None, op: str, value: float
) -> None:
    exp = parse_expectation(text)
    assert (exp.metric, exp.stat, exp.window, exp.op, exp.value) == (metric, stat, window, op, value)
    assert exp.text == text.strip()
    assert exp.rule_id == "EXPECT:" + text.strip()
    # The canonical spelling parses back to the same expectation.
    again = parse_expectation(exp.normalized)
    assert (again.metric, again.stat, again.window, again.op, again.value) == (
        metric,
        stat,
        window,
        op,
        value,
    )


def test_every_stat_and_op_parses() -> None:
    for stat in STATS:
        for op in OPS:
            exp = parse_expectation(f"m/x:{stat}{op}1")
            assert (exp.stat, exp.op) == (stat, op)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("rollout/ep_rew_mean", "no comparison"),
        ("rollout/ep_rew_mean last>=475 please", "no ':'"),
        ("rollout/ep_rew_mean:last", "no comparison"),
        ("rollout/ep_rew_mean:last>=", "no value"),
        ("rollout/ep_rew_mean:average>=475", "unknown statistic 'average'"),
        ("rollout/ep_rew_mean:last>=lots", "'lots' is not a number"),
        ("rollout/ep_rew_mean:last>=nan", "nan"),
        ("rollout/ep_rew_mean:median@middle20%>1", "bad window @middle20%"),
        ("rollout/ep_rew_mean:median@last0>1", "whole number of points"),
        ("rollout/ep_rew_mean:median@last2.5>1", "whole number of points"),
        ("rollout/ep_rew_mean:median@last150%>1", "percentage in (0, 100]"),
        ("rollout/ep_rew_mean:median@last0%>1", "percentage in (0, 100]"),
        ("a:b:last>1", "more than one ':'"),
        ("", "empty"),
    ],
)
def test_bad_expectations_name_the_string_and_the_problem(text: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_expectation(text)
    message = str(info.value)
    assert repr(text.strip()) in message
    assert reason in message


def test_parse_expectations_names_the_config_file() -> None:
    exps = parse_expectations(["a/b:last>1", "c/d:max<2"], source="sb3doctor.yaml")
    assert [e.metric for e in exps] == ["a/b", "c/d"]
    assert parse_expectations(None) == []
    assert [e.metric for e in parse_expectations("a/b:last>1")] == ["a/b"]
    with pytest.raises(ConfigError) as info:
        parse_expectations(["a/b:last>1", "oops"], source="sb3doctor.yaml")
    assert info.value.path == "sb3doctor.yaml"
    assert "'oops'" in info.value.message
    with pytest.raises(ConfigError):
        parse_expectations([123])  # type: ignore[list-item]


# --------------------------------------------------------------------------- one run

VALUES = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0, 7.0, 6.0, 9.0, 8.0]


@pytest.mark.parametrize(
    ("stat", "expected"),
    [
        ("last", VALUES[-1]),
        ("first", VALUES[0]),
        ("mean", sum(VALUES) / len(VALUES)),
        ("median", statistics.median(VALUES)),
        ("min", min(VALUES)),
        ("max", max(VALUES)),
        ("std", statistics.pstdev(VALUES)),
    ],
)
def test_each_statistic_over_the_whole_series(stat: str, expected: float) -> None:
    run = make_run("logs/PPO_1", {"m/x": ([100 * (i + 1) for i in range(len(VALUES))], VALUES)})
    (res,) = evaluate_expectations([run], [parse_expectation(f"m/x:{stat}>=-1e9")])
    assert res.passed
    assert res.observed == pytest.approx(expected)
    assert res.n == len(VALUES)
    assert res.steps == (100, 100 * len(VALUES))


def test_statistic_uses_step_order_not_logging_order() -> None:
    run = make_run("logs/PPO_1", {"m/x": ([300, 100, 200], [3.0, 1.0, 2.0])})
    (res,) = evaluate_expectations([run], [parse_expectation("m/x:last==3")])
    assert res.passed and res.observed == 3.0


def test_point_windows_take_the_last_or_first_points() -> None:
    steps = [100 * (i + 1) for i in range(len(VALUES))]
    run = make_run("logs/PPO_1", {"m/x": (steps, VALUES)})
    last3, first4, too_many = evaluate_expectations(
        [run], parse_expectations(["m/x:mean@last3>0", "m/x:max@first4>0", "m/x:mean@last500>0"])
    )
    assert last3.observed == pytest.approx(statistics.mean(VALUES[-3:]))
    assert last3.n == 3 and last3.steps == (steps[-3], steps[-1])
    assert first4.observed == max(VALUES[:4]) and first4.n == 4
    # A window longer than the series takes the whole series.
    assert too_many.n == len(VALUES)


def test_percent_windows_cover_a_fraction_of_the_runs_step_range() -> None:
    # The run spans steps 0..10000 (time/fps); train/loss starts late, at step 5000, so
    # "last 20%" is steps >= 8000 and "first 10%" (steps <= 1000) holds no loss point.
    fps_steps = list(range(0, 10001, 1000))
    loss_steps = list(range(5000, 10001, 1000))
    run = make_run(
        "logs/PPO_1",
        {"time/fps": (fps_steps, [100.0] * len(fps_steps)), "train/loss": (loss_steps, [6.0, 5, 4, 3, 2, 1])},
    )
    last20, first60, first10 = evaluate_expectations(
        [run],
        parse_expectations(
            ["train/loss:mean@last20%<10", "train/loss:max@first60%<10", "train/loss:min@first10%<10"]
        ),
    )
    assert last20.steps == (8000, 10000) and last20.observed == pytest.approx((3 + 2 + 1) / 3)
    assert first60.steps == (5000, 6000) and first60.observed == 6.0
    assert not first10.passed and first10.observed is None
    assert first10.finding is not None and "no point in the first 10% of the run" in first10.finding.message


@pytest.mark.parametrize(
    ("op", "value", "passes"),
    [
        (">=", 475, True),
        (">=", 475.0001, False),
        (">", 475, False),
        (">", 474.9, True),
        ("<=", 475, True),
        ("<", 475, False),
        ("==", 475, True),
        ("!=", 475, False),
        ("!=", 1, True),
    ],
)
def test_operators_at_the_boundary(op: str, value: float, passes: bool) -> None:
    run = reward_run("logs/PPO_1", [10.0, 200.0, 475.0])
    (res,) = evaluate_expectations([run], [parse_expectation(f"rollout/ep_rew_mean:last{op}{value}")])
    assert res.passed is passes
    assert (res.finding is None) is passes


def test_failed_expectation_is_an_error_finding_showing_observed_and_expected() -> None:
    run = reward_run("logs/PPO_1", [10.0, 150.0, 212.5])
    text = "rollout/ep_rew_mean:last>=475"
    (res,) = evaluate_expectations([run], [parse_expectation(text)])
    f = res.finding
    assert f is not None and not res.passed
    assert (f.rule, f.category, f.severity, f.metric) == (
        f"EXPECT:{text}",
        CATEGORY,
        "error",
        "rollout/ep_rew_mean",
    )
    assert f.observed == 212.5 and f.threshold == 475.0 and f.steps == (1000, 3000)
    assert "212.5" in f.message and ">= 475" in f.message
    assert expectation_findings([res]) == [(run, f)]
    assert res.run is run


def test_missing_metric_fails_and_suggests_the_close_name() -> None:
    run = reward_run("logs/PPO_1", [10.0, 500.0])
    (res,) = evaluate_expectations([run], [parse_expectation("rollout/ep_rew_men:last>=475")])
    assert not res.passed and res.observed is None
    assert res.finding is not None
    assert "not logged in PPO_1" in res.finding.message
    assert "did you mean rollout/ep_rew_mean?" in res.finding.message


def test_nan_never_passes() -> None:
    run = reward_run("logs/PPO_1", [10.0, 300.0, math.nan])
    last_ne, mean_lt, max_earlier = evaluate_expectations(
        [run],
        parse_expectations(
            [
                "rollout/ep_rew_mean:last!=0",
                "rollout/ep_rew_mean:mean<1e9",
                "rollout/ep_rew_mean:max@first2>0",
            ]
        ),
    )
    assert not last_ne.passed and last_ne.finding is not None and "nan" in last_ne.finding.message
    assert not mean_lt.passed
    assert max_earlier.passed and max_earlier.observed == 300.0  # the window excludes the NaN


# --------------------------------------------------------------------------- groups


def seeds(parent: str, finals: list[float]) -> list[Run]:
    return [reward_run(f"{parent}/PPO_{i}", [10.0, 100.0, v]) for i, v in enumerate(finals, start=1)]


def test_default_group_is_parent_folder_and_algorithm() -> None:
    runs = seeds("logs", [500, 490]) + seeds("other", [400])
    a2c = make_run(
        "logs/A2C_1", {"train/policy_loss": ([1, 2], [0.1, 0.2]), "rollout/ep_rew_mean": ([1, 2], [1, 2])}
    )
    assert a2c.algo == "A2C"
    groups = group_runs([*runs, a2c])
    assert {k: [r.name for r in v] for k, v in groups.items()} == {
        "logs/PPO": ["PPO_1", "PPO_2"],
        "other/PPO": ["PPO_1"],
        "logs/A2C": ["A2C_1"],
    }


def test_group_by_regex_capture_glob_and_non_matching() -> None:
    runs = [
        reward_run("sweep/lr3e-4_seed1", [1.0]),
        reward_run("sweep/lr3e-4_seed2", [1.0]),
        reward_run("sweep/lr1e-3_seed1", [1.0]),
        reward_run("sweep/baseline", [1.0]),
    ]
    by_regex = group_runs(runs, r"(lr[^_]+)_seed\d+")
    assert {k: len(v) for k, v in by_regex.items()} == {"lr3e-4": 2, "lr1e-3": 1, "baseline": 1}
    whole_match = group_runs(runs, r"lr3e-4")
    assert {k: len(v) for k, v in whole_match.items()} == {"lr3e-4": 2, "lr1e-3_seed1": 1, "baseline": 1}
    by_glob = group_runs(runs, "glob:lr*")
    assert {k: len(v) for k, v in by_glob.items()} == {"lr*": 3, "baseline": 1}
    # A pattern that only matches the path (the folder) groups by folder.
    assert group_key(runs[0], r"^sweep") == "sweep"
    with pytest.raises(ConfigError, match="bad --group-by pattern"):
        group_runs(runs, "lr(")


def test_one_unlucky_seed_fails_per_run_but_not_the_median() -> None:
    runs = seeds("logs", [500.0, 490.0, 120.0, 480.0, 500.0])
    exp = parse_expectation("rollout/ep_rew_mean:last>=475")
    per_run = evaluate_expectations(runs, [exp])
    assert [r.passed for r in per_run] == [True, True, False, True, True]

    (median,) = evaluate_expectations(runs, [exp], aggregate="median")
    assert median.passed and median.finding is None and median.run is None
    assert median.subject == "logs/PPO" and len(median.runs) == 5
    assert median.observed == statistics.median([500.0, 490.0, 120.0, 480.0, 500.0])
    assert median.per_run == {"PPO_1": 500.0, "PPO_2": 490.0, "PPO_3": 120.0, "PPO_4": 480.0, "PPO_5": 500.0}
    assert median.spread() == (120.0, 490.0, 500.0)

    (worst,) = evaluate_expectations(runs, [exp], aggregate="min")
    assert not worst.passed and worst.observed == 120.0
    assert worst.finding is not None
    msg = worst.finding.message
    assert "min across 5 runs of logs/PPO" in msg and "expected >= 475" in msg
    assert "spread min 120 / median 490 / max 500" in msg and "PPO_3 120" in msg
    assert expectation_findings([worst]) == [(None, worst.finding)]

    (mean,) = evaluate_expectations(runs, [exp], aggregate="mean")
    assert mean.observed == pytest.approx(statistics.mean([500.0, 490.0, 120.0, 480.0, 500.0]))
    assert not mean.passed
    (best,) = evaluate_expectations(runs, [exp], aggregate="max")
    assert best.passed and best.observed == 500.0


def test_groups_are_gated_separately() -> None:
    runs = seeds("good", [500.0, 490.0, 495.0]) + seeds("bad", [100.0, 480.0, 90.0])
    results = evaluate_expectations(
        runs, [parse_expectation("rollout/ep_rew_mean:last>=475")], aggregate="median"
    )
    assert {r.subject: r.passed for r in results} == {"good/PPO": True, "bad/PPO": False}


def test_a_run_missing_the_metric_fails_its_group_and_is_named() -> None:
    runs = seeds("logs", [500.0, 500.0])
    runs.append(make_run("logs/PPO_3", {"train/approx_kl": ([1000, 2000], [0.01, 0.02])}))
    assert runs[-1].algo == "PPO"
    (res,) = evaluate_expectations(
        runs, [parse_expectation("rollout/ep_rew_mean:last>=475")], aggregate="median"
    )
    assert not res.passed and res.per_run["PPO_3"] is None
    assert (
        res.finding is not None
        and "1 of 3 runs" in res.finding.message
        and "PPO_3 (not logged)" in res.finding.message
    )


def test_unknown_aggregate_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown aggregate 'avg'"):
        evaluate_expectations([], [], aggregate="avg")
    assert set(AGGREGATES) == {"median", "min", "mean", "max"}


# --------------------------------------------------------------------------- real runs


def _csv_column(path: Path, column: str) -> list[tuple[int, float]]:
    """(total_timesteps, value) pairs of one progress.csv column, read independently."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [(int(r["time/total_timesteps"]), float(r[column])) for r in rows if r.get(column)]


def test_real_run_statistics_match_an_independent_read_of_progress_csv() -> None:
    run_dir = FIXTURES / "ppo_cartpole" / "PPO_1"
    (run,) = read_runs(run_dir)
    points = _csv_column(run_dir / "progress.csv", "rollout/ep_rew_mean")
    values = [v for _, v in points]
    assert len(values) > 20
    last, best, med, first = evaluate_expectations(
        [run],
        parse_expectations(
            [
                "rollout/ep_rew_mean:last>=0",
                "rollout/ep_rew_mean:max>=0",
                "rollout/ep_rew_mean:median@last20>=0",
                "rollout/ep_rew_mean:mean@first10>=0",
            ]
        ),
    )
    # TensorBoard stores float32: compare at that precision.
    assert last.observed == pytest.approx(values[-1], rel=1e-6)
    assert best.observed == pytest.approx(max(values), rel=1e-6)
    assert med.observed == pytest.approx(statistics.median(values[-20:]), rel=1e-6)
    assert first.observed == pytest.approx(statistics.mean(values[:10]), rel=1e-6)
    assert last.steps is not None and last.steps[1] == points[-1][0]


SEEDS = FIXTURES / "ppo_seeds"


def test_real_multi_seed_runs_aggregate() -> None:
    runs = read_runs(SEEDS)
    assert len(runs) >= 3 and {r.algo for r in runs} == {"PPO"}
    finals = {
        r.name: _csv_column(r.path / "progress.csv", "rollout/ep_rew_mean")[-1][1]
        for r in runs
        if (r.path / "progress.csv").exists()
    }
    assert len(finals) == len(runs)
    lo, mid, hi = min(finals.values()), statistics.median(finals.values()), max(finals.values())
    assert lo < hi, "the seeds should not end identically"

    # A threshold above the worst seed but below the median (or, if the two lowest seeds
    # tie, below the best): the median (max) gate passes, the min gate fails, and checked
    # run by run exactly the seeds under the threshold fail.
    lenient = "median" if lo < mid else "max"
    threshold = (lo + (mid if lo < mid else hi)) / 2
    exp = parse_expectation(f"rollout/ep_rew_mean:last>={threshold!r}")
    (passing,) = evaluate_expectations(runs, [exp], aggregate=lenient)
    (worst,) = evaluate_expectations(runs, [exp], aggregate="min")
    assert passing.subject.endswith("ppo_seeds/PPO") and len(passing.runs) == len(runs)
    assert passing.observed == pytest.approx(mid if lenient == "median" else hi, rel=1e-6)
    assert passing.passed and passing.finding is None
    assert worst.observed == pytest.approx(lo, rel=1e-6) and not worst.passed
    assert worst.finding is not None and worst.finding.category == CATEGORY
    assert worst.spread() == pytest.approx((lo, mid, hi), rel=1e-6)
    per_run = evaluate_expectations(runs, [exp])
    assert {r.subject for r in per_run if not r.passed} == {n for n, v in finals.items() if v < threshold}


def test_same_named_seeds_are_not_lost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """seed1/PPO_1 .. seed3/PPO_1: SB3 names the first run of every folder PPO_1. A failing seed
    must fail a gate on the worst seed, whether the seeds are given one by one or as their parent."""
    from sb3doctor.cli import main

    src = Path(__file__).resolve().parents[1] / "fixtures"
    for seed, run in (
        ("seed1", "ppo_seeds/PPO_1"),
        ("seed2", "ppo_seeds/PPO_2"),
        ("seed3", "ppo_lr_high/PPO_1"),
    ):
        shutil.copytree(src / run, tmp_path / "runs" / seed / "PPO_1")
    paths = [str(tmp_path / "runs" / s / "PPO_1") for s in ("seed1", "seed2", "seed3")]
    for args in (paths, [str(tmp_path / "runs")]):
        code = main(["analyze", *args, "--format", "json", "--fail-on", "never", "--aggregate", "max",
                     "--expect", "train/approx_kl:max<0.5"])  # fmt: skip
        doc = json.loads(capsys.readouterr().out)
        names = sorted(r["name"] for r in doc["runs"])
        assert len(set(names)) == 3 and all(n.endswith("/PPO_1") for n in names), names
        (group,) = doc["expectations"]
        assert group["passed"] is False and len(group["runs"]) == 3 and len(group["per_run"]) == 3, group
        assert code == 0  # --fail-on never


def test_default_groups_keep_differently_named_configurations_apart() -> None:
    """fixtures/presets/healthy and fixtures/presets/lr-too-high are two configurations of one
    algorithm, not two seeds of one; numbered runs and named seeds are grouped."""
    runs = [
        reward_run("presets/healthy", [1.0]),
        reward_run("presets/lr-too-high", [1.0]),
        reward_run("zoo/ppo/CartPole-v1_1", [1.0]),
        reward_run("zoo/ppo/CartPole-v1_2", [1.0]),
        reward_run("sweep/lr3e-4_seed1", [1.0]),
        reward_run("sweep/lr3e-4_seed2", [1.0]),
    ]
    groups = group_runs(runs)
    assert {k: len(v) for k, v in groups.items()} == {
        "presets/healthy": 1,
        "presets/lr-too-high": 1,
        "zoo/ppo/CartPole-v1": 2,
        "sweep/lr3e-4": 2,
    }
