"""Statistics for comparing runs and seeds, as rliable recommends (Agarwal et al., NeurIPS 2021).

A handful of seeds makes point estimates mislead, so every number comes with a 95% bootstrap
confidence interval:

* the interquartile mean (IQM: the mean of the middle 50%, :func:`scipy.stats.trim_mean` with
  0.25 cut at each end), robust to one outlier seed yet less noisy than the median;
* the mean;
* the difference B - A of either, from a two-sample bootstrap (each group resampled on its own:
  rliable's stratified bootstrap with one task);
* the probability of improvement P(B > A), the Mann-Whitney U statistic over ``len(a) * len(b)``
  (ties count half).

Percentile intervals (rliable's choice): BCa needs a jackknife, meaningless on two seeds.
The resampling is scipy's (:func:`scipy.stats.bootstrap`), seeded, so a report is reproducible.
Needs the ``[report]`` extra (scipy); imported only by ``compare`` and ``report``.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sst

__all__ = [
    "CONFIDENCE",
    "N_RESAMPLES",
    "Estimate",
    "bootstrap_ci",
    "difference_ci",
    "estimate",
    "iqm",
    "probability_of_improvement",
    "probability_of_improvement_ci",
]

#: The level of every interval.
CONFIDENCE = 0.95
#: Bootstrap resamples: rliable uses 2,000 for its plots; 5,000 keeps the bounds of a seeded
#: interval stable to a few thousandths of the spread.
N_RESAMPLES = 5000
SEED = 0

Statistic = Callable[..., Any]
#: A sample: a list of numbers or a numpy array.
Values = Sequence[float] | np.ndarray


def iqm(x: Any, axis: int | None = -1) -> Any:
    """Interquartile mean: the mean of the values between the 25th and 75th percentiles."""
    return sst.trim_mean(x, 0.25, axis=axis)


def mean(x: Any, axis: int | None = -1) -> Any:
    """The plain mean (vectorised like :func:`iqm`)."""
    return np.mean(x, axis=axis)


STATISTICS: dict[str, Statistic] = {"iqm": iqm, "mean": mean}


def _rng_kwargs(seed: int) -> dict[str, Any]:
    # scipy >= 1.15 takes ``rng``; older releases only ``random_state``.
    gen = np.random.default_rng(seed)
    params = inspect.signature(sst.bootstrap).parameters
    return {"rng": gen} if "rng" in params else {"random_state": gen}


def _finite(x: Values) -> np.ndarray:
    arr = np.asarray(x, dtype=float).ravel()
    return arr[np.isfinite(arr)]


def _bootstrap(data: tuple[np.ndarray, ...], statistic: Statistic, seed: int) -> tuple[float, float]:
    with warnings.catch_warnings():
        # A constant sample (every seed solved the task at 500) gives a degenerate interval:
        # that is the right answer, [500, 500], not a warning for the user.
        warnings.simplefilter("ignore")
        res = sst.bootstrap(
            data,
            statistic,
            n_resamples=N_RESAMPLES,
            vectorized=True,
            paired=False,
            axis=-1,
            confidence_level=CONFIDENCE,
            method="percentile",
            **_rng_kwargs(seed),
        )
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if math.isnan(low) or math.isnan(high):
        # scipy gives NaN for a sample whose resamples are all equal (every seed equal).
        value = float(statistic(*data, axis=-1))
        return value, value
    return low, high


def bootstrap_ci(x: Values, statistic: Statistic = iqm, *, seed: int = SEED) -> tuple[float, float] | None:
    """95% percentile bootstrap interval of ``statistic`` over ``x``; None for fewer than 2 values."""
    arr = _finite(x)
    if len(arr) < 2:
        return None
    return _bootstrap((arr,), statistic, seed)


def difference_ci(
    a: Values, b: Values, statistic: Statistic = iqm, *, seed: int = SEED
) -> tuple[float, float] | None:
    """95% two-sample bootstrap interval of ``statistic(b) - statistic(a)``.

    Each group is resampled on its own (the groups are independent seeds). None when either
    group has fewer than 2 values: one seed says nothing about the spread.
    """
    xa, xb = _finite(a), _finite(b)
    if len(xa) < 2 or len(xb) < 2:
        return None

    def diff(sa: np.ndarray, sb: np.ndarray, axis: int = -1) -> Any:
        return statistic(sb, axis=axis) - statistic(sa, axis=axis)

    return _bootstrap((xa, xb), diff, seed)


def _poi(a: np.ndarray, b: np.ndarray, axis: int = -1) -> Any:
    # P(B > A) + P(B == A) / 2 over every pair, vectorised over the leading (resample) axes.
    a = np.moveaxis(np.asarray(a), axis, -1)
    b = np.moveaxis(np.asarray(b), axis, -1)
    gt = (b[..., :, None] > a[..., None, :]).mean(axis=(-2, -1))
    eq = (b[..., :, None] == a[..., None, :]).mean(axis=(-2, -1))
    return gt + 0.5 * eq


def probability_of_improvement(a: Values, b: Values) -> float | None:
    """P(B > A): the chance that a random run of B beats a random run of A (ties count half).

    Equal to the Mann-Whitney U statistic of B against A over ``len(a) * len(b)``. None when a
    group is empty.
    """
    xa, xb = _finite(a), _finite(b)
    if not len(xa) or not len(xb):
        return None
    u = sst.mannwhitneyu(xb, xa, alternative="two-sided").statistic
    return float(u) / (len(xa) * len(xb))


def probability_of_improvement_ci(a: Values, b: Values, *, seed: int = SEED) -> tuple[float, float] | None:
    """95% two-sample bootstrap interval of :func:`probability_of_improvement` (None below 2 per group)."""
    xa, xb = _finite(a), _finite(b)
    if len(xa) < 2 or len(xb) < 2:
        return None
    return _bootstrap((xa, xb), _poi, seed)


@dataclass
class Estimate:
    """A statistic of one group with its 95% interval (None with a single run)."""

    value: float
    ci: tuple[float, float] | None
    n: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "value": _num(self.value),
            "ci": [_num(self.ci[0]), _num(self.ci[1])] if self.ci else None,
            "n": self.n,
        }


def estimate(x: Values, stat: str = "iqm", *, seed: int = SEED) -> Estimate | None:
    """``stat`` (``iqm`` or ``mean``) of the finite values of ``x`` with its interval; None if empty."""
    arr = _finite(x)
    if not len(arr):
        return None
    fn = STATISTICS[stat]
    return Estimate(float(fn(arr)), bootstrap_ci(arr, fn, seed=seed), len(arr))


def band(curves: np.ndarray, *, seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds (axis 0) of ``curves`` (seeds x points) with its 95% bootstrap band.

    One scipy call for every point at once. With a single seed the band is the curve itself.
    The curves must be finite (the caller keeps the steps every seed covers).
    """
    curves = np.asarray(curves, dtype=float)
    mid = curves.mean(axis=0)
    if curves.shape[0] < 2:
        return mid, mid.copy(), mid.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sst.bootstrap(
            (curves,),
            mean,
            n_resamples=2000,
            vectorized=True,
            axis=0,
            confidence_level=CONFIDENCE,
            method="percentile",
            **_rng_kwargs(seed),
        )
    lo = np.where(np.isnan(res.confidence_interval.low), mid, res.confidence_interval.low)
    hi = np.where(np.isnan(res.confidence_interval.high), mid, res.confidence_interval.high)
    return mid, lo, hi


def _num(x: float) -> float | str:
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return float(f"{x:.6g}")
