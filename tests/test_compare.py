"""``sb3doctor compare`` on real SB3 runs from the benchmark (bench/benchmark/runs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sb3doctor.cli import main
from sb3doctor.report import compare as cmp
from sb3doctor.report.data import final_performance
from sb3doctor.sources import read_runs

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "bench" / "benchmark" / "runs"
FIXTURES = ROOT / "fixtures"

#: Healthy runs with a second seed of the same configuration (rl-zoo's tuned hyperparameters).
PAIRED = [
    "healthy-a2c-cartpole",
    "healthy-dqn-acrobot",
    "healthy-dqn-cartpole",
    "healthy-ppo-acrobot",
    "healthy-ppo-cartpole",
    "healthy-ppo-invertedpendulum",
    "healthy-qrdqn-cartpole",
    "healthy-sac-pendulum",
    "healthy-td3-pendulum",
    "healthy-trpo-cartpole",
]


def _group(tmp: Path, name: str, runs: list[str]) -> Path:
    """A folder of seeds: copies of benchmark runs."""
    folder = tmp / name
    folder.mkdir()
    for run in runs:
        shutil.copytree(RUNS / run, folder / run)
    return folder


@pytest.fixture(scope="module")
def cartpole_groups(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """PPO on CartPole-v1 with rl-zoo's hyperparameters, 2 seeds, and with learning rate 1e-6, 2 seeds."""
    tmp = tmp_path_factory.mktemp("compare")
    good = _group(tmp, "ppo-zoo", ["healthy-ppo-cartpole-s1", "healthy-ppo-cartpole-s2"])
    bad = _group(
        tmp,
        "ppo-lr1e-6",
        ["updates_too_small-ppo-cartpole-lr1e-6", "updates_too_small-ppo-cartpole-lr1e-6-s2"],
    )
    return good, bad


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["compare", *args, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_final_performance_is_the_mean_of_the_last_tenth_of_episodes() -> None:
    run = read_runs(RUNS / "healthy-ppo-cartpole-s1")[0]
    value, metric = final_performance(run)
    episodes = list(run.metrics["episode/reward"].sorted().values)
    k = -(-len(episodes) // 10)  # ceil: 275 episodes -> the last 28
    assert metric == "episode/reward"
    assert value == pytest.approx(sum(episodes[-k:]) / k)
    # No Monitor file: the last 10% of the logged rollout/ep_rew_mean points.
    run = read_runs(FIXTURES / "stdout" / "seed004_a2c.log")[0]
    value, metric = final_performance(run)
    ep = list(run.metrics["rollout/ep_rew_mean"].sorted().values)
    k = max(1, -(-len(ep) // 10))
    assert metric == "rollout/ep_rew_mean"
    assert value == pytest.approx(sum(ep[-k:]) / k)


def test_the_better_group_is_reported_with_a_ci_excluding_zero(
    cartpole_groups: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = cartpole_groups
    code, doc = _json(capsys, str(bad), str(good))
    assert code == 0
    base, other = doc["groups"]
    assert base["verdict"] is None and other["verdict"] == "better"
    assert len(other["runs"]) == 2
    low, high = other["difference_iqm_ci"]
    assert 0 < low <= high  # the interval of IQM(good) - IQM(bad) excludes 0
    assert other["difference_mean_ci"][0] > 0
    assert other["probability_of_improvement"] == 1.0
    assert other["iqm"]["value"] > 400 > 100 > base["iqm"]["value"]
    # Each group's diagnosis: the too-small learning rate is named on both of its seeds.
    assert {"rule": "LR-FAR-BELOW-REFERENCE", "severity": "warning", "runs": 2} in base["diagnosis"]
    assert other["diagnosis"] == []


def test_fail_if_worse_gates_a_regression(
    cartpole_groups: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = cartpole_groups
    assert main(["compare", str(good), str(bad), "--fail-if-worse"]) == 1
    captured = capsys.readouterr()
    assert "worse" in captured.out
    assert "worse than" in captured.err and "95% confidence" in captured.err
    # Without the flag the table is the same and the exit code 0.
    assert main(["compare", str(good), str(bad)]) == 0
    # B better than A is no failure.
    assert main(["compare", str(bad), str(good), "--fail-if-worse"]) == 0


def test_two_groups_of_the_same_configs_report_no_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _group(tmp_path, "seed1", [f"{name}-s1" for name in PAIRED])
    second = _group(tmp_path, "seed2", [f"{name}-s2" for name in PAIRED])
    code, doc = _json(capsys, str(first), str(second), "--fail-if-worse")
    assert code == 0
    other = doc["groups"][1]
    assert other["verdict"] == "no difference"
    for key in ("difference_iqm_ci", "difference_mean_ci"):
        low, high = other[key]
        assert low < 0 < high
    low, high = other["probability_of_improvement_ci"]
    assert low < 0.5 < high


def test_overlapping_seed_groups_of_one_config_report_no_difference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # fixtures/ppo_seeds: three seeds of one configuration; a glob pattern is one group.
    seeds = FIXTURES / "ppo_seeds"
    code, doc = _json(capsys, str(seeds / "PPO_[12]"), str(seeds / "PPO_[23]"))
    assert code == 0
    assert [len(g["runs"]) for g in doc["groups"]] == [2, 2]
    assert doc["groups"][1]["verdict"] == "no difference"


def test_a_single_run_per_group_gets_no_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "compare",
            str(RUNS / "healthy-ppo-cartpole-s1"),
            str(RUNS / "updates_too_small-ppo-cartpole-lr1e-6"),
            "--fail-if-worse",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0  # one seed each: no claim at 95% confidence, so the gate does not fail
    assert "too few runs" in captured.out
    assert "needs 2+ runs" in captured.err or "2+ runs" in captured.err


def test_markdown_and_terminal_tables(
    cartpole_groups: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = cartpole_groups
    assert main(["compare", str(good), str(bad), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    lines = [ln for ln in md.splitlines() if ln.startswith("|")]
    assert len(lines) == 4  # header, rule, two groups
    assert "LR-FAR-BELOW-REFERENCE (2/2)" in lines[3] and "worse" in lines[3]
    assert main(["compare", str(good), str(bad), "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "更差" in out and "基准" in out


def test_a_pattern_matching_nothing_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(RUNS / "healthy-ppo-cartpole-s1"), str(RUNS / "no-such-*")]) == 2
    assert "no path matches" in capsys.readouterr().err


def test_group_diagnosis_counts_root_findings_once_per_run() -> None:
    runs = read_runs(FIXTURES / "ppo_lr_high")
    from sb3doctor.engine import evaluate
    from sb3doctor.rules_path import builtin_rules_dir
    from sb3doctor.ruleset import load_rules

    rules = load_rules([builtin_rules_dir()])
    findings = [evaluate(r, rules) for r in runs]
    group = cmp.make_group("lr-high", runs, findings)
    roots = {f.rule for f in findings[0] if f.caused_by is None}
    assert roots and {r for r, _, _ in group.diagnosis()} == roots
    assert all(n == 1 for _, _, n in group.diagnosis())


def test_groups_on_different_envs_are_said_to_compare_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """CartPole returns against Pendulum returns: a warning naming each group's env; as a gate
    (--fail-if-worse) one line and exit 2, not a verdict that passes or fails for no reason."""
    cartpole, pendulum = RUNS / "healthy-ppo-cartpole-s1", RUNS / "healthy-sac-pendulum-s1"
    assert main(["compare", str(cartpole), str(pendulum)]) == 0
    err = capsys.readouterr().err
    assert "groups compared train on different envs" in err and "CartPole-v1" in err and "Pendulum-v1" in err
    assert main(["compare", str(cartpole), str(pendulum), "--fail-if-worse"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "--fail-if-worse cannot compare returns of different envs" in lines[0]
    # the same env in every group: nothing said
    assert main(["compare", str(cartpole), str(RUNS / "healthy-ppo-cartpole-s2")]) == 0
    assert "different envs" not in capsys.readouterr().err


def test_a_group_pooling_several_envs_is_said_to_mix_scales(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mixed = _group(tmp_path, "mixed", ["healthy-ppo-cartpole-s1", "healthy-sac-pendulum-s1"])
    same = _group(tmp_path, "same", ["healthy-ppo-cartpole-s2", "healthy-sac-pendulum-s2"])
    assert main(["compare", str(mixed), str(same), "--fail-if-worse"]) == 0  # like with like
    err = capsys.readouterr().err
    assert "different envs" not in err
    assert err.count("one group pools runs of several envs") == 2


def test_a_gate_on_groups_of_unknown_env_says_it_cannot_check_the_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Event files alone (no Monitor, no config): the env is unknown, so the gate warns that it
    cannot tell whether the groups train on the same task."""
    groups = []
    for name in ("healthy-ppo-cartpole-s1", "healthy-ppo-cartpole-s2"):
        folder = tmp_path / name / "PPO_1"
        folder.mkdir(parents=True)
        for event in (RUNS / name).glob("events.out.tfevents.*"):
            shutil.copy(event, folder / event.name)
        groups.append(str(tmp_path / name))
    main(["compare", *groups, "--fail-if-worse"])
    err = capsys.readouterr().err
    assert "is unknown (give --env" in err and "cannot check that the groups train on the same task" in err
    main(["compare", *groups, "--fail-if-worse", "--env", "CartPole-v1"])
    assert "is unknown" not in capsys.readouterr().err
