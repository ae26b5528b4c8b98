"""Turn a user-given path into the log files of each run under it.

A *run folder* is any folder that directly holds at least one log file (an event file,
``progress.csv``/``progress.json``, a ``monitor.csv``, a captured stdout log). A path may be
a run folder, a parent of run folders (``logs/`` holding ``PPO_1``, ``PPO_2``, ...), or a
single log file. Nothing is ever written here: discovery only lists and classifies files.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from sb3doctor.errors import InputError, NoLogFound, printable

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
#: Event files of ``SummaryWriter.add_scalars`` sub-folders (``PPO_1/reward_train/``), read as
#: part of the run folder above them.
SCALARS_SUBFOLDER = "tensorboard_scalars"
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
    if name.endswith((".out", ".txt")):
        # slurm-1234.out, nohup.out, train_output.txt: console logs by content only, so that a
        # README.txt or rl-zoo's command.txt does not become a run.
        from sb3doctor.sources.stdout import looks_like_stdout

        return STDOUT if looks_like_stdout(path) else None
    return None


@dataclass
class RunFiles:
    """The log files found for one run folder (or a single file)."""

    path: Path
    name: str
    files: dict[str, list[Path]] = field(default_factory=dict)
    #: Why this folder cannot be read (it is then skipped with this line, or fails --strict).
    error: str | None = None
    #: Warnings about the search itself (folders too deep to look into), shown with the run.
    notes: list[str] = field(default_factory=list)

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


#: Folder levels searched below the given path. SB3 and rl-zoo nest runs 1-4 levels deep;
#: a limit keeps a pathological tree (1,000 levels, a path near PATH_MAX) from costing more
#: than it is worth, and the folders left out are named in a warning.
MAX_DEPTH = 32


def _is_file(entry: os.DirEntry[str]) -> bool:
    # A symlink loop (a -> b -> a) or a dangling link raises instead of answering False.
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _scan_folder(folder: Path, entries: list[os.DirEntry[str]]) -> RunFiles | None:
    """The run in ``folder`` (its sorted ``entries``), or None when it holds no log file."""
    run = RunFiles(folder, printable(folder.name, one_line=True))
    for entry in entries:
        if not _is_file(entry):
            continue
        kind = classify_file(Path(entry.path))
        if kind is not None:
            run.add(kind, Path(entry.path))
    if not run.log_files:
        return None
    # rl-zoo keeps config.yml and args.yml one level down, in a folder named after the env.
    have = {p.name for p in run.files.get(ZOO_CONFIG, [])}
    for entry in entries:
        if _is_dir(entry) and not entry.name.startswith("."):
            for name in ("config.yml", "args.yml"):
                nested = Path(entry.path) / name
                if name not in have and _safe_is_file(nested):
                    run.add(ZOO_CONFIG, nested)
                    have.add(name)
    for kind, paths in run.files.items():
        if kind == TENSORBOARD:
            # Several event files in one run folder are restarts: read them in time order.
            # Their names are events.out.tfevents.<unix time>.<host>..., so sort by that.
            paths.sort(key=_event_file_time)
        for p in paths:
            if not os.access(p, os.R_OK):
                run.error = f"permission denied: cannot read {printable(p.name, one_line=True)}"
    return run


def _safe_is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # ELOOP, ENAMETOOLONG, EACCES on a parent
        return False


def _walk(top: Path) -> list[RunFiles]:
    """Run folders under ``top``, parents before children, siblings in natural order.

    Iterative (no recursion limit), and goes at most :data:`MAX_DEPTH` levels down. Symlinked
    folders are followed (``logs/best -> PPO_3``, a run folder linked in from elsewhere), each
    real folder once: a link back to ``..`` or to a folder already seen is not entered again,
    so loops end. A folder that cannot be listed is returned as a RunFiles with ``error`` set,
    so that it is reported, not skipped silently.
    """
    runs: list[RunFiles] = []
    too_deep: list[Path] = []
    stack: list[tuple[Path, int]] = [(top, 0)]
    seen: set[tuple[int, int]] = set()
    try:
        st = top.stat()
        seen.add((st.st_dev, st.st_ino))
    except OSError:
        pass
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: natural_key(e.name))
        except OSError as exc:
            what = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
            name = printable(folder.name, one_line=True)
            runs.append(RunFiles(folder, name, error=f"{what}: cannot list the folder"))
            continue
        found = _scan_folder(folder, entries)
        if found is not None:
            runs.append(found)
        subdirs = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            try:
                if not entry.is_dir():  # follows a symlink; a loop or dangling link raises
                    continue
                st = entry.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            subdirs.append(Path(entry.path))
        if subdirs and depth >= MAX_DEPTH:
            too_deep.append(folder)
            continue
        stack.extend((d, depth + 1) for d in reversed(subdirs))
    if too_deep:
        note = (
            f"folders more than {MAX_DEPTH} levels below {top} were not searched "
            f"(under {too_deep[0]}{f' and {len(too_deep) - 1} more' if len(too_deep) > 1 else ''})"
        )
        if runs:
            runs[0].notes.append(note)
        else:
            raise NoLogFound(f"no SB3 log found: {note}", top)
    return runs


def event_file_created(path: Path) -> float | None:
    """The creation time in an event file's name (``events.out.tfevents.<unix time>.<host>...``),
    or None when the name holds none."""
    parts = path.name.split(".")
    try:
        return float(parts[3])
    except (IndexError, ValueError):
        return None


def _event_file_time(path: Path) -> tuple[float, str]:
    created = event_file_created(path)
    return (float("inf") if created is None else created), path.name


def discover(path: str | Path) -> list[RunFiles]:
    """List the runs under ``path`` (``-`` means standard input, a stdout log).

    :raises InputError: the path does not exist, cannot be read, or holds no log file.
    """
    if str(path) == "-":
        run = RunFiles(Path("-"), "stdin")
        run.add(STDOUT, Path("-"))
        return [run]
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError("no such file or directory", p) from None
    except OSError as exc:  # a name too long, a symlink loop, a parent that cannot be searched
        raise InputError(f"cannot access it ({exc.strerror or exc})", p) from None
    if stat.S_ISREG(st.st_mode):
        _check_readable(p)
        kind = classify_file(p, explicit=True)
        assert kind is not None  # explicit=True always classifies
        if kind in _NOT_LOGS:
            raise InputError(f"{p.name} holds hyperparameters, not metrics: give the run folder", p)
        run = RunFiles(p, printable(p.parent.name if kind == TENSORBOARD else p.name, one_line=True))
        run.add(kind, p)
        return [run]
    if not stat.S_ISDIR(st.st_mode):
        raise InputError("not a regular file or folder", p)
    if not os.access(p, os.R_OK | os.X_OK):
        raise InputError("permission denied: cannot list the folder", p)

    runs = _walk(p)
    if len(runs) == 1 and runs[0].error is not None:
        raise InputError(runs[0].error, runs[0].path)
    if not runs:
        raise NoLogFound(
            "no SB3 log found (looked for events.out.tfevents.*, progress.csv, progress.json, "
            "monitor.csv, and stdout logs: *.log, log.txt, or *.out / *.txt holding SB3 tables)",
            p,
        )
    # Name runs by their path relative to the given folder so that seeds/PPO_1 and
    # other/PPO_1 stay distinguishable; the folder itself keeps its own name.
    for run in runs:
        rel = run.path.relative_to(p)
        # Folder names may hold escape codes or newlines: names are shown, so escape them.
        run.name = printable(p.name if str(rel) == "." else rel.as_posix(), one_line=True)
    return runs
