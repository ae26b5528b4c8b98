"""``sb3doctor analyze / rules / explain`` end to end, on logs written by SB3's own logger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sb3doctor.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def write_ppo_run(folder: Path, kl: list[float], lr: float = 3e-4) -> Path:
    """A PPO-shaped run written through SB3's TensorBoard logger (as PPO.learn would)."""
    from stable_baselines3.common.logger import configure

    logger = configure(str(folder), ["tensorboard"])
    for i, value in enumerate([None, *kl]):
        step = 2048 * (i + 1)
        logger.record("rollout/ep_rew_mean", 20.0 + 10 * i)
        logger.record("rollout/ep_len_mean", 20.0 + 10 * i)
        logger.record("time/fps", 1500.0)
        if value is not None:  # PPO's first dump has no train/ keys
            logger.record("train/approx_kl", value)
            logger.record("train/clip_fraction", 0.12)
            logger.record("train/clip_range", 0.2)
            logger.record("train/entropy_loss", -0.69 + 0.01 * i)
            logger.record("train/explained_variance", 0.5)
            logger.record("train/learning_rate", lr)
            logger.record("train/loss", 5.0)
            logger.record("train/policy_gradient_loss", -0.01)
            logger.record("train/value_loss", 10.0)
        logger.dump(step)
    logger.close()
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("logs")
    return {
        "healthy": write_ppo_run(
            root / "healthy" / "PPO_1", [0.012, 0.015, 0.02, 0.018, 0.016, 0.014, 0.017]
        ),
        "warning": write_ppo_run(root / "warning" / "PPO_1", [0.02, 0.07, 0.08, 0.09, 0.08, 0.1, 0.09]),
        "error": write_ppo_run(root / "error" / "PPO_1", [0.2, 0.3, 0.35, 0.4, 0.3, 0.5, 0.45]),
    }


@pytest.fixture(autouse=True)
def no_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Run from an empty folder so no sb3doctor.yaml / pyproject.toml up the tree is picked up.
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_healthy_run_says_no_problems(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "analyze", str(runs["healthy"]))
    assert code == 0
    assert "no problems found" in out
    assert "algorithm: PPO" in out
    assert "2,048-16,384" in out  # timesteps covered
    assert "train/approx_kl" in out and any(c in out for c in "▁▂▃▄▅▆▇█")  # metric summary with sparkline
    assert "\x1b[" not in out  # no colour when not a TTY


def test_header_names_the_env_or_says_it_is_unknown(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # An event file alone does not say which env it trained on: the returns can only be compared
    # with the run's own start, and the header says so and how to change it.
    _, out, _ = run_cli(capsys, "analyze", str(runs["healthy"]), "--fail-on", "never")
    assert "env: unknown (give --env)" in out
    _, out, _ = run_cli(capsys, "analyze", str(runs["healthy"]), "--env", "CartPole-v1", "--fail-on", "never")
    assert "env: CartPole-v1" in out
    # a Monitor header names it
    _, out, _ = run_cli(capsys, "analyze", str(FIXTURES / "ppo_cartpole"), "--fail-on", "never")
    assert "env: CartPole-v1" in out


def test_warning_finding_with_numeric_advice(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "analyze", str(runs["warning"]))
    assert code == 0  # default --fail-on error
    assert "PPO-KL-HIGH" in out and "WARNING" in out
    assert "learning_rate 3e-4 -> 1.5e-4" in out
    assert "observed 0.08" in out and "threshold 0.05" in out
    code, _, _ = run_cli(capsys, "analyze", str(runs["warning"]), "--fail-on", "warning")
    assert code == 1


def test_fail_on_levels(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "analyze", str(runs["error"]))[0] == 1
    assert run_cli(capsys, "analyze", str(runs["error"]), "--fail-on", "never")[0] == 0
    assert run_cli(capsys, "analyze", str(runs["healthy"]), "--fail-on", "info")[0] == 0


def test_json_document(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "analyze", str(runs["healthy"]), str(runs["error"]), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["version"] == 1
    assert [r["algo"] for r in doc["runs"]] == ["PPO", "PPO"]
    assert doc["runs"][0]["findings"] == []
    assert doc["runs"][1]["steps"] == [2048, 16384]
    assert doc["runs"][1]["sources"][0].endswith(tuple(p.name for p in runs["error"].iterdir()))
    finding = next(f for f in doc["runs"][1]["findings"] if f["rule"] == "PPO-KL-HIGH")
    assert set(finding) >= {
        "rule",
        "name",
        "category",
        "severity",
        "metric",
        "message",
        "observed",
        "threshold",
        "window",
        "steps",
        "advice",
        "sources",
    }
    assert finding["severity"] == "error" and finding["category"] == "lr_too_high"
    assert finding["advice"][0] == {
        "param": "learning_rate",
        "current": 0.0003,
        "suggested": 0.00015,
        "text": finding["advice"][0]["text"],
    }
    assert finding["sources"][0].startswith("sb3doctor notes, PPO metric bands")
    assert doc["summary"]["runs"] == 2 and doc["summary"]["error"] >= 1


def test_chinese(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_cli(capsys, "analyze", str(runs["healthy"]), "--lang", "zh")
    assert "未发现问题" in out
    _, out, _ = run_cli(capsys, "analyze", str(runs["warning"]), "--lang", "zh")
    assert "中位数" in out and "learning_rate 3e-4 -> 1.5e-4" in out


def test_output_file_keeps_terminal_view(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    code, out, _ = run_cli(capsys, "analyze", str(runs["warning"]), "--format", "json", "-o", str(target))
    assert code == 0
    assert "PPO-KL-HIGH" in out and not out.lstrip().startswith("{")
    assert json.loads(target.read_text())["runs"][0]["findings"][0]["rule"] == "PPO-KL-HIGH"


def test_config_overrides(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str], no_user_config: Path
) -> None:
    cfg = no_user_config / "sb3doctor.yaml"
    cfg.write_text("rules:\n  PPO-KL-HIGH: {severity: error}\n")
    assert run_cli(capsys, "analyze", str(runs["warning"]))[0] == 1
    cfg.write_text("rules:\n  PPO-KL-HIGH: {condition.value: 0.5, escalate.condition.value: 0.9}\n")
    _code, out, _ = run_cli(capsys, "analyze", str(runs["error"]), "--format", "json")
    assert "PPO-KL-HIGH" not in {f["rule"] for f in json.loads(out)["runs"][0]["findings"]}
    cfg.write_text("fail_on: warning\ndisable: [lr_too_high]\n")
    assert run_cli(capsys, "analyze", str(runs["error"]), "--disable", "PPO-KL-LOW")[0] == 0


def test_config_errors_exit_2(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str], no_user_config: Path
) -> None:
    (no_user_config / "sb3doctor.yaml").write_text("fail_on: warning\nthresholds: {}\n")
    code, out, err = run_cli(capsys, "analyze", str(runs["healthy"]))
    assert code == 2 and out == ""
    assert "sb3doctor.yaml" in err and "unknown key 'thresholds'" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "analyze", str(runs["healthy"]), "--config", "missing.yaml")
    assert code == 2 and "missing.yaml" in err


def test_usage_and_input_errors_exit_2(runs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "analyze", str(runs["healthy"]), "--disable", "NO-SUCH-RULE")
    assert code == 2 and "NO-SUCH-RULE" in err
    code, _, err = run_cli(capsys, "analyze", "does/not/exist")
    assert code == 2 and "does/not/exist" in err
    assert run_cli(capsys, "analyze", str(runs["healthy"]), "--format", "yaml")[0] == 2


def test_user_rules_dir(runs: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    extra = tmp_path / "my_rules"
    extra.mkdir()
    (extra / "MY-FPS-LOW.yaml").write_text(
        "id: MY-FPS-LOW\nname: fps-low\ncategory: slow_training\nseverity: info\napplies_to: [all]\n"
        "metric: time/fps\ncondition: {kind: threshold, stat: median, op: '<', value: 5000}\n"
        "message: 'fps {observed:.0f} < {threshold}'\nwhy: slow\nfalse_alarms: never\n"
        "advice: [{param: n_envs, scale: 2}]\nsources: [mine]\n"
        "examples: [{expect: fire, series: {time/fps: [1, 2, 3]}},\n"
        "           {expect: quiet, series: {time/fps: [9000, 9000, 9000]}}]\n"
    )
    code, out, _ = run_cli(
        capsys, "analyze", str(runs["healthy"]), "--rules-dir", str(extra), "--fail-on", "info"
    )
    assert code == 1 and "MY-FPS-LOW" in out and "fps 1500 < 5000" in out
    (extra / "BAD.yaml").write_text("id: BAD\n")
    code, _, err = run_cli(capsys, "analyze", str(runs["healthy"]), "--rules-dir", str(extra))
    assert code == 2 and "BAD.yaml" in err and "missing required key" in err


def test_rules_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "rules")
    assert code == 0
    line = next(ln for ln in out.splitlines() if ln.startswith("PPO-KL-HIGH "))
    assert "lr_too_high" in line and "warning" in line and "PPO" in line
    code, out, _ = run_cli(capsys, "rules", "--format", "json")
    assert any(r["id"] == "PPO-KL-HIGH" for r in json.loads(out))
    code, out, _ = run_cli(capsys, "explain", "PPO-KL-HIGH")
    assert code == 0
    for part in (
        "Why:",
        "When it is a false alarm:",
        "Advice:",
        "Sources:",
        "Examples:",
        "learning_rate x0.5",
        "knowledge/notes/ppo-metric-bands.md#trainapprox_kl",
    ):
        assert part in out
    assert "fires -> fires (error)" in out
    code, out, _ = run_cli(capsys, "explain", "PPO-KL-HIGH", "--lang", "zh")
    assert "原因" in out
    code, _, err = run_cli(capsys, "explain", "PPO-KL-HIHG")
    assert code == 2 and "did you mean PPO-KL-HIGH" in err
    # a condition on the returns (or the budget) names them, not the rule's own metric
    code, out, _ = run_cli(capsys, "explain", "ENT-COEF-NEGATIVE")
    condition = next(ln for ln in out.splitlines() if ln.startswith("Condition:"))
    assert "return_level episode returns: < 0.5" in condition
    assert "budget steps: planned_frac=0.5" in condition
    assert "return_level train/entropy_loss" not in condition


@pytest.mark.skipif(not (FIXTURES / "ppo_cartpole").is_dir(), reason="fixtures not generated")
def test_real_training_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "analyze", str(FIXTURES / "ppo_cartpole"), "--format", "json", "--fail-on", "never"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["runs"][0]["algo"] == "PPO"
    assert doc["runs"][0]["steps"][1] > doc["runs"][0]["steps"][0]


def test_rules_check_validates_and_runs_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules_dir = Path(__file__).resolve().parents[1] / "rules"
    code, out, _ = run_cli(capsys, "rules", "--check", str(rules_dir / "PPO-KL-HIGH.yaml"))
    assert code == 0 and "ok (PPO-KL-HIGH, 4 examples)" in out
    broken = tmp_path / "PPO-KL-HIGH.yaml"
    broken.write_text(
        (rules_dir / "PPO-KL-HIGH.yaml").read_text().replace("  value: 0.05", "  value: 5.0", 1)
    )
    code, _, err = run_cli(capsys, "rules", "--check", str(broken))
    assert code == 2 and "example 0 should fire" in err
    broken.write_text("id: PPO-KL-HIGH\n")
    code, _, err = run_cli(capsys, "rules", "--check", str(broken))
    assert code == 2 and "missing required key" in err


def test_total_timesteps_judges_a_run_still_training_as_the_share_done(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a real SAC run (gamma 0.5 on Pendulum) stopped at 9,600 steps, still at random play:
    # finished, it is "not learning"; 10% of the way through a 100,000-step plan, too early
    runs = Path(__file__).resolve().parents[1] / "bench" / "benchmark" / "runs"
    (event,) = (runs / "reward_plateau-sac-pendulum-gamma0.5").glob("events.out.tfevents.*")
    base = ["analyze", str(event), "--env", "Pendulum-v1", "--format", "json", "--fail-on", "never"]
    code, out, _ = run_cli(capsys, *base)
    assert code == 0
    findings = {f["rule"]: f for f in json.loads(out)["runs"][0]["findings"]}
    assert findings["RET-NOT-LEARNING"]["severity"] == "warning"
    assert "RET-TOO-EARLY-FOR-PLAN" not in findings
    code, out, _ = run_cli(capsys, *base, "--total-timesteps", "100000")
    assert code == 0
    findings = {f["rule"]: f for f in json.loads(out)["runs"][0]["findings"]}
    assert "RET-NOT-LEARNING" not in findings
    early = findings["RET-TOO-EARLY-FOR-PLAN"]
    assert early["severity"] == "info"
    assert "those of the run at 10% of 100000 steps" in early["message"]
