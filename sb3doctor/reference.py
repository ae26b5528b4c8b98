"""What a run should be compared with: its env, the env's random and reference returns, budgets.

:func:`run_reference` finds the env id of a run (``--env``, ``config.json``, the Monitor header
line, rl-zoo's ``config.yml``/``args.yml`` facts, or a folder named after the env as rl-zoo and
SB3's ``tensorboard_log`` layouts make them) and looks it up in :mod:`sb3doctor.knowledge`.
The knowledge files are read only here, and only when a rule or an advice item needs them, so
``sb3doctor analyze`` on a run whose rules never ask pays nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sb3doctor.model import Run

#: rl-zoo names its log folders ``<env_id>_<n>``; SB3 names TensorBoard runs ``<ALGO>_<n>``.
_ZOO_RUN = re.compile(r"^(?P<env>.+-v\d+)_\d+$")
#: Folders above the run that may carry the env id (zoo: ``logs/ppo/CartPole-v1_1``,
#: ``tb/CartPole-v1/PPO_1``; users: ``runs/CartPole-v1/seed1/PPO_1``).
_PATH_DEPTH = 4


@dataclass(frozen=True)
class RunReference:
    """Reference numbers for one run; every field may be None when unknown.

    :param env_id: the env id as the run names it
    :param env_source: where the env id was found (``monitor header``, ``config.json``, ...)
    :param random_return: mean return of a uniform random policy on the env
    :param reference_return: rl-zoo's benchmark return for the run's algorithm on the env, else
        the best rl-zoo return of any algorithm, else the env's known optimum
    :param reference_algo: the algorithm that reference is for (None for an optimum)
    :param budget: the timesteps rl-zoo trained that reference with
    :param fastest_budget: the smallest budget of any algorithm in rl-zoo's benchmark for the
        env: by then a competent configuration has solved it, so a run that has not even
        started to improve by a fraction of it is not just slow
    :param sparse: the env rewards only at a goal, so a random policy sits at its floor
    :param time_limit: the env's registered ``max_episode_steps``: no episode runs longer
    :param onset: the steps after its first update that rl-zoo's tuned agent of the run's
        algorithm took to leave random play on the env, in its slowest measured seed; None
        where not measured, or where the run is not shown to use rl-zoo's settings
        (:func:`~sb3doctor.knowledge.uses_zoo_settings`)
    :param onset_runs: how many seeds that was measured on
    :param critic_onset: the steps after its first update that the same agent's critic took to
        explain anything (explained_variance out of 0.05 around 0), in its slowest measured seed;
        None where not measured or the run is not shown to use rl-zoo's settings
    """

    env_id: str | None = None
    env_source: str | None = None
    random_return: float | None = None
    reference_return: float | None = None
    reference_algo: str | None = None
    budget: int | None = None
    fastest_budget: int | None = None
    sparse: bool = False
    time_limit: int | None = None
    onset: int | None = None
    onset_runs: int | None = None
    critic_onset: int | None = None

    def progress(self, value: float) -> float | None:
        """``(value - random) / (reference - random)``: 0 at random play, 1 at the reference."""
        if self.random_return is None or self.reference_return is None:
            return None
        span = self.reference_return - self.random_return
        if span <= 0:
            return None
        return (value - self.random_return) / span

    def fields(self) -> dict[str, Any]:
        """The ``{ref[...]}`` message fields."""
        return {
            "env": self.env_id,
            "random": self.random_return,
            "reference": self.reference_return,
            "reference_algo": self.reference_algo,
            "budget": self.budget,
            "fastest_budget": self.fastest_budget,
            "onset": self.onset,
            "onset_runs": self.onset_runs,
        }


def detect_env_id(run: Run, override: str | None = None) -> tuple[str | None, str | None]:
    """The env id of ``run`` and where it was found, or (None, None)."""
    from sb3doctor import knowledge

    if override:
        return override, "--env"
    for key, source in (("env_id", "config"), ("env", "config")):
        value = run.hyperparams.get(key)
        if isinstance(value, str) and value:
            return value, source
    env = run.facts.get("env_id")
    # the stdout reader says where it read the id; monitor.csv's header is the other source
    found_in = run.facts.get("env_id_source")
    found_in = found_in if isinstance(found_in, str) and found_in else "monitor header"
    if isinstance(env, str) and env:
        return env, found_in
    if isinstance(env, list) and env and isinstance(env[0], str):
        return env[0], found_in
    path = Path(run.path)
    if path.is_file():
        path = path.parent
    for part in [path, *path.parents][:_PATH_DEPTH]:
        name = part.name
        m = _ZOO_RUN.match(name)
        if m and knowledge.looks_like_env_id(m.group("env")):
            return m.group("env"), "folder name"
        if knowledge.looks_like_env_id(name):
            return name, "folder name"
    return None, None


def run_reference(run: Run, override: str | None = None) -> RunReference:
    """Reference numbers for ``run`` (see :class:`RunReference`)."""
    from sb3doctor import knowledge

    env_id, source = detect_env_id(run, override)
    if env_id is None:
        return RunReference()
    env = knowledge.env_reference(env_id)
    algo = run.algo or ""
    own = knowledge.zoo_benchmark(algo, env_id) if algo else None
    every = knowledge.zoo_benchmarks(env_id)
    reference, ref_algo, budget = None, None, None
    if own is not None:
        reference, ref_algo, budget = own.mean_reward, own.algo, own.n_timesteps
    elif every:
        best = max(every, key=lambda z: z.mean_reward)
        reference, ref_algo = best.mean_reward, best.algo
        # Without a zoo entry for this algorithm, the cheapest budget any algorithm needed.
        budget = min(z.n_timesteps for z in every)
    elif env is not None and env.optimum is not None:
        reference = env.optimum
    # How long rl-zoo's tuned agent takes to leave random play describes that agent: a run shown
    # to use its settings, not one with SB3's defaults (rl-zoo's DQN on CartPole leaves random
    # play within 30,000 steps; with SB3's defaults most seeds never do).
    # Most pairs have no onset row: the settings are compared only where one exists.
    onset = knowledge.zoo_onset(algo, env_id) if algo else None
    if onset is not None and not knowledge.uses_zoo_settings(algo, env_id, run.hyperparams):
        onset = None
    return RunReference(
        onset=onset.onset_max if onset is not None else None,
        onset_runs=onset.runs if onset is not None else None,
        critic_onset=onset.critic_onset_max if onset is not None else None,
        fastest_budget=min((z.n_timesteps for z in every), default=None),
        env_id=env_id,
        env_source=source,
        random_return=env.random_return if env is not None else None,
        reference_return=reference,
        reference_algo=ref_algo,
        budget=budget,
        sparse=bool(env is not None and env.sparse),
        time_limit=env.max_episode_steps if env is not None else None,
    )
