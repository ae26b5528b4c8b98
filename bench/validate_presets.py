"""Train every fault preset on CPU, analyze each run, and score the diagnoses.

For each preset this script runs ``sb3doctor train --preset NAME --device cpu`` (one torch
thread per run, ``--jobs`` runs at a time), prints the key metrics of the run read straight
from its ``progress.csv`` (so the measurement does not depend on sb3doctor's readers), then
runs ``sb3doctor analyze RUN --format json`` and compares the categories found with the
preset's ``expected_categories``. At the end it prints a confusion table (preset ->
categories) and per-category precision/recall over all presets.

Usage::

    python bench/validate_presets.py                   # all presets, 2 at a time
    python bench/validate_presets.py --presets lr-too-high healthy --jobs 1
    python bench/validate_presets.py --logdir runs/ --json results.json
    python bench/validate_presets.py --presets healthy lr-too-high no-time-limit \
        --fixtures fixtures/presets  # regenerate the committed fixtures

The whole set takes about 10 minutes on 2 cores. ``analyze`` failing (e.g. not
implemented yet) is reported in the table, not fatal.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sb3doctor.presets import PRESETS  # noqa: E402


def _column(rows: list[dict[str, str]], key: str) -> list[float]:
    out = []
    for row in rows:
        raw = row.get(key, "")
        if raw not in ("", None):
            try:
                out.append(float(raw))
            except ValueError:
                continue
    return out


def _median(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.median(finite) if finite else float("nan")


def _longest_frozen(rows: list[dict[str, str]]) -> tuple[int, int]:
    """Longest run of consecutive tables with identical ep_rew_mean and ep_len_mean, and
    the timesteps it spans."""
    best = (1, 0)
    start = 0
    keyed = [
        (row.get("rollout/ep_rew_mean"), row.get("rollout/ep_len_mean"), float(row["time/total_timesteps"]))
        for row in rows
        if row.get("rollout/ep_len_mean") not in ("", None)
    ]
    for i in range(1, len(keyed) + 1):
        if i == len(keyed) or keyed[i][:2] != keyed[start][:2]:
            length = i - start
            if length > best[0]:
                best = (length, int(keyed[i - 1][2] - keyed[start][2]))
            start = i
    return best


def summarize(run_dir: Path) -> dict[str, Any]:
    """Key metrics of a run, from its progress.csv."""
    with (run_dir / "progress.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    out: dict[str, Any] = {"tables": len(rows)}
    rew = _column(rows, "rollout/ep_rew_mean")
    if rew:
        out["ep_rew_first"], out["ep_rew_max"], out["ep_rew_last"] = rew[0], max(rew), rew[-1]
    length = _column(rows, "rollout/ep_len_mean")
    if length:
        out["ep_len_first"], out["ep_len_last"] = length[0], length[-1]
    succ = _column(rows, "rollout/success_rate")
    if succ:
        out["success_last"] = succ[-1]
    kl = _column(rows, "train/approx_kl")
    if kl:
        out["approx_kl_median20"] = _median(kl[-20:])
    clip = _column(rows, "train/clip_fraction")
    if clip:
        out["clip_fraction_median20"] = _median(clip[-20:])
    ent = _column(rows, "train/entropy_loss")
    if ent and ent[0] != 0:
        out["entropy_ratio_last"] = ent[-1] / ent[0]
        out["entropy_ratio_min"] = min(e / ent[0] for e in ent)
    ev = _column(rows, "train/explained_variance")
    if ev:
        out["ev_median_2nd_half"] = _median(ev[len(ev) // 2 :])
    vl = _column(rows, "train/value_loss")
    if vl:
        out["value_loss_median5"] = _median(vl[-5:])
    eps = _column(rows, "rollout/exploration_rate")
    if eps:
        out["exploration_rate_last"] = eps[-1]
    loss = _column(rows, "train/loss")
    if loss and not kl:
        out["loss_median5"] = _median(loss[-5:])
    frozen, span = _longest_frozen(rows)
    out["frozen_tables"], out["frozen_steps"] = frozen, span
    return out


def _env(threads: int = 1) -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_preset(name: str, logdir: Path, seed: int, timesteps: int | None) -> dict[str, Any]:
    """Train one preset, summarize it and analyze it."""
    cmd = [sys.executable, "-m", "sb3doctor", "train", "--preset", name, "--device", "cpu"]
    cmd += ["--logdir", str(logdir / name), "--seed", str(seed), "--no-progress"]
    if timesteps is not None:
        cmd += ["--timesteps", str(timesteps)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=ROOT)
    result: dict[str, Any] = {"preset": name, "train_s": round(time.perf_counter() - t0, 1)}
    if proc.returncode != 0:
        result["error"] = f"train exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}"
        return result
    runs = sorted((logdir / name).glob("*_[0-9]*"), key=lambda p: p.stat().st_mtime)
    run_dir = runs[-1]
    result["run"] = str(run_dir)
    result["metrics"] = summarize(run_dir)
    ana = subprocess.run(
        [sys.executable, "-m", "sb3doctor", "analyze", str(run_dir), "--format", "json"],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    try:
        report = json.loads(ana.stdout)
        findings = [f for r in report["runs"] for f in r["findings"]]
        result["categories"] = sorted({f["category"] for f in findings})
        result["rules"] = sorted({f"{f['rule']}({f['severity']})" for f in findings})
    except (json.JSONDecodeError, KeyError, TypeError):
        lines = (ana.stderr or ana.stdout).strip().splitlines()
        result["analyze_error"] = lines[-1] if lines else f"exit {ana.returncode}"
    return result


def score(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per-category precision and recall of the categories found vs expected."""
    tp: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    for r in results:
        if "categories" not in r:
            continue
        expected = set(PRESETS[r["preset"]]["expected_categories"])
        found = set(r["categories"])
        for c in found & expected:
            tp[c] += 1
        for c in found - expected:
            fp[c] += 1
        for c in expected - found:
            fn[c] += 1
    out = {}
    for c in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else float("nan")
        rc = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else float("nan")
        out[c] = {"tp": tp[c], "fp": fp[c], "fn": fn[c], "precision": p, "recall": rc}
    return out


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="*", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=None, help="override every preset's budget")
    parser.add_argument("--logdir", type=Path, default=None, help="keep the runs here (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=None, help="write the results as JSON")
    parser.add_argument(
        "--fixtures", type=Path, default=None, help="copy each run (without model.zip) to FIXTURES/<preset>/"
    )
    args = parser.parse_args()

    tmp = None
    if args.logdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="sb3doctor-presets-")
        args.logdir = Path(tmp.name)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_preset, n, args.logdir, args.seed, args.timesteps) for n in args.presets]
        results = []
        for fut in futures:
            r = fut.result()
            results.append(r)
            metrics = ", ".join(f"{k}={_fmt(v)}" for k, v in r.get("metrics", {}).items())
            print(f"[{r['preset']}] {r['train_s']}s  {r.get('error', '')}{metrics}", flush=True)

    print(f"\nall presets trained and analyzed in {time.perf_counter() - t0:.0f}s\n")
    print(f"{'preset':<20} {'expected':<28} {'found':<50} ok")
    for r in results:
        expected = PRESETS[r["preset"]]["expected_categories"]
        if "categories" in r:
            found = ", ".join(r["categories"]) or "-"
            ok = "yes" if set(expected) <= set(r["categories"]) else "NO"
        else:
            found = f"({r.get('analyze_error') or r.get('error')})"
            ok = "?"
        print(f"{r['preset']:<20} {', '.join(expected) or '-':<28} {found:<50} {ok}")
    scores = score(results)
    if scores:
        print(f"\n{'category':<28} {'tp':>3} {'fp':>3} {'fn':>3} {'precision':>9} {'recall':>7}")
        for c, s in scores.items():
            print(
                f"{c:<28} {s['tp']:>3} {s['fp']:>3} {s['fn']:>3} {s['precision']:>9.2f} {s['recall']:>7.2f}"
            )
    if args.fixtures is not None:
        for r in results:
            if "run" in r:
                dest = args.fixtures / r["preset"]
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(r["run"], dest, ignore=shutil.ignore_patterns("model.zip"))
                print(f"fixture: {dest}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "scores": scores}, indent=2) + "\n")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
