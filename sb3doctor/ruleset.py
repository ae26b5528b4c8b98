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
OPTIONAL = ("requires", "metric", "escalate", "evidence")
#: What a rule's ``evidence:`` may label: the observed statistic, its threshold and the window.
EVIDENCE_KEYS = ("observed", "threshold", "window")
TEXT_FIELDS = ("message", "why", "false_alarms")
MESSAGE_FIELDS = ("observed", "threshold", "n", "window", "metric", "step_from", "step_to", "hp", "ref",
                  "cond")  # fmt: skip
ADVICE_KEYS = ("param", "scale", "set", "add", "min", "max", "default", "if_zero_set", "text", "reference",
               "when")  # fmt: skip
_WHEN_KEYS = ("metric", "env", "hyperparams")
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
    "threshold": (("stat", "op", "value"), ("window", "min_points")),
    "sustained": (("op", "value"), ("window", "fraction", "consecutive", "min_points")),
    "trend": (("op", "value"), ("window", "scale", "min_points")),
    "spike": (("factor",), ("lookback", "abs", "window", "min_points")),
    "drop_from_peak": (("op", "value"), ("window", "min_rise", "baseline", "min_points")),
    "plateau": (("value",), ("window", "below_best", "min_points", "eps", "op")),
    "frozen": ((), ("tolerance", "min_points", "min_step_advance", "min_step_advance_x", "window")),
    "missing": ((), ("present", "min_points")),
    "non_finite": ((), ("metrics", "window")),
    "ratio_to_bound": (("stat", "bound", "op", "value"), ("negate", "window", "min_points")),
    "counter_ratio": (("of", "stat", "op", "value"), ("window", "min_points")),
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
        ),
    ),
    "vs_reference": (("param", "op", "value"), ()),
    "budget": ((), ("min_frac", "else_min_steps", "min_steps", "budget")),
    "growth": (("stat", "op", "value"), ("early", "late", "abs", "min_points")),
}
_NUMBER_KEYS = ("value", "min_points", "fraction", "consecutive", "factor", "lookback", "min_rise",
                "eps", "tolerance", "min_step_advance", "min_step_advance_x", "min_budget_frac",
                "max_budget_frac", "min_steps", "min_frac", "else_min_steps")  # fmt: skip
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
    "budget": ("fastest", "own"),
    "bound": ("ln_n_actions", "first", "early", "upper", "lower", "mean"),
}
_REQUIRE_OPS = ("==", "!=", "<", "<=", ">", ">=", "in")
#: Kinds whose window must hold at least min_points points.
_USES_MIN_POINTS = ("threshold", "sustained", "trend", "drop_from_peak", "ratio_to_bound", "counter_ratio")


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
    escalate: dict[str, Any] | None = None
    #: ``observed``/``threshold``/``window`` -> localized template: how the evidence reads,
    #: with its unit (a share of updates, a number of steps), where a bare number would mislead.
    evidence: dict[str, dict[str, str]] = field(default_factory=dict)
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
        """One line: the first sentence of ``why``."""
        why = self.text("why", lang).strip().replace("\n", " ")
        m = re.search(r"(?<=[.!?])\s|(?<=[。！？])", why)
        return why[: m.start()].strip() if m else why


def _err(path: Path | None, msg: str) -> ConfigError:
    return ConfigError(msg, path)


def _localized(value: Any, key: str, path: Path | None) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if isinstance(value, Mapping) and isinstance(value.get("en"), str):
        bad = [k for k in value if k not in ("en", "zh")]
        if bad:
            raise _err(path, f"{key}: unknown language {bad[0]!r} (use en, zh)")
        if not all(isinstance(v, str) for v in value.values()):
            raise _err(path, f"{key}: every translation must be a string")
        return dict(value)
    raise _err(path, f"{key}: expected a string or {{en: ..., zh: ...}}")


def check_format(template: str, where: str, path: Path | None, extra: Iterable[str] = ()) -> None:
    """Reject a message template whose fields the engine cannot fill."""
    allowed = set(MESSAGE_FIELDS) | set(extra)
    try:
        for _, fname, spec, conversion in string.Formatter().parse(template):
            if fname is None:
                continue
            m = _FIELD_RE.match(fname)
            root = m.group(1) if m else None
            # A field is a plain name, or hp[name] / ref[name]: no attribute access, no
            # other indexing, so a rule file can never reach into Python objects.
            if root not in allowed or (m and m.group(2) and root not in _INDEXED_FIELDS):
                raise _err(
                    path,
                    f"{where}: unknown field {{{fname}}} (allowed: {', '.join(sorted(allowed))}, "
                    "hp[NAME], ref[NAME], cond[NAME])",
                )
            if conversion is not None:
                raise _err(path, f"{where}: field {{{fname}}}: conversions (!r, !s) are not allowed")
            if spec and not _SPEC_RE.match(spec):
                raise _err(path, f"{where}: field {{{fname}}}: format spec {spec!r} is not allowed "
                           "(use e.g. .3g, .0%, .1f, >8)")  # fmt: skip
    except ValueError as exc:
        raise _err(path, f"{where}: bad format string ({exc})") from None


def validate_window(window: Any, where: str, path: Path | None) -> None:
    """``all``, or a one-key mapping of ``last``/``first`` (int) or ``last_frac``/``from_frac`` (0-1)."""
    if window is None or window == "all":
        return
    if not isinstance(window, Mapping) or len(window) != 1:
        raise _err(path, f"{where}: window must be 'all' or one of {{last: N}}, {{first: N}}, "
                   "{last_frac: F}, {from_frac: F}")  # fmt: skip
    key, arg = next(iter(window.items()))
    if key not in _WINDOW_KEYS:
        raise _err(path, f"{where}: unknown window {key!r} (use {', '.join(_WINDOW_KEYS)})")
    if _WINDOW_KEYS[key] is int:
        if not isinstance(arg, int) or isinstance(arg, bool) or arg < 1:
            raise _err(path, f"{where}: window {key} needs a positive integer")
    elif not isinstance(arg, (int, float)) or isinstance(arg, bool) or not 0 <= arg <= 1:
        raise _err(path, f"{where}: window {key} needs a fraction between 0 and 1")


def validate_condition(cond: Any, where: str, path: Path | None, *, has_metric: bool) -> None:
    """Check one condition (recursively for combinators) against the closed set of kinds."""
    if not isinstance(cond, Mapping):
        raise _err(path, f"{where}: a condition must be a mapping")
    kind = kind_of(cond)
    if kind not in KINDS:
        raise _err(path, f"{where}: unknown condition kind {kind or '(none)'!r} (use {', '.join(KINDS)})")
    if kind in COMBINATORS:
        allowed = {"kind", kind, "conditions", "condition"}
        extra = [k for k in cond if k not in allowed]
        if extra:
            raise _err(path, f"{where}: unknown key {extra[0]!r} in {kind}")
        subs = sub_conditions(cond)
        if not subs or (kind == "not" and len(subs) != 1):
            raise _err(
                path, f"{where}: {kind} needs {'one condition' if kind == 'not' else 'a list of conditions'}"
            )
        for i, sub in enumerate(subs):
            validate_condition(sub, f"{where}.{kind}[{i}]", path, has_metric=has_metric)
        return
    required, optional = _COND_KEYS[kind]
    for key in cond:
        if key not in ("kind", "metric", *required, *optional):
            raise _err(path, f"{where}: unknown key {key!r} for kind {kind}")
    for key in required:
        if key not in cond:
            raise _err(path, f"{where}: kind {kind} needs {key!r}")
    if kind == "non_finite":
        if not (has_metric or "metric" in cond or "metrics" in cond):
            raise _err(path, f"{where}: non_finite needs 'metrics' or a metric")
    elif not (has_metric or "metric" in cond):
        raise _err(path, f"{where}: no metric (give the rule a 'metric' or the condition one)")
    for key in _NUMBER_KEYS:
        if key in cond:
            v = cond[key]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                hint = " (YAML reads 1e-3 as text: write 0.001 or 1.0e-3)" if isinstance(v, str) else ""
                raise _err(path, f"{where}: {key} must be a finite number, not {v!r}{hint}")
    for key, choices in _CHOICES.items():
        if key in cond and cond[key] not in choices:
            raise _err(path, f"{where}: {key} must be one of {', '.join(map(str, choices))}")
    validate_window(cond.get("window"), where, path)
    window = cond.get("window")
    if isinstance(window, Mapping) and len(window) == 1:
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
            raise _err(
                path,
                f"{where}: window {{{wkey}: {warg}}} holds fewer points than min_points "
                f"({min_points:g}), so the condition can never hold: set min_points to at most the window",
            )
    for key in ("early", "late"):
        if key in cond:
            validate_window(cond[key], f"{where}.{key}", path)
    for key in ("metric", "of"):
        if key in cond and not isinstance(cond[key], str):
            raise _err(path, f"{where}: {key} must be a metric name")
    for key in ("present", "metrics"):
        if key in cond:
            v = cond[key]
            if not (isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(x, str) for x in v))):
                raise _err(path, f"{where}: {key} must be a metric name or a list of them")


def _validate_requires(requires: Any, path: Path | None) -> dict[str, Any]:
    if requires is None:
        return {}
    if not isinstance(requires, Mapping):
        raise _err(path, "requires: expected a mapping of hyperparameter -> value or {op: value}")
    for key, want in requires.items():
        if isinstance(want, Mapping) and (len(want) != 1 or next(iter(want)) not in _REQUIRE_OPS):
            raise _err(path, f"requires.{key}: use one of {', '.join(_REQUIRE_OPS)} as the only key")
    return dict(requires)


def _validate_advice(advice: Any, path: Path | None) -> list[dict[str, Any]]:
    if not isinstance(advice, list) or not advice:
        raise _err(path, "advice: expected a non-empty list")
    out = []
    for i, item in enumerate(advice):
        where = f"advice[{i}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("param"), str):
            raise _err(path, f"{where}: each item needs a 'param'")
        for key in item:
            if key not in ADVICE_KEYS:
                raise _err(path, f"{where}: unknown key {key!r} (use {', '.join(ADVICE_KEYS)})")
        actions = [k for k in ("scale", "set", "add") if k in item]
        if len(actions) > 1:
            raise _err(path, f"{where}: use only one of scale, set, add")
        if not actions and "text" not in item:
            raise _err(path, f"{where}: needs scale, set, add or text")
        for key in ("scale", "add", "min", "max"):
            if key in item and (not isinstance(item[key], (int, float)) or isinstance(item[key], bool)):
                raise _err(path, f"{where}: {key} must be a number")
        when = item.get("when")
        if when is not None:
            if not isinstance(when, Mapping) or not when or any(k not in _WHEN_KEYS for k in when):
                raise _err(path, f"{where}.when: a mapping of {', '.join(_WHEN_KEYS)}")
            if "hyperparams" in when:
                _validate_requires(when["hyperparams"], path)
        if "reference" in item and not isinstance(item["reference"], bool):
            raise _err(path, f"{where}.reference: true or false")
        entry = dict(item)
        if "text" in item:
            entry["text"] = _localized(item["text"], f"{where}.text", path)
            for text in entry["text"].values():
                check_format(text, f"{where}.text", path, extra=("current", "suggested", "param"))
        out.append(entry)
    return out


def _validate_evidence(evidence: Any, path: Path | None) -> dict[str, dict[str, str]]:
    """``evidence: {observed: TEXT, threshold: TEXT, window: TEXT}``, each optional and localized."""
    if evidence is None:
        return {}
    if not isinstance(evidence, Mapping) or not evidence:
        raise _err(path, f"evidence: expected a mapping of {', '.join(EVIDENCE_KEYS)}")
    out: dict[str, dict[str, str]] = {}
    for key, value in evidence.items():
        if key not in EVIDENCE_KEYS:
            raise _err(path, f"evidence: unknown key {key!r} (use {', '.join(EVIDENCE_KEYS)})")
        out[key] = _localized(value, f"evidence.{key}", path)
        for template in out[key].values():
            check_format(template, f"evidence.{key}", path)
    return out


def _validate_examples(examples: Any, path: Path | None) -> list[dict[str, Any]]:
    if not isinstance(examples, list) or not examples:
        raise _err(path, "examples: expected a non-empty list")
    for i, ex in enumerate(examples):
        where = f"examples[{i}]"
        if not isinstance(ex, Mapping):
            raise _err(path, f"{where}: expected a mapping")
        for key in ex:
            if key not in EXAMPLE_KEYS:
                raise _err(path, f"{where}: unknown key {key!r} (use {', '.join(EXAMPLE_KEYS)})")
        if ex.get("expect") not in ("fire", "quiet"):
            raise _err(path, f"{where}: expect must be fire or quiet")
        series = ex.get("series", {})
        if not isinstance(series, Mapping):
            raise _err(path, f"{where}: series must map metric names to lists of numbers")
        for metric, values in series.items():
            if not isinstance(values, list):
                raise _err(path, f"{where}: series {metric}: expected a list of numbers")
            for v in values:
                if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool)):
                    # PyYAML reads 1e3 (no dot) as a string: say so, it is an easy trap.
                    raise _err(
                        path, f"{where}: series {metric}: {v!r} is not a number (write 1000 or 1.0e+3)"
                    )
        if "severity" in ex and ex["severity"] not in SEVERITIES:
            raise _err(path, f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    return [dict(ex) for ex in examples]


def parse_rule(data: Any, path: Path | None = None) -> Rule:
    """Validate one parsed rule mapping and build a :class:`Rule`.

    :raises ConfigError: the rule breaks the schema (the message names the key)
    """
    if not isinstance(data, Mapping):
        raise _err(path, "a rule file must hold one mapping")
    for key in data:
        if key not in REQUIRED and key not in OPTIONAL:
            raise _err(path, f"unknown key {key!r}")
    for key in REQUIRED:
        if key not in data:
            raise _err(path, f"missing required key {key!r}")
    rid = data["id"]
    if not isinstance(rid, str) or not _ID_RE.match(rid):
        raise _err(path, f"id {rid!r} must be upper-case words joined by '-', e.g. PPO-KL-HIGH")
    if not isinstance(data["name"], str) or not _NAME_RE.match(data["name"]):
        raise _err(path, f"name {data['name']!r} must be kebab-case, e.g. approx-kl-too-high")
    if data["category"] not in CATEGORIES:
        raise _err(path, f"unknown category {data['category']!r} (see rules/SCHEMA.md)")
    if data["severity"] not in SEVERITIES:
        raise _err(path, f"severity must be one of {', '.join(SEVERITIES)}")
    applies = data["applies_to"]
    if isinstance(applies, str):
        applies = [applies]
    if not isinstance(applies, list) or not applies:
        raise _err(path, "applies_to: expected a list of algorithms or [all]")
    for algo in applies:
        if algo != "all" and algo not in ALGORITHMS:
            raise _err(path, f"applies_to: unknown algorithm {algo!r} (use {', '.join(ALGORITHMS)} or all)")
    metric = data.get("metric")
    if metric is not None and not isinstance(metric, str):
        raise _err(path, "metric must be a metric name")
    validate_condition(data["condition"], "condition", path, has_metric=metric is not None)
    escalate = data.get("escalate")
    if escalate is not None:
        if not isinstance(escalate, Mapping) or set(escalate) != {"severity", "condition"}:
            raise _err(path, "escalate: needs exactly 'severity' and 'condition'")
        if escalate["severity"] not in SEVERITIES:
            raise _err(path, f"escalate.severity must be one of {', '.join(SEVERITIES)}")
        validate_condition(escalate["condition"], "escalate.condition", path, has_metric=metric is not None)
    texts = {k: _localized(data[k], k, path) for k in TEXT_FIELDS}
    for template in texts["message"].values():
        check_format(template, "message", path)
    evidence = _validate_evidence(data.get("evidence"), path)
    sources = data["sources"]
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s for s in sources):
        raise _err(path, "sources: expected a non-empty list of strings")
    return Rule(
        id=rid,
        name=data["name"],
        category=data["category"],
        severity=data["severity"],
        applies_to=tuple(applies),
        condition=dict(data["condition"]),
        message=texts["message"],
        why=texts["why"],
        false_alarms=texts["false_alarms"],
        advice=_validate_advice(data["advice"], path),
        sources=list(sources),
        examples=_validate_examples(data["examples"], path),
        metric=metric,
        requires=_validate_requires(data.get("requires"), path),
        escalate=dict(escalate) if escalate is not None else None,
        evidence=evidence,
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
        self.entries: dict[str, Any] = {}
        self.used: set[str] = set()
        self.dirty = False
        if self.path is not None:
            try:
                # Only a regular file, and never more than a few MB: a FIFO put in its place
                # must not block every command.
                st = os.stat(self.path)
                if stat.S_ISREG(st.st_mode) and st.st_size < 8 << 20:
                    loaded = json.loads(self.path.read_text(encoding="utf-8"))
                    if isinstance(loaded, dict):
                        self.entries = loaded
            except (OSError, ValueError, RecursionError):
                pass

    @staticmethod
    def _location() -> Path | None:
        if os.environ.get("SB3DOCTOR_NO_CACHE"):
            return None
        xdg = os.environ.get("XDG_CACHE_HOME")
        # The XDG spec: a relative XDG_CACHE_HOME is invalid and must be ignored (it would put
        # a cache folder inside whatever folder the user runs sb3doctor from, e.g. the logs).
        base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base) / "sb3doctor" / "parsed-rules-v2.json"

    @staticmethod
    def _digest(key: str, data: Any) -> str:
        # Each entry carries a hash of its file hash and its data: an entry edited by hand (or
        # half-written) no longer matches and is parsed again from the rule file.
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        return hashlib.blake2b(f"{__version__}:{key}:{text}".encode(), digest_size=16).hexdigest()

    @staticmethod
    def _key(raw: bytes) -> str:
        return hashlib.blake2b(raw, digest_size=16).hexdigest()

    def get(self, raw: bytes) -> Any:
        key = self._key(raw)
        entry = self.entries.get(key)
        if not isinstance(entry, dict) or entry.get("digest") != self._digest(key, entry.get("data")):
            return None
        self.used.add(key)
        return entry["data"]

    def put(self, raw: bytes, data: Any) -> None:
        # Only plain JSON data round-trips exactly (YAML could give int keys or dates).
        if _plain_json(data):
            key = self._key(raw)
            self.entries[key] = {"data": data, "digest": self._digest(key, data)}
            self.used.add(key)
            self.dirty = True

    def save(self) -> None:
        if not self.dirty or self.path is None:
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
