"""Merge the sources of one run into one metric table.

Per metric, the most precise source wins (event file / csv / json over stdout, whose
floats carry 3 significant digits). Points that only a less precise source has (e.g. the
stdout tables printed after the event file was cut off, or keys that SB3 excludes from
TensorBoard such as ``time/iterations``) are added at their steps.
"""

from __future__ import annotations

from sb3doctor.model import SOURCE_PRECISION, Series, SourceData

# Among equally precise sources that both carry a metric, take the first of this list:
# they log the same dump, so mixing them would duplicate every point.
_KIND_PREFERENCE = ["tensorboard", "progress_csv", "progress_json", "monitor", "stdout"]


def kind_rank(kind: str) -> tuple[int, int]:
    """Sort key for source kinds: most precise first, then the preferred kind among equals."""
    pref = _KIND_PREFERENCE.index(kind) if kind in _KIND_PREFERENCE else len(_KIND_PREFERENCE)
    return SOURCE_PRECISION.get(kind, 9), pref


def merge_sources(sources: list[SourceData]) -> dict[str, Series]:
    """Merge per-source metric tables into one, each series sorted by step."""
    by_kind: dict[str, list[SourceData]] = {}
    for src in sources:
        by_kind.setdefault(src.kind, []).append(src)
    kinds = sorted(by_kind, key=kind_rank)

    merged: dict[str, Series] = {}
    for kind in kinds:
        # Files of one kind (e.g. event files of restarts) are concatenated in order.
        combined: dict[str, Series] = {}
        for src in by_kind[kind]:
            for metric, series in src.metrics.items():
                if len(series) == 0:
                    continue
                if metric in combined:
                    combined[metric].extend(series)
                else:
                    combined[metric] = Series(series.steps[:], series.values[:], series.wall_times[:])
        for metric, series in combined.items():
            have = merged.get(metric)
            if have is None:
                merged[metric] = series
                continue
            known = set(have.steps)
            for i, step in enumerate(series.steps):
                if step not in known:
                    have.append(step, series.values[i], series.wall_times[i])
    return {metric: series.sorted() for metric, series in sorted(merged.items())}
