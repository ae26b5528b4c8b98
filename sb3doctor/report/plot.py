"""``sb3doctor plot``: one run's metrics as a PNG/SVG/PDF, for papers and PR comments.

Drawn with matplotlib's object API (no pyplot, no global state, no display needed): the raw
curve faint, the debiased-EMA smoothed curve over it (the HTML report's smoothing), the rule's
healthy band shaded and the step window of each finding on that metric highlighted and labelled
with its rule id. Long series are min/max decimated after smoothing so an SVG stays small.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from sb3doctor.errors import SB3DoctorError
from sb3doctor.model import Finding, Run
from sb3doctor.report import data as rd

#: Above this many points a curve is min/max decimated (after smoothing) to this many buckets.
PLOT_BUCKETS = 4000

_SEV_COLOR = {"error": "#cf222e", "warning": "#d4a72c", "info": "#57606a"}
_LABELS = {
    "raw": {"en": "raw", "zh": "原始"},
    "smoothed": {"en": "smoothed ({w:.2f})", "zh": "平滑 ({w:.2f})"},
    "band": {"en": "healthy band ({rules})", "zh": "健康范围 ({rules})"},
    "steps": {"en": "timesteps", "zh": "时间步"},
}


def _label(key: str, lang: str) -> str:
    return _LABELS[key].get(lang) or _LABELS[key]["en"]


def _cjk_font() -> str | None:
    """A font with Chinese glyphs, if one is installed (else the labels fall back to English)."""
    from matplotlib import font_manager

    for name in ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Source Han Sans SC"):
        try:
            font_manager.findfont(name, fallback_to_default=False)
        except ValueError:
            continue
        return name
    return None


def plot_run(
    run: Run,
    findings: Sequence[Finding],
    metrics: list[str],
    out: Path,
    *,
    smoothing: float = rd.DEFAULT_SMOOTHING,
    lang: str = "en",
) -> None:
    """Draw ``metrics`` of ``run`` (default: its return curve) into ``out`` (format by suffix).

    :raises SB3DoctorError: a metric the run does not log (with the closest names), or the
        file cannot be written
    """
    from matplotlib.figure import Figure

    if not metrics:
        found = rd.return_series(run)
        if found is None:
            raise SB3DoctorError("this run logs no return curve: name one with --metric", run.path)
        metrics = [found[0]]
    for metric in metrics:
        if metric not in run.metrics or not len(run.metrics[metric]):
            close = difflib.get_close_matches(metric, list(run.metrics), n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise SB3DoctorError(f"run {run.name} has no metric {metric!r}{hint}", run.path)
    if lang == "zh" and _cjk_font() is None:
        lang = "en"  # no font to draw Chinese with: English rather than empty boxes
    rc: dict[str, Any] = {
        "font.family": ["sans-serif"],
        "font.sans-serif": [_cjk_font() or "DejaVu Sans", "DejaVu Sans"],
        "svg.hashsalt": "sb3doctor",  # fixed SVG ids: the same run gives the same file
    }

    import matplotlib

    with matplotlib.rc_context(cast(Any, rc)):  # matplotlib types the keys as a Literal
        fig = Figure(figsize=(8, 2.6 * len(metrics) + 0.4), layout="constrained")
        axes = fig.subplots(len(metrics), 1, sharex=True, squeeze=False)[:, 0]
        for ax, metric in zip(axes, metrics, strict=True):
            _draw(ax, run, findings, metric, smoothing, lang)
        axes[-1].set_xlabel(_label("steps", lang))
        fig.suptitle(run.name, fontsize=11)
        try:
            fig.savefig(out, dpi=150, metadata=_metadata(out))
        except OSError as exc:
            raise SB3DoctorError(f"cannot write the image ({exc.strerror})", out) from None


def _metadata(out: Path) -> dict[str, str | None]:
    # No creation date in SVG/PDF, so the same run gives the same file.
    suffix = out.suffix.lower()
    if suffix == ".svg":
        return {"Date": None}
    if suffix == ".pdf":
        return {"CreationDate": None}
    return {}


def _draw(ax: object, run: Run, findings: Sequence[Finding], metric: str, w: float, lang: str) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    s = run.metrics[metric].sorted()
    x = np.frombuffer(s.steps, dtype=np.int64).astype(float)
    y = np.frombuffer(s.values, dtype=np.float64)
    smooth = rd.ema(y, w)
    if len(x) > 2 * PLOT_BUCKETS:
        x, (y, smooth) = rd.minmax_decimate(x, [y, smooth], PLOT_BUCKETS)
    band = rd.HEALTHY_BANDS.get(metric)
    if band is not None and band.applies(run.algo):
        ax.axhspan(
            band.low,
            band.high,
            color="#2ea043",
            alpha=0.14,
            lw=0,
            label=_label("band", lang).format(rules=", ".join(band.rules)),
        )
    drawn = 0
    for f in findings:
        # A finding on this metric; one on no metric (or one the run does not log) on the returns.
        own = f.metric == metric
        elsewhere = (f.metric is None or f.metric not in run.metrics) and metric in rd.RETURN_METRICS
        if f.steps is None or not (own or elsewhere):
            continue
        color = _SEV_COLOR.get(f.severity, "#57606a")
        lo, hi = float(f.steps[0]), float(f.steps[1])
        if hi <= lo:
            hi = lo + max(1.0, (float(x[-1]) - float(x[0])) / 300)
        ax.axvspan(lo, hi, color=color, alpha=0.16, lw=0)
        ax.axvline(lo, color=color, lw=0.8, alpha=0.8)
        ax.annotate(
            f.rule,
            xy=(lo, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3 - 9 * drawn),  # one line per finding: windows often start together
            textcoords="offset points",
            va="top",
            fontsize=7,
            color=color,
        )
        drawn += 1
    if w > 0:
        ax.plot(x, y, color="#1f77b4", alpha=0.25, lw=0.8, label=_label("raw", lang))
    ax.plot(x, smooth, color="#1f77b4", lw=1.5, label=_label("smoothed", lang).format(w=w))
    ax.set_ylabel(metric, fontsize=9)
    ax.grid(True, alpha=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No artists with labels" on an empty axes
        ax.legend(fontsize=7, loc="best")
