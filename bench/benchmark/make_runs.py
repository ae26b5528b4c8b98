"""Train (or resume training) every run of the labelled benchmark with rl-baselines3-zoo.

Each run is one ``python -m rl_zoo3.train`` process on one CPU thread (``--jobs`` at a time).
What a user of the zoo would have on disk is kept, compactly, under
``bench/benchmark/runs/<run_id>/``: the TensorBoard event file, the ``*.monitor.csv`` files,
and the zoo's ``config.yml`` / ``args.yml``. The model and the stdout are not kept. A run whose
folder is complete is skipped, so the script can be stopped and re-run at any time.

Usage::

    python bench/benchmark/make_runs.py                 # every run, 2 at a time
    python bench/benchmark/make_runs.py --only diverged  # run ids containing a word
    python bench/benchmark/make_runs.py --list           # what would run, with budgets

Needs ``pip install rl_zoo3 sb3-contrib "gymnasium[box2d,mujoco]"`` beside the dev extras.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.benchmark.specs import CUSTOM_BASES, SPECS, WAREHOUSE, RunSpec  # noqa: E402

RUNS = ROOT / "bench" / "benchmark" / "runs"
META = ROOT / "bench" / "benchmark" / "meta"


def zoo_hyperparams(algo: str, env: str) -> dict[str, Any]:
    """rl-baselines3-zoo's tuned hyperparameters for (algo, env), as shipped in rl_zoo3."""
    import rl_zoo3

    path = Path(rl_zoo3.__file__).parent / "hyperparams" / f"{algo}.yml"
    table = yaml.safe_load(path.read_text())
    if env not in table and "NoFrameskip" in env and "atari" in table:
        # One entry for every Atari game (CnnPolicy, AtariWrapper, frame_stack 4).
        env = "atari"
    if env not in table and env.endswith("-v5") and env.replace("-v5", "-v4") in table:
        # The zoo tunes MuJoCo on -v4: its entry is the closest tuned one for -v5 (the same task,
        # with gymnasium's fixes).
        env = env.replace("-v5", "-v4")
    if env not in table:
        raise KeyError(f"rl_zoo3 has no {algo} hyperparameters for {env}")
    return dict(table[env])


def hyperparams_for(spec: RunSpec) -> dict[str, Any]:
    """The full zoo hyperparameter entry a run trains with."""
    if spec.base == "zoo":
        hp = zoo_hyperparams(spec.algo, spec.env)
    elif spec.base == "custom":
        hp = dict(CUSTOM_BASES[(spec.algo, spec.env)])
    else:
        hp = {}
    hp.setdefault("policy", "LinearPolicy" if spec.algo == "ars" and spec.base == "zoo" else "MlpPolicy")
    hp.update(spec.overrides)
    hp["n_timesteps"] = spec.timesteps
    return hp


def _env_kwargs_args(kwargs: dict[str, Any]) -> list[str]:
    if not kwargs:
        return []
    return ["--env-kwargs", *[f"{k}:{v!r}" for k, v in kwargs.items()]]


def train_one(spec: RunSpec, timeout: float) -> dict[str, Any]:
    """Train one run and keep its logs under RUNS/<run_id>/."""
    out = RUNS / spec.run_id
    hp = hyperparams_for(spec)
    with tempfile.TemporaryDirectory(prefix="sb3bench-") as tmp_str:
        tmp = Path(tmp_str)
        conf = tmp / "conf.yml"
        conf.write_text(yaml.safe_dump({spec.env: hp}, sort_keys=True))
        cmd = [sys.executable, "-m", "rl_zoo3.train", "--algo", spec.algo, "--env", spec.env]
        cmd += ["-n", str(spec.timesteps), "--seed", str(spec.seed), "--eval-freq", "-1"]
        cmd += ["--device", "cpu", "--vec-env", "dummy", "-conf", str(conf)]
        cmd += ["--tensorboard-log", str(tmp / "tb"), "--log-folder", str(tmp / "zoo")]
        if spec.env == WAREHOUSE:
            cmd += ["--gym-packages", "sb3doctor.envs"]
        cmd += _env_kwargs_args(spec.env_kwargs)
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp, timeout=timeout)
            rc, tail = proc.returncode, (proc.stderr or proc.stdout)[-2000:]
        except subprocess.TimeoutExpired:
            rc, tail = -9, "timeout"
        seconds = round(time.perf_counter() - t0, 1)
        events = sorted(tmp.glob("tb/**/events.out.tfevents.*"))
        monitors = sorted(tmp.glob("zoo/**/*.monitor.csv"))
        zoo_files = [p for name in ("config.yml", "args.yml") for p in tmp.glob(f"zoo/**/{name}")]
        meta = {"run_id": spec.run_id, "rc": rc, "train_s": seconds, "cmd": cmd[1:], "hyperparams": hp}
        if rc != 0:
            meta["error"] = tail.strip().splitlines()[-3:] if tail else []
        if rc != 0 and events and "nan" in tail.lower():
            # Training crashed on NaN (SB3 raises inside the policy): that is the fault itself,
            # and its logs up to the crash are what the user has. Keep them.
            meta["crashed_on_nan"] = True
        if events and (rc == 0 or meta.get("crashed_on_nan")):
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            for src in [*events, *monitors, *zoo_files]:
                shutil.copy2(src, out / src.name)
        META.mkdir(parents=True, exist_ok=True)
        (META / f"{spec.run_id}.json").write_text(json.dumps(meta, indent=1, default=str))
        return meta


def is_done(spec: RunSpec) -> bool:
    """A run is done when its meta says it trained and its folder holds an event file."""
    meta = META / f"{spec.run_id}.json"
    if not meta.exists():
        return False
    data = json.loads(meta.read_text())
    ok = data.get("rc") == 0 or data.get("crashed_on_nan", False)
    return ok and any((RUNS / spec.run_id).glob("events.out.tfevents.*"))


def _order(spec: RunSpec) -> str:
    # A fixed shuffle, so that a partial benchmark already spans categories and both splits.
    return hashlib.sha1(f"order:{spec.run_id}".encode()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None, help="run ids containing any of these words")
    parser.add_argument("--skip", nargs="*", default=(), help="leave out run ids with any of these words")
    parser.add_argument("--timeout", type=float, default=1500.0, help="seconds per run")
    parser.add_argument("--retry-failed", action="store_true", help="also re-run runs whose last try failed")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()

    todo = [s for s in SPECS if args.only is None or any(w in s.run_id for w in args.only)]
    todo = [s for s in todo if not any(w in s.run_id for w in args.skip)]
    if args.list:
        for s in todo:
            print(f"{s.run_id:45s} {s.algo:6s} {s.env:28s} {s.timesteps:>8,d} done={is_done(s)}")
        return 0
    pending = []
    for s in sorted(todo, key=_order):
        if is_done(s):
            continue
        meta = META / f"{s.run_id}.json"
        if meta.exists() and not args.retry_failed:
            continue
        pending.append(s)
    print(
        f"{len(todo) - len(pending)} of {len(todo)} runs done or failed before; training {len(pending)}",
        flush=True,
    )
    train_all(pending, args.jobs, args.timeout)
    return 0


def train_all(specs: list[RunSpec], jobs: int, timeout: float, width: int = 45) -> None:
    """Train ``specs``, ``jobs`` at a time, printing one line per finished run."""
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(train_one, s, timeout) for s in specs]
        for fut in as_completed(futures):
            meta = fut.result()
            status = "ok" if meta["rc"] == 0 else f"FAILED {meta.get('error')}"
            print(f"{meta['run_id']:{width}s} {meta['train_s']:7.1f}s {status}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
