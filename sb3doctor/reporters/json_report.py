"""``--format json``: one JSON document for the whole invocation.

Shape (``version`` changes only on incompatible changes)::

    {"version": 1,
     "runs": [{"path", "name", "algo", "steps": [first, last], "sources": [...],
               "hyperparams": {...}, "warnings": [...], "findings": [Finding.to_dict(), ...]}],
     "findings": [...],          # findings that belong to no single run (aggregated --expect)
     "expectations": [...],      # every --expect verdict, passed or not (when any)
     "summary": {"runs", "info", "warning", "error"}}
"""

from __future__ import annotations

import json
import math
from typing import Any

from sb3doctor.reporters import Report

VERSION = 1


def _clean(x: Any) -> Any:
    # JSON has no NaN/inf; hyperparameters may hold them (e.g. a NaN learning rate).
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)


def to_document(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    runs = []
    from sb3doctor.reference import detect_env_id

    for rr in report.runs:
        run = rr.run
        rng = run.step_range()
        env_id, env_source = detect_env_id(run)
        runs.append(
            {
                "path": str(run.path),
                "name": run.name,
                "algo": run.algo,
                "env": {"id": env_id, "source": env_source} if env_id else None,
                "steps": list(rng) if rng is not None else None,
                "sources": [str(p) for p in run.source_files],
                "source_kinds": list(run.sources),
                "hyperparams": _clean(run.hyperparams),
                "warnings": list(run.warnings),
                "findings": [_clean(f.to_dict()) for f in rr.findings],
                # what the verdict rests on; "enough": false means too early to judge
                "judged_on": {
                    "updates": (ev := rr.evidence()).updates,
                    "episodes": ev.episodes,
                    "enough": ev.enough,
                },
            }
        )
    doc: dict[str, Any] = {"version": VERSION, "runs": runs}
    doc["findings"] = [_clean(f.to_dict()) for f in report.findings]
    expectations = getattr(report, "expectations", None) or []
    if expectations:
        doc["expectations"] = [
            _clean(
                {
                    "expect": res.expectation.text
                    if hasattr(res.expectation, "text")
                    else str(res.expectation),
                    "subject": res.subject,
                    "aggregate": res.aggregate,
                    "observed": res.observed,
                    "passed": res.passed,
                    # every run of a group by its (unique) name, so a lost seed would show
                    "runs": [r.name for r in res.runs],
                    "per_run": dict(res.per_run) if getattr(res, "per_run", None) else None,
                }
            )
            for res in expectations
        ]
    doc["summary"] = report.summary()
    return doc


def render(report: Report, *, lang: str = "en", color: bool = False, width: int | None = None) -> str:
    """The JSON document, indented, ending with a newline (``lang`` is already in the messages)."""
    return json.dumps(to_document(report), ensure_ascii=False, indent=2) + "\n"
