"""Diagnosis accuracy of ``sb3doctor analyze`` on labelled real SB3 runs.

Every run folder under ``fixtures/`` (and every stdout log in ``fixtures/stdout/``) is a real
SB3 training. Its label is the set of categories ``analyze`` should report at warning or
error severity:

* the rl-zoo fixtures (``fixtures/manifest.json``) are healthy (empty set) unless
  :data:`LABELS` says otherwise, with the reason;
* a run folder whose ``config.json`` holds ``expected_categories`` (what ``sb3doctor train
  --preset`` writes, e.g. ``fixtures/presets/<name>``) gets those; a ``config.json`` that only
  names its ``preset`` gets the preset's ``expected_categories`` from ``sb3doctor.presets``.

``--runs DIR`` adds the run folders found under DIR (e.g. the ``--logdir`` of
``bench/validate_presets.py``), labelled the same way. All runs are analysed in one
``sb3doctor analyze --format json`` subprocess, so the committed fixtures take seconds.

Only warning/error findings count as predictions; info findings are listed per run but do
not count. Per category the script prints TP, FP, FN, precision and recall, then one row per
run. Exit 0 (it is a report) unless ``--check``: then exit 1 when a fault run misses one of
its categories or a healthy run has a warning/error.

Usage::

    python bench/accuracy.py
    python bench/accuracy.py --runs /tmp/preset-runs --check
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
sys.path.insert(0, str(ROOT))

from sb3doctor.presets import PRESETS  # noqa: E402

#: Fixture runs (path relative to fixtures/) whose label is not "healthy", and why.
LABELS: dict[str, tuple[set[str], str]] = {
    "ppo_lr_high/PPO_1": ({"lr_too_high"}, "constant learning_rate 0.03, 20 epochs"),
    # The manifest calls this run only "rl-zoo A2C at a fifth of the zoo budget": at 100k
    # steps its ep_rew_mean peaks at 333.85 and ends at 141.79, a real collapse that
    # RET-COLLAPSE reports; the label follows the data, not the intent of the config.
    "a2c_cartpole/A2C_1": ({"performance_collapse"}, "ep_rew_mean 333.85 peak -> 141.79 last"),
}

#: Files that mark a folder as an SB3 run folder.
_RUN_MARKERS = ("progress.csv", "progress.json", "monitor.csv", "0.monitor.csv", "config.json")


def _is_run_dir(path: Path) -> bool:
    if any((path / m).is_file() for m in _RUN_MARKERS):
        return True
    return any(p.name.startswith("events.out.tfevents") for p in path.iterdir() if p.is_file())


def find_runs(top: Path) -> list[Path]:
    """Run folders under ``top`` (a run folder's own subfolders are not searched)."""
    if _is_run_dir(top):
        return [top]
    out: list[Path] = []
    for sub in sorted(p for p in top.iterdir() if p.is_dir()):
        out.extend(find_runs(sub))
    return out


def label_of(run: Path) -> tuple[set[str], str]:
    """The expected warning/error categories of a run, and where the label comes from."""
    try:
        rel = run.resolve().relative_to(FIXTURES.resolve()).as_posix()
    except ValueError:
        rel = None
    if rel in LABELS:
        cats, why = LABELS[rel]
        return set(cats), why
    config = run / "config.json" if run.is_dir() else None
    if config is not None and config.is_file():
        data = json.loads(config.read_text())
        if isinstance(data, dict) and "expected_categories" in data:
            return set(data["expected_categories"]), f"config.json (preset {data.get('preset')})"
        if isinstance(data, dict) and data.get("preset") in PRESETS:
            return set(PRESETS[data["preset"]]["expected_categories"]), f"preset {data['preset']}"
    return set(), "healthy"


def analyze(paths: list[Path]) -> list[dict[str, Any]]:
    """The ``runs`` of one ``sb3doctor analyze --format json`` over ``paths``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "sb3doctor", "analyze", *map(str, paths), "--format", "json"]
    cmd += ["--fail-on", "never"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"sb3doctor analyze failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    runs: list[dict[str, Any]] = json.loads(proc.stdout)["runs"]
    return runs


def _rel(path: Path | str) -> str:
    p = Path(path).resolve()
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def main() -> int:
    """Analyse the labelled runs and print the accuracy tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=Path, action="append", default=[], help="extra folder of runs (repeatable)"
    )
    parser.add_argument("--no-fixtures", action="store_true", help="only the --runs folders")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 on a missed fault or a noisy healthy run"
    )
    args = parser.parse_args()

    targets: list[Path] = []
    if not args.no_fixtures:
        targets += [r for r in find_runs(FIXTURES) if r.name != "stdout"]
        targets += sorted((FIXTURES / "stdout").glob("*.log"))
    for extra in args.runs:
        if not extra.is_dir():
            raise SystemExit(f"accuracy: error: {extra}: not a folder")
        targets += find_runs(extra)
    if not targets:
        raise SystemExit("accuracy: error: no runs to analyse")

    t0 = time.perf_counter()
    runs = analyze(targets)
    elapsed = time.perf_counter() - t0
    by_path: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_path.setdefault(_rel(r["path"]), []).append(r)

    rows: list[tuple[str, set[str], set[str], set[str]]] = []
    missing: list[str] = []
    for target in targets:
        found = by_path.get(_rel(target))
        if not found:
            missing.append(_rel(target))
            continue
        expected, _ = label_of(target)
        for i, r in enumerate(found):
            # one stdout log may hold several runs (multi_run.log): one row each
            name = _rel(target) + (f" #{i + 1}" if len(found) > 1 else "")
            warn = {f["category"] for f in r["findings"] if f["severity"] in ("warning", "error")}
            info = {f["category"] for f in r["findings"] if f["severity"] == "info"} - warn
            rows.append((name, expected, warn, info))

    cats = sorted({c for _, e, w, _ in rows for c in e | w})
    print(f"{len(rows)} runs analysed in {elapsed:.1f}s (one `sb3doctor analyze --format json` call)\n")
    print("| category | TP | FP | FN | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|")
    for c in cats:
        tp = sum(1 for _, e, w, _ in rows if c in e and c in w)
        fp = sum(1 for _, e, w, _ in rows if c not in e and c in w)
        fn = sum(1 for _, e, w, _ in rows if c in e and c not in w)
        prec = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
        rec = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
        print(f"| {c} | {tp} | {fp} | {fn} | {prec} | {rec} |")
    healthy = [row for row in rows if not row[1]]
    noisy = [row for row in healthy if row[2]]
    n_warn = sum(len(row[2]) for row in healthy)
    print(
        f"\nhealthy runs: {len(healthy)}; with a warning/error: {len(noisy)}; "
        f"warning/error categories on them: {n_warn}\n"
    )
    print("| run | expected | found (warning/error) | found (info) | ok |")
    print("|---|---|---|---|---|")
    failures: list[str] = []
    for name, expected, warn, info in rows:
        ok = expected <= warn and (bool(expected) or not warn)
        if not ok:
            failures.append(name)
        print(
            f"| {name} | {', '.join(sorted(expected)) or '-'} | {', '.join(sorted(warn)) or '-'} "
            f"| {', '.join(sorted(info)) or '-'} | {'yes' if ok else 'NO'} |"
        )
    for m in missing:
        print(f"| {m} | (not in analyze output) | | | NO |")
    if args.check and (failures or missing):
        print(f"\ncheck failed: {', '.join(failures + missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
