"""``sb3doctor explain ID``: one rule's full documentation as plain text.

Everything comes from the rule file: the condition is described in words, the advice
is shown the way the engine applies it (``learning_rate x0.5``), and every example is
evaluated so the reader sees that it really fires or stays quiet.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from sb3doctor.conditions import kind_of, sub_conditions
from sb3doctor.engine import fmt_num
from sb3doctor.i18n import describe_window, t
from sb3doctor.ruleset import Rule

_SKIP = ("kind", "metric", "window", "conditions", "condition", "all_of", "any_of", "not", "shows")


def _shows(cond: Mapping[str, Any], lang: str) -> str:
    """The condition's ``shows`` text, quoted, as its message would name it."""
    shows = cond.get("shows")
    if shows is None:
        return ""
    text = shows if isinstance(shows, str) else shows.get(lang) or shows["en"]
    return f' ["{text}"]'


_SUBJECT = {"return_level": "episode returns", "budget": "steps", "vs_reference": ""}


def describe_condition(cond: Mapping[str, Any], metric: str | None, lang: str = "en") -> str:
    """A condition in one line, e.g. ``threshold on train/approx_kl: median > 0.05 (last 10 points, ...)``."""
    kind = kind_of(cond)
    if kind in ("all_of", "any_of", "not"):
        joiner = {"all_of": " AND ", "any_of": " OR "}.get(kind, "")
        inner = [describe_condition(c, metric, lang) for c in sub_conditions(cond)]
        text = f"NOT ({inner[0]})" if kind == "not" else "(" + joiner.join(inner) + ")"
        return text + _shows(cond, lang)
    # return_level judges the episode returns and budget the steps, whatever the rule's metric
    # is; vs_reference a hyperparameter (its `param`, listed below)
    name = cond.get("metric") or _SUBJECT.get(kind, metric) or ""
    parts = []
    if "stat" in cond and "op" in cond:
        parts.append(f"{cond['stat']} {cond['op']} {fmt_num(cond['value'])}")
    elif "op" in cond and "value" in cond:
        parts.append(f"{cond['op']} {fmt_num(cond['value'])}")
    for key, value in cond.items():
        if key in _SKIP or key in ("stat", "op", "value"):
            continue
        parts.append(f"{key}={fmt_num(value) if isinstance(value, (int, float)) else value}")
    parts.append(describe_window(cond.get("window"), lang))
    head = f"{kind} {name}" if name else kind
    return f"{head}: " + ", ".join(parts) + _shows(cond, lang)


def describe_advice(spec: Mapping[str, Any], lang: str = "en") -> str:
    """An advice item as the engine applies it: ``learning_rate x0.5``, ``n_epochs -5 (min 1)``."""
    param = spec["param"]
    if "scale" in spec:
        head = f"{param} x{fmt_num(spec['scale'])}"
        if "if_zero_set" in spec:
            head += f" (0 -> {fmt_num(spec['if_zero_set'])})"
    elif "add" in spec:
        head = f"{param} {'+' if spec['add'] >= 0 else ''}{fmt_num(spec['add'])}"
    elif "set" in spec:
        head = f"{param} -> {fmt_num(spec['set'])}"
    elif spec.get("reference"):
        head = f"{param} -> {t('reference_value', lang)}"
    else:
        head = param
    if spec.get("reference") and ("scale" in spec or "add" in spec):
        head += f" ({t('reference_bound', lang)})"
    bounds = [f"{k} {fmt_num(spec[k])}" for k in ("min", "max", "default") if k in spec]
    if bounds:
        head += f" ({', '.join(bounds)})"
    text = spec.get("text")
    return f"{head}: {text.get(lang) or text['en']}" if text else head


def _wrap(text: str, indent: str = "  ") -> str:
    rest = " " * len(indent)
    return "\n".join(
        textwrap.fill(p, width=96, initial_indent=indent, subsequent_indent=rest)
        for p in text.split("\n")
        if p
    )


def explain_text(rule: Rule, lang: str = "en") -> str:
    """The documentation of ``rule`` in ``lang`` (English where a text has no translation)."""
    from sb3doctor.engine import evaluate
    from sb3doctor.ruleset import example_run

    out = [f"{rule.id}  {rule.name}", ""]
    out.append(f"{t('category', lang)}: {rule.category}")
    out.append(f"{t('severity', lang)}: {rule.severity}")
    out.append(f"{t('applies_to', lang)}: {', '.join(rule.applies_to)}")
    if rule.requires:
        out.append(f"{t('requires', lang)}: " + ", ".join(f"{k} {v}" for k, v in rule.requires.items()))
    if rule.metric:
        out.append(f"{t('metric', lang).capitalize()}: {rule.metric}")
    out.append(f"{t('condition', lang)}: {describe_condition(rule.condition, rule.metric, lang)}")
    if rule.escalate:
        cond = describe_condition(rule.escalate["condition"], rule.metric, lang)
        out.append(f"{t('escalate', lang)} {rule.escalate['severity']}: {cond}")
    if rule.path is not None:
        out.append(f"{t('file', lang)}: {rule.path}")
    out += ["", f"{t('message', lang)}:", _wrap(rule.text("message", lang))]
    out += ["", f"{t('why', lang)}:", _wrap(rule.text("why", lang))]
    out += ["", f"{t('false_alarms', lang)}:", _wrap(rule.text("false_alarms", lang))]
    out += ["", f"{t('advice', lang).capitalize()}:"]
    out += [_wrap(describe_advice(a, lang), "  - ") for a in rule.advice]
    out += ["", f"{t('sources', lang).capitalize()}:"]
    out += [f"  - {s}" for s in rule.sources]
    out += ["", f"{t('examples', lang)}:"]
    for ex in rule.examples:
        findings = evaluate(example_run(rule, ex), [rule], lang=lang)
        outcome = f"{t('fires', lang)} ({findings[0].severity})" if findings else t("quiet", lang)
        series = "; ".join(
            f"{m}: {', '.join(fmt_num(v) for v in vals)}" for m, vals in ex.get("series", {}).items()
        )
        hp = ex.get("hyperparams")
        extra = f"  hyperparams {hp}" if hp else ""
        out.append(
            f"  - {t('fires' if ex['expect'] == 'fire' else 'quiet', lang)} -> {outcome}: {series}{extra}"
        )
        if findings:
            out.append(f"      {findings[0].message}")
    return "\n".join(out) + "\n"
