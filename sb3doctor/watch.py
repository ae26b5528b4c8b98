"""Live diagnosis: follow SB3 logs while they grow and report findings as they start and stop holding.

The watcher reuses the readers in :mod:`sb3doctor.sources` incrementally (each poll reads only
the bytes appended since the previous one; a half-written record or table stays buffered for
the next poll) and the same engine as ``analyze``. It holds no rule logic: it only keeps one
growing :class:`~sb3doctor.model.Run` per run, re-evaluates the rules on runs that grew, and
diffs the set of active findings (keyed by rule id) against the previous poll.

The merge of a run's sources is kept incremental too (see :class:`RunState`): rebuilding the
metric table with :func:`sb3doctor.sources.build_run` costs time proportional to the whole run,
which on a run grown to a million scalars is more than a poll interval allows.
"""

from __future__ import annotations

import codecs
import os
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sb3doctor.errors import InputError, NoLogFound
from sb3doctor.model import Finding, Run, Series, SourceData, severity_rank
from sb3doctor.sources import build_run
from sb3doctor.sources.detect import detect_algo
from sb3doctor.sources.discover import (
    CONFIG,
    MONITOR,
    PROGRESS_CSV,
    PROGRESS_JSON,
    SCALARS_SUBFOLDER,
    STDOUT,
    TENSORBOARD,
    ZOO_CONFIG,
    RunFiles,
    discover,
)
from sb3doctor.sources.hyperparams import recover_hyperparams
from sb3doctor.sources.merge import kind_rank

#: The events a watcher emits, in the order they can occur for one run.
EVENT_KINDS: tuple[str, ...] = ("run_started", "finding_raised", "finding_cleared", "run_finished")

#: ``evaluate(run) -> findings``: the engine with its rules and configuration bound.
Evaluator = Callable[[Run], list[Finding]]


@dataclass
class WatchEvent:
    """One thing that happened while watching: a run appeared, a finding started or stopped holding."""

    kind: str
    run: str
    path: str
    time: float
    step: int | None = None
    algo: str | None = None
    finding: Finding | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the event fields, then the finding's fields as in ``analyze --format json``."""
        out: dict[str, Any] = {
            "event": self.kind,
            "time": round(self.time, 3),
            "run": self.run,
            "path": self.path,
            "algo": self.algo,
            "step": self.step,
        }
        out.update(self.extra)
        if self.finding is not None:
            out["finding"] = self.finding.to_dict()
        return out


# --------------------------------------------------------------------------- tails


class Tail(Protocol):
    """Reads one log file (or one group of monitor files) incrementally."""

    #: True when :meth:`poll` returns the whole file again (replace), False when only new points.
    replaces: bool

    def poll(self) -> list[tuple[int, SourceData]]:
        """New points since the last poll as ``(printed run index, data)`` pairs.

        The index is 0 except for a stdout log that holds several printed runs one after
        another (a script training several models): each gets its own index.
        """
        ...

    def finish(self) -> list[tuple[int, SourceData]]:
        """End of input: what was still buffered (facts and warnings of a cut-off table)."""
        ...


def _has_news(data: SourceData) -> bool:
    return bool(data.warnings or data.facts or any(len(s) for s in data.metrics.values()))


class EventTail:
    """An event file, read with the TFRecord tail reader of :mod:`sb3doctor.sources.tensorboard`."""

    replaces = False

    def __init__(self, path: Path) -> None:
        from sb3doctor.sources.tensorboard import EventFileTail

        self.path = path
        self._tail = EventFileTail(path)

    def poll(self) -> list[tuple[int, SourceData]]:
        data = self._tail.poll()
        return [(0, data)] if _has_news(data) else []

    def finish(self) -> list[tuple[int, SourceData]]:
        return []


class TextTail:
    """SB3 stdout text, fed to :class:`~sb3doctor.sources.stdout.StdoutParser` as it arrives.

    With a path, :meth:`poll` reads the bytes appended to the file since the previous poll;
    :meth:`feed` takes text directly (``watch -``). The parser keeps a half-written line or
    table for the next chunk; bytes are decoded with an incremental decoder (UTF-8, or UTF-16
    when the file starts with its BOM, as PowerShell's ``>`` writes it, like ``analyze`` reads
    it) so that a character cut by a write boundary is completed by the next chunk.

    A log that is truncated, or replaced by a new file under the same name (log rotation), is
    read again from its start, and :attr:`restarted` tells the watcher to drop the points it
    had from the old content instead of mixing them with the new.
    """

    replaces = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self._identity: tuple[int, int] | None = None
        self.restarted = False
        self._reset()

    def _reset(self) -> None:
        from sb3doctor.sources.stdout import StdoutParser

        self._parser = StdoutParser(self.path)
        self._offset = 0
        self._decoder: codecs.IncrementalDecoder | None = None  # chosen from the first bytes
        self._warned: dict[int, int] = {}
        self._facts: dict[int, int] = {}

    def _decode(self, chunk: bytes, final: bool = False) -> str:
        if self._decoder is None:
            if not chunk and not final:
                return ""
            utf16 = chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
            name = "utf-16" if utf16 else "utf-8-sig"
            self._decoder = codecs.getincrementaldecoder(name)(errors="replace")
        return self._decoder.decode(chunk, final=final)

    def poll(self) -> list[tuple[int, SourceData]]:
        try:
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                identity = (st.st_dev, st.st_ino)
                if st.st_size < self._offset or (self._identity not in (None, identity)):
                    self._reset()  # truncated, or rotated to a new file: start over
                    self.restarted = True
                self._identity = identity
                if st.st_size == self._offset:
                    return []
                fh.seek(self._offset)
                chunk = fh.read(st.st_size - self._offset)
        except PermissionError as exc:
            raise InputError("permission denied: cannot read it", self.path) from exc
        except OSError as exc:
            raise InputError(f"cannot read it ({exc.strerror or exc})", self.path) from exc
        self._offset += len(chunk)
        return self.feed(self._decode(chunk))

    def feed(self, text: str) -> list[tuple[int, SourceData]]:
        """Parse ``text`` (a chunk of stdout); return the points of the tables it completed."""
        return self._collect(self._parser.feed(text))

    def finish(self) -> list[tuple[int, SourceData]]:
        rest = self._decode(b"", final=True)
        tables = self._parser.feed(rest) if rest else []
        self._parser.finish()
        return self._collect(tables, final=True)

    def _collect(self, tables: list[Any], final: bool = False) -> list[tuple[int, SourceData]]:
        runs = self._parser.runs
        out: dict[int, SourceData] = {}
        for table in tables:
            data = out.get(table.run)
            if data is None:
                data = out[table.run] = SourceData("stdout", self.path)
            for key, value in table.values.items():
                data.series(key).append(table.step, value)
        idxs = set(out) | (set(range(len(runs))) if final else set())
        for idx in idxs:
            data = out.setdefault(idx, SourceData("stdout", self.path))
            if idx < len(runs):
                src = runs[idx]
                if len(src.facts) != self._facts.get(idx, -1):
                    data.facts = dict(src.facts)
                    self._facts[idx] = len(src.facts)
                seen = self._warned.get(idx, 0)
                data.warnings = list(src.warnings[seen:])
                self._warned[idx] = len(src.warnings)
        return [(i, out[i]) for i in sorted(out) if _has_news(out[i])]


class RereadTail:
    """progress.csv/json and monitor.csv: re-read whole when their size or mtime changes.

    These files hold one row per dump (a few hundred bytes), so a run that grew to a million
    scalars has a progress.csv of ~1-2 MB; re-reading it only when it changed is cheap enough
    and follows the header rewrites SB3 does when new keys appear without special cases.
    """

    replaces = True

    def __init__(self, kind: str, paths: list[Path]) -> None:
        self.kind = kind
        self.paths = paths
        self._stamp: tuple[tuple[int, int], ...] | None = None

    def poll(self) -> list[tuple[int, SourceData]]:
        from sb3doctor.sources import monitor, progress

        try:
            stamp = tuple((st.st_size, st.st_mtime_ns) for st in (os.stat(p) for p in self.paths))
        except OSError:
            return []
        if stamp == self._stamp:
            return []
        self._stamp = stamp
        try:
            if self.kind == PROGRESS_CSV:
                data = progress.read_progress_csv(self.paths[0])
            elif self.kind == PROGRESS_JSON:
                data = progress.read_progress_json(self.paths[0])
            else:
                data = monitor.read_monitor(self.paths)
        except InputError:
            # Being written (e.g. only a header so far): try again at the next change.
            self._stamp = None
            return []
        return [(0, data)]

    def finish(self) -> list[tuple[int, SourceData]]:
        return []


# --------------------------------------------------------------------------- one run


class _LiveRun(Run):
    """A :class:`Run` whose series the watcher keeps sorted, so its step range costs O(metrics).

    ``Run.step_range`` scans every step (``max``), which on a run grown to a million scalars
    would make each poll cost time proportional to the whole run.
    """

    sorted_ok = False

    def step_range(self) -> tuple[int, int] | None:
        """First and last step over all metrics (read off the ends of the sorted series)."""
        if not self.sorted_ok:
            return super().step_range()
        ends = [(s.steps[0], s.steps[-1]) for s in self.metrics.values() if len(s)]
        if not ends:
            return None
        return min(e[0] for e in ends), max(e[1] for e in ends)


@dataclass
class _Merged:
    """One metric of a run's merged table, grown in place.

    ``owner`` maps each step to the rank of the source kind that supplied it; it is only built
    once a second source kind brings the same metric (a run folder with both an event file and
    a progress.csv), so the common one-source run pays nothing for it.
    """

    series: Series
    kinds: set[str]
    owner: dict[int, tuple[int, int]] | None = None
    unsorted: bool = False


class RunState:
    """A run being watched: its accumulated sources, merged metric table and active findings."""

    def __init__(self, path: Path, name: str, config: dict[str, Any] | None = None) -> None:
        self.path = path
        self.name = name
        self.config = config or {}
        self.tails: dict[str, Tail] = {}
        self.sources: dict[str, SourceData] = {}
        self.run = _LiveRun(path=path, name=name)
        self._merged: dict[str, _Merged] = {}
        self.active: dict[str, Finding] = {}
        self.started = False
        self.finished = False
        #: the training is over (the log went idle, the stream ended, the next run began): the
        #: last verdict judges it as a finished run, not as a prefix of one
        self.ended = False
        self.dirty = False
        self.last_growth = time.monotonic()
        # (monotonic time, last step) samples to report steps/s over the last few seconds.
        self.progress: list[tuple[float, int]] = []

    # -- input

    def add(self, key: str, kind: str, data: SourceData, *, replace: bool = False) -> None:
        """Add the points a tail returned for source ``key`` (a file path) of ``kind``."""
        have = self.sources.get(key)
        if have is None or replace:
            # A Monitor is placed on the logger's steps as a whole (Atari's frames, see
            # sources.frames), so its points are never merged one by one.
            if (have is not None and replace) or kind == MONITOR:
                # A re-read source replaces its earlier points: rebuild the table from scratch.
                self.sources[key] = data
                self._rebuild()
                self._touch()
                return
            self.sources[key] = data
        else:
            for metric, series in data.metrics.items():
                have.series(metric).extend(series)
            have.warnings.extend(data.warnings)
            for k, v in data.facts.items():
                if isinstance(v, list) and isinstance(have.facts.get(k), list):
                    have.facts[k].extend(v)
                else:
                    have.facts.setdefault(k, v)
        self.run.warnings.extend(data.warnings)
        for k, v in data.facts.items():
            self.run.facts.setdefault(k, v)
        if kind not in self.run.sources:
            self.run.sources = sorted({*self.run.sources, kind})
        if data.path not in self.run.source_files:
            self.run.source_files.append(data.path)
        for metric, series in data.metrics.items():
            if len(series):
                self._merge_metric(metric, kind, series)
        self._touch()

    def _touch(self) -> None:
        self.run.sorted_ok = False
        self.dirty = True
        self.last_growth = time.monotonic()

    def _merge_metric(self, metric: str, kind: str, new: Series) -> None:
        m = self._merged.get(metric)
        if m is None:
            m = self._merged[metric] = _Merged(Series(new.steps[:], new.values[:], new.wall_times[:]), {kind})
            m.unsorted = not m.series.is_sorted()
            return
        s = m.series
        if m.kinds == {kind}:
            if (len(s) and new.steps[0] < s.steps[-1]) or not new.is_sorted():
                m.unsorted = True
            s.extend(new)
            if m.owner is not None:
                rank = kind_rank(kind)
                for step in new.steps:
                    m.owner.setdefault(step, rank)
            return
        # Several kinds carry this metric: the most precise kind wins at equal steps, the others
        # only add steps it lacks (the rule of sources.merge.merge_sources).
        if m.owner is None:
            (only,) = m.kinds
            rank = kind_rank(only)
            m.owner = dict.fromkeys(s.steps, rank)
        m.kinds.add(kind)
        rank = kind_rank(kind)
        for i, step in enumerate(new.steps):
            have = m.owner.get(step)
            if have is None or have == rank:
                if len(s) and step < s.steps[-1]:
                    m.unsorted = True
                s.append(step, new.values[i], new.wall_times[i])
                m.owner[step] = rank
            elif rank < have:
                # A more precise source arrived after a less precise one for the same step
                # (e.g. the event file lagged behind the stdout log): redo this metric.
                self._rebuild_metric(metric)
                return

    def _rebuild_metric(self, metric: str) -> None:
        from sb3doctor.sources.merge import merge_sources

        parts = [
            SourceData(src.kind, src.path, {metric: src.metrics[metric]})
            for src in self.sources.values()
            if metric in src.metrics
        ]
        merged = merge_sources(parts)[metric]
        kinds = {p.kind for p in parts}
        owner: dict[int, tuple[int, int]] = {}
        for p in sorted(parts, key=lambda p: kind_rank(p.kind)):
            rank = kind_rank(p.kind)
            for step in p.metrics[metric].steps:
                owner.setdefault(step, rank)
        self._merged[metric] = _Merged(merged, kinds, owner if len(kinds) > 1 else None)

    def _rebuild(self) -> None:
        """Rebuild the whole table from the accumulated sources (after a source was replaced)."""
        fresh = build_run(self.path, self.name, list(self.sources.values()), self.config)
        self._merged = {}
        for metric, series in fresh.metrics.items():
            kinds = {src.kind for src in self.sources.values() if metric in src.metrics}
            self._merged[metric] = _Merged(series, kinds)
            if len(kinds) > 1:
                self._rebuild_metric(metric)
        self.run.sources = fresh.sources
        self.run.source_files = fresh.source_files
        self.run.facts = fresh.facts
        self.run.warnings = fresh.warnings

    # -- evaluation

    def snapshot(self) -> Run:
        """The run as the engine sees it: metrics sorted by step, algorithm and hyperparameters."""
        for m in self._merged.values():
            if m.unsorted:
                m.series = m.series.sorted()
                m.unsorted = False
        run = self.run
        if len(run.metrics) != len(self._merged) or any(
            run.metrics.get(k) is not m.series for k, m in self._merged.items()
        ):
            run.metrics = {k: self._merged[k].series for k in sorted(self._merged)}
        run.sorted_ok = True
        names = [self.name, self.path.name]
        if isinstance(run.facts.get("log_dir"), str):
            names.insert(0, run.facts["log_dir"])
        if isinstance(self.config.get("algo"), str):
            names.insert(0, self.config["algo"])
        run.algo = detect_algo(run.metrics.keys(), names)
        run.hyperparams = recover_hyperparams(run, self.config)
        run.live = not self.ended
        return run

    def end(self) -> None:
        """The training is over: evaluate it once more as a finished run."""
        if not self.ended:
            self.ended = True
            from sb3doctor.sources.frames import may_count_frames

            if may_count_frames(list(self.sources.values()), self.config):
                # an Atari Monitor's episodes were placed on the tables there were at its last
                # change (sources.frames): place them once more on all of them
                self._rebuild()
            self.dirty = bool(self._merged)

    @property
    def last_step(self) -> int | None:
        """The largest step seen in any metric."""
        rng = self.run.step_range() if self.run.metrics else None
        return rng[1] if rng else None

    def steps_per_second(self, window: float = 10.0) -> float | None:
        """Training speed seen by the watcher over the last ``window`` seconds of its polls."""
        if len(self.progress) < 2:
            return None
        now_t, now_s = self.progress[-1]
        for t, s in self.progress:
            if now_t - t <= window and t < now_t:
                return (now_s - s) / (now_t - t) if now_s >= s else None
        return None

    def update(self, evaluate: Evaluator, now: float) -> list[WatchEvent]:
        """Re-evaluate a run that grew and return the events its change of findings causes."""
        events: list[WatchEvent] = []
        if not self.dirty:
            return events
        self.dirty = False
        if not self._merged:
            return events
        run = self.snapshot()
        step = self.last_step
        if step is not None:
            self.progress.append((time.monotonic(), step))
            del self.progress[:-64]
        findings = evaluate(run)  # first: the evaluator adds what the user stated (--env)
        if not self.started:
            self.started = True
            from sb3doctor.reference import detect_env_id

            # as analyze names it: --env or a config, else a Monitor header, printed output or
            # the folder name
            env, _ = detect_env_id(run)
            extra = {"sources": list(run.sources), "env": env}
            events.append(self._event("run_started", now, step, extra=extra))
        current = {f.rule: f for f in findings}
        for rule, f in current.items():
            old = self.active.get(rule)
            if old is None:
                events.append(self._event("finding_raised", now, step, f))
            elif old.severity != f.severity:
                # Escalated (or eased): announce again so that --exit-on error sees it.
                extra = {"previous_severity": old.severity}
                events.append(self._event("finding_raised", now, step, f, extra))
        for rule, old in self.active.items():
            if rule not in current:
                events.append(self._event("finding_cleared", now, step, old))
        self.active = current
        return events

    def finish_event(self, now: float, reason: str) -> WatchEvent:
        """The ``run_finished`` event, with a summary of what is still active."""
        self.finished = True
        counts = {sev: 0 for sev in ("info", "warning", "error")}
        for f in self.active.values():
            counts[f.severity] = counts.get(f.severity, 0) + 1
        return self._event(
            "run_finished",
            now,
            self.last_step,
            extra={"reason": reason, "points": self.run.num_points, "active": counts},
        )

    def _event(
        self,
        kind: str,
        now: float,
        step: int | None,
        finding: Finding | None = None,
        extra: dict[str, Any] | None = None,
    ) -> WatchEvent:
        return WatchEvent(
            kind, self.name, str(self.path), now, step, self.run.algo, finding, dict(extra or {})
        )


# --------------------------------------------------------------------------- watchers


def make_evaluator(
    config: str | Path | None = None, lang: str | None = None, given: Mapping[str, Any] | None = None
) -> Evaluator:
    """The engine with the built-in rules and the user's configuration bound: ``run -> findings``.

    :param config: an ``sb3doctor.yaml`` / ``pyproject.toml`` (as ``--config``); None looks for
        one in the current folder, as ``analyze`` does
    :param given: hyperparameters the user stated (``env_id`` from ``--env``,
        ``planned_timesteps`` from ``--total-timesteps``): they win over what the logs suggest
    :raises ConfigError: the configuration or a rule file is invalid
    """
    from sb3doctor.config import load_config
    from sb3doctor.engine import evaluate
    from sb3doctor.ruleset import builtin_rules, load_rules

    cfg = load_config(config)
    rules = builtin_rules()
    if cfg.extra_rules:
        rules += load_rules(cfg.extra_rules)
    # Overrides are applied once here, not at every poll (select() re-parses overridden rules).
    rules = cfg.select(rules)
    chosen = lang or cfg.lang or "en"

    stated = dict(given or {})

    def run_rules(run: Run) -> list[Finding]:
        if stated:
            run.hyperparams.update(stated)  # recovered afresh from the logs at every poll
        return evaluate(run, rules, None, chosen)

    return run_rules


def _read_config(files: Mapping[str, list[Path]]) -> dict[str, Any]:
    """The run's config.json and rl-zoo config.yml / args.yml, as analyze reads them."""
    from sb3doctor.sources import read_run_config

    try:
        return read_run_config(files)
    except InputError:
        return {}  # a config half-written: use the logs alone until it is complete


class _Watch:
    """What both watchers share: the runs, their updates and the end of input."""

    def __init__(self, evaluate: Evaluator) -> None:
        self.evaluate = evaluate
        self.runs: dict[str, RunState] = {}
        self._started = time.monotonic()
        #: Monitor file -> the run folder it was joined to (see :meth:`_keep_monitor_joins`)
        self._monitor_owner: dict[str, str] = {}
        #: Monitor-only folders watched as runs of their own: folder -> its Monitor files
        self._monitor_alone: dict[str, list[str]] = {}

    def _state(self, key: str, path: Path, name: str) -> RunState:
        state = self.runs.get(key)
        if state is None:
            state = self.runs[key] = RunState(path, name)
        return state

    def _apply(
        self, base: RunState, key: str, kind: str, pairs: list[tuple[int, SourceData]], replace: bool
    ) -> list[WatchEvent]:
        """Add a tail's output; a stdout log's later printed runs become runs ``name#2``, ..."""
        events: list[WatchEvent] = []
        for idx, data in pairs:
            if idx == 0:
                state = base
            else:
                state = self._state(f"{base.path}#{idx + 1}", base.path, f"{base.name}#{idx + 1}")
                # A new printed run means the previous one of the same log is over.
                prev = base if idx == 1 else self.runs.get(f"{base.path}#{idx}")
                if prev is not None and prev.started and not prev.finished and not state.started:
                    prev.end()
                    events.extend(prev.update(self.evaluate, time.time()))
                    events.append(prev.finish_event(time.time(), "next run started"))
            state.add(key, kind, data, replace=replace)
        return events

    def _updates(self, now: float) -> list[WatchEvent]:
        events: list[WatchEvent] = []
        for state in list(self.runs.values()):
            if not state.finished or state.dirty:
                events.extend(state.update(self.evaluate, now))
        return events

    def idle_for(self) -> float:
        """Seconds since any watched run last grew, or since watching began while no run has
        appeared: a script waiting on ``watch --idle-timeout`` must not hang forever on an empty
        folder or a training job that crashed before writing anything."""
        started = [s.last_growth for s in self.runs.values() if s.started]
        return time.monotonic() - (max(started) if started else self._started)

    @property
    def any_started(self) -> bool:
        """Whether any run has produced data yet."""
        return any(s.started for s in self.runs.values())

    def _keep_monitor_joins(self, found: list[RunFiles]) -> list[RunFiles]:
        """Monitor files joined to a run stay with it (``sources.pairing`` judges each poll
        afresh, and a second ``learn()`` starting ``PPO_2`` would make the Monitor ambiguous
        and split it off again, its episodes then reported twice); a Monitor folder watched on
        its own before its training's event file appeared is forgotten once joined: the run
        reads its files from the start, so the half-run it was is not reported beside it."""
        by_path = {str(rf.path): rf for rf in found}
        for rf in found:
            if TENSORBOARD in rf.files:
                for path in rf.files.get(MONITOR, []):
                    self._monitor_owner[str(path)] = str(rf.path)
        kept: list[RunFiles] = []
        for rf in found:
            owners = {self._monitor_owner.get(str(p)) for p in rf.files.get(MONITOR, [])}
            owner_key = owners.pop() if set(rf.files) == {MONITOR} and len(owners) == 1 else None
            owner = by_path.get(owner_key) if owner_key is not None else None
            if owner is None:
                if set(rf.files) == {MONITOR}:
                    self._monitor_alone[str(rf.path)] = [str(p) for p in rf.files[MONITOR]]
                kept.append(rf)
                continue
            for path in rf.files[MONITOR]:
                if path not in owner.files.get(MONITOR, []):
                    owner.add(MONITOR, path)
        for key, paths in list(self._monitor_alone.items()):
            owners = {self._monitor_owner.get(p) for p in paths}
            if None not in owners and key not in owners:
                del self._monitor_alone[key]
                state = self.runs.get(key)
                if state is not None and not state.finished:
                    del self.runs[key]
        return kept

    def _finish_tails(self) -> list[WatchEvent]:
        return []

    def finish(self, reason: str, now: float | None = None) -> list[WatchEvent]:
        """Flush buffered input and close every started run with a ``run_finished`` event.

        ``reason`` ``idle`` or ``end of input`` means the training is over, so the runs get a
        last verdict as finished runs; on any other reason (interrupted, exit-on) they may
        still be training and keep their verdict as prefixes.
        """
        now = time.time() if now is None else now
        events = self._finish_tails()
        if reason in ("idle", "end of input"):
            for state in self.runs.values():
                if state.started and not state.finished:
                    state.end()
        events.extend(self._updates(now))
        for state in self.runs.values():
            if state.started and not state.finished:
                events.append(state.finish_event(now, reason))
        return events


class Watcher(_Watch):
    """Follow every run under a path (a log folder, a run folder or one growing log file).

    Each :meth:`poll` lists the runs again (so ``PPO_2`` appearing later is picked up), reads
    the bytes appended to each file since the previous poll, and re-evaluates runs that grew.
    """

    def __init__(self, path: str | Path, evaluate: Evaluator) -> None:
        super().__init__(evaluate)
        self.path = Path(path)
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise InputError("no such file or directory", self.path) from None
        except OSError as exc:  # a name too long, a symlink loop: exists() would raise too
            raise InputError(f"cannot access it ({exc.strerror or exc})", self.path) from None
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            raise InputError("not a regular file or folder", self.path)
        self._tails: dict[str, list[tuple[RunState, str, str, Tail]]] = {}

    def _discover(self) -> list[RunFiles]:
        from sb3doctor.sources import attach_add_scalars, attach_zoo_tensorboard
        from sb3doctor.sources.pairing import attach_monitor_folders

        try:
            # The same runs as analyze: an rl-zoo folder with its event file, add_scalars
            # sub-folders inside their run.
            return attach_monitor_folders(attach_add_scalars(attach_zoo_tensorboard(discover(self.path))))
        except NoLogFound:
            if self.path.is_dir():
                return []  # training has not written anything yet
            raise

    def poll(self, now: float | None = None) -> list[WatchEvent]:
        """Read what was appended since the last poll; return the events it caused."""
        now = time.time() if now is None else now
        events: list[WatchEvent] = []
        for rf in self._keep_monitor_joins(self._discover()):
            state = self._state(str(rf.path), rf.path, rf.name)
            if (CONFIG in rf.files or ZOO_CONFIG in rf.files) and not state.config:
                state.config = _read_config(rf.files)
            # Most precise kinds first so that, within one poll, they own the steps they share.
            for kind in sorted(rf.files, key=kind_rank):
                if kind in (CONFIG, ZOO_CONFIG):
                    continue
                paths = rf.files[kind]
                for group in [paths] if kind == MONITOR else [[p] for p in paths]:
                    key = "|".join(str(p) for p in group)
                    tail = state.tails.get(key)
                    if tail is None:
                        tail = state.tails[key] = _make_tail(kind, group)
                    pairs = tail.poll()
                    # A rotated stdout log starts over: its new points replace the old ones.
                    restarted = False
                    if isinstance(tail, TextTail) and tail.restarted:
                        tail.restarted, restarted = False, True
                    # add_scalars sub-folders are event files of the run, as analyze reads them
                    source_kind = TENSORBOARD if kind == SCALARS_SUBFOLDER else kind
                    events.extend(self._apply(state, key, source_kind, pairs, tail.replaces or restarted))
        events.extend(self._updates(now))
        return events

    def _finish_tails(self) -> list[WatchEvent]:
        events: list[WatchEvent] = []
        for state in list(self.runs.values()):
            for key, tail in list(state.tails.items()):
                kind = STDOUT if isinstance(tail, TextTail) else TENSORBOARD
                events.extend(self._apply(state, key, kind, tail.finish(), False))
        return events


class ScalarsTail(EventTail):
    """The event file of an ``add_scalars`` sub-folder: its tags named as analyze names them."""

    def poll(self) -> list[tuple[int, SourceData]]:
        from sb3doctor.sources import scalars_subfolder_names

        pairs = super().poll()
        for _, data in pairs:
            data.metrics = scalars_subfolder_names(self.path, data.metrics)
        return pairs


def _make_tail(kind: str, paths: list[Path]) -> Tail:
    if kind == TENSORBOARD:
        return EventTail(paths[0])
    if kind == SCALARS_SUBFOLDER:
        return ScalarsTail(paths[0])
    if kind == STDOUT:
        return TextTail(paths[0])
    return RereadTail(kind, paths)


class StreamWatcher(_Watch):
    """Diagnose SB3 stdout arriving as text chunks (``sb3doctor watch -``).

    The caller reads the stream (and passes it through unchanged); this class only parses.
    """

    def __init__(self, evaluate: Evaluator, name: str = "stdin") -> None:
        super().__init__(evaluate)
        self.state = self._state("-", Path("-"), name)
        self.tail = TextTail(Path("-"))

    def feed(self, text: str, now: float | None = None) -> list[WatchEvent]:
        """Parse a chunk of stdout; return the events caused by the tables it completed."""
        now = time.time() if now is None else now
        events = self._apply(self.state, "-", STDOUT, self.tail.feed(text), False)
        events.extend(self._updates(now))
        return events

    def _finish_tails(self) -> list[WatchEvent]:
        return self._apply(self.state, "-", STDOUT, self.tail.finish(), False)


def worst_severity(events: Iterable[WatchEvent]) -> int:
    """Highest severity rank among ``finding_raised`` events (-1 when there is none)."""
    ranks = [severity_rank(e.finding.severity) for e in events if e.kind == "finding_raised" and e.finding]
    return max(ranks, default=-1)
