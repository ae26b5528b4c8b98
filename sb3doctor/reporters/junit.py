"""``--format junit``: JUnit XML that GitLab (``artifacts:reports:junit``) and Jenkins
(``junit`` step) show as test results.

One ``<testsuite>`` per run, one ``<testcase>`` per rule or expectation checked on it, plus
one ``<testsuite>`` per group of runs for aggregated expectations. A case fails
(``<failure type="error|warning">``) when its finding reaches ``--fail-on``; a finding
below that level (an ``info``, or a warning under ``--fail-on error``) leaves the case
passing and is printed in its ``<system-out>``. Every run also gets a ``logs read`` case
so that a clean run still shows up, with read warnings (truncated tail) in ``<system-err>``.

The layout follows the de-facto schema both consumers read: ``testsuites`` >
``testsuite[name, tests, failures, errors, skipped, time]`` > ``testcase[classname, name,
time]`` > ``failure[message, type]`` + text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from sb3doctor.model import Finding
from sb3doctor.reporters import Report
from sb3doctor.reporters.ci_common import (
    Case,
    Suite,
    display_path,
    fmt_number,
    is_failure,
    primary_file,
    suites,
)

# XML 1.0 forbids most C0 control characters, even escaped; log text may carry them
# (ANSI colour codes from a captured stdout log).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("", text)


def render(report: Report, *, lang: str = "en", **_: Any) -> str:
    """Render ``report`` as a JUnit XML document (UTF-8, with declaration)."""
    root = ET.Element("testsuites", name="sb3doctor")
    total = failures = 0
    for suite in suites(report):
        elem, tests, failed = _suite(suite, report)
        root.append(elem)
        total += tests
        failures += failed
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("skipped", "0")
    root.set("time", "0")
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite(suite: Suite, report: Report) -> tuple[ET.Element, int, int]:
    elem = ET.Element("testsuite", name=_clean(suite.name))
    props = ET.SubElement(elem, "properties")
    runs = [suite.run] if suite.run is not None else suite.runs
    if suite.run is not None:
        _prop(props, "path", display_path(suite.run.path))
        _prop(props, "algo", suite.run.algo or "unknown")
        _prop(props, "sources", ",".join(suite.run.sources))
        rng = suite.run.step_range()
        if rng is not None:
            _prop(props, "steps", f"{rng[0]}-{rng[1]}")
    elif runs:
        _prop(props, "runs", ",".join(display_path(r.path) for r in runs))
    if len(props) == 0:
        elem.remove(props)

    tests = failed = 0
    if suite.run is not None:
        elem.append(_read_case(suite))
        tests += 1
    for case in suite.cases:
        tc, is_failed = _case(case, suite, report)
        elem.append(tc)
        tests += 1
        failed += is_failed
    if suite.warnings:
        ET.SubElement(elem, "system-err").text = _clean("\n".join(suite.warnings))
    elem.set("tests", str(tests))
    elem.set("failures", str(failed))
    elem.set("errors", "0")
    elem.set("skipped", "0")
    elem.set("time", "0")
    return elem, tests, failed


def _prop(props: ET.Element, name: str, value: str) -> None:
    ET.SubElement(props, "property", name=name, value=_clean(value))


def _read_case(suite: Suite) -> ET.Element:
    run = suite.run
    assert run is not None
    tc = ET.Element("testcase", classname=_clean(suite.name), name="logs read", time="0")
    tc.set("file", _clean(display_path(primary_file(run))))
    rng = run.step_range()
    steps = f", steps {rng[0]}-{rng[1]}" if rng else ""
    text = f"{len(run.metrics)} metrics, {run.num_points} points{steps} from {len(run.source_files)} file(s)"
    ET.SubElement(tc, "system-out").text = _clean(text)
    return tc


def _case(case: Case, suite: Suite, report: Report) -> tuple[ET.Element, bool]:
    tc = ET.Element("testcase", classname=_clean(suite.name), name=_clean(case.name), time="0")
    if suite.run is not None:
        tc.set("file", _clean(display_path(primary_file(suite.run))))
    f = case.finding
    failed = is_failure(f, report)
    if f is not None and failed:
        failure = ET.SubElement(tc, "failure", message=_clean(f.message), type=f.severity)
        failure.text = _clean(_details(f, case))
    elif f is not None:
        ET.SubElement(tc, "system-out").text = _clean(f"[{f.severity}] {f.message}\n{_details(f, case)}")
    elif case.expectation is not None:
        res = case.expectation
        ET.SubElement(tc, "system-out").text = _clean(f"passed: observed {fmt_number(res.observed)}")
    return tc, failed


def _details(f: Finding, case: Case) -> str:
    lines = [f"rule: {f.rule}", f"category: {f.category}", f"severity: {f.severity}"]
    if f.metric:
        lines.append(f"metric: {f.metric}")
    if f.observed is not None or f.threshold is not None:
        observed, threshold = f.evidence_text("observed"), f.evidence_text("threshold")
        lines.append(f"observed: {observed or '-'}  threshold: {threshold or '-'}")
    if f.window:
        lines.append(f"window: {f.window}")
    if f.steps:
        lines.append(f"steps: {f.steps[0]}-{f.steps[1]}")
    res = case.expectation
    if res is not None and res.per_run:
        lines.append(f"aggregate: {res.aggregate}")
        lines.extend(
            f"  {name}: {fmt_number(v) if v is not None else 'missing'}" for name, v in res.per_run.items()
        )
    for a in f.advice:
        lines.append(f"advice: {a.text}")  # the text already says "param current -> suggested"
    return "\n".join(lines)
