"""The numpy paths of conditions.py (windows above ``LARGE`` points) against the pure-Python ones.

Every condition is evaluated twice on the same series: once with ``LARGE`` lowered so that
the numpy code runs, once with it raised so that only the pure-Python code runs. The
evidence must be identical, except floating sums of squares (``std``, ``trend``), which may
differ in the last bits (within 1e-12 relative). Series: random ones with NaN, inf, signed
zeros, repeated steps and frozen stretches; an SB3 PPO-shaped event file (the bench
encoder, byte-identical to SB3's TensorBoard output) read back with ``read_runs``; and the
real SB3 fixture runs through the whole engine.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sb3doctor.conditions as conditions
from sb3doctor.conditions import Context, Evidence, evaluate
from sb3doctor.engine import evaluate as evaluate_run
from sb3doctor.model import Series
from sb3doctor.ruleset import builtin_rules
from sb3doctor.sources import read_runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import _gen_events  # noqa: E402

NAN, INF = float("nan"), float("inf")
SMALL_LARGE = 16  # LARGE while testing the numpy paths: every window above 16 points uses them
PURE_LARGE = 10**12  # LARGE while testing the pure-Python paths


def _series_variants(n: int, seed: int) -> Iterator[tuple[str, Series]]:
    rng = random.Random(seed)
    steps = [2048 * (i + 1) for i in range(n)]
    noisy = [rng.gauss(100.0, 30.0) for _ in range(n)]
    yield "noisy", Series.from_points(steps, noisy)
    # float32-rounded, as logged values are, with frozen stretches of equal values
    stair = []
    v = 0.0
    for _ in range(n):
        if rng.random() < 0.15:
            v = float(array("f", [rng.uniform(-5, 5)])[0])
        stair.append(v)
    yield "stair", Series.from_points(steps, stair)
    with_bad = list(noisy)
    for _ in range(max(1, n // 50)):
        with_bad[rng.randrange(n)] = rng.choice([NAN, INF, -INF])
    yield "nan_inf", Series.from_points(steps, with_bad)
    zeros = [rng.choice([0.0, -0.0, 0.0, 1e-300, -2.5]) for _ in range(n)]
    yield "signed_zeros", Series.from_points(steps, zeros)
    yield "all_zero", Series.from_points(steps, [-0.0 if i % 3 else 0.0 for i in range(n)])
    # several points at one step (chunked learn() calls) and a decaying schedule
    dup_steps = [2048 * (i // 3 + 1) for i in range(n)]
    yield "dup_steps", Series.from_points(dup_steps, [3e-4 * (1 - i / n) for i in range(n)])
    drift = [0.5 + 1e-4 * i + rng.uniform(-1e-3, 1e-3) for i in range(n)]
    yield "drift_tol", Series.from_points(steps, drift)
    peaked = [math.sin(i / max(1, n / 6)) * 50 + rng.gauss(0, 1) for i in range(n)]
    yield "peaked", Series.from_points(steps, peaked)


WINDOWS: list[Any] = [
    None,
    {"last": 5},
    {"last": 40},
    {"first": 30},
    {"last_frac": 0.4},
    {"from_frac": 0.5},
    {"last_frac": 0.0},
]

CONDITIONS: list[dict[str, Any]] = [
    *({"kind": "threshold", "stat": s, "op": "<", "value": 1.0, "min_points": 1} for s in conditions.STATS),
    {"kind": "sustained", "op": ">", "value": 100.0, "fraction": 0.4},
    {"kind": "sustained", "op": ">", "value": 90.0, "consecutive": 3},
    {"kind": "trend", "scale": "abs_mean", "op": ">", "value": 0.0, "min_points": 5},
    {"kind": "trend", "scale": "range", "op": "<", "value": 0.0, "min_points": 5},
    {"kind": "spike", "factor": 1.5, "lookback": 10},
    {"kind": "spike", "factor": 1.5, "lookback": 25, "abs": True},
    {"kind": "drop_from_peak", "op": ">", "value": 0.2},
    {"kind": "drop_from_peak", "op": ">", "value": 0.2, "baseline": "first", "min_rise": 1.0},
    {"kind": "plateau", "value": 0.5, "below_best": True},
    {"kind": "frozen", "min_points": 3},
    {"kind": "frozen", "min_points": 5, "min_step_advance_x": 20},
    {"kind": "frozen", "min_points": 3, "tolerance": 2e-3},
    {"kind": "frozen", "min_points": 2, "tolerance": 1.0, "min_step_advance": 4096},
    {"kind": "non_finite", "metrics": ["m", "o*"]},
    {"kind": "ratio_to_bound", "bound": "first", "stat": "median", "op": "<", "value": 0.5},
    {"kind": "ratio_to_bound", "bound": "first", "negate": True, "stat": "max", "op": "<", "value": 0.5},
    {
        "kind": "ratio_to_bound",
        "bound": "ln_n_actions",
        "negate": True,
        "stat": "std",
        "op": ">",
        "value": 0.5,
    },
    {
        "kind": "ratio_to_bound",
        "bound": "ln_n_actions",
        "negate": True,
        "stat": "abs_median",
        "op": ">",
        "value": 0,
    },
    {"kind": "counter_ratio", "of": "other", "stat": "mean", "op": ">", "value": 0.0},
    {"kind": "step_gap", "stat": "median", "op": ">", "value": 0.0},
]


def _cases() -> Iterator[dict[str, Any]]:
    for cond in CONDITIONS:
        for window in WINDOWS:
            yield cond if window is None else {**cond, "window": window}


def _evaluate_both(
    monkeypatch: pytest.MonkeyPatch, cond: dict[str, Any], metrics: dict[str, Series]
) -> tuple[Evidence, Evidence]:
    steps = [s.steps for s in metrics.values() if len(s)]
    rng = (min(s[0] for s in steps), max(max(s) for s in steps)) if steps else None
    out = []
    for large in (SMALL_LARGE, PURE_LARGE):
        monkeypatch.setattr(conditions, "LARGE", large)
        out.append(evaluate(cond, Context(metrics, rng, {"n_actions": 4}, "m")))
    return out[0], out[1]


def _same(fast: Evidence, pure: Evidence, cond: dict[str, Any]) -> None:
    assert fast.held == pure.held, cond
    assert (fast.n, fast.window, fast.steps, fast.metric, fast.threshold) == (
        pure.n,
        pure.window,
        pure.steps,
        pure.metric,
        pure.threshold,
    ), cond
    if fast.observed is None or pure.observed is None:
        assert fast.observed is pure.observed, cond
        return
    assert type(fast.observed) is type(pure.observed), cond
    sums_of_squares = cond["kind"] == "trend" or cond.get("stat") == "std"
    if sums_of_squares and math.isfinite(pure.observed):
        assert fast.observed == pytest.approx(pure.observed, rel=1e-12, abs=1e-300), cond
    else:
        # identical, down to the sign of zero and NaN-ness
        assert math.copysign(1, fast.observed) == math.copysign(1, pure.observed), cond
        assert fast.observed == pure.observed or (math.isnan(fast.observed) and math.isnan(pure.observed)), (
            cond
        )


@pytest.mark.parametrize("n", [3, 17, 64, 501, 3000])
def test_numpy_paths_match_pure_paths_on_random_series(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    checked = 0
    for label, series in _series_variants(n, seed=n):
        rng = random.Random(n + 1)
        other = Series.from_points(
            series.steps, [float(i * 3 + rng.randrange(3)) for i in range(len(series))]
        )
        metrics = {"m": series, "other": other}
        for cond in _cases():
            fast, pure = _evaluate_both(monkeypatch, cond, metrics)
            _same(fast, pure, {**cond, "series": label})
            checked += 1
    assert checked > 500


def test_frozen_numpy_scan_finds_the_same_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    # Runs at the very start and end, NaN and inf inside and between runs, a run of infs
    # (never frozen: inf - inf is NaN), and one of -0.0 / 0.0 (equal).
    values = (
        [1.0] * 5
        + [2.0, NAN, NAN, 2.0, 2.0, 2.0]
        + [INF] * 4
        + [0.0, -0.0, 0.0, -0.0]
        + [5.0, 5.0 + 1e-3, 5.0 - 1e-3, 5.0 + 2e-3]
        + [7.0] * 6
    )
    for tol in (0.0, 1e-3, 1.5e-3, 10.0, -1.0):
        monkeypatch.setattr(conditions, "LARGE", 2)
        fast = list(conditions._runs(values, tol, 2))
        monkeypatch.setattr(conditions, "LARGE", PURE_LARGE)
        pure = list(conditions._runs(values, tol, 2))
        assert fast == pure, tol
    monkeypatch.setattr(conditions, "LARGE", PURE_LARGE)
    assert list(conditions._runs(values, 0.0, 2)) == [(0, 4), (8, 10), (15, 18), (23, 28)]


def test_windows_bisect_like_the_scan() -> None:
    steps = array("q", [0, 0, 10, 10, 10, 20, 35, 35, 50])
    values = array("d", range(len(steps)))
    for frac in (0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 1.0, 1.5):
        for key in ("last_frac", "from_frac"):
            fast = conditions.select(steps, values, {key: frac}, (0, 50), sorted_steps=True)
            scan = conditions.select(steps, values, {key: frac}, (0, 50), sorted_steps=False)
            assert list(fast[0]) == list(scan[0]) and list(fast[1]) == list(scan[1]), (key, frac)


def test_unsorted_series_keep_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    # A hand-built series out of step order: the window must cut where a scan cuts.
    series = Series(array("q", [0, 50, 10, 60, 20, 100]), array("d", [1.0, 9.0, 2.0, 8.0, 3.0, 7.0]))
    series.wall_times = array("d", [NAN] * 6)
    cond = {"kind": "threshold", "stat": "mean", "op": ">", "value": 0.0, "window": {"from_frac": 0.3}}
    fast, pure = _evaluate_both(monkeypatch, cond, {"m": series})
    assert fast.observed == pure.observed == pytest.approx((9 + 2 + 8 + 3 + 7) / 5)
    assert fast.n == 5


def test_engine_same_findings_on_a_ppo_shaped_event_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 120k scalars: 10k points per metric, the shape SB3's PPO writes to TensorBoard.
    path = tmp_path / "PPO_1" / "events.out.tfevents.1700000000.bench.1.0"
    _gen_events.write_ppo_file(path, 120_000, seed=7)
    (run,) = read_runs(tmp_path)
    assert max(len(s) for s in run.metrics.values()) >= 9_000
    rules = builtin_rules()
    results = []
    for large in (1_000, PURE_LARGE):
        monkeypatch.setattr(conditions, "LARGE", large)
        results.append(evaluate_run(run, rules))
    fast, pure = results
    assert [(f.rule, f.severity, f.message, f.observed, f.steps) for f in fast] == [
        (f.rule, f.severity, f.message, f.observed, f.steps) for f in pure
    ]


@pytest.mark.parametrize("fixture", ["ppo_cartpole", "a2c_cartpole", "dqn_cartpole", "sac_pendulum"])
def test_engine_same_findings_on_real_sb3_runs(monkeypatch: pytest.MonkeyPatch, fixture: str) -> None:
    folder = ROOT / "fixtures" / fixture
    if not folder.exists():
        pytest.fail(f"fixture {fixture} is missing")
    rules = builtin_rules()
    for run in read_runs(folder):
        results = []
        for large in (SMALL_LARGE, PURE_LARGE):
            monkeypatch.setattr(conditions, "LARGE", large)
            results.append(
                [(f.rule, f.severity, f.message, f.observed, f.steps) for f in evaluate_run(run, rules)]
            )
        assert results[0] == results[1], run.name


def test_typical_run_does_not_import_numpy() -> None:
    code = (
        "import sys\n"
        "from sb3doctor.sources import read_runs\n"
        "from sb3doctor.engine import evaluate\n"
        "from sb3doctor.ruleset import builtin_rules\n"
        f"runs = read_runs({str(ROOT / 'fixtures' / 'ppo_cartpole')!r})\n"
        "assert runs and max(len(s) for s in runs[0].metrics.values()) > 10\n"
        "evaluate(runs[0], builtin_rules())\n"
        "print('numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
