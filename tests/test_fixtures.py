"""The committed fixtures are what fixtures/README.md says they are.

Checks each real SB3 run folder written by ``fixtures/make_fixtures.py``: the files listed in
the README are there, the TensorBoard event file parses with TensorBoard's own
``EventAccumulator`` and agrees with ``progress.csv`` value for value, ``progress.csv``,
``progress.json`` and the stdout tables hold the same dumps, the Monitor files are sane, and
the behaviour the README promises (a healthy run learns, the high-learning-rate run shows
high approx_kl/clip_fraction, ...) is really in the data. No training happens here.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MANIFEST: dict[str, Any] = json.loads((FIXTURES / "manifest.json").read_text())
RUNS = [run for entry in MANIFEST.values() for run in entry["runs"]]
RUN_DIRS = [run["path"] for run in RUNS if not run["path"].endswith(".log")]
#: Keys SB3 records with ``exclude="tensorboard"``: in stdout/csv/json, never in the event file.
STDOUT_ONLY_KEYS = {
    "time/iterations",
    "time/episodes",
    "time/time_elapsed",
    "time/total_timesteps",
    "train/n_updates",
}
KIB = 1024


def _load_script() -> Any:
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses resolve the module through sys.modules while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _progress_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "progress.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _column(rows: list[dict[str, str]], key: str) -> list[float]:
    return [float(r[key]) for r in rows if r.get(key)]


_ROW = re.compile(r"^\| (.*?) +\| (.*?) *\|$")


def _tables(text: str) -> list[list[tuple[str, str]]]:
    """SB3 HumanOutputFormat tables as lists of raw (key cell, value cell), tags included."""
    tables: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] | None = None
    for line in text.splitlines():
        if line and set(line) == {"-"}:
            if current is None:
                current = []
            else:
                tables.append(current)
                current = None
        elif current is not None:
            m = _ROW.match(line)
            assert m, f"malformed table line: {line!r}"
            current.append((m.group(1), m.group(2)))
    assert current is None, "unterminated table"
    return tables


def _flat(table: list[tuple[str, str]]) -> dict[str, str]:
    """``{"time/total_timesteps": "1024", ...}`` from one table."""
    out: dict[str, str] = {}
    tag = ""
    for key, value in table:
        if not key.startswith(" ") and key.endswith("/") and not value:
            tag = key
        else:
            out[tag + key.strip()] = value
    return out


def _steps(tables: list[list[tuple[str, str]]]) -> list[int]:
    return [int(_flat(t)["time/total_timesteps"]) for t in tables]


# --------------------------------------------------------------------------------------------
# Inventory
# --------------------------------------------------------------------------------------------


def test_manifest_readme_and_script_agree() -> None:
    script = _load_script()
    assert list(MANIFEST) == script.FIXTURE_NAMES
    assert sorted(run["path"] for run in RUNS) == sorted(s.target for s in script.SPECS)
    readme = (FIXTURES / "README.md").read_text()
    for name, entry in MANIFEST.items():
        assert f"`{name}`" in readme, f"README does not describe {name}"
        assert entry["command"] == f"python fixtures/make_fixtures.py --only {name}"
        for run in entry["runs"]:
            assert (FIXTURES / run["path"]).exists(), run["path"]


def test_sizes_stay_small() -> None:
    total = 0
    for run in RUNS:
        path = FIXTURES / run["path"]
        size = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.iterdir())
        assert size < 300 * KIB, f"{run['path']} is {size / KIB:.0f} KiB"
        total += size
    assert total < 3 * KIB * KIB


@pytest.mark.parametrize("path", RUN_DIRS)
def test_run_folder_has_the_listed_files(path: str) -> None:
    run_dir = FIXTURES / path
    config = json.loads((run_dir / "config.json").read_text())
    algo, _, n = run_dir.name.partition("_")
    assert algo == config["algo"] and n.isdigit()
    names = {p.name for p in run_dir.iterdir()}
    events = [name for name in names if name.startswith("events.out.tfevents.")]
    assert len(events) == 1
    n_envs = config["hyperparams"].get("n_envs", 1)
    monitors = {f"{i}.monitor.csv" for i in range(n_envs)} if n_envs > 1 else {"monitor.csv"}
    expected = {"stdout.log", "progress.csv", "progress.json", "config.json", *events, *monitors}
    assert names == expected


@pytest.mark.parametrize("path", RUN_DIRS)
def test_config_json_records_the_run(path: str) -> None:
    config = json.loads((FIXTURES / path / "config.json").read_text())
    run = next(r for r in RUNS if r["path"] == path)
    assert config["seed"] == run["seed"]
    assert config["total_timesteps"] == run["total_timesteps"]
    assert config["env_id"] in {"CartPole-v1", "Pendulum-v1"}
    assert config["device"] == "cpu"
    for key, value in config["hyperparams"].items():
        assert isinstance(value, (int, float, str, dict)), key
        if key in config["schedules"]:
            assert run["hyperparams"][key] == f"lin_{value}"
        else:
            assert run["hyperparams"][key] == value


# --------------------------------------------------------------------------------------------
# The four writers of one logger agree
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", RUN_DIRS)
def test_tensorboard_parses_and_matches_progress_csv(path: str) -> None:
    run_dir = FIXTURES / path
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    rows = _progress_rows(run_dir)
    columns = set(rows[0])
    assert tags <= columns
    assert columns - tags <= STDOUT_ONLY_KEYS
    assert {"time/total_timesteps", "time/fps"} <= columns
    for tag in tags:
        from_csv = [(int(r["time/total_timesteps"]), float(r[tag])) for r in rows if r[tag]]
        from_tb = [(e.step, e.value) for e in acc.Scalars(tag)]
        assert [s for s, _ in from_tb] == [s for s, _ in from_csv], tag
        # TensorBoard stores float32; the csv has the full double.
        np.testing.assert_array_equal(
            np.array([v for _, v in from_tb], dtype=np.float32),
            np.array([v for _, v in from_csv], dtype=np.float32),
            err_msg=tag,
        )


@pytest.mark.parametrize("path", RUN_DIRS)
def test_progress_json_and_stdout_hold_the_same_dumps(path: str) -> None:
    run_dir = FIXTURES / path
    rows = _progress_rows(run_dir)
    lines = (run_dir / "progress.json").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(rows) == next(r for r in RUNS if r["path"] == path)["tables"]
    for record, row in zip(records, rows, strict=True):
        assert {k for k, v in row.items() if v} == set(record)
        for key, value in record.items():
            # Values that SB3 logs as numpy float32 (e.g. approx_kl) print with float32 repr in csv.
            assert np.float32(float(row[key])) == np.float32(value), key

    text = (run_dir / "stdout.log").read_text()
    assert text.startswith("Using cpu device\n")
    assert f"Logging to {path}\n" in text
    tables = _tables(text)
    assert len(tables) == len(rows)
    assert _steps(tables) == [int(r["time/total_timesteps"]) for r in rows]
    for table, record in zip(tables, records, strict=True):
        assert set(_flat(table)) == set(record)


@pytest.mark.parametrize("path", RUN_DIRS)
def test_monitor_files_are_real_episodes(path: str) -> None:
    run_dir = FIXTURES / path
    config = json.loads((run_dir / "config.json").read_text())
    rows = _progress_rows(run_dir)
    total = 0
    for monitor in sorted(run_dir.glob("*monitor.csv")):
        header, columns, *episodes = monitor.read_text().splitlines()
        assert json.loads(header[1:])["env_id"] == config["env_id"]
        assert columns == "r,l,t"
        parsed = [tuple(float(x) for x in e.split(",")) for e in episodes]
        assert parsed
        for r, length, _t in parsed:
            if config["env_id"] == "CartPole-v1":
                assert r == length and 1 <= length <= 500  # +1 per step, 500-step limit
            else:
                assert length == 200 and r <= 0  # Pendulum: fixed length, cost only
        total += int(sum(length for _, length, _ in parsed))
    assert 0 < total <= config["total_timesteps"] + 8 * 32  # a last rollout may overshoot
    # Every step up to the last dump is in a finished episode, except episodes still running then.
    n_envs = config["hyperparams"].get("n_envs", 1)
    assert total >= int(rows[-1]["time/total_timesteps"]) - n_envs * 500


# --------------------------------------------------------------------------------------------
# What each fixture is for (numbers quoted in fixtures/README.md)
# --------------------------------------------------------------------------------------------


def _metric(path: str, key: str) -> list[float]:
    return _column(_progress_rows(FIXTURES / path), key)


def test_ppo_cartpole_is_healthy() -> None:
    path = "ppo_cartpole/PPO_1"
    rew = _metric(path, "rollout/ep_rew_mean")
    assert rew[0] < 50 and rew[-1] >= 400
    assert statistics.median(_metric(path, "train/approx_kl")) < 0.02
    assert statistics.median(_metric(path, "train/clip_fraction")) < 0.2


def test_ppo_lr_high_shows_the_fault() -> None:
    path = "ppo_lr_high/PPO_1"
    assert set(_metric(path, "train/learning_rate")) == {0.03}
    kl = _metric(path, "train/approx_kl")
    assert statistics.median(kl) > 0.1  # twice the usual 0.05 alarm
    assert statistics.median(kl) > 20 * statistics.median(_metric("ppo_cartpole/PPO_1", "train/approx_kl"))
    clip = statistics.median(_metric(path, "train/clip_fraction"))
    assert clip > 2 * statistics.median(_metric("ppo_cartpole/PPO_1", "train/clip_fraction"))
    # The policy turns near-deterministic: entropy far below ln(2) = 0.69 for two actions.
    assert -_metric(path, "train/entropy_loss")[-1] < 0.2
    assert _metric(path, "rollout/ep_rew_mean")[-1] < 300


def test_a2c_cartpole_has_enough_tables() -> None:
    rows = _progress_rows(FIXTURES / "a2c_cartpole/A2C_1")
    assert len(rows) >= 30
    assert {"train/policy_loss", "train/value_loss", "train/entropy_loss"} <= set(rows[0])
    rew = _column(rows, "rollout/ep_rew_mean")
    assert rew[-1] > 2 * rew[0]


def test_dqn_cartpole_exploration_schedule_and_learning() -> None:
    path = "dqn_cartpole/DQN_1"
    eps = _metric(path, "rollout/exploration_rate")
    assert eps[0] > 0.9 and eps[-1] == pytest.approx(0.04)
    rows = _progress_rows(FIXTURES / path)
    # No train/* before learning_starts=1000 steps.
    assert all(not r["train/loss"] for r in rows if int(r["time/total_timesteps"]) < 1000)
    rew = _metric(path, "rollout/ep_rew_mean")
    assert max(rew) > 5 * rew[0]


def test_sac_pendulum_entropy_coefficient_falls_and_reward_rises() -> None:
    path = "sac_pendulum/SAC_1"
    ent = _metric(path, "train/ent_coef")
    assert ent[-1] < 0.5 * ent[0]
    rew = _metric(path, "rollout/ep_rew_mean")
    assert rew[-1] > rew[0]
    assert "train/ent_coef_loss" in _progress_rows(FIXTURES / path)[0]


def test_td3_pendulum_logs_actor_and_critic() -> None:
    rows = _progress_rows(FIXTURES / "td3_pendulum/TD3_1")
    assert {"train/actor_loss", "train/critic_loss"} <= set(rows[0])
    assert "train/ent_coef" not in rows[0]
    first_train = min(int(r["time/total_timesteps"]) for r in rows if r["train/critic_loss"])
    assert first_train > 1000  # learning_starts


def test_ppo_eval_has_eval_tables_everywhere() -> None:
    run_dir = FIXTURES / "ppo_eval/PPO_1"
    rows = _progress_rows(run_dir)
    evals = [r for r in rows if r["eval/mean_reward"]]
    assert len(evals) >= 5
    printed = re.findall(
        r"^Eval num_timesteps=(\d+), episode_reward=", (run_dir / "stdout.log").read_text(), re.M
    )
    assert [int(s) for s in printed] == [int(r["time/total_timesteps"]) for r in evals]
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    assert len(acc.Scalars("eval/mean_reward")) == len(evals)


def test_ppo_seeds_are_three_seeds_of_one_config() -> None:
    dirs = sorted((FIXTURES / "ppo_seeds").iterdir())
    assert [d.name for d in dirs] == ["PPO_1", "PPO_2", "PPO_3"]
    configs = [json.loads((d / "config.json").read_text()) for d in dirs]
    assert [c["seed"] for c in configs] == [0, 1, 2]
    assert all(c["hyperparams"] == configs[0]["hyperparams"] for c in configs)
    curves = [tuple(_column(_progress_rows(d), "rollout/ep_rew_mean")) for d in dirs]
    assert len(set(curves)) == 3


# --------------------------------------------------------------------------------------------
# stdout-only logs
# --------------------------------------------------------------------------------------------


def test_multi_run_log_holds_two_runs() -> None:
    text = (FIXTURES / "stdout/multi_run.log").read_text()
    assert text.count("Using cpu device") == 2
    steps = _steps(_tables(text))
    drops = [i for i in range(1, len(steps)) if steps[i] < steps[i - 1]]
    assert len(drops) == 1
    first, second = steps[: drops[0]], steps[drops[0] :]
    assert first == sorted(first) and second == sorted(second) and first[0] == second[0]


def test_legacy_width23_truncates_long_keys() -> None:
    tables = _tables((FIXTURES / "stdout/legacy_width23.log").read_text())
    assert len(tables) >= 5
    cells = {key for table in tables for key, _ in table}
    assert all(len(key) <= 23 for key in cells)
    assert all(len(value) <= 23 for table in tables for _, value in table)
    truncated = {key for key in cells if key.endswith("...")}
    assert truncated == {"   rollout_returns_m...", "   rollout_advantage..."}
    # Exactly 23 characters once indented: the longest PPO key is not truncated.
    assert "   policy_gradient_loss" in cells


def test_seed004_log_is_the_warehouse_a2c_loop() -> None:
    text = (FIXTURES / "stdout/seed004_a2c.log").read_text()
    assert text.startswith("Using cpu device\n")
    assert "Wrapping the env with a `Monitor` wrapper" in text
    flat = [_flat(t) for t in _tables(text)]
    steps = [int(t["time/total_timesteps"]) for t in flat]
    assert steps == list(range(500, steps[-1] + 1, 500)) and steps[-1] >= 30_000
    # learn(1000) restarts the iteration counter each call; log_interval=100 x n_steps=5.
    assert {int(t["time/iterations"]) for t in flat} == {100, 200}
    # Reward 1 only at the target, no time limit: every episode's return is exactly 1.
    assert {float(t["rollout/ep_rew_mean"]) for t in flat} == {1.0}
    lengths = [float(t["rollout/ep_len_mean"]) for t in flat]
    assert lengths[-1] < 0.5 * lengths[0]
