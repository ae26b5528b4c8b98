"""Turn a user-given path into the log files of each run under it.

A *run folder* is any folder that directly holds at least one log file (an event file,
``progress.csv``/``progress.json``, a ``monitor.csv``, a captured stdout log). A path may be
a run folder, a parent of run folders (``logs/`` holding ``PPO_1``, ``PPO_2``, ...), or a
single log file. Nothing is ever written here: discovery only lists and classifies files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from sb3doctor.errors import InputError

#: File kinds, as understood by :func:`classify_file`.
TENSORBOARD = "tensorboard"
PROGRESS_CSV = "progress_csv"
PROGRESS_JSON = "progress_json"
MONITOR = "monitor"
STDOUT = "stdout"
CONFIG = "config"
#: rl-zoo's config.yml / args.yml (hyperparameters, not metrics) and evaluations.npz (metrics).
ZOO_CONFIG = "zoo_config"
EVALUATIONS = "evaluations"
_NOT_LOGS = (CONFIG, ZOO_CONFIG)

_STDOUT_NAMES = {"log.txt", "stdout.txt", "stdout.log", "train.log", "output.log"}
_NATURAL = re.compile(r"(\d+)")


def natural_key(text: str) -> list[object]:
    """Sort key that puts ``PPO_2`` before ``PPO_10``."""
    return [int(t) if t.isdigit() else t for t in _NATURAL.split(text)]


def classify_file(path: Path, *, explicit: bool = False) -> str | None:
    """Return the kind of a log file from its name, or None if it is not a log.

    :param explicit: the user named this file directly. Then any other file is taken as a
        captured stdout log (the stdout reader rejects binary or table-less files itself).
    """
    name = path.name
    if "tfevents" in name:
        return TENSORBOARD
    if name == "monitor.csv" or name.endswith(".monitor.csv"):
        return MONITOR
    if name == "config.json":
        return CONFIG
    if name in ("config.yml", "args.yml"):
        return ZOO_CONFIG
    if name == "evaluations.npz":
        return EVALUATIONS
    if name == "progress.csv" or (explicit and name.endswith(".csv")):
        return PROGRESS_CSV
    if name == "progress.json" or (explicit and name.endswith((".json", ".jsonl"))):
        return PROGRESS_JSON
    if name in _STDOUT_NAMES or name.endswith(".log"):
        return STDOUT
    if explicit:
        return STDOUT
    return None


@dataclass
class RunFiles:
    """The log files found for one run folder (or a single file)."""

    path: Path
    name: str
    files: dict[str, list[Path]] = field(default_factory=dict)

    def add(self, kind: str, path: Path) -> None:
        """Record one file of ``kind``."""
        self.files.setdefault(kind, []).append(path)

    @property
    def log_files(self) -> list[Path]:
        """All files except the configs (``config.json``, rl-zoo's ``config.yml``/``args.yml``)."""
        return [p for kind, paths in self.files.items() if kind not in _NOT_LOGS for p in paths]


def _check_readable(path: Path) -> None:
    if not os.access(path, os.R_OK):
        raise InputError("permission denied: cannot read it", path)


def _scan_folder(folder: Path) -> RunFiles | None:
    run = RunFiles(folder, folder.name)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: natural_key(e.name))
    except PermissionError as exc:
        raise InputError("permission denied: cannot list the folder", folder) from exc
    for entry in entries:
        if not entry.is_file():
            continue
        kind = classify_file(Path(entry.path))
        if kind is not None:
            run.add(kind, Path(entry.path))
    if not run.log_files:
        return None
    # rl-zoo keeps config.yml and args.yml one level down, in a folder named after the env.
    have = {p.name for p in run.files.get(ZOO_CONFIG, [])}
    for entry in entries:
        if entry.is_dir() and not entry.name.startswith("."):
            for name in ("config.yml", "args.yml"):
                nested = Path(entry.path) / name
                if name not in have and nested.is_file():
                    run.add(ZOO_CONFIG, nested)
                    have.add(name)
    for kind, paths in run.files.items():
        if kind == TENSORBOARD:
            # Several event files in one run folder are restarts: read them in time order.
            # Their names are events.out.tfevents.<unix time>.<host>..., so sort by that.
            paths.sort(key=_event_file_time)
        for p in paths:
            _check_readable(p)
    return run


def _event_file_time(path: Path) -> tuple[float, str]:
    parts = path.name.split(".")
    try:
        return float(parts[3]), path.name
    except (IndexError, ValueError):
        return float("inf"), path.name


def discover(path: str | Path) -> list[RunFiles]:
    """List the runs under ``path`` (``-`` means standard input, a stdout log).

    :raises InputError: the path does not exist, cannot be read, or holds no log file.
    """
    if str(path) == "-":
        run = RunFiles(Path("-"), "stdin")
        run.add(STDOUT, Path("-"))
        return [run]
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or directory", p)
    if p.is_file():
        _check_readable(p)
        kind = classify_file(p, explicit=True)
        assert kind is not None  # explicit=True always classifies
        if kind in _NOT_LOGS:
            raise InputError(f"{p.name} holds hyperparameters, not metrics: give the run folder", p)
        run = RunFiles(p, p.parent.name if kind == TENSORBOARD else p.name)
        run.add(kind, p)
        return [run]
    if not p.is_dir():
        raise InputError("not a regular file or folder", p)
    if not os.access(p, os.R_OK | os.X_OK):
        raise InputError("permission denied: cannot list the folder", p)

    runs: list[RunFiles] = []
    for root, dirs, _files in os.walk(p):
        dirs.sort(key=natural_key)
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
        found = _scan_folder(Path(root))
        if found is not None:
            runs.append(found)
    if not runs:
        raise InputError(
            "no SB3 log found (looked for events.out.tfevents.*, progress.csv, progress.json, "
            "monitor.csv and *.log / log.txt stdout logs)",
            p,
        )
    # Name runs by their path relative to the given folder so that seeds/PPO_1 and
    # other/PPO_1 stay distinguishable; the folder itself keeps its own name.
    for run in runs:
        rel = run.path.relative_to(p)
        run.name = p.name if str(rel) == "." else rel.as_posix()
    return runs
