"""The data every part of sb3doctor passes around: metric series, runs and findings.

Series are stored in :mod:`array` arrays rather than numpy arrays on purpose: a typical
run has a few thousand points, and importing numpy (60-160 ms on these machines) would
cost more than reading and analysing the whole run. ``numpy.frombuffer`` views them
without a copy when numpy is wanted (big files, ``to_dataframe``).
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

NAN = float("nan")
#: Above this many points numpy (imported lazily) beats a pure-Python pass; typical runs have
#: a few hundred points per metric and never import it.
NUMPY_MIN_POINTS = 20_000

#: Source kinds, from most to least precise. When one metric comes from several
#: sources, the points of the more precise source win at equal steps.
SOURCE_PRECISION: dict[str, int] = {
    "tensorboard": 0,
    "progress_csv": 0,
    "progress_json": 0,
    "monitor": 0,
    "stdout": 1,  # HumanOutputFormat prints most floats with 3 significant digits
}


#: Steps are stored as 64-bit integers; anything beyond this is not a real timestep.
MAX_STEP = 1 << 53


def is_number(x: Any) -> TypeGuard[int | float]:
    """A finite int or float, not a bool: a hyperparameter or evidence value worth computing with."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def valid_step(x: float | int) -> int | None:
    """A logged ``time/total_timesteps`` as an int, or None when it cannot be one.

    NaN, inf and numbers past 2**53 (a ``1e30`` typed into a csv) are data errors, not
    steps: the readers skip such records and say how many in a warning.
    """
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        return x if -MAX_STEP <= x <= MAX_STEP else None
    if not math.isfinite(x) or not -MAX_STEP <= x <= MAX_STEP:
        return None
    return int(x)


@dataclass
class Series:
    """One metric: parallel arrays of step (``time/total_timesteps``), value and wall time.

    ``wall_times`` holds NaN where the source has no wall time (stdout tables).
    Points are kept in the order they were logged; :meth:`sorted` orders them by step.
    """

    steps: array = field(default_factory=lambda: array("q"))
    values: array = field(default_factory=lambda: array("d"))
    wall_times: array = field(default_factory=lambda: array("d"))

    @classmethod
    def from_points(
        cls, steps: Iterable[int], values: Iterable[float], wall_times: Iterable[float] | None = None
    ) -> Series:
        """Build a series from plain Python iterables (wall times default to NaN)."""
        s = array("q", steps)
        v = array("d", values)
        w = array("d", wall_times) if wall_times is not None else array("d", [NAN]) * len(v)
        if not (len(s) == len(v) == len(w)):
            raise ValueError(f"series arrays differ in length: {len(s)}, {len(v)}, {len(w)}")
        return cls(s, v, w)

    def append(self, step: int, value: float, wall_time: float = NAN) -> None:
        """Add one point at the end."""
        self.steps.append(step)
        self.values.append(value)
        self.wall_times.append(wall_time)

    def extend(self, other: Series) -> None:
        """Append all points of ``other``."""
        self.steps.extend(other.steps)
        self.values.extend(other.values)
        self.wall_times.extend(other.wall_times)

    def __len__(self) -> int:
        return len(self.values)

    def is_sorted(self) -> bool:
        """True when the steps never go back (numpy for long series)."""
        steps = self.steps
        if len(steps) > NUMPY_MIN_POINTS:
            import numpy as np

            arr = np.frombuffer(steps, dtype=np.int64)
            return bool((arr[1:] >= arr[:-1]).all())
        return all(a <= b for a, b in pairwise(steps))

    def sorted(self) -> Series:
        """Return the series ordered by step (stable: equal steps keep their logging order)."""
        if self.is_sorted():
            return self
        order = sorted(range(len(self.steps)), key=self.steps.__getitem__)
        return Series(
            array("q", (self.steps[i] for i in order)),
            array("d", (self.values[i] for i in order)),
            array("d", (self.wall_times[i] for i in order)),
        )

    def max_step(self) -> int:
        """The largest step (numpy for long series: a Python max over millions of steps is slow)."""
        if len(self.steps) > NUMPY_MIN_POINTS:
            import numpy as np

            return int(np.frombuffer(self.steps, dtype=np.int64).max())
        return max(self.steps)

    def has_wall_time(self) -> bool:
        """True when at least one point carries a wall time."""
        return any(not math.isnan(w) for w in self.wall_times)


def paired_deltas(a: Series, b: Series) -> list[tuple[int, float, float]]:
    """Consecutive differences of two series at the steps both carry.

    Returns ``(step, delta a, delta b)`` for each pair of neighbouring shared steps, the step
    being the later one: e.g. ``train/n_updates`` against ``time/iterations`` gives PPO's
    epochs per iteration.
    """
    at_b = dict(zip(b.steps, b.values, strict=True))
    pairs = [(s, v, at_b[s]) for s, v in zip(a.steps, a.values, strict=True) if s in at_b]
    return [(s1, a1 - a0, b1 - b0) for (_, a0, b0), (s1, a1, b1) in pairwise(pairs)]


#: Prefixes of the keys SB3's logger writes in every table, an update made or not.
LOGGER_TABLE_PREFIXES = ("rollout/", "time/")


def last_table_before(metrics: Mapping[str, Series], step: int) -> int | None:
    """The last step before ``step`` at which SB3's logger wrote a table (a ``rollout/`` or
    ``time/`` key); None where it wrote none before it. Before a run's first ``train/*`` point,
    that is the last table written without an update."""
    before = [
        s.steps[i - 1]
        for name, s in metrics.items()
        if name.startswith(LOGGER_TABLE_PREFIXES) and (i := bisect.bisect_left(s.steps, step)) > 0
    ]
    return max(before, default=None)


@dataclass
class SourceData:
    """What one reader got out of one file (or one run inside a stdout log).

    ``facts`` holds things a reader harvested besides metrics, e.g. the stdout lines
    ``Using cuda device`` (``device``), ``Logging to logs/PPO_1`` (``log_dir``) or
    PPO's ``Early stopping at step ...`` (``early_stops``: list of (step, kl)).
    """

    kind: str
    path: Path
    metrics: dict[str, Series] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def series(self, metric: str) -> Series:
        """Return the series for ``metric``, creating it empty if needed."""
        s = self.metrics.get(metric)
        if s is None:
            s = self.metrics[metric] = Series()
        return s


@dataclass
class Run:
    """One training run: every source read for it, merged into one metric table.

    :param path: the run folder (or the single file the run was read from)
    :param name: a short display name, e.g. ``PPO_1`` or ``train.log#2``
    :param algo: detected algorithm (``PPO``, ``A2C``, ``DQN``, ``SAC``, ``TD3``, ...) or None
    :param sources: the source kinds read, e.g. ``["tensorboard", "stdout"]``
    :param source_files: the files read
    :param hyperparams: hyperparameters recovered from the logs (or ``config.json``)
    :param metrics: metric name -> series, sorted by step
    :param warnings: non-fatal problems met while reading (truncated tail, bad CRC, ...)
    :param facts: harvested non-metric facts (see :class:`SourceData`)
    :param live: the run may still be training (``watch``, ``DoctorCallback``): what is read is
        a prefix, and a rule that waits for a share of the planned run does not take an unknown
        plan as finished
    """

    path: Path
    name: str
    algo: str | None = None
    sources: list[str] = field(default_factory=list)
    source_files: list[Path] = field(default_factory=list)
    hyperparams: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Series] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    live: bool = False

    @property
    def num_points(self) -> int:
        """Total number of scalar points over all metrics."""
        return sum(len(s) for s in self.metrics.values())

    def step_range(self) -> tuple[int, int] | None:
        """First and last step seen in any metric, or None for an empty run."""
        firsts = [s.steps[0] for s in self.metrics.values() if len(s)]
        lasts = [s.max_step() for s in self.metrics.values() if len(s)]
        if not firsts:
            return None
        return min(firsts), max(lasts)

    def to_dataframe(self) -> pd.DataFrame:
        """Long-format table, one row per point: columns ``step, metric, value, wall_time``.

        Imports pandas (and numpy) only when called; pandas comes with the ``[pandas]`` extra.

        :raises SB3DoctorError: pandas is not installed (the message names the extra)
        """
        import numpy as np

        try:
            import pandas as pd
        except ImportError:
            from sb3doctor.errors import SB3DoctorError

            raise SB3DoctorError(
                'Run.to_dataframe() needs pandas: pip install "sb3doctor[pandas]" (or pip install pandas)'
            ) from None

        names = sorted(self.metrics)
        lengths = [len(self.metrics[n]) for n in names]
        if not names or sum(lengths) == 0:
            return pd.DataFrame(
                {
                    "step": pd.Series([], dtype="int64"),
                    "metric": pd.Series([], dtype="object"),
                    "value": pd.Series([], dtype="float64"),
                    "wall_time": pd.Series([], dtype="float64"),
                }
            )
        steps = np.concatenate([np.frombuffer(self.metrics[n].steps, dtype=np.int64) for n in names])
        values = np.concatenate([np.frombuffer(self.metrics[n].values, dtype=np.float64) for n in names])
        walls = np.concatenate([np.frombuffer(self.metrics[n].wall_times, dtype=np.float64) for n in names])
        metric = pd.Categorical.from_codes(np.repeat(np.arange(len(names)), lengths), categories=names)
        return pd.DataFrame({"step": steps, "metric": metric, "value": values, "wall_time": walls})


SEVERITIES: tuple[str, ...] = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    """0 for info, 1 for warning, 2 for error (higher is worse)."""
    return SEVERITIES.index(severity)


@dataclass
class Advice:
    """One concrete change to try: ``param current -> suggested`` plus a sentence."""

    param: str
    current: Any
    suggested: Any
    text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"param": self.param, "current": self.current, "suggested": self.suggested, "text": self.text}


@dataclass
class Finding:
    """A rule that held on a run, with its evidence and advice."""

    rule: str
    name: str
    category: str
    severity: str
    metric: str | None
    message: str
    observed: float | None = None
    threshold: float | None = None
    window: str | None = None
    steps: tuple[int, int] | None = None
    advice: list[Advice] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    #: the rule id of the finding that explains this one (a consequence of a root cause)
    caused_by: str | None = None
    #: ``observed`` / ``threshold`` as the rule words them, with their units (``80% of the
    #: updates above 0.1``), for rules whose bare numbers would not say what they count
    evidence: dict[str, str] = field(default_factory=dict)

    def evidence_text(self, key: str) -> str | None:
        """``observed`` or ``threshold`` for a reader: the rule's wording, else the number."""
        if key in self.evidence:
            return self.evidence[key]
        value = self.observed if key == "observed" else self.threshold
        if value is None:
            return None
        from sb3doctor.engine import fmt_num

        return fmt_num(value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the field names of ``analyze --format json``."""
        return {
            "caused_by": self.caused_by,
            "rule": self.rule,
            "name": self.name,
            "category": self.category,
            "severity": self.severity,
            "metric": self.metric,
            "message": self.message,
            "observed": _json_number(self.observed),
            "threshold": _json_number(self.threshold),
            "window": self.window,
            "steps": list(self.steps) if self.steps is not None else None,
            "advice": [a.to_dict() for a in self.advice],
            "sources": list(self.sources),
            "evidence": dict(self.evidence),
        }


def _json_number(x: float | None) -> float | str | None:
    """JSON has no NaN/inf: spell them as strings so the document stays valid."""
    if x is None:
        return None
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return x


def safe_fsum(values: Iterable[float]) -> float:
    """``math.fsum``, except that a sum past the float range is inf (or NaN for inf - inf)
    instead of an exception: 1e308 + 1e308 in a damaged log is data, not a crash."""
    if not hasattr(values, "__len__"):
        values = list(values)  # a generator: iterated twice when fsum gives up
    try:
        return math.fsum(values)
    except (OverflowError, ValueError):
        return sum(values, 0.0)
