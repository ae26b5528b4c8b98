"""``monitor.csv`` files written by SB3's ``Monitor`` wrapper, one line per finished episode.

Format (``sb3:common/monitor.py``)::

    #{"t_start": 1700000000.123, "env_id": "CartPole-v1"}
    r,l,t[,info_keywords...]
    23.0,23,0.012345

``r`` = episode return, ``l`` = length, ``t`` = seconds since ``t_start``. A vectorised env
writes one file per env (``0.monitor.csv``, ``1.monitor.csv``, ...); the files of one run
are merged in order of absolute end time ``t_start + t``. The step of an episode is the
running sum of episode lengths over all merged files (about ``num_timesteps`` at its end),
its wall time ``t_start + t``. Metrics: ``episode/reward``, ``episode/length`` and, for
numeric ``info_keywords`` columns such as ``is_success``, ``episode/<column>``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from array import array
from pathlib import Path
from typing import Any

from sb3doctor.errors import InputError, printable
from sb3doctor.model import Series, SourceData, valid_step
from sb3doctor.sources.progress import csv_rows

__all__ = ["read_monitor"]

_WORDS = {"True": 1.0, "False": 0.0}
_NAMES = {"r": "episode/reward", "l": "episode/length"}


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return _WORDS.get(cell)


def _read_one(
    path: Path, src: SourceData
) -> tuple[dict[str, Any], list[tuple[float, int, dict[str, float]]]]:
    """Header and episodes ``(absolute end time, length, {metric: value})`` of one file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", path) from exc
    if b"\x00" in data:
        raise InputError("binary file, not a monitor.csv", path)
    text = data.decode("utf-8", errors="replace")
    first, _, rest = text.partition("\n")
    header: Any = None
    if first.startswith("#"):
        try:
            header = json.loads(first[1:])
        except (ValueError, RecursionError):
            header = None
    if not isinstance(header, dict) or not isinstance(header.get("t_start"), (int, float)):
        raise InputError(
            'not an SB3 monitor file: the first line should be #{"t_start": ..., "env_id": ...}', path
        )
    try:
        t_start = float(header["t_start"])
    except OverflowError:  # an integer of 400 digits: no clock reads that
        raise InputError("not an SB3 monitor file: t_start is out of range", path) from None
    if rest and not rest.endswith("\n"):
        line_no = text.count("\n") + 1
        src.warnings.append(
            f"{path}:{line_no}: last line has no line end (cut off or still being written): ignored"
        )
        rest = rest[: rest.rfind("\n") + 1]
    reader = csv.reader(io.StringIO(rest, newline=""))
    bad: list[int] = []
    columns = next(csv_rows(reader, bad, 1), None)
    if columns is None and not bad:
        return header, []  # no episode finished yet
    if columns is None or columns[:3] != ["r", "l", "t"]:
        raise InputError("not an SB3 monitor file: the second line should be the header r,l,t", path)
    names = [_NAMES.get(c) or printable(f"episode/{c}", one_line=True) for c in columns]
    n = len(columns)
    episodes: list[tuple[float, int, dict[str, float]]] = []
    last_t = float("-inf")
    went_back = False
    for row in csv_rows(reader, bad, 1):  # lines counted from the JSON header line
        if len(row) != n:
            if row:
                bad.append(reader.line_num + 1)
            continue
        try:
            length_value, t = float(row[1]), float(row[2])
        except ValueError:
            bad.append(reader.line_num + 1)
            continue
        length = valid_step(length_value)
        if length is None or length < 0 or not math.isfinite(t):
            bad.append(reader.line_num + 1)
            continue
        if t < last_t:
            went_back = True
        last_t = t
        values: dict[str, float] = {}
        for i, cell in enumerate(row):
            if i == 2 or not cell:
                continue
            x = _number(cell)
            if x is not None:
                values[names[i]] = x
        episodes.append((t_start + t, length, values))
    if bad:
        src.warnings.append(f"{path}:{bad[0]}: {len(bad)} malformed row(s) ignored")
    if went_back:
        # Monitor(override_existing=False) appends a new run without a new header, so its
        # times count from a start that is not in the file.
        src.warnings.append(f"{path}: episode times go back (appended runs?): their order may be wrong")
    return header, episodes


def read_monitor(paths: list[Path]) -> SourceData:
    """Read the monitor file(s) of one run (one per env) into one episode table.

    :raises InputError: a file is unreadable or not a monitor file (the message names it)
    """
    if not paths:
        raise ValueError("read_monitor needs at least one file")
    src = SourceData("monitor", Path(paths[0]))
    episodes: list[tuple[float, int, dict[str, float]]] = []
    t_starts: list[float] = []
    env_ids: list[str] = []
    for p in paths:
        header, eps = _read_one(Path(p), src)
        t_starts.append(float(header["t_start"]))  # in range: _read_one checked it
        if header.get("env_id") not in (None, "None") and header["env_id"] not in env_ids:
            env_ids.append(str(header["env_id"]))
        episodes.extend(eps)
    episodes.sort(key=lambda e: e[0])  # stable: equal times keep file order

    columns: dict[str, tuple[array, array, array]] = {}
    step = 0
    for wall, length, values in episodes:
        step += length
        for key, x in values.items():
            col = columns.get(key)
            if col is None:
                col = columns[key] = (array("q"), array("d"), array("d"))
            col[0].append(step)
            col[1].append(x)
            col[2].append(wall)
    src.metrics = {key: Series(*col) for key, col in columns.items()}
    src.facts["monitor_files"] = [str(p) for p in paths]
    src.facts["episodes"] = len(episodes)
    if t_starts:
        src.facts["t_start"] = min(t_starts)
    if env_ids:
        src.facts["env_id"] = env_ids[0] if len(env_ids) == 1 else env_ids
        src.facts["env_id_source"] = "monitor header"  # kept with the id when sources merge
    return src
