"""monitor.csv files written by SB3's real ``Monitor`` wrapper (random actions: no training needed)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import gymnasium as gym
import pytest
from stable_baselines3.common.monitor import Monitor, load_results

from sb3doctor.errors import InputError
from sb3doctor.sources.hyperparams import envs_from_monitor_files
from sb3doctor.sources.monitor import read_monitor

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class SuccessInfo(gym.Wrapper):
    """Adds ``info["is_success"]`` like goal environments do (success = survived 20 steps)."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["is_success"] = not terminated
        self.t = getattr(self, "t", 0) + 1
        if self.t >= 20:
            truncated = True
        if terminated or truncated:
            self.t = 0
        return obs, reward, terminated, truncated, info


def play(folders: list[str], episodes: int, info_keywords: tuple[str, ...] = ()) -> None:
    """Run random episodes through real Monitor wrappers, one file per env."""
    envs = [Monitor(SuccessInfo(gym.make("CartPole-v1")), f, info_keywords=info_keywords) for f in folders]
    for i, env in enumerate(envs):
        env.reset(seed=i)
        env.action_space.seed(i)
    done = [0] * len(envs)
    while min(done) < episodes:
        for i, env in enumerate(envs):
            if done[i] >= episodes:
                continue
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                done[i] += 1
                env.reset()
    for env in envs:
        env.close()


def test_one_file_with_is_success(tmp_path: Path) -> None:
    play([str(tmp_path / "monitor.csv")], 6, info_keywords=("is_success",))
    rows = list(csv.DictReader((tmp_path / "monitor.csv").read_text().splitlines()[1:]))
    header = json.loads((tmp_path / "monitor.csv").read_text().splitlines()[0][1:])
    src = read_monitor([tmp_path / "monitor.csv"])
    assert src.kind == "monitor" and src.warnings == []
    lengths = [int(r["l"]) for r in rows]
    assert list(src.metrics["episode/length"].values) == lengths
    assert list(src.metrics["episode/reward"].values) == [float(r["r"]) for r in rows]
    steps = [sum(lengths[: i + 1]) for i in range(len(lengths))]
    assert list(src.metrics["episode/reward"].steps) == steps
    assert list(src.metrics["episode/is_success"].values) == [
        1.0 if r["is_success"] == "True" else 0.0 for r in rows
    ]
    walls = list(src.metrics["episode/reward"].wall_times)
    assert walls == pytest.approx([header["t_start"] + float(r["t"]) for r in rows])
    assert src.facts["env_id"] == "CartPole-v1" and src.facts["episodes"] == 6


def test_several_env_files_are_merged_in_time_order(tmp_path: Path) -> None:
    play([str(tmp_path / "0"), str(tmp_path / "1"), str(tmp_path / "2")], 5)
    files = sorted(tmp_path.glob("*.monitor.csv"))
    assert [f.name for f in files] == ["0.monitor.csv", "1.monitor.csv", "2.monitor.csv"]
    src = read_monitor(files)
    # SB3's own loader: all files, absolute times, sorted by time.
    df = load_results(str(tmp_path))
    assert len(src.metrics["episode/length"]) == len(df) == 15
    walls = list(src.metrics["episode/length"].wall_times)
    assert walls == sorted(walls)
    assert walls[0] - min(
        json.loads(f.read_text().splitlines()[0][1:])["t_start"] for f in files
    ) == pytest.approx(df["t"].iloc[0], abs=1e-6)
    assert list(src.metrics["episode/length"].values) == [float(x) for x in df["l"]]
    assert src.metrics["episode/length"].steps[-1] == int(df["l"].sum())


def test_truncated_last_line(tmp_path: Path) -> None:
    play([str(tmp_path / "monitor.csv")], 4)
    text = (tmp_path / "monitor.csv").read_text()
    (tmp_path / "monitor.csv").write_text(text[:-5])
    src = read_monitor([tmp_path / "monitor.csv"])
    assert len(src.metrics["episode/reward"]) == 3
    assert len(src.warnings) == 1 and "monitor.csv:6:" in src.warnings[0]


def test_monitor_without_episodes_yet(tmp_path: Path) -> None:
    Monitor(gym.make("CartPole-v1"), str(tmp_path / "monitor.csv")).close()
    src = read_monitor([tmp_path / "monitor.csv"])
    assert src.metrics == {} and src.warnings == []
    assert not math.isnan(src.facts["t_start"])


def test_not_a_monitor_file_names_the_file(tmp_path: Path) -> None:
    play([str(tmp_path / "0")], 2)
    other = tmp_path / "1.monitor.csv"
    other.write_text("r,l,t\n1.0,1,0.1\n")
    with pytest.raises(InputError, match="not an SB3 monitor file") as err:
        read_monitor([tmp_path / "0.monitor.csv", other])
    assert err.value.path == str(other)
    noheader = tmp_path / "2.monitor.csv"
    noheader.write_text('#{"t_start": 1.0}\nfoo,bar\n1,2\n')
    with pytest.raises(InputError, match="r,l,t"):
        read_monitor([noheader])


def _fixture_runs() -> list[Path]:
    return sorted({p.parent for p in FIXTURES.glob("*/*/*monitor.csv")})


@pytest.mark.skipif(not _fixture_runs(), reason="fixtures/ not generated in this checkout")
@pytest.mark.parametrize("run_dir", _fixture_runs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_monitor_files(run_dir: Path) -> None:
    files = sorted(run_dir.glob("*monitor.csv"))
    src = read_monitor(files)
    df = load_results(str(run_dir))
    assert src.warnings == []
    assert len(src.metrics["episode/reward"]) == len(df)
    assert sorted(src.metrics["episode/reward"].values) == sorted(float(x) for x in df["r"])
    assert src.metrics["episode/length"].steps[-1] == int(df["l"].sum())


def test_a_monitor_without_episodes_beside_other_logs_is_a_fact(tmp_path: Path) -> None:
    """A real A2C run on the warehouse grid without a time limit: its monitor.csv has the header
    and no episode. Beside the event file that is information (episodes never end), not an
    empty file to skip: the Monitor wrapper is there, so no "add a Monitor" advice."""
    import shutil

    from sb3doctor.engine import evaluate
    from sb3doctor.rules_path import builtin_rules_dir
    from sb3doctor.ruleset import load_rules
    from sb3doctor.sources import read_runs

    runs = Path(__file__).resolve().parents[1] / "bench/benchmark/runs"
    src = runs / "episode_stats_frozen-a2c-warehouse-notl-prox"
    run_dir = tmp_path / "A2C_1"
    shutil.copytree(src, run_dir)
    (run,) = read_runs(run_dir)
    assert run.hyperparams["monitor_episodes"] == 0
    assert not [w for w in run.warnings if "monitor.csv" in w]
    assert run.facts["env_id"] == "sb3doctor/WarehouseRobot-v0"  # from the Monitor header
    fired = {f.rule for f in evaluate(run, load_rules([builtin_rules_dir()]))}
    assert "EP-NEVER-ENDS" in fired and "MISSING-MONITOR" not in fired


@pytest.mark.parametrize(
    ("names", "envs"),
    [
        (["0.monitor.csv"], 1),
        (["run/0.monitor.csv", "run/1.monitor.csv", "run/2.monitor.csv"], 3),
        (["C:\\logs\\1.monitor.csv", "C:\\logs\\0.monitor.csv"], 2),
        (["logs/env_1.monitor.csv", "logs/env_0.monitor.csv"], 2),  # Monitor(env, f"logs/env_{i}")
        (["env_0.monitor.csv", "eval_1.monitor.csv"], None),  # two prefixes: not one set of ranks
        (["monitor.csv"], None),  # Monitor(env, dir) or a VecMonitor: one file, any env count
        (["train.monitor.csv"], None),
        (["0.monitor.csv", "2.monitor.csv"], None),  # a rank missing: not one make_vec_env's set
        (["0.monitor.csv", "monitor.csv"], None),
        ([], None),
        (None, None),
    ],
)
def test_ranked_monitor_files_give_the_env_count(names: object, envs: int | None) -> None:
    assert envs_from_monitor_files(names) == envs
