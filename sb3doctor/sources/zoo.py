"""rl-baselines3-zoo run folders: ``config.yml``, ``args.yml`` and ``evaluations.npz``.

rl-zoo writes ``logs/<algo>/<env>_<n>/`` holding the Monitor files, ``evaluations.npz`` (the
EvalCallback's results) and a sub-folder ``<env>/`` with ``config.yml`` (the hyperparameters
it trained with) and ``args.yml`` (the command line: algorithm, env, seed, ...). Both YAML
files are written with PyYAML's ``!!python/object/apply:collections.OrderedDict`` tag. They are
read here with a loader that turns exactly that tag into a plain mapping and rejects every
other Python tag: a config file is data, it is never executed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import yaml

from sb3doctor.errors import InputError
from sb3doctor.model import Series, SourceData, valid_step

__all__ = ["read_evaluations", "read_zoo_config"]

_ORDERED_DICT = "tag:yaml.org,2002:python/object/apply:collections.OrderedDict"
#: rl-zoo's algorithm names (args.yml ``algo``) -> SB3 class names.
ZOO_ALGOS = {
    "a2c": "A2C", "ddpg": "DDPG", "dqn": "DQN", "ppo": "PPO", "sac": "SAC", "td3": "TD3",
    "ars": "ARS", "qrdqn": "QRDQN", "tqc": "TQC", "trpo": "TRPO", "ppo_lstm": "RecurrentPPO",
    "ppo_mask": "MaskablePPO", "crossq": "CrossQ", "her": None,
}  # fmt: skip
_MAX_BYTES = 1 << 20  # a zoo config is a few KB; anything larger is not one


class _ZooLoader(yaml.SafeLoader):
    """SafeLoader plus rl-zoo's OrderedDict tag; every other ``!!python/...`` tag is an error."""


def _ordered_dict(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    # The tag's argument is one sequence of [key, value] pairs.
    (pairs,) = loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode) else ([],)
    out: dict[str, Any] = {}
    for pair in pairs:
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
            out[pair[0]] = pair[1]
    return out


_ZooLoader.add_constructor(_ORDERED_DICT, _ordered_dict)


def _load(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", path) from exc
    if len(data) > _MAX_BYTES:
        raise InputError("too large for an rl-zoo config (over 1 MiB)", path)
    from sb3doctor.safe_yaml import YamlDataError, load_data

    try:
        # Bounded like rule and config files: a billion-laughs config.yml must not expand.
        doc = load_data(data.decode("utf-8", errors="replace"), _ZooLoader)
    except YamlDataError as exc:
        raise InputError(f"not a readable rl-zoo YAML file ({exc})", path) from None
    except yaml.YAMLError as exc:  # a constructor error (a tag other than rl-zoo's OrderedDict)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"not a readable rl-zoo YAML file ({first})", path) from exc
    except RecursionError as exc:
        raise InputError("nested too deeply", path) from exc
    if not isinstance(doc, dict):
        raise InputError("not an rl-zoo config: expected a mapping", path)
    return doc


def _schedule(value: Any) -> tuple[Any, str | None]:
    """``lin_0.001`` -> (0.001, "linear"); other values unchanged."""
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            return float(value[4:]), "linear"
        except ValueError:
            return value, None
    return value, None


#: The wrapper SB3 and rl-zoo train Atari games with, and its default ``frame_skip``.
ATARI_WRAPPER = "stable_baselines3.common.atari_wrappers.AtariWrapper"
_ATARI_FRAME_SKIP = 4


def atari_frame_skip(env_wrapper: Any) -> int | None:
    """The ``frame_skip`` of an ``AtariWrapper`` named in a zoo config's ``env_wrapper`` (a name,
    or a list of names and ``{name: kwargs}`` mappings), or None where there is none."""
    items = env_wrapper if isinstance(env_wrapper, list) else [env_wrapper]
    for item in items:
        if item == ATARI_WRAPPER:
            return _ATARI_FRAME_SKIP
        if isinstance(item, dict) and isinstance(item.get(ATARI_WRAPPER), (dict, type(None))):
            skip = (item[ATARI_WRAPPER] or {}).get("frame_skip", _ATARI_FRAME_SKIP)
            return skip if isinstance(skip, int) and not isinstance(skip, bool) else None
    return None


def read_zoo_config(paths: list[Path]) -> dict[str, Any]:
    """Algorithm, env and hyperparameters from rl-zoo's ``config.yml`` / ``args.yml``.

    Returns a config mapping in the shape of ``config.json`` (``algo``, ``env_id``,
    ``hyperparams``) plus ``source: "rl-zoo config"`` and, for Atari, ``frame_skip`` (the
    emulator frames per agent step that monitor.csv counts); empty when nothing applies.
    :raises InputError: a file is unreadable or uses a tag other than rl-zoo's OrderedDict
    """
    out: dict[str, Any] = {}
    hp: dict[str, Any] = {}
    for path in paths:
        doc = _load(path)
        if path.name == "args.yml":
            algo = ZOO_ALGOS.get(str(doc.get("algo", "")).lower())
            if algo:
                out["algo"] = algo
            if isinstance(doc.get("env"), str):
                out["env_id"] = doc["env"]
            if isinstance(doc.get("seed"), int):
                hp["seed"] = doc["seed"]
            # where the zoo told SB3 to write the run's event files (``--tensorboard-log``)
            if isinstance(doc.get("tensorboard_log"), str) and doc["tensorboard_log"]:
                out["tensorboard_log"] = doc["tensorboard_log"]
        else:
            skip = atari_frame_skip(doc.get("env_wrapper"))
            if skip is not None:
                out["frame_skip"] = skip
            for key, value in doc.items():
                if not isinstance(key, str) or not isinstance(value, (int, float, str, bool)):
                    continue
                parsed, schedule = _schedule(value)
                hp[key] = parsed
                if schedule and key == "learning_rate":
                    hp["lr_schedule"] = "decaying"
                elif schedule:
                    hp[f"{key}_schedule"] = schedule
    if hp:
        out["hyperparams"] = hp
    if out:
        out["source"] = "rl-zoo config"
    return out


def read_evaluations(path: Path) -> SourceData:
    """``evaluations.npz`` of SB3's EvalCallback: ``eval/mean_reward`` and ``eval/mean_ep_length``.

    Loaded with ``allow_pickle=False``: the file is data.
    :raises InputError: the file is not a readable npz with ``timesteps`` and ``results``
    """
    import numpy as np

    src = SourceData("evaluations", path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            timesteps = np.asarray(npz["timesteps"], dtype=np.float64).ravel()
            results = np.asarray(npz["results"], dtype=np.float64)
            lengths = np.asarray(npz["ep_lengths"], dtype=np.float64) if "ep_lengths" in npz else None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a readable evaluations.npz ({exc})", path) from exc
    # One row per evaluation, one column per episode, whatever shape a damaged file has.
    results = results.reshape(len(results), -1) if results.ndim else results.reshape(1, 1)
    if lengths is not None:
        lengths = lengths.reshape(len(lengths), -1) if lengths.ndim else lengths.reshape(1, 1)
        if lengths.shape[1] == 0:
            lengths = None
    if results.shape[1] == 0:
        raise InputError("not a readable evaluations.npz (no episode results)", path)
    # Same rule as every reader: a step must be a finite integer in range, else the row goes.
    rows = min(len(timesteps), len(results))
    keep = [i for i, t in enumerate(timesteps[:rows].tolist()) if valid_step(t) is not None]
    if len(keep) < rows:
        src.warnings.append(f"{path}: {rows - len(keep)} evaluation(s) without a valid step ignored")
    steps = [int(timesteps[i]) for i in keep]
    src.metrics["eval/mean_reward"] = Series.from_points(steps, results[keep].mean(axis=1).tolist())
    if lengths is not None:
        shared = [i for i in keep if i < len(lengths)]
        src.metrics["eval/mean_ep_length"] = Series.from_points(
            steps[: len(shared)], lengths[shared].mean(axis=1).tolist()
        )
    return src
