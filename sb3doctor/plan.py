"""One coherent diagnosis per run: root causes first, consequences under them, one advice per knob.

Rules are evaluated independently, so a run whose learning rate is 100x too high gets a
high-KL finding, an entropy collapse, a performance collapse and a poor critic. Shown as four
diagnoses with four sets of advice they contradict each other (``learning_rate`` halved by one,
"raise it" by another). :func:`make_plan` orders the findings by the causal map in
``knowledge/causes.yaml``: a finding whose category another finding explains gets
``caused_by`` set to that finding's rule and is listed after it without advice of its own (the
cure is the root's); each hyperparameter keeps only the advice of the most important root that
names it. Within a category, a finding that names a setting against its reference (the learning
rate 30x rl-zoo's) comes before the symptoms of that category (a high KL), and those keep their
advice for the other knobs. A setting whose effects reach other categories (a discount far too
short: returns stuck at a sparse task's floor, a critic that explains little) is listed in
``setting_explains`` and leads those symptoms too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sb3doctor.model import Finding, severity_rank

_CAUSES = Path(__file__).parent / "knowledge" / "causes.yaml"


@dataclass(frozen=True)
class CausalMap:
    """``knowledge/causes.yaml``, read once."""

    #: rank of each category in the root-cause order (earlier: more likely the root)
    order: dict[str, int]
    #: category -> the categories it explains
    explains: dict[str, frozenset[str]]
    #: the rules that name a setting and so lead their category
    settings_first: frozenset[str]
    #: rule -> the categories outside its own that the setting it names explains
    setting_explains: dict[str, frozenset[str]]
    #: notes that are shown only where no warning or error is
    only_alone: frozenset[str] = frozenset()

    def rank(self, f: Finding) -> int:
        """Where ``f`` stands in the root-cause order: its category's rank, or just before the
        first category its setting explains."""
        own = self.order.get(f.category, len(self.order))
        reach = self.setting_explains.get(f.rule)
        return min([own, *(self.order[c] for c in reach if c in self.order)]) if reach else own

    def explained_by(self, f: Finding, root: Finding) -> bool:
        """Whether ``root``'s finding explains ``f``'s category. A setting that reaches past its
        category is a root of its own: another diagnosis (exploration that ended early) does not
        make a discount far too short any less wrong, and its advice must not be dropped. For
        the same reason that reach covers the symptoms of the categories it names, not another
        setting in them (a learning rate 50x rl-zoo's next to a negative entropy coefficient:
        both are wrong, and each keeps its advice)."""
        if f.rule in self.setting_explains:
            return False
        reaches = f.category in self.setting_explains.get(root.rule, ()) and f.rule not in self.settings_first
        return f.category == root.category or f.category in self.explains.get(root.category, ()) or reaches


@functools.cache
def causal_map() -> CausalMap:
    """The causal map of ``knowledge/causes.yaml``."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: Any = yaml.load(_CAUSES.read_text(encoding="utf-8"), Loader=loader)
    return CausalMap(
        order={c: i for i, c in enumerate(data["order"])},
        explains={c: frozenset(v) for c, v in data["explains"].items()},
        settings_first=frozenset(data.get("settings_first", ())),
        setting_explains={r: frozenset(v) for r, v in (data.get("setting_explains") or {}).items()},
        only_alone=frozenset(data.get("only_alone") or ()),
    )


def _importance(f: Finding, causes: CausalMap) -> tuple[int, int, int, int, str]:
    # Info findings last (they never explain a warning); then the causal order, so that the
    # cause is met before its consequences whatever their severities; within a category the
    # finding that names a setting (learning rate vs rl-zoo's) before its symptoms (a high KL),
    # whatever their severities; then severity and id.
    return (
        0 if severity_rank(f.severity) >= 1 else 1,
        causes.rank(f),
        0 if f.rule in causes.settings_first else 1,
        -severity_rank(f.severity),
        f.rule,
    )


def make_plan(findings: list[Finding]) -> list[Finding]:
    """Order ``findings`` root cause first, link consequences, keep one advice per parameter.

    Info findings never explain a warning or an error; a consequence keeps its own severity.
    A second finding of the same category is listed under the first and keeps its advice for
    the parameters the first does not name.
    A note listed in ``only_alone`` is dropped where a warning or an error is found: it explains
    low returns by something other than a fault ("the run was short"), which a fault contradicts.
    Returns the same Finding objects, reordered: each root followed by what it explains.
    """
    if len(findings) < 2:
        return findings  # nothing to order, and no note beside a fault (the map needs yaml)
    causes = causal_map()
    if any(severity_rank(f.severity) >= 1 for f in findings):
        findings = [f for f in findings if f.rule not in causes.only_alone]
        if len(findings) < 2:
            return findings
    ranked = sorted(findings, key=lambda f: _importance(f, causes))
    roots: list[Finding] = []
    children: dict[str, list[Finding]] = {}
    for f in ranked:
        cause = next(
            (
                r
                for r in roots
                if causes.explained_by(f, r)
                and severity_rank(r.severity) >= min(1, severity_rank(f.severity))
            ),
            None,
        )
        if cause is None:
            roots.append(f)
            f.caused_by = None
        else:
            f.caused_by = cause.rule
            children.setdefault(cause.rule, []).append(f)
    out: list[Finding] = []
    for r in roots:
        out.append(r)
        out.extend(children.get(r.rule, []))
    seen: set[str] = set()
    category_of = {f.rule: f.category for f in out}
    for f in out:
        if f.caused_by is not None and category_of[f.caused_by] != f.category:
            # A consequence is fixed by fixing its cause; its own advice treats the symptom
            # and may contradict the root's (a collapsed policy's clip_fraction 0 says "raise
            # the learning rate" next to "lower it"). A finding of the root's own category is
            # the same diagnosis seen in another metric: it keeps the advice for knobs the root
            # does not name (a high KL's target_kl under the learning rate's reference value).
            f.advice = []
            continue
        kept = [a for a in f.advice if a.param not in seen]  # one recommendation per knob
        seen.update(a.param for a in kept)
        f.advice = kept
    return out
