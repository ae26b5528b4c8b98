"""What the CI reporters (JUnit, SARIF, GitHub, Markdown) share: test cases and paths.

A *case* is one check on one subject: a rule or an expectation on a run, or an aggregated
expectation on a group of runs. It fails when its finding reaches the gate's ``--fail-on``
level, so that a CI report shows red exactly what made the build fail.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sb3doctor.model import SEVERITIES, Finding, Run, severity_rank

if TYPE_CHECKING:  # pragma: no cover
    from sb3doctor.expect import ExpectationResult
    from sb3doctor.reporters import Report


@dataclass
class Case:
    """One check on one run or group: passed, or failed with its finding."""

    rule: str
    finding: Finding | None = None
    expectation: ExpectationResult | None = None

    @property
    def name(self) -> str:
        """The rule id (or the expectation text): the same whether the case passes or fails, so
        that CI test history shows "started failing" rather than a removed and a new test."""
        return self.rule


@dataclass
class Suite:
    """The cases of one run (``run`` set) or of one group of runs (``runs`` set)."""

    name: str
    run: Run | None = None
    runs: list[Run] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        """Problems met while reading this run's logs (truncated tail, ...); a group's suite
        has none of its own (its runs' warnings are in their own suites)."""
        return list(self.run.warnings) if self.run is not None else []


def gate_level(report: Report) -> str:
    """The severity from which a finding counts as a failure in a CI report.

    The report's ``--fail-on`` level; without one (or with ``never``) warnings and errors
    are shown as failures, since then the report is for reading, not gating.
    """
    fail_on = getattr(report, "fail_on", None)
    return fail_on if fail_on in SEVERITIES else "warning"


def is_failure(finding: Finding | None, report: Report) -> bool:
    """True when ``finding`` reaches the report's gate level."""
    return finding is not None and severity_rank(finding.severity) >= severity_rank(gate_level(report))


def suites(report: Report) -> list[Suite]:
    """One suite per run (rules checked + expectations), then one per aggregated group.

    Findings that belong to no run and to no group verdict end in a last suite ``sb3doctor``.
    """
    expectations: list[ExpectationResult] = list(getattr(report, "expectations", []) or [])
    out: list[Suite] = []
    for rr in report.runs:
        suite = Suite(display_path(rr.run.path), run=rr.run)
        by_rule: dict[str, Case] = {}
        for rule in getattr(rr, "checked", []) or []:
            by_rule.setdefault(rule, Case(rule))
        for res in expectations:
            if res.aggregate is None and res.run is rr.run:
                case = by_rule.setdefault(res.rule, Case(res.rule))
                case.expectation = res
        for f in rr.findings:
            case = by_rule.setdefault(f.rule, Case(f.rule))
            if case.finding is None or severity_rank(f.severity) > severity_rank(case.finding.severity):
                case.finding = f
        suite.cases = list(by_rule.values())
        out.append(suite)

    grouped: dict[str, Suite] = {}
    placed: set[int] = set()
    for res in expectations:
        if res.aggregate is None:
            continue
        group = grouped.get(res.subject)
        if group is None:
            group = grouped[res.subject] = Suite(res.subject, runs=list(res.runs))
        group.cases.append(Case(res.rule, res.finding, res))
        if res.finding is not None:
            placed.add(id(res.finding))
    out.extend(grouped.values())
    loose = [f for f in getattr(report, "findings", []) or [] if id(f) not in placed]
    if loose:
        out.append(Suite("sb3doctor", cases=[Case(f.rule, f) for f in loose]))
    return out


def display_path(path: Path | str) -> str:
    """A path as the user will recognise it: relative to the working folder when inside it,
    always with ``/`` (CI systems and SARIF want forward slashes)."""
    p = Path(path)
    if p.is_absolute():
        try:
            rel = os.path.relpath(p)
        except ValueError:  # another drive on Windows
            return p.as_posix()
        if not rel.startswith(".."):
            return Path(rel).as_posix()
        return p.as_posix()
    return p.as_posix()


#: Readable text logs first (a code-scanning UI can open them), the binary event file last.
_FILE_PREFERENCE = ("progress.csv", "progress.json", ".log", "log.txt", "monitor.csv", "tfevents")


def primary_file(run: Run) -> Path:
    """The log file a finding on ``run`` points at: a readable text log if the run has one
    (progress.csv/json, a stdout log, monitor.csv), else its event file."""
    files = list(run.source_files)
    for marker in _FILE_PREFERENCE:
        for f in files:
            if marker in f.name:
                return f
    if files and str(files[0]) != "-":
        return files[0]
    return run.path


def fmt_number(x: float | None) -> str:
    """Short number for tables and messages (``475``, ``0.0312``, ``nan``, ``-``)."""
    if x is None:
        return "-"
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    return f"{x:.4g}"
