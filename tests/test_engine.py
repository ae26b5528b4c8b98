"""The engine: algorithm/requirement filtering, escalation, message and advice rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sb3doctor.engine import evaluate, fmt_num, render_advice, requirements_met
from sb3doctor.model import Run, Series, SourceData
from sb3doctor.ruleset import parse_rule
from sb3doctor.sources import build_run


def make_rule(**over: Any) -> Any:
    data: dict[str, Any] = {
        "id": "TEST-KL-HIGH",
        "name": "test-kl-high",
        "category": "lr_too_high",
        "severity": "warning",
        "applies_to": ["PPO"],
        "metric": "train/approx_kl",
        "condition": {"kind": "threshold", "stat": "median", "window": {"last": 5}, "op": ">", "value": 0.05},
        "escalate": {
            "severity": "error",
            "condition": {
                "kind": "threshold",
                "stat": "median",
                "window": {"last": 5},
                "op": ">",
                "value": 0.2,
            },
        },
        "message": {
            "en": "kl {observed:.3g} > {threshold} over {window} (lr {hp[learning_rate]})",
            "zh": "KL {observed:.3g} 高于 {threshold}（{window}）",
        },
        "why": "why",
        "false_alarms": "never",
        "advice": [{"param": "learning_rate", "scale": 0.5}, {"param": "target_kl", "set": 0.02}],
        "sources": ["002_74f3ec3cfef1a119.txt"],
        "examples": [{"expect": "fire", "series": {}}, {"expect": "quiet", "series": {}}],
    }
    data.update(over)
    return parse_rule(data)


def ppo_run(kl: list[float], lr: float | None = 3e-4, algo_name: str = "PPO_1") -> Run:
    src = SourceData("tensorboard", Path(algo_name))
    steps = [2048 * (i + 2) for i in range(len(kl))]
    src.metrics["train/approx_kl"] = Series.from_points(steps, kl)
    src.metrics["train/clip_fraction"] = Series.from_points(steps, [0.1] * len(kl))
    if lr is not None:
        src.metrics["train/learning_rate"] = Series.from_points(steps, [lr] * len(kl))
    return build_run(Path(algo_name), algo_name, [src])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3e-4, "3e-4"),
        (0.0003000000142, "3e-4"),
        (1.5e-4, "1.5e-4"),
        (0.2, "0.2"),
        (0.1, "0.1"),
        (10, "10"),
        (5, "5"),
        (0.0, "0.0"),
        (0.01, "0.01"),
        (2048, "2048"),
        (0.999, "0.999"),
        (12345.0, "12345"),
        (2.5e7, "2.5e7"),
        ("dict(vf=[256, 256])", "dict(vf=[256, 256])"),
        (True, "True"),
    ],
)
def test_fmt_num(value: Any, text: str) -> None:
    assert fmt_num(value) == text


def test_advice_scale_with_known_value() -> None:
    a = render_advice({"param": "learning_rate", "scale": 0.5}, {"learning_rate": 0.0003000000142}, {}, "en")
    assert a.text == "learning_rate 3e-4 -> 1.5e-4"
    assert a.current == 0.0003 and a.suggested == 0.00015


def test_advice_unknown_value_is_relative() -> None:
    a = render_advice({"param": "learning_rate", "scale": 0.5}, {}, {}, "en")
    assert a.text == "learning_rate x0.5 (current value not in the logs)"
    assert a.current is None and a.suggested is None
    a = render_advice({"param": "n_epochs", "add": -5}, {}, {}, "zh")
    assert a.text == "n_epochs -5 (日志中没有当前值)"


def test_advice_zero_default_and_int_params() -> None:
    spec = {"param": "ent_coef", "scale": 2, "default": 0.0, "if_zero_set": 0.01}
    assert render_advice(spec, {}, {}, "en").text.startswith("ent_coef 0.0 -> 0.01 (SB3 default assumed")
    assert render_advice(spec, {"ent_coef": 0.01}, {}, "en").text == "ent_coef 0.01 -> 0.02"
    a = render_advice({"param": "n_epochs", "add": -5, "min": 1}, {"n_epochs": 10}, {}, "en")
    assert a.text == "n_epochs 10 -> 5" and a.suggested == 5 and isinstance(a.suggested, int)
    a = render_advice({"param": "n_epochs", "add": -5, "min": 1}, {"n_epochs": 3}, {}, "en")
    assert a.suggested == 1
    a = render_advice({"param": "batch_size", "scale": 0.5}, {"batch_size": 64}, {}, "en")
    assert a.text == "batch_size 64 -> 32"
    a = render_advice({"param": "clip_range", "scale": 0.5}, {"clip_range": 0.2}, {}, "en")
    assert a.text == "clip_range 0.2 -> 0.1"


def test_advice_set_and_text() -> None:
    spec = {"param": "net_arch", "set": "dict(pi=[64, 64], vf=[256, 256])", "text": {"en": "a bigger critic"}}
    a = render_advice(spec, {"net_arch": "dict(pi=[64, 64], vf=[64, 64])"}, {}, "en")
    assert (
        a.text
        == "net_arch dict(pi=[64, 64], vf=[64, 64]) -> dict(pi=[64, 64], vf=[256, 256]): a bigger critic"
    )
    spec = {"param": "target_kl", "set": 0.02, "text": {"en": "try {param}={suggested} (was {current})"}}
    assert render_advice(spec, {}, {}, "en").text == "try target_kl=0.02 (was ?)"


def test_requirements() -> None:
    assert requirements_met({"action_space": "discrete"}, {"action_space": "discrete"})
    assert not requirements_met({"action_space": "discrete"}, {"action_space": "box"})
    assert not requirements_met({"action_space": "discrete"}, {})  # unknown: the rule cannot judge
    assert requirements_met({"n_actions": {">=": 2}}, {"n_actions": 4})
    assert not requirements_met({"n_actions": {">=": 5}}, {"n_actions": 4})
    assert not requirements_met({"n_actions": {">=": 5}}, {"n_actions": "many"})


def test_evaluate_fires_with_rendered_message_and_advice() -> None:
    run = ppo_run([0.02, 0.06, 0.07, 0.08, 0.09, 0.1])
    (f,) = evaluate(run, [make_rule()])
    assert f.severity == "warning"
    assert f.observed == pytest.approx(0.08) and f.threshold == 0.05
    assert f.message == "kl 0.08 > 0.05 over last 5 points (lr 3e-4)"
    assert f.window == "last 5 points" and f.steps == (6144, 14336)
    assert [a.text for a in f.advice] == ["learning_rate 3e-4 -> 1.5e-4", "target_kl -> 0.02"]
    assert f.sources == ["002_74f3ec3cfef1a119.txt"]
    (zh,) = evaluate(run, [make_rule()], lang="zh")
    assert zh.message == "KL 0.08 高于 0.05（最近 5 个点）"


def test_escalation_and_quiet() -> None:
    (f,) = evaluate(ppo_run([0.3, 0.25, 0.4, 0.3, 0.5]), [make_rule()])
    assert f.severity == "error" and f.threshold == 0.2
    assert evaluate(ppo_run([0.01, 0.02, 0.015, 0.02, 0.01]), [make_rule()]) == []


def _shows_rule() -> Any:
    median = {"kind": "threshold", "stat": "median", "window": {"last": 5}, "op": ">"}
    return make_rule(
        condition={
            "any_of": [
                {**median, "value": 0.05, "shows": {"en": "median above 0.05", "zh": "中位数高于 0.05"}},
                {"kind": "threshold", "stat": "max", "op": ">", "value": 1.0, "shows": "a spike above 1"},
                {"kind": "threshold", "metric": "train/clip_fraction", "stat": "max", "op": ">", "value": 0.5,
                 "shows": "clip_fraction above 0.5"},
            ]
        },
        escalate={"severity": "error", "condition": {**median, "value": 0.2, "shows": "median above 0.2"}},
        message={"en": "kl: {shown}", "zh": "KL：{shown}"},
    )  # fmt: skip


def test_message_names_the_evidence_that_held() -> None:
    # Only the branches that held are named, in rule order; an escalation adds its own.
    (f,) = evaluate(ppo_run([0.02, 0.06, 0.07, 0.08, 0.09, 0.1]), [_shows_rule()])
    assert f.message == "kl: median above 0.05"
    (f,) = evaluate(ppo_run([0.02, 0.06, 0.07, 0.08, 1.5, 0.1]), [_shows_rule()])
    assert f.message == "kl: median above 0.05; a spike above 1"
    (f,) = evaluate(ppo_run([0.02, 0.06, 0.07, 0.08, 1.5, 0.1]), [_shows_rule()], lang="zh")
    assert f.message == "KL：中位数高于 0.05；a spike above 1"  # English where no translation
    (f,) = evaluate(ppo_run([0.3, 0.25, 0.4, 0.3, 0.5]), [_shows_rule()])
    assert f.severity == "error" and f.message == "kl: median above 0.05; median above 0.2"


@pytest.mark.parametrize(
    ("shows", "problem"),
    [
        ("see {observed}", "plain text"),
        ({"fr": "x", "en": "y"}, "unknown language"),
        (3, "expected a string"),
    ],
)
def test_shows_is_plain_localized_text(shows: Any, problem: str) -> None:
    cond = {"kind": "threshold", "stat": "max", "op": ">", "value": 1.0, "shows": shows}
    with pytest.raises(Exception, match=problem):
        make_rule(condition={"any_of": [cond]})


def test_unknown_hyperparameter_in_message_prints_question_mark() -> None:
    (f,) = evaluate(ppo_run([0.1] * 5, lr=None), [make_rule()])
    assert f.message.endswith("(lr ?)")
    assert f.advice[0].text == "learning_rate x0.5 (current value not in the logs)"


def test_applies_to_and_requires_filter() -> None:
    run = ppo_run([0.1] * 5)
    assert evaluate(run, [make_rule(applies_to=["A2C"])]) == []
    assert len(evaluate(run, [make_rule(applies_to=["all"])])) == 1
    assert run.hyperparams["action_space"] == "discrete"
    assert evaluate(run, [make_rule(requires={"action_space": "box"})]) == []
    assert len(evaluate(run, [make_rule(requires={"action_space": "discrete"})])) == 1
