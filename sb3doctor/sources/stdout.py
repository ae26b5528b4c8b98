"""SB3 stdout tables (``HumanOutputFormat``), read from a captured console log.

SB3 prints one table per ``Logger.dump()``::

    -----------------------------------------
    | rollout/                |             |
    |    ep_len_mean          | 26.6        |
    | time/                   |             |
    |    total_timesteps      | 192         |
    | train/                  |             |
    |    approx_kl            | 1.0556541e-05 |
    -----------------------------------------

(``sb3:common/logger.py:150-262``; metrics-and-rules.md §3). Each table becomes one point
per key at step ``time/total_timesteps``; stdout has no clock, so wall times are NaN.

What a real console log holds besides tables, and how it is handled:

* preamble and callback lines (``Using cpu device``, ``Logging to logs/PPO_1``,
  ``Eval num_timesteps=...``, ``Early stopping at step ...``, the GPU warning) are
  harvested into :attr:`SourceData.facts`; tracebacks' exception lines into ``errors``;
* tqdm/rich progress bars: ANSI codes are dropped and of a line redrawn with ``\\r``
  only the last visible segment is kept (a bar often shares a line with a table border);
* CRLF line ends, indented (Markdown-pasted) tables;
* a table cut off at the start of the file (rows before the first border: ignored) or at
  the end (no closing border: dropped with a warning, it may still be being written);
* several runs printed one after another: a new run starts when ``time/total_timesteps``
  goes back, or when a ``Using <device> device`` / ``Logging to <other dir>`` line follows
  tables (see :meth:`StdoutParser._starts_new_run`);
* keys truncated with ``...`` (36 characters since SB3 1.5, 23 before) are mapped back to
  the full key by prefix against :data:`KNOWN_KEYS` and the full keys seen in the file.

:class:`StdoutParser` is incremental (``sb3doctor watch`` feeds it the bytes appended to a
growing log); :func:`read_stdout` runs it over a whole file.
"""

from __future__ import annotations

import codecs
import re
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sb3doctor.errors import InputError, printable
from sb3doctor.model import Series, SourceData, valid_step

__all__ = ["KNOWN_KEYS", "StdoutParser", "StdoutTable", "read_stdout", "resolve_truncated_key"]

#: Every key SB3 2.x and sb3-contrib log (metrics-and-rules.md §1), used to map truncated
#: keys back. Keys a run logs in full elsewhere in the same file are added at run time.
KNOWN_KEYS: frozenset[str] = frozenset(
    {
        # rollout/ (all algorithms; exploration_rate: DQN/QR-DQN; return_std: ARS)
        "rollout/ep_rew_mean",
        "rollout/ep_len_mean",
        "rollout/success_rate",
        "rollout/exploration_rate",
        "rollout/return_std",
        # time/
        "time/fps",
        "time/iterations",
        "time/episodes",
        "time/time_elapsed",
        "time/total_timesteps",
        # train/ shared
        "train/learning_rate",
        "train/n_updates",
        "train/std",
        "train/loss",
        "train/value_loss",
        "train/entropy_loss",
        "train/explained_variance",
        # PPO / RecurrentPPO / MaskablePPO
        "train/policy_gradient_loss",
        "train/clip_fraction",
        "train/approx_kl",
        "train/clip_range",
        "train/clip_range_vf",
        # A2C
        "train/policy_loss",
        # TRPO
        "train/policy_objective",
        "train/kl_divergence_loss",
        "train/is_line_search_success",
        # SAC / TQC / CrossQ / TD3 / DDPG
        "train/ent_coef",
        "train/ent_coef_loss",
        "train/critic_loss",
        "train/actor_loss",
        # ARS
        "train/step_size",
        "train/delta_std",
        "train/iterations",
        # EvalCallback / MaskableEvalCallback
        "eval/mean_reward",
        "eval/mean_ep_length",
        "eval/success_rate",
    }
)

#: Keys with spaces used before SB3 1.3.0, renamed with underscores since.
_LEGACY_KEYS = {
    "time/total timesteps": "time/total_timesteps",
    "rollout/exploration rate": "rollout/exploration_rate",
    "rollout/success rate": "rollout/success_rate",
}
_STEP_KEY = "time/total_timesteps"
_WORDS = {"True": 1.0, "False": 0.0}
# CSI sequences (colours, erase line, cursor show/hide) and OSC sequences (titles, links).
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_MIN_BORDER = 9  # the narrowest table SB3 can print: "| k | v |" is 9 characters wide
#: Longest line kept (characters): SB3's widest table row is a few hundred.
MAX_LINE = 1 << 20
#: Bytes read per step from a log file: memory stays bounded by the points kept.
_CHUNK = 1 << 20


@dataclass
class StdoutTable:
    """One complete table, as returned by :meth:`StdoutParser.feed`.

    :param run: 0-based index of the printed run it belongs to (``parser.runs[run]``)
    :param step: its ``time/total_timesteps``
    :param values: full metric key -> value (non-numeric cells left out)
    :param line: 1-based line number of its closing border
    """

    run: int
    step: int
    values: dict[str, float]
    line: int


def resolve_truncated_key(key: str, candidates: Iterable[str]) -> list[str]:
    """Full keys that the truncated ``key`` (ending in ``...``) may stand for.

    SB3 keeps the first ``max_length - 3`` characters of a long key and adds ``...``, so a
    candidate must start with ``key[:-3]`` and be longer than ``key`` itself.
    """
    prefix = key[:-3]
    return sorted(c for c in candidates if len(c) > len(key) and c.startswith(prefix))


def _clean_noisy_line(s: str) -> str:
    """The visible text of a line holding ANSI codes and/or carriage-return redraws.

    A terminal shows what was written after the last ``\\r``; rich/tqdm write a bar, then
    ``\\r`` + erase + the real line + ``\\r``. Prefer the last table-looking segment, else the
    last non-empty one.
    """
    if "\x1b" in s:
        s = _ANSI.sub("", s)
    if "\r" not in s:
        return s.strip()
    last = ""
    table_like = False
    for seg in s.split("\r"):
        seg = seg.strip()
        if not seg:
            continue
        if seg[0] == "|" or seg[0] == "-":
            last = seg
            table_like = True
        elif not last or not table_like:
            last = seg
            table_like = False
    return last


def _parse_value(v: str) -> float | None:
    try:
        return float(v)
    except ValueError:
        return _WORDS.get(v)


class StdoutParser:
    """Incremental parser of an SB3 console log.

    Usage (``sb3doctor watch``)::

        parser = StdoutParser(path)
        for chunk in new_text_chunks:          # any split, even mid-line
            for table in parser.feed(chunk):   # complete tables only
                ...                            # table.run, table.step, table.values
        sources = parser.finish()              # one SourceData per printed run

    A half-written line or table is kept until the next :meth:`feed`. ``parser.runs``
    holds the :class:`SourceData` of each printed run as it grows (facts and warnings;
    metrics are moved in by :meth:`sources` or :meth:`finish`). :meth:`finish` closes the
    log (an unterminated last table is dropped with a warning) and maps truncated keys once
    more against every full key seen.
    """

    def __init__(self, path: Path = Path("-"), known_keys: Iterable[str] = ()) -> None:
        """:param path: the log (for SourceData.path and warnings); ``-`` is stdin
        :param known_keys: extra full keys to map truncated keys to (e.g. progress.csv's)
        """
        self.path = path
        self.runs: list[SourceData] = []
        self.tables_seen = 0  # complete tables, with or without time/total_timesteps
        self._label = "<stdin>" if str(path) == "-" else str(path)
        self._decoder: Any = None
        self._partial = ""
        self._skipping = False
        self._line_no = 0
        # Current table: None outside a table; rows as (full key, value); border length.
        self._rows: list[tuple[str, float]] | None = None
        self._border = 0
        self._tag = ""
        self._table_line = 0
        self._orphan_rows = 0
        self._orphan_line = 0
        # Facts and warnings met before the table that decides which run they belong to.
        self._pending: dict[str, Any] = {}
        self._pending_warnings: list[str] = []
        self._device_hint = False
        self._last_step = -1
        self._no_step_tables = 0
        self._no_step_line = 0
        self._in_traceback = False
        self._known: set[str] = set(KNOWN_KEYS) | set(known_keys)
        self._resolved: dict[str, str] = {}
        self._keymap: dict[str, str] = {}
        # Per run: metric -> (steps, values) not yet moved into runs[i].metrics.
        self._columns: list[dict[str, tuple[list[int], list[float]]]] = []
        self._warned_ambiguous: set[str] = set()

    # -- input -----------------------------------------------------------------------------

    def feed_bytes(self, data: bytes) -> list[StdoutTable]:
        """Like :meth:`feed` for raw bytes (UTF-8; a character split across calls is kept)."""
        if self._decoder is None:
            self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        return self.feed(self._decoder.decode(data))

    def feed(self, text: str) -> list[StdoutTable]:
        """Parse more text; return the tables completed by it."""
        if self._skipping:
            # Inside a line too long to be SB3's: drop it up to its end.
            cut = text.find("\n")
            if cut < 0:
                return []
            text = text[cut + 1 :]
            self._skipping = False
            self._line_no += 1
        if self._partial:
            text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        if len(self._partial) > MAX_LINE:
            # A line that never ends (binary junk, a 100 MB progress bar) would be copied on
            # every feed, quadratic in its length: forget it and skip to its end instead.
            self._partial = ""
            self._skipping = True
            self._warn(self._line_no + len(lines) + 1, f"a line longer than {MAX_LINE >> 20} MiB ignored")
        out: list[StdoutTable] = []
        # Hot loop: a clean row of an open table is parsed inline (a method call per line
        # would double the cost); every other line goes through _line.
        rows, tag, words = self._rows, self._tag, _WORDS
        line_no = self._line_no
        # Most logs have no \r or ANSI code at all: then no line needs the check.
        noisy = "\r" in text or "\x1b" in text
        for raw in lines:
            line_no += 1
            s = raw.strip()
            if (
                rows is not None
                and s[:1] == "|"
                and s[-1:] == "|"
                and not (noisy and ("\r" in s or "\x1b" in s))
            ):
                key_part, sep, val_part = s[1:-1].partition(" | ")
                value = val_part.strip()
                # "| " + key: a key indented by 3 more spaces belongs to the current tag.
                indented = key_part[:2] == "  "
                if not value:
                    if sep and not indented:
                        key = key_part.strip()
                        if key.endswith("/"):
                            tag = key
                    continue
                try:
                    x = float(value)
                except ValueError:
                    w = words.get(value)
                    if w is None:  # strings, None, truncated values
                        continue
                    x = w
                rows.append((tag + key_part.strip() if indented else key_part.strip(), x))
                continue
            self._tag, self._line_no = tag, line_no
            self._line(raw, out)
            rows, tag = self._rows, self._tag
        self._tag, self._line_no = tag, line_no
        return out

    def finish(self) -> list[SourceData]:
        """End of the log: flush the last line, drop an unterminated table, return the runs."""
        out: list[StdoutTable] = []
        if self._decoder is not None:
            self._partial += self._decoder.decode(b"", final=True)
        if self._partial:
            self._line_no += 1
            self._line(self._partial, out)
            self._partial = ""
        if self._orphan_rows:
            self._warn(self._orphan_line, f"{self._orphan_rows} table row(s) outside any table ignored")
            self._orphan_rows = 0
        if self._rows is not None and self._rows:
            self._warn(
                self._table_line,
                "the last table has no closing border (cut off, or still being written): dropped",
            )
        self._rows = None
        if self._no_step_tables:
            self._warn(
                self._no_step_line,
                f"{self._no_step_tables} table(s) without a valid time/total_timesteps "
                "(missing, NaN, inf or out of range) skipped",
            )
            self._no_step_tables = 0
        if self.runs:
            run = self.runs[-1]
            for key, value in self._pending.items():
                _merge_fact(run.facts, key, value)
            run.warnings.extend(self._pending_warnings)
            self._pending, self._pending_warnings = {}, []
        self._materialise()
        self._resolve_leftover_truncated_keys()
        return self.runs

    def sources(self) -> list[SourceData]:
        """The runs so far, metrics included, without ending the log (for ``watch``)."""
        self._materialise()
        return self.runs

    def _materialise(self) -> None:
        for run, cols in zip(self.runs, self._columns, strict=True):
            for key, (steps, values) in cols.items():
                series = run.metrics.get(key)
                if series is None:
                    series = run.metrics[key] = Series()
                series.steps.extend(array("q", steps))
                series.values.extend(array("d", values))
                series.wall_times.extend(array("d", _NANS) * len(values))
            cols.clear()

    # -- lines -----------------------------------------------------------------------------

    def _line(self, raw: str, out: list[StdoutTable]) -> None:
        """One line (``self._line_no`` is its number); the slow path of :meth:`feed`."""
        s = raw.strip()
        if "\r" in s or "\x1b" in s:
            s = _clean_noisy_line(s)
        if not s:
            return
        c = s[0]
        if c == "|":
            if s[-1] == "|" and len(s) >= 5:
                self._row(s)
                return
        elif c == "-" and len(s) >= _MIN_BORDER and not s.strip("-"):
            self._border_line(len(s), out)
            return
        self._text_line(s, raw[:1] in (" ", "\t"))

    def _row(self, s: str) -> None:
        rows = self._rows
        if rows is None:
            # Rows of a table whose opening border is not in the log (cut at the start).
            if not self._orphan_rows:
                self._orphan_line = self._line_no
            self._orphan_rows += 1
            return
        # Same parsing as the inline copy in feed().
        key_part, sep, val_part = s[1:-1].partition(" | ")
        if not sep:
            return
        value = val_part.strip()
        indented = key_part[:2] == "  "
        key = key_part.strip()
        if not value:
            if not indented and key.endswith("/"):
                self._tag = key
            return
        x = _parse_value(value)
        if x is None:
            return
        rows.append((self._tag + key if indented else key, x))

    def _border_line(self, width: int, out: list[StdoutTable]) -> None:
        if self._orphan_rows:
            self._warn(
                self._orphan_line,
                f"{self._orphan_rows} table row(s) before the first border ignored (log cut at the start?)"
                if not self.tables_seen
                else f"{self._orphan_rows} table row(s) outside any table ignored",
            )
            self._orphan_rows = 0
        rows = self._rows
        if rows is None or not rows:
            # Opening border (two borders in a row: the first closed a table cut at the start).
            self._open(width)
            return
        if width != self._border:
            # SB3 closes a table with a border as wide as the opening one: this one opens
            # another table, so the current one lost its end.
            self._warn(self._table_line, "a table without its closing border dropped")
            self._open(width)
            return
        self._rows = None
        self.tables_seen += 1
        table = self._close(rows)
        if table is not None:
            out.append(table)

    def _open(self, width: int) -> None:
        self._rows = []
        self._border = width
        self._tag = ""
        self._table_line = self._line_no

    def _text_line(self, s: str, indented: bool) -> None:
        """Any other line: harvest the facts sb3doctor uses; everything else is noise."""
        # SB3 writes a whole table at once; a run-start line inside one means the table was
        # cut off (two logs concatenated, or a crash mid-write).
        if self._rows and s.startswith(("Using ", "Logging to ")):
            self._warn(self._table_line, "a table without its closing border dropped")
            self._rows = None
        if self._in_traceback:
            # Inside a traceback: indented frames and code lines until the exception line.
            if indented or s.startswith("Traceback"):
                return
            self._in_traceback = False
            self._pending.setdefault("errors", []).append(s)
            return
        if s.startswith("Using ") and s.endswith(" device"):
            self._pending["device"] = s[6:-7]
            self._device_hint = True
        elif s.startswith("Logging to "):
            self._pending["log_dir"] = s[11:].strip()
        elif s.startswith("Eval num_timesteps="):
            self._pending["eval_lines"] = self._pending.get("eval_lines", 0) + 1
        elif s.startswith("Early stopping at step "):
            self._early_stop(s)
        elif s.startswith("Creating environment from the given name "):
            self._pending["env_id"] = s[41:].strip("'\"")
            self._pending["env_id_source"] = "printed output"
        elif s.startswith("========== ") and s.endswith(" ==========") and _looks_like_env_id(s[11:-11]):
            # rl-zoo's train.py opens with print("=" * 10, env_id, "=" * 10); any other banner
            # ("========== Training ==========") is not an env id
            self._pending["env_id"] = s[11:-11]
            self._pending["env_id_source"] = "printed output"
        elif s.startswith("Wrapping the env with a `Monitor` wrapper"):
            self._pending["monitor_wrapped"] = True
        elif s.startswith("Traceback (most recent call last)"):
            self._in_traceback = True
        elif "You are trying to run " in s and " on the GPU" in s:
            self._pending["gpu_warning"] = True

    def _early_stop(self, s: str) -> None:
        # "Early stopping at step {epoch} due to reaching max kl: {kl:.2f}" (sb3:ppo/ppo.py:267-271),
        # printed by train() right after the table of the rollout it trains on.
        parts = s.split()
        try:
            epoch = int(parts[4])
            kl = float(parts[-1])
        except (IndexError, ValueError):
            return
        facts = self.runs[-1].facts if self.runs else self._pending
        facts.setdefault("early_stops", []).append([max(self._last_step, 0), kl])
        facts.setdefault("early_stop_epochs", []).append(epoch)

    # -- tables ----------------------------------------------------------------------------

    def _close(self, rows: list[tuple[str, float]]) -> StdoutTable | None:
        keymap, normalise = self._keymap, self._normalise_key
        values = {keymap.get(key) or normalise(key): x for key, x in rows}
        step_value = values.get(_STEP_KEY)
        step = valid_step(step_value) if step_value is not None else None
        if step is None:
            if not self._no_step_tables:
                self._no_step_line = self._table_line
            self._no_step_tables += 1
            return None

        if self._starts_new_run(step):
            self.runs.append(SourceData("stdout", self.path))
            self._columns.append({})
        run = self.runs[-1]
        for key, value in self._pending.items():
            _merge_fact(run.facts, key, value)
        run.warnings.extend(self._pending_warnings)
        self._pending, self._pending_warnings = {}, []
        self._device_hint = False
        self._last_step = step

        # Plain lists while parsing (array appends through Series cost twice as much);
        # _materialise() turns them into Series.
        cols = self._columns[-1]
        for key, x in values.items():
            col = cols.get(key)
            if col is None:
                col = cols[key] = ([], [])
            col[0].append(step)
            col[1].append(x)
        return StdoutTable(len(self.runs) - 1, step, values, self._line_no)

    def _starts_new_run(self, step: int) -> bool:
        """Whether the table at ``step`` begins a new printed run.

        * ``time/total_timesteps`` went back: a new model (or ``learn()`` with the default
          ``reset_num_timesteps=True``);
        * ``Logging to <dir>`` naming another folder than the current run's;
        * ``Using <device> device``: printed when a model is built with ``verbose>=1``
          (``Model.load`` does not print it, and ``learn(reset_num_timesteps=False)``
          continuing a run prints only ``Logging to`` with the same folder again).
        """
        if not self.runs:
            return True
        if step < self._last_step:
            return True
        log_dir = self._pending.get("log_dir")
        current = self.runs[-1].facts.get("log_dir")
        if log_dir is not None and log_dir != current:
            return True
        return self._device_hint

    def _normalise_key(self, key: str) -> str:
        """Printed key -> metric name (legacy spaces, truncation); cached once settled."""
        if key in _LEGACY_KEYS:
            name = self._keymap[key] = _LEGACY_KEYS[key]
            return name
        if key.endswith("..."):
            name = self._resolve(key)
            if name != key:
                self._keymap[key] = name
            return name
        name = printable(key, one_line=True)  # printed keys reach the terminal again
        self._known.add(name)
        self._keymap[key] = name
        return name

    def _resolve(self, key: str) -> str:
        """Map a truncated key to its full name if exactly one known key fits."""
        hit = self._resolved.get(key)
        if hit is not None:
            return hit
        found = resolve_truncated_key(key, self._known)
        if len(found) == 1:
            self._resolved[key] = found[0]
            return found[0]
        if len(found) > 1 and key not in self._warned_ambiguous:
            self._warned_ambiguous.add(key)
            self._warn(
                self._table_line,
                f"truncated key {key!r} could be any of {', '.join(found)}: kept as printed",
            )
        return key

    def _resolve_leftover_truncated_keys(self) -> None:
        """Second chance for truncated keys, with every full key of the whole file known."""
        for run in self.runs:
            for key in [k for k in run.metrics if k.endswith("...")]:
                found = resolve_truncated_key(key, self._known)
                if not found and key not in self._warned_ambiguous:
                    self._warned_ambiguous.add(key)
                    run.warnings.append(
                        f"{self._label}: truncated key {key!r} matches no known key: kept as printed"
                    )
                if len(found) != 1:
                    continue
                series = run.metrics.pop(key)
                have = run.metrics.get(found[0])
                if have is None:
                    run.metrics[found[0]] = series
                else:
                    have.extend(series)
                    run.metrics[found[0]] = have.sorted()

    def _warn(self, line: int, message: str) -> None:
        text = f"{self._label}:{line}: {message}"
        (self.runs[-1].warnings if self.runs else self._pending_warnings).append(text)


_NANS = (float("nan"),)


def _merge_fact(facts: dict[str, Any], key: str, value: Any) -> None:
    """Counters add up, lists extend, other facts keep their first value."""
    if key == "eval_lines":
        facts[key] = facts.get(key, 0) + value
    elif isinstance(value, list):
        facts.setdefault(key, []).extend(value)
    else:
        facts.setdefault(key, value)


def _decoder(first: bytes, label: str) -> Any:
    """An incremental decoder for a console log whose first bytes are ``first``; reject binary files."""
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # PowerShell 5's `>` writes UTF-16 with a BOM.
        return codecs.getincrementaldecoder("utf-16")("strict")
    if b"\x00" in first:
        raise InputError("binary file, not a text log", label)
    # utf-8-sig drops a BOM; "replace": a log with a few bytes in a legacy encoding (cp1252,
    # GBK prints) is still a log. One that is mostly undecodable is not (checked as it goes).
    return codecs.getincrementaldecoder("utf-8-sig")("replace")


def _feed_file(fh: Any, parser: StdoutParser, label: str) -> None:
    """Decode and parse ``fh`` chunk by chunk: a 3 GiB log is never held in memory whole, and a
    binary one is refused from its first chunk instead of after reading all of it."""
    data = fh.read(_CHUNK)
    decoder = _decoder(data, label)
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    replaced = total = 0
    while True:
        final = not data
        if not utf16 and b"\x00" in data:
            raise InputError("binary file, not a text log", label)
        try:
            text = decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            raise InputError("binary file, not a text log", label) from exc
        if not utf16:
            replaced += text.count("\ufffd")
            total += len(text)
            if replaced > max(16, total // 100):
                raise InputError("binary file, not a text log", label)
        parser.feed(text)
        if final:
            return
        data = fh.read(_CHUNK)


#: A section row of SB3's table: "| rollout/                |          |" (any width).
_SECTION_ROW = re.compile(r"^\|\s*(?:rollout|time|train|eval)/\s*\|", re.MULTILINE)
#: How much of a ``*.out`` / ``*.txt`` file is read to tell whether it is an SB3 console log:
#: a job's output may start with pip or CUDA chatter before the first table.
SNIFF_BYTES = 1 << 20


def looks_like_stdout(path: Path) -> bool:
    """Whether the start of ``path`` holds an SB3 table (UTF-8 or UTF-16, with or without ANSI
    codes and CRLF). Used for names that are not log names by themselves (``slurm-1234.out``,
    ``nohup.out``, ``train_output.txt``), so that a README.txt or rl-zoo's command.txt is not
    taken for a log."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data:
        return False
    else:
        text = data.decode("utf-8", errors="replace")
    return _SECTION_ROW.search(_ANSI.sub("", text).replace("\r", "")) is not None


def read_stdout(path: Path, known_keys: Iterable[str] = ()) -> list[SourceData]:
    """Read a captured stdout log (``Path('-')`` = stdin): one SourceData per printed run.

    :param known_keys: full metric names from other sources of the run (e.g. progress.csv)
        that truncated keys may stand for, besides :data:`KNOWN_KEYS`
    :raises InputError: the file cannot be read, is binary, or holds no SB3 table
    """
    label = "-" if str(path) == "-" else str(path)
    parser = StdoutParser(Path(path), known_keys)
    try:
        if str(path) == "-":
            _feed_file(sys.stdin.buffer, parser, label)
        else:
            with open(path, "rb") as fh:
                _feed_file(fh, parser, label)
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", label) from exc
    runs = parser.finish()
    if not runs:
        if parser.tables_seen:
            raise InputError("SB3 stdout tables found, but none has time/total_timesteps", label)
        raise InputError("no SB3 stdout table found (expected lines like '| time/ | |')", label)
    return runs


def _looks_like_env_id(text: str) -> bool:
    """An id gymnasium could register (``CartPole-v1``, ``ALE/Pong-v5``, ``ns/Name-v0``); the
    knowledge module is imported only when a banner is printed."""
    from sb3doctor.knowledge import looks_like_env_id

    return looks_like_env_id(text)
