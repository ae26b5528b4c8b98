"""Merging the sources of one run, algorithm detection and hyperparameter recovery."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sb3doctor.model import Series, SourceData
from sb3doctor.sources import build_run
from sb3doctor.sources.detect import algo_from_name, detect_algo, family_from_keys
from sb3doctor.sources.hyperparams import recover_hyperparams
from sb3doctor.sources.merge import merge_sources

PPO_KEYS = {
    "rollout/ep_len_mean",
    "rollout/ep_rew_mean",
    "time/fps",
    "train/approx_kl",
    "train/clip_fraction",
    "train/clip_range",
    "train/entropy_loss",
    "train/explained_variance",
    "train/learning_rate",
    "train/loss",
    "train/policy_gradient_loss",
    "train/value_loss",
}


def src(kind: str, metrics: dict[str, tuple[list[int], list[float]]], walls: bool = False) -> SourceData:
    data = SourceData(kind, Path(f"/x/{kind}"))
    for name, (steps, values) in metrics.items():
        w = [1000.0 + s for s in steps] if walls else None
        data.metrics[name] = Series.from_points(steps, values, w)
    return data


def test_precise_source_wins_and_stdout_fills_the_gaps() -> None:
    tb = src("tensorboard", {"train/approx_kl": ([2048, 4096], [0.0123456, 0.0234567])}, walls=True)
    out = src(
        "stdout",
        {
            "train/approx_kl": ([2048, 4096, 6144], [0.0123, 0.0235, 0.0301]),
            "time/iterations": ([2048, 4096, 6144], [1, 2, 3]),
        },
    )
    merged = merge_sources([out, tb])
    kl = merged["train/approx_kl"]
    assert list(kl.steps) == [2048, 4096, 6144]
    assert list(kl.values) == [0.0123456, 0.0234567, 0.0301]
    assert kl.wall_times[0] == 3048.0 and math.isnan(kl.wall_times[2])
    # TensorBoard never has time/iterations (excluded by SB3); stdout gives it.
    assert list(merged["time/iterations"].values) == [1, 2, 3]


def test_equally_precise_kinds_do_not_duplicate_points() -> None:
    tb = src("tensorboard", {"train/loss": ([10, 20], [1.0, 2.0])})
    csv = src(
        "progress_csv",
        {"train/loss": ([10, 20], [1.0000001, 2.0000001]), "time/iterations": ([10, 20], [1, 2])},
    )
    merged = merge_sources([csv, tb])
    assert list(merged["train/loss"].values) == [1.0, 2.0]
    assert list(merged["time/iterations"].values) == [1, 2]


def test_restart_files_of_one_kind_are_concatenated_and_sorted() -> None:
    first = src("tensorboard", {"rollout/ep_rew_mean": ([100, 200], [1.0, 2.0])})
    second = src("tensorboard", {"rollout/ep_rew_mean": ([300, 250], [4.0, 3.0])})
    merged = merge_sources([first, second])
    assert list(merged["rollout/ep_rew_mean"].steps) == [100, 200, 250, 300]
    assert list(merged["rollout/ep_rew_mean"].values) == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("keys", "family"),
    [
        (PPO_KEYS, "PPO"),
        ({"train/policy_loss", "train/value_loss", "train/entropy_loss"}, "A2C"),
        ({"rollout/exploration_rate", "train/loss"}, "DQN"),
        ({"train/ent_coef", "train/actor_loss", "train/critic_loss"}, "SAC"),
        ({"train/actor_loss", "train/critic_loss"}, "TD3"),
        ({"train/policy_objective", "train/kl_divergence_loss"}, "TRPO"),
        ({"train/delta_std", "train/step_size"}, "ARS"),
        ({"rollout/ep_rew_mean", "time/fps"}, None),
    ],
)
def test_family_from_keys(keys: set[str], family: str | None) -> None:
    assert family_from_keys(keys) == family


def test_name_splits_families_with_identical_keys() -> None:
    assert detect_algo(PPO_KEYS, ["MaskablePPO_3"]) == "MaskablePPO"
    assert detect_algo(PPO_KEYS, ["logs/RecurrentPPO_1"]) == "RecurrentPPO"
    assert detect_algo({"train/actor_loss", "train/critic_loss"}, ["DDPG_2"]) == "DDPG"
    assert detect_algo({"train/ent_coef"}, ["tqc_run"]) == "TQC"
    # A folder name that contradicts the keys loses: keys are evidence, names are hints.
    assert detect_algo(PPO_KEYS, ["SAC_1"]) == "PPO"
    # First PPO table (no train/ yet): the name decides, if on-policy like the keys.
    assert detect_algo({"time/iterations", "time/fps"}, ["PPO_1"]) == "PPO"
    assert detect_algo({"time/iterations", "time/fps"}, ["SAC_1"]) is None
    assert algo_from_name(["my_experiment"]) is None
    assert algo_from_name(["CartPole-v1_dqn_3"]) == "DQN"


def test_build_run_recovers_ppo_hyperparams() -> None:
    # 4 iterations of 2048 steps, 10 epochs each, lr 3e-4, clip 0.2, discrete actions (CartPole: ln 2).
    steps = [2048 * k for k in range(2, 6)]
    out = src(
        "stdout",
        {
            "time/iterations": (steps, [2, 3, 4, 5]),
            "time/total_timesteps": (steps, steps),
            "train/n_updates": (steps, [10, 20, 30, 40]),
            "train/learning_rate": (steps, [3e-4] * 4),
            "train/clip_range": (steps, [0.2] * 4),
            "train/approx_kl": (steps, [0.01] * 4),
            "train/entropy_loss": (steps, [-0.692, -0.68, -0.66, -0.64]),
        },
    )
    run = build_run(Path("/x/PPO_1"), "PPO_1", [out])
    assert run.algo == "PPO"
    hp = run.hyperparams
    assert hp["learning_rate"] == 3e-4 and hp["lr_schedule"] == "constant"
    assert hp["clip_range"] == 0.2
    assert hp["rollout_size"] == 2048
    assert hp["n_epochs"] == 10 and hp["target_kl_active"] is False
    assert hp["action_space"] == "discrete" and hp["n_actions"] == 2
    assert hp["total_timesteps"] == steps[-1]
    assert "planned_timesteps" not in hp  # the logs give the steps seen, not the plan
    # a plan is what a config or the model states: rl-zoo's n_timesteps, learn()'s total,
    # sb3doctor train's config.json
    for config in (
        {"n_timesteps": 1e5},
        {"hyperparams": {"total_timesteps": 100_000}},
        {"total_timesteps": 100_000, "hyperparams": {"n_steps": 2048}},
    ):
        assert recover_hyperparams(run, config)["planned_timesteps"] == 100_000, config
    assert "planned_timesteps" not in recover_hyperparams(run, {"n_timesteps": "1e5"})  # YAML text


def test_early_stopping_shows_as_target_kl_active_and_config_wins() -> None:
    steps = [2048 * k for k in range(2, 7)]
    out = src(
        "stdout",
        {
            "time/iterations": (steps, [2, 3, 4, 5, 6]),
            "time/total_timesteps": (steps, steps),
            "train/n_updates": (steps, [10, 20, 23, 33, 43]),
            "train/approx_kl": (steps, [0.01] * 5),
            "train/learning_rate": (steps, [3e-4, 2.5e-4, 2e-4, 1.5e-4, 1e-4]),
        },
    )
    run = build_run(Path("/x/PPO_1"), "PPO_1", [out], {"algo": "PPO", "hyperparams": {"learning_rate": 5e-4}})
    assert run.hyperparams["n_epochs"] == 10
    assert run.hyperparams["target_kl_active"] is True
    assert run.hyperparams["lr_schedule"] == "decaying"
    assert run.hyperparams["learning_rate"] == 5e-4  # config.json holds the exact value


def test_a2c_rollout_size_from_counters() -> None:
    # Seed 004's table: 781000 steps, n_updates 156199 -> 5 samples per update.
    out = src(
        "stdout",
        {
            "train/policy_loss": ([781000], [1.27e-08]),
            "train/n_updates": ([781000], [156199]),
            "time/total_timesteps": ([781000], [781000]),
        },
    )
    run = build_run(Path("/x/A2C_1"), "A2C_1", [out])
    assert run.algo == "A2C"
    assert run.hyperparams["rollout_size"] == 5


def test_device_from_stdout_fact_and_config() -> None:
    out = src("stdout", {"train/policy_loss": ([500], [0.1])})
    out.facts["device"] = "cuda:0"
    assert build_run(Path("/x/A2C_1"), "A2C_1", [out]).hyperparams["device"] == "cuda"
    cfg = build_run(Path("/x/A2C_1"), "A2C_1", [out], {"device": "cpu"})
    assert cfg.hyperparams["device"] == "cpu"


def test_non_sb3_scalars_are_refused(tmp_path: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    from sb3doctor.errors import InputError
    from sb3doctor.sources import read_runs

    writer = SummaryWriter(str(tmp_path / "run"))
    for i in range(5):
        writer.add_scalar("Loss/train", 1.0 / (i + 1), i)
    writer.close()
    with pytest.raises(InputError, match="not an SB3 log: no SB3 metric among its tags \\(Loss/train\\)"):
        read_runs(tmp_path / "run")


def test_stable_baselines_v2_keys_are_named_as_such(tmp_path: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    from sb3doctor.errors import InputError
    from sb3doctor.sources import read_runs

    writer = SummaryWriter(str(tmp_path / "PPO2_1"))
    for i in range(3):
        writer.add_scalar("approxkl", 0.01 * (i + 1), 2048 * i)
        writer.add_scalar("nupdates", i + 1, 2048 * i)
    writer.close()
    with pytest.raises(InputError, match="stable-baselines v2"):
        read_runs(tmp_path / "PPO2_1")
