"""Recover the hyperparameters a run was trained with from its logs.

See ``shared/research/metrics-and-rules.md`` section 2.3: the learning rate and PPO's
clip range are logged; the rollout size and PPO's ``n_epochs`` follow from the counters;
the DQN exploration schedule and SAC's entropy-coefficient mode show in their keys. A
``config.json`` written by ``sb3doctor train`` gives the exact values and wins.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from typing import Any

from sb3doctor.model import LOGGER_TABLE_PREFIXES, Run, Series, is_number, last_table_before, paired_deltas

#: On-policy algorithms whose learn() writes a table after every rollout by default
#: (``log_interval=1``; A2C's default is 100).
_ONE_TABLE_PER_ROLLOUT = frozenset({"PPO", "RecurrentPPO", "MaskablePPO", "TRPO"})
#: A train/* key each of them logs at every update.
_ON_POLICY_LOSSES = ("train/value_loss", "train/policy_gradient_loss", "train/explained_variance")


def _first(series: Series | None) -> float | None:
    return series.values[0] if series is not None and len(series) else None


def _last(series: Series | None) -> float | None:
    return series.values[-1] if series is not None and len(series) else None


def _mode(values: list[float]) -> float | None:
    if not values:
        return None
    return Counter(values).most_common(1)[0][0]


# ``vf=[...]`` / ``"vf": [...]`` inside a policy_kwargs string (rl-zoo's config.yml keeps them as
# Python source text, e.g. ``dict(net_arch=dict(pi=[64, 64], vf=[]))``); the text is matched,
# never evaluated.
_VF_LIST = re.compile(r"""\bvf['"]?\s*[=:]\s*\[([^\[\]]*)\]""")
_SHARED_LIST = re.compile(r"""\bnet_arch['"]?\s*[=:]\s*\[([\d\s,]*)\]""")


def _count_layers(text: str) -> int:
    return len([part for part in text.split(",") if part.strip()])


def critic_layers(policy_kwargs: Any) -> int | None:
    """Hidden layers of an actor-critic's value network, from its ``policy_kwargs``.

    ``policy_kwargs`` is a dict (``sb3doctor train``'s config.json, a live model) or the
    Python-source string rl-zoo writes. ``net_arch=dict(pi=[64, 64], vf=[])`` gives 0 (a linear
    critic), ``net_arch=[64, 64]`` (shared sizes) gives 2. None when net_arch is not given, or is
    in a form not recognised: SB3's default ([64, 64] for MLP policies) then applies.
    """
    if isinstance(policy_kwargs, dict):
        arch = policy_kwargs.get("net_arch")
        if isinstance(arch, dict):
            vf = arch.get("vf")
            return len(vf) if isinstance(vf, (list, tuple)) else None
        if isinstance(arch, (list, tuple)):
            shared = [x for x in arch if isinstance(x, int)]
            heads = [x for x in arch if isinstance(x, dict)]  # SB3 1.x: [64, dict(vf=[...])]
            if heads:
                vf = heads[0].get("vf")
                return len(shared) + (len(vf) if isinstance(vf, (list, tuple)) else 0)
            return len(shared) if len(shared) == len(arch) else None
        return None
    if isinstance(policy_kwargs, str):
        found = _VF_LIST.search(policy_kwargs)
        if found:
            return _count_layers(found.group(1))
        plain = _SHARED_LIST.search(policy_kwargs)
        if plain:
            return _count_layers(plain.group(1))
    return None


def _warmup_bounds(run: Run) -> list[int] | None:
    """``[lo, hi]``: the steps an off-policy run's ``learning_starts`` lies within, from when its
    logger first wrote ``train/*``; None for other algorithms or where the logs do not show it.

    SB3 trains once ``num_timesteps > learning_starts``, after a rollout of ``train_freq`` steps
    per env, and a table holds the train/* values of every update since the one before. So the
    first update came after the last table without train/* (step ``before``) and by the first with
    them (step ``first``): ``learning_starts`` is under ``first`` and at least ``before`` minus one
    rollout (whose length the logs do not give; the bound is left at ``before``). rl-zoo's TD3 on
    Pendulum (``learning_starts=10000``, a table every 4 episodes of 200 steps) gives [9600, 10400].
    """
    from sb3doctor.sources.detect import OFF_POLICY

    if run.algo not in OFF_POLICY:
        return None
    trains = [s.steps[0] for name, s in run.metrics.items() if name.startswith("train/") and len(s)]
    if not trains:
        return None
    first = min(trains)
    if not any(name.startswith(LOGGER_TABLE_PREFIXES) for name in run.metrics):
        return None  # no table of SB3's logger at all (filtered logs): nothing bounds it
    before = last_table_before(run.metrics, first)
    return [int(before) if before is not None else 0, int(first)]


#: The name SB3's ``make_vec_env(..., monitor_dir=d)`` gives the Monitor file of the env of
#: each rank (rl-zoo's train.py writes the same): ``0.monitor.csv``, ``1.monitor.csv``, ...; a
#: script's own loop over ``Monitor(env, f"logs/env_{i}")`` gives ``env_0.monitor.csv``, ...
_RANKED_MONITOR = re.compile(r"(.*?)(\d+)\.monitor\.csv")


def envs_from_monitor_files(files: object) -> int | None:
    """The number of parallel envs that ranked Monitor files show (``0.monitor.csv`` to
    ``N-1.monitor.csv``, or one prefix with the ranks 0 to N-1: one file per env), or None where
    the names do not say it (a single ``monitor.csv`` may be a ``VecMonitor``'s, which writes
    every env's episodes into one file)."""
    if not isinstance(files, list) or not files:
        return None
    prefixes, ranks = set(), set()
    for f in files:
        m = _RANKED_MONITOR.fullmatch(re.split(r"[\\/]", str(f))[-1])
        if m is None:
            return None
        prefixes.add(m.group(1))
        ranks.add(int(m.group(2)))
    if len(prefixes) != 1 or ranks != set(range(len(files))):
        return None
    return len(files)


def recover_hyperparams(run: Run, config: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters recoverable from ``run``'s metrics, overridden by ``config``.

    Keys (present only when derivable): ``learning_rate`` (first logged value),
    ``learning_rate_final``, ``lr_schedule`` (``constant`` or ``decaying``), ``clip_range``,
    ``clip_range_vf_set``, ``rollout_size`` (n_steps x n_envs), ``table_steps`` (steps
    between logged tables, where the counters that give ``rollout_size`` are missing: an event
    file of PPO or TRPO, which log every rollout by default), ``learning_starts_between``
    (``[lo, hi]``, an off-policy run's warm-up as its first train/* table bounds it), ``n_epochs``,
    ``target_kl_active``, ``action_space`` (``box``/``discrete``), ``n_actions``,
    ``exploration_initial_eps``, ``exploration_final_eps``, ``ent_coef`` and
    ``ent_coef_auto`` (SAC family), ``total_timesteps`` (last step seen, unless a config gives
    it), ``planned_timesteps`` (the planned length, only where a config or the model states
    it: ``total_timesteps`` given to ``learn()``, rl-zoo's ``n_timesteps``), ``device``
    (``cpu``/``cuda``, from SB3's ``Using ... device`` line), ``critic_layers`` (hidden layers
    of the value network, from ``policy_kwargs``' ``net_arch``), ``n_envs`` (from the Monitor
    files of ``make_vec_env``, one per env, unless a config gives it), ``frame_skip`` (emulator
    frames per agent step where the Monitor counted frames: Atari, see ``sources.frames``).
    """
    m = run.metrics
    hp: dict[str, Any] = {}
    lr = m.get("train/learning_rate")
    if lr is not None and len(lr):
        hp["learning_rate"] = lr.values[0]
        hp["learning_rate_final"] = lr.values[-1]
        hp["lr_schedule"] = "constant" if max(lr.values) - min(lr.values) <= 1e-12 else "decaying"
    clip = _last(m.get("train/clip_range"))
    if clip is not None:
        hp["clip_range"] = clip
    if "train/clip_range_vf" in m:
        hp["clip_range_vf_set"] = True

    it, ts, nu = m.get("time/iterations"), m.get("time/total_timesteps"), m.get("train/n_updates")
    if it is not None and ts is not None:
        # Δtotal_timesteps / Δiterations within one learn() call (iterations restart per call).
        # Only finite ratios: a damaged log (inf, 1e308) must not turn into a hyperparameter.
        sizes = [
            float(round(r))
            for _, dit, dts in paired_deltas(it, ts)
            if dit > 0 and dts > 0 and math.isfinite(r := dts / dit)
        ]
        rollout = _mode(sizes)
        if rollout:
            hp["rollout_size"] = int(rollout)
    if run.algo in {"PPO", "RecurrentPPO", "MaskablePPO"} and it is not None and nu is not None:
        ratios = [
            r
            for _, dit, dnu in paired_deltas(it, nu)
            if dit > 0 and dnu >= 0 and math.isfinite(r := dnu / dit)
        ]
        epochs = _mode([float(round(r)) for r in ratios])
        if epochs:
            hp["n_epochs"] = int(epochs)
            # Early stopping on target_kl makes the per-iteration epoch count vary.
            hp["target_kl_active"] = any(abs(r - epochs) > 1e-9 for r in ratios) or bool(
                run.facts.get("early_stops")
            )
    elif run.algo == "A2C" and ts is not None and nu is not None:
        last_ts, last_nu = _last(ts), _last(nu)
        if (
            last_ts
            and last_nu is not None
            and last_nu >= 0
            and "rollout_size" not in hp
            and math.isfinite(size := last_ts / (last_nu + 1))
        ):
            hp["rollout_size"] = round(size)

    if run.algo in _ONE_TABLE_PER_ROLLOUT and "rollout_size" not in hp:
        # An event file has neither counter (SB3 keeps time/iterations and train/n_updates out of
        # TensorBoard), but these algorithms write a table after every rollout by default
        # (learn()'s log_interval=1, which rl-zoo keeps), so the steps between train/* points
        # are n_steps x n_envs. Kept apart from rollout_size: a run logged every k rollouts
        # spaces them k times wider, which only makes it look less like any reference.
        loss = next((m[k] for k in _ON_POLICY_LOSSES if k in m and len(m[k]) > 1), None)
        if loss is not None:
            spacing = _mode([float(b - a) for a, b in itertools.pairwise(loss.steps) if b > a])
            if spacing:
                hp["table_steps"] = int(spacing)

    warmup = _warmup_bounds(run)
    if warmup is not None:
        hp["learning_starts_between"] = warmup

    if run.algo in {"PPO", "RecurrentPPO", "MaskablePPO", "A2C", "TRPO"}:
        hp["action_space"] = "box" if "train/std" in m else "discrete"
        ent = _first(m.get("train/entropy_loss"))
        # -ent is ln|A|: above ~40 (10**17 actions) it is a damaged log, and exp() would overflow.
        if hp["action_space"] == "discrete" and ent is not None and -40 < ent < 0:
            # The policy head starts almost uniform, so the first entropy is ~ln|A|.
            hp["n_actions"] = max(2, round(math.exp(-ent)))

    eps = m.get("rollout/exploration_rate")
    if eps is not None and len(eps):
        hp["exploration_initial_eps"] = max(eps.values)
        hp["exploration_final_eps"] = eps.values[-1]
    ent_coef = m.get("train/ent_coef")
    if ent_coef is not None and len(ent_coef):
        hp["ent_coef"] = ent_coef.values[-1]
        hp["ent_coef_auto"] = "train/ent_coef_loss" in m
    rng = run.step_range()
    if rng is not None:
        hp["total_timesteps"] = rng[1]
    # How many episodes the Monitor files recorded: 0-2 over a long run means episodes never
    # end (no time limit), which also leaves SB3's rollout/ep_* keys out of the tables.
    if isinstance(run.facts.get("episodes"), int):
        hp["monitor_episodes"] = run.facts["episodes"]
    envs = envs_from_monitor_files(run.facts.get("monitor_files"))
    if envs is not None:
        hp["n_envs"] = envs

    # The device SB3 printed ("Using cuda device") lets rules judge GPU use for MLP policies.
    device = run.facts.get("device")
    if isinstance(device, str):
        hp["device"] = device.split(":")[0]

    # config.json (written by `sb3doctor train`) holds the exact values.
    if isinstance(config.get("device"), str):
        hp["device"] = config["device"].split(":")[0]
    given = config.get("hyperparams", config)
    if isinstance(given, dict):  # a hand-edited config.json may hold a list: the caller warns
        for key, value in given.items():
            hp[key] = value
    # The run's planned length, where a config or the model states it (learn(total_timesteps)
    # in sb3doctor train's config.json or DoctorCallback, rl-zoo's n_timesteps). The logs alone
    # give only the last step seen so far (``total_timesteps`` above), which says nothing about
    # how far into its plan a run still training is.
    stated = [config.get("total_timesteps")]
    if isinstance(given, dict):
        stated += [given.get("total_timesteps"), given.get("n_timesteps")]
    planned = [v for v in stated if is_number(v) and v > 0]
    if planned:
        hp["planned_timesteps"] = max(planned)
    layers = critic_layers(hp.get("policy_kwargs"))
    if layers is not None and "critic_layers" not in hp:
        hp["critic_layers"] = layers
    # Emulator frames per agent step where the Monitor counted frames (Atari): episode lengths
    # are frames, and rules that read them as steps divide by this (sources.frames).
    skip = run.facts.get("frame_skip")  # set by sources.frames only where it placed the episodes
    if is_number(skip) and skip >= 1:
        hp.setdefault("frame_skip", skip)
    # The env the run trained on (rl-zoo's args.yml, sb3doctor train's config.json).
    for key in ("env_id", "env"):
        if isinstance(config.get(key), str) and "env_id" not in hp:
            hp["env_id"] = config[key]
    return hp
