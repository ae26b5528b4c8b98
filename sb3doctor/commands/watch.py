"""``sb3doctor watch``: diagnose runs live while they train.

Output: on a terminal, a live dashboard; otherwise (or with ``--format jsonl``) one JSON object
per line and event. With ``PATH = -`` the training output read from stdin is written to stdout
unchanged, at once, and the diagnosis goes to stderr so that it never mixes into it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Protocol

import click

from sb3doctor.commands.options import ENV_OPTION, TOTAL_TIMESTEPS_OPTION, stated_hyperparams
from sb3doctor.model import severity_rank


class _Sink(Protocol):
    def emit(self, events: Any) -> None: ...


class JsonlSink:
    """One JSON object per line and event, flushed at once (for scripts and ``jq``)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def emit(self, events: Any) -> None:
        """Write the events."""
        for e in events:
            self.stream.write(json.dumps(e.to_dict(), ensure_ascii=False) + "\n")
        self.stream.flush()


@click.command("watch")
@click.argument("path")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between polls of the log files.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["dashboard", "jsonl"]),
    default=None,
    help="dashboard (default on a terminal) or jsonl (default otherwise).",
)
@click.option(
    "--exit-on",
    type=click.Choice(["error", "warning"]),
    default=None,
    help="Exit with code 1 as soon as a finding of this severity (or worse) appears.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop after this many seconds without new data (default: never; stdin stops at EOF).",
)
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Language of the messages.")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    default=None,
    help="sb3doctor.yaml or pyproject.toml with rule overrides.",
)
@ENV_OPTION
@TOTAL_TIMESTEPS_OPTION
def watch_command(
    path: str,
    interval: float,
    fmt: str | None,
    exit_on: str | None,
    idle_timeout: float | None,
    lang: str | None,
    config: str | None,
    env_id: str | None,
    total_timesteps: int | None,
) -> int:
    """Diagnose the runs under PATH live, while they train.

    PATH is a log folder (new runs such as PPO_2 are picked up as they appear), a run folder,
    a stdout log being appended to, or - to read a pipe: python train.py | sb3doctor watch -

    Exit codes: 0 the input ended or went idle, 1 --exit-on triggered, 2 bad input, 130 Ctrl-C,
    143 SIGTERM (both after the run_finished events).
    """
    from sb3doctor.watch import make_evaluator

    given = stated_hyperparams(env_id, total_timesteps)
    evaluate = make_evaluator(config=config, lang=lang, given=given)
    threshold = severity_rank(exit_on) if exit_on else None
    if path == "-":
        return _watch_stdin(evaluate, interval, fmt, threshold, idle_timeout)
    return _watch_path(path, evaluate, interval, fmt, threshold, idle_timeout)


def _triggered(events: list[Any], threshold: int | None) -> bool:
    from sb3doctor.watch import worst_severity

    return threshold is not None and worst_severity(events) >= threshold


def _watch_path(
    path: str,
    evaluate: Any,
    interval: float,
    fmt: str | None,
    threshold: int | None,
    idle_timeout: float | None,
) -> int:
    from sb3doctor.watch import Watcher

    watcher = Watcher(path, evaluate)
    use_dashboard = fmt == "dashboard" or (fmt is None and sys.stdout.isatty())
    if not use_dashboard:
        return _loop(watcher, JsonlSink(sys.stdout), None, interval, threshold, idle_timeout)
    from sb3doctor.reporters.dashboard import Dashboard

    with Dashboard() as dash:
        return _loop(watcher, dash, dash, interval, threshold, idle_timeout)


def _raise_unreadable(path: Path) -> None:
    """Raise analyze's InputError for ``path`` when it holds log files and none can be read."""
    from sb3doctor.errors import NoLogFound
    from sb3doctor.sources import read_runs_tolerant

    with contextlib.suppress(NoLogFound):
        read_runs_tolerant(path)


class _Terminated(Exception):
    """SIGTERM arrived (a job scheduler or `kill` ending the watch)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated


def _loop(
    watcher: Any, sink: _Sink, dash: Any, interval: float, threshold: int | None, idle_timeout: float | None
) -> int:
    # SIGTERM is handled like Ctrl-C: the runs get their run_finished event, then exit 143.
    with contextlib.suppress(ValueError):  # not in the main thread (tests): keep the default
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        while True:
            started = time.monotonic()
            events = watcher.poll()
            sink.emit(events)
            if dash is not None:
                dash.update(watcher.runs.values())
            if _triggered(events, threshold):
                sink.emit(watcher.finish("exit-on"))
                return 1
            if idle_timeout is not None and watcher.idle_for() >= idle_timeout:
                if not watcher.any_started:
                    from sb3doctor.errors import quoted_path

                    # The same verdict as analyze on what is there: log files that cannot be
                    # read are that one-line error and exit 2; only a folder with no log at
                    # all (the training never wrote one) is "nothing to watch".
                    _raise_unreadable(watcher.path)
                    click.echo(
                        f"sb3doctor: no readable run appeared under {quoted_path(watcher.path)} within "
                        f"{idle_timeout:g} s (--idle-timeout): nothing to watch",
                        err=True,
                    )
                break
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
    except KeyboardInterrupt:
        sink.emit(watcher.finish("interrupted"))
        raise
    except _Terminated:
        sink.emit(watcher.finish("terminated"))
        return 143
    events = watcher.finish("idle")
    sink.emit(events)
    if dash is not None:
        dash.update(watcher.runs.values())
    return 1 if _triggered(events, threshold) else 0


class _Pump(threading.Thread):
    """Copy stdin to stdout chunk by chunk, unchanged and flushed at once; keep the text for parsing.

    ``os.read`` returns as soon as any bytes are there, so the training output reaches the
    terminal with no added buffering (carriage returns of progress bars included).
    """

    def __init__(self, fd_in: int, out: IO[bytes]) -> None:
        super().__init__(daemon=True, name="sb3doctor-watch-stdin")
        self.fd_in = fd_in
        self.out: IO[bytes] | None = out
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.chunks: list[bytes] = []
        self.eof = False

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd_in, 65536)
            except OSError:
                chunk = b""
            if self.out is not None and chunk:
                try:
                    self.out.write(chunk)
                    self.out.flush()
                except (BrokenPipeError, OSError, ValueError):
                    # Whoever read our stdout went away; keep diagnosing.
                    self.out = None
            with self.lock:
                if chunk:
                    self.chunks.append(chunk)
                else:
                    self.eof = True
            self.wake.set()
            if not chunk:
                return

    def take(self) -> tuple[bytes, bool]:
        """The bytes read since the last call, and whether the input has ended."""
        # Clear first: bytes arriving after this are either taken now or wake the next wait.
        self.wake.clear()
        with self.lock:
            data = b"".join(self.chunks)
            self.chunks.clear()
            eof = self.eof
        return data, eof


def _watch_stdin(
    evaluate: Any, interval: float, fmt: str | None, threshold: int | None, idle_timeout: float | None
) -> int:
    import codecs

    from sb3doctor.reporters.dashboard import LineSink
    from sb3doctor.watch import StreamWatcher

    # The diagnosis goes to stderr: stdout carries the training output, unchanged.
    sink: _Sink
    if fmt == "jsonl" or (fmt is None and not sys.stderr.isatty()):
        sink = JsonlSink(sys.stderr)
    else:
        sink = LineSink(sys.stderr)
    watcher = StreamWatcher(evaluate)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pump = _Pump(sys.stdin.fileno(), sys.stdout.buffer)
    sys.stdout.flush()
    pump.start()
    binary = False
    try:
        while True:
            # Wake as soon as the pump has bytes (latency ~ parse time), at the latest each interval.
            pump.wake.wait(interval)
            data, eof = pump.take()
            binary = binary or b"\x00" in data
            events = watcher.feed(decoder.decode(data, final=eof)) if data or eof else []
            sink.emit(events)
            if _triggered(events, threshold):
                sink.emit(watcher.finish("exit-on"))
                return 1
            if eof:
                break
            if idle_timeout is not None and watcher.idle_for() >= idle_timeout:
                break
    except KeyboardInterrupt:
        sink.emit(watcher.finish("interrupted"))
        raise
    events = watcher.finish("end of input" if pump.eof else "idle")
    sink.emit(events)
    if not watcher.any_started:
        # The input ended (or went idle) before any SB3 table: the training crashed before its
        # first dump, or this is not its output. Said as analyze says it, never a silent 0.
        from sb3doctor.errors import InputError

        if binary:
            raise InputError("binary file, not a text log", "-")
        waited = "" if pump.eof else f" within {idle_timeout:g} s (--idle-timeout)"
        raise InputError(f"no SB3 stdout table found{waited} (expected lines like '| time/ | |')", "-")
    return 1 if _triggered(events, threshold) else 0
