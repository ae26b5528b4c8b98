"""Expectations on metrics: the thresholds a CI job gates on.

An expectation is written ``METRIC:STAT[@WINDOW] OP VALUE``, for example::

    rollout/ep_rew_mean:last>=475
    train/approx_kl:max<0.1
    train/explained_variance:median@last20%>0.5
    train/value_loss:mean@first50<=200

* ``STAT`` is one of ``last, first, mean, median, min, max, std`` (``std`` is the
  population standard deviation).
* ``WINDOW`` (optional) selects the points the statistic is taken over: ``lastN`` /
  ``firstN`` are the last/first N points of the metric; ``lastP%`` / ``firstP%`` are the
  points in the last/first P percent of the run's step range (all metrics), the same
  meaning as a rule's ``last_frac`` window, so that ``@last20%`` of a reward and of a loss
  cover the same part of training. Without a window the whole series is used.
* ``OP`` is one of ``< <= > >= == !=``; ``VALUE`` is a number.
* ``METRIC OP VALUE`` without a statistic (``rollout/ep_rew_mean>=475``) means ``:last``.

:func:`evaluate_expectations` checks them on each run, or with ``aggregate`` on the
aggregate across the runs of a group (seeds of one configuration), and returns one
:class:`ExpectationResult` per (run or group, expectation), passed or not: JUnit needs the
passing ones too. A failed one carries a :class:`~sb3doctor.model.Finding` of severity
``error``, category ``expectation_failed`` and rule id ``EXPECT:<the text as written>``.

This module is pure Python (no numpy): a few thousand points per run are checked in
well under a millisecond, and ``sb3doctor analyze`` stays light.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import operator
import re
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sb3doctor.errors import ConfigError
from sb3doctor.model import Finding, Run, Series, safe_fsum

__all__ = [
    "AGGREGATES",
    "CATEGORY",
    "OPS",
    "STATS",
    "Expectation",
    "ExpectationResult",
    "Window",
    "evaluate_expectations",
    "expectation_findings",
    "group_runs",
    "parse_expectation",
    "parse_expectations",
]

#: The category of every finding an expectation produces.
CATEGORY = "expectation_failed"

#: Statistics an expectation may take over its window.
STATS: tuple[str, ...] = ("last", "first", "mean", "median", "min", "max", "std")

#: Comparison operators, longest first so that ``<=`` is not read as ``<``.
OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}

#: How the per-run values of a group may be combined.
AGGREGATES: tuple[str, ...] = ("median", "min", "mean", "max")

SYNTAX = "METRIC:STAT[@WINDOW] OP VALUE, e.g. rollout/ep_rew_mean:median@last20%>=475"

_EXPECT_RE = re.compile(
    r"""^\s*
    (?P<metric>[^:\s](?:[^:]*[^:\s])?)     # metric name: anything but ':' (SB3 keys have none)
    \s*:\s*
    (?P<stat>[A-Za-z_]+)
    \s*(?:@\s*(?P<window>[^<>=!\s]+))?      # optional window, checked below
    \s*(?P<op><=|>=|==|!=|<|>)
    \s*(?P<value>[^<>=!\s]\S*)
    \s*$""",
    re.VERBOSE,
)
# The short form without a statistic, ``rollout/ep_rew_mean>=475``, means ``:last``.
_SHORT_RE = re.compile(
    r"^\s*(?P<metric>[^:\s<>=!](?:[^:<>=!]*[^:\s<>=!])?)\s*(?P<op><=|>=|==|!=|<|>)\s*(?P<value>[^<>=!\s]\S*)\s*$"
)
_WINDOW_RE = re.compile(r"^(?P<side>last|first)(?P<amount>\d+(?:\.\d+)?)(?P<pct>%?)$")
_SEED_SUFFIX = re.compile(r"(?:[_#-]\d+)+$")
#: A seed named in a run's name: ``lr3e-4_seed1``, ``ppo-s2``.
_SEED_NAME_SUFFIX = re.compile(r"[_-](?:seed|s)[-_]?\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    """Which points of a series a statistic is taken over.

    :param side: ``"last"`` or ``"first"``
    :param amount: a number of points, or a percentage of the run's step range
    :param percent: True when ``amount`` is a percentage
    """

    side: str
    amount: float
    percent: bool

    def __str__(self) -> str:
        amount = f"{self.amount:g}"
        return f"{self.side}{amount}{'%' if self.percent else ''}"

    def describe(self, lang: str = "en") -> str:
        """Human wording: ``last 20% of the run`` / ``last 50 points`` (``最后 20% 的步数``)."""
        if lang == "zh":
            side = "最后" if self.side == "last" else "最初"
            if self.percent:
                return f"{side} {self.amount:g}% 的步数"
            return f"{side} {self.amount:g} 个点"
        if self.percent:
            return f"{self.side} {self.amount:g}% of the run"
        return f"{self.side} {self.amount:g} points"

    def select(self, series: Series, step_range: tuple[int, int] | None) -> tuple[list[int], list[float]]:
        """Return the (steps, values) of ``series`` inside the window (series sorted by step)."""
        steps = list(series.steps)
        values = list(series.values)
        if not self.percent:
            n = int(self.amount)
            return (steps[-n:], values[-n:]) if self.side == "last" else (steps[:n], values[:n])
        lo, hi = step_range if step_range is not None else (steps[0], steps[-1])
        span = (hi - lo) * self.amount / 100.0
        if self.side == "last":
            cut = hi - span
            keep = [i for i, s in enumerate(steps) if s >= cut]
        else:
            cut = lo + span
            keep = [i for i, s in enumerate(steps) if s <= cut]
        return [steps[i] for i in keep], [values[i] for i in keep]


@dataclass(frozen=True)
class Expectation:
    """One parsed expectation. ``text`` is the string as the user wrote it."""

    text: str
    metric: str
    stat: str
    op: str
    value: float
    window: Window | None = None

    @property
    def rule_id(self) -> str:
        """The finding's rule id: ``EXPECT:<text>`` (stable: the user's own words)."""
        return f"EXPECT:{self.text}"

    @property
    def normalized(self) -> str:
        """Canonical spelling, e.g. ``train/approx_kl:max<0.1``."""
        window = f"@{self.window}" if self.window else ""
        return f"{self.metric}:{self.stat}{window}{self.op}{self.value:g}"

    def describe_stat(self, lang: str = "en") -> str:
        """``median over the last 20% of the run`` / ``last`` (``最后 20% 的步数的 median``)."""
        if not self.window:
            return self.stat
        if lang == "zh":
            return f"{self.window.describe(lang)}的 {self.stat}"
        return f"{self.stat} over the {self.window.describe()}"

    def holds(self, observed: float) -> bool:
        """True when ``observed OP value``. NaN never passes (not even ``!=``): a gate must not
        let a diverged run through."""
        if math.isnan(observed):
            return False
        return OPS[self.op](observed, self.value)

    def measure(self, run: Run) -> Measurement:
        """Take the statistic on ``run``; ``observed`` is None when there is nothing to measure."""
        series = run.metrics.get(self.metric)
        if series is None or len(series) == 0:
            return Measurement(None, 0, None, "not logged", "没有记录")
        series = series.sorted()
        if self.window is None:
            steps, values = list(series.steps), list(series.values)
        else:
            steps, values = self.window.select(series, run.step_range())
        if not values:
            where = self.window.describe() if self.window else "run"
            where_zh = self.window.describe("zh") if self.window else "整个运行"
            return Measurement(None, 0, None, f"no point in the {where}", f"{where_zh}中没有数据点")
        return Measurement(_statistic(self.stat, values), len(values), (steps[0], steps[-1]), None)


@dataclass(frozen=True)
class Measurement:
    """A statistic taken on one run: the value, how many points, which steps, or why none."""

    observed: float | None
    n: int
    steps: tuple[int, int] | None
    missing: str | None
    #: ``missing`` in Chinese
    missing_zh: str | None = None

    def why_missing(self, lang: str = "en") -> str | None:
        """Why there is nothing to measure, in ``lang``."""
        return self.missing_zh if lang == "zh" and self.missing_zh else self.missing


@dataclass
class ExpectationResult:
    """The verdict of one expectation on one run, or on one group when aggregated.

    :param expectation: what was expected
    :param subject: the run's name, or the group key (``logs/PPO``) when aggregated
    :param runs: the run checked, or the runs of the group
    :param observed: the value compared (the aggregate for a group); None when missing
    :param passed: whether the expectation held
    :param finding: the error finding when it did not hold, else None
    :param aggregate: ``median``/``min``/``mean``/``max`` for a group, None per run
    :param per_run: run name -> that run's value (None: missing), for groups
    :param n: points the statistic used (per run)
    :param steps: first and last step of those points (per run)
    """

    expectation: Expectation
    subject: str
    runs: list[Run]
    observed: float | None
    passed: bool
    finding: Finding | None = None
    aggregate: str | None = None
    per_run: dict[str, float | None] = field(default_factory=dict)
    n: int = 0
    steps: tuple[int, int] | None = None

    @property
    def rule(self) -> str:
        """The rule id of this check, ``EXPECT:<text>``."""
        return self.expectation.rule_id

    @property
    def run(self) -> Run | None:
        """The run checked, or None for a group verdict."""
        return self.runs[0] if self.aggregate is None and len(self.runs) == 1 else None

    def spread(self) -> tuple[float, float, float] | None:
        """(min, median, max) of the finite per-run values of a group, or None."""
        vals = [v for v in self.per_run.values() if v is not None and not math.isnan(v)]
        if not vals:
            return None
        return min(vals), statistics.median(vals), max(vals)


def parse_expectation(text: str) -> Expectation:
    """Parse ``METRIC:STAT[@WINDOW] OP VALUE``.

    :raises ConfigError: naming the string and what is wrong with it
    """
    if not isinstance(text, str):
        raise ConfigError(f"expectation {text!r} must be a string like {SYNTAX}")
    original = text.strip()
    m = _EXPECT_RE.match(original)
    if m is None and ":" not in original:
        short = _SHORT_RE.match(original)
        if short is not None:
            return Expectation(
                original, short["metric"], "last", short["op"], _number(original, short["value"])
            )
    if m is None:
        raise ConfigError(f"bad expectation {original!r}: {_why_unparsable(original)}; expected {SYNTAX}")
    stat = m["stat"].lower()
    if stat not in STATS:
        raise ConfigError(
            f"bad expectation {original!r}: unknown statistic {m['stat']!r} (use one of {', '.join(STATS)})"
        )
    window = _parse_window(original, m["window"]) if m["window"] is not None else None
    return Expectation(original, m["metric"], stat, m["op"], _number(original, m["value"]), window)


def _number(text: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"bad expectation {text!r}: {raw!r} is not a number") from None
    if math.isnan(value):
        raise ConfigError(f"bad expectation {text!r}: nan cannot be compared with")
    return value


def parse_expectations(
    items: Iterable[str] | str | None, *, source: str | Path | None = None
) -> list[Expectation]:
    """Parse a list of expectations (from ``--expect`` or a config file's ``expect``).

    :param source: the config file they come from, named in errors
    :raises ConfigError: on the first bad one
    """
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    out: list[Expectation] = []
    for item in items:
        try:
            out.append(parse_expectation(item))
        except ConfigError as exc:
            raise ConfigError(exc.message, source if source is not None else exc.path) from None
    return out


def _parse_window(text: str, raw: str) -> Window:
    w = _WINDOW_RE.match(raw.lower())
    if w is None:
        raise ConfigError(
            f"bad expectation {text!r}: bad window @{raw} (use @lastN, @firstN points, or @lastP%, @firstP%)"
        )
    amount = float(w["amount"])
    percent = bool(w["pct"])
    if percent and not 0 < amount <= 100:
        raise ConfigError(f"bad expectation {text!r}: window @{raw} must be a percentage in (0, 100]")
    # is_integer(), not int(): 400 digits parse as inf, which int() cannot take
    if not percent and (amount < 1 or not amount.is_integer()):
        raise ConfigError(f"bad expectation {text!r}: window @{raw} must be a whole number of points >= 1")
    return Window(w["side"], amount, percent)


def _why_unparsable(text: str) -> str:
    """Name the most likely mistake, so the error says more than 'bad syntax'."""
    if not text:
        return "it is empty"
    if not re.search(r"<=|>=|==|!=|<|>", text):
        return "no comparison (<, <=, >, >=, ==, !=)"
    if re.search(r"(<|>|=|!)\s*$", text):
        return "no value after the comparison"
    if text.count(":") > 1:
        return "more than one ':'"
    if ":" not in text:
        return "no ':' between the metric and the statistic"
    return "cannot read it"


def _statistic(stat: str, values: Sequence[float]) -> float:
    if stat == "last":
        return values[-1]
    if stat == "first":
        return values[0]
    if any(math.isnan(v) for v in values):
        # min/max/median order NaN arbitrarily; a NaN in the window makes the statistic NaN
        # (and the expectation fail) rather than silently skipping a diverged point.
        return math.nan
    if stat == "mean":
        return safe_fsum(values) / len(values)
    if stat == "median":
        return float(statistics.median(values))
    if stat == "min":
        return min(values)
    if stat == "max":
        return max(values)
    if stat == "std":
        return statistics.pstdev(values) if len(values) > 1 else 0.0
    raise ValueError(f"unknown statistic {stat!r}")  # parse_expectation rules this out


def _aggregate(how: str, values: Sequence[float]) -> float:
    if any(math.isnan(v) for v in values):
        return math.nan
    if how == "median":
        return float(statistics.median(values))
    if how == "mean":
        return safe_fsum(values) / len(values)
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    raise ValueError(f"unknown aggregate {how!r}")


def _fmt(x: float | None) -> str:
    if x is None:
        return "missing"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.6g}"


#: Folders that hold one seed of several (``seed1``, ``seed_2``, ``s3``, ``seed-04``).
_SEED_FOLDER = re.compile(r"^(?:seed|s)[-_]?\d+$", re.IGNORECASE)


def group_key(run: Run, group_by: str | None = None) -> str:
    """The group a run belongs to when runs are gated together.

    Default: runs in the same parent folder whose names differ only by a run or seed number
    (SB3's ``logs/PPO_1`` .. ``logs/PPO_5`` -> ``logs/PPO``; rl-zoo's ``CartPole-v1_1``,
    ``CartPole-v1_2``; ``lr3e-4_seed1``, ``lr3e-4_seed2``); seed folders count as one
    (``runs/seed1/PPO_1`` and ``runs/seed2/PPO_1`` -> ``runs/PPO``). Folders named for what they
    are (``presets/healthy``, ``presets/lr-too-high``) are different configurations, each its
    own group, even when they use one algorithm. With ``group_by``, a regular expression searched in
    the run's name, then in its path: the first capture group (or the whole match) is the
    key; ``glob:PATTERN`` matches the name or path with shell wildcards and the pattern is
    the key. A run that does not match stays alone (its name is its key).
    """
    if group_by is None:
        parent_path = run.path.parent
        if _SEED_FOLDER.match(parent_path.name):
            # runs/seed1/PPO_1, runs/seed2/PPO_1: the seed folders are one group
            parent_path = parent_path.parent
        parent = parent_path.as_posix()
        own = run.name.rsplit("/", 1)[-1]
        # a named seed (lr3e-4_seed1 -> lr3e-4), else a run number (PPO_1 -> PPO)
        named = _SEED_NAME_SUFFIX.sub("", own)
        label = (named if named != own else _SEED_SUFFIX.sub("", own)) or own
        return label if parent in ("", ".") else f"{parent}/{label}"
    candidates = [run.name, run.path.as_posix()]
    if group_by.startswith("glob:"):
        pattern = group_by[len("glob:") :]
        for text in candidates:
            if fnmatch.fnmatchcase(text, pattern):
                return pattern
        return run.name
    regex = _compile_group_by(group_by)
    for text in candidates:
        m = regex.search(text)
        if m is not None:
            if m.re.groups and m.group(1) is not None:
                return m.group(1)
            return m.group(0)
    return run.name


def _compile_group_by(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"bad --group-by pattern {pattern!r}: {exc}") from None


def group_runs(runs: Sequence[Run], group_by: str | None = None) -> dict[str, list[Run]]:
    """Split ``runs`` into groups (see :func:`group_key`), keeping the input order."""
    if group_by is not None and not group_by.startswith("glob:"):
        _compile_group_by(group_by)  # fail on a bad pattern even when there are no runs
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(group_key(run, group_by), []).append(run)
    return groups


def evaluate_expectations(
    runs: Sequence[Run],
    expectations: Sequence[Expectation],
    aggregate: str | None = None,
    group_by: str | None = None,
    lang: str = "en",
) -> list[ExpectationResult]:
    """Check every expectation on every run, or on every group when ``aggregate`` is given.

    :param lang: ``en`` or ``zh``: the language of the failed expectations' messages

    :param aggregate: None to check each run on its own; ``median``, ``min``, ``mean`` or
        ``max`` to compare that aggregate of the per-run values of each group instead (so one
        unlucky seed out of five does not fail a median gate)
    :param group_by: how runs are grouped (see :func:`group_key`); only used with ``aggregate``
    :returns: one result per (run, expectation), or per (group, expectation), in input order
    """
    if aggregate is not None and aggregate not in AGGREGATES:
        raise ConfigError(f"unknown aggregate {aggregate!r} (use one of {', '.join(AGGREGATES)})")
    results: list[ExpectationResult] = []
    if aggregate is None:
        for run in runs:
            for exp in expectations:
                results.append(_check_run(run, exp, lang))
        return results
    for key, members in group_runs(runs, group_by).items():
        for exp in expectations:
            results.append(_check_group(key, members, exp, aggregate, lang))
    return results


def expectation_findings(results: Iterable[ExpectationResult]) -> list[tuple[Run | None, Finding]]:
    """The failed results as ``(run, finding)`` pairs; ``run`` is None for a group verdict."""
    return [(r.run, r.finding) for r in results if r.finding is not None]


def _check_run(run: Run, exp: Expectation, lang: str = "en") -> ExpectationResult:
    m = exp.measure(run)
    zh = lang == "zh"
    stat = exp.describe_stat(lang)
    expected = f"期望 {stat} {exp.op} {exp.value:g}" if zh else f"expected {stat} {exp.op} {exp.value:g}"
    if m.observed is None:
        hint = _did_you_mean(exp.metric, run, lang)
        where_run = f"（{run.name}）" if zh else f" in {run.name}"
        sep = "；" if zh else "; "
        message = f"{exp.metric}: {m.why_missing(lang)}{where_run}{hint}{sep}{expected}"
        return ExpectationResult(exp, run.name, [run], None, False, _finding(exp, message, None))
    passed = exp.holds(m.observed)
    finding = None
    if not passed:
        if zh:
            where = f"（n={m.n}，步数 {m.steps[0]}-{m.steps[1]}）" if m.steps else ""
            message = f"{exp.metric} {stat} = {_fmt(m.observed)}{where}，期望 {exp.op} {exp.value:g}"
        else:
            where = f" (n={m.n}, steps {m.steps[0]}-{m.steps[1]})" if m.steps else ""
            message = f"{exp.metric} {stat} = {_fmt(m.observed)}{where}, expected {exp.op} {exp.value:g}"
        finding = _finding(exp, message, m.observed, m.steps)
    return ExpectationResult(exp, run.name, [run], m.observed, passed, finding, n=m.n, steps=m.steps)


def _check_group(
    key: str, members: list[Run], exp: Expectation, how: str, lang: str = "en"
) -> ExpectationResult:
    measures = {run.name: exp.measure(run) for run in members}
    per_run = {name: m.observed for name, m in measures.items()}
    values_text = ", ".join(f"{name} {_fmt(v)}" for name, v in per_run.items())
    missing = [name for name, v in per_run.items() if v is None]
    result = ExpectationResult(exp, key, list(members), None, False, aggregate=how, per_run=per_run)
    if missing:
        # A run without the metric is a broken run (no Monitor wrapper, a typo in the metric),
        # not an unlucky seed: the group fails, naming the runs.
        reasons = ", ".join(f"{name} ({measures[name].why_missing(lang)})" for name in missing)
        hint = _did_you_mean(exp.metric, members[0], lang)
        if lang == "zh":
            message = (
                f"{exp.metric}：{key} 的 {len(members)} 个运行中有 {len(missing)} 个无法测量："
                f"{reasons}{hint}；期望 {exp.describe_stat(lang)}（各运行的 {how}）{exp.op} {exp.value:g}"
            )
        else:
            message = (
                f"{exp.metric}: nothing to measure in {len(missing)} of {len(members)} runs of {key}: "
                f"{reasons}{hint}; expected {exp.describe_stat()} "
                f"({how} across runs) {exp.op} {exp.value:g}"
            )
        result.finding = _finding(exp, message, None)
        return result
    values = [v for v in per_run.values() if v is not None]
    observed = _aggregate(how, values)
    result.observed = observed
    result.passed = exp.holds(observed)
    if not result.passed:
        spread = result.spread()
        if lang == "zh":
            spread_text = (
                f"分布 最小 {_fmt(spread[0])} / 中位数 {_fmt(spread[1])} / 最大 {_fmt(spread[2])}"
                if spread
                else "没有有限值"
            )
            message = (
                f"{exp.metric} {exp.describe_stat(lang)}（{key} 的 {len(members)} 个运行的 {how}）= "
                f"{_fmt(observed)}，期望 {exp.op} {exp.value:g}；{spread_text}；各运行：{values_text}"
            )
        else:
            spread_text = (
                f"spread min {_fmt(spread[0])} / median {_fmt(spread[1])} / max {_fmt(spread[2])}"
                if spread
                else "no finite value"
            )
            message = (
                f"{exp.metric} {exp.describe_stat()} ({how} across {len(members)} runs of {key}) = "
                f"{_fmt(observed)}, expected {exp.op} {exp.value:g}; {spread_text}; per run: {values_text}"
            )
        result.finding = _finding(exp, message, observed)
    return result


def _finding(
    exp: Expectation, message: str, observed: float | None, steps: tuple[int, int] | None = None
) -> Finding:
    return Finding(
        rule=exp.rule_id,
        name="expectation",
        category=CATEGORY,
        severity="error",
        metric=exp.metric,
        message=message,
        observed=observed,
        threshold=exp.value,
        window=str(exp.window) if exp.window else None,
        steps=steps,
    )


def _did_you_mean(metric: str, run: Run, lang: str = "en") -> str:
    close = difflib.get_close_matches(metric, list(run.metrics), n=1, cutoff=0.6)
    if not close or close[0] == metric:
        return ""
    return f"（是不是 {close[0]}？）" if lang == "zh" else f" (did you mean {close[0]}?)"
