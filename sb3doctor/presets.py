"""Fault presets for ``sb3doctor train``: hyperparameters that induce one diagnosable condition.

Each preset is plain data (no heavy imports), so ``sb3doctor rules``-style listings and tests
can read it cheaply. Keys:

* ``algo``: the SB3 algorithm (``ppo``, ``a2c``, ``dqn``, ``sac``, ``td3``)
* ``env``: a gymnasium env id (the reference env unless stated)
* ``env_kwargs``: keyword arguments for ``gymnasium.make``
* ``n_envs``: number of parallel envs (``DummyVecEnv``)
* ``hyperparams``: constructor arguments for the SB3 algorithm (JSON-able; ``policy_kwargs``
  may name activations as strings, e.g. ``"activation_fn": "tanh"``)
* ``timesteps``: default training budget (short: seconds to about a minute on one CPU core)
* ``wrappers``: env wrappers applied inside ``Monitor`` (so the logs show what the agent
  sees), e.g. ``{"reward_scale": 1000.0}``
* ``expected_categories``: the categories ``sb3doctor analyze`` should report on the run
* ``description``: the condition the preset induces and what it looks like in the logs

The "measured" numbers in the descriptions come from ``bench/validate_presets.py`` runs on
CPU with the preset's defaults (seed 0); see that script to reproduce them.
"""

from __future__ import annotations

from typing import Any

WAREHOUSE = "sb3doctor/WarehouseRobot-v0"

#: Tuned PPO settings for the 6x6 reference env, shared by the PPO presets so that each
#: preset differs from ``healthy`` in the one knob it breaks.
_PPO_TUNED: dict[str, Any] = {
    "learning_rate": 1e-3,
    "n_steps": 256,
    "batch_size": 256,
    "n_epochs": 10,
    "gamma": 0.95,
    "ent_coef": 0.01,
}

PRESETS: dict[str, dict[str, Any]] = {
    "healthy": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {},
        "n_envs": 4,
        "hyperparams": dict(_PPO_TUNED),
        "timesteps": 40_000,
        "wrappers": {},
        "expected_categories": [],
        "description": "Tuned PPO on the 6x6 sparse grid: learns to reach the target in near-optimal "
        "steps with approx_kl and clip_fraction inside seed 002's bands and a well-fitted critic.",
    },
    "lr-too-high": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {},
        "n_envs": 4,
        "hyperparams": {**_PPO_TUNED, "learning_rate": 0.02},
        "timesteps": 20_000,
        "wrappers": {},
        "expected_categories": ["lr_too_high"],
        "description": "learning_rate 0.02 (20x tuned): every update moves the policy far, approx_kl "
        "median well above 0.05 and clip_fraction above 0.3.",
    },
    "lr-too-low": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {},
        "n_envs": 4,
        "hyperparams": {**_PPO_TUNED, "learning_rate": 1e-6},
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["updates_too_small"],
        "description": "learning_rate 1e-6: approx_kl below 0.005 and clip_fraction ~0 while ep_rew_mean "
        "stays at the random-policy level.",
    },
    "entropy-collapse": {
        "algo": "a2c",
        "env": WAREHOUSE,
        "env_kwargs": {},
        "n_envs": 1,
        "hyperparams": {"learning_rate": 0.01, "ent_coef": 0.0},
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["entropy_collapse"],
        "description": "A2C with learning_rate 0.01 and no entropy bonus: the policy turns deterministic "
        "within a few thousand steps, before it solves the task.",
    },
    "tiny-critic": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {"reward_mode": "proximity"},
        "n_envs": 4,
        "hyperparams": {**_PPO_TUNED, "policy_kwargs": {"net_arch": {"pi": [64, 64], "vf": []}}},
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["value_fn_poor"],
        "description": "A linear critic (net_arch vf=[]) on raw grid coordinates cannot represent the "
        "value of a distance-shaped reward: explained_variance stays low.",
    },
    "reward-scale": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {},
        "n_envs": 4,
        "hyperparams": dict(_PPO_TUNED),
        "timesteps": 30_000,
        "wrappers": {"reward_scale": 1000.0},
        "expected_categories": ["reward_scale_too_large"],
        "description": "Rewards x1000 and no VecNormalize: value_loss in the 1e4-1e5 range, the critic "
        "gradient dominates max_grad_norm clipping and explained_variance stays low.",
    },
    "sparse-large-grid": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {"grid_rows": 10, "grid_cols": 10, "reward_mode": "sparse"},
        "n_envs": 4,
        "hyperparams": dict(_PPO_TUNED),
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["sparse_reward_no_learning"],
        "description": "10x10 grid with only the goal reward (the seed's 'very hard to converge' case): "
        "the random policy rarely reaches the target within the time limit, ep_rew_mean stays near 0.",
    },
    "no-time-limit": {
        "algo": "a2c",
        "env": WAREHOUSE,
        "env_kwargs": {"time_limit": None},
        "n_envs": 1,
        "hyperparams": {"learning_rate": 0.003},
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["episode_stats_frozen"],
        "description": "The seed 004 setup (A2C, one env, 5-step rollouts) on an env without a time "
        "limit: once the policy walks into a wall the episode never ends, so ep_len_mean/ep_rew_mean "
        "freeze while explained_variance reads 0 with value_loss ~0.",
    },
    "no-exploration": {
        "algo": "dqn",
        "env": WAREHOUSE,
        "env_kwargs": {"grid_rows": 8, "grid_cols": 8},
        "n_envs": 1,
        "hyperparams": {
            "learning_starts": 1000,
            "exploration_fraction": 0.005,
            "exploration_initial_eps": 1.0,
            "exploration_final_eps": 0.0,
            "target_update_interval": 500,
        },
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["insufficient_exploration"],
        "description": "DQN whose epsilon reaches 0 after 150 steps, before learning starts at 1000: the "
        "greedy policy never explores and ep_rew_mean stays low.",
    },
    "clip-aggressive": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {},
        "n_envs": 4,
        "hyperparams": {**_PPO_TUNED, "clip_range": 0.005},
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["clip_too_aggressive"],
        "description": "clip_range 0.005: after the first epoch almost every sample is clipped "
        "(clip_fraction > 0.5) while approx_kl stays tiny, so learning crawls.",
    },
}


def get_preset(name: str) -> dict[str, Any]:
    """Return a copy of preset ``name``.

    :raises KeyError: unknown preset (the message lists the known ones)
    """
    try:
        preset = PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}") from None
    return {
        **preset,
        "env_kwargs": dict(preset["env_kwargs"]),
        "hyperparams": dict(preset["hyperparams"]),
        "wrappers": dict(preset["wrappers"]),
        "expected_categories": list(preset["expected_categories"]),
    }
