"""Evidence reads in one unit per field, with the window the rule states.

PPO-KL-SPIKES compares a share of updates with a required share, at a KL level; printing
"observed 0.8 · threshold 0.1" put a fraction next to a KL value. EP-STATS-FROZEN's threshold
(a number of steps derived from ep_len_mean) was an unexplained number.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from sb3doctor.config import Config
from sb3doctor.engine import evaluate
from sb3doctor.errors import ConfigError
from sb3doctor.i18n import describe_window
from sb3doctor.model import Finding
from sb3doctor.reporters import Report, RunReport, render
from sb3doctor.ruleset import Rule, builtin_rules, example_run, parse_rule
from sb3doctor.sources import read_runs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rules() -> dict[str, Rule]:
    return {r.id: r for r in builtin_rules()}


def _finding(rule: Rule, example_index: int, lang: str = "en") -> Finding:
    (finding,) = evaluate(example_run(rule, rule.examples[example_index]), [rule], lang=lang)
    return finding


def test_kl_spikes_evidence_is_a_share_of_updates_on_the_real_run(rules: dict[str, Rule]) -> None:
    (run,) = read_runs(ROOT / "fixtures" / "ppo_lr_high")
    (f,) = [f for f in evaluate(run, list(rules.values())) if f.rule == "PPO-KL-SPIKES"]
    # Both fields are shares of updates at the same KL level, so they can be compared.
    assert f.evidence["observed"] == f"{f.observed:.0%} of the updates above approx_kl 0.1"
    assert f.evidence["threshold"] == "25% of the updates above approx_kl 0.1"
    # The window says what the message says: the same number of updates.
    n_message = re.search(r"of the last (\d+) updates", f.message)
    assert n_message is not None
    assert f.window == f"last {n_message.group(1)} updates"


def test_a_young_run_is_not_said_to_have_more_updates_than_it_has(rules: dict[str, Rule]) -> None:
    rule = rules["PPO-KL-SPIKES"]
    # Example 1 has 10 updates; the rule's window asks for the last 20.
    assert len(rule.examples[1]["series"]["train/approx_kl"]) == 10
    f = _finding(rule, 1)
    assert f.window == "last 10 updates" and "of the last 10 updates" in f.message
    # The generic window text counts the points actually used, too.
    assert describe_window({"last": 20}, "en", n=19) == "last 19 points"
    assert describe_window({"last": 20}, "en", n=25) == "last 20 points"
    assert describe_window({"last": 20}, "zh", n=7) == "最近 7 个点"


def test_threshold_text_follows_a_configured_fraction(rules: dict[str, Rule]) -> None:
    cfg = Config(rules={"PPO-KL-SPIKES": {"condition.fraction": 0.5}})
    (rule,) = cfg.select([rules["PPO-KL-SPIKES"]])
    assert rule.condition["fraction"] == 0.5
    f = _finding(rule, 1)  # 5 of 10 updates above 0.1: still fires at one half
    assert f.evidence["threshold"] == "50% of the updates above approx_kl 0.1"


def test_frozen_threshold_is_explained_in_steps(rules: dict[str, Rule]) -> None:
    rule = rules["EP-STATS-FROZEN"]
    f = _finding(rule, 0)
    frozen_len = rule.examples[0]["series"]["rollout/ep_len_mean"][-1]  # 6.08
    assert f.threshold == pytest.approx(5 * frozen_len)
    assert f.evidence["threshold"].startswith(f"{5 * frozen_len:,.0f} steps (5 x ep_len_mean")
    assert f.evidence["observed"] == f"{f.observed:,.0f} steps without a change"
    assert f.window == "5 identical tables in a row"
    zh = _finding(rule, 0, lang="zh")
    assert "步" in zh.evidence["threshold"] and zh.window == "连续 5 个相同的表格"


def test_reports_print_the_worded_evidence(rules: dict[str, Rule]) -> None:
    rule = rules["PPO-KL-SPIKES"]
    run = example_run(rule, rule.examples[0])
    report = Report([RunReport(run, evaluate(run, [rule]))], fail_on="warning")
    terminal = render(report, "terminal", width=200)
    assert "evidence: observed 30% of the updates above approx_kl 0.1 · threshold 25% of the" in terminal
    assert "threshold 0.1" not in terminal
    doc = json.loads(render(report, "json"))
    (finding,) = doc["runs"][0]["findings"]
    assert finding["evidence"]["observed"].startswith("30% of the updates")
    junit = render(report, "junit")
    assert "observed: 30% of the updates above approx_kl 0.1  threshold: 25% of the updates" in junit
    sarif = json.loads(render(report, "sarif"))
    assert sarif["runs"][0]["results"][0]["properties"]["evidence"] == finding["evidence"]


def test_rules_without_wording_keep_their_numbers(rules: dict[str, Rule]) -> None:
    rule = rules["PPO-KL-HIGH"]
    f = _finding(rule, next(i for i, ex in enumerate(rule.examples) if ex["expect"] == "fire"))
    assert f.evidence == {}
    assert f.evidence_text("threshold") == "0.05" or f.evidence_text("threshold") == "0.2"


def test_evidence_block_is_validated(rules: dict[str, Rule]) -> None:
    raw = copy.deepcopy(rules["PPO-KL-SPIKES"].raw)
    raw["evidence"] = {"unit": "fraction"}
    with pytest.raises(ConfigError, match="evidence"):
        parse_rule(raw)
    raw["evidence"] = {"observed": "{observed.__class__}"}
    with pytest.raises(ConfigError, match=r"evidence\.observed"):
        parse_rule(raw)
