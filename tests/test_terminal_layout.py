"""The terminal view fits narrow terminals without cutting numbers off."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from rich.cells import cell_len

from sb3doctor.engine import evaluate, fmt_num
from sb3doctor.reporters import Report, RunReport, render
from sb3doctor.reporters.terminal import KEY_METRICS
from sb3doctor.ruleset import builtin_rules
from sb3doctor.sources import read_runs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def report() -> Report:
    rules = builtin_rules()
    runs = read_runs(ROOT / "fixtures" / "ppo_lr_high")
    return Report([RunReport(r, evaluate(r, rules)) for r in runs])


def _metric_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "metrics")
    return [line for line in lines[start + 1 :] if line.startswith("    ")]


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_every_line_fits_and_metric_numbers_stay_whole(report: Report, width: int) -> None:
    text = render(report, "terminal", width=width)
    assert max(cell_len(line) for line in text.splitlines()) <= width
    run = report.runs[0].run
    rows = _metric_lines(text)
    assert len(rows) >= 10
    names = [m for m in KEY_METRICS if m in run.metrics]
    assert len(rows) == len(names)
    for name, row in zip(names, rows, strict=True):
        finite = [v for v in run.metrics[name].values if math.isfinite(v)]
        # first -> last are always there, whole, at the end of the line or before the range
        numbers = f"{fmt_num(finite[0])} -> {fmt_num(finite[-1])}"
        assert numbers in row and "…" not in row.split(numbers)[1]
        # only the name column may give way (shortened from the middle), and only when narrow
        assert (name in row) or (width < 80 and "…" in row.split()[0])


def test_wide_terminal_keeps_the_range_and_a_full_sparkline(report: Report) -> None:
    rows = _metric_lines(render(report, "terminal", width=140))
    assert all(row.rstrip().endswith("]") for row in rows)
    entropy = next(row for row in rows if "train/entropy_loss" in row)
    assert "[-0.6757, -0.003544]" in entropy
    assert len(entropy.split()[2]) == 24  # the sparkline at its full width


def test_finding_title_moves_the_metric_to_its_own_line_when_narrow(report: Report) -> None:
    text = render(report, "terminal", width=80)
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if "LR-FAR-ABOVE-REFERENCE" in line)
    assert lines[i + 1] == "    train/learning_rate"


# --------------------------------------------------------------------------- the rules list


def test_rules_list_says_what_each_rule_detects(capsys: pytest.CaptureFixture[str]) -> None:
    from sb3doctor.cli import main

    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["Id", "Severity", "Category", "Description"]
    kl = next(line for line in lines if line.startswith("PPO-KL-HIGH "))
    rule = next(r for r in builtin_rules() if r.id == "PPO-KL-HIGH")
    assert "approx kl too high" in kl
    assert rule.text("why").split(".")[0][:30] not in kl  # not the rationale's first sentence


def test_a_rule_title_is_its_summary() -> None:
    import copy

    from sb3doctor.ruleset import parse_rule

    rule = next(r for r in builtin_rules() if r.id == "PPO-KL-HIGH")
    raw = copy.deepcopy(rule.raw)
    raw["title"] = {"en": "policy moves too far per update", "zh": "每次更新策略变化过大"}
    titled = parse_rule(raw)
    assert titled.summary() == "policy moves too far per update"
    assert titled.summary("zh") == "每次更新策略变化过大"


# --------------------------------------------------------------------------- Chinese


def test_expectation_messages_in_chinese() -> None:
    from sb3doctor.expect import evaluate_expectations, parse_expectations

    runs = read_runs(ROOT / "fixtures" / "ppo_seeds")
    exps = parse_expectations(["rollout/ep_rew_mean:median@last20%>=475", "rollout/ep_rew_meen:last>1"])
    for aggregate in (None, "median"):
        results = evaluate_expectations(runs, exps, aggregate, lang="zh")
        messages = [r.finding.message for r in results if r.finding is not None]
        assert messages and len(messages) == len(results)
        for message in messages:
            assert "期望" in message
            assert not any(w in message for w in ("expected", "not logged", "did you mean", "across"))
        english = evaluate_expectations(runs, exps, aggregate)
        assert all("expected" in r.finding.message for r in english if r.finding is not None)


def test_sarif_advice_label_in_chinese(report: Report) -> None:
    import json

    zh = json.loads(render(report, "sarif", lang="zh"))
    texts = [r["message"]["text"] for r in zh["runs"][0]["results"]]
    assert any("\n建议: " in text for text in texts)
    assert not any("Advice:" in text for text in texts)


def test_rule_texts_carry_no_spaces_between_chinese_characters() -> None:
    import re

    cjk = "[\u2e80-\u9fff\uff00-\uffef\u3000-\u303f]"
    pattern = re.compile(f"{cjk}[ \t]+{cjk}")
    for rule in builtin_rules():
        texts = [rule.text(k, "zh") for k in ("message", "why", "false_alarms")]
        texts += [a["text"].get("zh", "") for a in rule.advice if "text" in a]
        for text in texts:
            assert not pattern.search(text), (rule.id, text)


def test_chinese_wrapping_inserts_nothing_and_never_starts_with_punctuation() -> None:
    import re

    from sb3doctor.reporters.terminal import wrap_cells

    rule = next(r for r in builtin_rules() if r.id == "PPO-KL-SPIKES")
    text = rule.text("why", "zh")
    cjk_space = re.compile("[\u2e80-\u9fff\uff00-\uffef][ \t]+[\u2e80-\u9fff\uff00-\uffef]")
    for room in range(20, 60):
        lines = wrap_cells(text, room)
        # Nothing lost, nothing added: only the spaces at the breaks go.
        assert re.sub(r"\s", "", "".join(lines)) == re.sub(r"\s", "", text)
        assert "".join(lines).count(" ") <= text.count(" ")
        assert not any(cjk_space.search(line) for line in lines)
        assert all(cell_len(line) <= room for line in lines), (room, lines)
        assert not any(line[:1] in "，。、；：！？）" for line in lines), (room, lines)
