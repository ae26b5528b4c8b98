"""Atari's Monitor counts emulator frames: its episodes are put on the logger's step axis.

``tests/data/atari_ppo_breakout_8k`` is a real rl-zoo training, kept as rl-zoo wrote it (the
event file copied beside the Monitor files)::

    python -m rl_zoo3.train --algo ppo --env BreakoutNoFrameskip-v4 -n 8192 --seed 1 \\
        --eval-freq -1 --device cpu --vec-env dummy -conf conf.yml --tensorboard-log tb \\
        --log-folder zoo          # conf.yml: rl-zoo's own `atari` entry for PPO

(ale-py 0.12.1, SB3 2.9). rl-zoo wraps each env in Monitor before AtariWrapper, whose frame
skip is 4: the 8 Monitor files sum to 32,590 frames for the event file's 8,192 steps.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from sb3doctor.conditions import frames_per_step
from sb3doctor.engine import sees_pixels
from sb3doctor.model import Series, SourceData
from sb3doctor.sources import read_runs
from sb3doctor.sources.frames import align_monitor_steps, frame_skip_from_clock, logger_clock
from sb3doctor.sources.monitor import read_monitor
from sb3doctor.sources.tensorboard import read_event_file
from sb3doctor.sources.zoo import ATARI_WRAPPER, atari_frame_skip

ATARI = Path(__file__).parent / "data" / "atari_ppo_breakout_8k"
BENCH_RUNS = Path(__file__).resolve().parents[1] / "bench" / "benchmark" / "runs"


def _raw_frames() -> int:
    return read_monitor(sorted(ATARI.glob("*.monitor.csv"))).metrics["episode/reward"].max_step()


def test_the_fixture_counts_four_frames_per_step() -> None:
    # what the fix is for: read alone, the Monitor runs four times ahead of the event file
    assert _raw_frames() == 32_590
    (events,) = ATARI.glob("events.out.tfevents.*")
    assert read_event_file(events).metrics["time/fps"].max_step() == 8_192


def test_episodes_are_placed_on_the_event_files_steps_by_the_clock() -> None:
    (run,) = read_runs(ATARI)
    assert run.facts["frame_skip_source"] == "clock"
    # 4 frames per step plus the frames of AtariWrapper's resets (no-ops, FIRE, lost lives)
    assert 4.0 <= run.facts["frame_skip"] <= 4.7
    assert run.hyperparams["frame_skip"] == run.facts["frame_skip"]
    episodes = run.metrics["episode/reward"]
    assert run.step_range() is not None and run.step_range()[1] == 8_192
    # the last episode ended during the last rollout, before its table was written
    assert 8_192 - 1_024 < episodes.max_step() <= 8_192
    assert list(episodes.steps) == sorted(episodes.steps)
    assert any("counts emulator frames" in w for w in run.warnings)


def test_every_episode_lands_between_the_tables_written_around_it() -> None:
    (run,) = read_runs(ATARI)
    episodes = run.metrics["episode/reward"]
    fps = run.metrics["time/fps"]
    dumps = sorted(zip(fps.wall_times, fps.steps, strict=True))
    for wall, step in zip(episodes.wall_times, episodes.steps, strict=True):
        before = max((s for w, s in dumps if w <= wall), default=0)
        after = min((s for w, s in dumps if w >= wall), default=None)
        assert before <= step and (after is None or step <= after)


def _prefix(src: SourceData, keep: Callable[[int, float], bool]) -> SourceData:
    """``src`` with only the points ``keep(step, wall)`` holds for: what a live read saw."""
    out = SourceData(src.kind, src.path, facts=dict(src.facts))
    for name, series in src.metrics.items():
        points = [
            p for p in zip(series.steps, series.values, series.wall_times, strict=True) if keep(p[0], p[2])
        ]
        out.metrics[name] = Series.from_points(*zip(*points, strict=True)) if points else Series()
    return out


def test_three_tables_into_a_live_run_the_frames_are_already_known() -> None:
    """Before the slope has 4 tables, the ratio decides: finished episodes summing to 1.5x the
    steps taken cannot be the agent's steps."""
    (events,) = ATARI.glob("events.out.tfevents.*")
    logger = read_event_file(events)
    third = logger.metrics["time/fps"]
    wall = next(w for s, w in zip(third.steps, third.wall_times, strict=True) if s == 3_072)
    logger = _prefix(logger, lambda step, _: step <= 3_072)
    monitor = _prefix(read_monitor(sorted(ATARI.glob("*.monitor.csv"))), lambda _, w: w <= wall)
    assert monitor.metrics["episode/reward"].max_step() > 9_000  # frames, read alone
    sources, found = align_monitor_steps([logger, monitor], {})
    assert found is not None and found[1] == "clock" and 3.0 <= found[0] <= 4.7
    assert sources[1].metrics["episode/reward"].max_step() <= 3_072
    # the Monitor as read is left as it was (watch goes on extending it)
    assert monitor.metrics["episode/reward"].max_step() > 9_000


def test_without_an_event_file_rl_zoos_config_names_the_frame_skip(tmp_path: Path) -> None:
    folder = tmp_path / "zoo_run"
    shutil.copytree(ATARI, folder, ignore=shutil.ignore_patterns("events.out.tfevents.*"))
    (run,) = read_runs(folder)
    assert run.facts["frame_skip"] == 4 and run.facts["frame_skip_source"] == "rl-zoo config"
    assert run.metrics["episode/reward"].max_step() == round(32_590 / 4)


def test_monitors_alone_without_a_config_are_left_as_they_are(tmp_path: Path) -> None:
    for monitor in ATARI.glob("*.monitor.csv"):
        shutil.copy(monitor, tmp_path / monitor.name)
    (run,) = read_runs(tmp_path)
    assert "frame_skip" not in run.facts
    assert run.metrics["episode/reward"].max_step() == 32_590


@pytest.mark.parametrize(
    "name", [f"healthy-{name}-s1" for name in ("a2c-cartpole", "td3-pendulum", "ppo-cartpole")]
)
def test_a_monitor_of_agent_steps_is_not_moved(name: str) -> None:
    folder = BENCH_RUNS / name
    if not folder.is_dir():
        pytest.fail(f"benchmark run {name} is missing from the repository")
    monitor = read_monitor(sorted(folder.glob("*.monitor.csv")))
    raw = monitor.metrics["episode/reward"]
    events = [read_event_file(p) for p in sorted(folder.glob("events.out.tfevents.*"))]
    slope = frame_skip_from_clock(monitor, logger_clock([*events, monitor]))
    assert slope == 1.0
    (run,) = read_runs(folder)
    assert "frame_skip" not in run.facts
    assert list(run.metrics["episode/reward"].steps) == list(raw.steps)


@pytest.mark.parametrize(
    ("env_wrapper", "expected"),
    [
        (ATARI_WRAPPER, 4),
        ([ATARI_WRAPPER], 4),
        ([{ATARI_WRAPPER: {"frame_skip": 2, "terminal_on_life_loss": False}}], 2),
        ([{ATARI_WRAPPER: None}], 4),
        ([{ATARI_WRAPPER: {"frame_skip": True}}], None),
        (["sb3_contrib.common.wrappers.TimeFeatureWrapper"], None),
        (None, None),
    ],
)
def test_frame_skip_from_rl_zoos_env_wrapper(env_wrapper: object, expected: int | None) -> None:
    assert atari_frame_skip(env_wrapper) == expected


def test_episode_lengths_in_frames_are_read_as_steps() -> None:
    assert frames_per_step({"frame_skip": 4}) == 4.0
    assert frames_per_step({}) == 1.0
    assert frames_per_step({"frame_skip": "4"}) == 1.0  # not a number: not a frame skip


def test_a_real_atari_training_with_progress_csv_and_the_callback(tmp_path: Path) -> None:
    """SB3's own ``make_atari_env`` (Monitor inside AtariWrapper) trained for 4,096 steps, with
    ``progress.csv`` and the Monitor files in one folder and DoctorCallback attached. 4,096
    steps, not fewer: progress.csv's whole-second ``time_elapsed`` counts from the Monitor's
    start, which precedes ``learn()`` by the model's construction (1-2 s here), and in a run of a
    few seconds that offset hid enough episodes to take the ratio under 1.5 now and then."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.vec_env import VecFrameStack

    from sb3doctor.callbacks import DoctorCallback

    gym.register_envs(ale_py)
    folder = tmp_path / "breakout"
    env = make_atari_env("BreakoutNoFrameskip-v4", n_envs=2, seed=0, monitor_dir=str(folder))
    env = VecFrameStack(env, n_stack=4)
    model = PPO("CnnPolicy", env, n_steps=128, n_epochs=1, batch_size=128, seed=0, device="cpu", verbose=0)
    model.set_logger(configure(str(folder), ["csv"]))
    doctor = DoctorCallback(verbose=0)
    model.learn(4_096, callback=doctor)
    env.close()

    # The callback: Monitor's lengths are frames, the finished episodes alone outnumber the steps
    lengths = doctor.run.metrics["episode/length"]
    assert sum(lengths.values) > 1.5 * model.num_timesteps
    assert doctor.run.hyperparams["frame_skip"] >= 1.5
    # and the run is known to learn from images (the GPU advice, PERF-GPU-MLP kept quiet)
    assert doctor.run.hyperparams["policy"] == "ActorCriticCnnPolicy"
    assert sees_pixels(doctor.run)

    # analyze: no event file, so progress.csv's time_elapsed is the clock, from the Monitor's start
    (run,) = read_runs(folder)
    assert run.facts["frame_skip_source"] == "clock"
    raw = read_monitor(sorted(folder.glob("*.monitor.csv"))).metrics["episode/reward"].max_step()
    assert raw > 1.5 * 4_096
    assert run.metrics["episode/reward"].max_step() <= 4_096 + 256  # a rollout's worth at most


def test_watch_places_the_episodes_of_a_growing_atari_run_on_its_steps(tmp_path: Path) -> None:
    """The fixture replayed as it was written: the event file's bytes in 8 slices, and with each
    the Monitor rows of the episodes that had ended by its last table's wall time (the Monitor's
    own clock, t_start + t)."""
    from sb3doctor.watch import Watcher, make_evaluator

    (event,) = ATARI.glob("events.out.tfevents.*")
    data = event.read_bytes()
    monitors = {p.name: p.read_text().splitlines(keepends=True) for p in ATARI.glob("*.monitor.csv")}
    ends = {}
    for name, lines in monitors.items():
        t_start = json.loads(lines[0][1:])["t_start"]
        ends[name] = [t_start + float(row.split(",")[2]) for row in lines[2:]]
    dest = tmp_path / "run"
    dest.mkdir()
    watcher = Watcher(dest, make_evaluator())
    checked = 0
    for i in range(1, 9):
        (dest / event.name).write_bytes(data[: len(data) * i // 8])
        fps = read_event_file(dest / event.name).metrics.get("time/fps")
        if fps is None or not len(fps):
            continue
        wall, last = max(fps.wall_times), fps.max_step()
        for name, lines in monitors.items():
            done = sum(1 for end in ends[name] if end <= wall)
            (dest / name).write_text("".join(lines[: 2 + done]))
        watcher.poll()
        (state,) = watcher.runs.values()
        run = state.snapshot()
        episodes = run.metrics.get("episode/reward")
        if episodes is None:
            continue
        raw = sum(
            int(row.split(",")[1]) for name in monitors for row in (dest / name).read_text().splitlines()[2:]
        )
        if raw > 1.5 * last:  # the Monitor's frames outnumber the steps: it must have been placed
            assert episodes.max_step() <= last, (i, episodes.max_step(), last)
            assert run.hyperparams.get("frame_skip", 0) >= 1.5
            checked += 1
    assert checked >= 5


def test_a_corrupt_monitor_start_time_does_not_take_the_run_down(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(ATARI, folder)
    first = folder / "0.monitor.csv"
    lines = first.read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace(lines[0].split('"t_start": ')[1].split(",")[0], "1e308")
    first.write_text("".join(lines))
    (run,) = read_runs(folder)  # one Monitor whose times are far off: no crash, steps in range
    assert all(0 <= s <= 1 << 53 for s in run.metrics["episode/reward"].steps)


def test_the_low_throughput_advice_follows_the_policy() -> None:
    """PERF-FPS-LOW on the real Breakout run (90 steps/s on one CPU core) advises a GPU; the same
    tables from an MLP policy's env would be advised the CPU."""
    from sb3doctor.engine import evaluate
    from sb3doctor.rules_path import builtin_rules_dir
    from sb3doctor.ruleset import load_rules

    (rule,) = [r for r in load_rules([builtin_rules_dir()]) if r.id == "PERF-FPS-LOW"]
    (run,) = read_runs(ATARI)
    (finding,) = evaluate(run, [rule])
    assert {a.param: a.suggested for a in finding.advice}["device"] == "cuda"
    run.facts["env_id"] = "CartPole-v1"
    for name in ("env_id", "policy"):  # rl-zoo's config.yml: BreakoutNoFrameskip-v4, CnnPolicy
        run.hyperparams.pop(name)
    (finding,) = evaluate(run, [rule])
    assert {a.param: a.suggested for a in finding.advice}["device"] == "cpu"


@pytest.mark.slow
def test_an_evaluation_monitor_beside_the_training_one_is_not_taken_for_frames(tmp_path: Path) -> None:
    """EvalCallback's env wrapped in ``Monitor(eval_env, log_dir + "/eval")`` writes
    ``eval.monitor.csv`` beside the training's ``monitor.csv``: read together, their episodes
    sum to more than 1.5x the steps trained, which is not a frame skip (CartPole, no Atari)."""
    import gymnasium as gym
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import EvalCallback
    from stable_baselines3.common.monitor import Monitor

    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    env = Monitor(gym.make("CartPole-v1"), str(log_dir))
    eval_env = Monitor(gym.make("CartPole-v1"), str(log_dir / "eval"))
    model = PPO(
        "MlpPolicy", env, n_steps=256, batch_size=64, seed=0, device="cpu", tensorboard_log=str(log_dir)
    )
    model.learn(2_048, callback=EvalCallback(eval_env, eval_freq=256, n_eval_episodes=20, verbose=0))
    raw = read_monitor(sorted(log_dir.glob("*monitor.csv"))).metrics["episode/reward"]
    assert raw.max_step() > 1.5 * 2_048  # the evaluation episodes double the Monitor's count
    (run,) = read_runs(log_dir)
    assert "frame_skip" not in run.facts and "frame_skip" not in run.hyperparams
    assert list(run.metrics["episode/reward"].steps) == list(raw.steps)
    assert not any("emulator frames" in w for w in run.warnings)
