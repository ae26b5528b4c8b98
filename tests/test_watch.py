"""sb3doctor watch: incremental reading, run discovery, events, the CLI and a real training."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sb3doctor.engine import evaluate
from sb3doctor.model import Finding
from sb3doctor.ruleset import builtin_rules
from sb3doctor.sources import read_runs
from sb3doctor.sources.stdout import read_stdout
from sb3doctor.sources.tensorboard import read_event_file
from sb3doctor.watch import EVENT_KINDS, StreamWatcher, Watcher, make_evaluator

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def no_rules(run: object) -> list[Finding]:
    return []


def sb3_logger(folder: Path, formats: list[str]):  # type: ignore[no-untyped-def]
    """SB3's own logger writing to ``folder``: the real writers, real file formats."""
    from stable_baselines3.common.logger import configure

    return configure(str(folder), formats)


def dump_ppo_like(logger, step: int, *, kl: float, loss: float = 0.5, it: int = 1) -> None:  # type: ignore[no-untyped-def]
    """One PPO dump with the keys SB3's PPO records (values chosen by the test)."""
    logger.record("rollout/ep_len_mean", 20.0 + it)
    logger.record("rollout/ep_rew_mean", 20.0 + it)
    logger.record("time/fps", 500)
    logger.record("time/iterations", it, exclude="tensorboard")
    logger.record("time/total_timesteps", step, exclude="tensorboard")
    logger.record("train/approx_kl", kl)
    logger.record("train/clip_fraction", 0.1)
    logger.record("train/clip_range", 0.2)
    logger.record("train/entropy_loss", -0.6)
    logger.record("train/explained_variance", 0.5)
    logger.record("train/learning_rate", 0.0003)
    logger.record("train/loss", loss)
    logger.record("train/n_updates", it * 10, exclude="tensorboard")
    logger.record("train/policy_gradient_loss", -0.01)
    logger.record("train/value_loss", 1.0)
    logger.dump(step)


def same_metrics(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        if list(a[k].steps) != list(b[k].steps):
            return False
        va, vb = list(a[k].values), list(b[k].values)
        if any(not (x == y or (math.isnan(x) and math.isnan(y))) for x, y in zip(va, vb, strict=True)):
            return False
    return True


# --------------------------------------------------------------------------- incremental reading


@pytest.mark.parametrize("fixture", ["ppo_cartpole/PPO_1", "a2c_cartpole/A2C_1", "dqn_cartpole/DQN_1"])
def test_incremental_table_equals_analyze(tmp_path: Path, fixture: str) -> None:
    """The watcher's merged table (event file + stdout log) is exactly what analyze reads."""
    src = FIXTURES / fixture
    if not src.is_dir():
        pytest.fail(f"fixture {src} missing: run fixtures/make_fixtures.py")
    run_dir = tmp_path / src.name
    run_dir.mkdir()
    for f in src.iterdir():
        if "tfevents" in f.name or f.name == "stdout.log":
            shutil.copy(f, run_dir)
    watcher = Watcher(run_dir, no_rules)
    events = watcher.poll()
    assert [e.kind for e in events] == ["run_started"]
    ours = watcher.runs[str(run_dir)].snapshot()
    theirs = read_runs(run_dir)[0]
    assert same_metrics(ours.metrics, theirs.metrics)
    assert ours.algo == theirs.algo
    assert ours.hyperparams == theirs.hyperparams


def test_event_file_appended_in_chunks_splitting_records(tmp_path: Path) -> None:
    """Bytes arriving cut mid-record are never misread: each poll sees a prefix of the final table."""
    source = tmp_path / "src"
    logger = sb3_logger(source, ["tensorboard"])
    for i in range(1, 41):
        dump_ppo_like(logger, i * 256, kl=0.01 * i, it=i)
    logger.close()
    (event_file,) = source.glob("events.out.tfevents.*")
    data = event_file.read_bytes()

    run_dir = tmp_path / "logs" / "PPO_1"
    run_dir.mkdir(parents=True)
    target = run_dir / event_file.name
    watcher = Watcher(tmp_path / "logs", no_rules)
    # 97 bytes is shorter than most records and shares no divisor with their sizes, so nearly
    # every chunk ends inside a record (header, payload or CRC).
    sizes: list[int] = []
    with open(target, "wb") as fh:
        for start in range(0, len(data), 97):
            fh.write(data[start : start + 97])
            fh.flush()
            watcher.poll()
            state = watcher.runs.get(str(run_dir))
            if state is not None and "train/approx_kl" in state.run.metrics:
                kl = state.run.metrics["train/approx_kl"]
                # Values so far are exactly the first ones written, in order.
                assert list(kl.values) == pytest.approx([0.01 * i for i in range(1, len(kl) + 1)], rel=1e-6)
                sizes.append(len(kl))
    assert sizes == sorted(sizes) and sizes[-1] == 40
    assert len(set(sizes)) > 10  # it really grew poll by poll
    full = read_event_file(event_file)
    assert same_metrics(watcher.runs[str(run_dir)].snapshot().metrics, full.metrics)


def test_stdout_log_appended_mid_table(tmp_path: Path) -> None:
    """A half-written SB3 table is kept for the next poll; the result equals reading the whole log."""
    source = tmp_path / "src"
    logger = sb3_logger(source, ["log"])
    for i in range(1, 16):
        dump_ppo_like(logger, i * 256, kl=0.01 * i, it=i)
    logger.close()
    text = (source / "log.txt").read_bytes()

    log = tmp_path / "train.log"
    log.write_bytes(b"")
    watcher = Watcher(log, no_rules)
    counts = []
    with open(log, "ab") as fh:
        for start in range(0, len(text), 53):
            fh.write(text[start : start + 53])
            fh.flush()
            watcher.poll()
            state = next(iter(watcher.runs.values()))
            if state.started:
                steps = list(state.run.metrics["time/total_timesteps"].steps)
                # Only complete tables: each one carries every key of the dump.
                assert all(len(s) == len(steps) for s in state.run.metrics.values())
                counts.append(len(steps))
    assert counts[-1] == 15 and len(set(counts)) == 15
    expected = read_stdout(log)[0]
    assert same_metrics(next(iter(watcher.runs.values())).snapshot().metrics, expected.metrics)


def test_utf16_stdout_log_is_watched_like_analyze_reads_it(tmp_path: Path) -> None:
    """PowerShell's `>` writes UTF-16 with a BOM: watch reads it, chunk by chunk (a chunk may
    end inside a two-byte character), to the same table as analyze."""
    source = tmp_path / "src"
    logger = sb3_logger(source, ["log"])
    for i in range(1, 9):
        dump_ppo_like(logger, i * 256, kl=0.01 * i, it=i)
    logger.close()
    data = (source / "log.txt").read_text(encoding="utf-8").replace("\n", "\r\n").encode("utf-16")

    log = tmp_path / "train.log"
    log.write_bytes(b"")
    watcher = Watcher(log, no_rules)
    with open(log, "ab") as fh:
        for start in range(0, len(data), 101):  # odd chunks: characters cut in half
            fh.write(data[start : start + 101])
            fh.flush()
            watcher.poll()
    watcher.finish("end")
    watched = next(iter(watcher.runs.values())).snapshot().metrics
    assert len(watched["time/total_timesteps"]) == 8
    assert same_metrics(watched, read_stdout(log)[0].metrics)


def test_a_rotated_stdout_log_starts_over_instead_of_mixing(tmp_path: Path) -> None:
    """A log replaced by a new file under the same name (logrotate, a restarted job writing
    train.log again): the points of the old content are dropped, not mixed with the new."""
    old, new = tmp_path / "old", tmp_path / "new"
    logger = sb3_logger(old, ["log"])
    for i in range(1, 11):
        dump_ppo_like(logger, i * 256, kl=0.01, it=i)
    logger.close()
    logger = sb3_logger(new, ["log"])
    for i in range(1, 13):  # larger than the old file: a size check alone would not notice
        dump_ppo_like(logger, i * 512, kl=0.05, it=i)
    logger.close()

    log = tmp_path / "train.log"
    shutil.copy(old / "log.txt", log)
    watcher = Watcher(log, no_rules)
    watcher.poll()
    state = next(iter(watcher.runs.values()))
    assert list(state.run.metrics["time/total_timesteps"].steps)[-1] == 2560
    replacement = tmp_path / "train.log.new"
    shutil.copy(new / "log.txt", replacement)
    os.replace(replacement, log)  # a new inode under the old name
    watcher.poll()
    steps = list(state.snapshot().metrics["time/total_timesteps"].steps)
    assert steps == [512 * i for i in range(1, 13)]
    assert set(state.snapshot().metrics["train/approx_kl"].values) == {0.05}


def test_new_run_folder_is_picked_up(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    watcher = Watcher(logs, no_rules)
    assert watcher.poll() == []  # nothing written yet: wait, no error
    first = sb3_logger(logs / "PPO_1", ["tensorboard"])
    dump_ppo_like(first, 256, kl=0.01)
    assert [(e.kind, e.run) for e in watcher.poll()] == [("run_started", "PPO_1")]
    dump_ppo_like(first, 512, kl=0.01, it=2)
    assert watcher.poll() == []  # growth alone is no event
    second = sb3_logger(logs / "PPO_2", ["tensorboard"])
    dump_ppo_like(second, 256, kl=0.01)
    assert [(e.kind, e.run) for e in watcher.poll()] == [("run_started", "PPO_2")]
    assert len(watcher.runs[str(logs / "PPO_1")].run.metrics["train/approx_kl"]) == 2
    first.close()
    second.close()
    finished = watcher.finish("idle")
    assert sorted(e.run for e in finished if e.kind == "run_finished") == ["PPO_1", "PPO_2"]


def test_findings_are_raised_once_and_cleared(tmp_path: Path) -> None:
    """A rule that starts holding is announced once; when it stops holding, a cleared event follows."""
    logs = tmp_path / "logs"
    logger = sb3_logger(logs / "PPO_1", ["tensorboard"])
    watcher = Watcher(logs, make_evaluator())
    kinds: list[tuple[str, str | None]] = []
    # 8 updates with approx_kl 0.1 (median > 0.05 -> PPO-KL-HIGH), then 12 calm ones.
    for i in range(1, 21):
        dump_ppo_like(logger, i * 256, kl=0.1 if i <= 8 else 0.01, it=i)
        kinds += [(e.kind, e.finding.rule if e.finding else None) for e in watcher.poll()]
    logger.close()
    kl_events = [k for k in kinds if k[1] == "PPO-KL-HIGH"]
    assert kl_events == [("finding_raised", "PPO-KL-HIGH"), ("finding_cleared", "PPO-KL-HIGH")]
    assert kinds[0] == ("run_started", None)


def _dump_weak_critic(logger, step: int, it: int) -> None:  # type: ignore[no-untyped-def]
    """A PPO dump whose critic is worse than a constant while the returns stay flat."""
    logger.record("rollout/ep_len_mean", 30.0 + it % 3)
    logger.record("rollout/ep_rew_mean", 30.0 + it % 3)
    logger.record("train/approx_kl", 0.01)
    logger.record("train/clip_fraction", 0.1)
    logger.record("train/entropy_loss", -0.6 + 0.001 * it)
    logger.record("train/explained_variance", -0.5)
    logger.record("train/learning_rate", 0.0003)
    logger.record("train/value_loss", 1.0)
    logger.dump(step)


@pytest.mark.parametrize(("reason", "judged"), [("idle", True), ("interrupted", False)])
def test_a_run_with_no_stated_plan_is_judged_as_finished_only_once_it_ends(
    tmp_path: Path, reason: str, judged: bool
) -> None:
    # A plain tensorboard_log folder says nothing of the planned length: while it grows, the
    # rules that wait for half of the plan wait; once training is over (the log went idle),
    # the last verdict judges the whole run, as analyze would.
    logs = tmp_path / "logs"
    logger = sb3_logger(logs / "PPO_1", ["tensorboard"])
    watcher = Watcher(logs, make_evaluator())
    raised: list[str] = []
    for i in range(1, 31):
        _dump_weak_critic(logger, i * 2048, i)
        raised += [e.finding.rule for e in watcher.poll() if e.kind == "finding_raised" and e.finding]
    logger.close()
    assert "VF-EV-NEGATIVE" not in raised
    final = [e.finding.rule for e in watcher.finish(reason) if e.kind == "finding_raised" and e.finding]
    assert ("VF-EV-NEGATIVE" in final) == judged
    (analyzed,) = read_runs(logs)
    assert any(f.rule == "VF-EV-NEGATIVE" for f in evaluate(analyzed, builtin_rules()))


def test_stream_watcher_splits_printed_runs() -> None:
    """Two models printed one after another on one stdout become two runs."""
    import io

    from stable_baselines3.common.logger import HumanOutputFormat, Logger

    buf = io.StringIO()
    logger = Logger(folder=None, output_formats=[HumanOutputFormat(buf)])
    for i in range(1, 4):
        dump_ppo_like(logger, i * 256, kl=0.01, it=i)
    for i in range(1, 3):  # total_timesteps goes back: a new model
        dump_ppo_like(logger, i * 128, kl=0.01, it=i)
    watcher = StreamWatcher(no_rules)
    text = buf.getvalue()
    events = []
    for start in range(0, len(text), 200):
        events += watcher.feed(text[start : start + 200])
    events += watcher.finish("end of input")
    assert [(e.kind, e.run) for e in events] == [
        ("run_started", "stdin"),
        ("run_finished", "stdin"),
        ("run_started", "stdin#2"),
        ("run_finished", "stdin#2"),
    ]
    assert events[1].step == 768 and events[3].step == 256


def test_dashboard_renders_metrics_and_findings(tmp_path: Path) -> None:
    from rich.console import Console

    from sb3doctor.reporters.dashboard import Dashboard

    logs = tmp_path / "logs"
    logger = sb3_logger(logs / "PPO_1", ["tensorboard"])
    watcher = Watcher(logs, make_evaluator())
    for i in range(1, 9):
        dump_ppo_like(logger, i * 256, kl=0.3, it=i)
    logger.close()
    events = watcher.poll()
    console = Console(record=True, width=120, force_terminal=True, color_system="truecolor")
    dash = Dashboard(console)
    dash.emit(events)
    console.print(dash.render(list(watcher.runs.values())))
    out = console.export_text()
    assert "PPO_1 · PPO · env unknown (give --env) · step 2,048" in out
    assert "[PPO_1] started (PPO, env unknown (give --env), " in out
    assert "train/approx_kl" in out and "PPO-KL-HIGH" in out
    assert "[PPO_1] ✗ error PPO-KL-HIGH" in out  # the escalated severity, announced once
    assert "learning_rate" in out  # advice shown


# --------------------------------------------------------------------------- the command


def sb3doctor(*args: str, **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "sb3doctor", *args], capture_output=True, text=True, cwd=ROOT, env=ENV, **kw
    )


def parse_jsonl(text: str) -> list[dict]:
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all(e["event"] in EVENT_KINDS for e in events)
    return events


def test_exit_on_error_with_nan_metric(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logger = sb3_logger(logs / "PPO_1", ["tensorboard"])
    for i in range(1, 9):
        dump_ppo_like(logger, i * 256, kl=0.5 if i > 2 else 0.01, loss=math.nan if i > 4 else 0.3, it=i)
    logger.close()
    proc = sb3doctor(
        "watch", str(logs), "--format", "jsonl", "--exit-on", "error", "--idle-timeout", "20", timeout=60
    )
    assert proc.returncode == 1, proc.stderr
    events = parse_jsonl(proc.stdout)
    raised = [e for e in events if e["event"] == "finding_raised"]
    assert any(e["finding"]["severity"] == "error" for e in raised)
    for e in raised:  # the same fields as analyze --format json
        assert set(e["finding"]) >= {"rule", "name", "category", "severity", "metric", "message", "advice"}
    assert events[-1]["event"] == "run_finished" and events[-1]["reason"] == "exit-on"


def test_exit_on_warning_not_triggered_by_clean_run(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logger = sb3_logger(logs / "PPO_1", ["tensorboard"])
    for i in range(1, 9):
        dump_ppo_like(logger, i * 256, kl=0.01, it=i)
    logger.close()
    proc = sb3doctor(
        "watch",
        str(logs),
        "--format",
        "jsonl",
        "--exit-on",
        "error",
        "--idle-timeout",
        "0.5",
        "--interval",
        "0.1",
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    events = parse_jsonl(proc.stdout)
    assert [e["event"] for e in events] == ["run_started", "run_finished"]
    assert events[-1]["reason"] == "idle" and events[-1]["step"] == 2048


def test_bad_path_is_a_one_line_error(tmp_path: Path) -> None:
    proc = sb3doctor("watch", str(tmp_path / "nope"), timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"sb3doctor: error: {tmp_path / 'nope'}: no such file or directory"


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    # A shell's background jobs (`pytest ... &`, nohup) start with SIGINT ignored, and a child
    # inherits that: give it the default disposition, as a terminal's foreground job has.
    proc = subprocess.Popen(
        [sys.executable, "-m", "sb3doctor", "watch", str(logs), "--format", "jsonl", "--interval", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(3)  # let it start polling
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err


def test_sigterm_finishes_runs_and_exits_143(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run = logs / "PPO_1"
    run.mkdir(parents=True)
    shutil.copy(next((FIXTURES / "ppo_cartpole" / "PPO_1").glob("events.out.tfevents.*")), run)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sb3doctor", "watch", str(logs), "--format", "jsonl", "--interval", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    kinds = [json.loads(line)["event"] for line in out.splitlines() if line.strip()]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert "Traceback" not in err


def test_idle_timeout_ends_an_empty_watch_and_says_why(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sb3doctor",
            "watch",
            str(tmp_path),
            "--idle-timeout",
            "2",
            "--format",
            "jsonl",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0
    assert "no readable run appeared" in proc.stderr and "--idle-timeout" in proc.stderr
    assert elapsed < 10  # 2 s of waiting plus interpreter start-up on a loaded 2-core machine


@pytest.mark.parametrize(
    "layout",
    ["not_a_log", "model_zip_only", "empty_event_file"],
)
def test_watch_and_analyze_agree_on_what_cannot_be_read(tmp_path: Path, layout: str) -> None:
    """The same input gives watch (once it stops waiting) analyze's verdict: one line naming the
    file and exit 2 when log files are there but none is readable. Only a folder with no log at
    all (a training that crashed before writing one, only a model.zip) differs: analyze has
    nothing to read (exit 2), watch waited for a run that never came (exit 0, and says so)."""
    run = tmp_path / "run"
    run.mkdir()
    if layout == "not_a_log":
        (run / "stdout.log").write_text("Traceback (most recent call last):\nValueError: boom\n")
    elif layout == "model_zip_only":
        (run / "model.zip").write_bytes(b"PK\x03\x04")
    else:
        (run / "events.out.tfevents.1.host").write_bytes(b"")
    base = [sys.executable, "-m", "sb3doctor"]
    kw: dict = {"capture_output": True, "text": True, "cwd": ROOT, "env": ENV, "timeout": 60}
    analyze = subprocess.run([*base, "analyze", str(tmp_path)], **kw)
    watch = subprocess.run([*base, "watch", str(tmp_path), "--idle-timeout", "1", "--format", "jsonl"], **kw)
    assert analyze.returncode == 2 and "Traceback" not in watch.stderr
    if layout == "model_zip_only":
        # nothing was ever written: analyze has nothing to read, watch waited and says so
        assert watch.returncode == 0 and "no readable run appeared" in watch.stderr
    else:
        assert watch.returncode == 2
        assert watch.stderr.strip().splitlines() == analyze.stderr.strip().splitlines()[-1:]


# --------------------------------------------------------------------------- real training


TRAIN = textwrap.dedent(
    """
    import sys, torch
    torch.set_num_threads(1)
    from stable_baselines3 import PPO
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=256, batch_size=64, n_epochs={epochs},
                learning_rate={lr}, verbose={verbose}, seed=0, tensorboard_log={tb!r})
    model.learn({steps})
    """
)


@pytest.mark.slow
def test_watch_follows_a_real_training_process(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    watch = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sb3doctor",
            "watch",
            str(logs),
            "--format",
            "jsonl",
            "--interval",
            "0.2",
            # Counts from the start while no run has appeared: long enough for the training
            # process to import torch and SB3 on a loaded machine.
            "--idle-timeout",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    code = TRAIN.format(epochs=2, lr=3e-4, verbose=0, tb=str(logs), steps=2560)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=ENV, timeout=120)
    out, err = watch.communicate(timeout=60)
    assert watch.returncode == 0, err
    events = parse_jsonl(out)
    started = [e for e in events if e["event"] == "run_started"]
    finished = [e for e in events if e["event"] == "run_finished"]
    assert [e["run"] for e in started] == ["PPO_1"] and started[0]["algo"] in ("PPO", None)
    # Seen while it trained: the first event came before the last dump (step 2560).
    assert started[0]["step"] < 2560
    assert finished and finished[0]["step"] == 2560 and finished[0]["reason"] == "idle"


@pytest.mark.slow
def test_watch_stdin_passes_training_output_through(tmp_path: Path) -> None:
    """`python train.py | sb3doctor watch -`: stdout byte-identical to the training's, findings on stderr."""
    code = TRAIN.format(epochs=10, lr=0.05, verbose=1, tb=None, steps=1792)
    script = tmp_path / "train.py"
    script.write_text(code)
    raw = tmp_path / "raw.txt"
    # tee hands the very same byte stream to a file and to watch.
    cmd = (
        f"{sys.executable} {script} | tee {raw} | "
        f"{sys.executable} -m sb3doctor watch - --format jsonl --interval 0.2"
    )
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, cwd=ROOT, env=ENV, timeout=180)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == raw.read_bytes()
    assert proc.stdout.count(b"| time/") == 7  # the SB3 tables really went through
    events = parse_jsonl(proc.stderr.decode())
    assert events[0]["event"] == "run_started" and events[0]["run"] == "stdin"
    assert any(e["event"] == "finding_raised" and e["finding"]["category"] == "lr_too_high" for e in events)
    assert events[-1]["event"] == "run_finished" and events[-1]["reason"] == "end of input"
    assert events[-1]["step"] == 1792


def test_watch_reads_rl_zoo_config_like_analyze(tmp_path: Path) -> None:
    """rl-zoo's config.yml / args.yml give watch the hyperparameters, env and planned length
    analyze gets from them (and are not read as metric files)."""
    zoo = tmp_path / "rlzoo"
    shutil.copytree(FIXTURES / "rlzoo", zoo)
    watcher = Watcher(zoo, no_rules)
    watcher.poll()
    analyzed = {r.name: r for r in read_runs(zoo)}
    states = [s for s in watcher.runs.values() if s.started]
    assert states
    for state in states:
        twin = analyzed[state.name]
        live = state.snapshot().hyperparams
        assert twin.hyperparams.get("env_id") and live.get("env_id") == twin.hyperparams["env_id"]
        assert live.get("planned_timesteps") == twin.hyperparams.get("planned_timesteps") is not None
        for key in ("n_steps", "gamma", "ent_coef", "batch_size"):
            assert live.get(key) == twin.hyperparams.get(key), key


def test_watch_reads_the_same_runs_as_analyze_for_zoo_roots_and_add_scalars(tmp_path: Path) -> None:
    """An rl-zoo root is one run per training (the zoo folder with its event file), and
    add_scalars sub-folders are part of their run, live as in analyze."""
    zoo = tmp_path / "rlzoo"
    shutil.copytree(FIXTURES / "rlzoo", zoo)
    watcher = Watcher(zoo, no_rules)
    watcher.poll()
    watcher.finish("end")
    analyzed = read_runs(zoo)
    assert sorted(s.name for s in watcher.runs.values() if s.started) == sorted(r.name for r in analyzed)
    for state in watcher.runs.values():
        twin = next(r for r in analyzed if r.name == state.name)
        assert "tensorboard" in state.run.sources
        assert len(state.run.metrics["train/learning_rate"]) == len(twin.metrics["train/learning_rate"])

    from torch.utils.tensorboard import SummaryWriter

    run = tmp_path / "PPO_1"
    logger = sb3_logger(run, ["tensorboard"])
    writer = SummaryWriter(log_dir=str(run))
    for i in range(1, 4):
        dump_ppo_like(logger, 256 * i, kl=0.01, it=i)
        writer.add_scalars("reward", {"train": float(i), "eval": 2.0 * i}, 256 * i)
    logger.close()
    writer.close()
    watcher = Watcher(run, no_rules)
    watcher.poll()
    (state,) = [s for s in watcher.runs.values() if s.started]
    assert list(state.snapshot().metrics["reward/eval"].values) == [2.0, 4.0, 6.0]


@pytest.mark.parametrize("with_env", [False, True])
def test_env_and_total_timesteps_options_reach_the_rules(tmp_path: Path, with_env: bool) -> None:
    # a real event file alone (SAC with gamma 0.5 on Pendulum, 10,000 planned steps): only
    # with --env can the returns be compared with random play on the env
    src = ROOT / "bench" / "benchmark" / "runs" / "reward_plateau-sac-pendulum-gamma0.5"
    (event,) = src.glob("events.out.tfevents.*")
    run_dir = tmp_path / "logs" / "SAC_1"
    run_dir.mkdir(parents=True)
    (run_dir / event.name).write_bytes(event.read_bytes())
    options = ["--env", "Pendulum-v1", "--total-timesteps", "10000"] if with_env else []
    proc = sb3doctor(
        "watch", str(tmp_path / "logs"), "--format", "jsonl", "--idle-timeout", "0.5", *options, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    events = parse_jsonl(proc.stdout)
    assert events[0]["event"] == "run_started"
    assert events[0]["env"] == ("Pendulum-v1" if with_env else None)
    rules = {e["finding"]["rule"] for e in events if e["event"] == "finding_raised"}
    assert ("RET-NOT-LEARNING" in rules) is with_env, rules


CRASHED = b"Using cpu device\nTraceback (most recent call last):\nValueError: bad env\n"


@pytest.mark.parametrize(
    ("stdin", "said"),
    [
        (b"", "no SB3 stdout table found (expected"),
        (CRASHED, "no SB3 stdout table found (expected"),
        (b"\x00\x01\x02 not text", "binary file, not a text log"),
    ],
)
def test_watch_stdin_without_any_table_is_exit_2_in_one_line(stdin: bytes, said: str) -> None:
    """`python train.py | sb3doctor watch -` where the training crashed before its first table:
    one line naming stdin and the problem, exit 2 (as analyze - says it), never a silent 0 that
    a CI gate would read as a pass. Its output still passes through to stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "sb3doctor", "watch", "-", "--format", "jsonl"],
        input=stdin,
        capture_output=True,
        env=ENV,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == stdin
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sb3doctor: error: -: ") and said in lines[0], lines
