"""Which trainings a folder holds, decided by content: real SB3 logs, split and joined."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sb3doctor.sources import read_runs, stdout, tensorboard
from sb3doctor.sources.identity import continues, same_training

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEEDS = FIXTURES / "ppo_seeds"


def _event_file(run: Path) -> Path:
    return next(run.glob("events.out.tfevents.*"))


def test_a_tee_of_the_same_training_agrees_and_another_seed_does_not() -> None:
    own = tensorboard.read_event_file(_event_file(SEEDS / "PPO_1")).metrics
    other = tensorboard.read_event_file(_event_file(SEEDS / "PPO_2")).metrics
    (printed,) = stdout.read_stdout(SEEDS / "PPO_1" / "stdout.log", known_keys=set(own))
    # Same steps (512, 1024, ...) in all three: only the values tell the seeds apart.
    assert same_training(printed.metrics, own)
    assert not same_training(printed.metrics, other)


def test_the_fixture_stdout_folder_is_one_run_per_training() -> None:
    """fixtures/stdout holds a PPO log, a log of two PPO trainings and the seed-004 A2C log:
    four trainings, never one merged "PPO" run."""
    runs = read_runs(FIXTURES / "stdout")
    assert sorted((r.name, r.algo) for r in runs) == [
        ("stdout/legacy_width23.log", "PPO"),
        ("stdout/multi_run.log#1", "PPO"),
        ("stdout/multi_run.log#2", "PPO"),
        ("stdout/seed004_a2c.log", "A2C"),
    ]
    assert all(r.sources == ["stdout"] for r in runs)


def test_a_stdout_log_of_another_training_beside_an_event_file_is_its_own_run(tmp_path: Path) -> None:
    run = tmp_path / "PPO_1"
    run.mkdir()
    shutil.copy(_event_file(SEEDS / "PPO_1"), run)
    shutil.copy(SEEDS / "PPO_1" / "stdout.log", run / "train.log")
    (joined,) = read_runs(run)  # its own tee: one run, both sources
    assert joined.sources == ["stdout", "tensorboard"]
    (run / "train.log").unlink()
    shutil.copy(SEEDS / "PPO_2" / "stdout.log", run / "other.log")
    runs = read_runs(run)
    assert sorted(r.sources[0] for r in runs) == ["stdout", "tensorboard"]
    assert len({r.name for r in runs}) == 2
    event_run = next(r for r in runs if r.sources == ["tensorboard"])
    assert event_run.source_files == [run / _event_file(SEEDS / "PPO_1").name]


@pytest.mark.slow
def test_a_training_continued_in_a_second_log_stays_one_run(tmp_path: Path) -> None:
    """learn(reset_num_timesteps=False) printed to a second file (a resubmitted job) continues
    the first run; a fresh learn() printed to a third file is a new training."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.logger import configure

    folder = tmp_path / "job"
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=256, batch_size=64, n_epochs=2, seed=0, device="cpu")
    model.set_logger(configure(str(tmp_path / "a"), ["log"]))
    model.learn(768)
    model.set_logger(configure(str(tmp_path / "b"), ["log"]))
    model.learn(768, reset_num_timesteps=False)
    fresh = PPO("MlpPolicy", "CartPole-v1", n_steps=256, batch_size=64, n_epochs=2, seed=1, device="cpu")
    fresh.set_logger(configure(str(tmp_path / "c"), ["log"]))
    fresh.learn(768)
    folder.mkdir()
    for name, out in (("a", "slurm-1.log"), ("b", "slurm-2.log"), ("c", "slurm-3.log")):
        shutil.copy(tmp_path / name / "log.txt", folder / out)

    runs = read_runs(folder)
    assert len(runs) == 2
    first = next(r for r in runs if r.name.endswith("slurm-1.log"))
    steps = first.metrics["time/total_timesteps"].steps
    assert steps[0] == 256 and steps[-1] == 1536  # both files, one run
    assert sorted(first.source_files) == [folder / "slurm-1.log", folder / "slurm-2.log"]


def test_continues_needs_the_same_keys_and_steps_going_on() -> None:
    own = tensorboard.read_event_file(_event_file(SEEDS / "PPO_1")).metrics
    other = tensorboard.read_event_file(_event_file(SEEDS / "PPO_2")).metrics
    assert not continues(own, other)  # the second seed starts again at step 512


def test_sb3_tensorboard_log_with_a_teed_stdout_is_one_training(tmp_path: Path) -> None:
    """SB3's own layout: tensorboard_log="logs/" writes logs/PPO_1/events..., and the shell's
    tee writes the printed tables to logs/train.log. One training, so one run."""
    logs = tmp_path / "logs"
    (logs / "PPO_1").mkdir(parents=True)
    shutil.copy(_event_file(SEEDS / "PPO_1"), logs / "PPO_1")
    shutil.copy(SEEDS / "PPO_1" / "stdout.log", logs / "train.log")
    (run,) = read_runs(logs)
    assert run.sources == ["tensorboard"] and run.name == "PPO_1"
    assert any("train.log" in w and "read once" in w for w in run.warnings)
    # The printed output of another training is not a copy: two runs.
    shutil.copy(SEEDS / "PPO_2" / "stdout.log", logs / "train.log")
    assert len(read_runs(logs)) == 2


def test_console_logs_are_found_by_content_whatever_their_name(tmp_path: Path) -> None:
    """slurm-*.out, nohup.out and *.txt hold SB3 tables only by content: each seed's log is a
    run (UTF-16 with CRLF and colour codes included), a README.txt and rl-zoo's command.txt
    are not logs at all, and the same training printed twice is one run."""
    job = tmp_path / "job"
    job.mkdir()
    shutil.copy(SEEDS / "PPO_1" / "stdout.log", job / "slurm-1234.out")
    shutil.copy(SEEDS / "PPO_1" / "stdout.log", job / "log.txt")  # the same training again
    shutil.copy(SEEDS / "PPO_2" / "stdout.log", job / "nohup.out")
    text = (SEEDS / "PPO_3" / "stdout.log").read_text(encoding="utf-8")
    coloured = text.replace("| rollout/", "\x1b[1m| rollout/").replace("\n", "\x1b[0m\r\n")
    (job / "train_output.txt").write_bytes(coloured.encode("utf-16"))  # PowerShell's `>`
    (job / "README.txt").write_text("PPO CartPole, three seeds\n")
    (job / "command.txt").write_text("python -m rl_zoo3.train --algo ppo --env CartPole-v1\n")

    runs = read_runs(job)
    assert len(runs) == 3
    names = {Path(str(f)).name for r in runs for f in r.source_files}
    assert names == {"slurm-1234.out", "log.txt", "nohup.out", "train_output.txt"}
    assert all(r.algo == "PPO" and r.metrics["train/approx_kl"] for r in runs)
    # the UTF-16 log was read as fully as its UTF-8 original
    utf16 = next(
        r for r in runs if any(str(f).endswith(".txt") and "output" in str(f) for f in r.source_files)
    )
    assert len(utf16.metrics["time/total_timesteps"]) == len(
        stdout.read_stdout(SEEDS / "PPO_3" / "stdout.log")[0].metrics["time/total_timesteps"]
    )


def test_symlinked_run_folders_are_followed_once_and_loops_end(tmp_path: Path) -> None:
    import os

    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copytree(SEEDS / "PPO_1", tmp_path / "elsewhere" / "PPO_1")
    os.symlink(tmp_path / "elsewhere" / "PPO_1", logs / "PPO_1")  # a run linked in
    shutil.copytree(SEEDS / "PPO_2", logs / "PPO_2")
    os.symlink(logs / "PPO_2", logs / "best")  # a second name for a run already there
    os.symlink("..", logs / "PPO_2" / "up")  # a loop
    runs = read_runs(logs)
    assert sorted(r.name for r in runs) == ["PPO_1", "PPO_2"]


def test_add_scalars_sub_folders_belong_to_their_run(tmp_path: Path) -> None:
    """SummaryWriter.add_scalars beside SB3's logger: PPO_1/reward_train/ and PPO_1/reward_eval/
    hold event files of their own. They are part of PPO_1; a nested PPO_2 stays a run."""
    from stable_baselines3.common.logger import configure
    from torch.utils.tensorboard import SummaryWriter

    run = tmp_path / "PPO_1"
    logger = configure(str(run), ["tensorboard"])
    writer = SummaryWriter(log_dir=str(run))
    for i in range(1, 6):
        logger.record("rollout/ep_rew_mean", 10.0 * i)
        logger.record("train/approx_kl", 0.01)
        logger.dump(2048 * i)
        writer.add_scalars("reward", {"train": 10.0 * i, "eval": 9.0 * i}, 2048 * i)
    logger.close()
    writer.close()
    assert (run / "reward_train").is_dir() and (run / "reward_eval").is_dir()

    (r,) = read_runs(run)
    assert r.name == "PPO_1"
    assert list(r.metrics["reward/train"].values) == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert list(r.metrics["reward/eval"].steps) == [2048 * i for i in range(1, 6)]
    shutil.copytree(SEEDS / "PPO_2", run / "PPO_2")
    assert sorted(x.name for x in read_runs(run)) == ["PPO_1", "PPO_2"]
