"""Recover recent episode returns from SB3's running means, where no monitor.csv was read.

SB3 logs ``rollout/ep_rew_mean`` and ``rollout/ep_len_mean`` as means over the last
``stats_window_size`` (100) finished episodes. With only a TensorBoard event file, that running
mean is all the return data there is, and it lags: an off-policy run on Pendulum finishes about
75 episodes in 15,000 steps, so its last ``ep_rew_mean`` (-1011) still averages the random
episodes of its first half while the latest ones are at -150. A rule comparing that with the
reference would call a solved run "no better than random play".

Off-policy algorithms with one env write a table when an episode ends, every ``log_interval``
episodes. Then the number of finished episodes at each table is exact in the running means
themselves: while fewer than 100 have finished, ``ep_len_mean`` is the mean length of all of
them and ``total_timesteps`` their summed length, so ``total_timesteps / ep_len_mean`` is the
episode count, an integer that grows by ``log_interval`` per table. From the counts the sums
follow (``ep_rew_mean x count``), and their differences are the mean returns of the episodes
each table added; past 100 episodes the window's sums drop the oldest episodes, whose batch
means are known from the earlier tables, and the lengths check every step of the recursion.

Where any of this does not hold (on-policy runs end rollouts mid-episode, a stdout table rounds
to 3 significant digits, a ``log_interval`` that does not divide the window), :func:`episode_batches`
returns None and the running mean is used as before: for runs that finish many episodes per
table it is close to the recent returns anyway.

One assumption cannot be checked from the logs: the window. A run trained with another
``stats_window_size`` whose hyperparameters are not given, on episodes of one fixed length
(Pendulum's 200 steps), passes every check above with wrong batch means; with varying lengths
the length check refuses it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sb3doctor.model import Series, is_number

#: The algorithms whose tables are written when an episode ends (SB3's off-policy loop dumps
#: every ``log_interval`` episodes). ARS also writes one per fixed number of episodes, but its
#: running mean is not over the episodes monitor.csv records (checked on 8 real runs), and
#: on-policy algorithms write theirs mid-episode.
EPISODE_END_TABLES = ("DQN", "QRDQN", "SAC", "TD3", "DDPG", "TQC", "CrossQ")
#: SB3's default ``stats_window_size``: the running means average this many episodes.
STATS_WINDOW = 100
#: How far ``total_timesteps / ep_len_mean`` may be from an integer for the count to be exact.
#: TensorBoard stores values as float32 (7 digits): 60,000 steps / 523.7 is off by under 1e-3.
_COUNT_TOL = 0.02
#: How far the window's summed lengths may miss the recursion's (in mean episode lengths)
#: before the reconstruction is abandoned: the lengths are exact, so this is float32 noise.
_LENGTH_TOL = 0.05


@dataclass
class EpisodeBatches:
    """Mean returns of the episodes each table added: one point per table, ``per_point`` each."""

    series: Series
    per_point: int


def _rounded_to_3_digits(values: list[float]) -> bool:
    """Every value as SB3's stdout table prints it (``%.3g``): too coarse to difference."""
    return all(v == 0 or math.isclose(float(f"{v:.3g}"), v, rel_tol=1e-6) for v in values)


def episode_batches(
    returns: Series, lengths: Series | None, algo: str | None, window: int = STATS_WINDOW
) -> EpisodeBatches | None:
    """The mean return of the episodes that finished between consecutive tables, recovered from
    SB3's running means ``returns`` (``ep_rew_mean``) and ``lengths`` (``ep_len_mean``) of a
    run of ``algo``; None where the recovery would not be exact (see the module docstring).

    :param window: the running means' window, SB3's ``stats_window_size``
    """
    if algo not in EPISODE_END_TABLES or lengths is None or len(returns) < 2 or window < 1:
        return None
    length_at = dict(zip(lengths.steps, lengths.values, strict=True))
    tables = [
        (int(step), float(ret), float(length_at[step]))
        for step, ret in zip(returns.steps, returns.values, strict=True)
        if step in length_at and math.isfinite(ret) and math.isfinite(length_at[step]) and length_at[step] > 0
    ]
    if len(tables) < 2 or any(b[0] <= a[0] for a, b in itertools.pairwise(tables)):
        return None
    if _rounded_to_3_digits([t[1] for t in tables]) and len({t[1] for t in tables}) > 1:
        return None
    # The first table's episode count is the batch size (log_interval): an exact integer, or the
    # table was written mid-episode (on-policy rollouts) and the counts are unknown.
    first = tables[0][0] / tables[0][2]
    per_table = round(first)
    if abs(first - per_table) > _COUNT_TOL or not 1 <= per_table <= window:
        return None
    if window % per_table:
        # The oldest episodes leave the window part of a batch at a time, and a batch's mean
        # says nothing about its parts: exact only when the window is a whole number of batches.
        return None
    # While the window holds every episode, every table's count must be exact and on schedule;
    # past it, the length check below stands in.
    for i, (step, _, length) in enumerate(tables):
        expected = (i + 1) * per_table
        if expected > window:
            break
        if abs(step / length - expected) > _COUNT_TOL:
            return None  # not one table every log_interval episodes

    # Batches of ``per_table`` episodes, oldest first: (mean return, mean length).
    batches: list[tuple[float, float]] = []
    out_steps: list[int] = []
    prev_step, prev_ret, prev_len, n_prev = 0, 0.0, 0.0, 0
    for step, ret, length in tables:
        n = n_prev + per_table
        in_window, prev_in_window = min(n, window), min(n_prev, window)
        # Past the window, its oldest batch leaves it whole (the window is a whole number of
        # batches): its summed returns and lengths come out of the window's sums.
        dropped_ret, dropped_len = 0.0, 0.0
        if n > window:
            old_ret, old_len = batches[(n_prev - window) // per_table]
            dropped_ret, dropped_len = per_table * old_ret, per_table * old_len
        new_len = in_window * length - (prev_in_window * prev_len - dropped_len)
        # The new episodes' lengths add up to the steps since the previous table: if not, the
        # counts (or the window) are not what the recursion assumes.
        if abs(new_len - (step - prev_step)) > _LENGTH_TOL * length * max(1, per_table):
            return None
        new_ret = in_window * ret - (prev_in_window * prev_ret - dropped_ret)
        batches.append((new_ret / per_table, (step - prev_step) / per_table))
        out_steps.append(step)
        prev_step, prev_ret, prev_len, n_prev = step, ret, length, n
    return EpisodeBatches(Series.from_points(out_steps, [b[0] for b in batches]), per_table)


def window_of(hyperparams: Mapping[str, Any]) -> int:
    """The running means' window: the model's ``stats_window_size`` where known, else SB3's 100."""
    given = hyperparams.get("stats_window_size")
    return int(given) if is_number(given) and given >= 1 else STATS_WINDOW
