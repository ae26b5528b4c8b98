"""What the report and the comparison show of a run: final return, smoothed and decimated curves,
healthy bands, seed-group bands and where each hyperparameter came from.

Smoothing is TensorBoard's debiased exponential moving average, so a curve looks as it does in
TensorBoard at the same weight. Long series are decimated by min/max buckets *after*
smoothing: every spike survives (a reservoir sample would drop most of them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sb3doctor.model import Finding, Run, Series

#: Share of the last episodes (or logged points) whose mean is a run's final performance.
FINAL_FRACTION = 0.10
#: Above this many points a series is smoothed in Python at :data:`LEVELS` and decimated;
#: below, its raw points are embedded and the page smooths them at any weight.
MAX_RAW_POINTS = 2000
#: Buckets of the min/max decimation (two points each): about one per pixel of a chart.
BUCKETS = 500
#: Smoothing weights precomputed for decimated series and seed groups; the page's slider
#: snaps to the nearest for those.
LEVELS: tuple[float, ...] = (0.0, 0.6, 0.9, 0.99)
DEFAULT_SMOOTHING = 0.6
#: Points of the common step grid a seed group is resampled on.
GROUP_POINTS = 300

#: The return curve: SB3's rolling mean when logged, else Monitor's episodes.
RETURN_METRICS: tuple[str, ...] = ("rollout/ep_rew_mean", "episode/reward", "eval/mean_reward")

#: Metrics charted for each run when present, in this order (finding metrics are added).
KEY_METRICS: tuple[str, ...] = (
    "rollout/ep_rew_mean",
    "episode/reward",
    "train/approx_kl",
    "train/clip_fraction",
    "train/entropy_loss",
    "train/explained_variance",
    "train/value_loss",
    "train/critic_loss",
    "train/learning_rate",
    "train/std",
    "rollout/exploration_rate",
    "train/ent_coef",
)


@dataclass(frozen=True)
class HealthyBand:
    """The range a rule treats as healthy for a metric, and the rules it comes from."""

    low: float
    high: float
    rules: tuple[str, ...]
    algos: tuple[str, ...] | None = None  # None: every algorithm

    def applies(self, algo: str | None) -> bool:
        """Whether the band is meaningful for ``algo``."""
        return self.algos is None or (algo or "") in self.algos


_PPO = ("PPO", "RecurrentPPO", "MaskablePPO")
#: Healthy bands, from the built-in rules' thresholds and their ``why`` texts.
HEALTHY_BANDS: dict[str, HealthyBand] = {
    # PPO-KL-HIGH's why: "0.01-0.03 is the healthy band"; PPO-KL-LOW warns below 0.005.
    "train/approx_kl": HealthyBand(0.01, 0.03, ("PPO-KL-HIGH", "PPO-KL-LOW"), _PPO),
    # PPO-CLIPFRAC-LOW below 0.05, PPO-CLIPFRAC-HIGH above 0.3.
    "train/clip_fraction": HealthyBand(0.05, 0.3, ("PPO-CLIPFRAC-LOW", "PPO-CLIPFRAC-HIGH"), _PPO),
    # VF-EV-LOW below 0.5, VF-EV-NEGATIVE below 0; 1 is a perfect critic.
    "train/explained_variance": HealthyBand(
        0.5, 1.0, ("VF-EV-LOW", "VF-EV-NEGATIVE"), (*_PPO, "A2C", "TRPO")
    ),
}


def return_series(run: Run) -> tuple[str, Series] | None:
    """The run's return curve (metric name, series), or None when it logs none."""
    for name in RETURN_METRICS:
        series = run.metrics.get(name)
        if series is not None and len(series):
            return name, series
    return None


def final_performance(run: Run) -> tuple[float | None, str | None]:
    """The mean return of the last 10% of the run's episodes, and the metric it was read from.

    Monitor's ``episode/reward`` when the run has it (every episode), else the last 10% of the
    logged ``rollout/ep_rew_mean`` points (at least one), else ``eval/mean_reward``'s.
    (None, None) when the run logs no return.
    """
    for name in ("episode/reward", "rollout/ep_rew_mean", "eval/mean_reward"):
        series = run.metrics.get(name)
        if series is None:
            continue
        values = [v for v in series.sorted().values if math.isfinite(v)]
        if not values:
            continue
        k = max(1, math.ceil(len(values) * FINAL_FRACTION))
        tail = values[-k:]
        return sum(tail) / len(tail), name
    return None, None


def ema(values: Sequence[float] | np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased EMA: ``last = w*last + (1-w)*v; smoothed = last / (1 - w**k)``.

    ``k`` counts the finite values so far; a non-finite value is passed through unchanged and
    does not enter the average (as in TensorBoard).
    """
    y = np.asarray(values, dtype=float)
    out = y.copy()
    if weight <= 0 or not len(y):
        return out
    finite = np.isfinite(y)
    v = y[finite]
    if not len(v):
        return out
    from scipy.signal import lfilter

    acc = lfilter([1.0 - weight], [1.0, -weight], v)
    k = np.arange(1, len(v) + 1)
    out[finite] = acc / (1.0 - weight**k)
    return out


def _bucket_extremes(
    idx: np.ndarray, y: np.ndarray, n_buckets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bucket (``idx`` sorted, one bucket number per point): the values of its min and max
    in the order they occur, and whether it holds a finite value. Vectorised (two lexsorts)."""
    fin = np.isfinite(y)
    first = np.full(n_buckets, np.nan)
    second = np.full(n_buckets, np.nan)
    has = np.zeros(n_buckets, bool)
    if not fin.any():
        return first, second, has
    pos = np.flatnonzero(fin)
    b, v = idx[fin], y[fin]
    # Sorted by (bucket, value): the first of each bucket is its min, the last its max.
    order = np.lexsort((v, b))
    sb = b[order]
    starts = np.flatnonzero(np.r_[True, sb[1:] != sb[:-1]])
    ends = np.r_[starts[1:], len(sb)] - 1
    buckets = sb[starts]
    i_min, i_max = pos[order[starts]], pos[order[ends]]
    lo_first = i_min <= i_max
    first[buckets] = np.where(lo_first, y[i_min], y[i_max])
    second[buckets] = np.where(lo_first, y[i_max], y[i_min])
    has[buckets] = True
    return first, second, has


def _bucket_index(x: np.ndarray, buckets: int) -> tuple[np.ndarray, float, float]:
    lo, hi = float(x[0]), float(x[-1])
    width = (hi - lo) / buckets or 1.0
    idx = np.minimum(((x - lo) / width).astype(np.int64), buckets - 1)
    return idx, lo, width


def minmax_decimate(
    x: np.ndarray, ys: Sequence[np.ndarray], buckets: int = BUCKETS
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Decimate curves sharing the sorted steps ``x`` to two points per step bucket: min and max.

    Buckets are equal step ranges; in each, every curve keeps its smallest and largest value in
    the order they occur, placed at the bucket's first and last step (so all curves share one x
    array); empty buckets are left out. Returns the new x and one array per curve.
    """
    x = np.asarray(x, dtype=float)
    if len(x) <= 2 * buckets:
        return x, [np.asarray(y, dtype=float) for y in ys]
    idx, _, _ = _bucket_index(x, buckets)
    starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
    ends = np.r_[starts[1:], len(x)] - 1
    used = idx[starts]
    new_x = np.empty(2 * len(starts))
    new_x[0::2] = x[starts]
    new_x[1::2] = x[ends]
    out = []
    for y in ys:
        first, second, _ = _bucket_extremes(idx, np.asarray(y, dtype=float), buckets)
        ny = np.empty(2 * len(starts))
        ny[0::2], ny[1::2] = first[used], second[used]
        out.append(ny)
    return new_x, out


def minmax_buckets(
    x: np.ndarray, ys: Sequence[np.ndarray], buckets: int = BUCKETS
) -> tuple[float, float, list[np.ndarray]]:
    """Like :func:`minmax_decimate`, with an implicit x: bucket ``j``'s two points sit at
    ``x0 + dx * (j + 0.25)`` and ``x0 + dx * (j + 0.75)``; an empty bucket is NaN (no point).

    Returns ``(x0, dx, curves)``, each curve ``2 * buckets`` long. Saves the x array in the page.
    """
    x = np.asarray(x, dtype=float)
    idx, lo, width = _bucket_index(x, buckets)
    out = []
    for y in ys:
        first, second, _ = _bucket_extremes(idx, np.asarray(y, dtype=float), buckets)
        ny = np.empty(2 * buckets)
        ny[0::2], ny[1::2] = first, second
        out.append(ny)
    return lo, width, out


def _round(values: np.ndarray, digits: int = 4) -> list[float | None]:
    """JSON-ready numbers: ``digits`` significant digits, None for NaN/inf (a gap in the chart)."""
    out: list[float | None] = []
    for v in values.tolist():
        if not math.isfinite(v):
            out.append(None)
        elif v == 0 or (float(v).is_integer() and abs(v) < 1e15):
            out.append(int(v) if float(v).is_integer() else v)
        else:
            out.append(float(f"{v:.{digits}g}"))
    return out


def curve_payload(series: Series) -> dict[str, Any]:
    """The chart data of one series.

    * at most :data:`MAX_RAW_POINTS` points: ``x`` and ``raw`` (the page smooths at any weight);
    * a constant series: its first and last point (a learning rate logged 4,000 times);
    * else ``x0``, ``dx``, ``buckets`` and ``levels``: the curve smoothed at each of
      :data:`LEVELS`, then min/max decimated into :data:`BUCKETS` buckets (see
      :func:`minmax_buckets`).
    """
    s = series.sorted()
    x = np.frombuffer(s.steps, dtype=np.int64).astype(float)
    y = np.frombuffer(s.values, dtype=np.float64)
    n = len(y)
    if n > 2 and np.isfinite(y).all() and (y == y[0]).all():
        return {"n": n, "x": _round(x[[0, -1]], 15), "raw": _round(y[[0, -1]])}
    if n <= MAX_RAW_POINTS:
        return {"n": n, "x": _round(x, 15), "raw": _round(y)}
    x0, dx, decimated = minmax_buckets(x, [ema(y, w) for w in LEVELS])
    return {
        "n": n,
        "x0": x0,
        "dx": float(f"{dx:.10g}"),
        "buckets": BUCKETS,
        "levels": {str(w): _round(d) for w, d in zip(LEVELS, decimated, strict=True)},
    }


def chart_metrics(run: Run, findings: Sequence[Finding]) -> list[str]:
    """The metrics charted for ``run``: the key metrics it has, then those its findings name."""
    names = [m for m in KEY_METRICS if m in run.metrics and len(run.metrics[m])]
    if "rollout/ep_rew_mean" in names and "episode/reward" in names:
        names.remove("episode/reward")  # one return curve; the finding metrics may add it back
    for f in findings:
        if f.metric and f.metric in run.metrics and len(run.metrics[f.metric]) and f.metric not in names:
            names.append(f.metric)
    return names


def finding_chart(f: Finding, charted: Sequence[str]) -> str | None:
    """The chart a finding's window is drawn on: its metric's, else the return curve's."""
    if f.metric in charted:
        return f.metric
    return next((m for m in RETURN_METRICS if m in charted), None)


@dataclass
class GroupCurves:
    """The return curves of one seed group on a common step grid, per smoothing level."""

    key: str
    runs: list[str]
    metric: str
    x: list[float | None]
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)


def group_curves(key: str, runs: Sequence[Run]) -> GroupCurves | None:
    """Mean and 95% bootstrap band of the seeds' return curves, with each seed's curve.

    Each seed's curve is smoothed (at every :data:`LEVELS` weight) on its own points, then
    interpolated on :data:`GROUP_POINTS` steps spanning the range every seed covers. None when
    fewer than two runs log a return curve.
    """
    from sb3doctor.report.stats import band

    picked = [(r, return_series(r)) for r in runs]
    members = [(r, rs) for r, rs in picked if rs is not None]
    if len(members) < 2:
        return None
    # The same metric for every seed, so the mean means something.
    names = [rs[0] for _, rs in members]
    metric = max(set(names), key=names.count)
    members = [(r, rs) for r, rs in members if rs[0] == metric]
    if len(members) < 2:
        return None
    xs, ys = [], []
    for _, (_, series) in members:
        s = series.sorted()
        x = np.frombuffer(s.steps, dtype=np.int64).astype(float)
        y = np.frombuffer(s.values, dtype=np.float64)
        keep = np.isfinite(y)
        xs.append(x[keep])
        ys.append(y[keep])
    if any(len(x) < 2 for x in xs):
        return None
    start = max(float(x[0]) for x in xs)
    stop = min(float(x[-1]) for x in xs)
    if not stop > start:
        return None
    grid = np.linspace(start, stop, GROUP_POINTS)
    out = GroupCurves(key, [r.name for r, _ in members], metric, _round(np.round(grid), 15))
    for w in LEVELS:
        curves = np.stack([np.interp(grid, x, ema(y, w)) for x, y in zip(xs, ys, strict=True)])
        mid, lo, hi = band(curves)
        out.levels[str(w)] = {
            "mean": _round(mid),
            "lo": _round(lo),
            "hi": _round(hi),
            "seeds": [_round(c) for c in curves],
        }
    return out


# --- hyperparameters and their sources ----------------------------------------------------

#: Keys the readers add that are not hyperparameters.
_NOT_HYPERPARAMS = frozenset({"source"})


def hyperparam_sources(run: Run) -> list[tuple[str, Any, str]]:
    """``(name, value, source)`` for every hyperparameter known of ``run``, then SB3's defaults
    for those it does not show.

    Sources: ``config.json`` (written by ``sb3doctor train``), ``rl-zoo config`` (rl-zoo's
    ``config.yml``/``args.yml``), ``logs`` (recovered from the metrics, see
    :mod:`sb3doctor.sources.hyperparams`), ``assumed default`` (SB3's constructor default:
    not in the logs), ``given`` (set on the command line, e.g. ``--env``).
    """
    from sb3doctor import knowledge
    from sb3doctor.sources.hyperparams import recover_hyperparams

    folder = Path(run.path) if Path(run.path).is_dir() else Path(run.path).parent
    own = _config_json(folder)
    zoo = _zoo_config(folder)
    from_logs = recover_hyperparams(run, {})
    rows: list[tuple[str, Any, str]] = []
    for key, value in run.hyperparams.items():
        if key in _NOT_HYPERPARAMS:
            continue
        if key in own:
            source = "config.json"
        elif key in zoo:
            source = "rl-zoo config"
        elif key in from_logs:
            source = "logs"
        else:
            source = "given"
        rows.append((key, value, source))
    known = set(run.hyperparams)
    if run.hyperparams.get("rollout_size") is not None or run.hyperparams.get("table_steps") is not None:
        known.add("n_steps")  # n_steps x n_envs is logged; n_steps alone is not
    if run.hyperparams.get("learning_starts_between") is not None:
        known.add("learning_starts")  # bounded by the first train/* table
    for key, value in knowledge.sb3_defaults(run.algo or "").items():
        if key not in known and value is not None:
            rows.append((key, value, "assumed default"))
    return rows


def _config_json(folder: Path) -> set[str]:
    path = folder / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return set()
    if not isinstance(data, dict):
        return set()
    keys = set(data.get("hyperparams", {})) if isinstance(data.get("hyperparams"), dict) else set(data)
    for key in ("env_id", "env", "device"):
        if key in data:
            keys.add("env_id" if key == "env" else key)
    return keys


def _zoo_config(folder: Path) -> set[str]:
    from sb3doctor.errors import InputError
    from sb3doctor.sources.zoo import read_zoo_config

    paths = [
        p for name in ("config.yml", "args.yml") for p in [*folder.glob(name), *folder.glob(f"*/{name}")]
    ]
    if not paths:
        return set()
    try:
        data = read_zoo_config(paths)
    except InputError:
        return set()
    keys = set(data.get("hyperparams", {}))
    if "env_id" in data:
        keys.add("env_id")
    return keys
