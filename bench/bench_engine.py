"""Benchmark the rule engine: ``engine.evaluate`` on a typical run and on a 1M-scalar run.

Reads SB3 PPO-shaped event files from ``bench/data/`` (generated with ``bench/_gen_events.py``
when missing, as ``bench/bench_readers.py`` does), then times ``sb3doctor.engine.evaluate``
with the built-in rules on each run. The peer is the engine as committed at a git revision
(``--against``, default ``HEAD``): its ``conditions.py`` and ``engine.py`` are loaded from
``git show`` into throwaway modules, so the comparison needs no stash or checkout. Both must
return the same findings (checked), and the speed-up of the working tree over the peer is
printed. Also times whole-process ``sb3doctor analyze fixtures/ppo_cartpole --format json``
(median of ``--cli-runs``), the path that must stay light.

Usage::

    python bench/bench_engine.py                 # against HEAD
    python bench/bench_engine.py --against 68f06d2 --reps 5
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA = ROOT / "bench" / "data"
RUNS = {
    "typical": (5_859, DATA / "typical" / "PPO_1" / "events.out.tfevents.1700000000.bench.1.0"),
    "1M": (1_000_000, DATA / "1m" / "PPO_1" / "events.out.tfevents.1700000000.bench.1.0"),
}


def ensure_files() -> None:
    """Generate the event files that are missing."""
    import _gen_events

    for name, (n, path) in RUNS.items():
        if not path.exists():
            print(f"generating {name}: {n:,} scalars -> {path.relative_to(ROOT)}", flush=True)
            _gen_events.write_ppo_file(path, n)


def _module_from_source(name: str, source: str) -> ModuleType:
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up in sys.modules
    exec(compile(source, f"<{name}>", "exec"), mod.__dict__)
    return mod


def load_peer_engine(rev: str) -> ModuleType:
    """``sb3doctor/engine.py`` at ``rev``, wired to ``sb3doctor/conditions.py`` at ``rev``."""

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    _module_from_source("_peer_conditions", show("sb3doctor/conditions.py"))
    engine_src = show("sb3doctor/engine.py").replace(
        "from sb3doctor.conditions import", "from _peer_conditions import"
    )
    return _module_from_source("_peer_engine", engine_src)


def _finding_key(f: Any) -> tuple:
    return (
        f.rule,
        f.severity,
        f.metric,
        f.message,
        f.observed,
        f.threshold,
        f.steps,
        [a.text for a in f.advice],
    )


def time_eval(evaluate: Any, run: Any, rules: list, reps: int) -> tuple[float, list]:
    """Median seconds of ``evaluate(run, rules)`` over ``reps`` calls, and its findings."""
    times = []
    findings: list = []
    for _ in range(reps):
        t0 = time.perf_counter()
        findings = evaluate(run, rules)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), findings


def cli_time(runs: int) -> float:
    """Median whole-process wall time of ``sb3doctor analyze fixtures/ppo_cartpole --format json``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "sb3doctor", "analyze", "fixtures/ppo_cartpole", "--format", "json"]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Time both engines on both runs; print a table and one JSON line per result."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default="HEAD", help="git revision of the peer engine (default HEAD)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per run (median)")
    ap.add_argument("--cli-runs", type=int, default=10, help="analyze whole-process repetitions (0: skip)")
    args = ap.parse_args()

    ensure_files()
    from sb3doctor.engine import evaluate
    from sb3doctor.ruleset import builtin_rules
    from sb3doctor.sources import read_runs

    peer = load_peer_engine(args.against)
    rules = builtin_rules()
    head = f"{'run':>8} {'points/metric':>14} {'rules':>6} {'peer s':>9} {'now s':>9} {'speed-up':>9}"
    print(head + "  same findings")
    for name, (n, path) in RUNS.items():
        (run,) = read_runs(path.parent)
        per_metric = max(len(s) for s in run.metrics.values())
        t_peer, f_peer = time_eval(peer.evaluate, run, rules, args.reps)
        t_now, f_now = time_eval(evaluate, run, rules, args.reps)
        same = [_finding_key(f) for f in f_peer] == [_finding_key(f) for f in f_now]
        print(
            f"{name:>8} {per_metric:>14,} {len(rules):>6} {t_peer:>9.4f} {t_now:>9.4f} "
            f"{t_peer / t_now:>8.1f}x  {same}"
        )
        print(
            json.dumps(
                {
                    "bench": "engine",
                    "run": name,
                    "scalars": n,
                    "peer": args.against,
                    "peer_s": t_peer,
                    "now_s": t_now,
                    "findings": len(f_now),
                    "same_findings": same,
                }
            )
        )
    if args.cli_runs:
        t = cli_time(args.cli_runs)
        print(f"analyze fixtures/ppo_cartpole --format json: median {t * 1e3:.0f} ms of {args.cli_runs}")
        print(json.dumps({"bench": "analyze_cli", "median_s": t, "runs": args.cli_runs}))


if __name__ == "__main__":
    main()
