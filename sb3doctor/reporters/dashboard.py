"""The live terminal dashboard of ``sb3doctor watch`` (rich ``Live``), and its plain-line sibling.

One panel per watched run: the latest value and a sparkline of its key metrics, each coloured
by the worst active finding about it; the active findings with their advice; and the speed in
steps/s. Events (a finding raised or cleared, a run started or finished) are printed once,
above the live area, so the scroll-back keeps a log of what happened.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from sb3doctor.model import Advice, Finding, Series, severity_rank
from sb3doctor.reporters.terminal import HEALTH_STYLE, bars

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console, RenderableType
    from rich.live import Live

    from sb3doctor.watch import RunState, WatchEvent

#: Metrics shown first when a run has them (the ones most rules read).
KEY_METRICS: tuple[str, ...] = (
    "rollout/ep_rew_mean",
    "rollout/ep_len_mean",
    "rollout/success_rate",
    "eval/mean_reward",
    "train/approx_kl",
    "train/clip_fraction",
    "train/entropy_loss",
    "train/explained_variance",
    "train/value_loss",
    "train/policy_loss",
    "train/loss",
    "train/actor_loss",
    "train/critic_loss",
    "train/ent_coef",
    "rollout/exploration_rate",
    "train/std",
    "train/learning_rate",
    "time/fps",
)
_MAX_ROWS = 12
_MARKS = {"error": "✗", "warning": "!", "info": "i"}
#: What the run header says while no env is known: the one option that would name it.
ENV_UNKNOWN = "env unknown (give --env)"


def sparkline(values: Sequence[float], width: int = 24) -> str:
    """Unicode bars for the last ``width`` values (NaN/inf shown as a space)."""
    return bars(values[-width:])


def format_value(x: float) -> str:
    """Compact number: 3 significant digits, like SB3's own table."""
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == int(x) and abs(x) < 1e7:
        return str(int(x))
    return f"{x:.3g}"


def metric_health(metric: str, findings: Iterable[Finding]) -> str | None:
    """The worst severity among active findings about ``metric`` (None when none is)."""
    worst: str | None = None
    for f in findings:
        if f.metric == metric and (worst is None or severity_rank(f.severity) > severity_rank(worst)):
            worst = f.severity
    return worst


def advice_text(a: Advice) -> str:
    """The advice sentence, or ``param: current -> suggested`` when the rule gave none."""
    return a.text or f"{a.param}: {a.current} -> {a.suggested}"


def event_line(event: WatchEvent) -> str:
    """One plain line for an event (for a terminal that is not showing the dashboard)."""
    head = f"[{event.run}]"
    step = f" at step {event.step}" if event.step is not None else ""
    f = event.finding
    if event.kind == "finding_raised" and f is not None:
        line = f"{head} {_MARKS.get(f.severity, '?')} {f.severity} {f.rule} {f.name}{step}: {f.message}"
        for a in f.advice:
            line += f"\n{head}     -> {advice_text(a)}"
        return line
    if event.kind == "finding_cleared" and f is not None:
        return f"{head} ✓ cleared {f.rule} {f.name}{step}"
    if event.kind == "run_started":
        env = event.extra.get("env") or ENV_UNKNOWN
        return f"{head} started ({event.algo or 'algorithm unknown'}, {env}, {event.path})"
    if event.kind == "run_finished":
        reason = event.extra.get("reason", "")
        active = event.extra.get("active", {})
        return f"{head} finished{step} ({reason}); active: " + ", ".join(
            f"{n} {sev}" for sev, n in active.items()
        )
    return f"{head} {event.kind}"


def _event_style(event: WatchEvent) -> str:
    if event.kind == "finding_raised" and event.finding is not None:
        return HEALTH_STYLE.get(event.finding.severity, "white")
    if event.kind == "finding_cleared":
        return "green"
    return "bold"


class Dashboard:
    """A rich ``Live`` view of the watched runs; events are printed above it."""

    def __init__(self, console: Console | None = None, *, refresh_per_second: float = 4.0) -> None:
        from rich.console import Console

        self.console = console or Console()
        self._refresh = refresh_per_second
        self._live: Live | None = None

    def __enter__(self) -> Dashboard:
        from rich.live import Live
        from rich.text import Text

        self._live = Live(
            Text("waiting for SB3 logs..."),
            console=self.console,
            refresh_per_second=self._refresh,
            transient=False,
        )
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def emit(self, events: Iterable[WatchEvent]) -> None:
        """Print each event once, above the live area."""
        from rich.text import Text

        for e in events:
            self.console.print(Text(event_line(e), style=_event_style(e)))

    def update(self, states: Iterable[RunState]) -> None:
        """Redraw the panels from the runs' current state."""
        if self._live is not None:
            self._live.update(self.render(list(states)))

    def render(self, states: list[RunState]) -> RenderableType:
        """The panels of all runs that have data (most recent last)."""
        from rich.console import Group
        from rich.text import Text

        panels = [self._panel(s) for s in states if s.started]
        if not panels:
            return Text("waiting for SB3 logs...", style="dim")
        return Group(*panels)

    def _panel(self, state: RunState) -> RenderableType:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        run = state.run
        findings = sorted(state.active.values(), key=lambda f: (-severity_rank(f.severity), f.rule))
        table = Table(box=None, show_header=True, header_style="dim", pad_edge=False)
        table.add_column("metric")
        table.add_column("last", justify="right")
        table.add_column("trend")
        table.add_column("n", justify="right", style="dim")
        for name in _pick_metrics(run.metrics, findings):
            series: Series = run.metrics[name]
            health = metric_health(name, findings)
            colour = HEALTH_STYLE[health]
            table.add_row(
                Text(name, style=colour),
                Text(format_value(series.values[-1]), style=colour),
                Text(sparkline(series.values), style=colour),
                str(len(series)),
            )
        lines: list[RenderableType] = [table]
        for f in findings:
            mark = _MARKS.get(f.severity, "?")
            text = Text(f"{mark} {f.rule} {f.name}: {f.message}", style=HEALTH_STYLE[f.severity])
            lines.append(text)
            for a in f.advice:
                lines.append(Text(f"    -> {advice_text(a)}", style="dim"))
        if not findings:
            lines.append(Text("✓ no active findings", style="green"))
        speed = state.steps_per_second()
        env = run.hyperparams.get("env_id")
        env_text = env if isinstance(env, str) and env else ENV_UNKNOWN
        title = f"{state.name} · {run.algo or '?'} · {env_text} · step {state.last_step or 0:,}"
        if speed is not None:
            title += f" · {speed:,.0f} steps/s"
        worst = findings[0].severity if findings else None
        return Panel(Group(*lines), title=title, title_align="left", border_style=HEALTH_STYLE[worst])


def _pick_metrics(metrics: dict[str, Series], findings: list[Finding]) -> list[str]:
    chosen = [f.metric for f in findings if f.metric in metrics and len(metrics[f.metric])]
    for name in KEY_METRICS:
        if name in metrics and len(metrics[name]) and name not in chosen:
            chosen.append(name)
    out: list[str] = []
    for name in chosen:
        if name is not None and name not in out:
            out.append(name)
    return out[:_MAX_ROWS]


class LineSink:
    """Plain event lines to a stream (``watch -`` on a terminal: findings go to stderr)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def emit(self, events: Iterable[WatchEvent]) -> None:
        """Write one line (plus advice lines) per event."""
        for e in events:
            self.stream.write(event_line(e) + "\n")
        self.stream.flush()
