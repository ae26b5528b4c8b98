"""Every example in every built-in rule runs as a test; every rule meets the schema.

Adding a rule file adds its tests here: no new test code needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import sb3doctor
from sb3doctor.conditions import COMBINATORS, kind_of, sub_conditions
from sb3doctor.engine import evaluate, is_noop
from sb3doctor.i18n import t
from sb3doctor.rules_path import builtin_rules_dir
from sb3doctor.ruleset import (
    CATEGORIES,
    REQUIRED,
    SHIPPED_PARSE,
    Rule,
    builtin_rules,
    example_run,
    shipped_parse,
)

RULES: list[Rule] = builtin_rules()
SEED_RE = re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b")
SEED_WORDS = re.compile(r"\bseed[- ]?00\d|\bthe seed's|种子")
NOTE_RE = re.compile(r"knowledge/notes/([\w.-]+\.md)")
NOTES = Path(sb3doctor.__file__).parent / "knowledge" / "notes"
CASES = [
    pytest.param(rule, i, id=f"{rule.id}-{i}-{ex['expect']}")
    for rule in RULES
    for i, ex in enumerate(rule.examples)
]


def test_there_are_rules() -> None:
    assert len(RULES) >= 1


@pytest.mark.parametrize(("rule", "index"), CASES)
def test_example(rule: Rule, index: int) -> None:
    ex = rule.examples[index]
    run = example_run(rule, ex)
    findings = evaluate(run, [rule])
    if ex["expect"] == "quiet":
        assert findings == [], f"{rule.id} example {index} should stay quiet: {findings[0].message}"
        return
    assert len(findings) == 1, f"{rule.id} example {index} should fire"
    finding = findings[0]
    assert finding.rule == rule.id
    assert finding.severity == ex.get("severity", finding.severity)
    if "severity" not in ex:
        assert finding.severity in (rule.severity, (rule.escalate or {}).get("severity"))
    # the message was rendered (no left-over fields); advice keeps the rule's order, drops
    # items whose `when` guard does not hold, and never says "x -> x"
    assert "{" not in finding.message
    for lang, message in (("en", finding.message), ("zh", evaluate(run, [rule], lang="zh")[0].message)):
        template = rule.text("message", lang)
        if "{shown}" in template:
            # the parts of the condition that held said what they found: never "... shows it: "
            before = template.split("{shown}")[0].rsplit("}", 1)[-1]
            assert re.search(re.escape(before) + r"\S", message), f"{rule.id}: nothing shown ({lang})"
    params = [a.param for a in finding.advice]
    # (a parameter may have one item per case, e.g. `device` for MLP and for CNN policies)
    assert params == list(dict.fromkeys(a["param"] for a in rule.advice if a["param"] in params))
    assert not [a for a in finding.advice if is_noop(a)]
    assert all("{" not in a.text and "None" not in a.text for a in finding.advice)
    if any("when" not in a for a in rule.advice):
        assert finding.advice, f"{rule.id}: an unguarded advice item should render"
    # and it renders in Chinese too
    zh = evaluate(run, [rule], lang="zh")
    assert zh and zh[0].severity == finding.severity


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_schema(rule: Rule) -> None:
    for key in REQUIRED:
        assert key in rule.raw, f"{rule.id}: missing {key}"
    assert rule.category in CATEGORIES
    assert rule.sources
    # Users do not have the seed notes: rules cite the shipped summaries, by a path that exists.
    assert not [s for s in rule.sources if SEED_RE.search(s)], f"{rule.id}: cites an unshipped note"
    for source in rule.sources:
        for note in NOTE_RE.findall(source):
            assert (NOTES / note).is_file(), f"{rule.id}: {note} is not shipped"
    for field in ("message", "why", "false_alarms"):
        for lang in ("en", "zh"):
            text = rule.text(field, lang)
            assert not SEED_WORDS.search(text), f"{rule.id}: {field} ({lang}) refers to a seed note"
    for item in rule.advice:
        for text in (item.get("text") or {}).values():
            assert not SEED_WORDS.search(text), f"{rule.id}: advice text refers to a seed note"
    expects = {ex["expect"] for ex in rule.examples}
    assert expects == {"fire", "quiet"}, f"{rule.id}: needs at least one fire and one quiet example"
    for field in ("message", "why", "false_alarms"):
        assert rule.text(field, "en").strip()
    assert rule.path is not None and rule.path.name == f"{rule.id}.yaml"


def test_ids_and_names_unique() -> None:
    assert len({r.id for r in RULES}) == len(RULES)
    assert len({r.name for r in RULES}) == len(RULES)


def test_ui_texts_have_chinese() -> None:
    assert t("no_problems", "zh") == "未发现问题"


def test_the_shipped_parse_matches_the_rule_files() -> None:
    # A fresh installation reads the built-in rules pre-parsed (no YAML on the first analyze);
    # after editing a rule file, run:
    #   python -c "from sb3doctor.ruleset import write_shipped_parse; write_shipped_parse()"
    folder = builtin_rules_dir()
    shipped = json.loads((folder / SHIPPED_PARSE).read_text(encoding="utf-8"))
    assert shipped == shipped_parse(folder), "rules/parsed.json is stale: regenerate it"
    assert len(shipped) == len(RULES)


ALGOS = (
    "PPO",
    "A2C",
    "DQN",
    "SAC",
    "TD3",
    "DDPG",
    "QRDQN",
    "TQC",
    "TRPO",
    "ARS",
    "RecurrentPPO",
    "MaskablePPO",
    "CrossQ",
)
FIRE_CASES = [case for case in CASES if case.values[0].examples[case.values[1]]["expect"] == "fire"]


@pytest.mark.parametrize(("rule", "index"), FIRE_CASES)
def test_advice_fits_each_algorithm_the_rule_applies_to(rule: Rule, index: int) -> None:
    """Each fire example replayed as every algorithm its rule applies to: no advice names a
    setting that algorithm does not have (TRPO has no ent_coef), and a value not in the logs is
    that algorithm's own library default (RecurrentPPO's batch_size 128, TD3's policy_delay 2),
    not one assumed for every algorithm."""
    from sb3doctor.knowledge import foreign_parameter, library_default

    for algo in (a for a in ALGOS if rule.applies(a)):
        run = example_run(rule, {**rule.examples[index], "algo": algo})
        for finding in evaluate(run, [rule]):
            for advice in finding.advice:
                assert not foreign_parameter(algo, advice.param), f"{rule.id} on {algo}: {advice.text}"
                is_argument, default = library_default(algo, advice.param)
                spec = next(a for a in rule.advice if a["param"] == advice.param)
                if is_argument and "default" in spec and advice.param not in run.hyperparams:
                    assert advice.current == default, f"{rule.id} on {algo}: {advice.text}"


def _conditions(node: object) -> list[Mapping[str, Any]]:
    """Every leaf condition in ``node``, combinators (in either spelling) walked."""
    if not isinstance(node, Mapping):
        return []
    if kind_of(node) in COMBINATORS:
        return [leaf for sub in sub_conditions(node) for leaf in _conditions(sub)]
    return [node] if kind_of(node) else []


def _waits_not_timed_to_the_returns(node: object) -> list[Mapping[str, Any]]:
    """Budget waits inside an ``all_of`` that also judges the returns, without ``as_of: returns``."""
    if not isinstance(node, Mapping) or kind_of(node) not in COMBINATORS:
        return []
    found: list[Mapping[str, Any]] = []
    if kind_of(node) == "all_of":
        inside = _conditions(node)
        if any(c.get("kind") == "return_level" for c in inside):
            found += [
                c
                for c in inside
                if c.get("kind") == "budget"
                and c.get("as_of") != "returns"
                # the warm-up gate and a count of logged steps are not waits for the returns, and
                # the critic's onset is about explained_variance
                and not {"trained_steps", "min_steps"} & set(c)
                and c.get("onset") != "critic"
            ]
    for sub in sub_conditions(node):
        found += _waits_not_timed_to_the_returns(sub)
    return found


#: Logged metrics that are settings, not symptoms: a rule on one of them names a setting.
SETTING_METRICS = ("train/learning_rate", "train/clip_range", "rollout/exploration_rate")


def _names_a_setting(rule: Rule) -> bool:
    """A rule whose evidence is a setting the config or the logs state (``requires``, a
    ``vs_reference`` comparison, or a setting's logged value as its metric)."""
    kinds = _conditions(rule.condition) + _conditions((rule.raw.get("escalate") or {}).get("condition"))
    return (
        bool(rule.raw.get("requires"))
        or rule.metric in SETTING_METRICS
        or any(c.get("kind") == "vs_reference" for c in kinds)
    )


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_a_wait_for_the_returns_counts_to_the_step_they_describe(rule: Rule) -> None:
    """Where a rule judges from its symptoms that the returns have not risen after a wait, the
    wait counts to the step the return evidence describes (SB3's 100-episode ep_rew_mean lags
    the run), not to the log's last step: ``as_of: returns`` on every such budget. A rule that
    names a setting (a learning rate 30x its reference, a clip range of 0.005) has the setting
    as its evidence and the returns only confirm it: its waits count to the last step, so that
    the setting is named as early as before (timing them to the returns lost 26 findings at the
    50% cut of the older splits' event files, with `--env`)."""
    if _names_a_setting(rule):
        return
    escalate = rule.raw.get("escalate") or {}
    missing = _waits_not_timed_to_the_returns(rule.condition)
    missing += _waits_not_timed_to_the_returns(escalate.get("condition"))
    assert missing == [], f"{rule.id}: budget waits next to a return test without as_of: returns: {missing}"
