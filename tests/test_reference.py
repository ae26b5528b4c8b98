"""Env detection, reference numbers, the env-aware conditions and the root-cause plan."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from sb3doctor.conditions import Context
from sb3doctor.conditions import evaluate as evaluate_condition
from sb3doctor.engine import evaluate, evaluate_rule, reference_getter, render_advice
from sb3doctor.explain import describe_advice
from sb3doctor.model import Advice, Finding, Run, Series
from sb3doctor.plan import causal_map, make_plan
from sb3doctor.reference import detect_env_id, run_reference
from sb3doctor.ruleset import builtin_rules
from sb3doctor.sources import read_runs


def _run(path: str = "logs/PPO_1", algo: str = "PPO", **metrics: tuple[list[int], list[float]]) -> Run:
    run = Run(path=Path(path), name=Path(path).name, algo=algo)
    run.metrics = {k.replace("__", "/"): Series.from_points(s, v) for k, (s, v) in metrics.items()}
    return run


def _ctx(run: Run) -> Context:
    return Context(run.metrics, run.step_range(), run.hyperparams, None, {}, reference_getter(run), run.algo)


@pytest.mark.parametrize(
    ("path", "env"),
    [
        ("logs/ppo/CartPole-v1_3", "CartPole-v1"),  # rl-zoo log folder
        ("tb/LunarLander-v3/PPO_2", "LunarLander-v3"),  # rl-zoo --tensorboard-log
        ("runs/Pendulum-v1/seed1/SAC_1", "Pendulum-v1"),
        ("logs/PPO_1", None),
        ("seed1/PPO_1", None),
    ],
)
def test_env_id_from_folder_names(path: str, env: str | None) -> None:
    assert detect_env_id(_run(path))[0] == env


def test_env_id_sources_in_order() -> None:
    run = _run("logs/ppo/CartPole-v1_1")
    run.facts["env_id"] = "Acrobot-v1"  # the Monitor header beats the folder name
    assert detect_env_id(run) == ("Acrobot-v1", "monitor header")
    run.hyperparams["env_id"] = "MountainCar-v0"  # config.json / --env beat both
    assert detect_env_id(run) == ("MountainCar-v0", "config")


def test_reference_numbers() -> None:
    run = _run("x/CartPole-v1_1", algo="DQN")
    ref = run_reference(run)
    assert ref.env_id == "CartPole-v1" and ref.reference_algo == "DQN"
    assert ref.reference_return == 500 and ref.budget == 50_000
    assert 15 < ref.random_return < 30  # type: ignore[operator]
    assert ref.progress(ref.random_return) == 0.0  # type: ignore[arg-type]
    assert ref.progress(500.0) == 1.0
    # an algorithm the zoo has no CartPole entry for: the best algorithm, the cheapest budget
    other = run_reference(_run("x/CartPole-v1_1", algo="SAC"))
    assert other.reference_return == 500 and other.budget == 50_000
    assert run_reference(_run("logs/PPO_1")).env_id is None
    assert run_reference(_run("x/MountainCar-v0_1")).sparse


def _episodes(values: list[float], length: int = 200) -> tuple[list[int], list[float]]:
    return [length * (i + 1) for i in range(len(values))], values


def test_not_learning_is_noise_aware() -> None:
    rng = random.Random(0)
    flat = [-1200 + rng.gauss(0, 250) for _ in range(150)]  # Pendulum at random play
    run = _run("x/Pendulum-v1_1", algo="SAC", episode__reward=_episodes(flat))
    cond = {"kind": "return_level", "measure": "progress", "bound": "upper", "op": "<", "value": 0.15}
    assert evaluate_condition(cond, _ctx(run)).held
    learned = [-1200 + 1000 * min(1, i / 30) + rng.gauss(0, 100) for i in range(150)]
    run2 = _run("x/Pendulum-v1_1", algo="SAC", episode__reward=_episodes(learned))
    assert not evaluate_condition(cond, _ctx(run2)).held
    # unknown env: progress cannot be judged, the effect size can
    run3 = _run("logs/SAC_1", algo="SAC", episode__reward=_episodes(flat))
    assert not evaluate_condition(cond, _ctx(run3)).held
    effect = {"kind": "return_level", "measure": "effect", "bound": "upper", "op": "<", "value": 1.0}
    assert evaluate_condition(effect, _ctx(run3)).held
    assert not evaluate_condition(
        effect, _ctx(_run("logs/SAC_1", algo="SAC", episode__reward=_episodes(learned)))
    ).held


def test_budget_guard() -> None:
    flat = [-1200.0 + (i % 7) * 10 for i in range(20)]
    run = _run("x/Pendulum-v1_1", algo="SAC", episode__reward=_episodes(flat, 100))  # 2000 steps
    cond = {"kind": "return_level", "measure": "progress", "op": "<", "value": 0.15, "min_budget_frac": 0.25}
    assert not evaluate_condition(cond, _ctx(run)).held  # 2000 < 25% of the zoo's 20000
    cond["min_budget_frac"] = 0.05
    assert evaluate_condition(cond, _ctx(run)).held


def test_drop_needs_more_than_noise() -> None:
    rng = random.Random(1)
    # lr 1e-6 PPO CartPole: noise around 25 (the 25.7 -> 30.7 -> 27.1)
    noise = [max(8.0, 25 + rng.gauss(0, 12)) for _ in range(400)]
    cond = {"kind": "return_level", "measure": "drop", "window": {"last_frac": 0.1}, "op": ">", "value": 0.3}
    assert not evaluate_condition(
        cond, _ctx(_run("x/CartPole-v1_1", episode__reward=_episodes(noise, 25)))
    ).held
    # a real collapse: 400 -> 100
    collapse = [400 + rng.gauss(0, 40) for _ in range(200)] + [100 + rng.gauss(0, 30) for _ in range(50)]
    assert evaluate_condition(
        cond, _ctx(_run("x/CartPole-v1_1", episode__reward=_episodes(collapse, 300)))
    ).held


def test_growth_and_vs_reference() -> None:
    steps = list(range(1000, 21000, 1000))
    run = _run(algo="TD3", train__critic_loss=(steps, [0.5] * 5 + [10.0**i for i in range(15)]))
    cond = {"kind": "growth", "metric": "train/critic_loss", "stat": "median", "op": ">=", "value": 1000}
    ev = evaluate_condition(cond, _ctx(run))
    assert ev.held and ev.observed > 1e6
    run.hyperparams["learning_rate"] = 0.05
    vs = {"kind": "vs_reference", "param": "learning_rate", "op": ">=", "value": 10}
    ev = evaluate_condition(vs, _ctx(run))
    assert ev.held and ev.extra["reference"] == 1e-3  # TD3's SB3 default
    run.hyperparams["learning_rate"] = 1e-3
    assert not evaluate_condition(vs, _ctx(run)).held


def test_advice_bounded_by_reference() -> None:
    run = _run("x/CartPole-v1_1", algo="PPO")
    spec = {"param": "learning_rate", "scale": 0.5, "reference": True}
    a = render_advice(spec, {"learning_rate": 0.05}, {}, "en", run, run_reference(run))
    assert a.suggested == 1e-3 and "rl-zoo" in a.text  # not 0.025
    a = render_advice(spec, {"learning_rate": 0.002}, {}, "en", run, run_reference(run))
    assert a.suggested == 0.001  # near the reference: plain halving
    low = render_advice({**spec, "scale": 2}, {"learning_rate": 1e-6}, {}, "en", run, run_reference(run))
    assert low.suggested == 1e-3
    unknown_env = _run("logs/PPO_1", algo="PPO")
    a = render_advice(spec, {"learning_rate": 0.05}, {}, "en", unknown_env, run_reference(unknown_env))
    assert a.suggested == 3e-4 and "SB3 default" in a.text


@pytest.mark.parametrize(
    ("path", "algo", "lr", "ratio"),
    [
        # the env's own tuned value: rl-zoo's DQN on CartPole uses 2.3e-3
        ("logs/dqn/CartPole-v1_1", "DQN", 0.023, 10.0),
        # env unknown: rl-zoo's DQN learning rates go up to 4e-3 (MountainCar), 40x SB3's 1e-4,
        # so "far above" is judged against that, not against the default
        ("logs/DQN_1", "DQN", 1e-3, 0.25),
        ("logs/DQN_1", "DQN", 0.04, 10.0),
        # an env the zoo tuned without a learning rate keeps SB3's default (PPO on LunarLander)
        ("tb/LunarLander-v3/PPO_1", "PPO", 3e-3, 10.0),
        # as an event file stores 0.03 (float32: 0.029999999329447746): still 10x, not 9.99999978
        ("tb/LunarLander-v3/PPO_1", "PPO", 0.029999999329447746, 100.0),
        ("tb/LunarLander-v3/PPO_1", "PPO", 0.0029999999329447746, 10.0),
    ],
)
def test_far_above_is_judged_against_what_works(path: str, algo: str, lr: float, ratio: float) -> None:
    run = _run(path, algo=algo)
    run.hyperparams = {"learning_rate": lr}
    cond = {"kind": "vs_reference", "param": "learning_rate", "op": ">=", "value": 10}
    ev = evaluate_condition(cond, _ctx(run))
    assert ev.observed == pytest.approx(ratio)
    assert ev.held == (ratio >= 10)
    # "far below" keeps SB3's default where the env is unknown: 1e-6 is 100x under it
    run.hyperparams = {"learning_rate": 1e-6}
    below = {"kind": "vs_reference", "param": "learning_rate", "op": "<=", "value": 0.0333}
    assert evaluate_condition(below, _ctx(run)).held


@pytest.mark.parametrize(
    ("path", "algo", "gamma", "horizon_ratio"),
    [
        # CartPole's PPO is tuned to 0.98 (50 steps): gamma 0.5 (2 steps) is a 25th of it
        ("logs/ppo/CartPole-v1_1", "PPO", 0.5, 2 / 50),
        # LunarLander's PPO is tuned to 0.999 (1000 steps), but SB3's 0.99 (100) works there
        # too: the shorter of the two is the reference, so 0.99 is not "far too short"
        ("tb/LunarLander-v3/PPO_1", "PPO", 0.99, 1.0),
        ("tb/LunarLander-v3/PPO_1", "PPO", 0.8, 5 / 100),
        # Pendulum's PPO is tuned to 0.9 (10 steps): 0.8 is half of it, well inside
        ("logs/ppo/Pendulum-v1_1", "PPO", 0.8, 5 / 10),
        # env unknown: SB3's default
        ("logs/SAC_1", "SAC", 0.3, (1 / 0.7) / 100),
    ],
)
def test_discounts_are_compared_by_their_horizons(
    path: str, algo: str, gamma: float, horizon_ratio: float
) -> None:
    run = _run(path, algo=algo)
    run.hyperparams = {"gamma": gamma}
    cond = {"kind": "vs_reference", "param": "gamma", "transform": "horizon", "op": "<=", "value": 0.05}
    ev = evaluate_condition(cond, _ctx(run))
    assert ev.observed == pytest.approx(horizon_ratio)
    assert ev.held == (horizon_ratio <= 0.05 + 1e-12)
    assert ev.extra["horizon"] == pytest.approx(1 / (1 - gamma))
    # a discount of 1 (or more) has no finite horizon: nothing to compare
    run.hyperparams = {"gamma": 1.0}
    assert evaluate_condition(cond, _ctx(run)).observed is None


def test_reference_advice_without_a_scale_advises_the_reference() -> None:
    spec = {"param": "gamma", "reference": True}
    run = _run("logs/ppo/CartPole-v1_1", algo="PPO")
    a = render_advice(spec, {"gamma": 0.3}, {}, "en", run, run_reference(run))
    assert (a.current, a.suggested) == (0.3, 0.98)
    assert a.text == "gamma 0.3 -> 0.98 (rl-zoo's tuned value for CartPole-v1; SB3 default 0.99)"
    unknown = _run("logs/SAC_1", algo="SAC")
    a = render_advice(spec, {"gamma": 0.3}, {}, "zh", unknown, run_reference(unknown))
    assert a.suggested == 0.99 and "SB3 默认值" in a.text
    # `explain` says what the engine will do with such an item, and with a bounded scale
    assert (
        describe_advice(spec) == "gamma -> the value known to work (rl-zoo's for the env, else SB3's default)"
    )
    assert "3x" in describe_advice({"param": "learning_rate", "scale": 10, "reference": True})


def _finding(rule: str, category: str, severity: str, *params: str) -> Finding:
    return Finding(
        rule, rule.lower(), category, severity, None, "m", advice=[Advice(p, 1.0, 2.0, p) for p in params]
    )


def test_plan_root_cause_first() -> None:
    findings = [
        _finding("ENT", "entropy_collapse", "warning", "ent_coef"),
        _finding("CLIPLOW", "updates_too_small", "info", "learning_rate"),
        _finding("LR", "lr_too_high", "warning", "learning_rate"),
        _finding("DIV", "diverged", "error", "learning_rate", "max_grad_norm"),
        _finding("FPS", "slow_training", "info", "n_envs"),
    ]
    plan = make_plan(findings)
    assert plan[0].rule == "LR" and plan[0].caused_by is None
    by = {f.rule: f for f in plan}
    assert by["DIV"].caused_by == "LR" and by["ENT"].caused_by == "LR" and by["CLIPLOW"].caused_by == "LR"
    assert by["FPS"].caused_by is None  # unrelated
    # one recommendation per knob, from the root; consequences carry none
    assert [a.param for a in by["LR"].advice] == ["learning_rate"]
    assert by["DIV"].advice == [] and by["ENT"].advice == []
    assert [a.param for a in by["FPS"].advice] == ["n_envs"]


def test_a_setting_leads_the_symptoms_of_its_category() -> None:
    # The high-KL error and the learning-rate warning are both lr_too_high: the finding that
    # names the setting is the root whatever the severities, so its reference advice is the one kept.
    plan = make_plan(
        [
            _finding("PPO-KL-HIGH", "lr_too_high", "error", "learning_rate", "target_kl"),
            _finding("DIVERGED-KL", "diverged", "error", "learning_rate"),
            _finding("LR-FAR-ABOVE-REFERENCE", "lr_too_high", "warning", "learning_rate"),
        ]
    )
    assert plan[0].rule == "LR-FAR-ABOVE-REFERENCE" and plan[0].caused_by is None
    by = {f.rule: f for f in plan}
    assert by["PPO-KL-HIGH"].caused_by == by["DIVERGED-KL"].caused_by == "LR-FAR-ABOVE-REFERENCE"
    # one recommendation per knob: the learning rate's from the root; the KL finding, the same
    # diagnosis, keeps its other knob; the divergence, a consequence, keeps none
    assert [a.param for a in by["LR-FAR-ABOVE-REFERENCE"].advice] == ["learning_rate"]
    assert [a.param for a in by["PPO-KL-HIGH"].advice] == ["target_kl"]
    assert by["DIVERGED-KL"].advice == []


def test_every_rule_that_compares_a_setting_leads_its_category() -> None:
    causes = causal_map()
    compares = {r.id for r in builtin_rules() if '"vs_reference"' in json.dumps([r.condition, r.escalate])}
    # ... and the rules whose setting is the evidence (`requires` on a tuned hyperparameter)
    requires_setting = {r.id for r in builtin_rules() if "ent_coef" in r.requires}
    assert compares and requires_setting
    assert compares | requires_setting == causes.settings_first
    # a setting's reach beyond its category names real rules and categories
    rules = {r.id: r for r in builtin_rules()}
    for rule_id, categories in causes.setting_explains.items():
        assert rule_id in causes.settings_first
        assert categories <= set(causes.order), categories - set(causes.order)
        assert rules[rule_id].category in categories


def test_a_discount_far_too_short_is_the_root_over_the_symptoms_it_explains() -> None:
    # PPO on Acrobot with gamma 0.3: the returns never leave the floor (a sparse task) and the
    # critic explains little. Both categories rank before reward_plateau in the causal order,
    # yet the discount is what the user changes: it leads, and the symptoms lose their advice.
    symptoms = [
        _finding("SPARSE-REWARD-NO-LEARNING", "sparse_reward_no_learning", "warning", "ent_coef"),
        _finding("VF-EV-LOW", "value_fn_poor", "warning", "vf_coef"),
    ]
    gamma = _finding("GAMMA-FAR-BELOW-REFERENCE", "reward_plateau", "warning", "gamma")
    plan = make_plan([*symptoms, gamma])
    assert [f.rule for f in plan] == ["GAMMA-FAR-BELOW-REFERENCE", "SPARSE-REWARD-NO-LEARNING", "VF-EV-LOW"]
    assert all(f.caused_by == "GAMMA-FAR-BELOW-REFERENCE" and f.advice == [] for f in plan[1:])
    assert [a.param for a in plan[0].advice] == ["gamma"]
    # Exploration that ended early explains the same symptoms and ranks earlier; the discount
    # is then a second root, not a consequence, and keeps its advice.
    plan = make_plan(
        [
            _finding("DQN-EPS-ENDS-EARLY", "insufficient_exploration", "warning", "exploration_fraction"),
            _finding("GAMMA-FAR-BELOW-REFERENCE", "reward_plateau", "warning", "gamma"),
        ]
    )
    assert [(f.rule, f.caused_by) for f in plan] == [
        ("DQN-EPS-ENDS-EARLY", None),
        ("GAMMA-FAR-BELOW-REFERENCE", None),
    ]
    assert [a.param for a in plan[1].advice] == ["gamma"]


def test_a_negative_entropy_coefficient_leads_its_symptoms_but_not_another_setting() -> None:
    # PPO with ent_coef -1 on Pendulum: the std shrinks until the KL blows up. The KL findings
    # (lr_too_high) are symptoms of the sign, and give way to it; a learning rate that is itself
    # 50x rl-zoo's is a second setting to fix, a root of its own that keeps its advice.
    plan = make_plan(
        [
            _finding("PPO-KL-HIGH", "lr_too_high", "warning", "target_kl"),
            _finding("ENTROPY-COLLAPSE", "entropy_collapse", "warning", "learning_rate"),
            _finding("ENT-COEF-NEGATIVE", "entropy_collapse", "warning", "ent_coef"),
        ]
    )
    assert [(f.rule, f.caused_by) for f in plan] == [
        ("ENT-COEF-NEGATIVE", None),
        ("PPO-KL-HIGH", "ENT-COEF-NEGATIVE"),
        ("ENTROPY-COLLAPSE", "ENT-COEF-NEGATIVE"),
    ]
    # the root's advice on the sign; the KL, another category, keeps none; the entropy collapse,
    # the same diagnosis, keeps its other knob
    assert [a.param for a in plan[0].advice] == ["ent_coef"]
    assert plan[1].advice == []
    assert [a.param for a in plan[2].advice] == ["learning_rate"]
    plan = make_plan(
        [
            _finding("LR-FAR-ABOVE-REFERENCE", "lr_too_high", "warning", "learning_rate"),
            _finding("ENT-COEF-NEGATIVE", "entropy_collapse", "warning", "ent_coef"),
        ]
    )
    assert {(f.rule, f.caused_by) for f in plan} == {
        ("LR-FAR-ABOVE-REFERENCE", None),
        ("ENT-COEF-NEGATIVE", None),
    }
    assert all(f.advice for f in plan)


def test_info_never_explains_a_warning() -> None:
    plan = make_plan([_finding("A", "lr_too_high", "info"), _finding("B", "value_fn_poor", "warning")])
    assert all(f.caused_by is None for f in plan)


def test_no_noop_and_no_unused_feature_advice() -> None:
    rules = {r.id: r for r in builtin_rules()}
    steps = [2048 * (i + 1) for i in range(10)]
    run = _run(
        "logs/PPO_1", algo="PPO", time__fps=(steps, [4000, 1500, 1450, 1400, 900, 700, 600, 500, 450, 400])
    )
    (finding,) = evaluate(run, [rules["PERF-FPS-DROP"]])
    assert finding.advice == []  # eval_freq only where the run has an EvalCallback
    run.metrics["eval/mean_reward"] = Series.from_points(steps, [1.0] * 10)
    (finding,) = evaluate(run, [rules["PERF-FPS-DROP"]])
    assert [a.param for a in finding.advice] == ["eval_freq"]


def test_negative_entropy_bonus_is_reset_not_doubled() -> None:
    run = _run(algo="PPO")
    spec = {"param": "ent_coef", "scale": 2, "default": 0.0, "if_zero_set": 0.01}
    assert render_advice(spec, {"ent_coef": -1.0}, {}, "en", run).suggested == 0.01
    assert render_advice(spec, {"ent_coef": 0.0}, {}, "en", run).suggested == 0.01
    assert render_advice(spec, {"ent_coef": 0.01}, {}, "en", run).suggested == 0.02


def test_too_early_says_how_much_of_the_budget_the_run_has_used() -> None:
    # DDPG on Pendulum with a 10,000-step warm-up, 12,000 steps in: 2,000 steps of updates are
    # 20% of the fastest zoo agent's 20,000-step budget less that warm-up, not 60% of it
    rng = random.Random(1)
    run = _run(
        "x/Pendulum-v1_1",
        algo="DDPG",
        episode__reward=_episodes([-1200 + rng.gauss(0, 150) for _ in range(60)]),
        train__actor_loss=([10_000 + 400 * i for i in range(6)], [1.0] * 6),
    )
    rules = {r.id: r for r in builtin_rules()}
    (finding,) = evaluate(run, [rules["RET-TOO-EARLY"]])
    assert "the run has used 20% of the 20000-step budget" in finding.message
    assert "not counting the steps before its first update" in finding.message


def test_a_note_that_the_run_was_short_gives_way_to_a_fault() -> None:
    """RET-PLAN-SHORT says the returns are low because the run stopped after a few percent of
    rl-zoo's budget; beside a warning that names a fault it would contradict it ("because of
    the learning rate: the run was short"), so it is shown only where nothing else is."""
    root = Path(__file__).resolve().parents[1]
    causes = causal_map()
    rules = {r.id: r for r in builtin_rules()}
    assert causes.only_alone and all(rules[i].severity == "info" for i in causes.only_alone)
    # rl-zoo's PPO on LunarLander planned for 150,000 of the zoo's 1M steps: the note stands
    (healthy,) = read_runs(root / "bench" / "benchmark" / "runs" / "healthy-ppo-lunarlander-s3")
    assert "RET-PLAN-SHORT" in [f.rule for f in evaluate(healthy, builtin_rules())]
    # PPO at 30x rl-zoo's learning rate on CartPole: the rule holds, the learning rate speaks
    (faulty,) = read_runs(root / "fixtures" / "ppo_lr_high")
    assert evaluate_rule(rules["RET-PLAN-SHORT"], faulty) is not None
    found = evaluate(faulty, builtin_rules())
    assert "LR-FAR-ABOVE-REFERENCE" in [f.rule for f in found]
    assert "RET-PLAN-SHORT" not in [f.rule for f in found]
