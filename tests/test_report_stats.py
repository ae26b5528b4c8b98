"""The comparison statistics against values computed by hand (sb3doctor.report.stats)."""

from __future__ import annotations

import numpy as np
import pytest

from sb3doctor.report import stats


def test_iqm_is_the_mean_of_the_middle_half() -> None:
    # 8 values: the lowest 2 and highest 2 are cut, (3 + 4 + 5 + 6) / 4 = 4.5: the outlier 100
    # that drags the mean to 16 does not count.
    x = [7, 1, 100, 3, 2, 6, 4, 5]
    assert stats.iqm(x) == pytest.approx(4.5)
    assert stats.mean(x) == pytest.approx(16.0)
    # 10 values: int(0.25 * 10) = 2 cut at each end, the mean of the middle 6.
    y = [10, 0, 1, 2, 3, 4, 5, 6, 7, -50]
    assert stats.iqm(y) == pytest.approx((1 + 2 + 3 + 4 + 5 + 6) / 6)
    # 4 values: one cut at each end.
    assert stats.iqm([1.0, 2.0, 4.0, 100.0]) == pytest.approx(3.0)


def test_bootstrap_ci_on_a_seeded_sample_is_stable_and_contains_the_truth() -> None:
    x = np.random.default_rng(42).normal(10.0, 2.0, 50)
    ci = stats.bootstrap_ci(x, stats.mean)
    assert ci is not None
    low, high = ci
    # The same seed gives the same interval.
    assert stats.bootstrap_ci(x, stats.mean) == ci
    # The bounds found when this test was written (scipy 1.17, 5,000 resamples, seed 0); the
    # tolerance allows for another scipy drawing its resamples differently.
    assert low == pytest.approx(9.771, abs=0.03)
    assert high == pytest.approx(10.609, abs=0.03)
    # It contains the true mean and the sample mean, and agrees with Student's t interval
    # (9.746, 10.619) within bootstrap noise.
    assert low < 10.0 < high
    assert low < x.mean() < high
    assert high - low == pytest.approx(10.619 - 9.746, rel=0.1)
    iqm_ci = stats.bootstrap_ci(x, stats.iqm)
    assert iqm_ci is not None and iqm_ci[0] < 10.0 < iqm_ci[1]


def test_bootstrap_ci_needs_two_values_and_handles_a_constant_sample() -> None:
    assert stats.bootstrap_ci([5.0]) is None
    assert stats.bootstrap_ci([]) is None
    assert stats.bootstrap_ci([500.0, 500.0, 500.0]) == (500.0, 500.0)
    assert stats.bootstrap_ci([1.0, float("nan"), 3.0], stats.mean) is not None  # NaN left out
    e = stats.estimate([7.0])
    assert e is not None and e.value == 7.0 and e.ci is None and e.n == 1


def test_probability_of_improvement_on_hand_made_samples() -> None:
    # Every pair (b, a) with b > a counts 1, a tie 1/2, over len(a) * len(b) pairs.
    assert stats.probability_of_improvement([1, 2, 3], [4, 5, 6]) == 1.0
    assert stats.probability_of_improvement([4, 5, 6], [1, 2, 3]) == 0.0
    assert stats.probability_of_improvement([1, 2, 3], [1, 2, 3]) == 0.5
    # b=2 beats a=1, loses to a=3; b=4 beats both: 3 of 4 pairs.
    assert stats.probability_of_improvement([1, 3], [2, 4]) == 0.75
    # b=2 vs a=1 win, vs a=2 tie (1/2); b=3 wins both: 3.5 / 4.
    assert stats.probability_of_improvement([1, 2], [2, 3]) == 0.875
    assert stats.probability_of_improvement([], [1.0]) is None


def test_probability_of_improvement_ci() -> None:
    ci = stats.probability_of_improvement_ci([1, 2, 3], [4, 5, 6])
    assert ci == (1.0, 1.0)  # every resample of B beats every resample of A
    a = np.random.default_rng(1).normal(0, 1, 20)
    b = np.random.default_rng(2).normal(0, 1, 20)
    low, high = stats.probability_of_improvement_ci(a, b) or (0, 0)
    assert low < 0.5 < high  # same distribution: no evidence either way
    assert stats.probability_of_improvement_ci([1.0], [2.0, 3.0]) is None


def test_difference_ci_excludes_zero_only_for_a_real_difference() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(100, 10, 5), rng.normal(200, 10, 5)
    low, high = stats.difference_ci(a, b) or (0, 0)
    assert 0 < low < 100 < high
    low, high = stats.difference_ci(b, a) or (0, 0)
    assert low < -100 < high < 0
    c, d = rng.normal(100, 10, 5), rng.normal(100, 10, 5)
    low, high = stats.difference_ci(c, d) or (0, 0)
    assert low < 0 < high
    assert stats.difference_ci([1.0], [2.0, 3.0]) is None  # one seed says nothing about spread
    # Two seeds each, every B above every A: every resample's difference is positive.
    low, high = stats.difference_ci([20.0, 25.0], [480.0, 500.0], stats.mean) or (0, 0)
    assert low == pytest.approx(455.0) and high == pytest.approx(480.0)


def test_band_over_seeds() -> None:
    curves = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0], [1.0, 2.0, 3.0]])
    mid, lo, hi = stats.band(curves)
    assert mid.tolist() == [1.0, 2.0, 3.0]
    assert (lo <= mid).all() and (mid <= hi).all() and (lo < hi).all()
    one = stats.band(curves[:1])
    assert one[0].tolist() == one[1].tolist() == one[2].tolist() == [0.0, 1.0, 2.0]
