"""Tell the algorithm of a run from its metric keys and folder name.

Follows the decision table of ``shared/research/metrics-and-rules.md`` section 2.1: the key
set decides the family, the folder name (SB3's ``tb_log_name``, ``PPO_1``) or the
``Logging to logs/PPO_1`` stdout line splits families whose keys are identical
(PPO / RecurrentPPO / MaskablePPO, DQN / QR-DQN, SAC / TQC / CrossQ, TD3 / DDPG).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

#: Families and the algorithms whose logs share their key set.
FAMILIES: dict[str, tuple[str, ...]] = {
    "PPO": ("PPO", "RecurrentPPO", "MaskablePPO"),
    "A2C": ("A2C",),
    "TRPO": ("TRPO",),
    "ARS": ("ARS",),
    "DQN": ("DQN", "QRDQN"),
    "SAC": ("SAC", "TQC", "CrossQ"),
    "TD3": ("TD3", "DDPG"),
}
ALGORITHMS: tuple[str, ...] = tuple(a for algos in FAMILIES.values() for a in algos)
ON_POLICY = frozenset({"PPO", "RecurrentPPO", "MaskablePPO", "A2C", "TRPO"})
OFF_POLICY = frozenset({"DQN", "QRDQN", "SAC", "TQC", "CrossQ", "TD3", "DDPG"})

_NAME_RE = re.compile(
    r"(?<![A-Za-z])(RecurrentPPO|MaskablePPO|PPO|A2C|TRPO|ARS|QRDQN|QR-DQN|DQN|SAC|TQC|CrossQ|TD3|DDPG)"
    r"(?![A-Za-z])",
    re.IGNORECASE,
)
_CANONICAL = {a.lower(): a for a in ALGORITHMS} | {"qr-dqn": "QRDQN"}


def algo_from_name(names: Iterable[str]) -> str | None:
    """The algorithm named in a folder name such as ``PPO_1`` or ``logs/sac_pendulum_3``."""
    for name in names:
        for part in reversed(re.split(r"[\\/]", name)):
            m = _NAME_RE.search(part)
            if m:
                return _CANONICAL[m.group(1).lower()]
    return None


def family_from_keys(keys: Collection[str]) -> str | None:
    """The algorithm family from the union of logged keys, or None when undecidable."""
    k = set(keys)
    if {"train/delta_std", "train/step_size", "rollout/return_std"} & k:
        return "ARS"
    if {"train/policy_objective", "train/kl_divergence_loss", "train/is_line_search_success"} & k:
        return "TRPO"
    if {"train/approx_kl", "train/clip_fraction", "train/clip_range", "train/policy_gradient_loss"} & k:
        return "PPO"
    if "train/policy_loss" in k:
        return "A2C"
    if "rollout/exploration_rate" in k:
        return "DQN"
    if "train/ent_coef" in k or "train/ent_coef_loss" in k:
        return "SAC"
    if {"train/actor_loss", "train/critic_loss"} & k:
        return "TD3"
    return None


def detect_algo(keys: Collection[str], names: Iterable[str] = ()) -> str | None:
    """Detect the algorithm of a run.

    :param keys: every metric key logged by the run
    :param names: folder names and ``Logging to`` paths that may carry SB3's ``tb_log_name``
    :return: an algorithm name from :data:`ALGORITHMS`, or None when the keys do not tell
    """
    named = algo_from_name(names)
    family = family_from_keys(keys)
    if family is None:
        # Only the first table of an on-policy run (no train/ yet) or an off-policy run
        # before learning_starts: the name is all we have, and it must agree with the
        # on/off-policy hint the time/ keys give.
        if named is None:
            return None
        if "time/iterations" in keys and named not in ON_POLICY:
            return None
        if "time/episodes" in keys and named not in OFF_POLICY:
            return None
        return named
    if named is not None and named in FAMILIES[family]:
        return named
    return family
