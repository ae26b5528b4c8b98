"""``--format markdown``: a summary for ``$GITHUB_STEP_SUMMARY``, GitLab and PR comments.

A verdict line, a table of runs (algorithm, steps, counts), a table of expectations (with
the per-run spread of aggregated ones), then the findings of each run with their advice.
Table cells are escaped (``|``, newlines) so that a message cannot break the table.
"""

from __future__ import annotations

from typing import Any

from sb3doctor.model import Finding, severity_rank
from sb3doctor.reporters import Report, RunReport
from sb3doctor.reporters.ci_common import Suite, display_path, fmt_number, suites

TEXT = {
    "en": {
        "title": "sb3doctor report",
        "passed": "✅ **Gate passed**",
        "failed": "❌ **Gate failed**",
        "no_gate": "ℹ️ **Not gating**",
        "runs": "Runs",
        "run": "Run",
        "algo": "Algorithm",
        "steps": "Steps",
        "errors": "Errors",
        "warnings": "Warnings",
        "info": "Info",
        "expectations": "Expectations",
        "expectation": "Expectation",
        "subject": "Run / group",
        "observed": "Observed",
        "result": "Result",
        "spread": "Spread (min / median / max)",
        "pass": "✅ pass",
        "fail": "❌ fail",
        "findings": "Findings",
        "severity": "Severity",
        "rule": "Rule",
        "metric": "Metric",
        "message": "Message",
        "advice": "Advice",
        "no_findings": "No findings.",
        "read_warnings": "Read warnings",
    },
    "zh": {
        "title": "sb3doctor 报告",
        "passed": "✅ **检查通过**",
        "failed": "❌ **检查未通过**",
        "no_gate": "ℹ️ **未设置门槛**",
        "runs": "训练运行",
        "run": "运行",
        "algo": "算法",
        "steps": "步数",
        "errors": "错误",
        "warnings": "警告",
        "info": "提示",
        "expectations": "预期",
        "expectation": "预期",
        "subject": "运行 / 分组",
        "observed": "观测值",
        "result": "结果",
        "spread": "分布（最小 / 中位 / 最大）",
        "pass": "✅ 通过",
        "fail": "❌ 未通过",
        "findings": "发现的问题",
        "severity": "严重程度",
        "rule": "规则",
        "metric": "指标",
        "message": "说明",
        "advice": "建议",
        "no_findings": "没有发现问题。",
        "read_warnings": "读取警告",
    },
}


def cell(text: object) -> str:
    """Escape text for a Markdown table cell: pipes, newlines, backslashes and ``<``/``>``."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|")
    # GitHub renders inline HTML; a message like "<tag>" must show as text.
    s = s.replace("<", "&lt;").replace(">", "&gt;")
    return s.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def code(text: object, *, in_table: bool = True) -> str:
    """A code span, for a table cell or (``in_table=False``) a heading. Entities are not decoded
    inside code spans, so only backticks and newlines are replaced, and in a table pipes
    (which GitHub splits cells on even there) escaped; outside one a pipe is harmless and the
    backslash before it would show."""
    s = str(text).replace("`", "'")
    if in_table:
        s = s.replace("|", "\\|")
    return "`" + s.replace("\r", " ").replace("\n", " ") + "`"


class Code(str):
    """Marks a value :func:`_row` must render as a code span."""


def _row(*cells: object) -> str:
    return "| " + " | ".join(code(c) if isinstance(c, Code) else cell(c) for c in cells) + " |"


def render(report: Report, *, lang: str = "en", **_: Any) -> str:
    """Render ``report`` as GitHub-flavoured Markdown."""
    t = TEXT.get(lang, TEXT["en"])
    out: list[str] = [f"## {t['title']}", ""]
    gate = getattr(report, "fail_on", None)
    counts = report.summary()
    tally = f"{t['runs']} {counts['runs']} · {t['errors']} {counts['error']} · "
    tally += f"{t['warnings']} {counts['warning']} · {t['info']} {counts['info']}"
    if gate is None:
        out.append(f"{t['no_gate']}: {tally}")
    else:
        verdict = t["failed"] if report.failed(gate) else t["passed"]
        out.append(f"{verdict} (`--fail-on {gate}`): {tally}")
    out.append("")

    out += [f"### {t['runs']}", ""]
    out.append(_row(t["run"], t["algo"], t["steps"], t["errors"], t["warnings"], t["info"]))
    out.append("|---|---|---:|---:|---:|---:|")
    for rr in report.runs:
        sev = {s: 0 for s in ("error", "warning", "info")}
        for f in rr.findings:
            sev[f.severity] = sev.get(f.severity, 0) + 1
        rng = rr.run.step_range()
        steps = f"{rng[1]:,}" if rng else "-"
        name = Code(display_path(rr.run.path))
        out.append(_row(name, rr.run.algo or "?", steps, sev["error"], sev["warning"], sev["info"]))
    out.append("")

    expectations = list(getattr(report, "expectations", []) or [])
    if expectations:
        out += [f"### {t['expectations']}", ""]
        out.append(_row(t["expectation"], t["subject"], t["observed"], t["result"], t["spread"]))
        out.append("|---|---|---:|---|---|")
        for res in expectations:
            spread = res.spread() if res.aggregate else None
            spread_text = "-"
            if res.aggregate:
                values = ", ".join(
                    f"{k} {fmt_number(v) if v is not None else 'missing'}" for k, v in res.per_run.items()
                )
                spread_text = (
                    f"{fmt_number(spread[0])} / {fmt_number(spread[1])} / {fmt_number(spread[2])} ({values})"
                    if spread
                    else values
                )
            subject = f"{res.subject} ({res.aggregate} of {len(res.runs)})" if res.aggregate else res.subject
            observed = fmt_number(res.observed) if res.observed is not None else "missing"
            result = t["pass"] if res.passed else t["fail"]
            out.append(_row(Code(res.expectation.text), subject, observed, result, spread_text))
        out.append("")

    out += [f"### {t['findings']}", ""]
    any_finding = False
    for suite in suites(report):
        findings = [c.finding for c in suite.cases if c.finding is not None]
        # a run too short for any check is said to be so, not left out as if it were clean
        too_early = None
        if suite.run is not None and not findings:
            clean = RunReport(suite.run)
            too_early = None if clean.evidence().enough else clean.clean_text(lang)
        if not findings and not suite.warnings and too_early is None:
            continue
        any_finding = True
        out += _suite_section(suite, findings, t)
        if too_early is not None:
            out += [f"_{_inline(too_early)}_", ""]
    if not any_finding:
        out += [t["no_findings"], ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _inline(text: str) -> str:
    """Escape text in a list item: HTML-looking parts and line breaks."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


_ICON = {"error": "🔴 error", "warning": "🟠 warning", "info": "🔵 info"}


def _suite_section(suite: Suite, findings: list[Finding], t: dict[str, str]) -> list[str]:
    # a backtick or newline in a folder name must not end the code span or split the heading
    out = [f"#### {code(suite.name, in_table=False)}", ""]
    if findings:
        findings = sorted(findings, key=lambda f: (-severity_rank(f.severity), f.rule))
        out.append(_row(t["severity"], t["rule"], t["metric"], t["message"]))
        out.append("|---|---|---|---|")
        for f in findings:
            out.append(_row(_ICON.get(f.severity, f.severity), Code(f.rule), f.metric or "-", f.message))
        out.append("")
        advice = [(f, a) for f in findings for a in f.advice]
        if advice:
            out.append(f"**{t['advice']}**")
            out.append("")
            for f, a in advice:
                out.append(f"- {_inline(a.text)} (`{f.rule}`)")
            out.append("")
    if suite.warnings:
        out.append(f"**{t['read_warnings']}**")
        out.append("")
        out.extend(f"- {_inline(w)}" for w in suite.warnings)
        out.append("")
    return out
