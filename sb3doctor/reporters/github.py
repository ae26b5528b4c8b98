"""``--format github``: GitHub Actions workflow commands (``::error file=...::message``).

Printed in a workflow step, each line becomes an annotation on the run's summary page (and
on the log file, when it is part of the pull request). Severities map error -> ``error``,
warning -> ``warning``, info -> ``notice``; problems met while reading a log become
``warning`` annotations. The last line is a plain summary, counting every finding.

Only findings that reach the gate's level (``--fail-on``; warning when the report is not
gating, as with ``--fail-on never``) become annotations: most runs carry an info finding or
two, and a ``::notice`` on every pull request would teach people to ignore the annotations.
``--fail-on info`` asks for them.

Escaping follows GitHub's ``@actions/core`` (``command.ts``): in the message ``%``, CR and
LF become ``%25``, ``%0D``, ``%0A``; in properties ``:`` and ``,`` also become ``%3A``
and ``%2C``. Without it a ``,`` in a path would cut the ``file=`` property short and a
newline would end the command.
"""

from __future__ import annotations

from typing import Any

from sb3doctor.model import Finding
from sb3doctor.reporters import Report
from sb3doctor.reporters.ci_common import display_path, gate_level, is_failure, primary_file, suites

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """Escape a workflow command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value (``file=``, ``title=``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: str) -> str:
    """One workflow command line: ``::name k=v,k=v::message``."""
    args = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
    return f"::{name}{' ' + args if args else ''}::{escape_data(message)}"


def render(report: Report, *, lang: str = "en", **_: Any) -> str:
    """Render ``report`` as workflow commands, one per finding and read warning."""
    lines: list[str] = []
    failed = 0
    for suite in suites(report):
        runs = [suite.run] if suite.run is not None else suite.runs
        file = display_path(primary_file(runs[0])) if runs else None
        for warning in suite.warnings:
            props = {"title": f"sb3doctor: problem reading {suite.name}"}
            if file:
                props = {"file": file, **props}
            lines.append(command("warning", warning, **props))
        for case in suite.cases:
            f = case.finding
            if f is None or not is_failure(f, report):
                continue
            failed += 1
            props = {"title": f"{f.rule} ({suite.name})"}
            if file:
                props = {"file": file, **props}
            lines.append(command(COMMANDS.get(f.severity, "warning"), _message(f), **props))
    counts = report.summary()
    gate = getattr(report, "fail_on", None)
    verdict = ""
    if gate is not None:
        verdict = "; gate failed" if report.failed(gate) else "; gate passed"
        verdict += f" (--fail-on {gate})"
    lines.append(
        f"sb3doctor: {counts['runs']} run(s), {counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['info']} info; {failed} at or above {gate_level(report)}{verdict}"
    )
    return "\n".join(lines) + "\n"


def _message(f: Finding) -> str:
    parts = [f.message]
    parts.extend(f"advice: {a.text}" for a in f.advice)
    return "\n".join(parts)
