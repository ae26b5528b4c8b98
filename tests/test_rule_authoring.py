"""Writing a rule: the README's worked example runs as written, and a broken rule file gets
every problem at once, each with its YAML path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from sb3doctor.cli import main
from sb3doctor.errors import ConfigError
from sb3doctor.ruleset import RuleProblems, parse_rule

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Write your own rule")
    return text[start : text.index("\n## ", start)]


def _block(lang: str, index: int = 0) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", _section(), re.S)
    return str(blocks[index])


@pytest.fixture()
def rule_dir(tmp_path: Path) -> Path:
    """The README's rule, written where its first line says."""
    text = _block("yaml")
    first = text.splitlines()[0]
    assert first.startswith("# my_rules/")
    path = tmp_path / first[2:]
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path.parent


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_readme_example_checks_and_fires_on_the_fixture(
    rule_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(rule_dir.parent)
    commands = [line.split("#")[0].split() for line in _block("bash").splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["sb3doctor", "rules"], ["sb3doctor", "analyze"]]
    code, out, err = _cli(capsys, *commands[0][1:])
    assert code == 0 and "ok (MY-ENTROPY-GONE, 2 examples)" in out, err

    analyze = [str(ROOT / a) if a.startswith("fixtures/") else a for a in commands[1][1:]]
    code, out, err = _cli(capsys, *analyze, "--format", "json")
    assert code == 0, err
    (finding,) = [f for f in json.loads(out)["runs"][0]["findings"] if f["rule"] == "MY-ENTROPY-GONE"]
    # The README quotes this message and where the finding is placed.
    assert finding["message"].startswith("entropy_loss median -0.0355 over the last 5 points is above -0.1")
    assert finding["message"] in _section().replace("\n", " ") or "-0.0355" in _section()
    assert finding["caused_by"] == "LR-FAR-ABOVE-REFERENCE"

    code, out, err = _cli(
        capsys,
        "analyze",
        str(ROOT / "fixtures" / "ppo_cartpole"),
        "--rules-dir",
        str(rule_dir),
        "--format",
        "json",
    )
    assert code == 0, err
    assert all(f["rule"] != "MY-ENTROPY-GONE" for r in json.loads(out)["runs"] for f in r["findings"])


def test_every_problem_at_once_with_its_yaml_path(
    rule_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's broken version of the example: no why, no advice, no op, a 3-point window."""
    (path,) = rule_dir.glob("*.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["why"], data["advice"], data["condition"]["op"]
    data["condition"]["window"] = {"last": 3}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.chdir(rule_dir.parent)
    code, _, err = _cli(capsys, "rules", "--check", f"my_rules/{path.name}")
    assert code == 2
    assert err.rstrip("\n") == _block("text").rstrip("\n")  # exactly what the README shows
    lines = err.splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == [
        "why",
        "advice",
        "condition.op",
        "condition.window.last",
    ]


def test_nested_paths_and_items_are_named() -> None:
    bad = {
        "id": "my-rule",  # not upper-case
        "name": "x",
        "category": "nope",
        "severity": "fatal",
        "applies_to": ["PPO", "PPO2"],
        "metric": "train/approx_kl",
        "condition": {
            "all_of": [
                {"kind": "threshold", "stat": "median", "op": ">", "value": "1e-3"},
                {"kind": "sustained", "op": ">>", "value": 0.1, "window": {"last": 0}},
            ]
        },
        "message": {"en": "{observed!r}", "fr": "x"},
        "why": "w",
        "false_alarms": "f",
        "advice": [{"param": "learning_rate", "scale": "half"}, {"text": "no param"}],
        "sources": [],
        "examples": [{"expect": "fires", "series": {"train/approx_kl": [0.1, "1e3"]}}],
    }
    with pytest.raises(RuleProblems) as info:
        parse_rule(bad, Path("MY-RULE.yaml"))
    message = str(info.value)
    # One line (CLI errors stay one line), naming the file and every problem.
    assert "\n" not in message and message.startswith(
        f"MY-RULE.yaml: {len(info.value.problems)} problems: id: "
    )
    expected_paths = [
        "id",
        "category",
        "severity",
        "applies_to[1]",
        "condition.all_of[0].value",
        "condition.all_of[1].op",
        "condition.all_of[1].window.last",
        "message.fr",
        "message.en",
        "sources",
        "advice[0].scale",
        "advice[1].param",
        "examples[0].expect",
        "examples[0].series.train/approx_kl[1]",
    ]
    paths = [problem.split(": ")[0] for problem in info.value.problems]
    assert paths == expected_paths
    assert isinstance(info.value, ConfigError)  # callers that catch ConfigError still do


def test_one_problem_stays_one_line() -> None:
    good = yaml.safe_load((ROOT / "rules" / "PPO-KL-HIGH.yaml").read_text(encoding="utf-8"))
    good["condition"]["window"] = {"last": "20"}
    with pytest.raises(ConfigError, match=r"^condition\.window\.last: needs a positive integer$"):
        parse_rule(good)
