"""Whether two logs are the same training, judged by their content, not by their folders.

SB3 writes one training to several places at once: ``tensorboard_log="logs/"`` puts the event
file in ``logs/PPO_1/`` while a shell ``tee`` puts the printed tables in ``logs/train.log``;
``configure(folder, ["stdout", "csv", "tensorboard"])`` writes the same dump three times. Read
as separate runs, every finding would be reported twice. Two seeds of one configuration, on
the other hand, log at exactly the same steps (2048, 4096, ...) and must stay two runs. So the
test is on the values: at the steps both logs hold, the metrics they share agree to the
precision SB3's stdout table prints (3 significant digits), which two different trainings
practically never do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sb3doctor.model import Series

#: Keys compared: what the training computed. ``time/*`` (fps, elapsed time) differs between
#: two writers of one training only by when each formatted it, and carries no identity.
_COMPARED = ("rollout/", "train/", "eval/")
#: ... except schedules and counters, which every seed of a configuration logs identically.
_SAME_FOR_EVERY_SEED = frozenset(
    {
        "train/learning_rate",
        "train/clip_range",
        "train/clip_range_vf",
        "train/n_updates",
        "rollout/exploration_rate",
    }
)
#: SB3's stdout table prints 3 significant digits (``f"{value:<8.3g}"``: 19.348 -> "19.3"):
#: a relative difference up to half a unit of the 3rd digit is the same value.
_REL_TOL = 6e-3
#: At least this many (key, step) points must be compared: one shared point proves nothing.
MIN_COMPARED = 3
#: Share of the compared points that must agree. Not 1.0: a value printed as "-0" or a key
#: that HumanOutputFormat truncated and mapped back may differ in a point or two.
MIN_AGREEMENT = 0.9


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= _REL_TOL * max(abs(a), abs(b)) + 1e-12


def agreement(a: Mapping[str, Series], b: Mapping[str, Series]) -> tuple[int, int]:
    """``(agreeing, compared)`` points of the training metrics ``a`` and ``b`` share, at the
    steps both hold."""
    agreeing = compared = 0
    for key, sa in a.items():
        if not key.startswith(_COMPARED) or key in _SAME_FOR_EVERY_SEED:
            continue
        sb = b.get(key)
        if sb is None or not len(sa) or not len(sb):
            continue
        at_b = dict(zip(sb.steps, sb.values, strict=True))
        for step, value in zip(sa.steps, sa.values, strict=True):
            other = at_b.get(step)
            if other is None:
                continue
            compared += 1
            agreeing += _close(value, other)
    return agreeing, compared


def same_training(a: Mapping[str, Series], b: Mapping[str, Series]) -> bool:
    """True when the two metric tables are the same training written twice (see the module
    docstring): enough shared points, nearly all of them equal to stdout's precision."""
    agreeing, compared = agreement(a, b)
    return compared >= MIN_COMPARED and agreeing >= MIN_AGREEMENT * compared


def continues(before: Mapping[str, Series], after: Mapping[str, Series]) -> bool:
    """True when ``after`` picks up where ``before`` stopped: the same keys, and its first
    step past ``before``'s last (``learn(reset_num_timesteps=False)``, or a job resubmitted
    from a checkpoint). A new training starts its timesteps again from the beginning."""
    keys_a = {k for k, s in before.items() if len(s)}
    keys_b = {k for k, s in after.items() if len(s)}
    if not keys_a or keys_a != keys_b:
        return False
    last = max(s.steps[-1] for k, s in before.items() if len(s))
    first = min(s.steps[0] for k, s in after.items() if len(s))
    return first > last
