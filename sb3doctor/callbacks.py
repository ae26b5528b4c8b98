"""``DoctorCallback``: the sb3doctor rules evaluated inside training, at every logger dump.

Usage::

    from sb3doctor.callbacks import DoctorCallback
    model.learn(100_000, callback=DoctorCallback(stop_on="error"))

How it sees the values: SB3's ``Logger.dump()`` hands ``name_to_value`` to every
``KVWriter`` in ``logger.output_formats``. The callback registers two writers there for the
duration of ``learn()``: one at the front, which records the dump's numeric values into an
in-memory :class:`~sb3doctor.model.Run` (step = ``num_timesteps``), evaluates the rules and
adds ``doctor/warnings`` and ``doctor/errors`` to the same dump (so they reach stdout, csv and
TensorBoard with it); and one at the back, which prints new findings after SB3's own table.
No SB3 internals are patched. ``_on_step`` only notes the episodes that just ended (the
``episode`` summary SB3's ``Monitor`` puts in their ``info``), so that the return rules judge the
same per-episode returns as ``analyze`` does from ``monitor.csv``, not the 100-episode rolling
mean of ``rollout/ep_rew_mean``.

What it costs is the rules, and an algorithm that dumps at every episode (DQN, SAC or TD3 with
``log_interval=1``) dumps dozens of times a second. So the values of every dump are recorded,
but the rules run only when enough time has passed since they last ran: by default 200 times
what that evaluation took, which keeps them under 0.5 % of the training time however often SB3
dumps. A dump with a NaN or an infinite value is evaluated at once (divergence is the error
worth stopping for promptly), and the end of ``learn()`` evaluates whatever is still pending.

This module imports stable_baselines3; import it only in training code.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HumanOutputFormat, KVWriter

from sb3doctor.model import SEVERITIES, Finding, Run, Series, safe_fsum, severity_rank
from sb3doctor.sources.detect import detect_algo
from sb3doctor.sources.hyperparams import critic_layers, recover_hyperparams

__all__ = ["DoctorCallback"]

# Constructor arguments worth handing to the advice renderer, with SB3's own names.
_HP_NAMES = (
    "n_steps",
    "batch_size",
    "n_epochs",
    "gamma",
    "gae_lambda",
    "ent_coef",
    "vf_coef",
    "max_grad_norm",
    "target_kl",
    "normalize_advantage",
    "use_sde",
    "buffer_size",
    "learning_starts",
    "tau",
    "gradient_steps",
    "target_update_interval",
    "exploration_fraction",
    "exploration_initial_eps",
    "exploration_final_eps",
    "policy_delay",
    "target_policy_noise",
    "target_noise_clip",
    "n_envs",
)


class _FrontWriter(KVWriter):
    """First writer of every dump: feed the values to the doctor, add its counters to the dump."""

    def __init__(self, doctor: DoctorCallback) -> None:
        self.doctor = doctor

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0
    ) -> None:
        self.doctor._on_dump(key_values, key_excluded, step)

    def close(self) -> None:
        pass


class _BackWriter(KVWriter):
    """Last writer of every dump: print what changed, below SB3's own table."""

    def __init__(self, doctor: DoctorCallback) -> None:
        self.doctor = doctor

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0
    ) -> None:
        self.doctor._flush_messages()

    def close(self) -> None:
        pass


class DoctorCallback(BaseCallback):
    """Evaluate sb3doctor's rules on the values SB3's logger records, at every dump.

    :param stop_on: stop training (``_on_step`` returns False) when a finding holds that is
        at or above a severity (``"error"``, ``"warning"``, ``"info"``), or whose rule id or
        category is in a list (``["lr_too_high", "PPO-KL-HIGH"]``; severities may be mixed in).
        None (default) never stops.
    :param config: an ``sb3doctor.yaml`` / ``pyproject.toml`` with rule overrides (as ``--config``)
    :param lang: ``en`` or ``zh`` for the printed messages (default: the config's, else ``en``)
    :param verbose: 0 silent, 1 print findings as they start and stop holding (default)
    :param min_eval_interval: seconds between two evaluations of the rules; None (default)
        adapts it to keep the rules under ``1 / EVAL_WAIT_FACTOR`` (0.5 %) of the training
        time; 0 evaluates at every dump

    After (or during) training: :attr:`active` holds the findings that hold now (rule id ->
    Finding), :attr:`events` every raise/clear as ``(step, "raised"|"cleared", Finding)``,
    :attr:`stop_reason` why training was stopped (None if it was not) and :attr:`stopped_at` the
    step of the dump that stopped it, :attr:`run` the
    in-memory run the rules saw, :attr:`eval_seconds` the time spent in the rules,
    :attr:`callback_seconds` the time spent in the callback altogether, :attr:`dumps` and
    :attr:`evaluations` how many dumps it saw and how many it evaluated.
    """

    #: Without ``min_eval_interval``, the rules wait this many times their last cost before
    #: running again: at most 1/200 = 0.5 % of the wall time goes to them.
    EVAL_WAIT_FACTOR = 200.0

    def __init__(
        self,
        stop_on: str | Sequence[str] | None = None,
        *,
        config: str | Path | None = None,
        lang: str | None = None,
        verbose: int = 1,
        min_eval_interval: float | None = None,
    ) -> None:
        super().__init__(verbose=verbose)
        self.stop_on: tuple[str, ...] = (stop_on,) if isinstance(stop_on, str) else tuple(stop_on or ())
        from sb3doctor.watch import make_evaluator

        self._evaluate = make_evaluator(config=config, lang=lang)
        self.active: dict[str, Finding] = {}
        self.events: list[tuple[int, str, Finding]] = []
        self.stop_reason: str | None = None
        self.stopped_at: int | None = None
        self.run: Run = Run(path=Path("."), name="training", sources=["logger"])
        self.eval_seconds = 0.0
        self.callback_seconds = 0.0
        self.dumps = 0
        self.evaluations = 0
        self.min_eval_interval = min_eval_interval
        self._wait = 0.0  # seconds until the rules may run again, after the last evaluation
        self._last_eval: float | None = None  # perf_counter() at the end of the last evaluation
        self._pending_eval = False  # values recorded since the last evaluation
        self._new_lines: list[str] = []  # what the last evaluation raised, for doctor/findings
        self._pending: list[str] = []
        self._writers: tuple[_FrontWriter, _BackWriter] | None = None
        self._last_step = -1
        # (step, return, length) of the episodes that ended since the last dump, as Monitor
        # gives them (floats, numpy scalars); _record_episodes keeps the numbers
        self._episodes: list[tuple[int, Any, Any]] = []

    # -- SB3 hooks

    def _on_training_start(self) -> None:
        if self.num_timesteps < self._last_step:
            # learn(reset_num_timesteps=True) again: a new curve, so a new run.
            self.run = Run(path=Path("."), name="training", sources=["logger"])
            self.active = {}
            self._episodes = []
        name = type(self.model).__name__
        self.run.name = name
        self.run.live = True  # what the rules see until learn() returns is a prefix of the run
        self._hyperparams = self._model_hyperparams()
        front, back = _FrontWriter(self), _BackWriter(self)
        formats = self.logger.output_formats
        formats.insert(0, front)
        formats.append(back)
        self._writers = (front, back)

    def _on_step(self) -> bool:
        start = time.perf_counter()
        infos = self.locals.get("infos")
        if infos:
            for info in infos:
                episode = info.get("episode") if isinstance(info, dict) else None
                if episode is not None:  # Monitor's summary of an episode that just ended
                    self._episodes.append((self.num_timesteps, episode.get("r"), episode.get("l")))
        # counted with the rest of the callback's time (bench/bench_callback.py reports it)
        self.callback_seconds += time.perf_counter() - start
        return self.stop_reason is None

    def _on_training_end(self) -> None:
        self.run.live = False
        self._record_episodes(time.time())  # those that ended after the last dump
        if self._pending_eval and self.stop_reason is None:
            # The last dumps may have been recorded but not evaluated (throttled): the findings
            # after learn() are those of the whole run.
            t0 = time.perf_counter()
            self._pending.extend(self._evaluate_now(self._last_step))
            self.callback_seconds += time.perf_counter() - t0
        if self._writers is not None:
            formats = self.logger.output_formats
            for w in self._writers:
                if w in formats:
                    formats.remove(w)
            self._writers = None
        self._flush_messages()

    # -- the dump

    def _on_dump(
        self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int
    ) -> None:
        start = time.perf_counter()
        self.dumps += 1
        self._last_step = step
        wall = time.time()
        added = self._record_episodes(wall)
        alarm = False
        for key, value in key_values.items():
            if key.startswith("doctor/"):
                continue
            x = _as_float(value)
            if x is None:
                continue
            self._append(key, step, x, wall)
            added = True
            alarm = alarm or not math.isfinite(x)
        if added:
            self._pending_eval = True
            due = self._last_eval is None or alarm or start - self._last_eval >= self._wait
            if due:
                self._pending.extend(self._evaluate_now(step))
            self._record_counts()
        self.callback_seconds += time.perf_counter() - start

    def _append(self, key: str, step: int, x: float, wall: float) -> None:
        """One point of the run's ``key`` series, created on its first point."""
        series = self.run.metrics.get(key)
        if series is None:
            series = self.run.metrics[key] = Series()
        series.append(step, x, wall)

    def _record_episodes(self, wall: float) -> bool:
        """Move the episodes noted since the last dump into the run, as ``monitor.csv`` gives
        them to ``analyze`` (``episode/reward``, ``episode/length``); whether there were any."""
        episodes, self._episodes = self._episodes, []
        for step, ret, length in episodes:
            for key, value in (("episode/reward", ret), ("episode/length", length)):
                x = _as_float(value)
                if x is not None:
                    self._append(key, step, x, wall)
        if episodes:
            self._pending_eval = True
        return bool(episodes)

    def _evaluate_now(self, step: int) -> list[str]:
        """Run the rules on everything recorded so far; the lines to print about what changed."""
        t0 = time.perf_counter()
        run = self.run
        run.algo = detect_algo(run.metrics.keys(), [type(self.model).__name__])
        run.hyperparams = recover_hyperparams(run, {"hyperparams": self._hyperparams})
        frames = _measured_frame_skip(run, step)
        if frames is not None:
            run.hyperparams["frame_skip"] = frames
        findings = self._evaluate(run)
        t1 = time.perf_counter()
        cost = t1 - t0
        self.eval_seconds += cost
        self.evaluations += 1
        self._pending_eval = False
        self._last_eval = t1
        interval = self.min_eval_interval
        self._wait = interval if interval is not None else cost * self.EVAL_WAIT_FACTOR

        current = {f.rule: f for f in findings}
        raised = [
            f for r, f in current.items() if r not in self.active or self.active[r].severity != f.severity
        ]
        cleared = [f for r, f in self.active.items() if r not in current]
        self.active = current
        lines: list[str] = []
        for f in raised:
            self.events.append((step, "raised", f))
            lines.append(_describe(f, step))
        for f in cleared:
            self.events.append((step, "cleared", f))
            lines.append(f"sb3doctor: cleared {f.rule} {f.name} at step {step}")
        if self.stop_reason is None:
            for f in current.values():
                if self._stops(f):
                    self.stop_reason = f"{f.rule} {f.name} ({f.severity}): {f.message}"
                    root = current.get(f.caused_by) if f.caused_by else None
                    if root is not None:  # name the cause the user can change, not just the symptom
                        self.stop_reason += f"; because of {root.rule}: {root.message}"
                        self.stop_reason += "".join(
                            f"; {a.text or f'{a.param}: {a.current} -> {a.suggested}'}" for a in root.advice
                        )
                    self.stopped_at = step
                    lines.append(f"sb3doctor: stopping training at step {step}: {self.stop_reason}")
                    break
        self._new_lines = lines
        return lines

    def _record_counts(self) -> None:
        """Add the findings' counts (and new finding texts) to the dump being written."""
        counts = {sev: 0 for sev in SEVERITIES}
        for f in self.active.values():
            counts[f.severity] = counts.get(f.severity, 0) + 1
        # Recorded into the dump being written: later writers (stdout, csv, TensorBoard) get them.
        self.logger.record("doctor/warnings", counts["warning"])
        self.logger.record("doctor/errors", counts["error"])
        if self._new_lines:
            text = "\n\n".join(self._new_lines)
            self._new_lines = []
            # Text goes to TensorBoard only: a string would widen the stdout table and the csv.
            self.logger.record("doctor/findings", text, exclude=("stdout", "log", "csv", "json"))

    def _stops(self, finding: Finding) -> bool:
        for item in self.stop_on:
            if item in SEVERITIES:
                if severity_rank(finding.severity) >= severity_rank(item):
                    return True
            elif item in (finding.rule, finding.category, finding.name):
                return True
        return False

    def _flush_messages(self) -> None:
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        if self.verbose < 1:
            return
        human = [f for f in self.logger.output_formats if isinstance(f, HumanOutputFormat)]
        if human:
            # Through SB3's logger: lands on stdout and in log.txt next to the tables.
            for line in lines:
                self.logger.log(line)
        if not any(getattr(f, "file", None) is sys.stdout for f in human):
            for line in lines:
                print(line, flush=True)

    def _model_hyperparams(self) -> dict[str, Any]:
        model = self.model
        hp: dict[str, Any] = {"algo": type(model).__name__}
        for name in _HP_NAMES:
            value = getattr(model, name, None)
            if isinstance(value, (bool, int, float, str)):
                hp[name] = value
        lr = getattr(model, "learning_rate", None)
        if isinstance(lr, (int, float)):
            hp["learning_rate"] = float(lr)
        clip = getattr(model, "clip_range", None)
        if callable(clip):
            with contextlib.suppress(TypeError, ValueError):
                hp["clip_range"] = float(clip(1.0))
        elif isinstance(clip, (int, float)):
            hp["clip_range"] = float(clip)
        if "n_steps" in hp and "n_envs" in hp:
            hp["rollout_size"] = int(hp["n_steps"]) * int(hp["n_envs"])
        # The value network's depth, for VF-CRITIC-LINEAR (SB3 2.x keeps the resolved net_arch).
        layers = critic_layers({"net_arch": getattr(getattr(model, "policy", None), "net_arch", None)})
        if layers is not None:
            hp["critic_layers"] = layers
        policy = getattr(model, "policy", None)
        if policy is not None:
            hp["policy"] = type(policy).__name__  # ActorCriticCnnPolicy: learns from images
        space = getattr(model, "action_space", None)
        if space is not None:
            from gymnasium import spaces

            if isinstance(space, spaces.Discrete):
                hp["action_space"] = "discrete"
                hp["n_actions"] = int(space.n)
            elif isinstance(space, spaces.Box):
                hp["action_space"] = "box"
        env_id = _env_id(model)
        if env_id:
            hp["env_id"] = env_id  # for the reference returns and rl-zoo's tuned values
        total = getattr(model, "_total_timesteps", None)
        if isinstance(total, int) and total > 0:
            hp["total_timesteps"] = total
        return hp


def _measured_frame_skip(run: Run, step: int) -> float | None:
    """Episode-length units per agent step where the Monitor counts emulator frames (Atari's
    frame skip: ``make_atari_env`` wraps Monitor inside it), else None. The finished episodes'
    lengths can only sum to the steps taken or less when they count steps; 1.5 times as many
    is frames (see :mod:`sb3doctor.sources.frames`)."""
    from sb3doctor.sources.frames import MIN_SLOPE

    lengths = run.metrics.get("episode/length")
    if lengths is None or not len(lengths) or step <= 0:
        return None
    ratio = safe_fsum(lengths.values) / step
    return round(ratio, 1) if math.isfinite(ratio) and ratio >= MIN_SLOPE else None


def _env_id(model: Any) -> str | None:
    """The gymnasium id of the model's training env (first sub-env), or None when unknown."""
    env = model.get_env() if hasattr(model, "get_env") else None
    if env is None:
        return None
    try:
        specs = env.get_attr("spec", indices=[0])
    except (AttributeError, IndexError, TypeError):
        return None
    spec = specs[0] if specs else None
    env_id = getattr(spec, "id", None)
    return env_id if isinstance(env_id, str) else None


def _as_float(value: Any) -> float | None:
    """The value as a float if it is a number (ints, floats, numpy scalars), else None."""
    if isinstance(value, (bool, str)):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    item = getattr(value, "item", None)  # numpy and torch scalars
    if item is not None and getattr(value, "ndim", 0) == 0 and getattr(value, "size", 1) == 1:
        try:
            x = item()
        except (TypeError, ValueError, RuntimeError):
            return None
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            return float(x)
    return None


def _describe(f: Finding, step: int) -> str:
    """One line (plus advice) for a finding that just started holding."""
    observed = ""
    if f.observed is not None and not math.isnan(f.observed):
        observed = f" (observed {f.observed:.3g})"
    line = f"sb3doctor: [{f.severity}] {f.rule} {f.name} at step {step}: {f.message}{observed}"
    for a in f.advice:
        line += "\n    -> " + (a.text or f"{a.param}: {a.current} -> {a.suggested}")
    return line
