"""Benchmarks of ``sb3doctor watch``: cost per poll and latency from an SB3 flush to the event.

1. Poll cost. An SB3 PPO-shaped event file is grown to 10k, 100k and 1M scalars; then 1, 10
   and 100 dumps (12 scalars each) are appended and one poll is timed (read the new bytes,
   merge them into the run, run the rules, diff the findings). The poll cost should follow the
   appended bytes, not the file size. The peer is what a non-incremental watcher would do at
   each poll: ``read_runs`` (the whole file) + the rules.
2. Latency. A writer process appends real SB3 dumps (SB3's own logger with its TensorBoard
   writer, which flushes at every dump) with ``approx_kl`` high enough for PPO-KL-HIGH, and
   ``sb3doctor watch --format jsonl`` runs as a separate process. Latency = the time the
   ``finding_raised`` line arrives minus the time the writer's ``logger.dump()`` that made the
   rule fire returned. Target: at most ``--interval`` + 0.2 s. Also measured through a pipe
   (``writer | sb3doctor watch -``), where the watcher wakes on data instead of polling.

Run: ``python bench/bench_watch.py [--quick]``. Prints tables and one JSON line per result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _gen_events import PPO_TAGS, encode, file_version_record, ppo_schedule  # noqa: E402

from sb3doctor.sources import read_runs  # noqa: E402
from sb3doctor.watch import Watcher, make_evaluator  # noqa: E402

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def poll_cost(sizes: list[int], appends: list[int], reps: int) -> list[dict]:
    evaluate = make_evaluator()
    eval_time = [0.0]

    def timed_eval(run):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        out = evaluate(run)
        eval_time[0] += time.perf_counter() - t
        return out

    results = []
    for size in sizes:
        total_extra = sum(appends) * 12 * reps
        tag_idx, steps, values, walls = ppo_schedule(size + total_extra)
        folder = Path(tempfile.mkdtemp(prefix="sb3doctor-bench-watch-")) / "PPO_1"
        folder.mkdir()
        path = folder / "events.out.tfevents.1700000000.bench.1.0"
        with open(path, "wb") as fh:
            fh.write(file_version_record(float(walls[0]) - 1.0))
            fh.write(encode(PPO_TAGS, tag_idx[:size], steps[:size], values[:size], walls[:size]))
        watcher = Watcher(folder.parent, timed_eval)
        t0 = time.perf_counter()
        watcher.poll()
        first = time.perf_counter() - t0
        pos = size
        for n_dumps in appends:
            times, evals, nbytes = [], [], 0
            for _ in range(reps):
                k = n_dumps * 12
                chunk = encode(
                    PPO_TAGS,
                    tag_idx[pos : pos + k],
                    steps[pos : pos + k],
                    values[pos : pos + k],
                    walls[pos : pos + k],
                )
                pos += k
                with open(path, "ab") as fh:
                    fh.write(chunk)
                nbytes = len(chunk)
                eval_time[0] = 0.0
                t0 = time.perf_counter()
                watcher.poll()
                times.append(time.perf_counter() - t0)
                evals.append(eval_time[0])
            results.append(
                {
                    "bench": "poll",
                    "file_scalars": size,
                    "file_bytes": path.stat().st_size,
                    "appended_dumps": n_dumps,
                    "appended_bytes": nbytes,
                    "poll_ms": statistics.median(times) * 1e3,
                    "rules_ms": statistics.median(evals) * 1e3,
                    "first_poll_s": first,
                }
            )
        # The peer: re-read everything at each poll.
        peer = []
        for _ in range(max(1, reps // 2)):
            t0 = time.perf_counter()
            for run in read_runs(folder.parent):
                evaluate(run)
            peer.append(time.perf_counter() - t0)
        results.append({"bench": "reread", "file_scalars": size, "poll_ms": statistics.median(peer) * 1e3})
    return results


WRITER = textwrap.dedent(
    """
    import sys, time, random
    from stable_baselines3.common.logger import configure
    folder, n, period, stamps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    fmt = sys.argv[5].split(",")
    logger = configure(folder, fmt)
    time.sleep(float(sys.argv[6]))  # let the watcher start
    random.seed(0)
    with open(stamps, "w") as out:
        for i in range(1, n + 1):
            # Random phase against the watcher's polls.
            time.sleep(period * random.uniform(0.5, 1.5))
            for k, v in [("rollout/ep_len_mean", 20.0), ("rollout/ep_rew_mean", 20.0), ("time/fps", 500),
                         ("train/approx_kl", 0.3), ("train/clip_fraction", 0.4), ("train/clip_range", 0.2),
                         ("train/entropy_loss", -0.6), ("train/explained_variance", 0.8),
                         ("train/learning_rate", 0.003), ("train/loss", 0.5),
                         ("train/policy_gradient_loss", -0.01), ("train/value_loss", 1.0)]:
                logger.record(k, v)
            logger.record("time/iterations", i, exclude="tensorboard")
            logger.record("time/total_timesteps", i * 2048, exclude="tensorboard")
            logger.dump(i * 2048)
            out.write(f"{i * 2048} {time.time()}\\n")
            out.flush()
    logger.close()
    """
)


def latency(trials: int, interval: float, mode: str) -> list[dict]:
    """Flush-to-event latency of PPO-KL-HIGH, ``mode`` = ``file`` (event file) or ``pipe`` (stdout)."""
    results = []
    for trial in range(trials):
        tmp = Path(tempfile.mkdtemp(prefix="sb3doctor-bench-latency-"))
        logs = tmp / "logs"
        logs.mkdir()
        stamps = tmp / "stamps.txt"
        writer_cmd = [sys.executable, "-c", WRITER, str(logs / "PPO_1"), "8", "0.4", str(stamps)]
        watch_cmd = [
            sys.executable,
            "-m",
            "sb3doctor",
            "watch",
            "--format",
            "jsonl",
            "--interval",
            str(interval),
        ]
        if mode == "file":
            writer = subprocess.Popen([*writer_cmd, "tensorboard", "3"], env=ENV)
            watch = subprocess.Popen(
                [*watch_cmd, str(logs), "--idle-timeout", "3"],
                stdout=subprocess.PIPE,
                text=True,
                env=ENV,
                cwd=ROOT,
            )
            stream = watch.stdout
        else:
            writer = subprocess.Popen([*writer_cmd, "stdout", "3"], stdout=subprocess.PIPE, env=ENV)
            watch = subprocess.Popen(
                [*watch_cmd, "-"],
                stdin=writer.stdout,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=ENV,
                cwd=ROOT,
            )
            stream = watch.stderr
        arrived: dict[int, float] = {}
        assert stream is not None
        for line in stream:
            now = time.time()
            event = json.loads(line)
            if event["event"] == "finding_raised" and event["finding"]["rule"] == "PPO-KL-HIGH":
                arrived.setdefault(event["step"], now)
        watch.wait(timeout=60)
        writer.wait(timeout=60)
        flushed = dict((int(a), float(b)) for a, b in (ln.split() for ln in stamps.read_text().splitlines()))
        for step, t in arrived.items():
            results.append(
                {
                    "bench": "latency",
                    "mode": mode,
                    "interval": interval,
                    "trial": trial,
                    "step": step,
                    "latency_s": t - flushed[step],
                }
            )
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer trials")
    ap.add_argument("--interval", type=float, default=1.0)
    args = ap.parse_args()
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    rows = poll_cost(sizes, [1, 10, 100], reps=3 if args.quick else 5)
    print("\n== poll cost (median ms) ==")
    print(
        f"{'file scalars':>12} {'file MB':>8} {'+dumps':>6} {'+bytes':>7} {'poll ms':>8} {'rules ms':>8} "
        f"{'read+merge ms':>13}"
    )
    for r in rows:
        if r["bench"] == "poll":
            print(
                f"{r['file_scalars']:>12,} {r['file_bytes'] / 1e6:>8.1f} {r['appended_dumps']:>6} "
                f"{r['appended_bytes']:>7,} {r['poll_ms']:>8.2f} {r['rules_ms']:>8.2f} "
                f"{r['poll_ms'] - r['rules_ms']:>13.2f}"
            )
    for size in sizes:
        one = next(
            r for r in rows if r["bench"] == "poll" and r["file_scalars"] == size and r["appended_dumps"] == 1
        )
        peer = next(r for r in rows if r["bench"] == "reread" and r["file_scalars"] == size)
        print(
            f"{size:>12,} scalars: first poll {one['first_poll_s']:.2f} s; "
            f"1-dump poll {one['poll_ms']:.2f} ms "
            f"vs re-read {peer['poll_ms']:.1f} ms ({peer['poll_ms'] / one['poll_ms']:.0f}x)"
        )
    small = next(
        r for r in rows if r["bench"] == "poll" and r["file_scalars"] == sizes[0] and r["appended_dumps"] == 1
    )
    big = next(
        r
        for r in rows
        if r["bench"] == "poll" and r["file_scalars"] == sizes[-1] and r["appended_dumps"] == 1
    )
    io_big, io_small = big["poll_ms"] - big["rules_ms"], small["poll_ms"] - small["rules_ms"]
    print(
        f"1-dump poll at {sizes[-1]:,} vs {sizes[0]:,} scalars (file {sizes[-1] // sizes[0]}x larger): "
        f"read+merge {io_big / io_small:.2f}x, rules {big['rules_ms'] / small['rules_ms']:.1f}x"
    )

    lat = latency(2 if args.quick else 5, args.interval, "file") + latency(
        2 if args.quick else 3, args.interval, "pipe"
    )
    rows += lat
    print(
        f"\n== latency, SB3 flush -> finding_raised on the watcher's output (--interval {args.interval}) =="
    )
    for mode in ("file", "pipe"):
        xs = sorted(r["latency_s"] for r in lat if r["mode"] == mode)
        if xs:
            print(
                f"{mode:>5}: n={len(xs)} median {statistics.median(xs):.3f} s, max {xs[-1]:.3f} s "
                f"(target <= {args.interval + 0.2:.1f} s)"
            )
    for r in rows:
        print(json.dumps(r))


if __name__ == "__main__":
    main()
