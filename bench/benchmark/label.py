"""Label the benchmark's runs from their own numbers, by the protocol in PROTOCOL.md.

Reads every run under ``bench/benchmark/runs/`` with TensorBoard's ``EventAccumulator`` and the
``csv`` module (no sb3doctor reader or rule is used) and writes ``labels.json``::

    {"run_id": {"label": "lr_too_high" | "healthy" | null, "split": "dev" | "test",
                "present": [...], "intended": ..., "algo": ..., "env": ..., "numbers": {...},
                "excluded": "reason" (only when label is null)}}

Usage: ``python bench/benchmark/label.py`` (after ``make_runs.py``);
``python bench/benchmark/label.py --visible-at-cuts test`` prints, per cut, how many fault runs
of a split already show their labelled symptom on the prefix; ``--prune-excluded`` records the
runs the protocol excluded in ``excluded.json`` and removes their files (never scored).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.benchmark.specs import (  # noqa: E402
    BY_ID,
    FRESH2_IDS,
    FRESH3_IDS,
    FRESH4_IDS,
    FRESH5_IDS,
    FRESH6_IDS,
    FRESH7_IDS,
    FRESH8_IDS,
    FRESH9_IDS,
    FRESH10_IDS,
    FRESH11_IDS,
    FRESH12_IDS,
    FRESH13_IDS,
    FRESH14_IDS,
    FRESH15_IDS,
    FRESH16_IDS,
    FRESH17_IDS,
    FRESH_IDS,
    HOLDOUT_IDS,
    WIDE2_IDS,
    WIDE3_IDS,
    WIDE4_IDS,
    WIDE5_IDS,
    WIDE6_IDS,
    WIDE_IDS,
    RunSpec,
)
from sb3doctor import knowledge  # noqa: E402

RUNS = ROOT / "bench" / "benchmark" / "runs"
LABELS = ROOT / "bench" / "benchmark" / "labels.json"
#: The protocol's verdicts on the runs it excluded whose files were then dropped from the
#: repository to keep it compact (``--prune-excluded``): never scored, kept as a record.
EXCLUDED = ROOT / "bench" / "benchmark" / "excluded.json"
#: Kept whatever their label: ``tests/test_compare.py`` compares seeds 1 and 2 of the healthy
#: configurations (compare groups seeds; it does not read labels), and
#: ``tests/test_too_early.py`` reads a SAC run that SB3 stopped with NaN actions before its first
#: table (3 episodes in monitor.csv, an event file with no scalar), and rl-zoo's TD3 and SAC on
#: MuJoCo stopped at 4-6% of their budgets (`wide5`: too short to learn by the protocol), which
#: must raise nothing above info at any point and be told that the run was short; and rl-zoo's
#: PPO and A2C on Breakout and PPO on Pong at 2% of theirs (`wide6`), which must raise nothing
#: above info watched live (tests/test_live_replay.py).
KEEP = (
    frozenset(
        f"healthy-{name}-s{seed}"
        for name in ("a2c-cartpole", "ppo-invertedpendulum", "td3-pendulum", "dqn-cartpole", "sac-pendulum")
        for seed in (1, 2)
    )
    | {"diverged-sac-pendulum-lr0.1-s11"}
    | {f"healthy-{name}-s18" for name in ("td3-hopper", "sac-halfcheetah", "td3-walker2d")}
    | {f"healthy-{game}-s19" for game in ("ppo-breakoutnoframeskip", "a2c-breakoutnoframeskip")}
    | {"healthy-ppo-pongnoframeskip-s19"}
)

ALGO_NAMES = {
    "ppo": "PPO", "a2c": "A2C", "dqn": "DQN", "sac": "SAC", "td3": "TD3", "ddpg": "DDPG",
    "qrdqn": "QRDQN", "tqc": "TQC", "trpo": "TRPO", "ars": "ARS",
    "crossq": "CrossQ", "ppo_lstm": "RecurrentPPO",
}  # fmt: skip
LOSSES = ("train/value_loss", "train/critic_loss", "train/loss", "train/qf_loss")
#: AtariWrapper's frame skip (its default, which rl-zoo's `atari` entries keep): the Monitor,
#: inside it, counts this many emulator frames per agent step.
ATARI_FRAME_SKIP = 4
#: Envs whose random-policy return is also the floor: the reward comes only at the goal.
FLOOR_ENVS = ("MountainCar-v0", "MountainCarContinuous-v0", "sb3doctor/WarehouseRobot-v0")


#: The held-out splits, each the run ids of one list in ``specs``, in the order they were made.
HELD_OUT: tuple[tuple[str, frozenset[str]], ...] = (
    ("holdout", HOLDOUT_IDS),
    ("fresh", FRESH_IDS),
    ("fresh2", FRESH2_IDS),
    ("fresh3", FRESH3_IDS),
    ("fresh4", FRESH4_IDS),
    ("fresh5", FRESH5_IDS),
    ("fresh6", FRESH6_IDS),
    ("fresh7", FRESH7_IDS),
    ("fresh8", FRESH8_IDS),
    ("fresh9", FRESH9_IDS),
    ("fresh10", FRESH10_IDS),
    ("fresh11", FRESH11_IDS),
    ("fresh12", FRESH12_IDS),
    ("fresh13", FRESH13_IDS),
    ("fresh14", FRESH14_IDS),
    ("fresh15", FRESH15_IDS),
    ("fresh16", FRESH16_IDS),
    ("fresh17", FRESH17_IDS),
    ("wide", WIDE_IDS),
    ("wide2", WIDE2_IDS),
    ("wide3", WIDE3_IDS),
    ("wide4", WIDE4_IDS),
    ("wide5", WIDE5_IDS),
    ("wide6", WIDE6_IDS),
)


def split_of(run_id: str) -> str:
    """``holdout`` for the third seeds trained after round 2's rules (``specs.HOLDOUT``),
    ``fresh`` / ``fresh2`` for the fourth / fifth seeds trained during round 3 (``specs.FRESH``,
    ``specs.FRESH2``), ``fresh3`` for round 4's runs of the two thin categories
    (``specs.FRESH3``), ``fresh4`` for the sixth seeds trained after round 4's rule changes
    (``specs.FRESH4``), ``fresh5`` for the seventh seeds trained in round 5 before its rule
    changes and scored after them (``specs.FRESH5``), ``fresh6`` for the eighth seeds trained
    after ``fresh5`` was scored (``specs.FRESH6``), ``fresh7`` for the ninth seeds trained
    before round 7's rule changes (``specs.FRESH7``), ``fresh8`` for the tenth seeds trained
    before round 8's (``specs.FRESH8``), ``fresh9`` for the eleventh seeds trained before
    round 9's (``specs.FRESH9``), ``fresh10`` for the twelfth seeds trained before round
    10's (``specs.FRESH10``), ``fresh11`` for the thirteenth seeds trained during round 11
    (``specs.FRESH11``), ``fresh12`` for the fourteenth seeds trained after it was scored
    (``specs.FRESH12``), ``fresh13`` for the fifteenth seeds trained in round 12
    (``specs.FRESH13``), ``fresh14`` for the sixteenth seeds trained at the start of round 13
    (``specs.FRESH14``), ``fresh15`` for the seventeenth seeds trained at the start of round
    14 (``specs.FRESH15``), ``fresh16`` for the eighteenth seeds trained at the start of round
    15 (``specs.FRESH16``), ``fresh17`` for the nineteenth seeds trained at the start of round
    16 (``specs.FRESH17``), ``wide`` for round 6's (algorithm, env)
    pairs that no earlier run trains (``specs.WIDE``), ``wide2`` for their second seeds
    (``specs.WIDE2``), ``wide3`` for round 9's new pairs (``specs.WIDE3``), ``wide4`` for
    round 13's (``specs.WIDE4``), ``wide5`` for round 14's MuJoCo pairs (``specs.WIDE5``) and
    ``wide6`` for round 16's Atari games (``specs.WIDE6``); otherwise
    ``test`` for half of the runs by a fixed hash of the id, ``dev`` for the rest."""
    held_out = next((name for name, ids in HELD_OUT if run_id in ids), None)
    if held_out is not None:
        return held_out
    return "test" if hashlib.sha1(run_id.encode()).hexdigest()[0] in "01234567" else "dev"


def read_scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar tag of the run's event file(s): tag -> [(step, value)] by step."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(run_dir.glob("events.out.tfevents.*")):
        acc = EventAccumulator(str(path), size_guidance={"scalars": 0})
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            out.setdefault(tag, []).extend((e.step, e.value) for e in acc.Scalars(tag))
    return {k: sorted(v) for k, v in out.items()}


def read_episodes(run_dir: Path, frame_skip: int = 1) -> tuple[list[float], list[int]]:
    """Episode returns and the cumulative timestep at each episode's end, in end-time order.

    ``frame_skip``: emulator frames per agent step that the Monitor's lengths count (4 for the
    Atari games, which rl-zoo wraps in Monitor before AtariWrapper's frame skip)."""
    rows: list[tuple[float, float, int]] = []
    for path in sorted(run_dir.glob("*.monitor.csv")):
        with path.open(newline="") as f:
            header = json.loads(f.readline()[1:])
            for row in csv.DictReader(f):
                rows.append((header["t_start"] + float(row["t"]), float(row["r"]), int(row["l"])))
    rows.sort()
    steps, total = [], 0
    for _, _, length in rows:
        total += length
        steps.append(round(total / frame_skip))
    return [r for _, r, _ in rows], steps


def _median(xs: list[float]) -> float:
    xs = [x for x in xs if math.isfinite(x)]
    return statistics.median(xs) if xs else math.nan


def _late(points: list[tuple[int, float]], frac: float = 0.5) -> list[float]:
    return [v for _, v in points[int(len(points) * (1 - frac)) :]]


def _early(points: list[tuple[int, float]], frac: float = 0.2) -> list[float]:
    return [v for _, v in points[: max(1, int(len(points) * frac))]]


def reference_returns(spec: RunSpec) -> tuple[float, float]:
    """(random-policy return, best reference return) of the run's env."""
    env = knowledge.env_reference(spec.env)
    if env is None or env.random_return is None:
        raise KeyError(f"no random-policy return for {spec.env}")
    zoo = [z.mean_reward for z in knowledge.zoo_benchmarks(spec.env)]
    if zoo:
        return env.random_return, max(zoo)
    if env.optimum is not None:
        return env.random_return, env.optimum
    raise KeyError(f"no reference return for {spec.env}")


def prefix(
    scalars: dict[str, list[tuple[int, float]]], returns: list[float], ep_steps: list[int], frac: float
) -> tuple[dict[str, list[tuple[int, float]]], list[float], list[int]]:
    """What had been logged when ``frac`` of the run's step range had passed (the cut of
    ``bench/accuracy.py``): scalars up to that step, and the episodes that had ended by then."""
    steps = [st for pts in scalars.values() for st, _ in pts] + ep_steps
    lo, hi = min(steps), max(steps)
    cut = lo + frac * (hi - lo)
    kept = {k: [(st, v) for st, v in pts if st <= cut] for k, pts in scalars.items()}
    n = sum(1 for st in ep_steps if st <= cut)
    return {k: v for k, v in kept.items() if v}, returns[:n], ep_steps[:n]


def read_run(spec: RunSpec) -> tuple[dict[str, list[tuple[int, float]]], list[float], list[int]]:
    """The run's scalars, episode returns and episode end steps (see :func:`label_run`)."""
    run_dir = RUNS / spec.run_id
    frame_skip = ATARI_FRAME_SKIP if "NoFrameskip" in spec.env else 1
    return (read_scalars(run_dir), *read_episodes(run_dir, frame_skip))


def label_run(
    spec: RunSpec,
    frac: float = 1.0,
    data: tuple[dict[str, list[tuple[int, float]]], list[float], list[int]] | None = None,
) -> dict[str, Any]:
    """Symptoms, label and split of one run (see PROTOCOL.md); with ``frac`` < 1, of the part of
    it that a live diagnosis had seen at that cut. ``data`` is :func:`read_run`'s, when the
    caller labels several cuts of one run and reads it once."""
    scalars, returns, ep_steps = data if data is not None else read_run(spec)
    if frac < 1.0:
        scalars, returns, ep_steps = prefix(scalars, returns, ep_steps, frac)
    r_rand, r_ref = reference_returns(spec)
    algo = ALGO_NAMES[spec.algo]

    def progress(x: float) -> float:
        return (x - r_rand) / (r_ref - r_rand)

    n = len(returns)
    nums: dict[str, Any] = {"episodes": n, "r_rand": r_rand, "r_ref": r_ref}
    if n >= 2:
        start = statistics.fmean(returns[: max(5, n // 10)])
        final = statistics.fmean(returns[-max(10, n // 5) :])
        w = max(10, n // 20)
        peak = max(statistics.fmean(returns[i : i + w]) for i in range(max(1, n - w + 1)))
    else:
        start = final = peak = returns[0] if returns else r_rand
    nums.update(
        start=start,
        final=final,
        peak=peak,
        p_final=progress(final),
        p_start=progress(start),
        p_peak=progress(peak),
    )
    learned = progress(final) >= 0.5 or progress(final) - progress(start) >= 0.3
    collapsed = progress(peak) >= 0.5 and final <= peak - 0.5 * (peak - r_rand)
    present: set[str] = set()

    # diverged
    train = {k: v for k, v in scalars.items() if k.startswith("train/")}
    non_finite = any(not math.isfinite(v) for pts in train.values() for _, v in pts)
    kl = scalars.get("train/approx_kl", [])
    huge = any(
        abs(v) > 1e6 for k, pts in train.items() if k != "train/n_updates" for _, v in pts if math.isfinite(v)
    )
    loss_growth = 0.0
    for key in LOSSES:
        pts = scalars.get(key, [])
        if len(pts) >= 10:
            early, late = _median(_early(pts)), _median(_late(pts, 0.2))
            if early > 0 and late > 1e3:
                loss_growth = max(loss_growth, late / early)
    nums.update(non_finite=non_finite, kl_max=max((v for _, v in kl), default=None), loss_growth=loss_growth)
    if non_finite or (kl and max(v for _, v in kl) > 1.0) or loss_growth >= 100 or huge:
        present.add("diverged")

    # entropy, relative to its first value
    ent_ratio = None
    if "train/entropy_loss" in scalars and len(scalars["train/entropy_loss"]) >= 3:
        ent = [-v for _, v in scalars["train/entropy_loss"]]
        first = ent[0]
        if first > 0:
            ent_ratio = _median(ent[-3:]) / first
    elif "train/std" in scalars and len(scalars["train/std"]) >= 3:
        std = [v for _, v in scalars["train/std"]]
        if std[0] > 0:
            ent_ratio = _median(std[-3:]) / std[0]
    nums["entropy_ratio"] = ent_ratio

    # lr_too_high
    lr_pts = scalars.get("train/learning_rate", [])
    lr = lr_pts[0][1] if lr_pts else None
    ref_lr = knowledge.zoo_value(algo, spec.env, "learning_rate")
    if ref_lr is None:
        ref_lr = knowledge.sb3_default(algo, "learning_rate")
    nums.update(lr=lr, ref_lr=ref_lr)
    kl_late = _median(_late(kl)) if kl else None
    nums["kl_median_2nd_half"] = kl_late
    if (
        lr is not None
        and ref_lr
        and lr >= 10 * ref_lr
        and (
            (kl_late is not None and kl_late > 0.03)
            or not learned
            or collapsed
            or (ent_ratio is not None and ent_ratio < 0.1)
        )
    ):
        present.add("lr_too_high")

    # updates_too_small
    if not learned and (
        (algo == "PPO" and kl_late is not None and kl_late < 1e-3)
        or (algo == "A2C" and ent_ratio is not None and ent_ratio > 0.95)
    ):
        present.add("updates_too_small")

    if not learned:
        present.add("reward_plateau")
    if spec.env in FLOOR_ENVS and progress(peak) < 0.3:
        present.add("sparse_reward_no_learning")

    eps = scalars.get("rollout/exploration_rate", [])
    if eps and not learned and algo in ("DQN", "QRDQN") and eps[0][1] <= min(v for _, v in eps) + 0.01:
        present.add("insufficient_exploration")
    nums["eps_first"] = eps[0][1] if eps else None

    # episode_stats_frozen
    total = max(v[-1][0] for v in scalars.values() if v) if scalars else 0
    late_eps = sum(1 for s in ep_steps if s > total / 2)
    rew, length = scalars.get("rollout/ep_rew_mean", []), scalars.get("rollout/ep_len_mean", [])
    same = 0
    if len(rew) == len(length) and len(rew) >= 3:
        same = sum(
            1 for i in range(1, len(rew)) if rew[i][1] == rew[i - 1][1] and length[i][1] == length[i - 1][1]
        )
    nums.update(late_episodes=late_eps, frozen_tables=same, tables=len(rew))
    if late_eps <= 2 or (rew and same >= 0.3 * len(rew)):
        present.add("episode_stats_frozen")

    vl = scalars.get("train/value_loss", [])
    nums["value_loss_late"] = _median(_late(vl)) if vl else None
    if vl and _median(_late(vl)) > 1e4:
        present.add("reward_scale_too_large")
    ev = scalars.get("train/explained_variance", [])
    nums["ev_late"] = _median(_late(ev)) if ev else None
    if ev and _median(_late(ev)) < 0.2:
        present.add("value_fn_poor")
    if not learned and ent_ratio is not None and ent_ratio < 0.1:
        present.add("entropy_collapse")
    if collapsed:
        present.add("performance_collapse")

    healthy = learned and not collapsed and not non_finite
    entry: dict[str, Any] = {
        "intended": spec.intended, "algo": algo, "env": spec.env, "split": split_of(spec.run_id),
        "present": sorted(present), "numbers": nums,
    }  # fmt: skip
    if spec.intended != "healthy" and spec.intended in present:
        entry["label"] = spec.intended
    elif healthy:
        entry["label"] = "healthy"
    else:
        entry["label"] = None
        why = "no symptom of the intended fault" if spec.intended != "healthy" else "did not learn"
        entry["excluded"] = f"{why}, and not healthy either (progress {progress(final):.2f})"
    return entry


def visible_at_cuts(split: str, cuts: tuple[float, ...] = (0.25, 0.5, 0.75)) -> int:
    """Print, per cut, how many of the split's fault runs already show their labelled symptom
    by the protocol's own checks on the prefix: the most any live diagnosis can find there
    without predicting what has not happened yet."""
    labels = json.loads(LABELS.read_text())
    faults = {
        rid: e for rid, e in labels.items() if e["split"] == split and e["label"] not in (None, "healthy")
    }
    healthy = [rid for rid, e in labels.items() if e["split"] == split and e["label"] == "healthy"]
    print(f"{split}: {len(faults)} labelled fault runs, {len(healthy)} healthy runs")
    runs = {rid: read_run(BY_ID[rid]) for rid in [*faults, *healthy]}  # each read once for every cut
    for frac in cuts:
        shown = [
            rid
            for rid, e in faults.items()
            if e["label"] in label_run(BY_ID[rid], frac, runs[rid])["present"]
        ]
        # a healthy run whose prefix the healthy check does not pass yet: not learned so far
        # (or a passing symptom), which a return-only fault looks like at that point
        not_yet = [rid for rid in healthy if label_run(BY_ID[rid], frac, runs[rid])["label"] != "healthy"]
        print(
            f"  cut {frac:.0%}: the labelled symptom is visible in {len(shown)} of {len(faults)}; "
            f"{len(not_yet)} of {len(healthy)} healthy runs do not pass the healthy check yet"
        )
    return 0


def prune_excluded() -> int:
    """Record the excluded runs in ``excluded.json`` and delete their files: they are never
    scored, and the benchmark must stay compact. ``make_runs.py`` does not retrain them (their
    meta file stays); ``--retry-failed`` aside, delete the meta file to train one again."""
    import shutil

    labels = json.loads(LABELS.read_text())
    kept = json.loads(EXCLUDED.read_text()) if EXCLUDED.exists() else {}
    for rid, entry in labels.items():
        if entry["label"] is None and (RUNS / rid).is_dir() and rid not in KEEP:
            kept[rid] = entry
            shutil.rmtree(RUNS / rid)
    EXCLUDED.write_text(json.dumps(kept, indent=1, sort_keys=True, default=float) + "\n")
    print(f"{len(kept)} excluded runs recorded in {EXCLUDED.name}; their files are removed")
    return 0


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--visible-at-cuts":
        return visible_at_cuts(sys.argv[2])
    if sys.argv[1:] == ["--prune-excluded"]:
        return prune_excluded()
    labels: dict[str, Any] = {}
    for run_dir in sorted(p for p in RUNS.iterdir() if p.is_dir()):
        spec = BY_ID.get(run_dir.name)
        if spec is None:
            continue
        labels[spec.run_id] = label_run(spec)
    # Excluded runs whose files were pruned keep their recorded verdict.
    if EXCLUDED.exists():
        for rid, entry in json.loads(EXCLUDED.read_text()).items():
            labels.setdefault(rid, entry)
    LABELS.write_text(json.dumps(labels, indent=1, sort_keys=True, default=float) + "\n")
    counts: dict[tuple[str, str], int] = {}
    for e in labels.values():
        key = (str(e["label"]), e["split"])
        counts[key] = counts.get(key, 0) + 1
    for label in sorted({k[0] for k in counts}):
        print(f"{label:28s} dev {counts.get((label, 'dev'), 0):3d}  test {counts.get((label, 'test'), 0):3d}")
    for rid, e in labels.items():
        if e["label"] is None:
            print(f"excluded: {rid}: {e['excluded']}")
        elif e["label"] != e["intended"]:
            print(f"relabelled: {rid}: intended {e['intended']}, labelled {e['label']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
