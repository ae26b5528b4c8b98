"""sb3doctor.yaml / [tool.sb3doctor]: discovery, validation and rule overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from sb3doctor.config import Config, find_config, load_config, load_config_file, parse_config
from sb3doctor.errors import ConfigError
from sb3doctor.ruleset import builtin_rules

RULES = builtin_rules()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_config_found_from_a_subfolder(tmp_path: Path) -> None:
    cfg_file = write(tmp_path / "sb3doctor.yaml", "fail_on: warning\nlang: zh\ndisable: [PPO-KL-LOW]\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert find_config(sub) == cfg_file
    cfg = load_config(start=sub)
    assert cfg.fail_on == "warning" and cfg.lang == "zh" and cfg.disable == ["PPO-KL-LOW"]
    assert cfg.path == cfg_file


def test_pyproject_table(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.sb3doctor]\nfail_on = "info"\n'
        'expect = ["rollout/ep_rew_mean:last>=475"]\n'
        '[tool.sb3doctor.rules.PPO-KL-HIGH]\nseverity = "error"\n',
    )
    cfg = load_config(start=tmp_path)
    assert cfg.fail_on == "info"
    assert cfg.expect == ["rollout/ep_rew_mean:last>=475"]
    assert cfg.rules == {"PPO-KL-HIGH": {"severity": "error"}}


def test_pyproject_without_table_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert find_config(tmp_path) is None
    with pytest.raises(ConfigError, match=r"no \[tool.sb3doctor\]"):
        load_config_file(tmp_path / "pyproject.toml")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("fail_on: sometimes\n", "fail_on must be one of"),
        ("colour: true\n", "unknown key 'colour'"),
        ("lang: fr\n", "lang must be one of"),
        ("disable: 3\n", "disable must be a list"),
        ("rules: {PPO-KL-HIGH: {severity: fatal}}\n", "severity must be one of"),
        ("rules: {PPO-KL-HIGH: {message: hi}}\n", "unknown key 'message'"),
        ("rules: [1]\n", "rules must map"),
        ("fail_on: [\n", "invalid YAML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, match: str) -> None:
    f = write(tmp_path / "sb3doctor.yaml", text)
    with pytest.raises(ConfigError, match=match) as info:
        load_config_file(f)
    assert info.value.path == str(f)


def test_bad_toml(tmp_path: Path) -> None:
    f = write(tmp_path / "pyproject.toml", "[tool.sb3doctor\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config_file(f)


def test_disable_by_id_and_category() -> None:
    ids = {r.id for r in RULES}
    kept = parse_config({"disable": ["PPO-KL-HIGH", "updates_too_small"]}, None).select(RULES)
    kept_ids = {r.id for r in kept}
    assert "PPO-KL-HIGH" not in kept_ids
    assert all(r.category != "updates_too_small" for r in kept)
    assert kept_ids < ids


def test_unknown_ids_are_errors() -> None:
    with pytest.raises(ConfigError, match="unknown rule id or category 'PPO-KL-HIGHER'"):
        parse_config({"disable": ["PPO-KL-HIGHER"]}, Path("sb3doctor.yaml")).select(RULES)
    with pytest.raises(ConfigError, match="unknown rule id 'NOPE'"):
        parse_config({"rules": {"NOPE": {"enabled": False}}}, None).select(RULES)


def test_threshold_severity_and_enabled_overrides() -> None:
    cfg = parse_config(
        {
            "rules": {
                "PPO-KL-HIGH": {
                    "severity": "info",
                    "condition.value": 0.1,
                    "condition": {"window": {"last": 8}},
                },
                "PPO-KL-LOW": {"enabled": False},
            }
        },
        None,
    )
    rules = {r.id: r for r in cfg.select(RULES)}
    assert "PPO-KL-LOW" not in rules
    rule = rules["PPO-KL-HIGH"]
    assert rule.severity == "info" and rule.severity_overridden
    assert rule.condition["value"] == 0.1 and rule.condition["window"] == {"last": 8}
    # the built-in rule objects are untouched
    assert next(r for r in RULES if r.id == "PPO-KL-HIGH").condition["value"] == 0.05


def test_a_window_smaller_than_min_points_can_never_hold() -> None:
    # PPO-KL-HIGH needs 5 points: a 3-point window would load and never fire.
    with pytest.raises(ConfigError, match=r"window \{last: 3\} holds fewer points than min_points \(5\)"):
        parse_config({"rules": {"PPO-KL-HIGH": {"condition": {"window": {"last": 3}}}}}, None).select(RULES)


def test_override_that_breaks_the_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"rules\.PPO-KL-HIGH: condition\.value: must be a finite number"):
        parse_config({"rules": {"PPO-KL-HIGH": {"condition.value": "high"}}}, None).select(RULES)
    with pytest.raises(ConfigError, match="does not exist"):
        parse_config({"rules": {"PPO-KL-HIGH": {"condition.nothing.value": 1}}}, None).select(RULES)
    with pytest.raises(ConfigError, match=r"rules\.PPO-KL-HIGH: condition\.bogus: unknown key"):
        parse_config({"rules": {"PPO-KL-HIGH": {"condition.bogus": 1}}}, None).select(RULES)


def test_extra_rules_are_relative_to_the_config(tmp_path: Path) -> None:
    cfg = load_config_file(write(tmp_path / "ci" / "sb3doctor.yaml", "extra_rules: [rules]\n"))
    assert cfg.extra_rules == [tmp_path / "ci" / "rules"]


def test_empty_config() -> None:
    assert parse_config(None, None) == Config()
