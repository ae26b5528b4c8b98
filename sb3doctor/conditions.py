"""The closed set of rule conditions: series in, evidence out.

Pure functions, no I/O. A condition is the ``condition:`` mapping of a rule (already
validated by :mod:`sb3doctor.ruleset`); :func:`evaluate` returns an :class:`Evidence`
saying whether it held and on what numbers. Windows of a few hundred points are handled
in pure Python on purpose: importing numpy would cost more than the whole analysis. Runs
grown to millions of scalars (tens of thousands of points per metric) switch to numpy for
the whole-window passes (medians, sums of squares, frozen scans) above
:data:`LARGE`, with results identical to the pure path (floating sums stay ``math.fsum``).
See ``rules/SCHEMA.md`` for the meaning of every kind and key.
"""

from __future__ import annotations

import bisect
import itertools
import math
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from sb3doctor.model import (
    LOGGER_TABLE_PREFIXES,
    NUMPY_MIN_POINTS,
    Series,
    is_number,
    last_table_before,
    paired_deltas,
)
from sb3doctor.model import safe_fsum as _fsum

if TYPE_CHECKING:  # the module is imported only where a run has no monitor.csv
    from sb3doctor.episodes import EpisodeBatches

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}

STATS: tuple[str, ...] = ("last", "mean", "median", "min", "max", "std", "abs_median")

KINDS: tuple[str, ...] = (
    "threshold",
    "sustained",
    "trend",
    "spike",
    "drop_from_peak",
    "plateau",
    "frozen",
    "missing",
    "non_finite",
    "ratio_to_bound",
    "counter_ratio",
    "step_gap",
    "return_level",
    "growth",
    "vs_reference",
    "budget",
    "all_of",
    "any_of",
    "not",
)
COMBINATORS: tuple[str, ...] = ("all_of", "any_of", "not")


@dataclass
class Context:
    """What a condition may look at: one run's metrics, step range and hyperparameters.

    :param metrics: metric name -> series sorted by step
    :param step_range: first and last step over all metrics (fractions in windows are of it)
    :param hyperparams: recovered hyperparameters (``n_actions`` for ``ln_n_actions``)
    :param metric: the rule's metric, used when a condition names none
    :param cache: per-series derived data (finite points, sortedness) shared by the contexts
        of one engine pass; the series must not change while it is shared
    """

    metrics: Mapping[str, Series]
    step_range: tuple[int, int] | None = None
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    metric: str | None = None
    cache: dict[Any, Any] = field(default_factory=dict)
    #: returns the run's :class:`~sb3doctor.reference.RunReference` (computed on first call,
    #: so runs whose rules never compare with a reference never read the knowledge files)
    reference: Callable[[], Any] | None = None
    #: the run's algorithm (SB3 class name), for reference lookups
    algo: str | None = None
    #: the run may still be training (``watch``, ``DoctorCallback``): its logs are a prefix
    live: bool = False


@dataclass
class Evidence:
    """The outcome of one condition.

    :param held: whether the condition held
    :param observed: the statistic compared (its meaning depends on the kind)
    :param threshold: what it was compared with
    :param n: number of points used
    :param window: the window spec used (rendered to text by the engine)
    :param steps: first and last step of the points that matter
    :param metric: the metric the evidence is about
    """

    held: bool
    observed: float | None = None
    threshold: float | None = None
    n: int = 0
    window: Any = None
    steps: tuple[int, int] | None = None
    metric: str | None = None
    #: kind-specific numbers for messages (``{ref[final]}``), e.g. the window's mean return
    extra: dict[str, Any] = field(default_factory=dict)
    #: the ``shows`` texts of the parts of the condition that held, in rule order (``{shown}``)
    shown: tuple[Any, ...] = ()


def kind_of(cond: Mapping[str, Any]) -> str:
    """The kind of a condition; ``{all_of: [...]}`` is shorthand for ``{kind: all_of, conditions: [...]}``."""
    if "kind" in cond:
        return str(cond["kind"])
    for key in COMBINATORS:
        if key in cond:
            return key
    return ""


def sub_conditions(cond: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The operands of a combinator, in either spelling."""
    kind = kind_of(cond)
    if kind == "not":
        inner = cond.get("not", cond.get("condition"))
        return [inner] if isinstance(inner, Mapping) else []
    subs = cond.get(kind, cond.get("conditions"))
    return list(subs) if isinstance(subs, list) else []


# --- windows and statistics ------------------------------------------------------------


def select(
    steps: Sequence[int],
    values: Sequence[float],
    window: Any,
    step_range: tuple[int, int] | None,
    sorted_steps: bool = True,
) -> tuple[Sequence[int], Sequence[float]]:
    """The points of a step-sorted series inside ``window`` (see SCHEMA.md, "Windows").

    :param sorted_steps: False when ``steps`` may be out of order: the fraction windows then
        cut at the first point at or after the cut step by a scan instead of a bisection
    """
    if window is None or window == "all":
        return steps, values
    key, arg = next(iter(window.items()))
    if key == "last":
        start = max(0, len(steps) - int(arg))
        return steps[start:], values[start:]
    if key == "first":
        return steps[: int(arg)], values[: int(arg)]
    lo, hi = step_range if step_range is not None else ((steps[0], steps[-1]) if len(steps) else (0, 0))
    # last_frac counts back from the last step, from_frac and first_frac forward from the first
    cut = hi - float(arg) * (hi - lo) if key == "last_frac" else lo + float(arg) * (hi - lo)
    if key == "first_frac":
        j = bisect.bisect_right(steps, cut) if sorted_steps else sum(1 for s in steps if s <= cut)
        return steps[:j], values[:j]
    if sorted_steps:
        i = bisect.bisect_left(steps, cut)
    else:  # the first point at or after the cut, as a scan finds it
        i = 0
        while i < len(steps) and steps[i] < cut:
            i += 1
    return steps[i:], values[i:]


#: Windows with more points than this use numpy for their whole-window passes. Below it
#: the pure-Python code is faster than importing numpy (60-160 ms) would be; above it (a
#: run grown to ~1M scalars has ~80k points per metric) numpy turns seconds into
#: milliseconds. Both paths give the same results (tests/test_conditions_large.py).
LARGE = NUMPY_MIN_POINTS


def _np() -> Any:
    # Imported only when a window is LARGE: `sb3doctor analyze` on a typical run never pays it.
    import numpy

    return numpy


def _as_array(values: Sequence[float]) -> Any:
    """``values`` as float64 numpy (zero-copy for ``array('d')``; ``array('q')`` steps are converted)."""
    np = _np()
    if isinstance(values, array):
        if not len(values):
            return np.empty(0, np.float64)
        return np.frombuffer(values, dtype=np.dtype(values.typecode)).astype(np.float64, copy=False)
    return np.asarray(values, dtype=np.float64)


def _all_finite(values: Sequence[float]) -> bool:
    if len(values) > LARGE and isinstance(values, array) and values.typecode == "d":
        return bool(_np().isfinite(_as_array(values)).all())
    # A float sum is finite only if every term is: NaN and inf propagate through addition
    # (inf + -inf is NaN). A finite overflow also gives inf, and then the scan decides.
    try:
        if math.isfinite(sum(values)):
            return True
    except TypeError:  # not numbers: let the scan raise what it raised before
        pass
    return all(math.isfinite(v) for v in values)


def _finite(steps: Sequence[int], values: Sequence[float]) -> tuple[Sequence[int], Sequence[float]]:
    # Statistics skip NaN/inf points; the non_finite kind is the one that reports them.
    # All finite (the usual case): the inputs themselves, no copy.
    if _all_finite(values):
        return steps, values
    pairs = [(s, v) for s, v in zip(steps, values, strict=False) if math.isfinite(v)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


@dataclass
class _Derived:
    """What several rules of one engine pass need from one series, computed once."""

    series: Series  # held so that the id used as the cache key cannot be reused
    length: int
    finite_steps: Sequence[int]
    finite_values: Sequence[float]
    all_finite: bool
    sorted_steps: bool


def _derived(ctx: Context, series: Series) -> _Derived:
    entry = ctx.cache.get(id(series))
    if entry is None or entry.series is not series or entry.length != len(series):
        all_finite = _all_finite(series.values)
        fs, fv = (series.steps, series.values) if all_finite else _finite(series.steps, series.values)
        entry = _Derived(series, len(series), fs, fv, all_finite, series.is_sorted())
        ctx.cache[id(series)] = entry
    return entry


def _median(values: Sequence[float]) -> float:
    n = len(values)
    if n > LARGE:
        np = _np()
        mid = n // 2
        kth = [mid] if n % 2 else [mid - 1, mid]
        part = np.partition(_as_array(values), kth)
        med = float(part[mid]) if n % 2 else (float(part[mid - 1]) + float(part[mid])) / 2.0
        # sorted() is stable, partition is not: only the sign of a zero median can differ
        # (0.0 and -0.0 compare equal), and then the pure path decides.
        if med != 0.0:
            return med
    ordered = sorted(values.tolist() if hasattr(values, "tolist") else values)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def _max(values: Sequence[float]) -> float:
    """``max(values)`` of finite values; large windows in numpy."""
    if len(values) > LARGE:
        m = float(_as_array(values).max())
        if m != 0.0:  # max() keeps the first of 0.0 and -0.0, numpy may not
            return m
    return max(values)


def _min(values: Sequence[float]) -> float:
    """``min(values)`` of finite values; large windows in numpy."""
    if len(values) > LARGE:
        m = float(_as_array(values).min())
        if m != 0.0:
            return m
    return min(values)


def _fsum_steps(steps: Sequence[int]) -> float:
    """``math.fsum(steps)``: integers below 2**53 are exact floats, so their exact sum rounded
    once is the same number; int64 numpy cannot overflow below the bound checked here."""
    n = len(steps)
    if n > LARGE and isinstance(steps, array) and steps.typecode == "q":
        np = _np()
        a = np.frombuffer(steps, dtype=np.int64)
        # Below this bound every step is < 2**48 (n > LARGE), so exact as a float too.
        if max(abs(int(a.min())), abs(int(a.max()))) * n < (1 << 62):
            return float(int(a.sum()))
    return _fsum(steps)


def _sum_sq_dev(values: Sequence[float], mean: float) -> float:
    """``fsum((v - mean) ** 2 for v in values)``; large windows square in numpy, still fsum."""
    if len(values) > LARGE:
        d = _as_array(values) - mean
        return _fsum((d * d).tolist())
    return _fsum([(v - mean) * (v - mean) for v in values])  # `** 2` raises past 1e154


def stat(name: str, values: Sequence[float]) -> float:
    """One of :data:`STATS` over a non-empty sequence of finite values."""
    if name == "last":
        return values[-1]
    if name == "mean":
        return _fsum(values) / len(values)
    if name == "median":
        return _median(values)
    if name == "min":
        return _min(values)
    if name == "max":
        return _max(values)
    if name == "std":
        mean = _fsum(values) / len(values)
        return math.sqrt(_sum_sq_dev(values, mean) / len(values))
    if name == "abs_median":
        if len(values) > LARGE:
            return _median(_np().abs(_as_array(values)))
        return _median([abs(v) for v in values])
    raise ValueError(f"unknown statistic {name!r}")


def _series(ctx: Context, cond: Mapping[str, Any]) -> tuple[str | None, Series | None]:
    name = cond.get("metric", ctx.metric)
    return name, ctx.metrics.get(name) if name is not None else None


def _windowed(
    ctx: Context, cond: Mapping[str, Any], default_window: Any = None, *, finite_only: bool = True
) -> tuple[str | None, Sequence[int], Sequence[float]]:
    name, series = _series(ctx, cond)
    if series is None or not len(series):
        return name, [], []
    d = _derived(ctx, series)
    steps, values = select(
        series.steps, series.values, cond.get("window", default_window), ctx.step_range, d.sorted_steps
    )
    # a window of an all-finite series is all finite: no second pass; step_gap wants every point
    if d.all_finite or not finite_only:
        return name, steps, values
    return (name, *_finite(steps, values))


def _span(steps: Sequence[int]) -> tuple[int, int] | None:
    return (int(steps[0]), int(steps[-1])) if len(steps) else None


# --- the kinds -------------------------------------------------------------------------


def _too_few(cond: Mapping[str, Any], values: Sequence[float]) -> bool:
    """Fewer points than the condition's ``min_points`` (default 3), or none at all."""
    return len(values) < int(cond.get("min_points", 3)) or not values


def _judge_stat(ev: Evidence, cond: Mapping[str, Any], values: Sequence[float], value: float) -> Evidence:
    """Fill ``ev`` with the condition's ``stat`` over ``values``, compared by ``op`` with ``value``."""
    if _too_few(cond, values):
        return ev
    ev.observed = stat(cond["stat"], values)
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


def _annealed(metrics: Sequence[str], ctx: Context) -> float:
    """The product of each schedule's last value over its first (1 for one not logged): how far
    the step size was annealed. ``train/learning_rate`` scales each gradient step,
    ``train/clip_range`` bounds how far PPO lets an update move the policy."""
    factor = 1.0
    for name in metrics:
        series = ctx.metrics.get(name)
        finite = [v for v in series.values if math.isfinite(v)] if series is not None else []
        if len(finite) >= 1 and finite[0] > 0 and finite[-1] >= 0:
            factor *= min(1.0, finite[-1] / finite[0])
    return factor


def _threshold(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, steps, values = _windowed(ctx, cond)
    value = float(cond["value"])
    if "annealed" in cond:
        # approx_kl grows with the square of the step (KL ~ d'Fd / 2): schedules that shrank the
        # step to a fraction f of its start shrink the KL to f^2 of it by design
        value *= _annealed(cond["annealed"], ctx) ** 2
    ev = Evidence(False, None, value, len(values), cond.get("window"), _span(steps), name)
    return _judge_stat(ev, cond, values, value)


def _sustained(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, steps, values = _windowed(ctx, cond)
    value = float(cond["value"])
    op = OPS[cond["op"]]
    ev = Evidence(False, None, value, len(values), cond.get("window"), _span(steps), name)
    if _too_few(cond, values):
        return ev
    if "consecutive" not in cond and len(values) > LARGE:
        # The same comparisons in one numpy pass: OPS compare arrays elementwise.
        hit_array: Any = op(_as_array(values), value)
        count = int(hit_array.sum())
        ev.observed = count / len(values)
        ev.held = ev.observed >= float(cond.get("fraction", 1.0))
        return ev
    hits = [op(v, value) for v in values]
    if "consecutive" in cond:
        need = int(cond["consecutive"])
        best_len, best_end, run = 0, -1, 0
        for i, hit in enumerate(hits):
            run = run + 1 if hit else 0
            if run > best_len:
                best_len, best_end = run, i
        ev.observed = float(best_len)
        ev.held = best_len >= need
        if best_len:
            ev.steps = (steps[best_end - best_len + 1], steps[best_end])
        return ev
    ev.observed = sum(hits) / len(hits)
    ev.held = ev.observed >= float(cond.get("fraction", 1.0))
    return ev


def _trend(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, steps, values = _windowed(ctx, cond)
    value = float(cond["value"])
    ev = Evidence(False, None, value, len(values), cond.get("window"), _span(steps), name)
    if len(values) < max(2, int(cond.get("min_points", 3))):
        return ev
    n = len(values)
    # Rules often fit the same window twice (rising / falling): fit it once per pass.
    key = (
        "trend",
        name,
        len(ctx.metrics[name]) if name is not None else 0,
        repr(cond.get("window")),
        ctx.step_range,
    )
    fit = ctx.cache.get(key) if n > LARGE else None
    if fit is None:
        fit = _fit(steps, values)
        if n > LARGE:
            ctx.cache[key] = fit
    slope, my = fit
    scale = (_max(values) - _min(values)) if cond.get("scale", "abs_mean") == "range" else abs(my)
    ev.observed = slope * (steps[-1] - steps[0]) / scale if scale > 1e-12 else 0.0
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


def _fit(steps: Sequence[int], values: Sequence[float]) -> tuple[float, float]:
    """Least-squares slope of values over steps, and the mean value (exact sums)."""
    n = len(values)
    mx = _fsum_steps(steps) / n
    my = _fsum(values) / n
    if n > LARGE:  # the same products, formed in numpy; the sums stay exact (fsum)
        dx = _as_array(steps) - mx
        sxx = _fsum((dx * dx).tolist())
        sxy = _fsum((dx * (_as_array(values) - my)).tolist()) if sxx > 0 else 0.0
    else:
        sxx = _fsum((x - mx) ** 2 for x in steps)
        sxy = _fsum((x - mx) * (y - my) for x, y in zip(steps, values, strict=False)) if sxx > 0 else 0.0
    return (sxy / sxx if sxx > 0 else 0.0), my


def _spike(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    # Every point inside `window` (default: only the latest) is compared with the median
    # of the `lookback` points before it, which may lie outside the window.
    name, series = _series(ctx, cond)
    factor = float(cond["factor"])
    lookback = int(cond.get("lookback", 10))
    min_prev = int(cond.get("min_points", 3))
    ev = Evidence(False, None, factor, 0, cond.get("window", {"last": 1}), None, name)
    if series is None or not len(series):
        return ev
    d = _derived(ctx, series)
    all_steps, all_values = d.finite_steps, d.finite_values
    win_steps, _ = select(
        all_steps, all_values, cond.get("window", {"last": 1}), ctx.step_range, d.sorted_steps
    )
    use_abs = bool(cond.get("abs", False))
    start = len(all_steps) - len(win_steps)
    best: tuple[float, int] | None = None
    for i in range(start, len(all_values)):
        prev = all_values[max(0, i - lookback) : i]
        if len(prev) < min_prev:
            continue
        cur = abs(all_values[i]) if use_abs else all_values[i]
        med = _median([abs(v) for v in prev] if use_abs else prev)
        ratio = cur / med if med > 0 else math.inf if cur > 0 else 0.0
        if best is None or ratio > best[0]:
            best = (ratio, i)
    if best is None:
        return ev
    ratio, i = best
    ev.observed, ev.n = ratio, min(lookback, i) + 1
    ev.steps = (all_steps[max(0, i - lookback)], all_steps[i])
    ev.held = ratio > factor
    return ev


def _drop_from_peak(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, series = _series(ctx, cond)
    value = float(cond["value"])
    window = cond.get("window", {"last": 5})
    ev = Evidence(False, None, value, 0, window, None, name)
    if series is None or not len(series):
        return ev
    d = _derived(ctx, series)
    all_steps, all_values = d.finite_steps, d.finite_values
    steps, values = select(all_steps, all_values, window, ctx.step_range, d.sorted_steps)
    if len(values) < int(cond.get("min_points", 1)) or not values or not all_values:
        return ev
    peak = _max(all_values)
    # argmax gives the first of equal maxima, as index() does
    at = int(_np().argmax(_as_array(all_values))) if len(all_values) > LARGE else all_values.index(peak)
    peak_step = all_steps[at]
    # The baseline is what the metric rose from: the minimum *before* the peak, so that a
    # series that only ever declined has no rise and cannot "drop from its peak".
    baseline = all_values[0] if cond.get("baseline", "min") == "first" else _min(all_values[: at + 1])
    rise = peak - baseline
    current = _median(values)
    ev.n = len(values)
    ev.steps = (peak_step, steps[-1])
    if rise <= 0 or rise <= float(cond.get("min_rise", 0.0)):
        return ev
    ev.observed = (peak - current) / rise
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


def _plateau(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, series = _series(ctx, cond)
    value = float(cond["value"])
    ev = Evidence(False, None, value, 0, cond.get("window"), None, name)
    if series is None or not len(series):
        return ev
    d = _derived(ctx, series)
    all_steps, all_values = d.finite_steps, d.finite_values
    steps, values = select(all_steps, all_values, cond.get("window"), ctx.step_range, d.sorted_steps)
    ev.n, ev.steps = len(values), _span(steps)
    if _too_few(cond, values):
        return ev
    best = _max(all_values)
    progress = max(abs(best - all_values[0]), float(cond.get("eps", 1e-9)))
    ev.observed = (_max(values) - _min(values)) / progress
    ev.held = OPS[cond.get("op", "<")](ev.observed, value)
    if ev.held and cond.get("below_best", False):
        # Flat *below* the best: the window never came within best_margin (a share of the
        # progress) of the run's best. A solved task whose running mean wobbles a hair under the
        # best it reached is flat at its best, not below it.
        margin = float(cond.get("best_margin", 0.0)) * progress
        ev.held = _max(values) < best - margin
    return ev


def _runs(values: Sequence[float], tol: float, min_len: int) -> Iterator[tuple[int, int]]:
    """First and last index of each run of ``values`` within ``tol`` of the run's first value.

    Runs are greedy from the left: a run starts where the previous one ended. Only runs of at
    least ``min_len`` points (>= 2) are yielded; shorter ones cannot be frozen (a single
    point has no step advance). Large windows find the candidates in numpy: a run longer
    than one point starts where the next value is within ``tol``, so the Python loop only
    visits those places.
    """
    n = len(values)
    if n > LARGE:
        np = _np()
        v = _as_array(values)
        # |v[k+1] - v[k]| <= tol, computed as the scan does (NaN and inf - inf never pass)
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, which is never near
            near = np.abs(v[1:] - v[:-1]) <= tol
        if tol == 0:
            # Within 0 of the first value is equality, which chains: a run is a maximal
            # stretch of equal neighbours, found without a Python loop.
            edges = np.flatnonzero(np.diff(near.astype(np.int8)))
            starts = np.flatnonzero(near[:1]).tolist() + (edges[near[edges + 1]] + 1).tolist()
            ends = (edges[~near[edges + 1]] + 1).tolist() + ([n - 1] if near[-1] else [])
            for i, j in zip(starts, ends, strict=True):
                if j - i + 1 >= min_len:
                    yield i, j
            return
        candidates = np.flatnonzero(near).tolist()
        k, i = 0, 0
        while k < len(candidates):
            i = max(i, candidates[k])
            j = i
            while j + 1 < n and abs(values[j + 1] - values[i]) <= tol:
                j += 1
            if j - i + 1 >= min_len:
                yield i, j
            i = j + 1
            k = bisect.bisect_left(candidates, i, k)
        return
    i = 0
    while i < n:
        j = i
        while j + 1 < n and abs(values[j + 1] - values[i]) <= tol:
            j += 1
        if j - i + 1 >= min_len:
            yield i, j
        i = j + 1


def _frozen(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, series = _series(ctx, cond)
    tol = float(cond.get("tolerance", 0.0))
    min_points = int(cond.get("min_points", 3))
    adv_abs = float(cond.get("min_step_advance", 0))
    adv_x = float(cond.get("min_step_advance_x", 0))
    ev = Evidence(False, None, None, 0, cond.get("window"), None, name)
    if series is None or not len(series):
        return ev
    # Under a time limit every env ends an episode at least every `time_limit` steps, so
    # episode statistics can stay frozen that long for a good reason (a policy that just got
    # good: every env is in a long episode at once). Counted over all envs of the run.
    limit_x = float(cond.get("min_step_advance_time_limit", 0))
    longest_x = float(cond.get("min_step_advance_longest_episode", 0))
    n_envs = ctx.hyperparams.get("n_envs")
    envs = n_envs if isinstance(n_envs, int) and not isinstance(n_envs, bool) and n_envs > 0 else 1
    if limit_x > 0 and ctx.reference is not None:
        limit = ctx.reference().time_limit
        if isinstance(limit, int) and limit > 0:
            adv_abs = max(adv_abs, limit_x * limit * envs)
    d = _derived(ctx, series)
    steps, values = select(series.steps, series.values, cond.get("window"), ctx.step_range, d.sorted_steps)
    # Where no time limit is known (a custom env), the longest episode the Monitor has seen
    # ended by the stretch's last step stands in for it: until every env has run longer than
    # that, each may still be inside one long episode of a policy that just got better.
    longest = _longest_episode_by(ctx, steps[-1]) if longest_x > 0 and len(steps) else None
    best: tuple[float, float, int, int] | None = None  # (advance, needed, i, j)
    trailing = bool(cond.get("trailing", False))
    for i, j in _runs(values, tol, max(2, min_points)):
        if trailing and j != len(values) - 1:
            continue  # the values changed again after this stretch: frozen once, not now
        advance = float(steps[j] - steps[i])
        # min_step_advance_x is in units of the frozen value: an episode length, in frames where
        # the Monitor counted frames (Atari)
        per_step = frames_per_step(ctx.hyperparams) if name in EPISODE_LENGTHS else 1.0
        needed = max(adv_abs, adv_x * abs(values[i]) / per_step if math.isfinite(values[i]) else 0.0)
        if longest is not None:
            needed = max(needed, longest_x * longest(steps[j]) * envs)
        if (
            j - i + 1 >= min_points
            and advance > 0
            and advance >= needed
            and (best is None or advance > best[0])
        ):
            best = (advance, needed, i, j)
    if best is None:
        return ev
    advance, needed, i, j = best
    return Evidence(True, advance, needed, j - i + 1, cond.get("window"), (steps[i], steps[j]), name)


#: The series that hold episode lengths (counted in frames by an Atari run's Monitor).
EPISODE_LENGTHS = frozenset({"rollout/ep_len_mean", "episode/length"})


def frames_per_step(hyperparams: Mapping[str, Any]) -> float:
    """Episode-length units per agent step: ``frame_skip`` where the Monitor counted emulator
    frames (Atari, see :mod:`sb3doctor.sources.frames`), else 1."""
    skip = hyperparams.get("frame_skip")
    return float(skip) if is_number(skip) and skip >= 1 else 1.0


def _longest_episode_by(ctx: Context, last_step: int) -> Callable[[int], float] | None:
    """A function giving the longest finished episode (monitor.csv's ``episode/length``) at or
    before a step, for steps up to ``last_step``; None without per-episode lengths."""
    lengths = ctx.metrics.get("episode/length")
    if lengths is None or not len(lengths):
        return None
    upto = bisect.bisect_right(lengths.steps, last_step)
    running = list(
        itertools.accumulate(
            (v if math.isfinite(v) else 0.0 for v in lengths.values[:upto]), max, initial=0.0
        )
    )
    ends = lengths.steps
    frames = frames_per_step(ctx.hyperparams)

    def longest(step: int) -> float:
        return running[bisect.bisect_right(ends, step, 0, upto)] / frames

    return longest


def _missing(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, series = _series(ctx, cond)
    present = cond.get("present", "time/total_timesteps")
    present_names = [present] if isinstance(present, str) else list(present)
    witness = max((ctx.metrics[p] for p in present_names if p in ctx.metrics), key=len, default=None)
    count = len(witness) if witness is not None else 0
    ev = Evidence(False, float(count), float(cond.get("min_points", 3)), count, None, None, name)
    if witness is not None and count:
        ev.steps = (witness.steps[0], witness.steps[-1])
    ev.held = (series is None or not len(series)) and count >= int(cond.get("min_points", 3))
    return ev


def _non_finite(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    patterns = cond.get("metrics") or [cond.get("metric", ctx.metric)]
    if isinstance(patterns, str):
        patterns = [patterns]
    names = sorted(m for m in ctx.metrics if any(p is not None and fnmatchcase(m, p) for p in patterns))
    bad_steps: list[int] = []
    first_metric: str | None = None
    total = 0
    for m in names:
        series = ctx.metrics[m]
        d = _derived(ctx, series)
        steps, values = select(
            series.steps, series.values, cond.get("window"), ctx.step_range, d.sorted_steps
        )
        total += len(values)
        bad = [] if d.all_finite else [s for s, v in zip(steps, values, strict=False) if not math.isfinite(v)]
        if bad and first_metric is None:
            first_metric = m
        bad_steps.extend(bad)
    bad_steps.sort()
    return Evidence(
        bool(bad_steps),
        float(len(bad_steps)),
        0.0,
        total,
        cond.get("window"),
        (bad_steps[0], bad_steps[-1]) if bad_steps else None,
        first_metric or (names[0] if names else cond.get("metric", ctx.metric)),
    )


def _ratio_to_bound(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, series = _series(ctx, cond)
    value = float(cond["value"])
    ev = Evidence(False, None, value, 0, cond.get("window"), None, name)
    if series is None or not len(series):
        return ev
    d = _derived(ctx, series)
    all_steps, all_values = d.finite_steps, d.finite_values
    sign = -1.0 if cond.get("negate", False) else 1.0
    if cond["bound"] == "ln_n_actions":
        n_actions = ctx.hyperparams.get("n_actions")
        if not isinstance(n_actions, (int, float)) or n_actions < 2:
            return ev  # the bound is unknown: the rule cannot judge this run
        bound = math.log(n_actions)
    elif cond["bound"] == "early":
        # The median of the 2nd-4th points: SB3's first on-policy table is written before any
        # training step and its fps counts only env stepping, so it is always inflated.
        if len(all_values) < 2:
            return ev
        bound = sign * _median(all_values[1:4])
    else:  # first
        if not all_values:
            return ev
        bound = sign * all_values[0]
    steps, values = select(all_steps, all_values, cond.get("window"), ctx.step_range, d.sorted_steps)
    ev.n, ev.steps = len(values), _span(steps)
    if _too_few(cond, values) or bound == 0:
        return ev
    if len(values) <= LARGE:
        signed: Sequence[float] = [sign * v for v in values]
    else:  # 1.0 * v is v exactly; -1.0 * v is the negation numpy does in one pass
        signed = values if sign == 1.0 else (-_as_array(values)).tolist()
    ev.observed = stat(cond["stat"], signed) / bound
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


def _counter_ratio(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, series = _series(ctx, cond)
    value = float(cond["value"])
    ev = Evidence(False, None, value, 0, cond.get("window"), None, name)
    of = ctx.metrics.get(cond["of"])
    if series is None or of is None:
        return ev
    r_steps: list[int] = []
    r_values: list[float] = []
    for step, dv, dof in paired_deltas(series, of):
        if dof > 0:
            r_steps.append(step)
            r_values.append(dv / dof)
    steps, values = select(r_steps, r_values, cond.get("window"), ctx.step_range)
    steps, values = _finite(steps, values)
    ev.n, ev.steps = len(values), _span(steps)
    return _judge_stat(ev, cond, values, value)


def _step_gap(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    """``stat`` of the steps between consecutive points of the metric inside ``window``.

    For a ``train/*`` metric of PPO logged every iteration (its default) this is the number of
    samples each update was computed from (``n_steps * n_envs``), which no log line states: a
    statistic of 8 samples (rl-zoo's PPO on MountainCarContinuous) is too noisy to judge one
    update by. Logged less often (A2C's default of every 100 updates) the gaps are that many
    times larger, and a guard on small gaps does not apply. Repeated steps (overlapping event
    files) are no gap, and every logged point counts, NaN or not (SB3 logs a NaN explained
    variance when the returns of a rollout do not vary).
    """
    name, steps, _ = _windowed(ctx, cond, finite_only=False)
    value = float(cond["value"])
    ev = Evidence(False, None, value, 0, cond.get("window"), _span(steps), name)
    gaps = [float(b - a) for a, b in itertools.pairwise(steps) if b > a]
    ev.n = len(gaps)
    return _judge_stat(ev, cond, gaps, value)


def _merged_extra(results: Sequence[Evidence]) -> dict[str, Any]:
    """The ``extra`` numbers of several held results, the first one's winning on a clash: a
    message's ``{ref[...]}`` may name a number that any part of its condition measured (the
    best stretch of a ``return_level`` inside an ``all_of`` led by a ``budget`` check)."""
    merged: dict[str, Any] = {}
    for r in results:
        if r.held:
            for key, value in r.extra.items():
                merged.setdefault(key, value)
    return merged


def _all_of(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    results = [evaluate(c, ctx) for c in sub_conditions(cond)]
    first = results[0] if results else Evidence(False)
    ev = _with_held(first, bool(results) and all(r.held for r in results))
    if ev.held:
        ev.extra = _merged_extra(results)
        ev.shown = tuple(t for r in results for t in r.shown)
    return ev


def _any_of(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    results = [evaluate(c, ctx) for c in sub_conditions(cond)]
    held = [r for r in results if r.held]
    if held:
        if len(held) == 1:
            return held[0]
        out = _with_held(held[0], True)
        out.extra = _merged_extra(held)
        # every branch that held is evidence the message may name, not only the first
        out.shown = tuple(t for r in held for t in r.shown)
        return out
    return _with_held(results[0], False) if results else Evidence(False)


def _not(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    subs = sub_conditions(cond)
    inner = evaluate(subs[0], ctx) if subs else Evidence(True)
    return _with_held(inner, not inner.held)


def _with_held(ev: Evidence, held: bool) -> Evidence:
    return Evidence(held, ev.observed, ev.threshold, ev.n, ev.window, ev.steps, ev.metric, ev.extra)


#: Two-sided 95% normal quantile: the window mean's confidence bound is mean +- Z95 * stderr.
Z95 = 1.96
#: Episode-level metrics, most informative first: monitor.csv has every episode; SB3's
#: ep_rew_mean is a 100-episode running mean (its points are not independent).
ROLLING_RETURN = "rollout/ep_rew_mean"
RETURN_METRICS = ("episode/reward", ROLLING_RETURN)


def _mean_bound(values: Sequence[float], bound: str, z: float = Z95) -> float:
    """The mean of ``values``, or its upper/lower confidence bound (``bound``), 95% by default."""
    mean = _fsum(values) / len(values)
    if bound == "mean" or len(values) < 2:
        return mean
    sd = math.sqrt(_sum_sq_dev(values, mean) / (len(values) - 1))
    half = z * sd / math.sqrt(len(values))
    return mean + half if bound == "upper" else mean - half


def _best_stretch(values: Sequence[float], w: int, first: int = 0) -> tuple[float, Sequence[float], float]:
    """The best run of ``w`` consecutive values starting at index ``first`` or later: (its
    mean, its values, the z for its bound).

    The best of many noisy stretches is biased upwards, so its confidence bound uses a
    Bonferroni-corrected z (95% over all the stretches of ``values``, those before ``first``
    included: never less conservative than a search over them all), not 1.96.
    """
    sums = [_fsum(values[:w])]
    for i in range(w, len(values)):  # running sums: one pass over the episodes
        sums.append(sums[-1] + values[i] - values[i - w])
    best = max(range(min(first, len(sums) - 1), len(sums)), key=sums.__getitem__)
    from statistics import NormalDist  # only when a rule looks at episode stretches

    z = NormalDist().inv_cdf(1 - 0.025 / len(sums))
    return sums[best] / w, values[best : best + w], z


def _episode_batches(ctx: Context, rolling: Series) -> EpisodeBatches | None:
    """The returns of the episodes each table added, recovered from SB3's running mean where
    that is exact (:func:`sb3doctor.episodes.episode_batches`), computed once per run."""
    lengths = ctx.metrics.get("rollout/ep_len_mean")
    key = ("episode_batches", id(rolling))
    entry = ctx.cache.get(key)
    # the series themselves are kept and compared, as in _derived: an id can be reused
    if entry is None or entry[0] is not rolling or entry[1] is not lengths or entry[2] != len(rolling):
        from sb3doctor.episodes import episode_batches, window_of

        found = episode_batches(rolling, lengths, ctx.algo, window_of(ctx.hyperparams))
        entry = (rolling, lengths, len(rolling), found)
        ctx.cache[key] = entry
    found_batches: EpisodeBatches | None = entry[3]
    return found_batches


def returns_as_of(ctx: Context) -> int | None:
    """The step the run's latest return evidence describes; None without a step range.

    monitor.csv (or the episodes a callback saw) gives each episode as it ends, and the batch
    means recovered from an off-policy run's running mean are as recent as their table: the
    run's last step. SB3's ``ep_rew_mean`` alone averages the last ``stats_window_size`` (100)
    episodes, which took 100 x ``ep_len_mean`` steps to play (all the run's steps, while fewer
    have ended): its last value describes the policy of about half that span earlier. PPO on
    Acrobot (16 envs, episodes of ~460 steps) at step 40,960 averages every episode so far, the
    random ones of its start included (-460, where monitor.csv's latest are at -245).
    """
    if ctx.step_range is None:
        return None
    name = next((m for m in RETURN_METRICS if m in ctx.metrics and len(ctx.metrics[m])), None)
    if name != ROLLING_RETURN:
        return ctx.step_range[1]
    key = ("returns_as_of",)
    if key not in ctx.cache:
        rolling = ctx.metrics[ROLLING_RETURN]
        as_of = ctx.step_range[1]
        lengths = ctx.metrics.get("rollout/ep_len_mean")
        if _episode_batches(ctx, rolling) is None and lengths is not None:
            from sb3doctor.episodes import window_of

            last = rolling.max_step()
            known = [v for s, v in zip(lengths.steps, lengths.values, strict=True) if s <= last]
            length = known[-1] / frames_per_step(ctx.hyperparams) if known else None
            if length is not None and math.isfinite(length) and length > 0:
                span = min(window_of(ctx.hyperparams) * length, last - ctx.step_range[0])
                as_of = max(ctx.step_range[0], round(last - span / 2))
        ctx.cache[key] = as_of
    result: int = ctx.cache[key]
    return result


def _as_of_returns(ctx: Context) -> Context:
    """``ctx`` with its clock set back to :func:`returns_as_of` (the same where it is not)."""
    as_of = returns_as_of(ctx)
    if ctx.step_range is None or as_of is None or as_of >= ctx.step_range[1]:
        return ctx
    return replace(ctx, step_range=(ctx.step_range[0], as_of))


def training_start(ctx: Context) -> int | None:
    """The step the training clock starts at: the first gradient update, where the logs show it.

    Off-policy runs: the first ``train/*`` point (``learning_starts`` steps act at random before
    it). On-policy runs: one logged table before it (see below), within one rollout of the
    first update. The run's first step when only
    episode data was read (monitor.csv has no ``train/*``); None while SB3's logger shows the
    run but no update yet (a warm-up).
    """
    key = ("training_start",)
    if key not in ctx.cache:
        from sb3doctor.sources.detect import ON_POLICY

        trains = [s.steps for name, s in ctx.metrics.items() if name.startswith("train/") and len(s)]
        start: int | None = min(steps[0] for steps in trains) if trains else None
        if start is not None and ctx.algo in ON_POLICY:
            # SB3 writes an on-policy table every log_interval iterations (PPO 1, A2C 100) before
            # that iteration's update, so a table's train/* values are those of the update made
            # one iteration earlier, and the first update came up to one table before the first
            # train/* point: PPO's first update (step n_steps * n_envs) is logged at twice that;
            # A2C's first train/* point is its 99th update (step 500 with the defaults, where the
            # first update is at step 5). Within one rollout of exact.
            seconds = [steps[1] for steps in trains if len(steps) > 1 and steps[0] == start]
            if seconds:
                # ... but not before a table the logger wrote without train/* (PPO's first): a gap
                # in the log or merged files must not push the clock back to 0.
                table = last_table_before(ctx.metrics, start)
                start = max(0, table or 0, 2 * start - min(seconds))
        logger_seen = any(name.startswith(LOGGER_TABLE_PREFIXES) for name in ctx.metrics)
        if start is None and ctx.step_range is not None and not logger_seen:
            start = ctx.step_range[0]
        ctx.cache[key] = start
    result: int | None = ctx.cache[key]
    return result


def budget_fraction(ctx: Context, ref: Any, which: str = "fastest") -> float | None:
    """How much of rl-zoo's budget the run has used, counted from its first gradient update.

    Off-policy runs act at random until ``learning_starts`` (rl-zoo's TD3 on Pendulum: 10,000
    of 20,000 steps), so the clock starts at the first ``train/*`` point and the budget is
    shortened by the same amount. None when the budget is unknown; 0 before any update.
    ``which``: ``fastest`` (the smallest budget of any algorithm on the env: "has it even
    started?") or ``own`` (the budget of the run's own algorithm: "is it on schedule?").
    """
    budget = getattr(ref, "fastest_budget" if which == "fastest" else "budget", None)
    if not budget or ctx.step_range is None:
        return None
    start = training_start(ctx)
    if start is None:
        return 0.0  # SB3's logger is there but no update yet: still warming up
    shift = _warmup_shift(start, budget)
    return max(0.0, (ctx.step_range[1] - shift) / (budget - shift))


def _warmup_shift(start: int, budget: float) -> float:
    """How far rl-zoo's budget moves with a run's first update: by the steps before it, but by
    at most half of it (a late first update must not shrink the budget to nothing)."""
    return min(start, budget // 2)


def _steps_trained(ctx: Context) -> int:
    """Steps from the first gradient update to the run's last step; 0 before any update."""
    start = training_start(ctx)
    return ctx.step_range[1] - start if start is not None and ctx.step_range is not None else 0


def _budget(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    """Enough training to judge: ``min_frac`` of rl-zoo's budget for the run's env (counted
    from the first update, see :func:`budget_fraction`), or ``else_min_steps`` steps since the
    first update where the env or its budget is unknown; or, with ``min_steps``, simply that
    many steps logged (works on TensorBoard logs, which lack ``time/total_timesteps``); or, with
    ``planned_frac``, that share of the run's own planned ``total_timesteps`` / ``n_timesteps``;
    or, with ``onset_factor``, that many times the steps rl-zoo's tuned agent of the run's
    algorithm took to leave random play on its env (counted from the first update, the slowest
    of its measured seeds; holds where that was not measured, or the run does not show rl-zoo's
    settings: see ``RunReference.onset``; ``onset: critic`` takes the steps until that agent's
    critic explained anything instead, ``RunReference.critic_onset``); or, with ``trained_steps``, that
    many steps since the first update (0: the run has made one; a run read from monitor.csv
    alone counts from its first step). ``as_of: returns`` counts each of these to the step the
    run's return evidence describes (:func:`returns_as_of`): for a wait before "the returns have
    not risen" is judged."""
    value = float(cond.get("min_frac", 0.25))
    ev = Evidence(False, None, value, 0, None, None, "time/total_timesteps")
    if cond.get("as_of") == "returns":
        # A wait for the returns to move counts to the step their evidence describes: SB3's
        # running mean alone lags the run by half its window (see returns_as_of).
        ctx = _as_of_returns(ctx)
    if ctx.step_range is None:
        return ev
    if "trained_steps" in cond:
        # Steps since the first gradient update (see training_start): 0 = "has trained at all".
        # An off-policy run in its warm-up acts at random, whatever its returns do. Only an
        # off-policy run has a warm-up: logs of another algorithm without train/* are logs
        # filtered to a few keys, not a run that has not trained.
        from sb3doctor.sources.detect import OFF_POLICY

        start = training_start(ctx)
        if start is None and ctx.algo not in OFF_POLICY:
            start = ctx.step_range[0]
        ev.threshold, ev.steps = float(cond["trained_steps"]), ctx.step_range
        ev.observed = float(ctx.step_range[1] - start) if start is not None else None
        ev.held = ev.observed is not None and ev.observed >= ev.threshold
        return ev
    if "onset_factor" in cond:
        ref = ctx.reference() if ctx.reference is not None else None
        # the returns' onset, or (onset: critic) the steps until the agent's critic explains
        # anything at all (its explained_variance leaves 0)
        onset = getattr(ref, "critic_onset" if cond.get("onset") == "critic" else "onset", None)
        if not is_number(onset) or onset <= 0:
            ev.held, ev.observed, ev.threshold, ev.steps = True, None, None, ctx.step_range
            return ev
        # A tuned agent that needs N updates before its returns move says nothing is wrong with
        # a run of the same algorithm at N/2: "not learning" waits until the slowest measured
        # seed would have left random play, with a margin for seeds slower than those measured.
        trained = _steps_trained(ctx)
        wait = float(cond["onset_factor"]) * onset
        budget = getattr(ref, "budget", None)
        if is_number(budget) and budget > 0:
            # ... but no longer than rl-zoo trains that agent (from the same first update): at the
            # end of its own budget every measured seed had left random play (rl-zoo's QR-DQN
            # on MountainCar leaves it at up to 100,000 of its 120,000 steps).
            after_start = budget - _warmup_shift(training_start(ctx) or 0, budget)
            wait = max(float(onset), min(wait, after_start))
        ev.observed, ev.threshold, ev.steps = float(trained), wait, ctx.step_range
        ev.held = trained >= wait
        runs = getattr(ref, "onset_runs", None)
        ev.extra.update(onset=int(onset), onset_wait=int(wait), trained=int(trained), onset_runs=runs)
        return ev
    if "planned_frac" in cond:
        # A share of the run's own planned length (learn(total_timesteps), rl-zoo's n_timesteps):
        # known live (DoctorCallback asks the model, watch reads the zoo config), so that "the
        # returns have not risen" is not judged in the first half of a run that may learn late.
        # A finished run whose plan the logs do not give has used all of it.
        ev.threshold = float(cond["planned_frac"])
        # Only a stated plan counts: the logs' last step (``total_timesteps`` recovered from
        # them) would make every run look finished.
        planned = ctx.hyperparams.get("planned_timesteps")
        planned = planned if is_number(planned) and planned > 0 else None
        if planned is None and ctx.live:
            # Still training, plan unknown (a TensorBoard folder watched while it grows): take
            # rl-zoo's budget for the algorithm on the env as the plan; with no such budget the
            # run may be anywhere in its course, so its share is unknown until it has ended.
            ref = ctx.reference() if ctx.reference is not None else None
            budget = getattr(ref, "budget", None)
            planned = budget if is_number(budget) and budget > 0 else None
            if planned is None:
                ev.observed, ev.held, ev.steps = 0.0, False, ctx.step_range
                return ev
        ev.observed = 1.0 if planned is None else min(1.0, ctx.step_range[1] / planned)
        ev.held, ev.steps = ev.observed >= ev.threshold, ctx.step_range
        if planned is not None:  # for messages: "the run is 15% of the way through 100000 steps"
            ev.extra.update(planned=planned, planned_frac=ev.observed)
        return ev
    if "min_steps" in cond:  # an absolute number of steps, from the start of the run
        ev.observed, ev.threshold = float(ctx.step_range[1]), float(cond["min_steps"])
        ev.held, ev.steps = ev.observed >= ev.threshold, ctx.step_range
        return ev
    ref = ctx.reference() if ctx.reference is not None else None
    frac = budget_fraction(ctx, ref, str(cond.get("budget", "fastest")))
    if frac is not None:
        ev.observed, ev.held = frac, frac >= value
        return ev
    trained = _steps_trained(ctx)
    ev.observed, ev.threshold = float(trained), float(cond.get("else_min_steps", 20_000))
    ev.held = trained >= ev.threshold
    return ev


def _return_level(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    """Where the episode returns of a window stand against random play and a reference.

    ``measure``: ``progress`` = (window mean - random) / (reference - random), 0 at random play
    and 1 at rl-zoo's benchmark return; ``gain`` = progress of the window minus progress of the
    run's first 10% of episodes; ``peak`` = progress of the best stretch of ``window`` size;
    ``effect`` = (window mean - start mean) / the spread of the episodes, which needs no
    reference; ``drop`` = the share of its rise the run lost since its best stretch, beyond the
    episode noise (see :func:`_drop_beyond_noise`). ``bound`` (``upper``, ``lower`` or ``mean``)
    takes the window mean's 95% confidence bound first, so that noise alone cannot make the
    condition hold.
    ``min_budget_frac`` requires the run to have reached that fraction of the reference
    budget (``max_budget_frac``: not yet reached it), counted to the step the returns describe
    (:func:`returns_as_of`); ``min_steps`` an absolute number of steps.
    ``sparse_only`` holds only on envs whose
    reward comes at a goal; ``without_reference`` only where the env has no known reference.
    """
    name = cond.get("metric")
    candidates = (name,) if name else RETURN_METRICS
    name = next((m for m in candidates if m in ctx.metrics and len(ctx.metrics[m])), candidates[0])
    series = ctx.metrics.get(name) if name in ctx.metrics and len(ctx.metrics[name]) else None
    value = float(cond["value"])
    window = cond.get("window", {"last_frac": 0.2})
    ev = Evidence(False, None, value, 0, window, None, name)
    if series is None:
        return ev
    measure = cond["measure"]
    ref = ctx.reference() if ctx.reference is not None else None
    last_step = ctx.step_range[1] if ctx.step_range is not None else series.max_step()
    if last_step < float(cond.get("min_steps", 0)):
        return ev
    if "min_budget_frac" in cond or "max_budget_frac" in cond:
        # counted to the step the returns describe (SB3's running mean lags: returns_as_of)
        frac = budget_fraction(_as_of_returns(ctx), ref, str(cond.get("budget", "fastest")))
        if frac is None:
            return ev
        ev.extra["budget_frac"] = frac  # for messages: "the run has used 20% of the budget"
        too_early = frac < float(cond.get("min_budget_frac", 0.0))
        if too_early or frac >= float(cond.get("max_budget_frac", math.inf)):
            return ev
    # Episodes per point: 1 for monitor.csv; SB3's running mean, where the returns of the
    # episodes each table added can be recovered from it, gives one batch mean per table.
    per_point = 1
    if name == ROLLING_RETURN:
        batches = _episode_batches(ctx, series)
        if batches is not None:
            series, per_point = batches.series, batches.per_point
    d = _derived(ctx, series)
    all_steps, all_values = d.finite_steps, d.finite_values
    steps, values = select(all_steps, all_values, window, ctx.step_range, d.sorted_steps)
    min_points = int(cond.get("min_points", 3))
    if per_point > 1:
        # min_points counts episodes; a batch mean holds per_point of them, and a confidence
        # bound needs at least 3 points
        min_points = max(3, math.ceil(min_points / per_point))
    if name == ROLLING_RETURN and len(values) < min_points <= len(all_values):
        # SB3's ep_rew_mean is already a mean over the last 100 episodes, one point per logged
        # table: a run with few tables (PPO with 16 envs x 1024 steps logs one per 16384 steps)
        # has too few of them in its last fifth for a window of episodes, although each says
        # more than an episode does. Take the last min_points tables instead, rather than judge
        # nothing (a "the returns have not risen" guard would then hold for want of evidence).
        # The same for the batch means recovered from it (TD3 on Pendulum: 4 episodes a table).
        steps, values = all_steps[-min_points:], all_values[-min_points:]
    ev.n, ev.steps = len(values), _span(steps)
    if len(values) < min_points or not values:
        return ev
    bound = str(cond.get("bound", "mean"))
    # the run's start: its first 10% of episodes, at least 5, but none of the final window's: a
    # run with few tables (PPO on LunarLander with rl-zoo's 16 x 1024-step rollouts logs 7 in
    # 115k steps; the final window then takes the last 5) would otherwise compare its end with
    # a start made of the same points, and could never show that it rose.
    n_start = max(math.ceil(5 / per_point), len(all_values) // 10)
    if 0 < len(all_values) - len(values) < n_start:
        n_start = len(all_values) - len(values)
    start_vals = all_values[:n_start]
    start = _fsum(start_vals) / len(start_vals)
    final_mean = _fsum(values) / len(values)
    ev.extra = {**ev.extra, "final": final_mean, "start": start, "episodes": len(values) * per_point}
    if cond.get("without_reference", False) and ref is not None and ref.progress(0.0) is not None:
        return ev  # the env is known: the rules that compare with its reference judge instead
    if measure == "drop":
        # The best stretch is looked for among the episodes of a trained policy only: before its
        # first gradient update a run acts at random (an off-policy warm-up of learning_starts
        # steps), and a lucky stretch of random play is nothing the run learned and could lose.
        first_update = training_start(ctx)
        trained_from = bisect.bisect_left(all_steps, first_update) if first_update is not None else 0
        return _drop_beyond_noise(ev, cond, all_values, values, start, ref, trained_from)
    if measure in ("effect", "peak_effect"):
        # (final - start) in units of the episodes' spread, with the bound taken on the
        # difference of the two window means (both are noisy). peak_effect: the best stretch
        # of the run instead of the final window, with a Bonferroni-corrected bound.
        compare, z = values, Z95
        if measure == "peak_effect":
            _, compare, z = _best_stretch(all_values, min(len(values), len(all_values)))
        # The spread is the pooled within-window standard deviation (Cohen's d): the gap
        # between the two windows must not inflate the yardstick it is measured with.
        cmp_mean = _fsum(compare) / len(compare)
        dof = len(start_vals) + len(compare) - 2
        within = (_sum_sq_dev(start_vals, start) + _sum_sq_dev(compare, cmp_mean)) / max(1, dof)
        diff = cmp_mean - start
        if within <= 0:
            ev.observed = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        else:
            sd = math.sqrt(within)
            se = sd * math.sqrt(1 / len(compare) + 1 / len(start_vals))
            half = {"upper": z * se, "lower": -z * se}.get(bound, 0.0)
            # the yardstick is the spread of single episodes: a mean of k episodes varies
            # sqrt(k) times less than one does
            ev.observed = (diff + half) / (sd * math.sqrt(per_point))
        ev.held = OPS[cond["op"]](ev.observed, value)
        return ev
    if ref is None or ref.progress(0.0) is None:
        return ev
    if cond.get("sparse_only", False) and not ref.sparse:
        return ev
    if measure == "peak":
        peak_mean, peak_vals, z = _best_stretch(all_values, min(len(values), len(all_values)))
        observed = ref.progress(_mean_bound(peak_vals, bound, z))
        ev.extra["peak"] = peak_mean
    else:
        observed = ref.progress(_mean_bound(values, bound))
        if measure == "gain":
            start_progress = ref.progress(start)
            if cond.get("above_random", False):
                # From random play where the run started below it: a policy that starts worse
                # than random (PPO's std of 1 on Pendulum) and climbs to random play has learned
                # nothing of the task yet.
                start_progress = max(start_progress, 0.0)
            observed = observed - start_progress
    ev.observed = observed
    ev.held = observed is not None and OPS[cond["op"]](observed, value)
    return ev


def _vs_reference(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    """A hyperparameter of the run divided by its reference value, compared with ``op``/``value``.

    The reference is rl-zoo's tuned value for the run's algorithm and env when known, else
    SB3's default for the algorithm (``sb3doctor/knowledge``). ``param`` names the
    hyperparameter (e.g. ``learning_rate``, read from the logs or config.json). Where the zoo
    has no entry for the env (or the env is unknown), "far above" (``op`` ``>`` / ``>=``) is
    judged against the larger of SB3's default and the largest value the zoo tuned for the
    algorithm on any env: a setting inside the range that works somewhere is not evidently
    too high.

    ``transform: horizon`` compares discount factors by their effective horizon
    ``1 / (1 - gamma)``, the number of steps over which rewards still count: 0.9 and 0.99 are
    10 and 100 steps, a factor the raw values (0.91x) hide. The reference horizon is then the
    shorter of the two known to work (SB3's default and rl-zoo's value for the env), so a
    discount the zoo raised for one env (LunarLander's 0.999) does not make SB3's default
    look far too short there.
    """
    param = str(cond["param"])
    value = float(cond["value"])
    ev = Evidence(False, None, value, 0, None, None, cond.get("metric", ctx.metric))
    current = ctx.hyperparams.get(param)
    if not is_number(current):
        return ev
    horizon = cond.get("transform") == "horizon"
    reference: Any = None
    if ctx.reference is not None:
        from sb3doctor.knowledge import has_zoo_entry, reference_values, zoo_largest

        env_id = ctx.reference().env_id
        default, zoo = reference_values(ctx.algo or "", env_id, param)
        reference = zoo if zoo is not None else default
        if horizon and zoo is not None and default is not None:
            reference = min(zoo, default)
        # An env the zoo tuned without this key keeps SB3's default: that is its tuned value.
        untuned = env_id is None or not has_zoo_entry(ctx.algo or "", env_id)
        if untuned and reference is not None and cond["op"] in (">", ">="):
            largest = zoo_largest(ctx.algo or "", param)
            reference = max(reference, largest) if largest is not None else reference
    if reference is None or reference <= 0:
        return ev
    if horizon:
        if not 0 <= current < 1 or not 0 < reference < 1:
            return ev  # a discount of 1 or more has no finite horizon to compare
        # rounded: 1 - 0.99 and 1 - 0.8 are not exact in binary, and 0.8 against 0.99 must
        # come out as the 0.05 it is, not 0.05000000000000006
        ev.observed = round((1 - reference) / (1 - current), 12)
        ev.extra = {
            "current": current,
            "reference": reference,
            "horizon": 1 / (1 - current),
            "reference_horizon": 1 / (1 - reference),
        }
    else:
        # to float32's 7 digits: an event file stores 0.01 as 0.0099999998, which is 10x 0.001
        # to the user, and must not come out as 9.9999998 and miss a ">= 10"
        ev.observed = float(f"{current / reference:.7g}")
        ev.extra = {"current": current, "reference": reference}
    ev.held = OPS[cond["op"]](ev.observed, value)
    ev.n = 1
    return ev


def _drop_beyond_noise(
    ev: Evidence,
    cond: Mapping[str, Any],
    all_values: Sequence[float],
    values: Sequence[float],
    start: float,
    ref: Any,
    trained_from: int = 0,
) -> Evidence:
    """``measure: drop``: how much of its rise the run lost since its best stretch of episodes.

    The best stretch is the best run of ``len(window)`` consecutive episodes before the window
    and from index ``trained_from`` on (the first episode after the first gradient update);
    the drop is (its lower bound - the window's 95% upper bound) / (its mean - baseline),
    baseline = random play when the env is known, else the run's start. Both bounds make the
    drop one that the episode noise cannot explain: a maximum over many noisy stretches is
    biased upwards, and its Bonferroni-corrected lower bound (:func:`_best_stretch`) corrects
    for that.
    """
    w = len(values)
    head = all_values[: len(all_values) - w]
    if len(head) - trained_from < w:
        return ev  # not one stretch of a trained policy before the window
    peak_mean, peak_vals, z = _best_stretch(head, w, trained_from)
    peak_low = _mean_bound(peak_vals, "lower", z)
    baseline = ref.random_return if ref is not None and ref.random_return is not None else start
    rise = peak_mean - baseline
    ev.extra.update(peak=peak_mean, baseline=baseline)
    if rise <= 0 or peak_low <= baseline:
        return ev  # no real rise to lose
    known = ref is not None and ref.progress(baseline) is not None
    if known and ref.progress(peak_mean) - ref.progress(baseline) < 0.1:
        # Less than a tenth of the way from random play to the reference: wobbles around the
        # random level (a learning rate of 1e-6) are not a collapse.
        return ev
    if not known and rise < 0.2 * abs(peak_mean):
        # No reference: a rise of under a fifth of the returns' own magnitude (a task solved
        # from the first episode, 87 -> 96) is not something the run learned and then lost.
        return ev
    ev.observed = (peak_low - _mean_bound(values, "upper")) / rise
    ev.held = OPS[cond["op"]](ev.observed, float(cond["value"]))
    return ev


def _growth(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    """``stat`` over the ``late`` window divided by ``stat`` over the ``early`` window.

    For losses or KL that grow by orders of magnitude (divergence without NaN). ``abs: true``
    compares magnitudes. Needs ``min_points`` in each window and a non-zero early statistic.
    """
    name, series = _series(ctx, cond)
    value = float(cond["value"])
    late_window = cond.get("late", {"last_frac": 0.2})
    ev = Evidence(False, None, value, 0, late_window, None, name)
    if series is None or not len(series):
        return ev
    d = _derived(ctx, series)
    _, early_v = select(
        d.finite_steps,
        d.finite_values,
        cond.get("early", {"first_frac": 0.2}),
        ctx.step_range,
        d.sorted_steps,
    )
    late_s, late_v = select(d.finite_steps, d.finite_values, late_window, ctx.step_range, d.sorted_steps)
    if cond.get("abs", False):
        early_v, late_v = [abs(v) for v in early_v], [abs(v) for v in late_v]
    ev.n, ev.steps = len(late_v), _span(late_s)
    if _too_few(cond, early_v) or _too_few(cond, late_v):
        return ev
    early, late = stat(cond["stat"], early_v), stat(cond["stat"], late_v)
    ev.extra = {"early": early, "late": late}
    if early <= 0 or not math.isfinite(early):
        return ev
    ev.observed = late / early
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


_KINDS: dict[str, Callable[[Mapping[str, Any], Context], Evidence]] = {
    "threshold": _threshold,
    "sustained": _sustained,
    "trend": _trend,
    "spike": _spike,
    "drop_from_peak": _drop_from_peak,
    "plateau": _plateau,
    "frozen": _frozen,
    "missing": _missing,
    "non_finite": _non_finite,
    "ratio_to_bound": _ratio_to_bound,
    "counter_ratio": _counter_ratio,
    "step_gap": _step_gap,
    "return_level": _return_level,
    "growth": _growth,
    "vs_reference": _vs_reference,
    "budget": _budget,
    "all_of": _all_of,
    "any_of": _any_of,
    "not": _not,
}


def evaluate(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    """Evaluate one (validated) condition on ``ctx``.

    :raises ValueError: the kind is not one of :data:`KINDS` (the rule loader rejects such
        rules, so this only happens with hand-built conditions)
    """
    kind = kind_of(cond)
    try:
        fn = _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown condition kind {kind!r}") from None
    ev = fn(cond, ctx)
    shows = cond.get("shows")
    if shows is not None and ev.held:
        # What this part of the condition says about the run when it holds (``{shown}``).
        ev.shown = (*ev.shown, {"en": shows} if isinstance(shows, str) else shows)
    return ev
