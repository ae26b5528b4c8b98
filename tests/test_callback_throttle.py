"""DoctorCallback's cost stays bounded however often SB3 dumps: the rules run when enough time
has passed since they last ran, at once on a NaN, and once more at the end of training."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("torch")

from stable_baselines3 import DQN
from stable_baselines3.common.logger import configure

from sb3doctor.callbacks import DoctorCallback


def _doctor(**kwargs: object) -> DoctorCallback:
    model = DQN("MlpPolicy", "CartPole-v1", seed=0, verbose=0, device="cpu", learning_starts=10)
    model.set_logger(configure(None, []))  # learn() would set one; these tests feed dumps directly
    doctor = DoctorCallback(verbose=0, **kwargs)  # type: ignore[arg-type]
    doctor.init_callback(model)
    doctor._on_training_start()
    return doctor


def _dump(doctor: DoctorCallback, step: int, loss: float = 0.5) -> None:
    values = {
        "time/total_timesteps": step,
        "rollout/exploration_rate": max(0.05, 1 - step / 5000),
        "rollout/ep_rew_mean": 20.0,
        "train/loss": loss,
    }
    doctor._on_dump(values, {k: () for k in values}, step)


def test_dumps_are_recorded_every_time_but_evaluated_by_time() -> None:
    doctor = _doctor()
    for i in range(1, 201):
        _dump(doctor, 100 * i)
    assert doctor.dumps == 200
    assert len(doctor.run.metrics["train/loss"]) == 200  # every value is kept
    # The first dump is evaluated; 200 dumps in a fraction of a second are not all evaluated.
    assert 1 <= doctor.evaluations < 20
    assert doctor.eval_seconds <= doctor.callback_seconds


def test_a_nan_is_evaluated_at_once() -> None:
    doctor = _doctor(min_eval_interval=3600.0)  # nothing else would be evaluated in this test
    for i in range(1, 11):
        _dump(doctor, 100 * i)
    assert doctor.evaluations == 1
    _dump(doctor, 1_100, loss=math.nan)
    assert doctor.evaluations == 2
    assert any(f.category == "diverged" for f in doctor.active.values())


def test_the_end_of_training_evaluates_what_is_pending() -> None:
    doctor = _doctor(min_eval_interval=3600.0)
    for i in range(1, 11):
        _dump(doctor, 100 * i)
    assert doctor.evaluations == 1
    doctor._on_training_end()
    assert doctor.evaluations == 2
    doctor._on_training_end()  # nothing new since: no second evaluation
    assert doctor.evaluations == 2


def test_min_eval_interval_zero_evaluates_every_dump() -> None:
    doctor = _doctor(min_eval_interval=0.0)
    for i in range(1, 21):
        _dump(doctor, 100 * i)
    assert doctor.evaluations == doctor.dumps == 20
