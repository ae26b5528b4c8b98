"""Load and validate the YAML rules (format: ``rules/SCHEMA.md``).

Files are parsed with PyYAML's safe loader (the C implementation, ``CSafeLoader``, when
available: same safety, ~10x faster) and checked strictly: unknown keys, unknown condition
kinds, bad operators, windows or message fields are a :class:`~sb3doctor.errors.ConfigError`
naming the file. Nothing in a rule file is ever evaluated as code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sb3doctor import __version__
from sb3doctor.conditions import COMBINATORS, KINDS, OPS, STATS, kind_of, sub_conditions
from sb3doctor.errors import ConfigError
from sb3doctor.model import SEVERITIES

CATEGORIES: tuple[str, ...] = (
    "lr_too_high",
    "clip_too_aggressive",
    "updates_too_small",
    "entropy_collapse",
    "entropy_too_high",
    "value_fn_poor",
    "reward_scale_too_large",
    "reward_plateau",
    "performance_collapse",
    "sparse_reward_no_learning",
    "diverged",
    "insufficient_exploration",
    "episode_stats_frozen",
    "missing_monitor",
    "slow_training",
    "config_inconsistent",
    "expectation_failed",
)

#: Algorithm names a rule may list in ``applies_to`` (plus ``all``).
ALGORITHMS: tuple[str, ...] = (
    "PPO", "RecurrentPPO", "MaskablePPO", "A2C", "TRPO", "ARS",
    "DQN", "QRDQN", "SAC", "TQC", "CrossQ", "TD3", "DDPG",
)  # fmt: skip

REQUIRED = ("id", "name", "category", "severity", "applies_to", "condition", "message", "why",
            "false_alarms", "advice", "sources", "examples")  # fmt: skip
OPTIONAL = ("requires", "metric", "escalate", "evidence", "title", "pixels")
#: What a rule's ``evidence:`` may label: the observed statistic, its threshold and the window.
EVIDENCE_KEYS = ("observed", "threshold", "window")
TEXT_FIELDS = ("message", "why", "false_alarms")
MESSAGE_FIELDS = ("observed", "threshold", "n", "window", "metric", "step_from", "step_to", "hp", "ref",
                  "cond", "shown")  # fmt: skip
ADVICE_KEYS = ("param", "scale", "set", "add", "min", "max", "default", "if_zero_set", "text", "reference",
               "when")  # fmt: skip
_WHEN_KEYS = ("metric", "env", "hyperparams", "pixels")
EXAMPLE_KEYS = ("expect", "series", "steps", "hyperparams", "algo", "severity", "note", "facts")

#: ``name`` or ``name[key]``; only the mapping fields may be indexed.
_FIELD_RE = re.compile(r"^([A-Za-z_]\w*)(?:\[([A-Za-z_]\w*)\])?$")
_INDEXED_FIELDS = ("hp", "ref", "cond")
#: A safe subset of format specs: optional alignment, a width under 100, a precision under 20,
#: and a type (no fill characters, no nested fields).
_SPEC_RE = re.compile(r"^[<>^]?[+\- ]?\d{0,2},?(?:\.\d{1,2})?[eEfFgGd%]?$")
_ID_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
_NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_WINDOW_KEYS = {"last": int, "first": int, "last_frac": float, "from_frac": float, "first_frac": float}

# Keys of each condition kind: (required, optional); `kind` and `metric` are always allowed.
_COND_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "threshold": (("stat", "op", "value"), ("window", "min_points", "annealed")),
    "sustained": (("op", "value"), ("window", "fraction", "consecutive", "min_points")),
    "trend": (("op", "value"), ("window", "scale", "min_points")),
    "spike": (("factor",), ("lookback", "abs", "window", "min_points")),
    "drop_from_peak": (("op", "value"), ("window", "min_rise", "baseline", "min_points")),
    "plateau": (("value",), ("window", "below_best", "best_margin", "min_points", "eps", "op")),
    "frozen": (
        (),
        (
            "tolerance",
            "min_points",
            "min_step_advance",
            "min_step_advance_x",
            "min_step_advance_time_limit",
            "min_step_advance_longest_episode",
            "trailing",
            "window",
        ),
    ),
    "missing": ((), ("present", "min_points")),
    "non_finite": ((), ("metrics", "window")),
    "ratio_to_bound": (("stat", "bound", "op", "value"), ("negate", "window", "min_points")),
    "counter_ratio": (("of", "stat", "op", "value"), ("window", "min_points")),
    "step_gap": (("stat", "op", "value"), ("window", "min_points")),
    "return_level": (
        ("measure", "op", "value"),
        (
            "window",
            "bound",
            "min_points",
            "min_budget_frac",
            "max_budget_frac",
            "budget",
            "min_steps",
            "sparse_only",
            "without_reference",
            "above_random",
        ),
    ),
    "vs_reference": (("param", "op", "value"), ("transform",)),
    "budget": (
        (),
        (
            "min_frac",
            "else_min_steps",
            "min_steps",
            "budget",
            "planned_frac",
            "onset_factor",
            "trained_steps",
            "as_of",
            "onset",
        ),
    ),
    "growth": (("stat", "op", "value"), ("early", "late", "abs", "min_points")),
}
_NUMBER_KEYS = ("value", "best_margin", "min_points", "fraction", "consecutive", "factor", "lookback",
                "min_rise", "eps", "tolerance", "min_step_advance", "min_step_advance_x",
                "min_step_advance_time_limit", "min_step_advance_longest_episode", "min_budget_frac",
                "max_budget_frac", "min_steps", "min_frac", "else_min_steps", "planned_frac",
                "onset_factor", "trained_steps")  # fmt: skip
_CHOICES: dict[str, tuple[Any, ...]] = {
    "op": tuple(OPS),
    "stat": STATS,
    "scale": ("abs_mean", "range"),
    "baseline": ("min", "first"),
    "abs": (True, False),
    "negate": (True, False),
    "below_best": (True, False),
    "measure": ("progress", "gain", "peak", "effect", "peak_effect", "drop"),
    "sparse_only": (True, False),
    "without_reference": (True, False),
    "above_random": (True, False),
    "budget": ("fastest", "own"),
    "as_of": ("returns",),
    "onset": ("returns", "critic"),
    "bound": ("ln_n_actions", "first", "early", "upper", "lower", "mean"),
    "transform": ("horizon",),
}
_REQUIRE_OPS = ("==", "!=", "<", "<=", ">", ">=", "in")
#: Kinds whose window must hold at least min_points points.
_USES_MIN_POINTS = (
    "threshold",
    "sustained",
    "trend",
    "drop_from_peak",
    "ratio_to_bound",
    "counter_ratio",
    "step_gap",
)


@dataclass
class Rule:
    """One validated rule. ``raw`` keeps the parsed mapping (for overrides and ``explain``)."""

    id: str
    name: str
    category: str
    severity: str
    applies_to: tuple[str, ...]
    condition: dict[str, Any]
    message: dict[str, str]
    why: dict[str, str]
    false_alarms: dict[str, str]
    advice: list[dict[str, Any]]
    sources: list[str]
    examples: list[dict[str, Any]]
    metric: str | None = None
    requires: dict[str, Any] = field(default_factory=dict)
    #: True / False: the rule is only for runs whose policy does / does not learn from images
    #: (see :func:`sb3doctor.engine.sees_pixels`); None: for every run
    pixels: bool | None = None
    escalate: dict[str, Any] | None = None
    #: ``observed``/``threshold``/``window`` -> localized template: how the evidence reads,
    #: with its unit (a share of updates, a number of steps), where a bare number would mislead.
    evidence: dict[str, dict[str, str]] = field(default_factory=dict)
    #: optional one-line statement of what the rule detects, for ``sb3doctor rules``
    title: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    #: True when the user's configuration fixed the severity (escalation is then off).
    severity_overridden: bool = False

    def text(self, name: str, lang: str = "en") -> str:
        """A translated text field (``message``, ``why``, ``false_alarms``), English fallback."""
        texts: dict[str, str] = getattr(self, name)
        return texts.get(lang) or texts["en"]

    def applies(self, algo: str | None) -> bool:
        """Whether the rule is meant for runs of ``algo``."""
        return "all" in self.applies_to or (algo is not None and algo in self.applies_to)

    def summary(self, lang: str = "en") -> str:
        """One line saying what the rule detects: its ``title``, else its name in words
        (``approx-kl-too-high`` -> ``approx kl too high``). Not the first sentence of ``why``,
        which explains why the problem matters rather than naming it."""
        if self.title:
            return self.title.get(lang) or self.title["en"]
        return self.name.replace("-", " ")


def _err(path: Path | None, msg: str) -> ConfigError:
    return ConfigError(msg, path)


class RuleProblems(ConfigError):
    """A rule file with one or more problems; ``problems`` lists them, ``YAML.path: what``.

    The message names them all on one line (the CLI's error lines stay one line);
    ``rules --check`` prints one problem per line.
    """

    def __init__(self, problems: list[str], path: Path | None = None) -> None:
        self.problems = problems
        text = problems[0] if len(problems) == 1 else f"{len(problems)} problems: " + "; ".join(problems)
        super().__init__(text, path)


class Problems:
    """Every problem found in one rule, each as ``YAML.path: what is wrong``.

    Validation goes on after a problem, so that a rule file with five missing keys is fixed
    in one round, not five. Checks that depend on a broken part (a condition without a kind)
    are skipped rather than reported twice.
    """

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        """Record that the value at ``where`` (``condition.all_of[0].window.last``) is wrong."""
        self.items.append(f"{where}: {message}" if where else message)

    def __bool__(self) -> bool:
        return bool(self.items)

    def error(self, path: Path | None) -> RuleProblems:
        """One error listing every problem (``; ``-separated: errors are one line each)."""
        return RuleProblems(list(self.items), path)

    def raise_if_any(self, path: Path | None) -> None:
        """Raise :meth:`error` when a problem was recorded."""
        if self.items:
            raise self.error(path)


#: A space with a CJK character (or full-width punctuation) on both sides: in Chinese text it
#: is never meant; it is what YAML's folded scalars (``>-``) leave where a line was wrapped.
_CJK_SPACE = re.compile(
    r"(?<=[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f])[ \t]+(?=[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f])"
)


def join_cjk(text: str) -> str:
    """``text`` without the spaces that wrapping a YAML source left between Chinese characters."""
    return _CJK_SPACE.sub("", text)


def _localized(value: Any, key: str, path: Path | None, problems: Problems | None = None) -> dict[str, str]:
    """A text that is a string or ``{en: ..., zh: ...}`` (English required)."""
    own = problems if problems is not None else Problems()
    out: dict[str, str] = {}
    if isinstance(value, str):
        out = {"en": value}
    elif isinstance(value, Mapping) and isinstance(value.get("en"), str):
        bad = [k for k in value if k not in ("en", "zh")]
        for k in bad:
            own.add(f"{key}.{k}", "unknown language (use en, zh)")
        wrong = [k for k, v in value.items() if k in ("en", "zh") and not isinstance(v, str)]
        for k in wrong:
            own.add(f"{key}.{k}", "every translation must be a string")
        out = {k: v for k, v in value.items() if k in ("en", "zh") and isinstance(v, str)}
        if "zh" in out:
            out["zh"] = join_cjk(out["zh"])
    else:
        own.add(key, "expected a string or {en: ..., zh: ...}")
    if problems is None:
        own.raise_if_any(path)
    return out


def check_format(
    template: str, where: str, path: Path | None, extra: Iterable[str] = (), problems: Problems | None = None
) -> None:
    """Reject a message template whose fields the engine cannot fill."""
    own = problems if problems is not None else Problems()
    allowed = set(MESSAGE_FIELDS) | set(extra)
    try:
        for _, fname, spec, conversion in string.Formatter().parse(template):
            if fname is None:
                continue
            m = _FIELD_RE.match(fname)
            root = m.group(1) if m else None
            # A field is a plain name, or hp[name] / ref[name] / cond[name]: no attribute
            # access, no other indexing, so a rule file can never reach into Python objects.
            if root not in allowed or (m and m.group(2) and root not in _INDEXED_FIELDS):
                own.add(
                    where,
                    f"unknown field {{{fname}}} (allowed: {', '.join(sorted(allowed))}, "
                    "hp[NAME], ref[NAME], cond[NAME])",
                )
                continue
            if conversion is not None:
                own.add(where, f"field {{{fname}}}: conversions (!r, !s) are not allowed")
            if spec and not _SPEC_RE.match(spec):
                own.add(where, f"field {{{fname}}}: format spec {spec!r} is not allowed "
                        "(use e.g. .3g, .0%, .1f, >8)")  # fmt: skip
    except ValueError as exc:
        own.add(where, f"bad format string ({exc})")
    if problems is None:
        own.raise_if_any(path)


def validate_window(window: Any, where: str, path: Path | None, problems: Problems | None = None) -> None:
    """``all``, or a one-key mapping of ``last``/``first`` (int) or ``last_frac``/``from_frac`` (0-1).

    :param where: the YAML path of the window itself (``condition.window``)
    """
    own = problems if problems is not None else Problems()
    if window is None or window == "all":
        return
    if not isinstance(window, Mapping) or len(window) != 1:
        own.add(where, "must be 'all' or one of {last: N}, {first: N}, {last_frac: F}, {from_frac: F}, "
                "{first_frac: F}")  # fmt: skip
    else:
        key, arg = next(iter(window.items()))
        if key not in _WINDOW_KEYS:
            own.add(f"{where}.{key}", f"unknown window (use {', '.join(_WINDOW_KEYS)})")
        elif _WINDOW_KEYS[key] is int:
            if not isinstance(arg, int) or isinstance(arg, bool) or arg < 1:
                own.add(f"{where}.{key}", "needs a positive integer")
        elif not isinstance(arg, (int, float)) or isinstance(arg, bool) or not 0 <= arg <= 1:
            own.add(f"{where}.{key}", "needs a fraction between 0 and 1")
    if problems is None:
        own.raise_if_any(path)


def validate_condition(
    cond: Any, where: str, path: Path | None, *, has_metric: bool, problems: Problems | None = None
) -> None:
    """Check one condition (recursively for combinators) against the closed set of kinds.

    :param where: the YAML path of the condition (``condition``, ``escalate.condition``)
    :param problems: where to record problems; without it the first call raises them all
    """
    own = problems if problems is not None else Problems()
    _check_condition(cond, where, has_metric, own)
    if problems is None:
        own.raise_if_any(path)


def _check_condition(cond: Any, where: str, has_metric: bool, problems: Problems) -> None:
    if not isinstance(cond, Mapping):
        problems.add(where, "a condition must be a mapping")
        return
    kind = kind_of(cond)
    if kind not in KINDS:
        problems.add(f"{where}.kind", f"unknown condition kind {kind or '(none)'!r} (use {', '.join(KINDS)})")
        return
    if "shows" in cond:
        shows = _localized(cond["shows"], f"{where}.shows", None, problems)
        if any("{" in t or "}" in t for t in shows.values()):
            problems.add(f"{where}.shows", "plain text: no {fields} (the message's {shown} lists it)")
    if kind in COMBINATORS:
        allowed = {"kind", kind, "conditions", "condition", "shows"}
        for k in cond:
            if k not in allowed:
                problems.add(f"{where}.{k}", f"unknown key in {kind}")
        subs = sub_conditions(cond)
        if not subs or (kind == "not" and len(subs) != 1):
            problems.add(
                f"{where}.{kind}", "needs one condition" if kind == "not" else "needs a list of conditions"
            )
            return
        for i, sub in enumerate(subs):
            sub_where = f"{where}.{kind}" if kind == "not" else f"{where}.{kind}[{i}]"
            _check_condition(sub, sub_where, has_metric, problems)
        return
    required, optional = _COND_KEYS[kind]
    for key in cond:
        if key not in ("kind", "metric", "shows", *required, *optional):
            problems.add(
                f"{where}.{key}", f"unknown key for kind {kind} (use {', '.join((*required, *optional))})"
            )
    for key in required:
        if key not in cond:
            problems.add(f"{where}.{key}", f"missing (kind {kind} needs it)")
    if kind == "non_finite":
        if not (has_metric or "metric" in cond or "metrics" in cond):
            problems.add(f"{where}.metrics", "non_finite needs 'metrics' or a metric")
    elif not (has_metric or "metric" in cond):
        problems.add(f"{where}.metric", "missing (give the rule a 'metric' or the condition one)")
    for key in _NUMBER_KEYS:
        if key in cond:
            v = cond[key]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                hint = " (YAML reads 1e-3 as text: write 0.001 or 1.0e-3)" if isinstance(v, str) else ""
                problems.add(f"{where}.{key}", f"must be a finite number, not {v!r}{hint}")
    for key, choices in _CHOICES.items():
        if key in cond and cond[key] not in choices:
            problems.add(f"{where}.{key}", f"must be one of {', '.join(map(str, choices))}")
    before = len(problems.items)
    validate_window(cond.get("window"), f"{where}.window", None, problems)
    window = cond.get("window")
    if len(problems.items) == before and isinstance(window, Mapping) and len(window) == 1:
        wkey, warg = next(iter(window.items()))
        min_points = cond.get("min_points", 3)
        # `window: {last: 1}` with the default min_points 3 loads but can never hold.
        if (
            wkey in ("last", "first")
            and isinstance(warg, int)
            and isinstance(min_points, (int, float))
            and kind in _USES_MIN_POINTS
            and min_points > warg
        ):
            problems.add(
                f"{where}.window.{wkey}",
                f"window {{{wkey}: {warg}}} holds fewer points than min_points "
                f"({min_points:g}), so the condition can never hold: set min_points to at most the window",
            )
    for key in ("early", "late"):
        if key in cond:
            validate_window(cond[key], f"{where}.{key}", None, problems)
    for key in ("metric", "of"):
        if key in cond and not isinstance(cond[key], str):
            problems.add(f"{where}.{key}", "must be a metric name")
    for key in ("present", "metrics"):
        if key in cond:
            v = cond[key]
            if not (isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(x, str) for x in v))):
                problems.add(f"{where}.{key}", "must be a metric name or a list of them")


def _validate_requires(requires: Any, problems: Problems, where: str = "requires") -> dict[str, Any]:
    if requires is None:
        return {}
    if not isinstance(requires, Mapping):
        problems.add(where, "expected a mapping of hyperparameter -> value or {op: value}")
        return {}
    for key, want in requires.items():
        if isinstance(want, Mapping) and (len(want) != 1 or next(iter(want)) not in _REQUIRE_OPS):
            problems.add(f"{where}.{key}", f"use one of {', '.join(_REQUIRE_OPS)} as the only key")
    return dict(requires)


def _validate_advice(advice: Any, problems: Problems) -> list[dict[str, Any]]:
    if not isinstance(advice, list) or not advice:
        problems.add("advice", "expected a non-empty list")
        return []
    out = []
    for i, item in enumerate(advice):
        where = f"advice[{i}]"
        if not isinstance(item, Mapping):
            problems.add(where, "expected a mapping with a 'param'")
            continue
        if not isinstance(item.get("param"), str):
            problems.add(f"{where}.param", "missing (each item names the hyperparameter it changes)")
        for key in item:
            if key not in ADVICE_KEYS:
                problems.add(f"{where}.{key}", f"unknown key (use {', '.join(ADVICE_KEYS)})")
        actions = [k for k in ("scale", "set", "add") if k in item]
        if len(actions) > 1:
            problems.add(where, "use only one of scale, set, add")
        if not actions and "text" not in item and not item.get("reference"):
            problems.add(where, "needs scale, set, add, reference or text")
        for key in ("scale", "add", "min", "max"):
            if key in item and (not isinstance(item[key], (int, float)) or isinstance(item[key], bool)):
                problems.add(f"{where}.{key}", "must be a number")
        when = item.get("when")
        if when is not None:
            if not isinstance(when, Mapping) or not when or any(k not in _WHEN_KEYS for k in when):
                problems.add(f"{where}.when", f"a mapping of {', '.join(_WHEN_KEYS)}")
            else:
                if "hyperparams" in when:
                    _validate_requires(when["hyperparams"], problems, f"{where}.when.hyperparams")
                if "pixels" in when and not isinstance(when["pixels"], bool):
                    problems.add(f"{where}.when.pixels", "true or false")
        if "reference" in item and not isinstance(item["reference"], bool):
            problems.add(f"{where}.reference", "true or false")
        entry = dict(item)
        if "text" in item:
            entry["text"] = _localized(item["text"], f"{where}.text", None, problems)
            for lang, text in entry["text"].items():
                check_format(text, f"{where}.text.{lang}", None, ("current", "suggested", "param"), problems)
        out.append(entry)
    return out


def _validate_evidence(evidence: Any, problems: Problems) -> dict[str, dict[str, str]]:
    """``evidence: {observed: TEXT, threshold: TEXT, window: TEXT}``, each optional and localized."""
    if evidence is None:
        return {}
    if not isinstance(evidence, Mapping) or not evidence:
        problems.add("evidence", f"expected a mapping of {', '.join(EVIDENCE_KEYS)}")
        return {}
    out: dict[str, dict[str, str]] = {}
    for key, value in evidence.items():
        if key not in EVIDENCE_KEYS:
            problems.add(f"evidence.{key}", f"unknown key (use {', '.join(EVIDENCE_KEYS)})")
            continue
        out[key] = _localized(value, f"evidence.{key}", None, problems)
        for lang, template in out[key].items():
            check_format(template, f"evidence.{key}.{lang}", None, problems=problems)
    return out


def _validate_examples(examples: Any, problems: Problems) -> list[dict[str, Any]]:
    if not isinstance(examples, list) or not examples:
        problems.add("examples", "expected a non-empty list")
        return []
    for i, ex in enumerate(examples):
        where = f"examples[{i}]"
        if not isinstance(ex, Mapping):
            problems.add(where, "expected a mapping")
            continue
        for key in ex:
            if key not in EXAMPLE_KEYS:
                problems.add(f"{where}.{key}", f"unknown key (use {', '.join(EXAMPLE_KEYS)})")
        if ex.get("expect") not in ("fire", "quiet"):
            problems.add(f"{where}.expect", "must be fire or quiet")
        series = ex.get("series", {})
        if not isinstance(series, Mapping):
            problems.add(f"{where}.series", "must map metric names to lists of numbers")
            series = {}
        for metric, values in series.items():
            if not isinstance(values, list):
                problems.add(f"{where}.series.{metric}", "expected a list of numbers")
                continue
            for j, v in enumerate(values):
                if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
                    # PyYAML reads 1e3 (no dot) as a string: say so, it is an easy trap.
                    problems.add(
                        f"{where}.series.{metric}[{j}]", f"{v!r} is not a number (write 1000 or 1.0e+3)"
                    )
        if "severity" in ex and ex["severity"] not in SEVERITIES:
            problems.add(f"{where}.severity", f"must be one of {', '.join(SEVERITIES)}")
    return [dict(ex) for ex in examples if isinstance(ex, Mapping)]


def parse_rule(data: Any, path: Path | None = None) -> Rule:
    """Validate one parsed rule mapping and build a :class:`Rule`.

    Every problem is collected before anything is raised, so that one error names them all.

    :raises ConfigError: the rule breaks the schema; the message lists each problem as
        ``YAML.path: what is wrong`` (``condition.window.last: needs a positive integer``)
    """
    if not isinstance(data, Mapping):
        raise _err(path, "a rule file must hold one mapping")
    problems = Problems()
    for key in data:
        if key not in REQUIRED and key not in OPTIONAL:
            problems.add(str(key), "unknown key")
    for key in REQUIRED:
        if key not in data:
            problems.add(key, "missing required key")
    rid = data.get("id")
    if "id" in data and (not isinstance(rid, str) or not _ID_RE.match(rid)):
        problems.add("id", f"{rid!r} must be upper-case words joined by '-', e.g. PPO-KL-HIGH")
    name = data.get("name")
    if "name" in data and (not isinstance(name, str) or not _NAME_RE.match(name)):
        problems.add("name", f"{name!r} must be kebab-case, e.g. approx-kl-too-high")
    if "category" in data and data["category"] not in CATEGORIES:
        problems.add("category", f"unknown category {data['category']!r} (see rules/SCHEMA.md)")
    if "severity" in data and data["severity"] not in SEVERITIES:
        problems.add("severity", f"must be one of {', '.join(SEVERITIES)}")
    applies = data.get("applies_to", ["all"])
    if isinstance(applies, str):
        applies = [applies]
    if not isinstance(applies, list) or not applies:
        problems.add("applies_to", "expected a list of algorithms or [all]")
        applies = ["all"]
    for i, algo in enumerate(applies):
        if algo != "all" and algo not in ALGORITHMS:
            problems.add(
                f"applies_to[{i}]", f"unknown algorithm {algo!r} (use {', '.join(ALGORITHMS)} or all)"
            )
    metric = data.get("metric")
    if metric is not None and not isinstance(metric, str):
        problems.add("metric", "must be a metric name")
    if "condition" in data:
        _check_condition(data["condition"], "condition", metric is not None, problems)
    escalate = data.get("escalate")
    if escalate is not None:
        if not isinstance(escalate, Mapping) or set(escalate) != {"severity", "condition"}:
            problems.add("escalate", "needs exactly 'severity' and 'condition'")
            escalate = None
        else:
            if escalate["severity"] not in SEVERITIES:
                problems.add("escalate.severity", f"must be one of {', '.join(SEVERITIES)}")
            _check_condition(escalate["condition"], "escalate.condition", metric is not None, problems)
    texts = {k: _localized(data[k], k, None, problems) if k in data else {} for k in TEXT_FIELDS}
    for lang, template in texts["message"].items():
        check_format(template, f"message.{lang}", None, problems=problems)
    evidence = _validate_evidence(data.get("evidence"), problems)
    title = _localized(data["title"], "title", None, problems) if "title" in data else {}
    sources = data.get("sources")
    if "sources" in data and (
        not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s for s in sources)
    ):
        problems.add("sources", "expected a non-empty list of strings")
    advice = _validate_advice(data["advice"], problems) if "advice" in data else []
    examples = _validate_examples(data["examples"], problems) if "examples" in data else []
    requires = _validate_requires(data.get("requires"), problems)
    pixels = data.get("pixels")
    if pixels is not None and not isinstance(pixels, bool):
        problems.add("pixels", "true or false")
    problems.raise_if_any(path)
    return Rule(
        id=data["id"],
        name=data["name"],
        category=data["category"],
        severity=data["severity"],
        applies_to=tuple(applies),
        condition=dict(data["condition"]),
        message=texts["message"],
        why=texts["why"],
        false_alarms=texts["false_alarms"],
        advice=advice,
        sources=list(data["sources"]),
        examples=examples,
        metric=metric,
        requires=requires,
        pixels=pixels,
        escalate=dict(escalate) if escalate is not None else None,
        evidence=evidence,
        title=title,
        path=path,
        raw=dict(data),
    )


def _parse_yaml(text: str, path: Path) -> Any:
    from sb3doctor.safe_yaml import YamlDataError, load_data

    try:
        return load_data(text)  # safe tags only, bounded, duplicate keys refused
    except YamlDataError as exc:
        raise _err(path, str(exc)) from None


def load_rule_file(path: Path, cache: _ParseCache | None = None) -> Rule:
    """Read and validate one rule file; its name must be ``<id>.yaml``."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _err(path, f"cannot read rule file ({exc})") from None
    data = cache.get(raw) if cache is not None else None
    if data is None:
        data = _parse_yaml(text, path)
        if cache is not None:
            cache.put(raw, data)
    rule = parse_rule(data, path)
    if path.stem != rule.id:
        raise _err(path, f"the file of rule {rule.id} must be named {rule.id}.yaml")
    return rule


class _ParseCache:
    """Parsed rule files by content hash, kept as JSON in the user's cache folder.

    Parsing YAML is the slowest part of ``analyze`` (~1.5 ms per rule file even with
    libyaml, ~50 ms for the built-in rules); the JSON of the same data loads in ~2 ms. The
    key is a hash of the file's bytes, so an edited rule is never served stale. The cache
    holds parsed data only, never validated objects: every rule is still validated on each
    load. ``SB3DOCTOR_NO_CACHE=1`` turns it off; failing to read or write it is ignored.
    """

    MAX_ENTRIES = 400

    def __init__(self) -> None:
        self.path = self._location()
        self._entries: dict[str, Any] | None = None  # read on the first miss of the shipped parse
        self.used: set[str] = set()
        self.dirty = False
        self._shipped: dict[str, str] | None = None

    @property
    def entries(self) -> dict[str, Any]:
        """The user's cache file, read once, when a rule file is not in the shipped parse."""
        if self._entries is None:
            self._entries = {}
            if self.path is not None:
                try:
                    # Only a regular file, and never more than a few MB: a FIFO put in its place
                    # must not block every command.
                    st = os.stat(self.path)
                    if stat.S_ISREG(st.st_mode) and st.st_size < 8 << 20:
                        loaded = json.loads(self.path.read_text(encoding="utf-8"))
                        if isinstance(loaded, dict):
                            self._entries = loaded
                except (OSError, ValueError, RecursionError):
                    pass
        return self._entries

    @staticmethod
    def _location() -> Path | None:
        if os.environ.get("SB3DOCTOR_NO_CACHE"):
            return None
        xdg = os.environ.get("XDG_CACHE_HOME")
        # The XDG spec: a relative XDG_CACHE_HOME is invalid and must be ignored (it would put
        # a cache folder inside whatever folder the user runs sb3doctor from, e.g. the logs).
        base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "sb3doctor" / "parsed-rules-v3.json"

    @staticmethod
    def _digest(key: str, text: str) -> str:
        # Each entry carries a hash of its file hash and its JSON text: an entry edited by hand
        # (or half-written) no longer matches and is parsed again from the rule file. The data
        # is kept as that text, so checking it is a hash and a json.loads, not a re-encoding.
        return hashlib.blake2b(f"{__version__}:{key}:{text}".encode(), digest_size=16).hexdigest()

    @staticmethod
    def _key(raw: bytes) -> str:
        return hashlib.blake2b(raw, digest_size=16).hexdigest()

    def get(self, raw: bytes) -> Any:
        key = self._key(raw)
        # The built-in rules as shipped first: the user's cache is then only read for rules of
        # its own (--rules-dir, config extra_rules) or edited built-in ones.
        shipped = self._from_shipped(key)
        if shipped is not None:
            return shipped
        entry = self.entries.get(key)
        if not isinstance(entry, dict):
            return None
        text = entry.get("text")
        if not isinstance(text, str) or entry.get("digest") != self._digest(key, text):
            return None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return None
        self.used.add(key)
        return data

    def _from_shipped(self, key: str) -> Any:
        """The built-in rule file whose bytes hash to ``key``, as parsed when the package was
        built (``SHIPPED_PARSE`` beside the rules): a fresh installation's first ``analyze``
        parses no YAML. An edited rule file hashes differently and is parsed as usual."""
        if self._shipped is None:
            self._shipped = {}
            try:
                from sb3doctor.rules_path import builtin_rules_dir

                loaded = json.loads((builtin_rules_dir() / SHIPPED_PARSE).read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self._shipped = {k: v for k, v in loaded.items() if isinstance(v, str)}
            except (OSError, ValueError, RecursionError, ConfigError):
                pass
        text = self._shipped.get(key)
        if text is None:
            return None
        try:
            return json.loads(text)
        except (ValueError, RecursionError):
            return None

    def put(self, raw: bytes, data: Any) -> None:
        # Only plain JSON data round-trips exactly (YAML could give int keys or dates).
        if _plain_json(data):
            key = self._key(raw)
            text = json.dumps(data, ensure_ascii=False)
            self.entries[key] = {"text": text, "digest": self._digest(key, text)}
            self.used.add(key)
            self.dirty = True

    def save(self) -> None:
        if not self.dirty or self.path is None or self._entries is None:
            return
        keep = {k: v for k, v in self.entries.items() if k in self.used}
        for k, v in self.entries.items():
            if len(keep) >= self.MAX_ENTRIES:
                break
            keep.setdefault(k, v)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(keep, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass


#: The built-in rules as parsed data, keyed by the hash of each file's bytes, shipped in the
#: rules folder (not a rule: only ``*.yaml`` files are). Rewritten by :func:`write_shipped_parse`;
#: ``tests/test_rule_examples.py`` checks that it matches the rule files.
SHIPPED_PARSE = "parsed.json"


def shipped_parse(folder: Path) -> dict[str, str]:
    """What :data:`SHIPPED_PARSE` should hold for the rule files of ``folder``."""
    out = {}
    for path in rule_files(folder):
        raw = path.read_bytes()
        data = _parse_yaml(raw.decode("utf-8"), path)
        if _plain_json(data):
            out[_ParseCache._key(raw)] = json.dumps(data, ensure_ascii=False)
    return out


def write_shipped_parse() -> Path:
    """Rewrite the built-in rules' :data:`SHIPPED_PARSE` (after editing a rule file)."""
    from sb3doctor.rules_path import builtin_rules_dir

    folder = builtin_rules_dir()
    path = folder / SHIPPED_PARSE
    path.write_text(json.dumps(shipped_parse(folder), indent=0, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _plain_json(x: Any) -> bool:
    if isinstance(x, dict):
        return all(isinstance(k, str) and _plain_json(v) for k, v in x.items())
    if isinstance(x, list):
        return all(_plain_json(v) for v in x)
    return x is None or isinstance(x, (str, int, float, bool))


def rule_files(location: Path) -> list[Path]:
    """``*.yaml`` / ``*.yml`` files of a folder (sorted), or the file itself."""
    if location.is_dir():
        return sorted(p for p in location.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if location.is_file():
        return [location]
    raise _err(location, "no such rule file or folder")


def load_rules(locations: Iterable[Path]) -> list[Rule]:
    """Load every rule under ``locations`` (folders or files), rejecting duplicate ids.

    :raises ConfigError: a file breaks the schema, or two files define the same id
    """
    rules: list[Rule] = []
    seen: dict[str, Path | None] = {}
    cache = _ParseCache()
    for location in locations:
        for path in rule_files(Path(location)):
            rule = load_rule_file(path, cache)
            if rule.id in seen:
                raise _err(path, f"rule {rule.id} is already defined in {seen[rule.id]}")
            seen[rule.id] = path
            rules.append(rule)
    cache.save()
    return rules


def builtin_rules() -> list[Rule]:
    """The rules shipped with sb3doctor."""
    from sb3doctor.rules_path import builtin_rules_dir

    return load_rules([builtin_rules_dir()])


def example_run(rule: Rule, example: Mapping[str, Any]) -> Any:
    """Build the :class:`~sb3doctor.model.Run` an example of ``rule`` describes.

    Steps default to 1000, 2000, ... (one per point); ``steps`` may be one list for every
    series or a mapping metric -> list. ``null`` values become NaN. The algorithm is the
    example's ``algo``, else the first of ``applies_to`` (``PPO`` for ``[all]``).
    """
    from sb3doctor.model import Series, SourceData
    from sb3doctor.sources import build_run
    from sb3doctor.sources.hyperparams import recover_hyperparams

    algo = example.get("algo") or (rule.applies_to[0] if rule.applies_to[0] != "all" else "PPO")
    steps_spec = example.get("steps")
    src = SourceData(kind="tensorboard", path=Path(f"examples/{rule.id}"))
    for metric, values in (example.get("series") or {}).items():
        default = [1000 * (i + 1) for i in range(len(values))]
        steps = (
            steps_spec.get(metric, default) if isinstance(steps_spec, Mapping) else (steps_spec or default)
        )
        if len(steps) < len(values):
            raise _err(rule.path, f"example: {metric} has {len(values)} points but only {len(steps)} steps")
        vals = [math.nan if v is None else float(v) for v in values]
        src.metrics[metric] = Series.from_points(steps[: len(vals)], vals)
    for metric in src.metrics:
        src.metrics[metric] = src.metrics[metric].sorted()
    config = {"hyperparams": dict(example.get("hyperparams") or {}), "algo": algo}
    run = build_run(Path(f"examples/{rule.id}"), algo, [src], config)
    run.facts.update(example.get("facts") or {})
    if run.algo != algo:
        run.algo = algo
        run.hyperparams = recover_hyperparams(run, config)
    return run
