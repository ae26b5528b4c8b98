"""Diagnosis accuracy on the labelled benchmark: final verdicts, live (prefix) verdicts, advice.

The runs are the real SB3 trainings under ``bench/benchmark/runs/`` (``make_runs.py``), their
labels come from their own numbers by the written protocol (``bench/benchmark/PROTOCOL.md``,
``label.py`` -> ``labels.json``), and a fixed hash splits them into ``dev`` (rules may be
tuned on it) and ``test`` (only reported). ``holdout`` holds third seeds trained after round 2's
rules were written (``specs.HOLDOUT``), ``fresh`` fourth seeds trained after round 3's
(``specs.FRESH``), ``fresh2`` fifth seeds trained after round 3's last change
(``specs.FRESH2``) and ``fresh3`` round 4's runs of the two thin categories (performance
collapse, exploration; ``specs.FRESH3``) and ``fresh4`` sixth seeds trained after round 4's rule
changes (``specs.FRESH4``) and ``fresh5`` seventh seeds trained in round 5 before its rule
changes were made on ``dev`` (``specs.FRESH5``) and ``fresh6`` eighth seeds trained after
``fresh5`` had been scored, before the changes made after it (``specs.FRESH6``) and ``fresh7``
ninth seeds trained before round 7's rule changes (``specs.FRESH7``) and ``fresh8`` tenth
seeds trained before round 8's (``specs.FRESH8``) and ``fresh9`` eleventh seeds trained before
round 9's (``specs.FRESH9``) and ``fresh10`` twelfth seeds trained before round 10's
(``specs.FRESH10``) and ``fresh11`` thirteenth seeds trained during round 11
(``specs.FRESH11``) and ``fresh12`` fourteenth seeds trained after it was scored
(``specs.FRESH12``) and ``fresh13`` fifteenth seeds trained in round 12 (``specs.FRESH13``)
and ``fresh14`` sixteenth seeds trained at the start of round 13 (``specs.FRESH14``) and
``fresh15`` seventeenth seeds trained at the start of round 14 (``specs.FRESH15``) and
``fresh16`` eighteenth seeds trained at the start of round 15 (``specs.FRESH16``) and
``fresh17`` nineteenth seeds trained at the start of round 16 (``specs.FRESH17``) and ``wide``
(algorithm, env) pairs no earlier run trains (``specs.WIDE``) and ``wide2`` their second seeds
(``specs.WIDE2``) and ``wide3`` round 9's new pairs (``specs.WIDE3``) and ``wide4`` round 13's
(``specs.WIDE4``) and ``wide5`` round 14's MuJoCo pairs (``specs.WIDE5``) and ``wide6`` round 16's
Atari games (``specs.WIDE6``), each scored once when it was new.
By default only ``test`` is scored.

For every run the script evaluates sb3doctor's built-in rules in process, on the whole run and
on prefixes of it (the first 25%, 50%, 75% of its steps, and every 5% for the time to detect),
which is what ``watch`` and ``DoctorCallback`` see mid-training. Only warning and error
findings count as predictions.

It prints, side by side in one run:

- per category: TP, FP, FN, precision and recall with 95% Wilson intervals, for sb3doctor and
  for the peer zen-rl (``bench/peers/zen_rl.py``) on the same runs;
- the root-cause confusion table (label -> the category of the first root finding);
- per cut: recall, healthy runs with a warning/error, and per category the recall, the false
  alarms and the median time to detect (the first 5% cut at which the label is found, as a
  fraction of the run);
- advice checks: every ``lr_too_high`` run's learning-rate advice within 10x of SB3's default or
  rl-zoo's value, and no run with contradictory or no-op advice.

A finding whose category the protocol found present on the run (``present`` in labels.json)
is a true co-finding, not a false positive.

Usage::

    python bench/accuracy.py                  # test split
    python bench/accuracy.py --split dev      # the split rules may be tuned on
    python bench/accuracy.py --split holdout  # third seeds trained after round 2's rules
    python bench/accuracy.py --split fresh    # fourth seeds trained after round 3's rules
    python bench/accuracy.py --split fresh2   # fifth seeds trained after round 3's last change
    python bench/accuracy.py --split fresh3   # round 4's collapse and exploration runs
    python bench/accuracy.py --split fresh4   # sixth seeds trained after round 4's rule changes
    python bench/accuracy.py --split fresh5   # seventh seeds trained before round 5's rule changes
    python bench/accuracy.py --split fresh6   # eighth seeds trained after fresh5 was scored
    python bench/accuracy.py --split fresh7   # ninth seeds trained before round 7's rule changes
    python bench/accuracy.py --split wide     # algorithm/env pairs no earlier run trains
    python bench/accuracy.py --split wide2    # their second seeds, trained after wide was scored
    python bench/accuracy.py --no-peer        # without zen-rl
    python bench/accuracy.py --check          # exit 1 unless the done-when targets hold
    python bench/accuracy.py --json out.json  # every verdict, for inspection
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import sys
import tempfile
import time
from array import array
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sb3doctor import knowledge  # noqa: E402
from sb3doctor.engine import evaluate  # noqa: E402
from sb3doctor.model import Finding, Run, Series  # noqa: E402
from sb3doctor.reference import detect_env_id  # noqa: E402
from sb3doctor.rules_path import builtin_rules_dir  # noqa: E402
from sb3doctor.ruleset import load_rules  # noqa: E402
from sb3doctor.sources import read_runs  # noqa: E402
from sb3doctor.sources.hyperparams import recover_hyperparams  # noqa: E402

BENCH = ROOT / "bench" / "benchmark"
RUNS = BENCH / "runs"
LABELS = BENCH / "labels.json"
CUTS = (0.25, 0.5, 0.75, 1.0)
DETECT_STEPS = tuple(round(0.05 * i, 2) for i in range(1, 21))
COUNTED = ("warning", "error")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n (NaNs when n is 0)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def config_given(run: Run) -> dict[str, Any]:
    """The hyperparameters a config file gave ``run`` (rl-zoo's config.yml: vf_coef, n_envs,
    policy_kwargs, the env id): those its logs alone do not show, or show otherwise."""
    from_logs = recover_hyperparams(run, {})
    return {k: v for k, v in run.hyperparams.items() if k not in from_logs or from_logs[k] != v}


def read_custom_env(folder: Path) -> Run:
    """The run in ``folder`` as a plain SB3 script on a custom env leaves it: the event file
    (``tensorboard_log``) and the Monitor's csv files, no rl-zoo config, and no env id sb3doctor
    has reference numbers for (an env that is not registered writes ``"env_id": "None"`` in the
    Monitor header; one registered under its own name is unknown to rl-zoo alike)."""
    with tempfile.TemporaryDirectory() as tmp:
        # a neutral folder name: a benchmark run's folder names its env
        view = Path(tmp) / "run"
        view.mkdir()
        for f in [*folder.glob("events.out.tfevents.*"), *folder.glob("*monitor.csv")]:
            (view / f.name).symlink_to(f.resolve())
        (run,) = read_runs(view)
        # read eagerly above; the view goes with the temporary folder
    for key in ("env_id", "env_id_source"):
        run.facts.pop(key, None)
    run.hyperparams.pop("env_id", None)
    return run


def truncate(run: Run, frac: float, given: dict[str, Any]) -> Run:
    """The run as a live diagnosis saw it when ``frac`` of its steps had been logged; ``given``
    is :func:`config_given` of the run, computed once for all its cuts."""
    if frac >= 1.0:
        return run
    rng = run.step_range()
    if rng is None:
        return run
    cut = rng[0] + frac * (rng[1] - rng[0])
    out = copy.copy(run)
    out.live = True  # a prefix, as watch and DoctorCallback see it
    out.metrics = {}
    for name, s in run.metrics.items():
        keep = [i for i, st in enumerate(s.steps) if st <= cut]
        if keep:
            out.metrics[name] = Series(
                array("q", (s.steps[i] for i in keep)),
                array("d", (s.values[i] for i in keep)),
                array("d", (s.wall_times[i] for i in keep)),
            )
    # What the logs show is recomputed from the prefix; what a config file gave is known from
    # the first table on, as watch (which reads those files) and DoctorCallback (which asks the
    # model) know it.
    out.hyperparams = recover_hyperparams(out, {"hyperparams": given})
    return out


def counted(findings: list[Finding]) -> set[str]:
    """Categories of the warning/error findings."""
    return {f.category for f in findings if f.severity in COUNTED}


def root_category(findings: list[Finding]) -> str:
    """The category of the first warning/error root finding (findings are in plan order)."""
    for f in findings:
        if f.severity in COUNTED and f.caused_by is None:
            return f.category
    return "none"


def score(
    verdicts: dict[str, set[str]], labels: dict[str, dict[str, Any]], categories: list[str]
) -> dict[str, dict[str, Any]]:
    """Per-category TP/FP/FN, precision and recall with Wilson intervals."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for rid, found in verdicts.items():
        lab = labels[rid]
        label, present = lab["label"], set(lab["present"])
        if label != "healthy":
            if label in found:
                tp[label] += 1
            else:
                fn[label] += 1
        for c in found:
            if c != label and c not in present:
                fp[c] += 1
    out = {}
    for c in categories:
        n_rec, n_prec = tp[c] + fn[c], tp[c] + fp[c]
        out[c] = {
            "tp": tp[c],
            "fp": fp[c],
            "fn": fn[c],
            "recall": tp[c] / n_rec if n_rec else math.nan,
            "recall_ci": wilson(tp[c], n_rec),
            "precision": tp[c] / n_prec if n_prec else math.nan,
            "precision_ci": wilson(tp[c], n_prec),
        }
    return out


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.0%}"


def _ci(ci: tuple[float, float]) -> str:
    return "" if math.isnan(ci[0]) else f" [{ci[0]:.0%}-{ci[1]:.0%}]"


def advice_problems(run: Run, findings: list[Finding], label: str) -> list[str]:
    """Contradictory or no-op advice, and (lr_too_high runs) a learning rate not brought near a reference."""
    problems = []
    per_param: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        for a in f.advice:
            if a.current is not None and a.suggested is not None and str(a.current) == str(a.suggested):
                problems.append(f"no-op advice {a.param} {a.current} -> {a.suggested} ({f.rule})")
            if isinstance(a.current, (int, float)) and isinstance(a.suggested, (int, float)):
                per_param[a.param].add("down" if a.suggested < a.current else "up")
    for param, dirs in per_param.items():
        if len(dirs) > 1:
            problems.append(f"contradictory advice on {param}")
    if label == "lr_too_high":
        lr_advice = [
            a for f in findings if f.severity in COUNTED for a in f.advice if a.param == "learning_rate"
        ]
        default = knowledge.sb3_default(run.algo or "", "learning_rate")
        env_id = detect_env_id(run)[0]
        zoo = knowledge.zoo_value(run.algo or "", env_id, "learning_rate") if env_id else None
        refs = [r for r in (default, zoo) if isinstance(r, (int, float)) and r > 0]
        ok = any(
            isinstance(a.suggested, (int, float)) and any(r / 10 <= a.suggested <= r * 10 for r in refs)
            for a in lr_advice
        )
        if not ok:
            got = ", ".join(f"{a.current} -> {a.suggested}" for a in lr_advice) or "no learning_rate advice"
            problems.append(f"learning_rate advice not within 10x of {refs}: {got}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--split",
        choices=(
            *("test", "holdout", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7"),
            *("fresh8", "fresh9", "fresh10", "fresh11", "fresh12", "fresh13", "fresh14"),
            *("fresh15", "fresh16", "fresh17"),
            *("wide", "wide2", "wide3", "wide4", "wide5", "wide6", "dev", "all"),
        ),
        default="test",
    )
    parser.add_argument("--no-peer", action="store_true", help="skip zen-rl")
    parser.add_argument("--check", action="store_true", help="exit 1 unless the targets hold")
    parser.add_argument("--json", type=Path, help="write every verdict here")
    parser.add_argument(
        "--sources",
        choices=("all", "events", "events+env", "events+monitor"),
        default="all",
        help="all: every file of the run folder (event file, monitor.csv with its env id, rl-zoo "
        "config); events: the TensorBoard event file alone, as a plain tensorboard_log run gives it "
        "(no episode data, env unknown); events+env: the event file with the env id and planned "
        "length a user gives with --env and --total-timesteps; events+monitor: the event file and "
        "monitor.csv with the env id taken out, as a plain SB3 script on a custom env gives them "
        "(no rl-zoo config, no reference returns, planned length unknown)",
    )
    args = parser.parse_args()

    labels_all: dict[str, dict[str, Any]] = json.loads(LABELS.read_text())
    labels = {
        rid: lab
        for rid, lab in labels_all.items()
        if lab["label"] is not None
        and (args.split == "all" or lab["split"] == args.split)
        and (RUNS / rid).is_dir()
    }
    excluded = [rid for rid, lab in labels_all.items() if lab["label"] is None]
    rules = load_rules([builtin_rules_dir()])
    t0 = time.perf_counter()
    final: dict[str, list[Finding]] = {}
    at_cut: dict[float, dict[str, set[str]]] = {c: {} for c in CUTS}
    detect_at: dict[str, float | None] = {}
    # healthy runs with a warning or error at any of the 5% cuts, by rule: what
    # `watch --exit-on warning` would have stopped somewhere, not only at 25/50/75%
    warned_anywhere: dict[str, set[str]] = {}
    runs: dict[str, Run] = {}
    for rid in sorted(labels):
        if args.sources == "events+monitor":
            run = read_custom_env(RUNS / rid)
        elif args.sources.startswith("events"):
            (run,) = read_runs(next((RUNS / rid).glob("events.out.tfevents.*")))
            if args.sources == "events+env":
                # what `watch --env ENV --total-timesteps N` (and analyze's options) add
                (whole,) = read_runs(RUNS / rid)
                for key in ("env_id", "planned_timesteps"):
                    if key in whole.hyperparams:
                        run.hyperparams[key] = whole.hyperparams[key]
        else:
            (run,) = read_runs(RUNS / rid)
        runs[rid] = run
        label = labels[rid]["label"]
        first_hit: float | None = None
        given = config_given(run)
        for frac in sorted(set(CUTS) | set(DETECT_STEPS)):
            findings = evaluate(truncate(run, frac, given), rules)
            found = counted(findings)
            if frac in at_cut:
                at_cut[frac][rid] = found
            if frac == 1.0:
                final[rid] = findings
            if first_hit is None and label in found:
                first_hit = frac
            if label == "healthy" and found:
                warned_anywhere.setdefault(rid, set()).update(
                    f.rule for f in findings if f.severity in COUNTED
                )
        detect_at[rid] = first_hit
    elapsed = time.perf_counter() - t0

    cats = sorted({lab["label"] for lab in labels.values()} - {"healthy"})
    n_healthy = sum(1 for lab in labels.values() if lab["label"] == "healthy")
    n_fault = len(labels) - n_healthy
    what = {
        "events": "event files only",
        "events+env": "event files with the env id and planned length given",
        "events+monitor": "event files and monitor.csv, env unknown: a custom env",
    }.get(args.sources, "every log file of each run")
    print(f"# sb3doctor accuracy on the `{args.split}` split ({what})")
    print()
    print(
        f"{len(labels)} labelled runs ({n_fault} fault runs, {n_healthy} healthy), "
        f"{len(excluded)} runs excluded by the protocol; evaluated at {len(DETECT_STEPS)} cuts "
        f"in {elapsed:.1f}s"
    )
    print()

    peer: dict[str, set[str]] = {}
    peer_errors: dict[str, str] = {}
    if not args.no_peer:
        try:
            from bench.peers import zen_rl
        except ImportError:
            zen_rl = None  # type: ignore[assignment]
        if zen_rl is not None and zen_rl.available():
            for rid in sorted(labels):
                res = zen_rl.diagnose(RUNS / rid)
                peer[rid] = set(res.categories)
                if res.error:
                    peer_errors[rid] = res.error
        else:
            print("(zen-rl is not installed: pip install zen-rl; peer columns left out)\n")

    ours = score(at_cut[1.0], labels, cats)
    theirs = score(peer, labels, cats) if peer else {}
    print("## Final verdicts, per category (95% Wilson intervals)")
    print()
    head = "| category | runs | sb3doctor recall | sb3doctor precision |"
    sep = "|---|---:|---|---|"
    if theirs:
        head += " zen-rl recall | zen-rl precision |"
        sep += "---|---|"
    print(head)
    print(sep)
    for c in cats:
        o = ours[c]
        row = (
            f"| {c} | {o['tp'] + o['fn']} | {_pct(o['recall'])}{_ci(o['recall_ci'])} "
            f"| {_pct(o['precision'])}{_ci(o['precision_ci'])} |"
        )
        if theirs:
            p = theirs[c]
            row += f" {_pct(p['recall'])}{_ci(p['recall_ci'])}"
            row += f" | {_pct(p['precision'])}{_ci(p['precision_ci'])} |"
        print(row)
    tot_tp = sum(o["tp"] for o in ours.values())
    tot_fn = sum(o["fn"] for o in ours.values())
    n_all = tot_tp + tot_fn
    row = f"| **all faults** | {n_all} | {_pct(tot_tp / max(1, n_all))}{_ci(wilson(tot_tp, n_all))} | |"
    if theirs:
        p_tp = sum(p["tp"] for p in theirs.values())
        p_fn = sum(p["fn"] for p in theirs.values())
        row += f" {_pct(p_tp / max(1, p_tp + p_fn))}{_ci(wilson(p_tp, p_tp + p_fn))} | |"
    print(row)
    print()
    healthy = [rid for rid, lab in labels.items() if lab["label"] == "healthy"]
    alarms = [rid for rid in healthy if at_cut[1.0][rid]]
    line = f"Healthy runs with a warning or error: sb3doctor {len(alarms)} of {len(healthy)}"
    if peer:
        p_alarms = [rid for rid in healthy if peer.get(rid)]
        line += f"; zen-rl {len(p_alarms)} of {len(healthy)}"
    print(line)
    if peer_errors:
        print(f"zen-rl could not read {len(peer_errors)} runs (counted as no finding)")
    print()

    print("## Root cause: label -> category of the first root finding (sb3doctor)")
    print()
    cols = [*cats, "none"]
    print("| label \\ root | " + " | ".join(c.replace("_", " ") for c in cols) + " | other |")
    print("|---|" + "---:|" * (len(cols) + 1))
    for lab_name in [*cats, "healthy"]:
        roots = Counter(root_category(final[rid]) for rid, lab in labels.items() if lab["label"] == lab_name)
        other = sum(n for c, n in roots.items() if c not in cols)
        print(
            f"| {lab_name} | " + " | ".join(str(roots.get(c, 0) or "") for c in cols) + f" | {other or ''} |"
        )
    print()

    print("## Live: the same runs cut at a fraction of their steps (what watch and DoctorCallback see)")
    print()
    print("| cut | recall (all faults) | healthy runs with a warning/error |")
    print("|---|---|---|")
    for c in CUTS:
        hits = sum(
            1 for rid, lab in labels.items() if lab["label"] != "healthy" and lab["label"] in at_cut[c][rid]
        )
        ha = sum(1 for rid in healthy if at_cut[c][rid])
        print(
            f"| {c:.0%} | {_pct(hits / max(1, n_fault))} ({hits}/{n_fault}){_ci(wilson(hits, n_fault))} "
            f"| {ha} of {len(healthy)} |"
        )
    print()
    zoo = [rid for rid in healthy if rid.startswith("healthy-")]
    print(
        f"Healthy runs with a warning or error at any of the {len(DETECT_STEPS)} cuts (what "
        f"`watch --exit-on warning` would have stopped): {len(warned_anywhere)} of {len(healthy)}; "
        f"of the {len(zoo)} with rl-zoo's settings, {sum(1 for r in zoo if r in warned_anywhere)}"
    )
    by_rule = Counter(rule for rules_hit in warned_anywhere.values() for rule in rules_hit)
    if by_rule:
        ranked = sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))  # ties by name: stable output
        print("(by rule: " + ", ".join(f"{rule} {n}" for rule, n in ranked) + ")")
    print()
    print(
        "| category | recall at 25% / 50% / 75% / 100% | false alarms at 25% / 50% / 75% / 100% "
        "| median time to detect (fraction of the run) |"
    )
    print("|---|---|---|---|")
    for cat in cats:
        ids = [rid for rid, lab in labels.items() if lab["label"] == cat]
        rec = " / ".join(_pct(sum(1 for r in ids if cat in at_cut[c][r]) / len(ids)) for c in CUTS)
        # a finding of this category on a run whose label is another one and on which the
        # protocol did not find the symptom either (the same rule as the precision column)
        fa = " / ".join(
            str(
                sum(
                    1
                    for r, lab in labels.items()
                    if cat in at_cut[c][r] and lab["label"] != cat and cat not in lab["present"]
                )
            )
            for c in CUTS
        )
        times = [detect_at[r] for r in ids if detect_at[r] is not None]
        med = f"{statistics.median(times):.0%}" if times else "-"
        print(f"| {cat} | {rec} | {fa} | {med} ({len(times)} of {len(ids)} detected) |")
    print()

    print("## Advice")
    print()
    advice_issues = {}
    for rid, findings in final.items():
        probs = advice_problems(runs[rid], findings, labels[rid]["label"])
        if probs:
            advice_issues[rid] = probs
    n_lr = sum(1 for lab in labels.values() if lab["label"] == "lr_too_high")
    lr_bad = [rid for rid, p in advice_issues.items() if any(x.startswith("learning_rate advice") for x in p)]
    print(
        "lr_too_high runs advised to within 10x of SB3's default or rl-zoo's value: "
        f"{n_lr - len(lr_bad)} of {n_lr}"
    )
    other = {
        rid: [x for x in p if not x.startswith("learning_rate advice")] for rid, p in advice_issues.items()
    }
    other = {rid: p for rid, p in other.items() if p}
    print(f"runs with contradictory or no-op advice: {len(other)} of {len(final)}")
    for rid, p in sorted(advice_issues.items()):
        print(f"  {rid}: {'; '.join(p)}")
    print()

    print("## Per run")
    print()
    print("| run | label | found (warning/error) | root | zen-rl |")
    print("|---|---|---|---|---|")
    for rid in sorted(labels):
        found = ", ".join(sorted(at_cut[1.0][rid])) or "-"
        mark = (
            ""
            if (labels[rid]["label"] == "healthy") == (not at_cut[1.0][rid])
            or labels[rid]["label"] in at_cut[1.0][rid]
            else " **x**"
        )
        print(
            f"| {rid} | {labels[rid]['label']} | {found}{mark} | {root_category(final[rid])} "
            f"| {', '.join(sorted(peer.get(rid, set()))) or '-'} |"
        )

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    rid: {
                        "label": labels[rid]["label"],
                        "present": labels[rid]["present"],
                        "findings": [f.to_dict() for f in final[rid]],
                        "cuts": {str(c): sorted(at_cut[c][rid]) for c in CUTS},
                        "detect_at": detect_at[rid],
                        "warned_anywhere": sorted(warned_anywhere.get(rid, set())),
                        "zen_rl": sorted(peer.get(rid, set())),
                    }
                    for rid in sorted(labels)
                },
                indent=1,
            )
        )
    if args.check:
        ok = not alarms and not other and not lr_bad
        ok = ok and all(o["recall"] >= 0.9 for o in ours.values() if o["tp"] + o["fn"] >= 6)
        half_hits = sum(
            1 for rid, lab in labels.items() if lab["label"] != "healthy" and lab["label"] in at_cut[0.5][rid]
        )
        ok = ok and half_hits >= 0.8 * n_fault
        ok = ok and not any(at_cut[c][rid] for c in (0.25, 0.5) for rid in healthy)
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
