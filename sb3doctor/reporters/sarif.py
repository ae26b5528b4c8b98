"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One SARIF run (one invocation of sb3doctor) holds every finding as a ``result``: ``ruleId``
is the rule id (``EXPECT:<text>`` for an expectation), ``level`` maps info/warning/error
to note/warning/error, and the location is the training run's log file (the event file,
else progress.csv, ...) relative to the working folder, as GitHub wants it. Because log
files have no meaningful line, the region is line 1; ``partialFingerprints`` are computed
from rule, run and metric so that GitHub does not try to fingerprint a binary event file
and a finding that persists keeps one alert. Read warnings (truncated tail) are
``toolExecutionNotifications``. The advice follows the message; the training run, metric,
observed value, threshold and advice also go in ``properties``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sb3doctor import __version__
from sb3doctor.i18n import t
from sb3doctor.model import Finding, Run
from sb3doctor.reporters import Report
from sb3doctor.reporters.ci_common import display_path, primary_file, suites

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/sb3doctor/sb3doctor"
LEVELS = {"info": "note", "warning": "warning", "error": "error"}


def render(report: Report, *, lang: str = "en", **_: Any) -> str:
    """Render ``report`` as a SARIF 2.1.0 log (JSON text)."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for suite in suites(report):
        runs = [suite.run] if suite.run is not None else suite.runs
        for case in suite.cases:
            f = case.finding
            if f is None:
                continue
            index = _rule_index(rules, f)
            results.append(_result(f, index, runs, suite.name, case.expectation, lang))
        if suite.run is not None:
            for warning in suite.run.warnings:
                notifications.append(
                    {
                        "level": "warning",
                        "message": {"text": f"{suite.run.name}: {warning}"},
                        "locations": [_location(suite.run)],
                    }
                )
    sarif_run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "sb3doctor",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": list(rules.values()),
            }
        },
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "trainingRuns": [
                {"name": rr.run.name, "path": display_path(rr.run.path), "algo": rr.run.algo}
                for rr in report.runs
            ]
        },
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [sarif_run]}
    return json.dumps(log, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _rule_index(rules: dict[str, dict[str, Any]], f: Finding) -> int:
    if f.rule not in rules:
        descriptor: dict[str, Any] = {
            "id": f.rule,
            "name": _pascal(f.name) if f.name else f.rule,
            "shortDescription": {"text": _short(f)},
            "defaultConfiguration": {"level": LEVELS.get(f.severity, "warning")},
            "properties": {"category": f.category, "tags": ["reinforcement-learning", f.category]},
        }
        rules[f.rule] = descriptor
    return list(rules).index(f.rule)


def _short(f: Finding) -> str:
    if f.category == "expectation_failed":
        return f"Expectation {f.rule.removeprefix('EXPECT:')} does not hold"
    return f"{f.name} ({f.category})" if f.name else f.category


def _pascal(name: str) -> str:
    """SARIF's ``name`` is meant to be PascalCase-like: ``approx-kl-too-high`` -> ``ApproxKlTooHigh``."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-") if part)


def _location(run: Run) -> dict[str, Any]:
    path = primary_file(run)
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(display_path(path))}}
    # A line number only means something in a text log; event files are binary.
    if "tfevents" not in Path(path).name and Path(path).suffix not in (".npz",) and not Path(path).is_dir():
        physical["region"] = {"startLine": 1}
    return {
        "physicalLocation": physical,
        "logicalLocations": [
            {"name": run.name, "fullyQualifiedName": display_path(run.path), "kind": "module"}
        ],
    }


def _uri(path: str) -> str:
    """A relative or absolute path as a URI reference (spaces and ``#`` percent-encoded)."""
    if path.startswith("/"):
        return "file://" + quote(path)
    return quote(path)


def _result(
    f: Finding, index: int, runs: list[Run], subject: str, expectation: Any | None, lang: str = "en"
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "trainingRun": subject,
        "category": f.category,
        "severity": f.severity,
        "metric": f.metric,
        "observed": _num(f.observed),
        "threshold": _num(f.threshold),
        "window": f.window,
        "steps": list(f.steps) if f.steps else None,
    }
    if f.evidence:
        props["evidence"] = dict(f.evidence)  # observed / threshold with their units
    if f.advice:
        props["advice"] = [a.to_dict() for a in f.advice]
    if expectation is not None and expectation.per_run:
        props["aggregate"] = expectation.aggregate
        props["perRun"] = {k: _num(v) for k, v in expectation.per_run.items()}
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": LEVELS.get(f.severity, "warning"),
        "message": {"text": _message(f, lang)},
        "locations": [_location(runs[0])] if runs else [],
        "partialFingerprints": {"sb3doctor/v1": _fingerprint(f, subject)},
        "properties": {k: v for k, v in props.items() if v is not None},
    }
    if len(runs) > 1:
        result["relatedLocations"] = [{"id": i, **_location(r)} for i, r in enumerate(runs[1:], start=1)]
    return result


def _message(f: Finding, lang: str = "en") -> str:
    """The finding's message, then its advice (computed from this run's own values)."""
    label = t("advice", lang).capitalize()
    lines = [f.message]
    lines.extend(f"{label}: {a.text}" for a in f.advice)
    return "\n".join(lines)


def _fingerprint(f: Finding, subject: str) -> str:
    key = "\0".join([f.rule, subject, f.metric or ""])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _num(x: float | None) -> float | str | None:
    """JSON has no NaN/inf: spell them as strings."""
    if x is None:
        return None
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    return x
