"""Benchmark sb3doctor's event-file reader against tbparse and TensorBoard's EventAccumulator.

Generates SB3 PPO-shaped event files into ``bench/data/`` (gitignored) with
``bench/_gen_events.py`` (byte-identical to what SB3 writes through torch's SummaryWriter;
``python bench/_gen_events.py --check DIR`` verifies that), then, in one run:

1. times the three readers side by side on each file, every repetition of every method in
   a fresh interpreter (imports excluded from the timing, reported separately), checks that
   all three return the same scalars (count, and per tag the exact sums of steps and values),
   and prints seconds, scalars/s, MB/s and sb3doctor's speed-up over each peer;
2. measures the peak RSS of a process reading the 5M-scalar file with sb3doctor
   (``ru_maxrss``) against the file size (target <= 3x);
3. measures whole-process wall time of ``sb3doctor export`` on a typical 1M-timestep PPO run
   (5,859 scalars) and of ``python -c "import sb3doctor"`` (medians; target well under 0.2 s).

Usage::

    python bench/bench_readers.py            # everything (EventAccumulator/tbparse on 5M: minutes)
    python bench/bench_readers.py --quick    # skip the peers on the 5M file, fewer repetitions

Targets from research/perf-baseline.md: >= 30x tbparse throughput on the 1M-scalar file,
peak memory <= 3x the file size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
FILES = {
    # name: (scalars, path)
    "typical": (5_859, DATA / "typical" / "PPO_1" / "events.out.tfevents.1700000000.bench.1.0"),
    "1M": (1_000_000, DATA / "1m" / "PPO_1" / "events.out.tfevents.1700000000.bench.1.0"),
    "5M": (5_000_000, DATA / "5m" / "PPO_1" / "events.out.tfevents.1700000000.bench.1.0"),
}
METHODS = {
    "sb3doctor": "sb3doctor read_event_file",
    "tbparse": "tbparse SummaryReader(path).scalars",
    "event_accumulator": "EventAccumulator(size_guidance={'scalars': 0}).Reload()",
}


# ----------------------------------------------------------------------------- worker side


def _worker(method: str, path: str) -> None:
    """Read ``path`` with ``method`` and print timing, checksums and peak RSS as JSON."""
    t0 = time.perf_counter()
    if method == "sb3doctor":
        from sb3doctor.sources.tensorboard import read_event_file
    elif method == "tbparse":
        from tbparse import SummaryReader
    else:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    t_import = time.perf_counter() - t0

    t0 = time.perf_counter()
    if method == "sb3doctor":
        src = read_event_file(Path(path))
        seconds = time.perf_counter() - t0
        sums = {tag: (len(s), sum(s.steps), math.fsum(s.values)) for tag, s in src.metrics.items()}
    elif method == "tbparse":
        df = SummaryReader(path).scalars
        seconds = time.perf_counter() - t0
        sums = {
            tag: (len(g), int(g["step"].sum()), math.fsum(g["value"].astype("float64").tolist()))
            for tag, g in df.groupby("tag")
        }
    else:
        ea = EventAccumulator(path, size_guidance={"scalars": 0})
        ea.Reload()
        events = {tag: ea.Scalars(tag) for tag in ea.Tags()["scalars"]}
        seconds = time.perf_counter() - t0
        sums = {
            tag: (len(evs), sum(e.step for e in evs), math.fsum(e.value for e in evs))
            for tag, evs in events.items()
        }
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"seconds": seconds, "import_s": t_import, "sums": sums, "maxrss_kib": rss_kib}))


# ----------------------------------------------------------------------------- driver side


# Byte-code caching on, as in a normal install (some shells here set PYTHONDONTWRITEBYTECODE,
# which makes every process recompile every module); one thread for numpy/torch.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_ENV.update({"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})


def _run_worker(method: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_ENV,
    )
    if out.returncode:
        raise SystemExit(f"{method} on {path} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ensure_files(names: list[str]) -> None:
    """Generate the benchmark files that are missing."""
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    import _gen_events

    for name in names:
        n, path = FILES[name]
        if not path.exists():
            print(f"generating {name}: {n:,} scalars -> {path.relative_to(ROOT)}", flush=True)
            _gen_events.write_ppo_file(path, n)


def _fmt_s(x: float) -> str:
    return f"{x:.4f}" if x < 1 else f"{x:.2f}"


def bench_readers(
    names: list[str], repeat: int, quick: bool, peer_runs: int | None = None
) -> dict[str, dict[str, list[dict]]]:
    """Time every method on every file; rotate the order of methods between repetitions.

    :param peer_runs: at most this many runs of tbparse / EventAccumulator per file
        (they take minutes on the big files); default: ``repeat``
    """
    results: dict[str, dict[str, list[dict]]] = {}
    for name in names:
        n, path = FILES[name]
        methods = list(METHODS)
        if quick and name == "5M":
            methods = ["sb3doctor"]
        reps = repeat if name != "5M" else max(1, repeat // 2)
        results[name] = {m: [] for m in methods}
        cap = peer_runs if peer_runs is not None else repeat
        for r in range(reps):
            order = methods[r % len(methods) :] + methods[: r % len(methods)]
            for m in order:
                if m != "sb3doctor" and len(results[name][m]) >= (1 if name == "5M" else cap):
                    continue  # the slow peers: one run on 5M is plenty (~2 min each)
                res = _run_worker(m, path)
                results[name][m].append(res)
                print(f"  {name:8} {m:18} run {r + 1}: {_fmt_s(res['seconds'])} s", flush=True)
        # All methods must agree on what is in the file.
        ref = results[name]["sb3doctor"][0]["sums"]
        total = sum(v[0] for v in ref.values())
        assert total == n, (name, total, n)
        for m, runs in results[name].items():
            for res in runs:
                if res["sums"] != ref:
                    raise SystemExit(f"{m} disagrees with sb3doctor on {name}: {res['sums']} vs {ref}")
    return results


def print_reader_table(results: dict[str, dict[str, list[dict]]]) -> None:
    print()
    print("## Reading one event file (in-process seconds, imports excluded; median of fresh processes)")
    print()
    print(
        "| file | scalars | MB | method | runs | median s | scalars/s | MB/s | import s | sb3doctor speedup |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, per_method in results.items():
        n, path = FILES[name]
        mb = path.stat().st_size / 1e6
        ours = statistics.median(r["seconds"] for r in per_method["sb3doctor"])
        for m, runs in per_method.items():
            med = statistics.median(r["seconds"] for r in runs)
            imp = statistics.median(r["import_s"] for r in runs)
            ratio = "1.0 (itself)" if m == "sb3doctor" else f"{med / ours:.1f}x"
            print(
                f"| {name} | {n:,} | {mb:.1f} | {m} | {len(runs)} | {_fmt_s(med)} | {n / med:,.0f} | "
                f"{mb / med:,.1f} | {imp:.3f} | {ratio} |"
            )
    print()
    print("All methods returned the same scalars (count, per-tag exact sums of steps and values).")


def bench_memory() -> None:
    _n, path = FILES["5M"]
    size = path.stat().st_size
    base = _run_worker_rss_baseline()
    res = _run_worker("sb3doctor", path)
    rss = res["maxrss_kib"] * 1024
    print()
    print("## Peak memory reading the 5M-scalar file with sb3doctor (fresh process, ru_maxrss)")
    print()
    print(f"- file size: {size / 2**20:,.1f} MiB")
    print(f"- peak RSS: {rss / 2**20:,.1f} MiB = {rss / size:.2f}x the file size (target <= 3x)")
    print(
        f"- of which interpreter + numpy import: {base / 2**20:,.1f} MiB; the result (5M x 24 B) is ~114 MiB"
    )
    print(f"- read time in that process: {_fmt_s(res['seconds'])} s")


def _run_worker_rss_baseline() -> int:
    code = (
        "import resource, numpy, sb3doctor.sources.tensorboard; "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, env=_ENV
    )
    return int(out.stdout.strip()) * 1024


def _wall(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(
            cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=_ENV
        )
        times.append(time.perf_counter() - t0)
    return times


def bench_cli(runs: int) -> None:
    _n, path = FILES["typical"]
    run_dir = path.parent
    with tempfile.TemporaryDirectory() as tmp:
        out_csv = str(Path(tmp) / "table.csv")
        cmds = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import sb3doctor"': [sys.executable, "-c", "import sb3doctor"],
            "sb3doctor export <typical PPO run> -o table.csv": [
                sys.executable,
                "-m",
                "sb3doctor",
                "export",
                str(run_dir),
                "-o",
                out_csv,
            ],
        }
        for cmd in cmds.values():  # warm-up (page cache, .pyc)
            _wall(cmd, 2)
        walls = {label: _wall(cmd, runs) for label, cmd in cmds.items()}
        with open(out_csv, encoding="utf-8") as fh:
            rows = sum(1 for _ in fh) - 1
    print()
    print(
        f"## Whole-process wall time, median of {runs} "
        f"(typical 1M-timestep PPO run: 5,859 scalars, {rows:,} rows exported)"
    )
    print()
    print("| command | median s | min s | max s |")
    print("|---|---|---|---|")
    for label, ts in walls.items():
        print(f"| `{label}` | {statistics.median(ts):.3f} | {min(ts):.3f} | {max(ts):.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description="sb3doctor event-file reader vs tbparse and EventAccumulator")
    ap.add_argument("--quick", action="store_true", help="skip the slow peers on the 5M file; 2 repetitions")
    ap.add_argument("--repeat", type=int, default=None, help="repetitions per method and file (default 3)")
    ap.add_argument("--files", default="typical,1M,5M", help="comma-separated subset of typical,1M,5M")
    ap.add_argument(
        "--peer-runs", type=int, default=None, help="at most this many runs of each peer per file"
    )
    ap.add_argument("--cli-runs", type=int, default=10, help="runs for the whole-process timings")
    ap.add_argument("--worker", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    names = [n for n in args.files.split(",") if n]
    repeat = args.repeat or (2 if args.quick else 3)
    ensure_files(sorted(set(names) | {"typical"}, key=list(FILES).index))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    results = bench_readers(names, repeat, args.quick, args.peer_runs)
    print_reader_table(results)
    if "5M" in names:
        bench_memory()
    bench_cli(args.cli_runs)
    print()
    print(
        f"load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine inflates every figure)"
    )


if __name__ == "__main__":
    main()
