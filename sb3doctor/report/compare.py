"""``sb3doctor compare``: is configuration B really better than A, given the seeds?

Each group's per-run final performance (:func:`~sb3doctor.report.data.final_performance`) is
summarised by its IQM and mean with 95% bootstrap intervals; every group after the first is
compared with the first: the interval of the difference B - A and the probability of
improvement P(B > A) with its interval. A group is *better* or *worse* only when the interval
of the difference excludes 0, so one unlucky seed does not flip the verdict.
"""

from __future__ import annotations

import glob
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sb3doctor.model import Finding, Run
from sb3doctor.report import stats
from sb3doctor.report.data import final_performance

BETTER, WORSE, SAME, TOO_FEW = "better", "worse", "no difference", "too few runs"


@dataclass
class Group:
    """One argument of ``compare``: its runs, their final returns and diagnoses."""

    label: str
    runs: list[Run]
    finals: list[float | None]
    findings: list[list[Finding]] = field(default_factory=list)
    metric: str | None = None

    @property
    def values(self) -> list[float]:
        """The finite final returns (runs without a return are left out)."""
        return [v for v in self.finals if v is not None and math.isfinite(v)]

    def diagnosis(self) -> list[tuple[str, str, int]]:
        """Root findings over the group's runs: (rule id, severity, number of runs), most runs first."""
        counts: Counter[str] = Counter()
        severity: dict[str, str] = {}
        for findings in self.findings:
            for f in {f.rule: f for f in findings if f.caused_by is None}.values():
                counts[f.rule] += 1
                severity.setdefault(f.rule, f.severity)
        order = {"error": 0, "warning": 1, "info": 2}
        return sorted(
            ((rule, severity[rule], n) for rule, n in counts.items()),
            key=lambda t: (-t[2], order.get(t[1], 3), t[0]),
        )


@dataclass
class Comparison:
    """The statistics of one group, and against the first group (None for the first)."""

    group: Group
    iqm: stats.Estimate | None
    mean: stats.Estimate | None
    diff_iqm: tuple[float, float] | None = None
    diff_mean: tuple[float, float] | None = None
    poi: float | None = None
    poi_ci: tuple[float, float] | None = None
    verdict: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        g = self.group
        return {
            "group": g.label,
            "runs": [r.name for r in g.runs],
            "final_returns": {r.name: _num(v) for r, v in zip(g.runs, g.finals, strict=True)},
            "metric": g.metric,
            "iqm": self.iqm.to_dict() if self.iqm else None,
            "mean": self.mean.to_dict() if self.mean else None,
            "difference_iqm_ci": _pair(self.diff_iqm),
            "difference_mean_ci": _pair(self.diff_mean),
            "probability_of_improvement": _num(self.poi),
            "probability_of_improvement_ci": _pair(self.poi_ci),
            "verdict": self.verdict,
            "diagnosis": [{"rule": r, "severity": s, "runs": n} for r, s, n in g.diagnosis()],
        }


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(f"{x:.6g}")


def _pair(ci: tuple[float, float] | None) -> list[float | None] | None:
    return [_num(ci[0]), _num(ci[1])] if ci else None


def expand(arg: str) -> list[str]:
    """The paths of one ``compare`` argument: itself when it exists, else its glob matches."""
    if Path(arg).exists() or not glob.has_magic(arg):
        return [arg]
    return sorted(glob.glob(arg))


def make_group(label: str, runs: list[Run], findings: list[list[Finding]]) -> Group:
    """A :class:`Group` with each run's final performance."""
    finals: list[float | None] = []
    metrics: list[str] = []
    for run in runs:
        value, metric = final_performance(run)
        finals.append(value)
        if metric:
            metrics.append(metric)
    metric = max(set(metrics), key=metrics.count) if metrics else None
    return Group(label, runs, finals, findings, metric)


def compare(groups: Sequence[Group], stat: str = "iqm") -> list[Comparison]:
    """Every group's IQM and mean; each later group against the first on ``stat``."""
    out: list[Comparison] = []
    base = groups[0].values if groups else []
    for i, g in enumerate(groups):
        vals = g.values
        c = Comparison(g, stats.estimate(vals, "iqm"), stats.estimate(vals, "mean"))
        if i > 0:
            c.diff_iqm = stats.difference_ci(base, vals, stats.iqm)
            c.diff_mean = stats.difference_ci(base, vals, stats.mean)
            c.poi = stats.probability_of_improvement(base, vals)
            c.poi_ci = stats.probability_of_improvement_ci(base, vals)
            ci = c.diff_iqm if stat == "iqm" else c.diff_mean
            if ci is None:
                c.verdict = TOO_FEW
            elif ci[0] > 0:
                c.verdict = BETTER
            elif ci[1] < 0:
                c.verdict = WORSE
            else:
                c.verdict = SAME
        out.append(c)
    return out


# --- rendering ------------------------------------------------------------------------------

_LABELS = {
    "group": {"en": "group", "zh": "组"},
    "runs": {"en": "runs", "zh": "运行数"},
    "iqm": {"en": "IQM [95% CI]", "zh": "IQM [95% 置信区间]"},
    "mean": {"en": "mean [95% CI]", "zh": "均值 [95% 置信区间]"},
    "diff": {"en": "{stat} diff vs first [95% CI]", "zh": "{stat} 与第一组之差 [95% 置信区间]"},
    "poi": {"en": "P(better than first) [95% CI]", "zh": "P(优于第一组) [95% 置信区间]"},
    "verdict": {"en": "verdict", "zh": "结论"},
    "diagnosis": {"en": "diagnosis (root causes)", "zh": "诊断（根本原因）"},
    "baseline": {"en": "baseline", "zh": "基准"},
    BETTER: {"en": "better", "zh": "更好"},
    WORSE: {"en": "worse", "zh": "更差"},
    SAME: {"en": "no difference", "zh": "无显著差异"},
    TOO_FEW: {"en": "too few runs (need 2+ per group)", "zh": "运行太少（每组至少 2 个）"},
    "healthy": {"en": "no problems found", "zh": "未发现问题"},
    "too_early": {"en": "too early to judge", "zh": "现在判断为时过早"},
    "title": {
        "en": "Final return: mean of the last 10% of episodes per run ({metric})",
        "zh": "最终回报：每个运行最后 10% 回合的平均值（{metric}）",
    },
}


def label(key: str, lang: str = "en") -> str:
    """A fixed text of the comparison in ``lang``."""
    entry = _LABELS[key]
    return entry.get(lang) or entry["en"]


def fmt(x: float | None) -> str:
    """A number for the table: 4 significant digits."""
    if x is None or not math.isfinite(x):
        return "-"
    from sb3doctor.engine import fmt_num

    return fmt_num(float(f"{x:.4g}"))


def fmt_est(e: stats.Estimate | None) -> str:
    """``value [low, high]`` (no interval for a single run)."""
    if e is None:
        return "-"
    return f"{fmt(e.value)} [{fmt(e.ci[0])}, {fmt(e.ci[1])}]" if e.ci else f"{fmt(e.value)} (n=1)"


def fmt_ci(value: float | None, ci: tuple[float, float] | None) -> str:
    """``value [low, high]``, or ``-``."""
    if ci is None:
        return "-" if value is None else fmt(value)
    return f"{fmt(value)} [{fmt(ci[0])}, {fmt(ci[1])}]"


def _clean_verdict(runs: Sequence[Run]) -> str:
    """``healthy`` for a group without findings, or ``too_early`` when no run of it holds
    enough for any check (see :func:`sb3doctor.reporters.run_evidence`)."""
    from sb3doctor.reporters import run_evidence

    return "healthy" if any(run_evidence(r).enough for r in runs) else "too_early"


def rows(
    comparisons: Sequence[Comparison], stat: str = "iqm", lang: str = "en", max_diag: int | None = None
) -> list[list[str]]:
    """The table as text cells, header first (``max_diag``: root findings listed per group, then ``+N``)."""
    header = [
        label("group", lang),
        label("runs", lang),
        label("iqm", lang),
        label("mean", lang),
        label("diff", lang).format(stat="IQM" if stat == "iqm" else label("mean", lang).split(" ")[0]),
        label("poi", lang),
        label("verdict", lang),
        label("diagnosis", lang),
    ]
    out = [header]
    for i, c in enumerate(comparisons):
        g = c.group
        base = c.iqm.value if stat == "iqm" and c.iqm else c.mean.value if c.mean else None
        first = comparisons[0]
        base0 = first.iqm.value if stat == "iqm" and first.iqm else first.mean.value if first.mean else None
        diff_value = base - base0 if i > 0 and base is not None and base0 is not None else None
        found = [f"{r} ({n}/{len(g.runs)})" for r, _, n in g.diagnosis()]
        if max_diag is not None and len(found) > max_diag:
            found = [*found[:max_diag], f"+{len(found) - max_diag}"]
        diag = ", ".join(found) or label(_clean_verdict(g.runs), lang)
        out.append(
            [
                g.label,
                str(len(g.values)) if len(g.values) == len(g.runs) else f"{len(g.values)}/{len(g.runs)}",
                fmt_est(c.iqm),
                fmt_est(c.mean),
                "-" if i == 0 else fmt_ci(diff_value, c.diff_iqm if stat == "iqm" else c.diff_mean),
                "-" if i == 0 else fmt_ci(c.poi, c.poi_ci),
                label("baseline", lang) if i == 0 else label(c.verdict or SAME, lang),
                diag,
            ]
        )
    return out


def render_terminal(comparisons: Sequence[Comparison], stat: str = "iqm", lang: str = "en") -> str:
    """A plain aligned table (cell widths, so Chinese lines up), one group per row."""
    from rich.cells import cell_len

    table = rows(comparisons, stat, lang, max_diag=3)
    metric = next((c.group.metric for c in comparisons if c.group.metric), "-")
    widths = [max(cell_len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = [label("title", lang).format(metric=metric), ""]
    for j, r in enumerate(table):
        cells = [c + " " * (widths[i] - cell_len(c)) for i, c in enumerate(r)]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def render_markdown(comparisons: Sequence[Comparison], stat: str = "iqm", lang: str = "en") -> str:
    """A GitHub-flavoured Markdown table."""
    table = rows(comparisons, stat, lang)
    metric = next((c.group.metric for c in comparisons if c.group.metric), "-")

    def cell(text: str) -> str:
        return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

    lines = [f"**{cell(label('title', lang).format(metric=metric))}**", ""]
    lines.append("| " + " | ".join(cell(c) for c in table[0]) + " |")
    lines.append("|" + "|".join("---" for _ in table[0]) + "|")
    lines.extend("| " + " | ".join(cell(c) for c in r) + " |" for r in table[1:])
    return "\n".join(lines) + "\n"


def render_json(comparisons: Sequence[Comparison], stat: str = "iqm") -> str:
    """The comparison as a JSON document."""
    doc = {
        "statistic": stat,
        "confidence": stats.CONFIDENCE,
        "bootstrap_resamples": stats.N_RESAMPLES,
        "final_fraction": 0.1,
        "groups": [c.to_dict() for c in comparisons],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
