"""The closed set of rule conditions: series in, evidence out.

Pure functions, no I/O. A condition is the ``condition:`` mapping of a rule (already
validated by :mod:`sb3doctor.ruleset`); :func:`evaluate` returns an :class:`Evidence`
saying whether it held and on what numbers. Windows of a few hundred points are handled
in pure Python on purpose: importing numpy would cost more than the whole analysis.
See ``rules/SCHEMA.md`` for the meaning of every kind and key.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from sb3doctor.model import Series

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
    """

    metrics: Mapping[str, Series]
    step_range: tuple[int, int] | None = None
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    metric: str | None = None


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
    steps: Sequence[int], values: Sequence[float], window: Any, step_range: tuple[int, int] | None
) -> tuple[Sequence[int], Sequence[float]]:
    """The points of a step-sorted series inside ``window`` (see SCHEMA.md, "Windows")."""
    if window is None or window == "all":
        return steps, values
    key, arg = next(iter(window.items()))
    if key == "last":
        start = max(0, len(steps) - int(arg))
        return steps[start:], values[start:]
    if key == "first":
        return steps[: int(arg)], values[: int(arg)]
    lo, hi = step_range if step_range is not None else ((steps[0], steps[-1]) if len(steps) else (0, 0))
    # last_frac counts back from the last step, from_frac forward from the first
    cut = hi - float(arg) * (hi - lo) if key == "last_frac" else lo + float(arg) * (hi - lo)
    i = 0
    while i < len(steps) and steps[i] < cut:
        i += 1
    return steps[i:], values[i:]


def _finite(steps: Sequence[int], values: Sequence[float]) -> tuple[list[int], list[float]]:
    # Statistics skip NaN/inf points; the non_finite kind is the one that reports them.
    pairs = [(s, v) for s, v in zip(steps, values, strict=False) if math.isfinite(v)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def stat(name: str, values: Sequence[float]) -> float:
    """One of :data:`STATS` over a non-empty sequence of finite values."""
    if name == "last":
        return values[-1]
    if name == "mean":
        return math.fsum(values) / len(values)
    if name == "median":
        return _median(values)
    if name == "min":
        return min(values)
    if name == "max":
        return max(values)
    if name == "std":
        mean = math.fsum(values) / len(values)
        return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
    if name == "abs_median":
        return _median([abs(v) for v in values])
    raise ValueError(f"unknown statistic {name!r}")


def _series(ctx: Context, cond: Mapping[str, Any]) -> tuple[str | None, Series | None]:
    name = cond.get("metric", ctx.metric)
    return name, ctx.metrics.get(name) if name is not None else None


def _windowed(
    ctx: Context, cond: Mapping[str, Any], default_window: Any = None
) -> tuple[str | None, list[int], list[float]]:
    name, series = _series(ctx, cond)
    if series is None or not len(series):
        return name, [], []
    steps, values = select(series.steps, series.values, cond.get("window", default_window), ctx.step_range)
    s, v = _finite(steps, values)
    return name, s, v


def _span(steps: Sequence[int]) -> tuple[int, int] | None:
    return (int(steps[0]), int(steps[-1])) if len(steps) else None


# --- the kinds -------------------------------------------------------------------------


def _threshold(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, steps, values = _windowed(ctx, cond)
    value = float(cond["value"])
    ev = Evidence(False, None, value, len(values), cond.get("window"), _span(steps), name)
    if len(values) < int(cond.get("min_points", 3)) or not values:
        return ev
    ev.observed = stat(cond["stat"], values)
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


def _sustained(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, steps, values = _windowed(ctx, cond)
    value = float(cond["value"])
    op = OPS[cond["op"]]
    ev = Evidence(False, None, value, len(values), cond.get("window"), _span(steps), name)
    if len(values) < int(cond.get("min_points", 3)) or not values:
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
    mx = math.fsum(steps) / n
    my = math.fsum(values) / n
    sxx = math.fsum((x - mx) ** 2 for x in steps)
    slope = (
        math.fsum((x - mx) * (y - my) for x, y in zip(steps, values, strict=False)) / sxx if sxx > 0 else 0.0
    )
    scale = (max(values) - min(values)) if cond.get("scale", "abs_mean") == "range" else abs(my)
    ev.observed = slope * (steps[-1] - steps[0]) / scale if scale > 1e-12 else 0.0
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


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
    all_steps, all_values = _finite(series.steps, series.values)
    win_steps, _ = select(all_steps, all_values, cond.get("window", {"last": 1}), ctx.step_range)
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
    all_steps, all_values = _finite(series.steps, series.values)
    steps, values = select(all_steps, all_values, window, ctx.step_range)
    if len(values) < int(cond.get("min_points", 1)) or not values or not all_values:
        return ev
    peak = max(all_values)
    at = all_values.index(peak)
    peak_step = all_steps[at]
    # The baseline is what the metric rose from: the minimum *before* the peak, so that a
    # series that only ever declined has no rise and cannot "drop from its peak".
    baseline = all_values[0] if cond.get("baseline", "min") == "first" else min(all_values[: at + 1])
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
    all_steps, all_values = _finite(series.steps, series.values)
    steps, values = select(all_steps, all_values, cond.get("window"), ctx.step_range)
    ev.n, ev.steps = len(values), _span(steps)
    if len(values) < int(cond.get("min_points", 3)) or not values:
        return ev
    best = max(all_values)
    progress = max(abs(best - all_values[0]), float(cond.get("eps", 1e-9)))
    ev.observed = (max(values) - min(values)) / progress
    ev.held = OPS[cond.get("op", "<")](ev.observed, value)
    if ev.held and cond.get("below_best", False):
        ev.held = values[-1] < best
    return ev


def _frozen(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, series = _series(ctx, cond)
    tol = float(cond.get("tolerance", 0.0))
    min_points = int(cond.get("min_points", 3))
    adv_abs = float(cond.get("min_step_advance", 0))
    adv_x = float(cond.get("min_step_advance_x", 0))
    ev = Evidence(False, None, None, 0, cond.get("window"), None, name)
    if series is None or not len(series):
        return ev
    steps, values = select(series.steps, series.values, cond.get("window"), ctx.step_range)
    best: tuple[float, float, int, int] | None = None  # (advance, needed, i, j)
    i, n = 0, len(values)
    while i < n:
        j = i
        while j + 1 < n and abs(values[j + 1] - values[i]) <= tol:
            j += 1
        advance = float(steps[j] - steps[i])
        needed = max(adv_abs, adv_x * abs(values[i]) if math.isfinite(values[i]) else 0.0)
        if (
            j - i + 1 >= min_points
            and advance > 0
            and advance >= needed
            and (best is None or advance > best[0])
        ):
            best = (advance, needed, i, j)
        i = j + 1
    if best is None:
        return ev
    advance, needed, i, j = best
    return Evidence(True, advance, needed, j - i + 1, cond.get("window"), (steps[i], steps[j]), name)


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
        steps, values = select(series.steps, series.values, cond.get("window"), ctx.step_range)
        total += len(values)
        bad = [s for s, v in zip(steps, values, strict=False) if not math.isfinite(v)]
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
    all_steps, all_values = _finite(series.steps, series.values)
    sign = -1.0 if cond.get("negate", False) else 1.0
    if cond["bound"] == "ln_n_actions":
        n_actions = ctx.hyperparams.get("n_actions")
        if not isinstance(n_actions, (int, float)) or n_actions < 2:
            return ev  # the bound is unknown: the rule cannot judge this run
        bound = math.log(n_actions)
    else:  # first
        if not all_values:
            return ev
        bound = sign * all_values[0]
    steps, values = select(all_steps, all_values, cond.get("window"), ctx.step_range)
    ev.n, ev.steps = len(values), _span(steps)
    if len(values) < int(cond.get("min_points", 3)) or not values or bound == 0:
        return ev
    ev.observed = stat(cond["stat"], [sign * v for v in values]) / bound
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


def _counter_ratio(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    name, series = _series(ctx, cond)
    value = float(cond["value"])
    ev = Evidence(False, None, value, 0, cond.get("window"), None, name)
    of = ctx.metrics.get(cond["of"])
    if series is None or of is None:
        return ev
    at_of = dict(zip(of.steps, of.values, strict=False))
    pairs = [(s, v, at_of[s]) for s, v in zip(series.steps, series.values, strict=False) if s in at_of]
    r_steps: list[int] = []
    r_values: list[float] = []
    for (_, v0, d0), (s1, v1, d1) in itertools.pairwise(pairs):
        if d1 - d0 > 0:
            r_steps.append(s1)
            r_values.append((v1 - v0) / (d1 - d0))
    steps, values = select(r_steps, r_values, cond.get("window"), ctx.step_range)
    steps, values = _finite(steps, values)
    ev.n, ev.steps = len(values), _span(steps)
    if len(values) < int(cond.get("min_points", 3)) or not values:
        return ev
    ev.observed = stat(cond["stat"], values)
    ev.held = OPS[cond["op"]](ev.observed, value)
    return ev


def _all_of(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    results = [evaluate(c, ctx) for c in sub_conditions(cond)]
    first = results[0] if results else Evidence(False)
    return _with_held(first, bool(results) and all(r.held for r in results))


def _any_of(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    results = [evaluate(c, ctx) for c in sub_conditions(cond)]
    held = [r for r in results if r.held]
    if held:
        return held[0]
    return _with_held(results[0], False) if results else Evidence(False)


def _not(cond: Mapping[str, Any], ctx: Context) -> Evidence:
    subs = sub_conditions(cond)
    inner = evaluate(subs[0], ctx) if subs else Evidence(True)
    return _with_held(inner, not inner.held)


def _with_held(ev: Evidence, held: bool) -> Evidence:
    return Evidence(held, ev.observed, ev.threshold, ev.n, ev.window, ev.steps, ev.metric)


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
    return fn(cond, ctx)
