"""Join a folder of Monitor files to the TensorBoard run of the same training.

The two layouts of SB3's own documentation put one training's logs in two folders::

    env = Monitor(env, log_dir)                       # log_dir/monitor.csv
    model = PPO("MlpPolicy", env, tensorboard_log=log_dir)   # log_dir/PPO_1/events...

    env = make_vec_env(env_id, 4, monitor_dir="run/monitor")  # run/monitor/0.monitor.csv ...
    model = PPO("MlpPolicy", env, tensorboard_log="run/tb")   # run/tb/PPO_1/events...

Read apart, they are two half-runs: the episodes (and the env id in the Monitor header) in
one, the training metrics in the other. The Monitor files are given to the event-file run
whose training they recorded, told by wall-clock time: SB3 creates the event file when
``learn()`` starts (its name holds that time), which falls between the Monitor's ``t_start``
(its header) and its last episode. They are joined only when exactly one such run matches, so
that a Monitor folder reused by several trainings, or unrelated runs side by side, stay apart.

``EvalCallback(eval_env, log_path="run/eval")`` writes ``evaluations.npz``, which holds no
wall-clock time: its file's modification time (the last evaluation saved) stands for it, and
a folder holding only that file joins the event-file run beside it (``run/tb/PPO_1``) that was
created before that time and last written after it (within the slack). An ``evaluations.npz``
in the Monitor's own folder (``log_path=log_dir`` beside ``Monitor(env, log_dir)``) goes with
the Monitor files, whose header is the better clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sb3doctor.sources.discover import EVALUATIONS, MONITOR, STDOUT, TENSORBOARD, RunFiles, event_file_created

#: Seconds of slack after the Monitor's time span: an event file may be created a while after
#: the last episode of a run that has just started (the model is built after the env).
_SLACK_S = 60.0
#: ... and before it: none is needed, as learn() comes after the Monitor's env is made, but the
#: event file's name holds whole seconds. A script run again into the same folder (a new
#: Monitor file, a new PPO_2) then leaves the earlier PPO_1 out.
_EARLY_S = 2.0
#: Bytes read from the end of a Monitor file to find its last episode.
_TAIL_BYTES = 8192


def attach_monitor_folders(found: list[RunFiles]) -> list[RunFiles]:
    """``found`` with each Monitor-only folder (and EvalCallback-only folder) moved into the
    event-file run it belongs to.

    Candidates are the event-file runs inside the folder (``log_dir/PPO_1``), else those inside
    its parent, at most two levels down (``run/tb/PPO_1`` beside ``run/monitor``). A pair is
    joined only when each is the other's only match, so the result does not depend on the
    order folders are listed in: an eval env's Monitor folder recording over the same time as
    the training's leaves both apart.
    """
    # Monitor files alone, or beside a captured stdout log (`python train.py > log_dir/train.log`):
    # the log stays where it is, read as the printed output of the same training
    monitors = [
        rf
        for rf in found
        if rf.error is None and MONITOR in rf.files and set(rf.files) <= {MONITOR, STDOUT, EVALUATIONS}
    ]
    evaluations = [rf for rf in found if rf.error is None and set(rf.files) == {EVALUATIONS}]
    if not monitors and not evaluations:
        return found
    runs = [rf for rf in found if rf.error is None and TENSORBOARD in rf.files]
    joined = _join(
        monitors,
        [rf for rf in runs if MONITOR not in rf.files],
        lambda folder: _monitor_window(folder.files[MONITOR]),
        _started_within,
        MONITOR,
        # EvalCallback(log_path=log_dir) beside Monitor(env, log_dir): the same training's files
        companions=(EVALUATIONS,),
    )
    joined |= _join(
        evaluations,
        [rf for rf in runs if EVALUATIONS not in rf.files],
        lambda folder: _saved_window(folder.files[EVALUATIONS]),
        _written_across,
        EVALUATIONS,
    )
    return [rf for rf in found if id(rf) not in joined]


def _join(
    folders: list[RunFiles],
    runs: list[RunFiles],
    window_of: Callable[[RunFiles], tuple[float, float] | None],
    fits: Callable[[RunFiles, tuple[float, float]], bool],
    kind: str,
    companions: tuple[str, ...] = (),
) -> set[int]:
    """Move each folder's files of ``kind``, and its files of the ``companions`` kinds with
    them, into its one matching run; the ids of the folders left with no file (a folder that
    also holds a stdout log keeps it)."""
    matches: dict[int, list[RunFiles]] = {}
    for folder in folders:
        window = window_of(folder)
        if window is None:
            continue
        for scope in (folder.path, folder.path.parent):
            inside = [rf for rf in runs if _is_inside(rf.path, scope)]
            if inside:
                matches[id(folder)] = [rf for rf in inside if fits(rf, window)]
                break  # the nearest scope with candidates decides, matched or not
    claims: dict[int, int] = {}
    for found in matches.values():
        for rf in found:
            claims[id(rf)] = claims.get(id(rf), 0) + 1
    joined: set[int] = set()
    for folder in folders:
        found = matches.get(id(folder), [])
        if len(found) == 1 and claims[id(found[0])] == 1:
            for moved in (kind, *companions):
                for path in folder.files.pop(moved, []):
                    found[0].add(moved, path)
            if not folder.files:
                joined.add(id(folder))  # nothing left of it: it was only that training's files
    return joined


def _is_inside(path: Path, folder: Path) -> bool:
    """``path`` is below ``folder``, at most two levels down (``tb/PPO_1``)."""
    return path != folder and folder in path.parents[:2]


def _started_within(run: RunFiles, window: tuple[float, float]) -> bool:
    """Whether the run's first event file was created while the Monitor was recording."""
    times = [event_file_created(p) for p in run.files[TENSORBOARD]]
    known = [t for t in times if t is not None]
    if not known:
        return False
    start, end = window
    return start - _EARLY_S <= min(known) <= end + _SLACK_S


def _written_across(run: RunFiles, saved: tuple[float, float]) -> bool:
    """Whether the run's event files were being written when the evaluations were saved:
    created before, last modified after (each within the slack)."""
    created = [t for t in (event_file_created(p) for p in run.files[TENSORBOARD]) if t is not None]
    try:
        written = max(p.stat().st_mtime for p in run.files[TENSORBOARD])
    except OSError:
        return False
    return bool(created) and min(created) - _SLACK_S <= saved[0] and saved[1] <= written + _SLACK_S


def _saved_window(paths: list[Path]) -> tuple[float, float] | None:
    """When the evaluations were last saved (file modification times), as a span; None if a
    file cannot be stat-ed."""
    try:
        times = [p.stat().st_mtime for p in paths]
    except OSError:
        return None
    return (min(times), max(times)) if times else None


def _monitor_window(paths: list[Path]) -> tuple[float, float] | None:
    """Wall-clock span the Monitor files recorded: their earliest ``t_start`` to their latest
    episode end (``t_start`` + the last row's ``t``); None if a header cannot be read (the
    folder is then left as it is, and its own reading reports the problem)."""
    starts: list[float] = []
    ends: list[float] = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                head = fh.readline(4096)
                columns = fh.readline(4096).decode("utf-8", "replace").strip().split(",")
                fh.seek(0, 2)
                size = fh.tell()
                fh.seek(max(0, size - _TAIL_BYTES))
                tail = fh.read().splitlines()
            if not head.startswith(b"#"):
                return None
            t_start = float(json.loads(head[1:])["t_start"])
        except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError):
            return None  # read, and reported, with the folder itself
        last = 0.0
        if "t" in columns:
            index = columns.index("t")
            for line in reversed(tail):
                fields = line.decode("utf-8", "replace").split(",")
                try:
                    last = float(fields[index])
                    break
                except (IndexError, ValueError):
                    continue  # the header row, or a row cut by a writer still at work
        starts.append(t_start)
        ends.append(t_start + last)
    return (min(starts), max(ends)) if starts else None
