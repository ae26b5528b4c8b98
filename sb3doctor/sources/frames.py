"""Put a Monitor that counts emulator frames on the logger's step axis (Atari's frame skip).

SB3's ``make_atari_env`` and rl-zoo's ``env_wrapper: AtariWrapper`` both wrap each env in
``Monitor`` *before* ``AtariWrapper``, whose ``MaxAndSkipEnv`` repeats every action for
``frame_skip`` (4) emulator frames. monitor.csv's ``l`` is therefore counted in frames, while
``num_timesteps`` (the step of every logger table) counts the agent's steps: summed over the
envs, the Monitor's episodes run about 4x ahead of the event file. Left so, a run cut at half of
its steps would see all of its episodes, and the returns' windows, onsets and warm-ups would be
judged four times too late.

Where an event file gives the wall clock, the two are lined up on it: each TensorBoard point
carries the wall time of its dump and each Monitor episode the wall time of its end. The steps
the finished episodes sum to at each dump, against its ``num_timesteps``, say whether the
Monitor counts frames (at most 1x: the agent's own steps; 4.0-4.6x for AtariWrapper, whose
resets add frames the agent never chose), and if it does, each episode is placed at the step the
event file had reached when it ended (interpolated between dumps). Without an event file, a
progress file's or printed log's ``time_elapsed`` gives the tables' times, counted from the
Monitor's start. Without either, rl-zoo's ``config.yml`` names ``AtariWrapper`` and its
``frame_skip``, and the Monitor's steps are divided by it. Either way the run says so.
"""

from __future__ import annotations

import bisect
import itertools
import math
from array import array
from collections.abc import Callable, Mapping
from typing import Any

from sb3doctor.model import MAX_STEP, Series, SourceData

__all__ = ["align_monitor_steps", "frame_skip_from_clock", "logger_clock", "may_count_frames"]

#: The largest frame skip accepted (ALE's own v5 envs skip 4; 16 would be extraordinary).
MAX_FRAME_SKIP = 16
#: The fewest Monitor steps per logger step that mean frames: one is the agent's own steps, a
#: frame skip of 2 is the smallest there is. (AtariWrapper's skip of 4 measures 4.0-4.6: the
#: no-op, FIRE and life-loss steps of its resets add frames the agent never chose.)
MIN_SLOPE = 1.5
#: Dumps used at most for the slope (evenly spaced): the fit needs shape, not every point.
_MAX_DUMPS = 64
#: Fewest tables for the slope test (before, the ratio test alone decides).
_MIN_DUMPS = 4


def _dumps(loggers: list[SourceData]) -> list[tuple[float, int]]:
    """(wall time, step) of each table the event files hold, the latest wall time per step.

    SB3 writes every metric of a table at once, so the longest series of each file has a point
    per table: reading that one keeps this cheap on event files of millions of points."""
    at: dict[int, float] = {}
    for src in loggers:
        series = max(src.metrics.values(), key=len, default=None)
        if series is not None:
            for step, wall in zip(series.steps, series.wall_times, strict=True):
                if math.isfinite(wall) and step > 0 and wall > at.get(step, float("-inf")):
                    at[step] = wall
    return sorted((wall, step) for step, wall in at.items())


def _elapsed_dumps(loggers: list[SourceData], t_start: float, last_end: float) -> list[tuple[float, int]]:
    """(wall time, step) of each table of a progress file or printed log, whose tables carry
    no wall time but ``time/time_elapsed`` (whole seconds since ``learn()`` began), counted from
    the Monitor's ``t_start``: the env is made before ``learn()`` starts, so these times are a
    little early, and fewer episodes seem finished at each table (never more: the ratio test
    cannot be fooled by it). Empty where the times go back (a second ``learn()``)."""
    at: dict[int, float] = {}
    for src in loggers:
        series = src.metrics.get("time/time_elapsed")
        if series is None:
            continue
        for step, elapsed in zip(series.steps, series.values, strict=True):
            if step > 0 and math.isfinite(t_start + elapsed):
                at[step] = t_start + elapsed
    dumps = sorted((wall, step) for step, wall in at.items())
    if not dumps or any(b[1] < a[1] for a, b in itertools.pairwise(dumps)):
        return []
    # ... too early by the time from the env's creation to learn() (the model's construction,
    # seconds): where the last episode ended after the last table so counted, the tables move
    # that much later. A finished run's episodes all ended before its last table; a live run's
    # newest may be up to one table later, so the error left is at most one table's interval.
    late = last_end - dumps[-1][0]
    if math.isfinite(late) and late > 0:
        dumps = [(wall + late, step) for wall, step in dumps]
    return dumps


def _theil_sen(xs: list[float], ys: list[float]) -> float | None:
    """The median of the pairwise slopes: a line fit that a few odd points do not move."""
    slopes = [
        (ys[j] - ys[i]) / (xs[j] - xs[i])
        for i in range(len(xs))
        for j in range(i + 1, len(xs))
        if xs[j] != xs[i]
    ]
    if not slopes:
        return None
    slopes.sort()
    mid = len(slopes) // 2
    return slopes[mid] if len(slopes) % 2 else (slopes[mid - 1] + slopes[mid]) / 2


def logger_clock(sources: list[SourceData]) -> list[tuple[float, int]]:
    """(wall time, step) of the logger's tables, sorted: the event files' own wall times, else
    (no event file) the ``time_elapsed`` of a progress file or printed log, counted from the
    Monitor's ``t_start``; empty where neither is there."""
    dumps = _dumps([s for s in sources if s.kind == "tensorboard"])
    if dumps:
        return dumps
    starts = [
        m.facts["t_start"]
        for m in sources
        if m.kind == "monitor"
        and isinstance(m.facts.get("t_start"), float)
        and math.isfinite(m.facts["t_start"])
    ]
    ends = [
        max(series.wall_times)
        for m in sources
        if m.kind == "monitor"
        for series in m.metrics.values()
        if len(series)
    ]
    loggers = [s for s in sources if s.kind in ("progress_csv", "progress_json", "stdout")]
    if not starts or not ends or not loggers:
        return []
    return _elapsed_dumps(loggers, min(starts), max(ends))


def frame_skip_from_clock(monitor: SourceData, dumps: list[tuple[float, int]]) -> float | None:
    """Monitor steps per logger step, measured on the wall clock of the logger's tables
    ``dumps`` ((wall time, step), see :func:`logger_clock`; the module docstring says why):
    the frames per step where the Monitor counts emulator frames, 1.0 where it counts the
    agent's steps, None where the two do not share enough of the clock to say.

    Two tests, both needed. The finished episodes can only sum to the steps taken or fewer when
    they count steps, so 1.5x as many at some table is frames (on the 1,004 benchmark runs the
    most was 1.0x); from 4 tables on, the slope must say so too (1.00-1.25 there at every
    prefix), so a Monitor that goes on from an earlier ``learn()`` into a new event file, whose
    old episodes lift every ratio, is not taken for one.
    """
    episodes = next((s for s in monitor.metrics.values() if len(s) and s.has_wall_time()), None)
    if episodes is None or not dumps:
        return None
    ends = list(episodes.wall_times)
    if any(b < a for a, b in itertools.pairwise(ends)):
        return None  # merged by end time in read_monitor: out of order means no clock
    pairs: list[tuple[float, float]] = []
    for wall, step in dumps:
        done = bisect.bisect_right(ends, wall)
        if done == 0 or (done == len(ends) and wall > ends[-1] + 3600):
            continue  # before the first episode, or an hour past the last: not one clock
        pairs.append((float(step), float(episodes.steps[done - 1])))
    if not pairs:
        return None
    if max(frames / step for step, frames in pairs) < MIN_SLOPE:
        return 1.0
    if len(pairs) < _MIN_DUMPS:
        return pairs[-1][1] / pairs[-1][0]
    # the run's second half where it has enough tables: early on, the episodes still running
    # at each table are a larger share of the frames
    late = [p for p in pairs if p[0] >= pairs[-1][0] / 2]
    use = late if len(late) >= _MIN_DUMPS else pairs
    if len(use) > _MAX_DUMPS:
        use = [use[round(i * (len(use) - 1) / (_MAX_DUMPS - 1))] for i in range(_MAX_DUMPS)]
    slope = _theil_sen([p[0] for p in use], [p[1] for p in use])
    return slope if slope is not None and slope >= MIN_SLOPE else 1.0


def _placed_by_clock(
    src: SourceData, dumps: list[tuple[float, int]], t_start: float | None
) -> SourceData | None:
    """A copy of ``src`` with each episode at the logger step of its end time, interpolated
    between the tables written before and after it (from the env's creation, step 0, before the
    first; at the run's mean rate after the last). None where the tables' steps go back."""
    walls = [w for w, _ in dumps]
    steps = [s for _, s in dumps]
    if any(b < a for a, b in itertools.pairwise(steps)):
        return None  # a second learn() from step 0 in one file: no single clock
    first_wall = t_start if t_start is not None and math.isfinite(t_start) and t_start < walls[0] else None
    rate = (steps[-1] - steps[0]) / (walls[-1] - walls[0]) if walls[-1] > walls[0] else 0.0

    def step_at(wall: float) -> float:
        if not math.isfinite(wall):
            return 0.0  # a row without a usable time: kept in order by the running max below
        i = bisect.bisect_left(walls, wall)
        if i == 0:
            if first_wall is None or wall <= first_wall:
                return 0.0
            return steps[0] * (wall - first_wall) / (walls[0] - first_wall)
        if i == len(walls):
            return steps[-1] + rate * (wall - walls[-1])
        w0, w1, s0, s1 = walls[i - 1], walls[i], steps[i - 1], steps[i]
        return s0 + (s1 - s0) * (wall - w0) / (w1 - w0) if w1 > w0 else float(s1)

    def placed(series: Series) -> array:
        out, last = array("q"), 0
        for wall in series.wall_times:
            # episodes are in end-time order: keep steps so; and within what a step may be (a
            # Monitor whose times are far off extrapolates to anything)
            at = step_at(wall)
            last = max(last, round(at) if math.isfinite(at) and at < MAX_STEP else MAX_STEP)
            out.append(last)
        return out

    return _restepped(src, placed)


def _restepped(src: SourceData, new_steps: Callable[[Series], array]) -> SourceData:
    """A copy of ``src`` whose every series has the steps ``new_steps`` gives it (values and
    wall times shared: merge_sources copies them before anything grows)."""
    out = SourceData(src.kind, src.path, warnings=list(src.warnings), facts=dict(src.facts))
    for name, series in src.metrics.items():
        out.metrics[name] = Series(new_steps(series), series.values, series.wall_times)
    return out


def _names_atari(monitors: list[SourceData], config: Mapping[str, Any]) -> bool:
    """Whether the Monitor headers or the config name an Atari game."""
    from sb3doctor.knowledge import is_atari

    ids: list[Any] = [config.get("env_id")]
    for src in monitors:
        env = src.facts.get("env_id")
        ids.extend(env if isinstance(env, list) else [env])
    return any(isinstance(env, str) and is_atari(env) for env in ids)


def _config_skip(config: Mapping[str, Any]) -> int | None:
    skip = config.get("frame_skip")
    if isinstance(skip, int) and not isinstance(skip, bool) and 2 <= skip <= MAX_FRAME_SKIP:
        return skip
    return None


def may_count_frames(sources: list[SourceData], config: Mapping[str, Any]) -> bool:
    """Whether ``sources`` hold a Monitor that :func:`align_monitor_steps` would put on the
    logger's steps: one of an Atari game (by a Monitor header or the config), or a config that
    names AtariWrapper."""
    monitors = [s for s in sources if s.kind == "monitor" and s.metrics]
    return bool(monitors) and (_config_skip(config) is not None or _names_atari(monitors, config))


def align_monitor_steps(
    sources: list[SourceData], config: Mapping[str, Any]
) -> tuple[list[SourceData], tuple[float, str] | None]:
    """``sources`` with the Monitor episodes put on the logger's steps where they may count
    emulator frames (copies: the sources read stay as read, for ``watch`` to extend), and the
    frames per agent step with how they are known (``"clock"`` or ``"rl-zoo config"``), or None.

    Only an Atari game (named by a Monitor header or the config) or a config naming AtariWrapper
    is touched: elsewhere, Monitor files of an evaluation env in the same folder would add
    episodes the logger never counted, and look like frames. For those runs, with a clock, each
    episode is placed at the step the training had reached when it ended, which is right
    whatever the Monitor counts (a Monitor outside AtariWrapper counts the agent's steps); the
    factor is reported where the clock measures one, else the config's; without a clock the
    config's ``frame_skip`` divides the steps.
    """
    if not may_count_frames(sources, config):
        return sources, None
    monitors = [s for s in sources if s.kind == "monitor" and s.metrics]
    skip = _config_skip(config)
    dumps = logger_clock(sources)
    aligned: dict[int, SourceData] = {}
    found: tuple[float, str] | None = None
    if dumps:
        slopes = [frame_skip_from_clock(m, dumps) for m in monitors]
        measured = [x for x in slopes if x is not None and MIN_SLOPE <= x <= MAX_FRAME_SKIP * 1.3]
        shared = all(x is None or x <= MAX_FRAME_SKIP * 1.3 for x in slopes)  # else not one clock
        for src in monitors if shared else ():
            t_start = src.facts.get("t_start")
            placed = _placed_by_clock(src, dumps, t_start if isinstance(t_start, float) else None)
            if placed is None:
                aligned = {}
                break
            aligned[id(src)] = placed
        if aligned and len(measured) == len(monitors):
            found = round(sum(measured) / len(measured), 1), "clock"
        elif aligned and skip is not None:
            found = float(skip), "rl-zoo config"
    if not aligned and skip is not None:
        divided = skip  # bound for the lambda: mypy keeps the Optional otherwise
        aligned = {
            id(src): _restepped(src, lambda series: array("q", (round(s / divided) for s in series.steps)))
            for src in monitors
        }
        found = float(skip), "rl-zoo config"
    return [aligned.get(id(src), src) for src in sources], found
