"""``progress.csv`` / ``progress.json`` written by SB3's logger (``configure(folder, ["csv", "json"])``).

One row (csv) or one JSON object per line (json) per ``Logger.dump()``, with full float
precision (``sb3:common/logger.py:281-389``). Step = the ``time/total_timesteps`` value of
the row. Neither format carries a wall clock (``time/time_elapsed`` is a metric), so wall
times are NaN.

CSV quirks handled here: when new keys appear mid-run SB3 rewrites the whole file with the
longer header and pads the old rows with empty cells; empty cells are missing values; the
column order is arbitrary. A last line without its line end (the file is being written, or
was cut) is ignored with a warning: its last cell may be cut short.
"""

from __future__ import annotations

import csv
import io
import json
import math
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sb3doctor.errors import InputError, printable
from sb3doctor.model import Series, SourceData, valid_step

__all__ = ["read_progress_csv", "read_progress_json"]

_STEP_KEY = "time/total_timesteps"
_WORDS = {"True": 1.0, "False": 0.0, "true": 1.0, "false": 0.0}
_NANS = (float("nan"),)


def _read_text(path: Path, what: str) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", path) from exc
    if b"\x00" in data:
        raise InputError(f"binary file, not a {what}", path)
    return data.decode("utf-8", errors="replace")


def _complete_lines(text: str, path: Path, src: SourceData) -> str:
    """Drop a last line that has no line end (cut off or still being written)."""
    if text and not text.endswith("\n"):
        cut = text.rfind("\n") + 1
        line_no = text.count("\n") + 1
        src.warnings.append(
            f"{path}:{line_no}: last line has no line end (cut off or still being written): ignored"
        )
        return text[:cut]
    return text


def _to_series(columns: dict[str, tuple[list[int], list[float]]]) -> dict[str, Series]:
    out: dict[str, Series] = {}
    for key, (steps, values) in columns.items():
        if values:
            # csv headers and JSON keys are shown on the terminal: no escape codes
            walls = array("d", _NANS) * len(values)
            out[printable(key, one_line=True)] = Series(array("q", steps), array("d", values), walls)
    return out


def csv_rows(reader: Any, bad: list[int], offset: int = 0) -> Iterator[list[str]]:
    """The rows of a csv ``reader``; a row the csv module refuses (a field over its 128 KiB
    limit, a stray quote) is skipped and its line number appended to ``bad``.

    The csv reader resumes after such an error, so one damaged line costs one row, not the file.
    """
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error:
            bad.append(reader.line_num + offset)


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return _WORDS.get(cell)


def read_progress_csv(path: Path) -> SourceData:
    """Read an SB3 ``progress.csv``: one point per non-empty cell at the row's ``time/total_timesteps``.

    :raises InputError: unreadable, binary, or a CSV without a ``time/total_timesteps`` column
    """
    src = SourceData("progress_csv", Path(path))
    text = _complete_lines(_read_text(path, "CSV file"), path, src)
    if not text.strip():
        src.warnings.append(f"{path}: empty (no dump written yet)")
        return src
    # StringIO(newline=""): quoted string cells may hold line breaks.
    reader = csv.reader(io.StringIO(text, newline=""))
    bad_rows: list[int] = []
    header = next(csv_rows(reader, bad_rows), [])
    if _STEP_KEY not in header:
        raise InputError(f"not an SB3 progress.csv: no {_STEP_KEY} column in the header", path)
    step_col = header.index(_STEP_KEY)
    n = len(header)
    columns: dict[str, tuple[list[int], list[float]]] = {}
    cols = [columns.setdefault(key, ([], [])) for key in header]
    no_step = 0
    for row in csv_rows(reader, bad_rows):
        if len(row) != n:
            # A row from before a header rewrite that did not finish, or a hand-edited file.
            if row:
                bad_rows.append(reader.line_num)
            continue
        step_value = _number(row[step_col])
        step = valid_step(step_value) if step_value is not None else None
        if step is None:
            no_step += 1
            continue
        for i, cell in enumerate(row):
            if not cell:
                continue  # key not recorded at this dump
            x = _number(cell)
            if x is not None:
                col = cols[i]
                col[0].append(step)
                col[1].append(x)
    if bad_rows:
        src.warnings.append(
            f"{path}:{bad_rows[0]}: {len(bad_rows)} malformed row(s) (cell count differs from the "
            f"header's {n}, or a cell over the csv field limit) ignored"
        )
    if no_step:
        src.warnings.append(
            f"{path}: {no_step} row(s) without a valid {_STEP_KEY} "
            "(missing, NaN, inf or out of range) ignored"
        )
    src.metrics = _to_series(columns)
    return src


def read_progress_json(path: Path) -> SourceData:
    """Read an SB3 ``progress.json`` (JSON lines): one point per numeric value of each object.

    :raises InputError: unreadable or binary
    """
    src = SourceData("progress_json", Path(path))
    text = _complete_lines(_read_text(path, "JSON lines file"), path, src)
    if not text.strip():
        src.warnings.append(f"{path}: empty (no dump written yet)")
        return src
    columns: dict[str, tuple[list[int], list[float]]] = {}
    bad: list[int] = []
    no_step = 0
    decode = json.JSONDecoder().decode
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = decode(line)
        except (ValueError, RecursionError):  # RecursionError: a line nested thousands deep
            bad.append(line_no)
            continue
        if not isinstance(obj, dict):
            bad.append(line_no)
            continue
        step_value = obj.get(_STEP_KEY)
        step = valid_step(step_value) if isinstance(step_value, (int, float)) else None
        if step is None:
            no_step += 1
            continue
        for key, value in obj.items():
            # bool is an int subclass: True/False become 1/0 like in the other readers;
            # strings, None and lists (histogram-like arrays) are not scalar metrics.
            if isinstance(value, (int, float)):
                col = columns.get(key)
                if col is None:
                    col = columns[key] = ([], [])
                col[0].append(step)
                try:
                    col[1].append(float(value))
                except OverflowError:  # an integer past the float range (10**400): a value of inf
                    col[1].append(math.inf if value > 0 else -math.inf)
    if bad:
        src.warnings.append(f"{path}:{bad[0]}: {len(bad)} line(s) that are not JSON objects ignored")
    if no_step:
        src.warnings.append(
            f"{path}: {no_step} object(s) without a valid {_STEP_KEY} "
            "(missing, NaN, inf or out of range) ignored"
        )
    if not columns and bad and not no_step:
        raise InputError("not an SB3 progress.json: no line is a JSON object", path)
    src.metrics = _to_series(columns)
    return src
