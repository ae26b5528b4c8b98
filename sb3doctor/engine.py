"""Apply rules to a run: filter by algorithm and hyperparameters, evaluate, escalate, render.

``evaluate(run, rules)`` is pure: the run's metric table and hyperparameters in, findings
out. Messages and advice are rendered here with the run's own numbers, so
``{param: learning_rate, scale: 0.5}`` becomes ``learning_rate 3e-4 -> 1.5e-4``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from sb3doctor.conditions import Context, Evidence
from sb3doctor.conditions import evaluate as evaluate_condition
from sb3doctor.i18n import describe_window, t
from sb3doctor.model import Advice, Finding, Run
from sb3doctor.model import is_number as _is_number
from sb3doctor.plan import make_plan

if TYPE_CHECKING:  # pragma: no cover
    from sb3doctor.config import Config
    from sb3doctor.ruleset import Rule


def fmt_num(x: Any) -> str:
    """A number as a person writes it: ``3e-4``, ``1.5e-4``, ``0.2``, ``10``, ``0.0``, ``0.01``.

    Four significant digits at most (logged values are float32, so ``0.0003000000142``
    must read ``3e-4``); non-numbers are returned with ``str``.
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0.0"
    a = abs(x)
    if a < 1e-3 or a >= 1e6:
        mantissa, exp = f"{x:.3e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exp)}"
    s = f"{x:.4g}"
    if "e" in s:  # .4g switches to exponent notation for 1e4..1e6
        s = str(round(x))
    return s


def _json_value(x: Any) -> Any:
    # Logged values are float32: keep 6 significant digits so JSON says 0.0003, not 0.0003000000142.
    if isinstance(x, float) and math.isfinite(x) and x != 0:
        return float(f"{x:.6g}")
    return x


class _Val:
    """Formats like its value, but ``None`` prints as ``?`` and an empty spec uses :func:`fmt_num`."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        if self.value is None:
            return "?"
        if not spec:
            return fmt_num(self.value)
        try:
            return format(self.value, spec)
        except (ValueError, TypeError):
            return fmt_num(self.value)

    def __str__(self) -> str:
        return format(self, "")


class _HP(dict):
    """``{hp[name]}`` in a message: unknown hyperparameters print as ``?``."""

    def __missing__(self, key: str) -> _Val:
        return _Val(None)


def message_fields(
    ev: Evidence, run: Run, lang: str, reference: Any = None, condition: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``str.format`` fields a rule message may use (see SCHEMA.md, "Message fields").

    :param reference: the run's :class:`~sb3doctor.reference.RunReference`, if computed; its
        numbers and the condition's own (``ev.extra``) fill ``{ref[...]}``
    :param condition: the condition that decided the finding; its numeric parameters fill
        ``{cond[...]}`` (``{cond[fraction]:.0%}``), so a text follows a configured override
    """
    cond = {k: _Val(v) for k, v in (condition or {}).items() if _is_number(v)}
    ref: dict[str, Any] = dict(reference.fields()) if reference is not None else {}
    ref.update(ev.extra)
    return {
        "ref": _HP({k: _Val(v) for k, v in ref.items()}),
        "observed": _Val(ev.observed),
        "threshold": _Val(ev.threshold),
        "n": ev.n,
        # The points actually used: a run with 19 updates has no "last 20".
        "window": describe_window(ev.window, lang, n=ev.n),
        "metric": ev.metric or "",
        "step_from": _Val(ev.steps[0] if ev.steps else None),
        "step_to": _Val(ev.steps[1] if ev.steps else None),
        "hp": _HP({k: _Val(v) for k, v in run.hyperparams.items()}),
        "cond": _HP(cond),
        # the ``shows`` texts of the condition's parts that held: which evidence decided
        "shown": ("；" if lang == "zh" else "; ").join(t.get(lang) or t["en"] for t in ev.shown),
    }


#: An advised value this many times past the reference is replaced by the reference itself:
#: halving a learning rate 170x SB3's default still leaves it 85x too high.
REFERENCE_FACTOR = 3.0


def _bound_by_reference(
    current: Any, suggested: Any, param: str, run: Run, reference: Any, lang: str
) -> tuple[Any, str]:
    """Pull a scaled suggestion to the reference value when the current value is far off it."""
    if not (_is_number(current) and _is_number(suggested)) or current <= 0:
        return suggested, ""
    target, note = reference_target(param, run, reference, lang)
    if target is None or target <= 0:
        return suggested, ""
    lowering, raising = suggested < current, suggested > current
    far = (lowering and current > REFERENCE_FACTOR * target) or (
        raising and current < target / REFERENCE_FACTOR
    )
    if not far:
        return suggested, ""
    return target, f" ({note})"


def reference_target(param: str, run: Run, reference: Any, lang: str) -> tuple[float | None, str]:
    """The value of ``param`` known to work for the run (rl-zoo's for its algorithm and env,
    else SB3's default) and a note saying which it is; ``(None, "")`` when neither is known."""
    from sb3doctor.knowledge import reference_values

    env_id = getattr(reference, "env_id", None)
    default, zoo = reference_values(run.algo or "", env_id, param)
    if zoo is not None:
        note = t("zoo_value", lang).format(env=env_id)
        if default is not None and default != zoo:
            note = f"{note}; {t('sb3_default', lang)} {fmt_num(default)}"
        return zoo, note
    if default is not None:
        return default, t("sb3_default", lang)
    return None, ""


def _advice_applies(spec: Mapping[str, Any], run: Run, reference: Any) -> bool:
    """An advice item's ``when`` guard: the run uses the feature the advice is about."""
    when = spec.get("when")
    if not when:
        return True
    if "metric" in when and not any(fnmatchcase(m, when["metric"]) for m in run.metrics):
        return False
    if "env" in when:
        envs = when["env"] if isinstance(when["env"], list) else [when["env"]]
        env_id = getattr(reference, "env_id", None)
        if env_id is None or not any(fnmatchcase(env_id, e) for e in envs):
            return False
    if "pixels" in when and sees_pixels(run, reference) != when["pixels"]:
        return False
    return not ("hyperparams" in when and not requirements_met(when["hyperparams"], run.hyperparams))


def sees_pixels(run: Run, reference: Any = None) -> bool:
    """Whether the run's policy learns from images: a CNN policy (rl-zoo's config, ``sb3doctor
    train``, the callback's model), or an Atari game by its id."""
    policy = run.hyperparams.get("policy")
    if isinstance(policy, str) and "Cnn" in policy:
        return True
    env_id = getattr(reference, "env_id", None)
    if env_id is None:
        from sb3doctor.reference import detect_env_id

        env_id = detect_env_id(run)[0]
    if not isinstance(env_id, str):
        return False
    from sb3doctor.knowledge import is_atari

    return is_atari(env_id)


def _foreign(param: str, run: Run) -> bool:
    """Advice about a constructor argument the run's algorithm does not have (``ent_coef`` for
    TRPO), which the user could not follow."""
    if not run.algo:
        return False
    from sb3doctor.knowledge import foreign_parameter

    return foreign_parameter(run.algo, param)


def is_noop(advice: Advice) -> bool:
    """Advice that would leave the value as it is (``ent_coef 0.0 -> 0.0``)."""
    cur, sug = advice.current, advice.suggested
    if cur is None or sug is None:
        return False
    if _is_number(cur) and _is_number(sug):
        return math.isclose(float(cur), float(sug), rel_tol=1e-9, abs_tol=1e-15)
    return str(cur) == str(sug)


def render_advice(
    spec: Mapping[str, Any],
    hyperparams: Mapping[str, Any],
    fields: dict[str, Any],
    lang: str,
    run: Run | None = None,
    reference: Any = None,
) -> Advice:
    """One advice item with the run's value: ``{param: lr, scale: 0.5}`` -> ``lr 3e-4 -> 1.5e-4``.

    ``default`` is the library default assumed when the logs do not tell the current value;
    without it an unknown value gives relative advice (``learning_rate x0.5 (current value
    not in the logs)``).
    """
    param = spec["param"]
    known = param in hyperparams
    default = spec.get("default")
    if "default" in spec and run is not None and run.algo:
        from sb3doctor.knowledge import library_default

        # Where the rule assumes the library default, it is the run's own algorithm's, not the
        # one the rule names (RecurrentPPO's batch_size is 128, PPO's 64; TD3's policy_delay is
        # already 2). A rule without `default` keeps its advice relative ("x0.5").
        is_argument, library = library_default(run.algo, param)
        if is_argument:
            default = library
    current = hyperparams.get(param, default)
    suggested: Any = None
    head: str
    if "set" in spec:
        suggested = spec["set"]
        # `set: null` means "remove the setting": say so rather than print Python's None.
        shown = t("unset", lang) if suggested is None else fmt_num(suggested)
        head = f"{param} {fmt_num(current)} -> {shown}" if current is not None else f"{param} -> {shown}"
    elif ("scale" in spec or "add" in spec) and _is_number(current):
        if "scale" in spec:
            suggested = current * spec["scale"]
            # Scaling 0 does nothing and scaling a negative value (a negative entropy bonus,
            # which penalises exploration) goes the wrong way: start from the given value.
            if current <= 0 and "if_zero_set" in spec:
                suggested = spec["if_zero_set"]
        else:
            suggested = current + spec["add"]
        if "min" in spec:
            suggested = max(suggested, spec["min"])
        if "max" in spec:
            suggested = min(suggested, spec["max"])
        if isinstance(current, int) and not isinstance(current, bool):
            suggested = max(1, round(suggested)) if current > 0 else round(suggested)
        note = ""
        if spec.get("reference") and run is not None:
            suggested, note = _bound_by_reference(current, suggested, param, run, reference, lang)
        head = f"{param} {fmt_num(current)} -> {fmt_num(suggested)}{note}"
    elif "scale" not in spec and "add" not in spec and spec.get("reference") and run is not None:
        # `reference: true` alone: back to the value known to work for this algorithm and env.
        suggested, note = reference_target(param, run, reference, lang)
        if suggested is None:
            head = param
        else:
            shown = fmt_num(current) if current is not None else "?"
            head = f"{param} {shown} -> {fmt_num(suggested)} ({note})"
    elif "scale" in spec:
        head = f"{param} x{fmt_num(spec['scale'])} ({t('not_in_logs', lang)})"
    elif "add" in spec:
        add = spec["add"]
        head = f"{param} {'+' if add >= 0 else ''}{fmt_num(add)} ({t('not_in_logs', lang)})"
    else:
        head = param
    if not known and current is not None and ("scale" in spec or "add" in spec):
        head += f" ({t('assumed_default', lang)})"
    text = head
    custom = spec.get("text")
    if custom:
        template = custom.get(lang) or custom["en"]
        extra = {"current": _Val(current), "suggested": _Val(suggested), "param": param}
        body = template.format(**fields, **extra)
        # A text that spells out the numbers itself stands alone; otherwise it follows them.
        text = body if ("{current" in template or "{suggested" in template) else f"{head}: {body}"
    return Advice(param=param, current=_json_value(current), suggested=_json_value(suggested), text=text)


_REQUIRE_OPS: dict[str, Any] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda have, ref: have in ref,
}


def requirements_met(requires: Mapping[str, Any], hyperparams: Mapping[str, Any]) -> bool:
    """Whether the run's hyperparameters satisfy a rule's ``requires`` (unknown -> not met)."""
    for key, want in requires.items():
        if want is None:  # `key: null`: the hyperparameter must be unknown (absent)
            if key in hyperparams:
                return False
            continue
        if key not in hyperparams:
            return False
        have = hyperparams[key]
        if isinstance(want, Mapping):
            op, ref = next(iter(want.items()))
            try:
                ok = bool(_REQUIRE_OPS[op](have, ref))
            except TypeError:
                ok = False
            if not ok:
                return False
        elif have != want:
            return False
    return True


def evaluate_rule(
    rule: Rule,
    run: Run,
    step_range: tuple[int, int] | None = None,
    lang: str = "en",
    cache: dict[Any, Any] | None = None,
    reference_of: Any = None,
) -> Finding | None:
    """The finding of one rule on one run, or None when it does not apply or hold.

    :param cache: shared by the rules of one pass over an unchanged run (see :func:`evaluate`),
        so that what many rules derive from one series is derived once
    :param reference_of: returns the run's reference numbers (see :func:`reference_getter`)
    """
    if reference_of is None:
        reference_of = reference_getter(run)
    if not rule.applies(run.algo) or not requirements_met(rule.requires, run.hyperparams):
        return None
    if rule.pixels is not None and sees_pixels(run, reference_of()) != rule.pixels:
        return None
    ctx = Context(
        run.metrics,
        step_range if step_range is not None else run.step_range(),
        run.hyperparams,
        rule.metric,
        cache if cache is not None else {},
        reference_of,
        run.algo,
        run.live,
    )
    ev = evaluate_condition(rule.condition, ctx)
    if not ev.held:
        return None
    severity = rule.severity
    decided_by = rule.condition
    if rule.escalate is not None and not rule.severity_overridden:
        stricter = evaluate_condition(rule.escalate["condition"], ctx)
        if stricter.held:
            # {shown}: what the condition found, then what the escalation adds to it
            stricter.shown = (*ev.shown, *(t for t in stricter.shown if t not in ev.shown))
            severity, ev = rule.escalate["severity"], stricter
            decided_by = rule.escalate["condition"]
    reference = reference_of() if reference_of is not None and _needs_reference(rule) else None
    fields = message_fields(ev, run, lang, reference, decided_by)
    evidence = {key: (text.get(lang) or text["en"]).format(**fields) for key, text in rule.evidence.items()}
    advice = [
        render_advice(a, run.hyperparams, fields, lang, run, reference)
        for a in rule.advice
        if _advice_applies(a, run, reference) and not _foreign(a["param"], run)
    ]
    return Finding(
        rule=rule.id,
        name=rule.name,
        category=rule.category,
        severity=severity,
        metric=ev.metric or rule.metric,
        message=rule.text("message", lang).format(**fields),
        observed=ev.observed,
        threshold=ev.threshold,
        window=evidence.pop("window", fields["window"]),
        steps=ev.steps,
        advice=[a for a in advice if not is_noop(a)],
        sources=list(rule.sources),
        evidence=evidence,
    )


def evaluate(
    run: Run, rules: list[Rule], config: Config | None = None, lang: str | None = None
) -> list[Finding]:
    """Every finding of ``rules`` on ``run``.

    :param config: when given, its disabled rules and overrides are applied first
    :param lang: ``en`` or ``zh`` for messages and advice (default: the config's, else ``en``)
    """
    if config is not None:
        rules = config.select(rules)
        lang = lang or config.lang
    lang = lang or "en"
    step_range = run.step_range()
    cache: dict[Any, Any] = {}  # per-series derived data, valid for this pass only
    reference_of = reference_getter(run)
    findings = []
    for rule in rules:
        finding = evaluate_rule(rule, run, step_range, lang, cache, reference_of)
        if finding is not None:
            findings.append(finding)
    return make_plan(findings)


def _needs_reference(rule: Rule) -> bool:
    """Whether a finding of ``rule`` needs the run's reference numbers to be rendered."""
    if any("{ref[" in text for text in rule.message.values()):
        return True
    return any(a.get("reference") or "env" in (a.get("when") or {}) for a in rule.advice)


def reference_getter(run: Run) -> Any:
    """A function returning the run's :class:`~sb3doctor.reference.RunReference`, computed once.

    Lazy on purpose: the knowledge files are read only when a rule or advice asks.
    """
    memo: list[Any] = []

    def get() -> Any:
        if not memo:
            from sb3doctor.reference import run_reference

            memo.append(run_reference(run))
        return memo[0]

    return get
