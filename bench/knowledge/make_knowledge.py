"""(Re)generate the reference data shipped in ``sb3doctor/knowledge/``.

Each sub-command writes one file (``all`` writes the four):

* ``envs`` -> ``envs.csv``: the mean and std of the undiscounted episode return of a uniform
  random policy (``env.action_space.sample()``), measured here with ``reset(seed=i)`` and
  ``action_space.seed(i)`` for episode ``i`` and the env's registered ``TimeLimit``, next to
  ``max_episode_steps`` and ``reward_threshold`` from ``gymnasium.spec``. Atari rows are not
  measured (no ROMs): they carry the random-play scores of the Nature DQN paper.
* ``benchmark`` -> ``rlzoo_benchmark.csv``: every row of rl-baselines3-zoo's ``benchmark.md``
  table, read from a git checkout (``--zoo-git-dir``, ``--zoo-ref``) or a file
  (``--benchmark-md``).
* ``defaults`` -> ``sb3_defaults.json``: the plain-valued default constructor arguments of the
  SB3 and sb3-contrib algorithms, from ``inspect.signature``.
* ``hyperparams`` -> ``rlzoo_hyperparams.json``: the tuned hyperparameters of every env in the
  installed ``rl_zoo3/hyperparams/*.yml`` (anchors and merges resolved), keyed by SB3 class name.
* ``onsets`` -> ``onsets.csv``: how many steps after its first gradient update each tuned rl-zoo
  agent trained by ``bench/knowledge/onset_runs.py`` took to leave random play (not part of
  ``all``: it needs those runs, which take an hour of CPU to train).

Usage::

    python bench/knowledge/make_knowledge.py all --zoo-git-dir PATH/TO/rl-baselines3-zoo
    python bench/knowledge/make_knowledge.py envs --only CartPole-v1 Hopper-v5 --episodes 100
    python bench/knowledge/make_knowledge.py benchmark --benchmark-md benchmark.md
    python bench/knowledge/onset_runs.py --jobs 2 && python bench/knowledge/make_knowledge.py onsets

This is a dev script: it imports gymnasium (with box2d and mujoco), SB3, sb3-contrib and
rl_zoo3, which the light ``sb3doctor`` package itself never does.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import inspect
import io
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "sb3doctor" / "knowledge"
SCRIPT = "bench/knowledge/make_knowledge.py"

ENV_COLUMNS = (
    "env_id",
    "random_return",
    "random_std",
    "random_episodes",
    "max_episode_steps",
    "reward_threshold",
    "optimum",
    "sparse",
    "source",
)
#: Envs whose reward comes only at a goal, so that a random policy sits at the floor (or, for
#: MountainCarContinuous, pays for every push and only the flag gives +100). From the envs'
#: documentation; the measured random returns above confirm it (std 0 at the floor).
SPARSE = frozenset(
    {"MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1", "sb3doctor/WarehouseRobot-v0"}
)
BENCH_COLUMNS = (
    "algo",
    "env_id",
    "mean_reward",
    "std_reward",
    "n_timesteps",
    "eval_timesteps",
    "eval_episodes",
)

WAREHOUSE_ID = "sb3doctor/WarehouseRobot-v0"
#: Envs whose random return is measured, in the order of the file.
MEASURED_ENVS = (
    "CartPole-v1",
    "Acrobot-v1",
    "MountainCar-v0",
    "MountainCarContinuous-v0",
    "Pendulum-v1",
    "LunarLander-v3",
    "LunarLanderContinuous-v3",
    "BipedalWalker-v3",
    "Hopper-v5",
    "HalfCheetah-v5",
    "Walker2d-v5",
    "Ant-v5",
    "Swimmer-v5",
    "Reacher-v5",
    "InvertedPendulum-v5",
    "InvertedDoublePendulum-v5",
    "Humanoid-v5",
    WAREHOUSE_ID,
)
DEFAULT_EPISODES = 100

#: Best possible returns that follow from the reward definition, with the reason.
OPTIMA: dict[str, tuple[float, str]] = {
    "CartPole-v1": (500.0, "+1 per step for the 500-step time limit"),
    "InvertedPendulum-v5": (1000.0, "+1 per step for the 1000-step time limit"),
    # Checked by _check_double_pendulum_optimum(): the per-step reward is
    # 10 - 0.01 x^2 - (y - 2)^2 - velocity penalty, and the pole tip is at most at y = 1.2.
    "InvertedDoublePendulum-v5": (
        9360.0,
        "upper bound: 1000 steps x 9.36, the per-step reward upright at rest (10 - (1.2 - 2)^2)",
    ),
    WAREHOUSE_ID: (1.0, "the goal reward of the default sparse mode"),
}

#: Random-play scores of Mnih et al. 2015 (Nature), Extended Data Table 2.
ATARI_RANDOM = {
    "PongNoFrameskip-v4": -20.7,
    "BreakoutNoFrameskip-v4": 1.7,
    "SpaceInvadersNoFrameskip-v4": 148.0,
    "QbertNoFrameskip-v4": 163.9,
    "SeaquestNoFrameskip-v4": 68.4,
    "EnduroNoFrameskip-v4": 0.0,
    "BeamRiderNoFrameskip-v4": 363.9,
    "MsPacmanNoFrameskip-v4": 307.3,
    "AsteroidsNoFrameskip-v4": 719.1,
}
ATARI_SOURCE = (
    "random-play score of Mnih et al. 2015 (Human-level control through deep reinforcement learning, "
    "Nature), Extended Data Table 2; not measured here (no Atari ROMs), no std or EnvSpec fields"
)

ZOO_REPO = "DLR-RM/rl-baselines3-zoo"
ZOO_REF = "22e3ff2"

SB3_ALGOS = ("PPO", "A2C", "DQN", "SAC", "TD3", "DDPG")
CONTRIB_ALGOS = ("QRDQN", "TQC", "TRPO", "ARS", "RecurrentPPO", "MaskablePPO", "CrossQ")
#: Constructor arguments that are not hyperparameters (or not plain values).
SKIP_ARGS = frozenset(
    {
        "self",
        "policy",
        "env",
        "tensorboard_log",
        "verbose",
        "seed",
        "device",
        "_init_setup_model",
        "policy_kwargs",
    }
)
MAX_LIST = 8

ZOO_KEYS = (
    "n_timesteps",
    "n_envs",
    "normalize",
    "policy",
    "learning_rate",
    "n_steps",
    "batch_size",
    "n_epochs",
    "gamma",
    "gae_lambda",
    "ent_coef",
    "vf_coef",
    "clip_range",
    "max_grad_norm",
    "target_kl",
    "use_sde",
    "buffer_size",
    "learning_starts",
    "train_freq",
    "gradient_steps",
    "tau",
    "target_update_interval",
    "exploration_fraction",
    "exploration_initial_eps",
    "exploration_final_eps",
    "policy_delay",
    "target_policy_noise",
    "noise_type",
    "noise_std",
    "frame_stack",
    "policy_kwargs",
)
#: Counts the zoo writes as ``!!float 1e6``: stored as integers.
ZOO_INT_KEYS = frozenset(
    {
        "n_timesteps",
        "n_envs",
        "n_steps",
        "batch_size",
        "n_epochs",
        "buffer_size",
        "learning_starts",
        "train_freq",
        "gradient_steps",
        "target_update_interval",
        "policy_delay",
        "frame_stack",
    }
)
#: Hyperparameter files that are not one algorithm's (HER wraps an off-policy algorithm).
ZOO_SKIP_FILES = frozenset({"her"})
#: Entries of a zoo file that are not an env's tuned values: ``default`` is the zoo's untuned
#: fallback for unlisted envs (a budget and a policy name), which is no reference to compare with.
ZOO_SKIP_ENTRIES = frozenset({"default"})
ENV_ID_RE = re.compile(r"^[A-Za-z][\w./-]*-v\d+$")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _fmt(x: float | None, digits: int = 3) -> str:
    """Short, exact-enough text for a CSV cell ('' for None); whole numbers lose their '.0'."""
    if x is None:
        return ""
    x = round(float(x), digits)
    return str(int(x)) if x.is_integer() else repr(x)


@contextmanager
def _in_temp_dir() -> Iterator[None]:
    # MuJoCo writes MUJOCO_LOG.TXT into the working directory on warnings: keep it out of the repo.
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(old)


# --------------------------------------------------------------------------- envs.csv


def measure_random(env_id: str, episodes: int, max_steps: int = 1_000_000) -> tuple[float, float]:
    """Mean and population std of the episode return of ``action_space.sample()`` on ``env_id``."""
    import gymnasium as gym

    env = gym.make(env_id)
    returns: list[float] = []
    try:
        for i in range(episodes):
            env.reset(seed=i)
            env.action_space.seed(i)
            total, steps, done = 0.0, 0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total += float(reward)
                steps += 1
                done = terminated or truncated
                if steps >= max_steps:  # an env without any time limit would loop forever
                    raise RuntimeError(f"{env_id}: episode {i} did not end within {max_steps} steps")
            returns.append(total)
    finally:
        env.close()
    # Population std, as SB3's evaluate_policy and the zoo benchmark report it.
    return statistics.fmean(returns), statistics.pstdev(returns)


def _check_double_pendulum_optimum() -> None:
    """Fail loudly if InvertedDoublePendulum's best per-step reward is no longer 9.36."""
    import gymnasium as gym
    import numpy as np

    env = gym.make("InvertedDoublePendulum-v5")
    env.reset(seed=0)
    base: Any = env.unwrapped
    base.set_state(np.zeros(base.model.nq), np.zeros(base.model.nv))
    _, reward, *_ = env.step(np.zeros(env.action_space.shape))
    env.close()
    bound = float(reward) * (env.spec.max_episode_steps if env.spec and env.spec.max_episode_steps else 0)
    if not math.isclose(bound, OPTIMA["InvertedDoublePendulum-v5"][0], rel_tol=1e-3):
        raise RuntimeError(f"InvertedDoublePendulum-v5 optimum changed: 1000 x upright reward = {bound}")


def env_row(env_id: str, episodes: int) -> dict[str, str]:
    """One measured row of envs.csv."""
    import gymnasium as gym

    spec = gym.spec(env_id)
    max_steps = spec.max_episode_steps
    limit_note = "max_episode_steps and reward_threshold from gymnasium EnvSpec"
    if max_steps is None and env_id == WAREHOUSE_ID:
        # The warehouse env enforces its own limit, 2 * (rows + cols), not a registered TimeLimit.
        env = gym.make(env_id)
        max_steps = getattr(env.unwrapped, "max_episode_steps", None)
        env.close()
        limit_note = (
            "max_episode_steps is the env's own time limit 2*(rows+cols) on the default 6x6 grid "
            "(no EnvSpec TimeLimit); reward_threshold from gymnasium EnvSpec"
        )
    start = time.perf_counter()
    mean, std = measure_random(env_id, episodes)
    seconds = time.perf_counter() - start
    print(f"{env_id:28s} {mean:12.3f} {std:10.3f} {episodes:4d} episodes {seconds:7.1f} s", flush=True)
    source = (
        f"random policy (action_space.sample()) measured by {SCRIPT}, {episodes} episodes "
        f"with reset(seed=0..{episodes - 1}), gymnasium {_version('gymnasium')}; {limit_note}"
    )
    optimum = OPTIMA.get(env_id)
    if optimum is not None:
        source += f"; optimum: {optimum[1]}"
    return {
        "env_id": env_id,
        "random_return": _fmt(mean),
        "random_std": _fmt(std),
        "random_episodes": str(episodes),
        "max_episode_steps": _fmt(max_steps),
        "reward_threshold": _fmt(spec.reward_threshold),
        "optimum": _fmt(optimum[0]) if optimum else "",
        "sparse": "1" if env_id in SPARSE else "",
        "source": source,
    }


def atari_rows() -> list[dict[str, str]]:
    """The unmeasured Atari rows (DQN Nature paper random-play scores)."""
    return [
        {
            "env_id": env_id,
            "random_return": _fmt(score),
            "random_std": "",
            "random_episodes": "",
            "max_episode_steps": "",
            "reward_threshold": "",
            "optimum": "",
            "sparse": "",
            "source": ATARI_SOURCE,
        }
        for env_id, score in ATARI_RANDOM.items()
    ]


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _write_csv(path: Path, header: Sequence[str], columns: Sequence[str], rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    for line in header:
        buf.write(f"# {line}\n")
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({len(rows)} rows)")


def make_envs(out_dir: Path, episodes: int, only: Sequence[str] | None) -> None:
    """Measure the random returns and write envs.csv (``only``: re-measure these rows, keep the rest)."""
    sys.path.insert(0, str(ROOT))
    import sb3doctor.envs  # noqa: F401  (registers sb3doctor/WarehouseRobot-v0)

    unknown = sorted(set(only or ()) - set(MEASURED_ENVS))
    if unknown:
        raise SystemExit(f"not a measured env: {', '.join(unknown)} (choose from {', '.join(MEASURED_ENVS)})")
    path = out_dir / "envs.csv"
    old = {row["env_id"]: row for row in _read_csv(path)}
    rows: list[dict[str, str]] = []
    with _in_temp_dir():
        _check_double_pendulum_optimum()
        for env_id in MEASURED_ENVS:
            if only and env_id not in only and env_id in old:
                rows.append(old[env_id])
            else:
                rows.append(env_row(env_id, episodes))
    rows.extend(atari_rows())
    header = [
        f"Reference numbers per env, generated by {SCRIPT} envs.",
        f"gymnasium {_version('gymnasium')}, mujoco {_version('mujoco')}, box2d {_version('box2d')}; "
        "random_std is the population std; empty cells are unknown.",
    ]
    _write_csv(path, header, ENV_COLUMNS, rows)


# --------------------------------------------------------------------------- rlzoo_benchmark.csv


def parse_timesteps(text: str) -> int:
    """``1M`` -> 1000000, ``500k`` -> 500000, ``2e6`` -> 2000000, ``120000`` -> 120000."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?\d+)?)\s*([kKmMbB]?)\s*", text)
    if not m:
        raise ValueError(f"not a timestep count: {text!r}")
    scale = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9}[m.group(2).lower()]
    value = float(m.group(1)) * scale
    if not value.is_integer():
        raise ValueError(f"not a whole number of timesteps: {text!r}")
    return int(value)


def parse_benchmark(markdown: str) -> list[dict[str, str]]:
    """Every data row of the markdown table whose header starts with ``algo | env_id``."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in markdown.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if rows:  # the first table is the benchmark: stop at its end
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            if cells[:2] == ["algo", "env_id"]:
                header = cells
            continue
        if set("".join(cells)) <= set("-: "):  # the |---|---:| separator
            continue
        raw = dict(zip(header, cells, strict=True))
        for key in ("mean_reward", "std_reward"):
            float(raw[key])  # raises if the table stops being numeric
        rows.append(
            {
                "algo": raw["algo"],
                "env_id": raw["env_id"],
                "mean_reward": raw["mean_reward"],
                "std_reward": raw["std_reward"],
                "n_timesteps": str(parse_timesteps(raw["n_timesteps"])),
                "eval_timesteps": str(int(raw["eval_timesteps"])),
                "eval_episodes": str(int(raw["eval_episodes"])),
            }
        )
    if not rows:
        raise ValueError("no benchmark table found (expected a header '|algo|env_id|...')")
    return rows


def make_benchmark(out_dir: Path, zoo_git_dir: Path | None, zoo_ref: str, benchmark_md: Path | None) -> None:
    """Parse benchmark.md (from a git ref or a file) into rlzoo_benchmark.csv."""
    if benchmark_md is not None:
        markdown = benchmark_md.read_text(encoding="utf-8")
        origin = f"{benchmark_md.name} (file given to {SCRIPT})"
    elif zoo_git_dir is not None:
        git = ["git", "--git-dir", str(_git_dir(zoo_git_dir))]
        commit = subprocess.run(
            [*git, "rev-parse", f"{zoo_ref}^{{commit}}"], capture_output=True, text=True, check=True
        ).stdout.strip()
        markdown = subprocess.run(
            [*git, "show", f"{commit}:benchmark.md"], capture_output=True, text=True, check=True
        ).stdout
        origin = f"benchmark.md of {ZOO_REPO} at commit {commit}"
    else:
        raise SystemExit("benchmark needs --zoo-git-dir (a clone of rl-baselines3-zoo) or --benchmark-md")
    rows = parse_benchmark(markdown)
    header = [
        f"Source: {origin}; every row of its table, parsed by {SCRIPT} benchmark.",
        "algo is the zoo's name (ppo_lstm = RecurrentPPO); n_timesteps is the training budget "
        "(1M -> 1000000); the rest is the zoo's evaluation of the trained agent.",
    ]
    _write_csv(out_dir / "rlzoo_benchmark.csv", header, BENCH_COLUMNS, rows)


def _git_dir(path: Path) -> Path:
    # Accept a work tree (with .git), a bare repository, or a mirror holding a 'repo' git dir.
    for candidate in (path / ".git", path / "repo", path):
        if (candidate / "HEAD").is_file():
            return candidate
    raise SystemExit(f"no git repository at {path}")


# --------------------------------------------------------------------------- sb3_defaults.json


def _plain(value: Any) -> tuple[bool, Any]:
    """``(keep, value)``: numbers, strings, bools, None and small lists of those are kept."""
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return False, None
        return True, value
    if isinstance(value, (list, tuple)) and len(value) <= MAX_LIST:
        items = [_plain(v) for v in value]
        if all(keep and not isinstance(v, list) for keep, v in items):
            return True, [v for _, v in items]
    return False, None


def algo_defaults(cls: type) -> dict[str, Any]:
    """The plain-valued defaults of the constructor of ``cls``, in signature order."""
    out: dict[str, Any] = {}
    # The signature of the class is that of __init__ without self.
    for name, param in inspect.signature(cls).parameters.items():
        if name in SKIP_ARGS or name.endswith(("_class", "_kwargs")):
            continue
        if param.default is inspect.Parameter.empty or param.kind in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ):
            continue
        keep, value = _plain(param.default)
        if keep:
            out[name] = value
    return out


def _dump_json(path: Path, header: Sequence[str], data: Any) -> None:
    # JSON, not YAML: sb3doctor reads these on the `analyze` path, and json parses the 68 KB of
    # rl-zoo hyperparameters in ~1 ms where even libyaml takes ~100 ms.
    doc = {"_source": list(header), "data": data}
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({len(text) // 1024} KiB)")


def make_defaults(out_dir: Path) -> None:
    """Write sb3_defaults.json from the installed SB3 and sb3-contrib classes."""
    import sb3_contrib
    import stable_baselines3

    data: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for module, names in ((stable_baselines3, SB3_ALGOS), (sb3_contrib, CONTRIB_ALGOS)):
        for name in names:
            cls = getattr(module, name, None)
            if cls is None:  # CrossQ arrived in sb3-contrib 2.4
                missing.append(name)
                continue
            data[name] = algo_defaults(cls)
    header = [
        "Default constructor hyperparameters per algorithm (plain values only), from inspect.signature.",
        f"stable-baselines3 {_version('stable_baselines3')}, sb3-contrib {_version('sb3_contrib')}; "
        f"generated by {SCRIPT} defaults." + (f" Not installed: {', '.join(missing)}." if missing else ""),
    ]
    _dump_json(out_dir / "sb3_defaults.json", header, data)


# --------------------------------------------------------------------------- rlzoo_hyperparams.json


def _zoo_value(key: str, value: Any) -> Any:
    if key in ZOO_INT_KEYS and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def make_hyperparams(out_dir: Path) -> None:
    """Write rlzoo_hyperparams.json from the installed rl_zoo3's hyperparams/*.yml."""
    import rl_zoo3
    from rl_zoo3.utils import ALGOS

    folder = Path(rl_zoo3.__file__).parent / "hyperparams"
    data: dict[str, dict[str, dict[str, Any]]] = {}
    skipped: list[str] = []
    for path in sorted(folder.glob("*.yml")):
        if path.stem in ZOO_SKIP_FILES:
            continue
        if path.stem not in ALGOS:
            raise SystemExit(f"{path.name}: no algorithm named {path.stem!r} in rl_zoo3.utils.ALGOS")
        # SafeLoader resolves anchors and '<<' merges; the zoo only uses standard tags (!!float).
        entries = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        algo: dict[str, dict[str, Any]] = {}
        for env_id, params in entries.items():
            if env_id in ZOO_SKIP_ENTRIES or not (env_id == "atari" or ENV_ID_RE.match(env_id)):
                skipped.append(f"{path.stem}:{env_id}")
                continue
            algo[env_id] = {k: _zoo_value(k, params[k]) for k in ZOO_KEYS if k in params}
        data[ALGOS[path.stem].__name__] = algo
    print(f"skipped zoo entries: {', '.join(skipped)}")
    header = [
        f"Tuned hyperparameters of rl_zoo3 {_version('rl_zoo3')} (hyperparams/*.yml without her.yml),",
        "keyed by SB3 class name then env id; 'atari' holds the zoo's settings for every Atari game.",
        "Anchors and merges are resolved; schedules (lin_0.001) and policy_kwargs stay the zoo's strings.",
        f"Generated by {SCRIPT} hyperparams.",
    ]
    _dump_json(out_dir / "rlzoo_hyperparams.json", header, data)


# --------------------------------------------------------------------------- onsets.csv

ONSET_COLUMNS = (
    "algo", "env_id", "runs", "onset_max", "onset_median", "onsets", "critic_onset_max", "critic_onsets",
    "timesteps", "source",
)  # fmt: skip
#: The rule whose return test defines "left random play", and the prefixes it is tried on.
ONSET_RULE = "RET-NOT-LEARNING"
ONSET_GRID = 100  # prefixes of 1%, 2%, ... 100% of the run
#: The band around 0 in which VF-EV-ZERO calls explained_variance "a constant critic".
CRITIC_BAND = 0.05


def _return_test(rule_id: str) -> dict[str, Any]:
    """The rule's conditions on the returns alone: its ``return_level`` tests without their own
    budget waits (the onset is what a wait should be)."""
    from sb3doctor.rules_path import builtin_rules_dir
    from sb3doctor.ruleset import load_rules

    (rule,) = [r for r in load_rules([builtin_rules_dir()]) if r.id == rule_id]
    tests = []
    for cond in rule.condition["all_of"]:
        if cond.get("kind") == "return_level":
            tests.append({k: v for k, v in cond.items() if k not in ("min_budget_frac", "max_budget_frac")})
    return {"all_of": tests}


def critic_onset(run: Any, start: int) -> int | None:
    """Steps from the first update (``start``) to the first update whose explained_variance left
    VF-EV-ZERO's band (|EV| > 0.05: the critic explains something); None where it never did or
    the run logs no explained_variance (off-policy algorithms)."""
    ev = run.metrics.get("train/explained_variance")
    if ev is None:
        return None
    step = next((s for s, v in zip(ev.steps, ev.values, strict=True) if abs(v) > CRITIC_BAND), None)
    return None if step is None else max(0, int(step - start))


def run_onset(run_dir: Path) -> tuple[str, str, int, int | None, int | None, bool] | None:
    """(algo, env id, steps trained after the first update, onset, critic onset, whether the run
    logs explained_variance) of one onset run (see :func:`critic_onset` for the critic's).

    The onset is the number of steps from the run's first gradient update after which
    ``ONSET_RULE``'s return test ("no better than random play, no better than the start, never a
    stretch clearly above random") no longer holds on any later prefix of the run (None: it
    still holds at the end). So it is, by construction, how long the rule must wait for it to
    stay quiet on this tuned agent. The clock is sb3doctor's own
    (``conditions.training_start``), as the rules measure it.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench.accuracy import config_given, truncate
    from sb3doctor.conditions import Context, evaluate, training_start
    from sb3doctor.engine import reference_getter
    from sb3doctor.reference import run_reference
    from sb3doctor.sources import read_runs

    (run,) = read_runs(run_dir)
    ref = run_reference(run)
    rng = run.step_range()
    if ref.env_id is None or ref.progress(0.0) is None or not run.algo or rng is None:
        return None
    test = _return_test(ONSET_RULE)
    given = config_given(run)

    def still_random(frac: float) -> tuple[bool, int]:
        """Whether the test holds on the prefix of ``frac`` of the run, and its last step."""
        prefix = truncate(run, frac, given)
        ctx = Context(prefix.metrics, prefix.step_range(), prefix.hyperparams, algo=prefix.algo)
        ctx.reference = reference_getter(prefix)
        end = prefix.step_range()[1] if prefix.step_range() else 0
        return evaluate(test, ctx).held, end

    start = training_start(Context(run.metrics, rng, run.hyperparams, algo=run.algo)) or 0
    trained = int(rng[1] - start)
    # The last prefix on which the run still looked random, searched from the end.
    last_held = next((i for i in range(ONSET_GRID, 0, -1) if still_random(i / ONSET_GRID)[0]), 0)
    critic = critic_onset(run, start)
    has_critic = "train/explained_variance" in run.metrics
    if last_held == ONSET_GRID:
        return run.algo, ref.env_id, trained, None, critic, has_critic
    # The onset is the end of the prefix after it.
    _, end = still_random((last_held + 1) / ONSET_GRID)
    return run.algo, ref.env_id, trained, max(0, int(end - start)), critic, has_critic


def make_onsets(out_dir: Path, runs_dir: Path) -> None:
    """Measure every onset run under ``runs_dir`` and write onsets.csv, one row per (algo, env)."""
    found: dict[tuple[str, str], list[tuple[int, int | None]]] = {}
    critics: dict[tuple[str, str], list[tuple[int, int | None]]] = {}
    for run_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir() and p.name.startswith("onset-")):
        measured = run_onset(run_dir)
        if measured is None:
            print(f"{run_dir.name}: no episodes or no reference, left out")
            continue
        algo, env_id, trained, onset, critic, has_critic = measured
        when = "never" if onset is None else onset
        print(f"{run_dir.name}: {when} of {trained} steps after the first update")
        found.setdefault((algo, env_id), []).append((trained, onset))
        if has_critic:
            critics.setdefault((algo, env_id), []).append((trained, critic))
    rows = []
    for (algo, env_id), items in sorted(found.items()):
        # A run that never left random play counts as its whole length: a lower bound.
        onsets, listed = _onset_summary(items)
        critic_onsets, critic_listed = _onset_summary(critics.get((algo, env_id), []))
        rows.append(
            {
                "algo": algo,
                "env_id": env_id,
                "runs": str(len(items)),
                "onset_max": str(onsets[-1]),
                "onset_median": str(int(statistics.median(onsets))),
                "onsets": listed,
                "critic_onset_max": str(critic_onsets[-1]) if critic_onsets else "",
                "critic_onsets": critic_listed,
                "timesteps": str(max(t for t, _ in items)),
                "source": f"{len(items)} runs of rl-zoo's tuned hyperparameters "
                f"(rl_zoo3 {_version('rl_zoo3')}, seeds from 101) trained by bench/knowledge/onset_runs.py",
            }
        )
    header = [
        f"When rl-zoo's tuned agents leave random play, generated by {SCRIPT} onsets from the runs of "
        "bench/knowledge/onset_runs.py.",
        f"onset: steps from the first gradient update after which {ONSET_RULE}'s return test (no better than "
        "random play, than the start, never clearly above random) holds on no prefix of the run; "
        "'>N': it still held at the end, N steps after the first update.",
        f"critic_onset: steps from the first gradient update to the first update whose explained_variance "
        f"left VF-EV-ZERO's band (|EV| > {CRITIC_BAND}: the critic explains something); '>N': it never did "
        "in the N steps trained after the first update; empty for algorithms without a critic's EV.",
    ]
    _write_csv(out_dir / "onsets.csv", header, ONSET_COLUMNS, rows)


def _onset_summary(items: list[tuple[int, int | None]]) -> tuple[list[int], str]:
    """The onsets of (steps trained, onset or None) sorted, a seed that never got there counting
    with its whole length (a lower bound), and their listing with ``>N`` for those."""
    onsets = sorted(onset if onset is not None else trained for trained, onset in items)
    in_order = sorted(items, key=lambda x: (x[1] is None, x[1] or 0))
    listed = ";".join(str(o) if o is not None else f">{t}" for t, o in in_order)
    return onsets, listed


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the chosen sub-command."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_env_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--episodes", type=int, default=DEFAULT_EPISODES, help="episodes per env (default %(default)s)"
        )
        p.add_argument("--only", nargs="+", metavar="ENV_ID", help="measure only these, keep other rows")

    def add_zoo_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--zoo-git-dir", type=Path, help="a clone (work tree or bare) of rl-baselines3-zoo")
        p.add_argument("--zoo-ref", default=ZOO_REF, help="commit of benchmark.md (default %(default)s)")
        p.add_argument("--benchmark-md", type=Path, help="read this benchmark.md instead of git")

    add_env_args(sub.add_parser("envs", help="measure random returns -> envs.csv"))
    add_zoo_args(sub.add_parser("benchmark", help="parse the zoo's benchmark.md -> rlzoo_benchmark.csv"))
    sub.add_parser("defaults", help="SB3 constructor defaults -> sb3_defaults.json")
    sub.add_parser("hyperparams", help="rl_zoo3 tuned hyperparameters -> rlzoo_hyperparams.json")
    onsets = sub.add_parser("onsets", help="steps tuned agents take to leave random play -> onsets.csv")
    onsets.add_argument("--runs", type=Path, default=ROOT / "bench" / "knowledge" / "onset_runs")
    every = sub.add_parser("all", help="all four files")
    add_env_args(every)
    add_zoo_args(every)
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.command in ("benchmark", "all"):
        make_benchmark(args.out, args.zoo_git_dir, args.zoo_ref, args.benchmark_md)
    if args.command in ("defaults", "all"):
        make_defaults(args.out)
    if args.command in ("hyperparams", "all"):
        make_hyperparams(args.out)
    if args.command in ("envs", "all"):
        make_envs(args.out, args.episodes, args.only)
    if args.command == "onsets":
        make_onsets(args.out, args.runs)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
