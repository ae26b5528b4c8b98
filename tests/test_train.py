"""``sb3doctor train``: configuration, presets, device selection, run folders, real training."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sb3doctor.cli import main
from sb3doctor.errors import ConfigError
from sb3doctor.presets import PRESETS, WAREHOUSE, get_preset
from sb3doctor.train import (
    ALGOS,
    TrainConfig,
    build_model,
    next_run_dir,
    parse_overrides,
    resolve_config,
    select_device,
)

ROOT = Path(__file__).resolve().parents[1]
CATEGORIES = {
    "lr_too_high",
    "clip_too_aggressive",
    "updates_too_small",
    "entropy_collapse",
    "entropy_too_high",
    "value_fn_poor",
    "reward_scale_too_large",
    "reward_plateau",
    "performance_collapse",
    "sparse_reward_no_learning",
    "diverged",
    "insufficient_exploration",
    "episode_stats_frozen",
    "missing_monitor",
    "slow_training",
    "config_inconsistent",
}


def cli_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


# -- --set parsing and config resolution ---------------------------------------------------


def test_parse_overrides_reads_yaml_values_and_env_prefix() -> None:
    hp, env = parse_overrides(
        [
            "learning_rate=1e-4",
            "n_steps=64",
            "target_kl=null",
            "policy_kwargs={net_arch: [8, 8]}",
            "env.grid_rows=10",
            "env.reward_mode=direction",
        ]
    )
    assert hp == {
        "learning_rate": 1e-4,
        "n_steps": 64,
        "target_kl": None,
        "policy_kwargs": {"net_arch": [8, 8]},
    }
    assert env == {"grid_rows": 10, "reward_mode": "direction"}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("learning_rate", "expected key=value"),
        ("=3", "expected key=value"),
        ("policy.net=3", "is not a parameter name"),
        ("lr-x=3", "is not a parameter name"),
        ("net_arch=[64, 64", "not valid YAML"),
    ],
)
def test_parse_overrides_rejects_bad_items(item: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_overrides([item])


def test_resolve_config_layers_preset_and_overrides() -> None:
    config = resolve_config(preset="lr-too-high", overrides=["n_epochs=5", "env.grid_rows=8"], timesteps=1000)
    preset = PRESETS["lr-too-high"]
    assert config.algo == "ppo" and config.preset == "lr-too-high"
    assert config.hyperparams == {**preset["hyperparams"], "n_epochs": 5}
    assert config.env_kwargs == {**preset["env_kwargs"], "grid_rows": 8}
    assert config.total_timesteps == 1000
    assert config.expected_categories == ["lr_too_high"]
    # The preset table itself is not modified by overrides.
    assert PRESETS["lr-too-high"]["hyperparams"].get("n_epochs") == 10


def test_resolve_config_defaults() -> None:
    config = resolve_config()
    assert (config.algo, config.env_id, config.hyperparams, config.n_envs) == ("ppo", WAREHOUSE, {}, 1)
    assert resolve_config(algo="DQN").algo_name == "DQN"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "nope"}, "unknown preset 'nope'"),
        ({"preset": "no-exploration", "algo": "ppo"}, "trains DQN"),
        ({"algo": "trpo"}, "unknown algorithm"),
        ({"timesteps": 0}, "must be at least 1"),
        ({"n_envs": 0}, "must be at least 1"),
        ({"device": "tpu"}, "choose one of"),
    ],
)
def test_resolve_config_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_config(**kwargs)


# -- presets -------------------------------------------------------------------------------


def test_presets_are_documented_data() -> None:
    required = {
        "algo",
        "env",
        "env_kwargs",
        "n_envs",
        "hyperparams",
        "timesteps",
        "wrappers",
        "expected_categories",
        "description",
    }
    assert {
        "healthy",
        "lr-too-high",
        "lr-too-low",
        "entropy-collapse",
        "tiny-critic",
        "reward-scale",
        "sparse-large-grid",
        "no-time-limit",
        "no-exploration",
        "clip-too-tight",
    } <= set(PRESETS)
    for name, preset in PRESETS.items():
        assert set(preset) == required, name
        assert preset["algo"] in ALGOS, name
        assert set(preset["expected_categories"]) <= CATEGORIES, name
        assert len(preset["description"]) > 40, name
        # Short budgets keep bench/validate_presets.py within ~15 minutes on 2 cores.
        assert 1000 <= preset["timesteps"] <= 60_000, name
        json.dumps(preset)  # config.json must be able to hold it
    assert PRESETS["healthy"]["expected_categories"] == []
    assert get_preset("healthy") is not PRESETS["healthy"]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_builds_an_sb3_model(name: str) -> None:
    config = resolve_config(preset=name)
    model = build_model(config)
    assert type(model).__name__ == ALGOS[config.algo]
    assert model.n_envs == config.n_envs
    hp = config.hyperparams
    if "learning_rate" in hp:
        assert model.learning_rate == hp["learning_rate"]
    if "clip_range" in hp:
        assert model.clip_range(1.0) == hp["clip_range"]  # type: ignore[attr-defined]
    if "exploration_final_eps" in hp:
        assert model.exploration_final_eps == hp["exploration_final_eps"]  # type: ignore[attr-defined]
    env = model.get_env().envs[0]  # type: ignore[union-attr]
    for key, value in config.env_kwargs.items():
        assert getattr(env.unwrapped, "max_episode_steps" if key == "time_limit" else key) == value
    if "reward_scale" in config.wrappers:
        env.reset(seed=0)
        base = env.unwrapped
        base.robot_row, base.robot_col, base.target_row, base.target_col = 0, 0, 0, 1
        assert env.step(2)[1] == config.wrappers["reward_scale"] * base.goal_reward


def test_tiny_critic_has_a_linear_value_head() -> None:
    model = build_model(resolve_config(preset="tiny-critic"))
    value_net = model.policy.value_net  # type: ignore[union-attr]
    assert (value_net.in_features, value_net.out_features) == (4, 1)
    assert model.policy.mlp_extractor.value_net == torch.nn.Sequential() or not list(  # type: ignore[union-attr]
        model.policy.mlp_extractor.value_net.parameters()  # type: ignore[union-attr]
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["learning_rat=0.1"], "PPO has no hyperparameter learning_rat"),
        (["n_steps=-5"], "PPO rejected the hyperparameters"),
        (["policy_kwargs={activation_fn: swish}"], "activation_fn 'swish'"),
    ],
)
def test_build_model_rejects_bad_hyperparameters(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_model(resolve_config(overrides=overrides))


def test_algorithm_and_action_space_must_match() -> None:
    with pytest.raises(ConfigError, match="needs a continuous"):
        build_model(resolve_config(algo="sac"))
    with pytest.raises(ConfigError, match="needs a Discrete"):
        build_model(TrainConfig(algo="dqn", env_id="Pendulum-v1"))
    with pytest.raises(ConfigError, match="--env NoSuchEnv-v0"):
        build_model(TrainConfig(env_id="NoSuchEnv-v0"))


# -- device --------------------------------------------------------------------------------


def test_select_device() -> None:
    assert select_device("auto", cuda_available=False) == (
        "cpu",
        "training on cpu (--device auto: torch sees no CUDA GPU)",
    )
    assert select_device("auto", cuda_available=True)[0] == "cuda"
    assert select_device("cuda", cuda_available=True)[0] == "cuda"
    assert select_device("cpu", cuda_available=True)[0] == "cpu"
    with pytest.raises(ConfigError, match="--device cuda: torch sees no CUDA GPU"):
        select_device("cuda", cuda_available=False)
    # What this machine's torch reports decides "auto".
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert select_device("auto")[0] == expected


def test_cli_device_cuda_without_gpu_is_a_one_line_error(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "sb3doctor", "train", "--device", "cuda", "--timesteps", "64"]
    cmd += ["--logdir", str(tmp_path / "logs"), "--set", "n_steps=32", "--set", "batch_size=32"]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )
    if torch.cuda.is_available():  # a GPU machine: the same command trains on it
        assert proc.returncode == 0, proc.stderr
        assert "training on cuda" in proc.stderr
        return
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "sb3doctor: error: --device cuda: torch sees no CUDA GPU (torch.cuda.is_available() is False); "
        "use --device auto or --device cpu"
    ]
    assert not (tmp_path / "logs").exists()  # nothing written on errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "oops"], "--set 'oops': expected key=value"),
        (["--set", "learning_rate=[1,"], "not valid YAML"),
        (["--set", "nonsense=1"], "PPO has no hyperparameter nonsense"),
        (["--algo", "sac"], "needs a continuous (Box) action space"),
        (["--preset", "no-exploration", "--algo", "a2c"], "trains DQN"),
    ],
)
def test_cli_configuration_errors_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["train", "--logdir", str(tmp_path / "logs"), "--device", "cpu", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("sb3doctor: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "logs").exists()


# -- run folders ---------------------------------------------------------------------------


def test_next_run_dir_takes_the_next_free_index(tmp_path: Path) -> None:
    assert next_run_dir(tmp_path, "PPO").name == "PPO_1"
    assert next_run_dir(tmp_path, "PPO").name == "PPO_2"
    (tmp_path / "PPO_7").mkdir()
    (tmp_path / "PPO_x").mkdir()
    (tmp_path / "A2C_9").mkdir()
    assert next_run_dir(tmp_path, "PPO").name == "PPO_8"
    assert next_run_dir(tmp_path, "A2C").name == "A2C_10"
    assert next_run_dir(tmp_path, "DQN").name == "DQN_1"


# -- real training -------------------------------------------------------------------------


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_train_smoke_writes_a_complete_run_folder(tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    cmd = [sys.executable, "-m", "sb3doctor", "train", "--algo", "ppo", "--timesteps", "256"]
    cmd += ["--logdir", str(logdir), "--set", "n_steps=64", "--set", "batch_size=32", "--seed", "3"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (
        "sb3doctor: training on cpu (--device auto: torch sees no CUDA GPU)" in proc.stderr
        or torch.cuda.is_available()
    )
    run_dir = logdir / "PPO_1"
    names = {p.name for p in run_dir.iterdir()}
    assert {"stdout.log", "progress.csv", "monitor.csv", "config.json", "model.zip"} <= names
    assert any(n.startswith("events.out.tfevents.") for n in names)

    # stdout.log is exactly what the user saw on stdout, from SB3's first line on.
    log = (run_dir / "stdout.log").read_text()
    assert log == proc.stdout
    assert log.startswith("Using cpu device\n") or torch.cuda.is_available()
    assert f"Logging to {run_dir}\n" in log
    assert log.count("|    total_timesteps      |") >= 3

    rows = _rows(run_dir / "progress.csv")
    assert [int(r["time/total_timesteps"]) for r in rows] == [64, 128, 192, 256]
    assert rows[-1]["train/learning_rate"] == "0.0003"
    monitor = (run_dir / "monitor.csv").read_text().splitlines()
    assert monitor[0].startswith("#{") and monitor[1] == "r,l,t" and len(monitor) > 3

    config = json.loads((run_dir / "config.json").read_text())
    assert config["algo"] == "PPO" and config["status"] == "completed" and config["timesteps_done"] == 256
    hp = config["hyperparams"]
    assert (hp["n_steps"], hp["batch_size"], hp["learning_rate"], hp["gamma"]) == (64, 32, 3e-4, 0.99)
    assert (hp["rollout_size"], hp["n_actions"], hp["action_space"]) == (64, 4, "discrete")

    from stable_baselines3 import PPO

    assert PPO.load(run_dir / "model.zip", device="cpu").num_timesteps == 256

    # sb3doctor's own readers take the folder as it is.
    import sb3doctor

    (run,) = sb3doctor.read_runs(logdir)
    assert run.algo == "PPO"
    assert {"tensorboard", "progress_csv", "monitor", "stdout"} <= set(run.sources)
    assert list(run.metrics["time/total_timesteps"].steps) == [64, 128, 192, 256]
    assert run.hyperparams["n_steps"] == 64

    # A second run goes next to the first.
    proc = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert proc.returncode == 0 and (logdir / "PPO_2" / "config.json").exists()


@pytest.mark.slow
def test_train_off_policy_with_several_envs(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "sb3doctor", "train", "--algo", "dqn", "--timesteps", "600", "--n-envs", "2"]
    cmd += ["--logdir", str(tmp_path), "--set", "learning_starts=100", "--device", "cpu"]
    cmd += ["--set", "env.grid_rows=3", "--set", "env.grid_cols=3"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    run_dir = tmp_path / "DQN_1"
    assert {"0.monitor.csv", "1.monitor.csv"} <= {p.name for p in run_dir.iterdir()}
    rows = _rows(run_dir / "progress.csv")
    assert rows and "rollout/exploration_rate" in rows[0]
    config = json.loads((run_dir / "config.json").read_text())
    assert config["env_kwargs"] == {"grid_rows": 3, "grid_cols": 3}
    assert config["hyperparams"]["learning_starts"] == 100 and config["hyperparams"]["n_envs"] == 2


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_saves(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "sb3doctor", "train", "--algo", "a2c", "--timesteps", "2000000"]
    cmd += ["--logdir", str(tmp_path), "--device", "cpu"]
    # A shell's background jobs start with SIGINT ignored; give the child the default disposition
    # so that Python turns SIGINT into KeyboardInterrupt as it does in a terminal.
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    progress = tmp_path / "A2C_1" / "progress.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (
        progress.exists() and len(progress.read_text().splitlines()) >= 3
    ):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted at" in err and "logs and model saved" in err
    run_dir = tmp_path / "A2C_1"
    config = json.loads((run_dir / "config.json").read_text())
    assert config["status"] == "interrupted" and 0 < config["timesteps_done"] < 2_000_000
    assert (run_dir / "model.zip").stat().st_size > 0
    assert (run_dir / "stdout.log").read_text() == out
    assert len(_rows(run_dir / "progress.csv")) >= 2
