"""sb3doctor.knowledge: the shipped reference data and its lazy loader (real files, no mocks)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest

from sb3doctor import knowledge

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sb3doctor" / "knowledge"
DATA_FILES = ["envs.csv", "rlzoo_benchmark.csv", "sb3_defaults.json", "rlzoo_hyperparams.json", "onsets.csv"]
CACHED = ["_env_rows", "_benchmark", "_defaults", "_hyperparams", "_onsets", "known_env_ids"]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CartPole-v1", "CartPole-v1"),
        ("  CartPole-v1\n", "CartPole-v1"),
        ("ale_py:ALE/Pong-v5", "ALE/Pong-v5"),
        ("sb3doctor.envs:sb3doctor/WarehouseRobot-v0", "sb3doctor/WarehouseRobot-v0"),
        ("sb3doctor/WarehouseRobot-v0", "sb3doctor/WarehouseRobot-v0"),
    ],
)
def test_normalize_env_id(raw: str, expected: str) -> None:
    assert knowledge.normalize_env_id(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CartPole-v1",
        "sb3doctor/WarehouseRobot-v0",
        "ALE/Pong-v5",
        "PongNoFrameskip-v4",
        "MiniGrid-Empty-5x5-v0",
    ],
)
def test_looks_like_env_id(text: str) -> None:
    assert knowledge.looks_like_env_id(text)


@pytest.mark.parametrize("text", ["PPO_1", "logs", "seed1", "", "runs/PPO_3", "v1", "-v1", "CartPole-v"])
def test_does_not_look_like_env_id(text: str) -> None:
    assert not knowledge.looks_like_env_id(text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PPO", "PPO"),
        ("ppo", "PPO"),
        ("RecurrentPPO", "RecurrentPPO"),
        ("ppo_lstm", "RecurrentPPO"),
        ("QRDQN", "QRDQN"),
        ("qrdqn", "QRDQN"),
        ("MaskablePPO", "MaskablePPO"),
        ("ppo_mask", "MaskablePPO"),
        ("crossq", "CrossQ"),
        ("MyAlgo", "MyAlgo"),
    ],
)
def test_normalize_algo(raw: str, expected: str) -> None:
    assert knowledge.normalize_algo(raw) == expected


# --------------------------------------------------------------------------- envs.csv


def test_cartpole_reference() -> None:
    ref = knowledge.env_reference("CartPole-v1")
    assert ref is not None
    assert ref.exact and ref.matched_id == "CartPole-v1" and ref.env_id == "CartPole-v1"
    assert ref.random_return is not None and 15 < ref.random_return < 30
    assert ref.random_std is not None and ref.random_std > 0
    assert ref.random_episodes == 100
    assert ref.max_episode_steps == 500
    assert ref.reward_threshold == 475
    assert ref.optimum == 500
    assert "make_knowledge.py" in ref.source
    with pytest.raises(FrozenInstanceError):
        ref.optimum = 1.0  # type: ignore[misc]


def test_version_aliases() -> None:
    lunar = knowledge.env_reference("LunarLander-v2")
    assert lunar is not None
    assert (lunar.env_id, lunar.matched_id, lunar.exact) == ("LunarLander-v2", "LunarLander-v3", False)
    hopper = knowledge.env_reference("Hopper-v4")
    assert hopper is not None and hopper.matched_id == "Hopper-v5" and not hopper.exact
    assert hopper.random_return == knowledge.env_reference("Hopper-v5").random_return  # type: ignore[union-attr]
    # A module prefix is not an alias: the id itself matched.
    prefixed = knowledge.env_reference("gymnasium.envs:CartPole-v1")
    assert prefixed is not None and prefixed.exact


def test_atari_aliases() -> None:
    ale = knowledge.env_reference("ALE/Pong-v5")
    assert ale is not None and ale.matched_id == "PongNoFrameskip-v4" and not ale.exact
    assert ale.random_return == -20.7
    assert ale.random_std is None and ale.random_episodes is None
    assert "Nature" in ale.source
    assert knowledge.env_reference("BreakoutNoFrameskip-v4").random_return == 1.7  # type: ignore[union-attr]
    gym_style = knowledge.env_reference("SpaceInvaders-v4")
    assert gym_style is not None and gym_style.matched_id == "SpaceInvadersNoFrameskip-v4"


def test_unknown_env() -> None:
    assert knowledge.env_reference("NoSuchEnv-v0") is None
    assert knowledge.env_reference("logs") is None
    assert knowledge.zoo_benchmark("PPO", "NoSuchEnv-v0") is None
    assert knowledge.zoo_benchmarks("NoSuchEnv-v0") == []
    assert knowledge.zoo_hyperparams("PPO", "NoSuchEnv-v0") is None


def test_envs_table_rows() -> None:
    mujoco = ["Hopper", "HalfCheetah", "Walker2d", "Ant", "Swimmer", "Reacher", "InvertedPendulum"]
    for env_id in [
        "Acrobot-v1",
        "MountainCar-v0",
        "MountainCarContinuous-v0",
        "Pendulum-v1",
        "LunarLanderContinuous-v3",
        "BipedalWalker-v3",
        "InvertedDoublePendulum-v5",
        "Humanoid-v5",
        *(f"{name}-v5" for name in mujoco),
    ]:
        ref = knowledge.env_reference(env_id)
        assert ref is not None and ref.exact, env_id
        assert ref.random_return is not None and ref.random_episodes, env_id
        assert ref.max_episode_steps is not None, env_id
    assert knowledge.env_reference("MountainCar-v0").random_return == -200  # type: ignore[union-attr]
    assert knowledge.env_reference("Pendulum-v1").reward_threshold is None  # type: ignore[union-attr]
    assert knowledge.env_reference("InvertedPendulum-v5").optimum == 1000  # type: ignore[union-attr]
    warehouse = knowledge.env_reference("sb3doctor/WarehouseRobot-v0")
    assert warehouse is not None and warehouse.optimum == 1.0 and warehouse.max_episode_steps == 24
    assert warehouse.random_return is not None and 0 <= warehouse.random_return <= 1


# --------------------------------------------------------------------------- rl-zoo benchmark


def test_zoo_benchmark_ppo_cartpole() -> None:
    for algo in ("PPO", "ppo"):
        result = knowledge.zoo_benchmark(algo, "CartPole-v1")
        assert result is not None
        assert result.algo == "PPO" and result.exact and result.matched_id == "CartPole-v1"
        assert result.mean_reward == 500 and result.std_reward == 0
        assert result.n_timesteps == 100_000
        assert result.eval_episodes == 300


def test_zoo_benchmark_aliases() -> None:
    # The zoo benchmarked LunarLander-v2 and the MuJoCo v3 envs.
    lunar = knowledge.zoo_benchmark("DQN", "LunarLander-v3")
    assert lunar is not None and lunar.matched_id == "LunarLander-v2" and not lunar.exact
    hopper = knowledge.zoo_benchmark("sac", "Hopper-v5")
    assert hopper is not None and hopper.matched_id == "Hopper-v3" and hopper.algo == "SAC"
    pong = knowledge.zoo_benchmark("QRDQN", "ALE/Pong-v5")
    assert pong is not None and pong.matched_id == "PongNoFrameskip-v4" and pong.n_timesteps == 10_000_000
    lstm = knowledge.zoo_benchmark("ppo_lstm", "CartPoleNoVel-v1")
    assert lstm is not None and lstm.algo == "RecurrentPPO"
    assert knowledge.zoo_benchmark("RecurrentPPO", "CartPoleNoVel-v1") == lstm
    assert knowledge.zoo_benchmark("NoSuchAlgo", "CartPole-v1") is None


def test_zoo_benchmarks_all_algos() -> None:
    results = knowledge.zoo_benchmarks("CartPole-v1")
    algos = [r.algo for r in results]
    assert algos == sorted(algos)
    assert {"A2C", "ARS", "DQN", "PPO", "QRDQN", "TRPO"} <= set(algos)
    assert all(r.mean_reward == 500 for r in results)
    assert len(knowledge.zoo_benchmarks("HalfCheetah-v5")) >= 5


def test_benchmark_file_is_complete() -> None:
    lines = (DATA / "rlzoo_benchmark.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and "22e3ff2" in lines[0]
    rows = [ln for ln in lines if ln and not ln.startswith("#")][1:]
    assert len(rows) == 199  # every row of benchmark.md at 22e3ff2
    assert sum(len(envs) for envs in knowledge._benchmark().values()) == len(rows)


# --------------------------------------------------------------------------- SB3 defaults


def test_sb3_default() -> None:
    assert knowledge.sb3_default("PPO", "learning_rate") == 0.0003
    assert knowledge.sb3_default("ppo", "n_steps") == 2048
    assert knowledge.sb3_default("DQN", "exploration_fraction") == 0.1
    assert knowledge.sb3_default("SAC", "ent_coef") == "auto"
    assert knowledge.sb3_default("RecurrentPPO", "n_steps") == 128
    assert knowledge.sb3_default("ppo_lstm", "n_steps") == 128
    assert knowledge.sb3_default("qrdqn", "exploration_fraction") == 0.005
    assert knowledge.sb3_default("PPO", "no_such_param") is None
    assert knowledge.sb3_default("NoSuchAlgo", "learning_rate") is None


def test_sb3_defaults() -> None:
    ppo = knowledge.sb3_defaults("PPO")
    assert ppo["gamma"] == 0.99 and ppo["clip_range"] == 0.2 and ppo["target_kl"] is None
    for left_out in ("policy", "env", "verbose", "seed", "device", "policy_kwargs", "rollout_buffer_class"):
        assert left_out not in ppo
    ppo["gamma"] = 0.5  # a copy: the cached table is untouched
    assert knowledge.sb3_default("PPO", "gamma") == 0.99
    assert knowledge.sb3_defaults("NoSuchAlgo") == {}
    expected = {"PPO", "A2C", "DQN", "SAC", "TD3", "DDPG", "QRDQN", "TQC", "TRPO", "ARS", "RecurrentPPO"}
    assert expected | {"MaskablePPO"} <= set(knowledge._defaults())


# --------------------------------------------------------------------------- rl-zoo hyperparameters


def test_zoo_hyperparams() -> None:
    ppo = knowledge.zoo_hyperparams("PPO", "CartPole-v1")
    assert ppo is not None
    assert ppo["n_epochs"] == 20 and ppo["n_envs"] == 8 and ppo["n_timesteps"] == 100_000
    assert isinstance(ppo["n_timesteps"], int)
    assert ppo["learning_rate"] == "lin_0.001"
    ppo["n_epochs"] = 1  # a copy
    assert knowledge.zoo_hyperparams("ppo", "CartPole-v1")["n_epochs"] == 20  # type: ignore[index]


def test_zoo_hyperparams_merges_and_aliases() -> None:
    # HalfCheetah-v4 holds the &mujoco-defaults anchor; Hopper-v4 merges it (<<: *mujoco-defaults).
    a2c_cheetah = knowledge.zoo_hyperparams("A2C", "HalfCheetah-v4")
    a2c_hopper = knowledge.zoo_hyperparams("A2C", "Hopper-v5")  # v5 -> the zoo's v4 entry
    assert a2c_cheetah is not None and a2c_hopper is not None
    assert a2c_hopper["n_timesteps"] == a2c_cheetah["n_timesteps"]
    assert "<<" not in a2c_hopper
    lstm = knowledge.zoo_hyperparams("ppo_lstm", "CartPoleNoVel-v1")
    assert lstm is not None and lstm == knowledge.zoo_hyperparams("RecurrentPPO", "CartPoleNoVel-v1")


def test_zoo_hyperparams_atari() -> None:
    atari = knowledge.zoo_hyperparams("PPO", "PongNoFrameskip-v4")
    assert atari is not None and atari["policy"] == "CnnPolicy" and atari["frame_stack"] == 4
    assert knowledge.zoo_hyperparams("PPO", "ALE/Breakout-v5") == atari
    assert knowledge.zoo_hyperparams("DQN", "ALE/Pong-v5")["policy"] == "CnnPolicy"  # type: ignore[index]
    assert knowledge.zoo_hyperparams("SAC", "ALE/Pong-v5") is None  # the zoo has no Atari SAC
    assert knowledge.zoo_hyperparams("NoSuchAlgo", "CartPole-v1") is None


def test_hyperparams_file_keys() -> None:
    table = knowledge._hyperparams()
    assert "HER" not in table and "her" not in table
    assert {"PPO", "A2C", "DQN", "QRDQN", "RecurrentPPO", "TQC"} <= set(table)
    for algo, envs in table.items():
        assert knowledge.normalize_algo(algo) == algo
        assert "default" not in envs
        for env_id, params in envs.items():
            assert env_id == knowledge.ATARI_KEY or knowledge.looks_like_env_id(env_id), (algo, env_id)
            assert "env_wrapper" not in params


# --------------------------------------------------------------------------- the whole


def test_known_env_ids() -> None:
    ids = knowledge.known_env_ids()
    assert isinstance(ids, frozenset)
    assert {
        "CartPole-v1",
        "Hopper-v5",
        "Hopper-v3",
        "sb3doctor/WarehouseRobot-v0",
        "PongNoFrameskip-v4",
    } <= ids
    assert all(knowledge.looks_like_env_id(env_id) for env_id in ids)


# --------------------------------------------------------------------------- onsets


def test_zoo_onset() -> None:
    td3 = knowledge.zoo_onset("TD3", "Pendulum-v1")
    assert td3 is not None and td3.algo == "TD3" and td3.env_id == "Pendulum-v1"
    assert td3.runs >= 4 and 0 < td3.onset_median <= td3.onset_max
    assert knowledge.zoo_onset("td3", "Pendulum-v0") == td3  # rl-zoo's name, another version
    assert knowledge.zoo_onset("PPO", "CartPole-v1") is None  # not measured
    assert knowledge.zoo_onset("TD3", "NoSuchEnv-v0") is None
    assert knowledge.zoo_onset("NoSuchAlgo", "Pendulum-v1") is None


def test_uses_zoo_settings() -> None:
    uses = knowledge.uses_zoo_settings
    # rl-zoo's DQN on CartPole: lr 2.3e-3 (SB3's default 1e-4), exploration_final_eps 0.04
    assert uses("DQN", "CartPole-v1", {"learning_rate": 0.0023})
    assert uses("DQN", "CartPole-v1", {"learning_rate": 0.0023, "exploration_final_eps": 0.04})
    # SB3's defaults: the learning rate is 23x off
    assert not uses("DQN", "CartPole-v1", {"learning_rate": 1e-4, "gamma": 0.99})
    # nothing stated, or only what SB3's default and rl-zoo share (TD3's lr 1e-3): not shown
    assert not uses("DQN", "CartPole-v1", {})
    assert not uses("TD3", "Pendulum-v1", {"learning_rate": 0.001})
    assert uses("TD3", "Pendulum-v1", {"learning_rate": 0.001, "learning_starts": 10000})
    assert not uses("TD3", "Pendulum-v1", {"learning_starts": 100, "gamma": 0.98})
    # a discount is compared by its horizon: 0.5 is no "within 2x" of 0.98
    assert not uses("TD3", "Pendulum-v1", {"learning_starts": 10000, "gamma": 0.5})
    # flags and settings that are not constructor arguments count (n_envs, normalize)
    assert uses("TRPO", "MountainCar-v0", {"n_envs": 2, "normalize": True})
    assert not uses("TRPO", "MountainCar-v0", {"n_envs": 2, "normalize": False})
    # the budget is no setting: a shortened run of the tuned agent is that agent
    assert uses("DQN", "CartPole-v1", {"learning_rate": 0.0023, "n_timesteps": 20_000})
    assert not uses("DQN", "NoSuchEnv-v0", {"learning_rate": 0.0023})
    # a setting rl-zoo's entry leaves out is SB3's default there: PPO on LunarLander states no
    # vf_coef, so 0.5; 1e-4 is another agent (a setting rl-zoo never records is not compared)
    zoo_ppo = {"n_envs": 16, "n_steps": 1024, "n_epochs": 4}
    assert uses("PPO", "LunarLander-v3", {**zoo_ppo, "vf_coef": 0.5})
    assert not uses("PPO", "LunarLander-v3", {**zoo_ppo, "vf_coef": 1e-4})
    assert not uses("PPO", "LunarLander-v3", {**zoo_ppo, "use_sde": True})
    assert uses("TRPO", "MountainCar-v0", {"n_envs": 2, "normalize": True, "n_critic_updates": 20})


def test_uses_zoo_settings_from_the_rollout_an_event_file_gives() -> None:
    """An event file of PPO states its learning rate and, through the steps between its tables,
    n_steps x n_envs: rl-zoo's PPO on LunarLander collects 16 x 1024 steps, SB3's default 2048."""
    uses = knowledge.uses_zoo_settings
    lr = {"learning_rate": 3e-4}  # SB3's default, and rl-zoo's for PPO on LunarLander
    assert not uses("PPO", "LunarLander-v3", lr)
    assert uses("PPO", "LunarLander-v3", {**lr, "table_steps": 16384})
    assert uses("PPO", "LunarLander-v3", {**lr, "rollout_size": 16384})
    # SB3's default rollout (one env) is no evidence; one 2x off or more is evidence against
    assert not uses("PPO", "LunarLander-v3", {**lr, "table_steps": 2048})
    assert not uses("PPO", "LunarLander-v3", {**lr, "n_epochs": 4, "table_steps": 163840})
    # n_steps and n_envs stated: compared key by key, the rollout adds nothing
    assert uses("PPO", "LunarLander-v3", {"n_steps": 1024, "n_envs": 16, "rollout_size": 1})
    # rl-zoo's n_steps with SB3's one env (TRPO on Pendulum: 2 x 1024 = TRPO's default 2048)
    assert not uses("TRPO", "Pendulum-v1", {"table_steps": 2048})
    # off-policy algorithms have no rollout (DQN's n_steps is its n-step return)
    assert not uses("TD3", "Pendulum-v1", {"learning_rate": 0.001, "table_steps": 800})
    assert uses("DQN", "CartPole-v1", {"learning_rate": 0.0023, "rollout_size": 100_000})


def test_uses_zoo_settings_from_the_warm_up_an_event_file_bounds() -> None:
    """An off-policy event file states no learning_starts, but its first train/* table bounds
    it: rl-zoo's TD3 on Pendulum (10,000) logs train/* first at 10,400 after a table at 9,600."""
    uses = knowledge.uses_zoo_settings
    lr = {"learning_rate": 0.001}  # SB3's default for TD3, and rl-zoo's on Pendulum
    assert uses("TD3", "Pendulum-v1", {**lr, "learning_starts_between": [9600, 10400]})
    assert not uses("TD3", "Pendulum-v1", {**lr, "learning_starts_between": [0, 800]})  # SB3's 100
    # a stated learning_starts is compared as such
    stated = {**lr, "learning_starts": 100, "learning_starts_between": [9600, 10400]}
    assert not uses("TD3", "Pendulum-v1", stated)
    # DQN on CartPole: rl-zoo trains every 256 steps from 1,000, so its first update (1,024) can
    # come after a table past 1,000; SB3's defaults log train/* within the first ~100-200 steps
    zoo_dqn = {"learning_rate": 0.0023, "exploration_final_eps": 0.04}
    assert uses("DQN", "CartPole-v1", {**zoo_dqn, "learning_starts_between": [1020, 1122]})
    assert not uses("DQN", "CartPole-v1", {**zoo_dqn, "learning_starts_between": [86, 151]})


@pytest.mark.parametrize(
    ("folder", "bounds", "stated"),
    [
        ("td3_pendulum", [1000, 1200], 1000),
        ("sac_pendulum", [0, 200], 100),
        ("dqn_cartpole", [847, 1105], 1000),
    ],
)
def test_the_warm_up_bounds_hold_the_learning_starts_the_run_was_given(
    folder: str, bounds: list[int], stated: int
) -> None:
    from sb3doctor.sources import read_runs

    (event,) = (ROOT / "fixtures" / folder).rglob("events.out.tfevents.*")
    (run,) = read_runs(event)
    assert run.hyperparams["learning_starts_between"] == bounds
    (full,) = read_runs(event.parent)
    assert full.hyperparams["learning_starts"] == stated  # from the run's config.json
    assert bounds[0] - 4 <= stated < bounds[1]  # within one rollout (train_freq <= 4 here)


def test_onsets_file_is_what_the_onset_runs_give(tmp_path: Path) -> None:
    """onsets.csv is what make_knowledge.py measures on the committed onset runs, and every
    row's numbers agree with its list of per-seed onsets."""
    sys.path.insert(0, str(ROOT / "bench" / "knowledge"))
    try:
        import make_knowledge
    finally:
        sys.path.remove(str(ROOT / "bench" / "knowledge"))
    make_knowledge.make_onsets(tmp_path, ROOT / "bench" / "knowledge" / "onset_runs")

    def numbers(path: Path) -> list[tuple[str, ...]]:
        rows = make_knowledge._read_csv(path)
        return [tuple(row[c] for c in make_knowledge.ONSET_COLUMNS if c != "source") for row in rows]

    shipped = numbers(DATA / "onsets.csv")
    assert shipped == numbers(tmp_path / "onsets.csv")
    assert {(algo, env) for algo, env, *_ in shipped} >= {("TD3", "Pendulum-v1"), ("DQN", "CartPole-v1")}
    for algo, env_id, runs, onset_max, median, onsets, critic_max, critic_onsets, _ in shipped:
        values = [int(o.lstrip(">")) for o in onsets.split(";")]
        assert len(values) == int(runs) and max(values) == int(onset_max), (algo, env_id)
        assert min(values) <= int(median) <= max(values)
        if critic_onsets:  # on-policy agents log explained_variance
            critics = [int(o.lstrip(">")) for o in critic_onsets.split(";")]
            assert len(critics) == int(runs) and max(critics) == int(critic_max), (algo, env_id)
        else:
            assert critic_max == "" and algo in ("DQN", "QRDQN", "TD3", "DDPG"), (algo, env_id)
    # rl-zoo's PPO on LunarLander: its critic explains nothing (EV within 0.05 of 0) for the
    # whole ~150,000 measured steps in 7 of 8 seeds
    ppo = knowledge.zoo_onset("PPO", "LunarLander-v3")
    assert ppo is not None and ppo.critic_onset_max is not None and ppo.critic_onset_max >= 140_000
    assert knowledge.zoo_onset("TD3", "Pendulum-v1").critic_onset_max is None  # type: ignore[union-attr]


def test_load_everything_once() -> None:
    for name in CACHED:
        getattr(knowledge, name)()
    for env_id in sorted(knowledge.known_env_ids()):
        knowledge.env_reference(env_id)
        knowledge.zoo_benchmarks(env_id)
    for algo in knowledge._defaults():
        assert knowledge.sb3_defaults(algo)
        knowledge.zoo_onset(algo, "Pendulum-v1")
    for name in CACHED:
        assert getattr(knowledge, name).cache_info().currsize == 1, name


def test_data_files_are_small() -> None:
    for name in DATA_FILES:
        assert (DATA / name).stat().st_size < 200_000, name


PROBE = """
import json, sys
import sb3doctor.knowledge as k
print(json.dumps({
    "heavy": sorted(m for m in ("numpy", "yaml", "gymnasium", "pandas") if m in sys.modules),
    "cached": {name: getattr(k, name).cache_info().currsize for name in %r},
}))
"""


def test_import_is_light_and_lazy() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE % CACHED], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    assert probe["heavy"] == []
    assert probe["cached"] == dict.fromkeys(CACHED, 0)


@pytest.mark.parametrize(
    ("policy_kwargs", "layers"),
    [
        ("dict(net_arch=dict(pi=[64, 64], vf=[]))", 0),
        ("dict(log_std_init=-2, ortho_init=False, net_arch=dict(pi=[256], vf=[256]))", 1),
        ("dict(net_arch=[64, 64])", 2),
        ("{'net_arch': {'pi': [64], 'vf': [32, 32]}}", 2),
        ("dict(ortho_init=False)", None),
        ({"net_arch": {"pi": [64, 64], "vf": []}}, 0),
        ({"net_arch": [128, 128, 128]}, 3),
        ({"net_arch": [64, {"pi": [32], "vf": [16]}]}, 2),
        ({"activation_fn": "tanh"}, None),
        (None, None),
    ],
)
def test_critic_layers_from_policy_kwargs(policy_kwargs: object, layers: int | None) -> None:
    from sb3doctor.sources.hyperparams import critic_layers

    assert critic_layers(policy_kwargs) == layers
