"""Whole-process ``sb3doctor analyze`` time of the working tree against a git revision.

Startup is a feature: the knowledge files, the causal map and the new conditions must not
make ``analyze`` slower for everyone. The peer is the same command at ``--against`` (default
``c240ff6``, the last commit before the reference knowledge), checked out into a temporary
``git worktree``; both run with the same Python, alternating, ``--reps`` times each, on the
same run, with the rule cache warm (as a user has it) and with it off
(``SB3DOCTOR_NO_CACHE=1``). Prints the medians and their ratio.

Usage::

    python bench/bench_analyze.py
    python bench/bench_analyze.py --against HEAD~5 --reps 20 --run fixtures/ppo_lr_high/PPO_1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "; ".join(
    [
        "import sys",
        "sys.path.insert(0, sys.argv[1])",
        "from sb3doctor.cli import main",
        "sys.exit(main(sys.argv[2:]))",
    ]
)


def timed(tree: Path, args: list[str], env: dict[str, str]) -> float:
    """Wall time of one ``sb3doctor`` process importing the package from ``tree``."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tree), *args], capture_output=True, env=env, check=False
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{tree}: exit {proc.returncode}: {proc.stderr.decode()[-300:]}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", default="c240ff6", help="git revision of the peer (default c240ff6)")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--run", default="fixtures/ppo_cartpole/PPO_1", help="the run to analyze")
    args = ap.parse_args()
    run = str((ROOT / args.run).resolve())
    with tempfile.TemporaryDirectory(prefix="sb3doctor-peer-") as tmp:
        peer = Path(tmp) / "peer"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(peer), args.against],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        try:
            print(f"sb3doctor analyze {args.run} --format json: working tree vs {args.against}, "
                  f"median of {args.reps} alternating runs")  # fmt: skip
            print(f"{'cache':8s} {'this tree':>10s} {args.against:>10s} {'ratio':>7s}")
            for label, extra in (("warm", {}), ("off", {"SB3DOCTOR_NO_CACHE": "1"})):
                env = {**os.environ, **extra}
                cmd = ["analyze", run, "--format", "json"]
                for tree in (ROOT, peer):  # warm the cache and the OS file cache
                    timed(tree, cmd, env)
                ours, theirs = [], []
                for _ in range(args.reps):
                    ours.append(timed(ROOT, cmd, env))
                    theirs.append(timed(peer, cmd, env))
                a, b = statistics.median(ours), statistics.median(theirs)
                print(f"{label:8s} {a:9.3f}s {b:9.3f}s {a / b:6.2f}x")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(peer)], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
