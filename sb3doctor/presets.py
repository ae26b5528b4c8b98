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
        "steps (measured: ep_len_mean 21.4 -> 5.9, success 1.0, explained_variance 0.985, approx_kl "
        "0.005, clip_fraction 0.056, entropy ratio 0.27).",
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
        "description": "learning_rate 0.02 (20x tuned): every update moves the policy far (measured: "
        "approx_kl median 0.094, clip_fraction 0.38) and the critic lags (explained_variance 0.49 vs "
        "0.985 for healthy; ep_len_mean 7.5 vs 5.9).",
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
        "description": "learning_rate 1e-6: nothing moves (measured: approx_kl 1.7e-7, clip_fraction 0, "
        "entropy ratio 1.0) and ep_rew_mean stays at the random-policy level (0.23-0.30 vs 1.0 for "
        "healthy). The untrained critic also gives explained_variance ~ -0.05.",
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
        "in the first few hundred updates, before it solves anything (measured: entropy ratio 0.02, "
        "success 0: the robot walks into a wall until the time limit every episode).",
    },
    "tiny-critic": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {},
        "n_envs": 4,
        "hyperparams": {**_PPO_TUNED, "policy_kwargs": {"net_arch": {"pi": [64, 64], "vf": []}}},
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["value_fn_poor"],
        "description": "A linear critic (net_arch vf=[]) on raw grid coordinates cannot represent "
        "gamma**distance-to-target: explained_variance stays at or below 0 (measured: median -0.80 over "
        "the first 14 updates, -0.06 over the second half, vs 0.985 for healthy) while the policy still "
        "learns (success 0.99 at 30k steps).",
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
        "description": "Rewards x1000 and no VecNormalize: the critic cannot follow (measured: value_loss "
        "3.8e5, explained_variance ~0) and its gradient dominates max_grad_norm clipping, so the policy "
        "moves less (approx_kl 0.004, clip_fraction 0.009 vs 0.005 / 0.056 for healthy).",
    },
    "sparse-large-grid": {
        "algo": "a2c",
        "env": WAREHOUSE,
        "env_kwargs": {"grid_rows": 15, "grid_cols": 15, "reward_mode": "sparse", "time_limit": 30},
        "n_envs": 1,
        "hyperparams": {"ent_coef": 0.01},
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["sparse_reward_no_learning"],
        "description": "The warehouse-robot notes' A2C (one env, SB3 defaults plus ent_coef 0.01) "
        "on a 15x15 grid with only "
        "the goal reward and a 30-step time limit (a random walk reaches the target in ~4% of episodes): "
        "the reward is too rare to learn from (measured over 30k steps: success_rate 0-0.11, never above "
        "the random level, ep_len_mean 29.8 -> 28.9, entropy ratio 0.98 throughout). Tuned PPO is no such "
        "fault here: it solves 10x10 (success 1.0) and even 20x20 with time_limit 40 (0.99) in 30k steps, "
        "because the observation holds the target's coordinates; A2C without the entropy bonus on the same "
        "15x15 grid collapses instead (success 0 from 5.5k steps, entropy ratio 0.015). At 20k steps the "
        "run happens to end at success 0.0 after a 0.11 high, which RET-COLLAPSE reports; at 30k: 0.08.",
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
        "description": "The warehouse-robot notes' setup (A2C, one env, 5-step rollouts) on an env "
        "without a time "
        "limit: once the policy walks into a wall the episode never ends, so ep_len_mean/ep_rew_mean "
        "freeze (measured: identical for 23+ tables / 11k steps after 6 episodes) while "
        "explained_variance reads 0 with value_loss ~0 and the entropy ratio falls to 0.03.",
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
        "greedy policy never explores (measured: exploration_rate 0 from step 150; ep_rew_mean 0.50 in "
        "the random warm-up, 0.05-0.12 greedy until 20k steps, 0.46 at 30k on 8x8, i.e. never better "
        "than random play).",
    },
    "clip-too-tight": {
        "algo": "ppo",
        "env": WAREHOUSE,
        "env_kwargs": {},
        "n_envs": 4,
        "hyperparams": {**_PPO_TUNED, "clip_range": 0.005},
        "timesteps": 30_000,
        "wrappers": {},
        "expected_categories": ["updates_too_small"],
        "description": "clip_range 0.005: after the first epoch most samples are clipped (measured: "
        "clip_fraction median 0.52) while approx_kl stays ~0, so learning crawls (success 0.41 at "
        "30k steps vs 1.0 for healthy; entropy ratio 0.99). The high clip_fraction does not mean "
        "aggressive updates: the clip range is too tight, and the updates too small.",
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
