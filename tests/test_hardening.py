"""Regression tests for bad input: never a traceback, never a silent answer, nothing overwritten."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sb3doctor.cli import main
from sb3doctor.errors import ConfigError
from sb3doctor.ruleset import check_format, load_rule_file
from sb3doctor.safe_yaml import YamlDataError, load_data

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "fixtures" / "ppo_lr_high" / "PPO_1"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("bad", ["inf", "1e30", "nan", "-inf", "99999999999999999999999999"])
def test_non_finite_or_huge_steps_are_skipped_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    (tmp_path / "progress.csv").write_text(
        f"time/total_timesteps,train/approx_kl\n{bad},0.5\n100,0.01\n200,0.02\n300,0.01\n"
    )
    code, out, err = run_cli(capsys, "analyze", str(tmp_path), "--format", "json")
    assert code == 0, err
    assert "without a valid time/total_timesteps" in err
    doc = json.loads(out)
    assert doc["runs"][0]["steps"] == [100, 300]


def test_non_finite_steps_in_json_and_monitor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "progress.json").write_text(
        '{"time/total_timesteps": 1e400, "train/loss": 1}\n{"time/total_timesteps": 10, "train/loss": 2}\n'
    )
    (tmp_path / "monitor.csv").write_text(
        '#{"t_start": 1.0, "env_id": "CartPole-v1"}\nr,l,t\n1,inf,0.1\n9,9,0.2\n'
    )
    code, _, err = run_cli(capsys, "analyze", str(tmp_path))
    assert code == 0 and "Traceback" not in err
    assert "malformed row" in err


def test_rule_message_cannot_reach_python_objects(tmp_path: Path) -> None:
    for template in ("{observed.__init__.__globals__}", "{hp[x].__class__}", "{n[0]}", "{observed!r}"):
        with pytest.raises(ConfigError):
            check_format(template, "message", tmp_path / "R.yaml")
    with pytest.raises(ConfigError, match="format spec"):
        check_format("{observed:>2000000000}", "message", None)
    check_format("{observed:.3g} {hp[learning_rate]} {ref[final]:.4g} {n:>8}", "message", None)


def test_a_leaking_rule_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rule = (ROOT / "rules" / "PPO-KL-HIGH.yaml").read_text()
    rule = rule.replace(
        'en: "approx_kl median {observed:.3g}', 'en: "{observed.__init__.__globals__} {observed:.3g}'
    )
    (tmp_path / "PPO-KL-HIGH2.yaml").write_text(rule.replace("id: PPO-KL-HIGH", "id: PPO-KL-HIGH2"))
    with pytest.raises(ConfigError):
        load_rule_file(tmp_path / "PPO-KL-HIGH2.yaml")
    code, out, err = run_cli(capsys, "analyze", str(RUN), "--rules-dir", str(tmp_path))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1


def test_duplicate_keys_and_alias_bombs_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(YamlDataError, match="duplicate key 'fail_on'"):
        load_data("fail_on: error\nfail_on: never\n")
    bomb = "\n".join(
        ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    )
    with pytest.raises(YamlDataError, match="aliases"):
        load_data(bomb)
    with pytest.raises(YamlDataError, match="nested"):
        load_data("a: " + "[" * 500 + "]" * 500)
    cfg = tmp_path / "sb3doctor.yaml"
    cfg.write_text("fail_on: error\nfail_on: never\n")
    code, _, err = run_cli(capsys, "analyze", str(RUN), "--config", str(cfg))
    assert code == 2 and "duplicate key" in err


def test_output_never_overwrites_what_was_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "PPO_1"
    shutil.copytree(RUN, run)
    event = next(run.glob("events.out.tfevents.*"))
    link = tmp_path / "report.xml"
    os.link(event, link)  # a hard link: another path, the same file
    before = event.read_bytes()
    code, _, err = run_cli(capsys, "analyze", str(run), "--format", "junit", "--output", str(link))
    assert code == 2 and "refusing to overwrite" in err
    (run / "config.json").write_text("{}")
    code, _, err = run_cli(capsys, "analyze", str(run), "--format", "json", "-o", str(run / "config.json"))
    assert code == 2 and (run / "config.json").read_text() == "{}"
    assert event.read_bytes() == before


def test_internal_error_is_exit_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sb3doctor.engine

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(sb3doctor.engine, "evaluate", boom)
    code, _, err = run_cli(capsys, "analyze", str(RUN))
    assert code == 2
    assert err.strip().splitlines() == [
        "sb3doctor: internal error: ZeroDivisionError: float division by zero; "
        "run with SB3DOCTOR_DEBUG=1 for the traceback"
    ]


def test_broken_pipe_keeps_the_gate_code(tmp_path: Path) -> None:
    # A real pipe closed by the reader after one line: the gate failed (errors found) -> 1.
    script = "import sys; from sb3doctor.cli import main; sys.exit(main(sys.argv[1:]))"
    many = [str(RUN)] * 40  # enough output to fill the pipe buffer
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "analyze", *many],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_cache_fifo_and_relative_xdg_are_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "sb3doctor"
    cache.mkdir(parents=True)
    os.mkfifo(cache / "parsed-rules-v3.json")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    script = "import sys; from sb3doctor.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", script, "rules"], env=env, capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0
    work = tmp_path / "work"
    work.mkdir()
    env["XDG_CACHE_HOME"] = "relative-cache"
    proc = subprocess.run(
        [sys.executable, "-c", script, "rules"],
        env=env,
        cwd=work,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and not (work / "relative-cache").exists()


def test_poisoned_cache_entry_is_not_used(tmp_path: Path) -> None:
    # The cache must be on for this test, whatever the caller's environment says.
    env = {k: v for k, v in os.environ.items() if k != "SB3DOCTOR_NO_CACHE"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    script = "import sys; from sb3doctor.cli import main; sys.exit(main(sys.argv[1:]))"
    # A rule of the user's own (the built-in ones are read from the package's shipped parse
    # first): the same high-KL rule under another id.
    from sb3doctor.rules_path import builtin_rules_dir

    mine = tmp_path / "my_rules"
    mine.mkdir()
    text = (builtin_rules_dir() / "PPO-KL-HIGH.yaml").read_text(encoding="utf-8")
    (mine / "MY-KL-HIGH.yaml").write_text(text.replace("PPO-KL-HIGH", "MY-KL-HIGH"), encoding="utf-8")
    args = [sys.executable, "-c", script, "analyze", str(RUN), "--format", "json", "--rules-dir", str(mine)]
    first = subprocess.run(args, env=env, capture_output=True, timeout=120, check=False)
    assert first.returncode == 1
    path = tmp_path / "sb3doctor" / "parsed-rules-v3.json"
    entries = json.loads(path.read_text())
    poisoned = 0
    for entry in entries.values():
        data = json.loads(entry["text"])
        if data.get("id") == "MY-KL-HIGH":
            data["condition"]["value"] = 1e9  # would silence the rule
            data["escalate"]["condition"]["value"] = 1e9
            entry["text"] = json.dumps(data)  # edited by hand: the digest no longer matches
            poisoned += 1
    assert poisoned == 1
    path.write_text(json.dumps(entries))
    second = subprocess.run(args, env=env, capture_output=True, timeout=120, check=False)
    assert second.returncode == 1
    rules = {f["rule"] for r in json.loads(second.stdout)["runs"] for f in r["findings"]}
    assert "MY-KL-HIGH" in rules


def test_train_without_the_training_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    import sb3doctor.commands.train as train_cmd

    real = importlib.util.find_spec
    monkeypatch.setattr(
        train_cmd.importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    code, _, err = run_cli(capsys, "train", "--preset", "healthy", "--timesteps", "100")
    assert code == 2
    assert err.strip().splitlines() == [
        "sb3doctor: error: `sb3doctor train` needs torch: install the training extra, "
        'e.g. pip install "sb3doctor[train]" (from a clone: pip install ".[train]")'
    ]


def test_color_flags_and_no_color(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run_cli(capsys, "analyze", str(RUN), "--color", "--fail-on", "never")
    assert "\x1b[" in out
    _, out, _ = run_cli(capsys, "analyze", str(RUN), "--no-color", "--fail-on", "never")
    assert "\x1b[" not in out
    import sb3doctor.commands.analyze as analyze_cmd

    monkeypatch.setattr(analyze_cmd, "_is_tty", lambda: True)  # a terminal ...
    monkeypatch.setenv("NO_COLOR", "1")  # ... whose user asked for no colour
    _, out, _ = run_cli(capsys, "analyze", str(RUN), "--fail-on", "never")
    assert "\x1b[" not in out


def test_a_stray_file_or_folder_does_not_take_the_others_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "logs" / "PPO_1"
    shutil.copytree(RUN, run)
    (run / "stderr.log").write_text("")  # an empty stderr beside real logs
    bad = tmp_path / "logs" / "notes"
    bad.mkdir()
    (bad / "train.log").write_text("some script's own output\n")  # not an SB3 log at all
    code, out, err = run_cli(
        capsys, "analyze", str(tmp_path / "logs"), "--format", "json", "--fail-on", "never"
    )
    assert code == 0
    doc = json.loads(out)
    assert [r["name"] for r in doc["runs"]] == ["PPO_1"]
    assert "stderr.log: skipped" in err and "skipped" in err and "notes/train.log" in err
    # --strict: any unreadable file is an error; a path with nothing readable is always one
    code, _, _ = run_cli(capsys, "analyze", str(tmp_path / "logs"), "--strict")
    assert code == 2
    code, _, err = run_cli(capsys, "analyze", str(bad))
    assert code == 2 and "no SB3 stdout table" in err
