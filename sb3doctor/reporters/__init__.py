"""The report of an ``analyze`` run and the dispatch to one writer per output format.

A :class:`Report` holds, per run, the findings the engine produced; the reporter modules
turn it into text. Each reporter module exposes
``render(report: Report, *, lang: str = "en", color: bool = False, width: int | None = None) -> str``
and is imported only when its format is asked for, so ``--format json`` never imports rich.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sb3doctor.model import SEVERITIES, Finding, severity_rank

if TYPE_CHECKING:  # pragma: no cover
    from sb3doctor.expect import ExpectationResult
    from sb3doctor.model import Run

#: Output format -> module under :mod:`sb3doctor.reporters`.
FORMATS: dict[str, str] = {
    "terminal": "terminal",
    "json": "json_report",
    "junit": "junit",
    "sarif": "sarif",
    "github": "github",
    "markdown": "markdown",
}

#: ``--fail-on`` levels: a severity, or ``never``.
FAIL_ON: tuple[str, ...] = (*SEVERITIES, "never")


def evidence_parts(f: Finding, lang: str) -> list[str]:
    """The evidence of a finding as labelled parts, in the rule's wording where it gives one
    (its unit: a share of updates, steps), else the number: observed, threshold, window. Each
    format adds the steps in its own notation and escapes the parts as it needs."""
    from sb3doctor.i18n import t

    parts = []
    for key in ("observed", "threshold"):
        value = f.evidence_text(key)
        if value is not None:
            parts.append(f"{t(key, lang)} {value}")
    if f.window:
        parts.append(f.window)
    return parts


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Root causes worst first, each followed by the findings it explains (``caused_by``).

    Equal severities keep the engine's plan order (root-cause order, see
    :mod:`sb3doctor.plan`), so the output is stable.
    """
    rules = {f.rule for f in findings}
    roots = [f for f in findings if f.caused_by is None or f.caused_by not in rules]
    roots.sort(key=lambda f: -severity_rank(f.severity))  # stable: plan order within a severity
    out: list[Finding] = []
    for root in roots:
        out.append(root)
        out.extend(f for f in findings if f.caused_by == root.rule and f is not root)
    return out


#: The least a run must hold before "no problems found" means something: the fewest training
#: updates (points of a ``train/*`` metric) and episodes any rule judges on (the dynamics rules
#: need 3 updates, the return rules 5 episodes or tables).
MIN_UPDATES = 3
MIN_EPISODES = 5


@dataclass(frozen=True)
class JudgedOn:
    """How much a run's verdict rests on: its logged training updates and episodes (not to be
    confused with a condition's :class:`sb3doctor.conditions.Evidence`)."""

    updates: int
    episodes: int
    #: whether ``episodes`` counts SB3's logged tables of ``rollout/ep_rew_mean`` (no monitor.csv)
    episodes_are_tables: bool = False

    @property
    def enough(self) -> bool:
        """Whether any rule had enough to judge (else a clean run is "too early to judge")."""
        return self.updates >= MIN_UPDATES or self.episodes >= MIN_EPISODES


def run_evidence(run: Run) -> JudgedOn:
    """The training updates (the longest ``train/*`` series) and episodes (monitor.csv's, else
    the tables of SB3's running ``rollout/ep_rew_mean``) ``run`` holds."""
    updates = max((len(s) for name, s in run.metrics.items() if name.startswith("train/")), default=0)
    if "episode/reward" in run.metrics:
        return JudgedOn(updates, len(run.metrics["episode/reward"]))
    return JudgedOn(updates, len(run.metrics.get("rollout/ep_rew_mean", ())), episodes_are_tables=True)


@dataclass
class RunReport:
    """One run and what the rules found on it (sorted worst first)."""

    run: Run
    findings: list[Finding] = field(default_factory=list)
    #: rule ids (and ``EXPECT:...`` ids) evaluated on this run, fired or not: the CI
    #: reporters (JUnit) show the ones that did not fire as passing test cases.
    checked: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.findings = sort_findings(self.findings)

    def evidence(self) -> JudgedOn:
        """What the verdict rests on (see :func:`run_evidence`)."""
        return run_evidence(self.run)

    def clean_text(self, lang: str) -> str:
        """What a run without findings is told: "no problems found", or, when it holds too
        little for any rule to judge (a run stopped or crashed before its first table), that
        it is too early to judge, so that no reader takes silence for health."""
        from sb3doctor.i18n import t

        ev = self.evidence()
        if ev.enough:
            from sb3doctor.errors import printable
            from sb3doctor.knowledge import env_reference
            from sb3doctor.reference import detect_env_id

            # Without the env, or without reference numbers for it, "not learning" and "too
            # early" cannot be told (they compare the returns with random play and rl-zoo's):
            # say what the silence does not cover.
            env = detect_env_id(self.run)[0]
            if env is None:
                return t("no_problems_env_unknown", lang)
            if env_reference(env) is None:
                return t("no_problems_no_reference", lang).format(env=printable(env, one_line=True))
            return t("no_problems", lang)
        key = "too_little_data_tables" if ev.episodes_are_tables else "too_little_data"
        return t(key, lang).format(
            updates=ev.updates, episodes=ev.episodes, min_updates=MIN_UPDATES, min_episodes=MIN_EPISODES
        )


@dataclass
class Report:
    """Everything one ``analyze`` invocation found.

    :param runs: one entry per run read
    :param findings: findings that belong to no single run (e.g. an ``--expect`` over an
        aggregate of runs)
    :param expectations: every ``--expect`` verdict, passed or failed
        (:class:`sb3doctor.expect.ExpectationResult`), for the CI reporters
    :param fail_on: the ``--fail-on`` level the gate used (None: not gating), so that CI
        reports mark as failures exactly the findings that fail the build
    """

    runs: list[RunReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    expectations: list[ExpectationResult] = field(default_factory=list)
    fail_on: str | None = None

    def all_findings(self) -> list[Finding]:
        """Every finding, per run then the run-independent ones."""
        return [f for r in self.runs for f in r.findings] + list(self.findings)

    def summary(self) -> dict[str, int]:
        """``{"runs": n, "info": n, "warning": n, "error": n}``."""
        counts = {"runs": len(self.runs), **{s: 0 for s in SEVERITIES}}
        for f in self.all_findings():
            counts[f.severity] += 1
        return counts

    def worst(self) -> str | None:
        """The highest severity found, or None when nothing was found."""
        ranks = [severity_rank(f.severity) for f in self.all_findings()]
        return SEVERITIES[max(ranks)] if ranks else None

    def failed(self, fail_on: str) -> bool:
        """True when a finding reaches ``fail_on`` (``info``/``warning``/``error``; ``never`` never fails)."""
        if fail_on == "never":
            return False
        worst = self.worst()
        return worst is not None and severity_rank(worst) >= severity_rank(fail_on)


def available_formats() -> list[str]:
    """The formats whose reporter module is installed (the CI formats arrive separately)."""
    return [
        fmt
        for fmt, mod in FORMATS.items()
        if importlib.util.find_spec(f"sb3doctor.reporters.{mod}") is not None
    ]


def render(
    report: Report, fmt: str = "terminal", lang: str = "en", color: bool = False, width: int | None = None
) -> str:
    """Render ``report`` in ``fmt``, importing only that format's module.

    :raises ValueError: ``fmt`` is not a known format
    """
    try:
        module_name = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}") from None
    module = importlib.import_module(f"sb3doctor.reporters.{module_name}")
    text: str = module.render(report, lang=lang, color=color, width=width)
    return text
