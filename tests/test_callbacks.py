"""DoctorCallback inside real SB3 training: stop a broken run, leave a healthy one alone."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from stable_baselines3 import A2C, DQN, PPO, SAC, TD3  # noqa: E402
from stable_baselines3.common.callbacks import CallbackList, EvalCallback  # noqa: E402
from stable_baselines3.common.logger import configure  # noqa: E402

from sb3doctor.callbacks import DoctorCallback  # noqa: E402
from sb3doctor.train import build_model, resolve_config  # noqa: E402


def preset_model(name: str, timesteps: int, tmp_path: Path):  # type: ignore[no-untyped-def]
    config = resolve_config(preset=name, timesteps=timesteps, device="cpu", logdir=tmp_path)
    model = build_model(config, device="cpu")
    # Keep a csv and the tables: the callback's counters must land in both.
    model.set_logger(configure(str(tmp_path / "log"), ["stdout", "csv", "tensorboard"]))
    return model, config


@pytest.mark.slow
def test_stops_a_real_lr_too_high_run_early(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model, config = preset_model("lr-too-high", 20_000, tmp_path)
    doctor = DoctorCallback(stop_on=["lr_too_high"])
    model.learn(config.total_timesteps, callback=doctor)

    # stopped by an lr_too_high finding: the KL rules or the learning rate against SB3's default
    assert doctor.stop_reason is not None
    assert doctor.stop_reason.split()[0] in {"PPO-KL-HIGH", "PPO-KL-SPIKES", "LR-FAR-ABOVE-REFERENCE"}
    assert model.num_timesteps < config.total_timesteps  # stopped early, not at the end
    # ... and at once: on the first env step after the dump that raised the finding.
    assert doctor.stopped_at is not None
    assert doctor.stopped_at < model.num_timesteps <= doctor.stopped_at + config.n_envs
    raised = [f for _, kind, f in doctor.events if kind == "raised"]
    assert any(f.category == "lr_too_high" for f in raised)
    out = capsys.readouterr().out
    assert "sb3doctor: stopping training at step" in out
    # The counters went into the same dump as the values that raised them.
    with open(tmp_path / "log" / "progress.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert float(rows[-1]["doctor/warnings"]) + float(rows[-1]["doctor/errors"]) >= 1
    assert float(rows[0]["doctor/warnings"]) == 0
    # The finding text went to TensorBoard (as a text summary), not into the tables or the csv.
    (event_file,) = (tmp_path / "log").glob("events.out.tfevents.*")
    assert b"doctor/findings" in event_file.read_bytes()
    assert "doctor/findings" not in rows[0]
    # The writers were removed at the end of learn().
    assert not any(type(f).__module__ == "sb3doctor.callbacks" for f in model.logger.output_formats)


@pytest.mark.slow
def test_leaves_a_healthy_run_alone(tmp_path: Path) -> None:
    model, _ = preset_model("healthy", 8_192, tmp_path)
    doctor = DoctorCallback(stop_on="error")
    model.learn(8_192, callback=doctor)
    assert doctor.stop_reason is None
    assert model.num_timesteps >= 8_192
    assert doctor.dumps >= 7
    assert not any(f.category == "lr_too_high" for _, _, f in doctor.events)
    assert not any(f.severity == "error" for f in doctor.active.values())


ALGOS = {
    "PPO": (PPO, "CartPole-v1", {"n_steps": 128, "batch_size": 64, "n_epochs": 2}, "train/approx_kl"),
    "A2C": (A2C, "CartPole-v1", {}, "train/policy_loss"),
    "DQN": (DQN, "CartPole-v1", {"learning_starts": 100, "train_freq": 4}, "rollout/exploration_rate"),
    "SAC": (
        SAC,
        "Pendulum-v1",
        {"learning_starts": 100, "batch_size": 32, "policy_kwargs": {"net_arch": [32]}},
        "train/ent_coef",
    ),
    "TD3": (
        TD3,
        "Pendulum-v1",
        {"learning_starts": 100, "batch_size": 32, "policy_kwargs": {"net_arch": [32]}},
        "train/critic_loss",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("algo", list(ALGOS))
def test_every_algorithm_with_eval_callback(algo: str, tmp_path: Path) -> None:
    cls, env_id, kwargs, key = ALGOS[algo]
    steps = 400 if algo in ("SAC", "TD3") else 1_500
    model = cls("MlpPolicy", env_id, seed=0, verbose=0, device="cpu", **kwargs)
    log_interval = 1 if algo in ("SAC", "TD3") else None
    doctor = DoctorCallback(verbose=0)
    eval_freq = 200 if algo in ("SAC", "TD3") else 500
    evaluation = EvalCallback(model.get_env(), eval_freq=eval_freq, n_eval_episodes=1, verbose=0)
    learn_kwargs = {"log_interval": log_interval} if log_interval else {}
    model.learn(steps, callback=CallbackList([evaluation, doctor]), **learn_kwargs)
    assert doctor.dumps >= 2
    assert doctor.run.algo == algo
    assert key in doctor.run.metrics
    assert "eval/mean_reward" in doctor.run.metrics  # EvalCallback's own dumps are seen too
    steps_seen = list(doctor.run.metrics["eval/mean_reward"].steps)
    assert steps_seen == sorted(steps_seen) and steps_seen[0] >= eval_freq
    # Every training episode that ended, from the Monitor summaries in the step infos: the same
    # per-episode returns as the env's own Monitor buffer, at the step each one ended.
    returns = doctor.run.metrics["episode/reward"]
    recent = [float(e["r"]) for e in model.ep_info_buffer]
    assert len(returns) >= len(recent) > 0
    assert list(returns.values)[-len(recent) :] == pytest.approx(recent)
    assert list(doctor.run.metrics["episode/length"].values)[-len(recent) :] == [
        e["l"] for e in model.ep_info_buffer
    ]
    ended = list(returns.steps)
    assert ended == sorted(ended) and 0 < ended[-1] <= model.num_timesteps


@pytest.mark.slow
def test_stops_the_readme_example_with_error(tmp_path: Path) -> None:
    """The README's example (PPO, CartPole, learning_rate 0.05, 20 epochs) is dead after one
    update; stop_on="error" must stop it within a few updates, naming the learning rate."""
    model = PPO("MlpPolicy", "CartPole-v1", learning_rate=0.05, n_epochs=20, seed=0, device="cpu", verbose=0)
    model.set_logger(configure(str(tmp_path / "log"), ["csv"]))
    doctor = DoctorCallback(stop_on="error", verbose=0)
    model.learn(100_000, callback=doctor)
    assert doctor.stop_reason is not None, [f.rule for f in doctor.active.values()]
    assert doctor.stopped_at is not None and doctor.stopped_at <= 8 * model.n_steps  # a few updates
    errors = [f for f in doctor.active.values() if f.severity == "error"]
    # the error is the learning rate itself, or the divergence it caused, and the reason names it
    assert errors and any(
        f.category == "lr_too_high" or (f.category == "diverged" and f.caused_by == "LR-FAR-ABOVE-REFERENCE")
        for f in errors
    )
    # ... with the learning rate as the cause and its advice, not a generic fix such as VecNormalize
    assert "because of LR-FAR-ABOVE-REFERENCE" in doctor.stop_reason
    assert "learning_rate 0.05 -> 0.001" in doctor.stop_reason and "None" not in doctor.stop_reason
    # the advice brings the learning rate back to a reference, not to 0.025
    lr = [a for f in doctor.active.values() for a in f.advice if a.param == "learning_rate"]
    assert lr and all(1e-4 <= a.suggested <= 3e-3 for a in lr)


def test_the_readme_example_names_the_learning_rate_when_the_kl_stays_high() -> None:
    # The same README example takes another path on other CPUs (torch's kernels differ): the KL
    # stays above 1 for every update, and the high-KL rule (an error) holds before the learning
    # rate's own rule escalates. This is that path's real log (seed 4 here), fed to the callback
    # dump by dump: the stop must still name the learning rate and bring it to rl-zoo's value.
    model = PPO("MlpPolicy", "CartPole-v1", learning_rate=0.05, n_epochs=20, seed=0, device="cpu", verbose=0)
    model.set_logger(configure(None, []))  # learn() would set one; the dumps are fed directly
    doctor = DoctorCallback(stop_on="error", verbose=0, min_eval_interval=0.0)
    doctor.init_callback(model)
    doctor._on_training_start()
    log = Path(__file__).parent / "data" / "ppo_cartpole_lr005_kl_stays_high" / "progress.csv"
    with log.open(newline="") as f:
        for row in csv.DictReader(f):
            values = {k: float(v) for k, v in row.items() if v != ""}
            doctor._on_dump(values, {k: () for k in values}, int(values["time/total_timesteps"]))
            if doctor.stop_reason is not None:
                break
    assert doctor.stop_reason is not None and doctor.stop_reason.startswith("PPO-KL-HIGH")
    assert "because of LR-FAR-ABOVE-REFERENCE" in doctor.stop_reason
    assert "learning_rate 0.05 -> 0.001" in doctor.stop_reason
    lr = [a for f in doctor.active.values() for a in f.advice if a.param == "learning_rate"]
    assert [a.suggested for a in lr] == [0.001]  # one recommendation, the reference's


def test_knows_the_critic_depth_of_the_model(tmp_path: Path) -> None:
    # VF-CRITIC-LINEAR needs the value network's depth, which no log line carries: the callback
    # reads it from the model (the tiny-critic preset builds PPO with net_arch vf=[]).
    for preset, layers in (("tiny-critic", 0), ("healthy", 2)):
        model, _ = preset_model(preset, 64, tmp_path / preset)
        doctor = DoctorCallback(stop_on=None)
        model.learn(64, callback=doctor)
        assert doctor._hyperparams.get("critic_layers") == layers, preset
