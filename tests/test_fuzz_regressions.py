"""Regression tests for what ``bench/fuzz.py`` found: one test per failure class.

Each input here once crashed the CLI (a traceback or an internal error), hung it, or made it
answer "no problems found" on a log without data.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from sb3doctor.cli import main
from sb3doctor.config import check_group_by
from sb3doctor.errors import ConfigError, InputError, printable, quoted_path
from sb3doctor.sources import read_runs
from sb3doctor.sources.stdout import MAX_LINE, StdoutParser, read_stdout

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "fixtures" / "ppo_lr_high" / "PPO_1"
sys.path.insert(0, str(ROOT / "bench"))
import _gen_events  # noqa: E402

HEADER = (RUN / "progress.csv").read_text().split("\n", 1)[0] + "\n"
MONITOR_HEAD = '#{"t_start": 1700000000.0, "env_id": "CartPole-v1"}\n'
EVENTS = "events.out.tfevents.1700000000.host.1.0"
FULL_EVENT = _gen_events.file_version_record(1.7e9) + _gen_events.scalar_record(
    "rollout/ep_rew_mean", 1.0, 100, 1.7e9
)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


NO_DATA = {
    "progress.csv": ["", HEADER],
    "progress.json": ["", "\n\n  \n"],
    "monitor.csv": [MONITOR_HEAD, MONITOR_HEAD + "r,l,t\n"],
    EVENTS: [_gen_events.file_version_record(1.7e9), FULL_EVENT[:20], FULL_EVENT[: len(FULL_EVENT) - 30]],
}


@pytest.mark.parametrize(
    ("name", "content"), [(name, c) for name, contents in NO_DATA.items() for c in contents]
)
@pytest.mark.parametrize("give", ["folder", "file"])
def test_a_log_without_data_is_exit_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: str | bytes, give: str
) -> None:
    run = tmp_path / "PPO_1"
    run.mkdir()
    path = run / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = run_cli(capsys, "analyze", str(run if give == "folder" else path))
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0], err
    # the one line says there is nothing to analyze (or that it is no event file at all)
    assert "no data to analyze" in lines[0] or "not a TensorBoard event file" in lines[0]


def test_an_empty_file_beside_readable_ones_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "PPO_1"
    shutil.copytree(RUN, run)
    (run / "progress.json").write_text("")
    (run / "progress.csv").write_text(HEADER)
    code, out, err = run_cli(capsys, "analyze", str(run), "--format", "json", "--fail-on", "never")
    assert code == 0
    assert json.loads(out)["runs"][0]["steps"][1] > 0
    assert f"{run / 'progress.csv'}: a header but no row: skipped" in err
    assert f"{run / 'progress.json'}: empty" in err
    # and a folder of several runs where one has no data: the others are analyzed
    other = tmp_path / "PPO_2"
    other.mkdir()
    (other / "progress.csv").write_text("")
    code, out, err = run_cli(capsys, "analyze", str(tmp_path), "--format", "json", "--fail-on", "never")
    assert code == 0 and [r["name"] for r in json.loads(out)["runs"]] == ["PPO_1"]
    assert "skipped" in err and "PPO_2/progress.csv: no data to analyze" in err


def test_an_empty_event_file_beside_readable_logs_is_skipped_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A zero-byte events.out.tfevents.* (a writer killed before its first flush, a partial
    copy) beside the run's readable logs is named and skipped; the run is still analyzed,
    also as one run of a parent folder. Alone it stays the one-line error, exit 2."""
    run = tmp_path / "logs" / "PPO_1"
    shutil.copytree(RUN, run)
    good = next(run.glob("events.out.tfevents.*"))
    empty = run / "events.out.tfevents.1800000000.host.1.1"
    empty.write_bytes(b"")
    whole = json.loads(run_cli(capsys, "analyze", str(RUN), "--format", "json", "--fail-on", "never")[1])
    for path in (run, tmp_path / "logs"):
        code, out, err = run_cli(capsys, "analyze", str(path), "--format", "json", "--fail-on", "never")
        assert code == 0, err
        (doc,) = json.loads(out)["runs"]
        assert doc["steps"] == whole["runs"][0]["steps"]
        assert [f["rule"] for f in doc["findings"]] == [f["rule"] for f in whole["runs"][0]["findings"]]
        assert f"{empty}: skipped, not a TensorBoard event file (empty file)" in err
    # an event-file-only run whose second file is empty: the first is read
    only = tmp_path / "only" / "PPO_1"
    only.mkdir(parents=True)
    shutil.copy(good, only / good.name)
    (only / empty.name).write_bytes(b"")
    code, out, err = run_cli(capsys, "analyze", str(only), "--format", "json", "--fail-on", "never")
    assert code == 0 and json.loads(out)["runs"][0]["steps"][1] > 0
    assert "skipped, not a TensorBoard event file (empty file)" in err
    # nothing else readable: exit 2 with the event file's own line
    (only / good.name).unlink()
    code, out, err = run_cli(capsys, "analyze", str(only))
    assert code == 2 and out == ""
    assert err.strip() == f"sb3doctor: error: {only / empty.name}: not a TensorBoard event file (empty file)"


def test_control_characters_never_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "PPO_\x1b]0;pwned\x07_1"
    run = tmp_path / evil
    shutil.copytree(RUN, run)
    csv = (run / "progress.csv").read_text().replace("train/loss", "train/lo\x1b[2Jss", 1)
    (run / "progress.csv").write_text(csv)
    event = next(run.glob("events.out.tfevents.*"))
    with open(event, "ab") as fh:
        fh.write(_gen_events.scalar_record("rollout/\x1b]0;x\x07ep", 1.0, 100, 1.7e9))
    for fmt in ("terminal", "markdown", "github", "json"):
        code, out, err = run_cli(capsys, "analyze", str(tmp_path), "--format", fmt, "--no-color")
        assert code in (0, 1)
        assert "\x1b" not in out and "\x07" not in out, fmt
        assert "\x1b" not in err and "\x07" not in err
    code, out, _ = run_cli(capsys, "analyze", str(tmp_path), "--format", "json")
    doc = json.loads(out)
    assert doc["runs"][0]["name"] == "PPO_\\x1b]0;pwned\\x07_1"
    code, out, _ = run_cli(capsys, "export", str(run))
    assert "train/lo\\x1b[2Jss" in out and "\x1b" not in out


def test_newlines_in_paths_keep_errors_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "analyze", str(tmp_path / "PPO\n1\x1b[2J"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "\x1b" not in err
    assert "'" + str(tmp_path) + "/PPO\\n1\\x1b[2J': no such file or directory" in err
    assert quoted_path("/plain/path") == "/plain/path"
    assert printable("a\x1b[31mb\x1b[2Jc", keep_sgr=True) == "a\x1b[31mb\\x1b[2Jc"
    assert printable("x\x9b1m\u202ey") == "x\\x9b1m\\u202ey"


@pytest.mark.parametrize(
    "pattern", ["(a+)+$", "(a|a)*b", "(.*)*x", "a{99999999999}", "^(\\w+\\s?)*$", "a" * 300, "\\d*" * 6]
)
def test_a_catastrophic_group_by_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pattern: str
) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(ROOT / "fixtures" / "ppo_seeds", logs)
    (logs / "PPO_1").rename(logs / ("a" * 40 + "!"))  # exponential for (a+)+$ with re
    t0 = time.monotonic()
    code, _, err = run_cli(
        capsys, "analyze", str(logs), "--aggregate", "median", "--group-by", pattern,
        "--expect", "rollout/ep_rew_mean:last>=10",
    )  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert time.monotonic() - t0 < 10


def test_ordinary_group_by_patterns_pass() -> None:
    for pattern in (r"seed\d+", r"(.*)/seed", r"^(\w+)_\d+$", r"(PPO|A2C)_\d", r"^(.*)/seed_\d+/(\w+)_\d+$"):
        check_group_by(pattern)
    with pytest.raises(ConfigError, match="repeat inside a repeated group"):
        check_group_by("(x+x+)+y")


def test_symlink_loops_fifos_and_long_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "PPO_1"
    shutil.copytree(RUN, run)
    os.symlink(".", run / "loop")
    os.symlink("..", run / "up")
    os.symlink(run / "a", run / "b")
    os.symlink(run / "b", run / "a")  # a -> b -> a: ELOOP on every access
    os.mkfifo(run / "stdout.log.fifo.log")  # a FIFO named like a log is not opened (it would block)
    code, out, err = run_cli(capsys, "analyze", str(tmp_path), "--format", "json", "--fail-on", "never")
    assert code == 0 and [r["name"] for r in json.loads(out)["runs"]] == ["PPO_1"], err
    code, out, err = run_cli(capsys, "analyze", str(run / "a"))
    assert code == 2 and "cannot access it (Too many levels of symbolic links)" in err
    code, _, err = run_cli(capsys, "analyze", str(tmp_path / ("x" * 300) / "PPO_1"))
    assert code == 2 and "cannot access it (File name too long)" in err and err.count("\n") == 1


def test_deep_folders_are_searched_to_a_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep"
    level = str(deep)
    for _ in range(1101):  # one level at a time: pathlib's mkdir(parents=True) recurses
        os.mkdir(level)
        level = os.path.join(level, "d")
    bottom = os.path.dirname(level)
    shutil.copy(RUN / "progress.csv", bottom)
    try:
        code, out, err = run_cli(capsys, "analyze", str(deep))
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "levels below" in err and "were not searched" in err
        shutil.copytree(RUN, deep / "PPO_1")
        code, _, err = run_cli(capsys, "analyze", str(deep), "--fail-on", "never")
        assert code == 0 and "were not searched" in err
    finally:
        # Bottom-up, one level at a time: shutil.rmtree (and pytest's cleanup) would recurse.
        os.remove(os.path.join(bottom, "progress.csv"))
        while bottom != str(deep):
            os.rmdir(bottom)
            bottom = os.path.dirname(bottom)


def test_a_csv_field_over_the_limit_costs_one_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "progress.csv").write_text(
        "time/total_timesteps,train/approx_kl\n100,0.01\n200," + "1" * 200_000 + "\n300,0.02\n"
    )
    (tmp_path / "monitor.csv").write_text(
        MONITOR_HEAD + "r,l,t\n1,10,0.1\n" + "x" * 200_000 + ",1,1\n2,10,0.2\n"
    )
    code, out, err = run_cli(capsys, "analyze", str(tmp_path), "--format", "json", "--fail-on", "never")
    assert code == 0
    run = json.loads(out)["runs"][0]
    assert run["steps"] == [10, 300]
    assert "progress.csv:3: 1 malformed row(s)" in err and "monitor.csv:4: 1 malformed row(s)" in err


def test_non_finite_counters_do_not_crash_hyperparameter_recovery(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        "time/total_timesteps,time/iterations,train/n_updates,train/approx_kl,train/entropy_loss",
        "100,1,0,0.01,-1e308",
        "200,2,inf,0.01,-1e308",
        "300,1e-300,1e308,0.01,-1e308",
        "400,4,nan,0.01,-800",
    ]
    (tmp_path / "progress.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "config.json").write_text('{"algo": "PPO", "hyperparams": [1, 2]}')
    code, _, err = run_cli(capsys, "analyze", str(tmp_path), "--format", "json", "--fail-on", "never")
    assert code == 0, err
    assert "'hyperparams' is a list, not a mapping: ignored" in err


def test_config_files_that_are_deep_huge_or_odd(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "deep.toml": "[tool.sb3doctor]\nx = " + "[" * 5000 + "]" * 5000 + "\n",
        "tool.toml": "tool = 1\n",
        "huge.toml": "[tool.sb3doctor]\nexpect = [" + '"a:last>1",' * 200_000 + "]\n",
        "dup.toml": '[tool.sb3doctor]\nfail_on = "error"\nfail_on = "never"\n',
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        code, out, err = run_cli(capsys, "analyze", str(RUN), "--config", str(tmp_path / name))
        assert code == 2 and out == "" and err.count("\n") == 1 and name in err, (name, err)
    (tmp_path / "PPO_1").mkdir()
    shutil.copy(RUN / "progress.csv", tmp_path / "PPO_1")
    (tmp_path / "PPO_1" / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = run_cli(capsys, "analyze", str(tmp_path / "PPO_1"))
    assert code == 2 and "config.json is nested too deeply" in err


def test_a_sparse_event_file_is_read_up_to_its_hole(tmp_path: Path) -> None:
    run = tmp_path / "PPO_1"
    shutil.copytree(RUN, run)
    event = next(run.glob("events.out.tfevents.*"))
    with open(event, "r+b") as fh:
        fh.truncate(3 << 30)  # 3 GiB on paper, kilobytes on disk
    if os.stat(event).st_blocks * 512 >= 3 << 30:
        pytest.skip("this file system does not make sparse files")
    (run_obj,) = read_runs(run)
    assert any("a hole (unwritten bytes) from byte" in w for w in run_obj.warnings)
    assert len(run_obj.metrics["train/approx_kl"]) > 10


def test_stdout_logs_are_streamed_and_binary_is_refused_early(tmp_path: Path) -> None:
    log = ROOT / "fixtures" / "stdout" / "seed004_a2c.log"
    text = log.read_text()
    # A line longer than any SB3 prints, in the middle: skipped with a warning, the rest parsed.
    long_line = tmp_path / "long.log"
    half = len(text) // 2
    cut = text.index("\n", half) + 1
    long_line.write_text(text[:cut] + "x" * (3 * MAX_LINE) + "\n" + text[cut:])
    runs = read_stdout(long_line)
    assert any("a line longer than 1 MiB ignored" in w for r in runs for w in r.warnings)
    assert sum(len(s) for s in runs[0].metrics.values()) == sum(
        len(s) for r in read_stdout(log) for s in r.metrics.values()
    )
    binary = tmp_path / "binary.log"
    binary.write_bytes(b"\x00\x01" * 1000 + text.encode())
    with pytest.raises(InputError, match="binary file"):
        read_stdout(binary)
    # A line that never ends, fed in small chunks (watch -): linear, not quadratic.
    parser = StdoutParser()
    t0 = time.monotonic()
    chunk = "y" * 65536
    for _ in range(32 * 16):  # 32 MiB without a newline
        parser.feed(chunk)
    parser.feed("\n" + text)
    assert time.monotonic() - t0 < 5
    assert parser.finish()


def test_evaluations_with_bad_steps(tmp_path: Path) -> None:
    import numpy as np

    from sb3doctor.sources.zoo import read_evaluations

    path = tmp_path / "evaluations.npz"
    np.savez(path, timesteps=np.array([1000, np.inf, 1e300, 3000]), results=np.ones((4, 5)))
    src = read_evaluations(path)
    assert list(src.metrics["eval/mean_reward"].steps) == [1000, 3000]
    assert "2 evaluation(s) without a valid step ignored" in src.warnings[0]
    np.savez(path, timesteps=np.array([1000, 2000]), results=np.ones((2, 3, 4)), ep_lengths=np.array(5.0))
    assert len(read_evaluations(path).metrics["eval/mean_reward"]) == 2
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InputError):
        read_evaluations(path)


def test_out_of_memory_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sb3doctor.engine

    def boom(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(sb3doctor.engine, "evaluate", boom)
    code, _, err = run_cli(capsys, "analyze", str(RUN))
    assert code == 2 and err == "sb3doctor: error: out of memory while reading the logs\n"


def test_export_never_overwrites_a_hard_link_of_a_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "PPO_1"
    shutil.copytree(RUN, run)
    before = (run / "progress.csv").read_bytes()
    os.link(run / "progress.csv", tmp_path / "table.csv")  # another name, the same file
    code, _, err = run_cli(capsys, "export", str(run), "-o", str(tmp_path / "table.csv"))
    assert code == 2 and "refusing to overwrite" in err
    code, _, err = run_cli(capsys, "export", str(run), "-o", str(run / "config.json"))
    assert code == 2 and (run / "progress.csv").read_bytes() == before


def test_an_rl_zoo_config_cannot_expand_without_bound(tmp_path: Path) -> None:
    from sb3doctor.sources.zoo import read_zoo_config

    bomb = "\n".join(
        ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    )
    (tmp_path / "config.yml").write_text(bomb)
    with pytest.raises(InputError, match="aliases are expanded"):
        read_zoo_config([tmp_path / "config.yml"])
    # rl-zoo's own files still load (OrderedDict tag)
    zoo = ROOT / "fixtures" / "rlzoo" / "logs" / "ppo" / "CartPole-v1_1" / "CartPole-v1"
    assert read_zoo_config([zoo / "config.yml", zoo / "args.yml"])["algo"] == "PPO"


def test_an_unlistable_folder_inside_a_parent_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod 000 does not stop root (CI containers): fake the refusal where discovery lists.
    shutil.copytree(RUN, tmp_path / "PPO_1")
    (tmp_path / "PPO_2").mkdir()
    real = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if os.fspath(path).endswith("PPO_2"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = run_cli(capsys, "analyze", str(tmp_path), "--format", "json", "--fail-on", "never")
    assert code == 0 and [r["name"] for r in json.loads(out)["runs"]] == ["PPO_1"]
    assert f"skipped {tmp_path / 'PPO_2'}: permission denied: cannot list the folder" in err
    code, _, _ = run_cli(capsys, "analyze", str(tmp_path), "--strict")
    assert code == 2


def test_watch_names_a_strange_folder_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "logs\n\x1b]0;x\x07"
    empty.mkdir()
    code, _, err = run_cli(
        capsys, "watch", str(empty), "--format", "jsonl", "--idle-timeout", "0.2", "--interval", "0.05"
    )
    assert code == 0 and "\x1b" not in err and err.count("\n") == 1
    assert "no readable run appeared under '" in err


def test_integers_past_the_float_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = "9" * 400
    (tmp_path / "progress.json").write_text(
        f'{{"time/total_timesteps": 100, "train/loss": {huge}}}\n'
        f'{{"time/total_timesteps": 200, "train/loss": -{huge}}}\n'
        f'{{"time/total_timesteps": {huge}, "train/loss": 1}}\n'
    )
    code, out, err = run_cli(capsys, "export", str(tmp_path / "progress.json"))
    assert code == 0 and "1 object(s) without a valid time/total_timesteps" in err
    # kept as values (NAN-INF sees them), not a crash
    assert ",100,train/loss,inf," in out and ",200,train/loss,-inf," in out
    (tmp_path / "monitor.csv").write_text(f'#{{"t_start": {huge}}}\nr,l,t\n1,10,0.1\n')
    code, _, err = run_cli(capsys, "analyze", str(tmp_path / "monitor.csv"))
    assert code == 2 and "t_start is out of range" in err
    # an --expect window of 400 digits is a bad expectation, not a crash
    code, _, err = run_cli(capsys, "analyze", str(RUN), "--expect", f"rollout/ep_rew_mean:last@last{huge}>1")
    assert code == 2 and "whole number of points" in err and err.count("\n") == 1


def test_integers_past_the_float_range_in_config_and_rule_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = "1" + "0" * 400
    (tmp_path / "sb3doctor.yaml").write_text(f"rules:\n  PPO-KL-HIGH:\n    condition: {{value: {huge}}}\n")
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.sb3doctor.rules.PPO-KL-HIGH]\ncondition.value = {huge}\n"
    )
    for name in ("sb3doctor.yaml", "pyproject.toml"):
        code, out, err = run_cli(capsys, "analyze", str(RUN), "--config", str(tmp_path / name))
        assert code == 2 and out == "" and err.count("\n") == 1 and "out of" in err, err
    rule = (ROOT / "rules" / "PPO-KL-HIGH.yaml").read_text().replace("value: 0.05", f"value: {huge}")
    (tmp_path / "PPO-KL-HIGH.yaml").write_text(rule)
    code, _, err = run_cli(capsys, "rules", "--check", str(tmp_path / "PPO-KL-HIGH.yaml"))
    assert code == 2 and "number out of range" in err


def test_watch_on_a_name_too_long_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "watch", str(tmp_path / ("x" * 300)), "--idle-timeout", "0.1")
    assert code == 2 and "cannot access it (File name too long)" in err and err.count("\n") == 1


def test_watch_tails_a_sparse_event_file_up_to_its_hole(tmp_path: Path) -> None:
    from sb3doctor.sources.tensorboard import EventFileTail

    event = tmp_path / EVENTS
    shutil.copy(next(RUN.glob("events.out.tfevents.*")), event)
    with open(event, "r+b") as fh:
        fh.truncate(3 << 30)
    if os.stat(event).st_blocks * 512 >= 3 << 30:
        pytest.skip("this file system does not make sparse files")
    tail = EventFileTail(event)
    src = tail.poll()
    assert any("a hole (unwritten bytes) from byte" in w for w in src.warnings)
    assert len(src.metrics["train/approx_kl"]) > 10
    assert not any("hole" in w for w in tail.poll().warnings)  # said once


def test_sums_past_the_float_range_in_the_terminal_and_expectations() -> None:
    """fuzz.py (seed 7, case 108): a stdout log whose values were set to 1e308 crashed the
    terminal sparkline with an fsum overflow. Every sum in the reports and expectations goes
    through the one overflow-safe fsum the condition engine uses."""
    import math

    from sb3doctor.expect import _aggregate, _statistic
    from sb3doctor.reporters.terminal import sparkline

    assert sparkline([1e308, 1e308, 1.0, 2.0], width=2)[1] != " "
    assert sparkline([1e308, 1e308], width=1) == " "  # the mean is inf: no bar, no crash
    assert math.isinf(_aggregate("mean", [1e308, 1e308]))
    assert math.isinf(_statistic("mean", [1e308, 1e308]))


def test_a_sparkline_spanning_the_whole_float_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """fuzz.py (seed 57, case 36): a printed table whose values ran from -1e308 to 1e308 made the
    sparkline's span overflow to inf, and (inf - lo) / inf is NaN: an internal error. The span is
    halved where it overflows."""
    from sb3doctor.reporters.terminal import bars

    assert bars([-1e308, 0.0, 1e308]) == bars([-1.0, 0.0, 1.0]) == "▁▅█"
    log = tmp_path / "train.log"
    rows = [(1000 * (i + 1), v) for i, v in enumerate([-1e308, 1.0, 1e308, 2.0, -1e308])]
    log.write_text(
        "".join(
            "-----------------------------------------\n"
            "| rollout/                |             |\n"
            f"|    ep_rew_mean          | {value:<11.3g} |\n"
            "| time/                   |             |\n"
            f"|    total_timesteps      | {step:<11} |\n"
            "-----------------------------------------\n"
            for step, value in rows
        )
    )
    assert main(["analyze", str(log), "--fail-on", "never"]) == 0
    assert "internal error" not in capsys.readouterr().err
