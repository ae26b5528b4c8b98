"""The stdout reader on real SB3 console output.

Fast tests drive SB3's own ``HumanOutputFormat``; ``slow`` tests parse the console output of
short real trainings (``tests/data/train_logs.py``) and compare it with the progress.csv
that the same SB3 logger wrote; the fixture tests read the committed ``fixtures/`` runs.
"""

from __future__ import annotations

import io
import math
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3.common.logger import HumanOutputFormat

from sb3doctor.errors import InputError
from sb3doctor.model import SourceData
from sb3doctor.sources import read_runs
from sb3doctor.sources.progress import read_progress_csv
from sb3doctor.sources.stdout import StdoutParser, read_stdout

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"


def sb3_tables(dumps: list[dict], max_length: int = 36) -> str:
    """What SB3's HumanOutputFormat prints for these dumps."""
    buf = io.StringIO()
    fmt = HumanOutputFormat(buf, max_length=max_length)
    for kv in dumps:
        fmt.write(kv, {k: None for k in kv})
    return buf.getvalue()


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def values(src: SourceData, key: str) -> list[float]:
    return list(src.metrics[key].values)


def steps(src: SourceData, key: str) -> list[int]:
    return list(src.metrics[key].steps)


def same_runs(a: list[SourceData], b: list[SourceData]) -> None:
    """Same metrics, steps and values (NaN-aware) in both lists of runs."""
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert sorted(x.metrics) == sorted(y.metrics)
        for key in x.metrics:
            assert list(x.metrics[key].steps) == list(y.metrics[key].steps), key
            assert np.array_equal(
                np.array(x.metrics[key].values), np.array(y.metrics[key].values), equal_nan=True
            )


def close_3g(printed: float, exact: float) -> bool:
    """``f"{x:<8.3g}"`` keeps 3 significant digits: half a unit of the third digit."""
    if math.isnan(exact):
        return math.isnan(printed)
    if exact == printed:
        return True
    return abs(printed - exact) <= 0.5 * 10 ** (math.floor(math.log10(abs(exact))) - 2) * 1.0001


# ------------------------------------------------------------------------------------------
# Values and keys, with SB3's own formatter
# ------------------------------------------------------------------------------------------


def test_values_of_every_printed_type(tmp_path: Path) -> None:
    kl = np.float32(0.024709977)
    dump = {
        "custom": 7,  # no tag: printed unindented before the eval/ section
        "rollout/ep_rew_mean": 1234.5678,  # 3 significant digits: 1.23e+03
        "time/total_timesteps": 2048,
        "train/approx_kl": kl,  # float32: str(), full float32 precision
        "train/explained_variance": float("nan"),
        "train/value_loss": float("inf"),
        "train/entropy_loss": -0.000123456,
        "train/is_ok": True,
        "train/name": "a string",  # not a metric
        "train/nothing": None,
        "zz/multi/level/key": 3.0,
    }
    (src,) = read_stdout(write(tmp_path / "t.log", sb3_tables([dump])))
    assert values(src, "custom") == [7.0]
    assert values(src, "rollout/ep_rew_mean") == [1230.0]
    # float32 printed with str(): all its digits are kept (the 3-digit rule would give 0.0247).
    assert values(src, "train/approx_kl") == [0.024709977]
    assert np.float32(values(src, "train/approx_kl")[0]) == kl
    assert math.isnan(values(src, "train/explained_variance")[0])
    assert values(src, "train/value_loss") == [math.inf]
    assert values(src, "train/entropy_loss") == [-0.000123]
    assert values(src, "train/is_ok") == [1.0]
    assert values(src, "zz/multi/level/key") == [3.0]
    assert "train/name" not in src.metrics and "train/nothing" not in src.metrics
    assert steps(src, "train/approx_kl") == [2048]
    assert math.isnan(src.metrics["custom"].wall_times[0])  # stdout has no clock


def test_width_23_truncated_keys_map_back(tmp_path: Path) -> None:
    # SB3 < 1.5 printed keys at most 23 characters wide: TRPO's is_line_search_success is cut.
    trpo = {
        "time/total_timesteps": 2048,
        "train/is_line_search_success": 1.0,
        "train/kl_divergence_loss": 0.004,
    }
    old = sb3_tables([trpo], max_length=23)
    assert "is_line_search_su..." in old
    # A custom key known in full from a wider table elsewhere in the file, and one that
    # could be either of two keys seen in full.
    wide = {
        "time/total_timesteps": 64,
        "train/custom_metric_with_a_long_name": 1.0,
        "train/custom_metric_number_alpha_one": 2.0,
        "train/custom_metric_number_alpha_two": 3.0,
    }
    narrow = {
        "time/total_timesteps": 4096,
        "train/custom_metric_with_a_long_name": 5.0,
        "train/custom_metric_number_alpha_one": 6.0,
    }
    # SB3 1.5+ raises on two keys truncated alike in one table, so print them one at a time.
    narrow_a = {k: v for k, v in narrow.items() if "alpha" not in k}
    narrow_b = {"time/total_timesteps": 8192, "train/custom_metric_number_alpha_one": 6.0}
    text = sb3_tables([wide]) + old + sb3_tables([narrow_a, narrow_b], max_length=23)
    (src,) = read_stdout(write(tmp_path / "t.log", text))
    assert values(src, "train/is_line_search_success") == [1.0]
    assert steps(src, "train/custom_metric_with_a_long_name") == [64, 4096]
    ambiguous = "train/custom_metric_num..."
    assert values(src, ambiguous) == [6.0]
    assert any(ambiguous in w and "alpha_one" in w and "alpha_two" in w for w in src.warnings)


def test_truncated_key_known_only_from_another_source(tmp_path: Path) -> None:
    dump = {"time/total_timesteps": 64, "rollout/returns_moving_average": 1.5}
    log = write(tmp_path / "t.log", sb3_tables([dump], max_length=23))
    (alone,) = read_stdout(log)
    assert values(alone, "rollout/returns_moving_av...") == [1.5]
    assert any("matches no known key" in w for w in alone.warnings)
    # Given the full names of the run's progress.csv, it maps back.
    (src,) = read_stdout(log, known_keys=["rollout/returns_moving_average", "time/total_timesteps"])
    assert values(src, "rollout/returns_moving_average") == [1.5]
    assert src.warnings == []


def test_legacy_keys_with_spaces_are_renamed(tmp_path: Path) -> None:
    # SB3 < 1.3 logged these keys with spaces (off-policy algorithms).
    dump = {"rollout/exploration rate": 0.5, "rollout/success rate": 0.25, "time/total timesteps": 500}
    (src,) = read_stdout(write(tmp_path / "t.log", sb3_tables([dump], max_length=23)))
    assert values(src, "rollout/exploration_rate") == [0.5]
    assert values(src, "rollout/success_rate") == [0.25]
    assert steps(src, "time/total_timesteps") == [500]


def test_tables_without_total_timesteps_are_skipped(tmp_path: Path) -> None:
    text = sb3_tables(
        [{"time/total_timesteps": 10, "a/x": 1.0}, {"a/x": 2.0}, {"time/total_timesteps": 20, "a/x": 3.0}]
    )
    (src,) = read_stdout(write(tmp_path / "t.log", text))
    assert values(src, "a/x") == [1.0, 3.0]
    assert any("1 table(s) without a valid time/total_timesteps" in w for w in src.warnings)
    with pytest.raises(InputError, match="none has time/total_timesteps"):
        read_stdout(write(tmp_path / "n.log", sb3_tables([{"a/x": 2.0}])))


def test_binary_and_tableless_files_are_errors(tmp_path: Path) -> None:
    # A real binary file: a numpy .npy array.
    np.save(tmp_path / "a.npy", np.arange(100, dtype=np.float32))
    with pytest.raises(InputError, match="binary file, not a text log") as err:
        read_stdout(tmp_path / "a.npy")
    assert err.value.path == str(tmp_path / "a.npy")
    with pytest.raises(
        InputError, match=r"no SB3 stdout table found \(expected lines like '\| time/ \| \|'\)"
    ):
        read_stdout(write(tmp_path / "notes.log", "Using cpu device\nhello\n" + "-" * 20 + "\n"))
    with pytest.raises(InputError, match="cannot read it"):
        read_stdout(tmp_path / "missing.log")


def test_utf16_log_from_powershell_is_read(tmp_path: Path) -> None:
    text = "Using cpu device\r\n" + sb3_tables([{"time/total_timesteps": 8, "a/x": 1.5}]).replace(
        "\n", "\r\n"
    )
    (src,) = read_stdout(write(tmp_path / "ps.log", text.encode("utf-16")))
    assert values(src, "a/x") == [1.5]
    assert src.facts["device"] == "cpu"


# ------------------------------------------------------------------------------------------
# Real console output of short trainings
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Console logs + progress.csv of PPO (EvalCallback, early stopping), A2C, DQN and SAC."""
    out = tmp_path_factory.mktemp("trained")
    script = str(DATA / "train_logs.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(out / "ppo.log", "wb") as fh:
        # stderr joins stdout like `python train.py > log 2>&1`.
        ppo = subprocess.Popen(
            [sys.executable, script, str(out), "ppo"], stdout=fh, stderr=subprocess.STDOUT, env=env
        )
        others = subprocess.run([sys.executable, script, str(out), "others"], capture_output=True, env=env)
        ppo.wait(timeout=300)
    assert others.returncode == 0, others.stderr.decode()[-2000:]
    assert ppo.returncode == 0, (out / "ppo.log").read_text()[-2000:]
    return out


@pytest.mark.slow
def test_ppo_console_log(trained: Path) -> None:
    (src,) = read_stdout(trained / "ppo.log")
    assert src.kind == "stdout" and src.warnings == []
    # Rollout tables every 64 steps, EvalCallback tables at 100 and 200.
    assert steps(src, "time/total_timesteps") == [64, 100, 128, 192, 200, 256]
    assert steps(src, "eval/mean_reward") == [100, 200]
    # The first table precedes any update: no train/ section. The eval tables carry the
    # train/* of the update (metrics-and-rules.md §0.6), so the next rollout table has none.
    assert steps(src, "train/approx_kl") == [100, 192, 200]
    assert steps(src, "rollout/ep_rew_mean") == [64, 128, 192, 256]
    facts = src.facts
    assert facts["device"] == "cpu"
    assert facts["log_dir"] == str(trained / "ppo")
    assert facts["eval_lines"] == 2
    assert facts["monitor_wrapped"] is True
    assert facts["early_stops"] and all(
        kl >= 0 and step in (100, 128, 192, 200, 256) for step, kl in facts["early_stops"]
    )

    csv = read_progress_csv(trained / "ppo" / "progress.csv")
    for key, series in src.metrics.items():
        exact = csv.metrics[key]
        assert list(series.steps) == list(exact.steps), key
        for printed, value in zip(series.values, exact.values, strict=True):
            assert close_3g(printed, value), (key, printed, value)
    # approx_kl is a numpy float32, printed in full: equal to csv's value at float32 precision.
    kls = values(src, "train/approx_kl")
    assert [np.float32(v) for v in kls] == [np.float32(v) for v in csv.metrics["train/approx_kl"].values]
    assert all(len(repr(v).lstrip("-0.").replace(".", "")) > 3 for v in kls if v)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algo", "keys"),
    [
        ("a2c", ["train/policy_loss", "train/value_loss", "train/explained_variance", "time/iterations"]),
        ("dqn", ["rollout/exploration_rate", "train/loss", "time/episodes"]),
        ("sac", ["train/ent_coef", "train/ent_coef_loss", "train/actor_loss", "train/critic_loss"]),
    ],
)
def test_other_algorithms_agree_with_progress_csv(trained: Path, algo: str, keys: list[str]) -> None:
    (src,) = read_stdout(trained / f"{algo}.log")
    csv = read_progress_csv(trained / algo / "progress.csv")
    assert set(keys) <= set(src.metrics)
    assert set(src.metrics) == set(csv.metrics)
    for key, series in src.metrics.items():
        assert list(series.steps) == list(csv.metrics[key].steps), key
        assert all(close_3g(p, v) for p, v in zip(series.values, csv.metrics[key].values, strict=True)), key


@pytest.mark.slow
def test_progress_bar_and_ansi_noise_do_not_change_the_result(trained: Path, tmp_path: Path) -> None:
    clean = read_stdout(trained / "ppo.log")
    # Put a rich-style bar (colours, erase-line, \r redraws) before every line, as a
    # terminal capture of `learn(progress_bar=True)` holds it.
    bar = "\x1b[35m  25%\x1b[0m \x1b[91m" + "━" * 20 + "\x1b[0m \x1b[32m64/256 \x1b[0m"
    lines = (trained / "ppo.log").read_text().splitlines()
    noisy = "".join(
        f"{bar}\r\x1b[2K{line}\r\n" if i % 2 else f"{line}\r{bar}\r\x1b[2K\n" for i, line in enumerate(lines)
    )
    noisy += "\x1b[?25l" + bar + "\r"  # the bar left on the last line
    same_runs(read_stdout(write(tmp_path / "noisy.log", noisy)), clean)


def test_real_rich_progress_bar_capture() -> None:
    # Captured with `script` from a terminal: PPO CartPole, EvalCallback, progress_bar=True.
    # rich redraws its bar with \r and ANSI codes on the same lines as the table borders.
    path = DATA / "ppo_rich_progress_bar.log"
    assert b"\x1b[2K---" in path.read_bytes()
    (src,) = read_stdout(path)
    assert steps(src, "time/total_timesteps") == [64, 100, 128, 192, 200, 256]
    assert steps(src, "train/approx_kl") == [100, 192, 200]
    assert src.facts["eval_lines"] == 2 and src.warnings == []


@pytest.mark.slow
def test_crlf_log(trained: Path, tmp_path: Path) -> None:
    text = (trained / "ppo.log").read_text()
    crlf = write(tmp_path / "crlf.log", text.replace("\n", "\r\n"))
    same_runs(read_stdout(crlf), read_stdout(trained / "ppo.log"))


@pytest.mark.slow
def test_log_cut_at_start_and_end(trained: Path, tmp_path: Path) -> None:
    full = read_stdout(trained / "ppo.log")[0]
    lines = (trained / "ppo.log").read_text().splitlines(keepends=True)
    borders = [i for i, line in enumerate(lines) if line.startswith("---")]
    # Start inside the first table and end inside the last one (mid-line, no newline).
    start = borders[0] + 3
    end = borders[-2] + 4
    cut = "".join(lines[start:end]) + lines[end][:7]
    (src,) = read_stdout(write(tmp_path / "cut.log", cut))
    assert steps(src, "time/total_timesteps") == [100, 128, 192, 200]
    assert any("before the first border ignored" in w for w in src.warnings)
    assert any("no closing border" in w for w in src.warnings)
    for key, series in src.metrics.items():
        mine = dict(zip(series.steps, series.values, strict=True))
        theirs = dict(zip(full.metrics[key].steps, full.metrics[key].values, strict=True))
        assert all(theirs[s] == v or (math.isnan(v) and math.isnan(theirs[s])) for s, v in mine.items())


@pytest.mark.slow
def test_runs_printed_one_after_another(trained: Path, tmp_path: Path) -> None:
    one = (trained / "ppo.log").read_text()
    single = read_stdout(trained / "ppo.log")
    # Steps go back: two runs.
    runs = read_stdout(write(tmp_path / "two.log", one + one))
    same_runs(runs, single + single)
    # Steps do not go back (a first attempt stopped after its first table, at the same step
    # where the second begins), but "Using cpu device" starts a new model.
    first_table_end = [i for i, line in enumerate(one.splitlines(keepends=True)) if line.startswith("---")][1]
    head = "".join(one.splitlines(keepends=True)[: first_table_end + 1])
    runs = read_stdout(write(tmp_path / "retry.log", head + one))
    assert [steps(r, "time/total_timesteps") for r in runs] == [[64], [64, 100, 128, 192, 200, 256]]
    assert all(r.facts["device"] == "cpu" for r in runs)


@pytest.mark.slow
def test_chunked_learn_calls_are_one_run(trained: Path) -> None:
    text = (trained / "chunked.log").read_text()
    assert text.count("Logging to") == 3
    (src,) = read_stdout(trained / "chunked.log")
    assert steps(src, "time/total_timesteps") == [25, 50, 75, 100, 125, 150, 175, 200, 225, 250, 275, 300]
    # time/iterations restarts with every learn() call while the steps go on.
    assert values(src, "time/iterations") == [5, 10, 15, 20] * 3
    # SB3 names the folder A2C_0 when the very first learn() has reset_num_timesteps=False.
    assert src.facts["log_dir"] == str(trained / "tb" / "A2C_0")


@pytest.mark.slow
def test_incremental_feed_in_random_chunks(trained: Path) -> None:
    data = (trained / "ppo.log").read_bytes() + (trained / "a2c.log").read_bytes()
    rng = random.Random(0)
    parser = StdoutParser(Path("x.log"))
    tables = []
    pos = 0
    while pos < len(data):
        n = rng.randint(1, 60)
        tables += parser.feed_bytes(data[pos : pos + n])
        pos += n
    runs = parser.finish()
    whole = StdoutParser(Path("x.log"))
    whole_tables = whole.feed(data.decode())
    same_runs(runs, whole.finish())
    assert [(t.run, t.step, t.values) for t in tables] == [(t.run, t.step, t.values) for t in whole_tables]
    assert [t.run for t in tables].count(1) == 5  # the A2C run (steps go back to 80)


def test_half_written_table_waits_for_its_border() -> None:
    text = sb3_tables(
        [{"time/total_timesteps": 64, "train/loss": 1.0}, {"time/total_timesteps": 128, "train/loss": 2.0}]
    )
    first_end = text.index("\n", text.index("\n-", 1) + 1) + 1
    parser = StdoutParser()
    assert [t.step for t in parser.feed(text[: first_end + 40])] == [64]
    assert parser.feed(text[first_end + 40 : -1]) == []  # closing border without its newline
    assert [t.step for t in parser.feed(text[-1:])] == [128]
    (src,) = parser.finish()
    assert values(src, "train/loss") == [1.0, 2.0]


def test_unterminated_last_table_is_dropped_with_a_warning(tmp_path: Path) -> None:
    text = sb3_tables(
        [{"time/total_timesteps": 64, "train/loss": 1.0}, {"time/total_timesteps": 128, "train/loss": 2.0}]
    )
    (src,) = read_stdout(write(tmp_path / "t.log", text[: text.rindex("---") - 10]))
    assert values(src, "train/loss") == [1.0]
    assert any("t.log:" in w and "closing border" in w for w in src.warnings)


def test_harvested_facts_from_real_sb3_lines(tmp_path: Path) -> None:
    # The GPU warning exactly as warnings.warn prints it from SB3's on-policy base class.
    gpu = warnings.formatwarning(
        "You are trying to run PPO on the GPU, but it is primarily intended to run on the CPU when not "
        "using a CNN policy (you are using ActorCriticPolicy which should be a MlpPolicy).",
        UserWarning,
        "stable_baselines3/common/on_policy_algorithm.py",
        150,
    )
    text = (
        "Using cuda device\n"
        + gpu
        + "Wrapping the env with a `Monitor` wrapper\nLogging to runs/PPO_3\n"
        + sb3_tables([{"time/total_timesteps": 2048, "train/loss": 1.0}])
        + "Early stopping at step 3 due to reaching max kl: 0.03\n"
        + 'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n    model.learn(1)\n'
        + "ValueError: Expected parameter loc (Tensor of shape (64, 1)) to satisfy the constraint Real()\n"
    )
    (src,) = read_stdout(write(tmp_path / "t.log", text))
    assert src.facts["device"] == "cuda"
    assert src.facts["gpu_warning"] is True
    assert src.facts["log_dir"] == "runs/PPO_3"
    assert src.facts["early_stops"] == [[2048, 0.03]]
    assert src.facts["early_stop_epochs"] == [3]
    assert src.facts["errors"][0].startswith("ValueError: Expected parameter loc")


# ------------------------------------------------------------------------------------------
# End to end: committed fixtures and stdin
# ------------------------------------------------------------------------------------------


def _fixture_runs() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.glob("*/*/stdout.log") if (p.parent / "progress.csv").exists())


@pytest.mark.skipif(not _fixture_runs(), reason="fixtures/ not generated in this checkout")
@pytest.mark.parametrize("run_dir", _fixture_runs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_stdout_agrees_with_progress_csv_and_merge_prefers_csv(run_dir: Path) -> None:
    (src,) = read_stdout(run_dir / "stdout.log")
    csv = read_progress_csv(run_dir / "progress.csv")
    assert src.warnings == []
    compared = 0
    for key, series in src.metrics.items():
        exact = csv.metrics[key]
        assert list(series.steps) == list(exact.steps), key
        for printed, value in zip(series.values, exact.values, strict=True):
            assert close_3g(printed, value), (key, printed, value)
            compared += 1
    assert compared > 20
    (run,) = read_runs(run_dir)
    assert "stdout" in run.sources and "progress_csv" in run.sources
    for key, exact in csv.metrics.items():
        merged = run.metrics[key]
        if "tensorboard" not in run.sources or key.startswith("time/") or key == "train/n_updates":
            # Keys SB3 keeps out of TensorBoard come from csv (full precision), not stdout.
            assert list(merged.values) == pytest.approx(list(exact.values), nan_ok=True), key


def test_stdin_through_the_cli(tmp_path: Path) -> None:
    text = "Using cpu device\n" + sb3_tables(
        [
            {"time/total_timesteps": 64, "rollout/ep_rew_mean": 20.5},
            {"time/total_timesteps": 128, "rollout/ep_rew_mean": 30.25},
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "sb3doctor", "export", "-"],
        input=text.encode(),
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode().splitlines()
    assert out[0].split(",") == ["run", "step", "metric", "value", "wall_time"]
    rows = [line.split(",") for line in out[1:]]
    assert ["64", "rollout/ep_rew_mean", "20.5"] in [r[1:4] for r in rows]
    assert ["128", "rollout/ep_rew_mean", "30.2"] in [r[1:4] for r in rows]  # 3 significant digits
    bad = subprocess.run(
        [sys.executable, "-m", "sb3doctor", "export", "-"],
        input=b"\x00\x01binary",
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.decode().strip() == "sb3doctor: error: -: binary file, not a text log"


def test_env_id_from_rl_zoo_banner_and_its_source() -> None:
    """rl-zoo's train.py prints ``========== CartPole-v1 ==========`` first (data/
    rlzoo_train_stdout.log: ``python -m rl_zoo3.train --algo ppo --env CartPole-v1 -n 3000``,
    its output redirected to a file): the env is known from the printed output alone, and the
    report says that is where it was found, not in a monitor header."""
    from sb3doctor.reference import detect_env_id

    (run,) = read_runs(DATA / "rlzoo_train_stdout.log")
    assert run.algo == "PPO"
    assert detect_env_id(run) == ("CartPole-v1", "printed output")
    # SB3's own line for an env given by name, too
    (legacy,) = read_runs(ROOT / "fixtures" / "stdout" / "legacy_width23.log")
    assert detect_env_id(legacy) == ("CartPole-v1", "printed output")
    # a banner-like line that is no env id (spaces in it) is not taken for one
    for banner in (
        "========== not an env ==========",
        "========== Training ==========",
        "==========  ==========",
    ):
        parser = StdoutParser()
        parser.feed(banner + "\n")
        assert "env_id" not in parser._pending, banner


def test_env_id_from_a_monitor_header_keeps_its_source_beside_printed_output(tmp_path: Path) -> None:
    """A monitor.csv and a printed log merged into one run: the monitor's header is read first,
    and its id is reported with its own source, not with the printed output's."""
    from sb3doctor.reference import detect_env_id
    from sb3doctor.sources import build_run
    from sb3doctor.sources.monitor import read_monitor

    monitor = tmp_path / "monitor.csv"
    monitor.write_text(
        '#{"t_start": 1700000000.0, "env_id": "Acrobot-v1"}\nr,l,t\n-500.0,500,1.0\n-480.0,480,2.0\n'
    )
    printed = read_stdout(DATA / "rlzoo_train_stdout.log")
    run = build_run(tmp_path, "PPO_1", [read_monitor([monitor]), *printed])
    assert detect_env_id(run) == ("Acrobot-v1", "monitor header")
