"""The trainer behind ``sb3doctor train``: real SB3 runs that write the logs sb3doctor reads.

A run folder ``<logdir>/<ALGO>_<n>`` (next free ``n``, as SB3 names them) receives what SB3
writes: the TensorBoard event file, ``progress.csv``, ``monitor.csv`` (``<i>.monitor.csv``
with several envs), ``stdout.log`` (a byte-for-byte copy of the training's stdout, from
``Using cpu device`` on), ``model.zip`` and ``config.json`` with every hyperparameter used.

torch, SB3 and gymnasium are imported inside the functions that need them, so that option
errors (``--set``, ``--preset``) are reported before the slow imports. This module and
:mod:`sb3doctor.envs` are the only places that import them.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import platform
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsFloat, TextIO

import yaml

from sb3doctor import __version__
from sb3doctor.errors import ConfigError
from sb3doctor.presets import PRESETS, WAREHOUSE, get_preset

if TYPE_CHECKING:  # pragma: no cover - typing only
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

#: CLI name -> SB3 class name.
ALGOS: dict[str, str] = {"ppo": "PPO", "a2c": "A2C", "dqn": "DQN", "sac": "SAC", "td3": "TD3"}
DEVICES = ("auto", "cuda", "cpu")
DEFAULT_TIMESTEPS = 50_000
#: Constructor arguments that are not hyperparameters (set by the trainer itself).
_NOT_HYPERPARAMS = {"policy", "env", "tensorboard_log", "verbose", "seed", "device", "_init_setup_model"}
#: Activation names accepted in ``policy_kwargs`` (JSON cannot hold a class).
_ACTIVATIONS = {
    "tanh": "Tanh",
    "relu": "ReLU",
    "elu": "ELU",
    "leaky_relu": "LeakyReLU",
    "gelu": "GELU",
    "silu": "SiLU",
}


class _ValueLoader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-4`` as a string; this loader reads it as the float users mean."""


_ValueLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"),
    list("-+0123456789."),
)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass
class TrainConfig:
    """Everything one training run needs; built by :func:`resolve_config`.

    :param algo: CLI algorithm name (``ppo``, ``a2c``, ``dqn``, ``sac``, ``td3``)
    :param env_id: gymnasium env id
    :param env_kwargs: keyword arguments for ``gymnasium.make``
    :param n_envs: number of envs in the ``DummyVecEnv``
    :param hyperparams: SB3 constructor arguments (SB3 defaults for the rest)
    :param total_timesteps: training budget
    :param seed: random seed (None: SB3 picks none)
    :param device: ``auto``, ``cuda`` or ``cpu``
    :param logdir: parent folder of the run folders
    :param preset: the fault preset the run was built from, if any
    :param wrappers: env wrappers inside ``Monitor``, e.g. ``{"reward_scale": 1000.0}``
    :param expected_categories: what ``analyze`` should find (presets only)
    """

    algo: str = "ppo"
    env_id: str = WAREHOUSE
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    n_envs: int = 1
    hyperparams: dict[str, Any] = field(default_factory=dict)
    total_timesteps: int = DEFAULT_TIMESTEPS
    seed: int | None = 0
    device: str = "auto"
    logdir: Path = Path("logs")
    preset: str | None = None
    wrappers: dict[str, Any] = field(default_factory=dict)
    expected_categories: list[str] = field(default_factory=list)

    @property
    def algo_name(self) -> str:
        """SB3 class name, e.g. ``PPO`` (also the run-folder prefix)."""
        return ALGOS[self.algo]


@dataclass
class TrainResult:
    """What :func:`train` did."""

    run_dir: Path
    device: str
    timesteps: int
    interrupted: bool


# -- configuration -------------------------------------------------------------------------


def parse_overrides(items: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse ``--set key=value`` items into (hyperparameters, env kwargs).

    Values are YAML scalars or flow collections (``0.001``, ``null``, ``[64, 64]``,
    ``{net_arch: [8]}``). Keys prefixed ``env.`` go to the env, e.g. ``env.grid_rows=10``.

    :raises ConfigError: an item without ``=``, a bad key, or a value that is not valid YAML
    """
    hyperparams: dict[str, Any] = {}
    env_kwargs: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. --set learning_rate=0.0003")
        if not _KEY.match(key) or ("." in key and not key.startswith("env.")):
            raise ConfigError(
                f"--set {item!r}: {key!r} is not a parameter name (env kwargs take the prefix env.)"
            )
        try:
            value = yaml.load(raw, Loader=_ValueLoader) if raw.strip() else None
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"--set {item!r}: the value is not valid YAML ({first})") from None
        if key.startswith("env."):
            env_kwargs[key[4:]] = value
        else:
            hyperparams[key] = value
    return hyperparams, env_kwargs


def resolve_config(
    *,
    algo: str | None = None,
    env_id: str | None = None,
    timesteps: int | None = None,
    n_envs: int | None = None,
    seed: int | None = 0,
    device: str = "auto",
    logdir: str | Path = "logs",
    preset: str | None = None,
    overrides: Sequence[str] = (),
) -> TrainConfig:
    """Combine SB3 defaults, a preset and ``--set`` overrides (later wins) into a config.

    :raises ConfigError: unknown preset or algorithm, an algorithm that contradicts the
        preset, bad ``--set`` items, non-positive timesteps or env count
    """
    hyper_over, env_over = parse_overrides(overrides)
    if algo is not None and algo.lower() not in ALGOS:
        raise ConfigError(f"--algo {algo}: unknown algorithm; choose one of {', '.join(ALGOS)}")
    if device not in DEVICES:
        raise ConfigError(f"--device {device}: choose one of {', '.join(DEVICES)}")
    config = TrainConfig(seed=seed, device=device, logdir=Path(logdir))
    if preset is not None:
        try:
            p = get_preset(preset)
        except KeyError as exc:
            raise ConfigError(f"--preset {preset}: {exc.args[0]}") from None
        if algo is not None and algo.lower() != p["algo"]:
            raise ConfigError(
                f"--preset {preset} trains {p['algo'].upper()}; drop --algo {algo} or pick another preset"
            )
        config.algo = p["algo"]
        config.env_id = p["env"]
        config.env_kwargs = p["env_kwargs"]
        config.n_envs = p["n_envs"]
        config.hyperparams = p["hyperparams"]
        config.total_timesteps = p["timesteps"]
        config.wrappers = p["wrappers"]
        config.expected_categories = p["expected_categories"]
        config.preset = preset
    elif algo is not None:
        config.algo = algo.lower()
    if env_id is not None:
        config.env_id = env_id
    if timesteps is not None:
        config.total_timesteps = timesteps
    if n_envs is not None:
        config.n_envs = n_envs
    if config.total_timesteps < 1:
        raise ConfigError(f"--timesteps {config.total_timesteps}: must be at least 1")
    if config.n_envs < 1:
        raise ConfigError(f"--n-envs {config.n_envs}: must be at least 1")
    config.hyperparams.update(hyper_over)
    config.env_kwargs.update(env_over)
    return config


def known_presets() -> list[str]:
    """Names of the fault presets."""
    return list(PRESETS)


# -- device --------------------------------------------------------------------------------


def select_device(requested: str, *, cuda_available: bool | None = None) -> tuple[str, str]:
    """Resolve ``auto``/``cuda``/``cpu`` to the torch device to train on, plus a message.

    :param cuda_available: what torch reports; asked from torch when None
    :raises ConfigError: ``cuda`` was requested and torch sees no GPU
    """
    if requested not in DEVICES:
        raise ConfigError(f"--device {requested}: choose one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return "cpu", "training on cpu (--device cpu)"
    if cuda_available is None:
        import torch

        cuda_available = bool(torch.cuda.is_available())
    if requested == "cuda":
        if not cuda_available:
            raise ConfigError(
                "--device cuda: torch sees no CUDA GPU (torch.cuda.is_available() is False); "
                "use --device auto or --device cpu"
            )
        return "cuda", "training on cuda (--device cuda)"
    if cuda_available:
        return "cuda", "training on cuda (--device auto: torch sees a CUDA GPU)"
    return "cpu", "training on cpu (--device auto: torch sees no CUDA GPU)"


# -- run folder and stdout capture --------------------------------------------------------


def next_run_dir(logdir: str | Path, algo_name: str) -> Path:
    """Create and return ``<logdir>/<algo_name>_<n>`` with the next free ``n`` (as SB3 does)."""
    base = Path(logdir)
    base.mkdir(parents=True, exist_ok=True)
    pattern = re.compile(rf"^{re.escape(algo_name)}_(\d+)$")
    taken = [int(m.group(1)) for p in base.iterdir() if (m := pattern.match(p.name))]
    n = max(taken, default=0) + 1
    while True:
        run_dir = base / f"{algo_name}_{n}"
        try:
            run_dir.mkdir()
        except FileExistsError:  # another trainer took it between listing and mkdir
            n += 1
            continue
        return run_dir


class _Tee(io.TextIOBase):
    """A text stream that writes to the terminal and to a log file, flushing both."""

    def __init__(self, terminal: TextIO, log: TextIO) -> None:
        self._terminal = terminal
        self._log = log

    def write(self, s: str) -> int:
        self._terminal.write(s)
        self._log.write(s)
        return len(s)

    def flush(self) -> None:
        self._terminal.flush()
        self._log.flush()

    def isatty(self) -> bool:
        return self._terminal.isatty()


@contextlib.contextmanager
def tee_stdout(path: Path) -> Iterator[None]:
    """Copy everything printed to ``sys.stdout`` into ``path`` while the block runs."""
    with path.open("w", encoding="utf-8", newline="") as log:
        tee = _Tee(sys.stdout, log)
        with contextlib.redirect_stdout(tee):
            try:
                yield
            finally:
                tee.flush()


# -- env and model -------------------------------------------------------------------------


def _make_env_fn(config: TrainConfig, rank: int, monitor_path: Path | None) -> Any:
    import gymnasium as gym
    from stable_baselines3.common.monitor import Monitor

    def make() -> gym.Env:
        try:
            env = gym.make(config.env_id, **config.env_kwargs)
        except (gym.error.Error, TypeError, ValueError) as exc:
            raise ConfigError(f"--env {config.env_id}: {exc}") from None
        scale = config.wrappers.get("reward_scale")
        if scale is not None:
            # Inside Monitor, so the logged returns are the scaled ones the agent learns from.
            env = gym.wrappers.TransformReward(env, _Scale(float(scale)))
        return Monitor(env, None if monitor_path is None else str(monitor_path))

    return make


class _Scale:
    """Picklable reward multiplier (a lambda would not survive ``model.save``)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def __call__(self, reward: SupportsFloat) -> SupportsFloat:
        return float(reward) * self.factor


def make_vec_env(config: TrainConfig, run_dir: Path | None = None) -> VecEnv:
    """Build the ``DummyVecEnv`` of ``config.n_envs`` monitored envs (files in ``run_dir``).

    :raises ConfigError: unknown env id, bad env kwargs, or an unknown wrapper
    """
    from stable_baselines3.common.vec_env import DummyVecEnv

    import sb3doctor.envs  # noqa: F401  (registers the reference env)

    unknown = set(config.wrappers) - {"reward_scale"}
    if unknown:
        raise ConfigError(f"unknown wrapper(s) {', '.join(sorted(unknown))}; known: reward_scale")
    fns = []
    for rank in range(config.n_envs):
        path = None
        if run_dir is not None:
            path = run_dir / ("monitor.csv" if config.n_envs == 1 else f"{rank}.monitor.csv")
        fns.append(_make_env_fn(config, rank, path))
    return DummyVecEnv(fns)


def _algo_class(algo: str) -> type[BaseAlgorithm]:
    import stable_baselines3

    cls: type[BaseAlgorithm] = getattr(stable_baselines3, ALGOS[algo])
    return cls


def _policy_kwargs(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out = dict(value)
    act = out.get("activation_fn")
    if isinstance(act, str):
        import torch

        name = _ACTIVATIONS.get(act.lower())
        if name is None:
            raise ConfigError(f"policy_kwargs.activation_fn {act!r}: choose one of {', '.join(_ACTIVATIONS)}")
        out["activation_fn"] = getattr(torch.nn, name)
    return out


def _check_spaces(config: TrainConfig, env: VecEnv) -> None:
    from gymnasium import spaces

    space = env.action_space
    if config.algo == "dqn" and not isinstance(space, spaces.Discrete):
        raise ConfigError(f"--algo dqn needs a Discrete action space; {config.env_id} has {space}")
    if config.algo in {"sac", "td3"} and not isinstance(space, spaces.Box):
        raise ConfigError(
            f"--algo {config.algo} needs a continuous (Box) action space; {config.env_id} has {space} "
            "(try --env Pendulum-v1)"
        )


def build_model(config: TrainConfig, env: VecEnv | None = None, device: str = "cpu") -> BaseAlgorithm:
    """Construct (not train) the SB3 model for ``config`` on ``env`` (built when None).

    :raises ConfigError: a hyperparameter SB3's constructor does not take, or one it rejects
    """
    cls = _algo_class(config.algo)
    accepted = set(inspect.signature(cls.__init__).parameters) - _NOT_HYPERPARAMS - {"self"}
    unknown = sorted(set(config.hyperparams) - accepted)
    if unknown:
        raise ConfigError(
            f"{config.algo_name} has no hyperparameter {', '.join(unknown)}; "
            f"it takes: {', '.join(sorted(accepted))}"
        )
    if env is None:
        env = make_vec_env(config)
    _check_spaces(config, env)
    kwargs = dict(config.hyperparams)
    if "policy_kwargs" in kwargs:
        kwargs["policy_kwargs"] = _policy_kwargs(kwargs["policy_kwargs"])
    try:
        return cls("MlpPolicy", env, verbose=1, seed=config.seed, device=device, **kwargs)
    except (TypeError, ValueError, AssertionError) as exc:
        raise ConfigError(f"{config.algo_name} rejected the hyperparameters: {exc}") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, type):
        return value.__name__
    return repr(value)


def used_hyperparams(config: TrainConfig, model: BaseAlgorithm) -> dict[str, Any]:
    """Every constructor hyperparameter of the run: SB3's defaults overlaid with the config.

    Adds facts sb3doctor's rules read: ``n_envs``, ``rollout_size`` (on-policy),
    ``action_space`` and ``n_actions``.
    """
    from gymnasium import spaces

    params = inspect.signature(type(model).__init__).parameters
    hp: dict[str, Any] = {}
    for name, p in params.items():
        if name in _NOT_HYPERPARAMS or name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        value = config.hyperparams.get(name, p.default)
        hp[name] = _jsonable(None if value is inspect.Parameter.empty else value)
    hp["n_envs"] = config.n_envs
    if "n_steps" in hp and isinstance(hp["n_steps"], int):
        hp["rollout_size"] = hp["n_steps"] * config.n_envs
    space = model.action_space
    if isinstance(space, spaces.Discrete):
        hp["action_space"] = "discrete"
        hp["n_actions"] = int(space.n)
    elif isinstance(space, spaces.Box):
        hp["action_space"] = "box"
    return hp


def _versions() -> dict[str, str]:
    import gymnasium
    import stable_baselines3
    import torch

    return {
        "sb3doctor": __version__,
        "stable_baselines3": stable_baselines3.__version__,
        "torch": torch.__version__,
        "gymnasium": gymnasium.__version__,
        "python": platform.python_version(),
    }


def _write_config(path: Path, record: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def _progress_callback(total: int, enabled: bool | None) -> Any:
    """A tqdm bar on stderr (so stdout.log holds only what SB3 prints); None disables it."""
    from stable_baselines3.common.callbacks import BaseCallback
    from tqdm import tqdm

    class ProgressBar(BaseCallback):
        def _on_training_start(self) -> None:
            self.bar = tqdm(
                total=total,
                unit="step",
                file=sys.__stderr__,
                disable=None if enabled is None else not enabled,
            )

        def _on_step(self) -> bool:
            self.bar.update(self.training_env.num_envs)
            return True

        def _on_training_end(self) -> None:
            self.bar.close()

    return ProgressBar()


# -- training ------------------------------------------------------------------------------


def train(config: TrainConfig, *, progress: bool | None = None, echo: Any = None) -> TrainResult:
    """Train ``config`` into a new run folder under ``config.logdir``.

    Ctrl-C stops training cleanly: the logs written so far stay, the model is saved and
    ``config.json`` records ``"status": "interrupted"``.

    :param progress: show the progress bar (None: only when stderr is a terminal)
    :param echo: function printing sb3doctor's own messages (to stderr by the CLI)
    :raises ConfigError: bad device, env, or hyperparameters
    """
    say = echo or (lambda msg: print(msg, file=sys.stderr))
    device, message = select_device(config.device)

    import torch
    from stable_baselines3.common.logger import configure

    if device == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        # Small MLPs train fastest on one thread; more threads mostly add contention.
        torch.set_num_threads(1)

    # Validate env and hyperparameters before creating a run folder (SB3's own prints muted).
    with contextlib.redirect_stdout(io.StringIO()):
        probe_env = make_vec_env(config, None)
        build_model(config, probe_env, device="cpu")
        probe_env.close()
    say(f"sb3doctor: {message}")

    run_dir = next_run_dir(config.logdir, config.algo_name)
    say(f"sb3doctor: writing the run to {run_dir}")
    record: dict[str, Any] = {
        "algo": config.algo_name,
        "env_id": config.env_id,
        "env_kwargs": _jsonable(config.env_kwargs),
        "n_envs": config.n_envs,
        "wrappers": _jsonable(config.wrappers),
        "preset": config.preset,
        "expected_categories": config.expected_categories,
        "total_timesteps": config.total_timesteps,
        "seed": config.seed,
        "device": device,
        "policy": "MlpPolicy",
        "versions": _versions(),
        "status": "running",
    }
    interrupted = False
    with tee_stdout(run_dir / "stdout.log"):
        env = make_vec_env(config, run_dir)
        model = build_model(config, env, device=device)
        record["hyperparams"] = used_hyperparams(config, model)
        _write_config(run_dir / "config.json", record)
        logger = configure(str(run_dir), ["stdout", "csv", "tensorboard"])
        model.set_logger(logger)
        try:
            model.learn(
                total_timesteps=config.total_timesteps,
                callback=_progress_callback(config.total_timesteps, progress),
            )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            model.save(str(run_dir / "model.zip"))
            logger.close()
            env.close()
            record["status"] = "interrupted" if interrupted else "completed"
            record["timesteps_done"] = int(model.num_timesteps)
            _write_config(run_dir / "config.json", record)
    return TrainResult(
        run_dir=run_dir, device=device, timesteps=int(model.num_timesteps), interrupted=interrupted
    )
