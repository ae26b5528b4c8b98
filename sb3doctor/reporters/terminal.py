"""The human view: per run a header, the findings worst first, then a metric summary.

Rendered with rich (``Console`` + ``Text`` only: ``rich.table`` alone costs more start-up
than the whole analysis). Colour only when asked (the CLI asks on a TTY). Rule texts are
appended as plain text, never parsed as rich markup, so ``vf=[256, 256]`` prints as is.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sb3doctor.engine import fmt_num
from sb3doctor.i18n import t
from sb3doctor.model import Finding, Run, Series, safe_fsum, severity_rank
from sb3doctor.reporters import Report, RunReport, evidence_parts

if TYPE_CHECKING:  # pragma: no cover
    from rich.text import Text

BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 24
SEVERITY_STYLE = {
    "error": "bold white on red",
    "warning": "bold black on yellow",
    "info": "bold white on blue",
}
HEALTH_STYLE = {"error": "red", "warning": "yellow", "info": "cyan", None: "green"}

#: Metrics summarised for every run that logs them, in this order.
KEY_METRICS: tuple[str, ...] = (
    "rollout/ep_rew_mean",
    "rollout/ep_len_mean",
    "rollout/success_rate",
    "train/approx_kl",
    "train/clip_fraction",
    "train/entropy_loss",
    "train/std",
    "train/explained_variance",
    "train/value_loss",
    "train/policy_gradient_loss",
    "train/policy_loss",
    "train/loss",
    "train/actor_loss",
    "train/critic_loss",
    "train/ent_coef",
    "rollout/exploration_rate",
    "train/learning_rate",
    "time/fps",
)


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH) -> str:
    """Unicode blocks ``▁..█``, one per bucket of points (bucket mean), scaled min..max.

    Non-finite buckets print as a space; a constant series prints as a flat line.
    """
    if not values:
        return ""
    n = len(values)
    buckets = min(width, n)
    means: list[float] = []
    for b in range(buckets):
        chunk = [v for v in values[b * n // buckets : (b + 1) * n // buckets] if math.isfinite(v)]
        means.append(safe_fsum(chunk) / len(chunk) if chunk else math.nan)
    return bars(means)


def bars(points: Sequence[float]) -> str:
    """One block ``▁..█`` per point, scaled between the finite min and max (NaN/inf: space)."""
    finite = [m for m in points if math.isfinite(m)]
    if not finite:
        return " " * len(points)
    lo, hi = min(finite), max(finite)
    # halved where the span itself overflows (-1e308 to 1e308): the proportions are the same
    half = not math.isfinite(hi - lo)
    span = hi / 2 - lo / 2 if half else hi - lo
    out = []
    for m in points:
        if not math.isfinite(m):
            out.append(" ")
        elif span <= 0:
            out.append(BLOCKS[3])
        else:
            frac = (m / 2 - lo / 2) / span if half else (m - lo) / span
            out.append(BLOCKS[min(7, max(0, int(frac * 8)))])
    return "".join(out)


def _steps_text(steps: tuple[int, int] | None) -> str:
    if steps is None:
        return "-"
    return f"{steps[0]:,}" if steps[0] == steps[1] else f"{steps[0]:,}-{steps[1]:,}"


def _header(run: Run, lang: str) -> Text:
    from rich.text import Text

    rng = run.step_range()
    head = Text()
    head.append(run.name, style="bold")
    if str(run.path) != run.name:
        head.append(f"  {run.path}", style="dim")
    head.append("\n  ")
    head.append(f"{t('algo', lang)}: ", style="dim")
    head.append(run.algo or t("algo_unknown", lang), style="bold cyan")
    # Which env the returns were judged against: without one, the return rules compare the run
    # only with its own start, and the user should know that and how to change it.
    from sb3doctor.reference import detect_env_id

    env_id, _ = detect_env_id(run)
    head.append(f"  {t('env', lang)}: ", style="dim")
    head.append(env_id or t("env_unknown", lang), style="bold cyan" if env_id else "yellow")
    head.append(f"  {t('steps', lang)}: ", style="dim")
    head.append(_steps_text(rng))
    head.append(f"\n  {t('sources', lang)}: ", style="dim")
    # Kinds, not file names: a run folder easily holds a dozen monitor files.
    n_files = len(run.source_files)
    head.append(", ".join(run.sources) or "-")
    head.append(
        f" ({n_files} {'file' if n_files == 1 else 'files'})" if lang != "zh" else f"（{n_files} 个文件）",
        style="dim",
    )
    return head


#: Full-width punctuation that closes a phrase: never the first character of a wrapped line.
_NO_LINE_START = frozenset("，。、；：！？）》」』】〉…")
#: The last word (or wide character) of a line, which closing punctuation pulls down with it.
_LAST_TOKEN = re.compile(r"(?:[\u2e80-\uffef]|[^\s\u2e80-\uffef]+)$")


def wrap_cells(text: str, room: int) -> list[str]:
    """Greedy word wrap by terminal cells (CJK characters take two cells and may break anywhere)."""
    from rich.cells import cell_len

    room = max(room, 20)
    lines: list[str] = []
    line = ""
    # Words, or single wide characters, each with the spaces that follow them.
    for token in re.findall(r"[\u2e80-\uffef]\s*|[^\s\u2e80-\uffef]+\s*|\s+", text):
        if line and cell_len(line + token.rstrip()) > room:
            carry = ""
            # A line must not start with closing punctuation (，。）...): the word or character
            # before it moves down with it, as Chinese typesetting does.
            last = _LAST_TOKEN.search(line.rstrip()) if token[0] in _NO_LINE_START else None
            if last is not None and last.start() > 0:
                carry, line = last.group(0), line.rstrip()[: last.start()]
            lines.append(line.rstrip())
            line = carry + token.lstrip()
        else:
            line += token
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _hanging(text: str, indent: int, width: int) -> str:
    """``text`` wrapped to ``width`` with every continuation line indented by ``indent``."""
    return ("\n" + " " * indent).join(wrap_cells(text, width - indent))


def _finding(f: Finding, lang: str, width: int) -> Text:
    from rich.cells import cell_len

    text = _title_line(f, lang, width)
    text.append("\n    " + _hanging(f.message, 4, width))
    parts = evidence_parts(f, lang)
    if f.steps is not None:
        parts.append(f"{t('at_steps', lang)} {_steps_text(f.steps)}")
    if parts:
        label = f"{t('evidence', lang)}: "
        text.append(f"\n    {label}", style="dim")
        text.append(_hanging(" · ".join(parts), 4 + cell_len(label), width), style="dim")
    for i, a in enumerate(f.advice):
        label = f"{t('advice', lang)}: "
        label = label if i == 0 else " " * cell_len(label)
        text.append(f"\n    {label}", style="dim")
        text.append(_hanging(a.text, 4 + cell_len(label), width), style="green")
    return text


#: The sparkline gives way first on a narrow terminal, down to this many blocks.
MIN_SPARK_WIDTH = 8


def _metric_rows(rr: RunReport, lang: str, width: int = 100) -> list[Text]:
    """One line per key metric: name, points, sparkline, first -> last, [min, max].

    Fitted to ``width`` without ever cutting a number: the sparkline narrows first, then the
    [min, max] range is left out, then the name column is shortened from the middle.
    """
    from rich.text import Text

    worst: dict[str, str] = {}
    for f in rr.findings:
        if f.metric and (f.metric not in worst or severity_rank(f.severity) > severity_rank(worst[f.metric])):
            worst[f.metric] = f.severity
    names = [m for m in KEY_METRICS if m in rr.run.metrics]
    names += sorted(m for m in worst if m in rr.run.metrics and m not in names)
    if not names:
        return []
    cells: list[tuple[str, Series, str, str, str, str]] = []
    for name in names:
        series: Series = rr.run.metrics[name]
        finite = [v for v in series.values if math.isfinite(v)]
        first_last = f"  {fmt_num(finite[0])} -> {fmt_num(finite[-1])}" if finite else ""
        last = fmt_num(finite[-1]) if finite else ""
        span = f"  [{fmt_num(min(finite))}, {fmt_num(max(finite))}]" if finite else ""
        bad = f"  {len(series) - len(finite)} non-finite" if len(finite) < len(series) else ""
        cells.append((name, series, first_last, last, span, bad))
    name_w = max(len(n) for n in names)
    fixed = 4 + 8  # indent, point count
    numbers = max(len(c[2]) + len(c[5]) for c in cells)
    ranges = max(len(c[4]) for c in cells)
    spark_w = SPARK_WIDTH
    show_range = True
    # Give way in order: sparkline, the range, the name column; the numbers always stay whole.
    overflow = fixed + name_w + spark_w + numbers + ranges - width
    if overflow > 0:
        spark_w = max(MIN_SPARK_WIDTH, spark_w - overflow)
        overflow = fixed + name_w + spark_w + numbers + ranges - width
    if overflow > 0:
        show_range = False
        overflow -= ranges
    if overflow > 0:
        name_w = max(12, name_w - overflow)
    rows = [Text(f"  {t('metrics', lang)}", style="bold")]
    for name, series, first_last, last, span, bad in cells:
        style = HEALTH_STYLE[worst.get(name)]
        shown = name if len(name) <= name_w else name[: (name_w - 1) // 2] + "…" + name[-(name_w // 2) :]
        row = Text("    ")
        row.append(shown.ljust(name_w), style=style)
        row.append(f" {len(series):>6} ")
        row.append(sparkline(series.values, spark_w), style=style)
        if first_last:
            row.append(first_last[: len(first_last) - len(last)])
            row.append(last, style="bold")
            if show_range:
                row.append(span, style="dim")
        if bad:
            row.append(bad, style="bold red")
        rows.append(row)
    return rows


def _title_line(f: Finding, lang: str, width: int) -> Text:
    """``ERROR  RULE-ID name  metric``; on a narrow terminal the metric moves to its own line."""
    from rich.text import Text

    text = Text("  ")
    if f.caused_by is not None:
        # A consequence sits under its root cause, indented, and says so.
        text.append(f"  ↳ {t('because_of', lang)} {f.caused_by}: ", style="dim")
    text.append(f" {t(f.severity, lang).upper()} ", style=SEVERITY_STYLE[f.severity])
    text.append(f" {f.rule}", style="bold")
    name = f" {f.name}"
    metric = f"  {f.metric}" if f.metric else ""
    if text.cell_len + len(name) + len(metric) <= width:
        text.append(name, style="dim")
        if metric:
            text.append(metric, style="cyan")
        return text
    if text.cell_len + len(name) <= width:
        text.append(name, style="dim")
    if metric:
        text.append("\n    " + metric.strip(), style="cyan")
    return text


def render(report: Report, *, lang: str = "en", color: bool = False, width: int | None = None) -> str:
    """The report as terminal text (ANSI colour codes only when ``color``)."""
    from rich.console import Console

    buf = io.StringIO()
    console = Console(
        file=buf,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width or 100,
        highlight=False,
        emoji=False,
        markup=False,
    )
    for i, rr in enumerate(report.runs):
        if i:
            console.print()
        console.print(_header(rr.run, lang))
        if rr.findings:
            for f in rr.findings:
                console.print(_finding(f, lang, console.width))
        else:
            style = "bold green" if rr.evidence().enough else "bold yellow"
            console.print(f"  {rr.clean_text(lang)}", style=style)
        for row in _metric_rows(rr, lang, console.width):
            console.print(row, overflow="ellipsis", no_wrap=True)
    if report.findings:
        console.print()
        console.print(t("all_runs", lang), style="bold")
        for f in report.findings:
            console.print(_finding(f, lang, console.width))
    counts = report.summary()
    console.print()
    line = (
        f"{t('summary', lang)}: {counts['runs']} {t('runs', lang)} · {counts['error']} {t('error', lang)}"
        f" · {counts['warning']} {t('warning', lang)} · {counts['info']} {t('info', lang)}"
    )
    worst = report.worst()
    console.print(line, style=HEALTH_STYLE[worst] if worst != "info" else "cyan")
    return buf.getvalue()
