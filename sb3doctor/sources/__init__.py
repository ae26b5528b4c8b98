"""Readers for every log format SB3 writes, and :func:`read_runs` that ties them together.

This package is the only code that opens log files. It never writes anything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sb3doctor.errors import InputError, printable
from sb3doctor.model import Run, Series, SourceData
from sb3doctor.sources.detect import detect_algo
from sb3doctor.sources.discover import (
    CONFIG,
    EVALUATIONS,
    MONITOR,
    PROGRESS_CSV,
    PROGRESS_JSON,
    SCALARS_SUBFOLDER,
    STDOUT,
    TENSORBOARD,
    ZOO_CONFIG,
    RunFiles,
    discover,
)
from sb3doctor.sources.hyperparams import recover_hyperparams
from sb3doctor.sources.merge import merge_sources
from sb3doctor.sources.pairing import attach_monitor_folders

__all__ = ["build_run", "make_names_unique", "read_run_files", "read_runs", "read_runs_tolerant"]


def read_runs(path: str | Path, *, strict: bool = False) -> list[Run]:
    """Read every run under ``path`` into :class:`~sb3doctor.model.Run` objects.

    :param path: a run folder, a parent of run folders, one log file, or ``-`` (stdin)
    :param strict: fail on a corrupt record in the middle of an event file instead of
        skipping it with a warning
    :raises InputError: the path does not exist, cannot be read, or holds no SB3 log
    """
    runs, problems = read_runs_tolerant(path, strict=strict)
    if problems:  # the library call keeps its contract: every run folder or an error
        raise InputError(problems[0])
    return runs


def read_runs_tolerant(path: str | Path, *, strict: bool = False) -> tuple[list[Run], list[str]]:
    """Like :func:`read_runs`, but a run folder that cannot be read is skipped and reported.

    Returns ``(runs, problems)``, one line per skipped folder. ``analyze logs/`` with 48 run
    folders must not exit 2 because one of them holds a stray file.

    :param strict: also fail on a corrupt record inside an event file (see :func:`read_runs`)
    :raises InputError: no run under ``path`` could be read (the first problem)
    """
    runs: list[Run] = []
    problems: list[str] = []
    first: InputError | None = None
    for run_files in attach_monitor_folders(attach_add_scalars(attach_zoo_tensorboard(discover(path)))):
        try:
            runs.extend(read_run_files(run_files, strict=strict))
        except InputError as exc:
            first = first or exc
            problems.append(str(exc))
    if not runs and first is not None:
        raise first
    return _drop_printed_twins(runs), problems


def attach_zoo_tensorboard(found: list[RunFiles]) -> list[RunFiles]:
    """Join each rl-zoo run folder (``logs/ppo/CartPole-v1_1``) and the TensorBoard run the zoo
    wrote for it (``--tensorboard-log tb`` -> ``tb/CartPole-v1/PPO_1``) into one run, when
    both are under the analysed path: the zoo folder has the episodes, evaluations and
    hyperparameters, the event file the training metrics.

    The zoo and SB3 number their folders the same way (one more than the highest there), so for
    each (algorithm, env) the n-th zoo folder goes with the n-th event-file folder under
    ``<tensorboard_log>/<env>/``, when there are as many of each; otherwise they stay apart.
    """
    if not any(rf.files.get(ZOO_CONFIG) for rf in found):
        return found  # no rl-zoo folder: not even the zoo's YAML loader is imported
    from sb3doctor.sources.discover import natural_key
    from sb3doctor.sources.zoo import read_zoo_config

    zoo: dict[tuple[str, str], list[RunFiles]] = {}
    tb_folder: dict[tuple[str, str], set[str]] = {}  # the --tensorboard-log folder names
    for rf in found:
        if rf.error is not None or not rf.files.get(ZOO_CONFIG) or TENSORBOARD in rf.files:
            continue
        try:
            cfg = read_zoo_config(rf.files[ZOO_CONFIG])
        except InputError:
            continue  # read, and reported, with the run itself
        algo, env, tb_log = cfg.get("algo"), cfg.get("env_id"), cfg.get("tensorboard_log")
        if isinstance(algo, str) and isinstance(env, str) and isinstance(tb_log, str):
            zoo.setdefault((algo, env), []).append(rf)
            tb_folder.setdefault((algo, env), set()).add(Path(tb_log).name)
    if not zoo:
        return found
    tbs: dict[tuple[str, str], list[RunFiles]] = {key: [] for key in zoo}
    for rf in found:
        m = _SB3_RUN_DIR.match(rf.path.name) if set(rf.files) == {TENSORBOARD} else None
        key = (m.group(1), rf.path.parent.name) if m else None
        if key in zoo and tb_folder[key] & set(rf.path.parts):
            tbs[key].append(rf)
    joined: set[int] = set()
    for key, zoo_runs in zoo.items():
        if len(tbs[key]) != len(zoo_runs):
            continue
        pairs = zip(
            sorted(zoo_runs, key=lambda r: natural_key(r.path.name)),
            sorted(tbs[key], key=lambda r: natural_key(r.path.name)),
            strict=True,
        )
        for zoo_run, tb_run in pairs:
            for event_file in tb_run.files[TENSORBOARD]:
                zoo_run.add(TENSORBOARD, event_file)
            joined.add(id(tb_run))
    return [rf for rf in found if id(rf) not in joined]


def attach_add_scalars(found: list[RunFiles]) -> list[RunFiles]:
    """Give ``SummaryWriter.add_scalars`` sub-folders to their run: ``add_scalars("reward",
    {"train": ..., "eval": ...})`` beside SB3's logger writes ``PPO_1/reward_train/`` and
    ``PPO_1/reward_eval/``, each with an event file holding the tag ``reward``. They are part of
    ``PPO_1``, not runs of their own (which, holding no SB3 key, would be refused).

    A sub-folder named like an SB3 run (``PPO_2``: an algorithm's class name and a number)
    stays a run of its own.
    """
    by_path = {rf.path: rf for rf in found if TENSORBOARD in rf.files}
    kept: list[RunFiles] = []
    for rf in found:
        parent = by_path.get(rf.path.parent)
        if (
            parent is not None
            and set(rf.files) == {TENSORBOARD}
            and not _SB3_CLASS_RUN_DIR.match(rf.path.name)
        ):
            for event_file in rf.files[TENSORBOARD]:
                parent.add(SCALARS_SUBFOLDER, event_file)
            continue
        kept.append(rf)
    return kept


def _scalars_subfolder_source(path: Path, strict: bool) -> SourceData:
    """The event file of an ``add_scalars`` sub-folder, its tags named as TensorBoard shows
    them: the folder ``reward_train`` holds the tag ``reward`` -> ``reward/train``."""
    from sb3doctor.sources import tensorboard

    src = tensorboard.read_event_file(path, strict=strict)
    src.metrics = scalars_subfolder_names(path, src.metrics)
    return src


def scalars_subfolder_names(path: Path, metrics: dict[str, Series]) -> dict[str, Series]:
    """The tags of an ``add_scalars`` sub-folder's event file at ``path``, named as TensorBoard
    shows them: the folder ``reward_train`` holds the tag ``reward`` -> ``reward/train``."""
    folder = path.parent.name
    renamed = {}
    for tag, series in metrics.items():
        key = folder[len(tag) + 1 :] if folder.startswith(f"{tag}_") else folder
        renamed[printable(f"{tag}/{key}", one_line=True)] = series
    return renamed


#: A folder SB3 itself would name (``PPO_2``): a class name, capitalised, and a number.
_SB3_CLASS_RUN_DIR = re.compile(r"^[A-Z][A-Za-z0-9]*_\d+$")
#: SB3's TensorBoard run folders: ``<tb_log_name>_<n>``, tb_log_name being the class name.
_SB3_RUN_DIR = re.compile(r"^([A-Za-z0-9]+)_(\d+)$")


def _drop_printed_twins(runs: list[Run]) -> list[Run]:
    """Runs read only from a stdout log that another run of the analysis already holds as its
    event or progress file, dropped: ``tensorboard_log="logs/"`` with the output tee'd to
    ``logs/train.log`` is one training, not two with every finding twice. The precise source
    is kept, and says where its printed copy is.
    """
    printed = [r for r in runs if r.sources == ["stdout"]]
    logged = [r for r in runs if r.sources != ["stdout"]]
    if not printed or not logged:
        return runs  # nothing to compare: the common case costs nothing
    from sb3doctor.sources.identity import same_training

    # Step ranges scan every point: once per run, not once per pair.
    spans = {id(r): r.step_range() for r in runs}
    dropped: set[int] = set()
    for run in printed:
        span = spans[id(run)]
        if span is None:
            continue
        for other in logged:
            o = spans[id(other)]
            if (
                o is not None
                and span[0] <= o[1]
                and o[0] <= span[1]
                and same_training(run.metrics, other.metrics)
            ):
                where = ", ".join(printable(str(p), one_line=True) for p in run.source_files)
                other.warnings.append(f"{where}: the printed output of this training; read once, here")
                dropped.add(id(run))
                break
    return [r for r in runs if id(r) not in dropped]


def make_names_unique(runs: list[Run]) -> list[Run]:
    """Give runs that share a display name (every training folder's first run is ``PPO_1``)
    the shortest path suffix that tells them apart: ``seed1/PPO_1``, ``seed2/PPO_1``.

    Aggregation, groups, export rows and CI report names are keyed by it, so two seeds
    named alike can never overwrite each other. Returns ``runs`` (changed in place).
    """
    by_name: dict[str, list[Run]] = {}
    for run in runs:
        by_name.setdefault(run.name, []).append(run)
    for name, clash in by_name.items():
        if len(clash) < 2:
            continue
        parts = [Path(r.path).absolute().parts for r in clash]
        for depth in range(2, max(len(p) for p in parts) + 1):
            names = [printable("/".join(p[-depth:]), one_line=True) for p in parts]
            if len(set(names)) == len(names):
                break
        suffix = name.split("#", 1)[1] if "#" in name else None
        for run, new in zip(clash, names, strict=True):
            run.name = f"{new}#{suffix}" if suffix and not new.endswith(f"#{suffix}") else new
    # Runs read from one stdout file (file#1, file#2) differ by their suffix already.
    return runs


def read_run_files(run_files: RunFiles, *, strict: bool = False) -> list[Run]:
    """Read and merge the files of one run folder.

    Usually one run; a stdout log holding several runs printed one after another gives one
    run per printed run (named ``<name>#1``, ``#2``, ...), which are not merged with the
    folder's other sources.
    """
    # Imported here so that `import sb3doctor` stays cheap; each reader is small anyway.
    from sb3doctor.sources import monitor, progress, stdout, tensorboard

    if run_files.error is not None:
        raise InputError(run_files.error, run_files.path)

    sources: list[SourceData] = []
    separate: list[list[SourceData]] = []
    printed_by_file: list[tuple[Path, list[SourceData]]] = []
    skipped: list[str] = []
    unreadable: list[InputError] = []

    def tolerant(read: Callable[..., SourceData], *args: Any, **kwargs: Any) -> SourceData | None:
        """``read(*args, **kwargs)``, or None with its error kept for after the loop: a zero-byte event file
        (a writer killed before its first flush), a Monitor file cut by a crash mid-write or an
        evaluations.npz being saved must not take down the run's readable files. Judged once
        they are all read: alone, the file's own error is the run's."""
        try:
            return read(*args, **kwargs)
        except InputError as exc:
            if strict:
                raise
            unreadable.append(exc)
            return None

    # Stdout logs last: the full key names of the precise sources let the stdout reader map
    # keys that HumanOutputFormat truncated ("...") back to their real names.
    kinds = sorted(run_files.files, key=lambda k: k == STDOUT)
    for kind in kinds:
        paths = run_files.files[kind]
        if kind == MONITOR:
            episodes = tolerant(monitor.read_monitor, paths)
            if episodes is None and len(paths) > 1:
                # one bad file of a vectorised env's Monitor files: read the others
                unreadable.pop()
                good = [p for p in paths if tolerant(monitor.read_monitor, [p]) is not None]
                episodes = monitor.read_monitor(good) if good else None
            if episodes is not None:
                sources.append(episodes)
            continue
        if kind == ZOO_CONFIG:
            continue  # hyperparameters, read below with config.json
        if kind == SCALARS_SUBFOLDER:
            sources.extend(_scalars_subfolder_source(p, strict) for p in paths)
            continue
        if kind == EVALUATIONS:
            from sb3doctor.sources.zoo import read_evaluations  # numpy: only for evaluations.npz

            evaluations = (tolerant(read_evaluations, p) for p in paths)
            sources.extend(src for src in evaluations if src is not None)
            continue
        for p in paths:
            if kind in (TENSORBOARD, PROGRESS_CSV, PROGRESS_JSON):
                if kind == TENSORBOARD:
                    one = tolerant(tensorboard.read_event_file, p, strict=strict)
                elif kind == PROGRESS_CSV:
                    one = tolerant(progress.read_progress_csv, p)
                else:
                    one = tolerant(progress.read_progress_json, p)
                if one is not None:
                    sources.append(one)
            elif kind == STDOUT:
                known = {key for src in sources for key in src.metrics}
                try:
                    printed = stdout.read_stdout(p, known_keys=known)
                except InputError as exc:
                    if strict or not sources:
                        raise
                    # A stray text file beside real logs (an empty stderr.log, a script's own
                    # output) must not take the run down: skip it, and say so.
                    skipped.append(f"{p}: skipped, {exc.message}")
                    continue
                if printed:
                    printed_by_file.append((p, printed))
    if unreadable:
        if not sources and not printed_by_file:
            raise unreadable[0]  # nothing else to read: the first file's own error
        skipped.extend(f"{exc.path}: skipped, {exc.message}" for exc in unreadable)
    names = _place_printed_runs(printed_by_file, sources, separate)

    config = read_run_config(run_files.files, skipped)
    sources = _drop_empty(sources, separate, skipped, run_files.path)
    runs: list[Run] = []
    if sources:
        run = build_run(run_files.path, run_files.name, sources, config)
        # Every file read, e.g. all monitor files of a vectorised env, not one per source.
        # (Less the stdout logs whose trainings became runs of their own.)
        own = {src.path for src in sources}
        alone = {src.path for group in separate for src in group} - own
        unread = {Path(exc.path) for exc in unreadable if exc.path is not None}
        read_files = [p for p in run_files.log_files if str(p) != "-" and p not in alone and p not in unread]
        run.source_files = read_files or run.source_files
        runs.append(run)
    for group, suffix in zip(separate, names, strict=True):
        runs.append(build_run(group[0].path, f"{run_files.name}{suffix}", group, config))
    if not runs:
        raise InputError("no SB3 metrics found in this log", run_files.path)
    for run in runs:
        run.warnings.extend(run_files.notes)
        run.warnings.extend(skipped)
    for run in runs:
        _check_sb3_keys(run)
    return runs


def _place_printed_runs(
    printed_by_file: list[tuple[Path, list[SourceData]]],
    sources: list[SourceData],
    separate: list[list[SourceData]],
) -> list[str]:
    """Decide, by content, which trainings printed to the folder's stdout logs belong with its
    other sources and which are runs of their own; returns the name suffixes of the latter.

    A printed training that repeats the folder's event file or progress file (the same values
    at the same steps: ``tee``'d output of the same ``learn()``) joins those sources. Beside
    them, any other is a training of its own. Without them, trainings printed one after
    another are joined where one continues the other (its timesteps go on past the last one,
    with the same keys), and are separate runs where the timesteps start again: a folder of
    job outputs from a PPO CartPole, a DQN and a SAC run is three runs, not one. Appends to
    ``sources`` (joined) and ``separate`` (one list per run of its own).
    """
    from sb3doctor.sources.identity import continues, same_training

    if not printed_by_file:
        return []
    if sources:
        logged = merge_sources(sources)
        alone: list[tuple[Path, int, SourceData]] = []
        for path, printed in printed_by_file:
            for i, src in enumerate(printed):
                if same_training(src.metrics, logged):
                    sources.append(src)
                else:
                    alone.append((path, i, src))
    else:
        groups: list[tuple[Path, int, list[SourceData]]] = []
        for path, printed in printed_by_file:
            for i, src in enumerate(printed):
                # The same output in two files (SB3's log.txt and a tee of the console) is one
                # run: the same tables, steps and values. Not merely the same numbers: two runs
                # of one script with a fixed seed print the same values too, over other steps
                # or keys, and inside one file trainings whose timesteps restart are separate.
                twin = next((g for g in groups if g[0] != path and _duplicate(src, g[2])), None)
                if twin is not None:
                    twin[2].append(src)
                elif groups and continues(merge_sources(groups[-1][2]), src.metrics):
                    groups[-1][2].append(src)
                else:
                    groups.append((path, i, [src]))
        if len(groups) == 1:  # one training, however many files: the folder's run, as always
            sources.extend(groups[0][2])
            return []
        alone = []
        for path, i, group in groups:
            separate.append(group)
            alone.append((path, i, group[0]))
        return _suffixes([(path, i) for path, i, _ in alone], printed_by_file)
    separate.extend([src] for _, _, src in alone)
    return _suffixes([(path, i) for path, i, _ in alone], printed_by_file)


def _duplicate(src: SourceData, group: list[SourceData]) -> bool:
    """``src`` prints exactly what ``group`` printed: the same keys over the same steps, with
    the same values (see :func:`~sb3doctor.sources.identity.same_training`)."""
    from sb3doctor.sources.identity import same_training

    logged = merge_sources(group)
    keys = {k for k, s in src.metrics.items() if len(s)}
    if keys != {k for k, s in logged.items() if len(s)}:
        return False
    if any(list(src.metrics[k].steps) != list(logged[k].steps) for k in keys):
        return False
    return same_training(src.metrics, logged)


def _suffixes(
    placed: list[tuple[Path, int]], printed_by_file: list[tuple[Path, list[SourceData]]]
) -> list[str]:
    """``#1``, ``#2`` ... when the separate runs all come from one stdout file (the names runs
    have always had); ``/<file>`` or ``/<file>#<i>`` when several files hold them."""
    files = {path for path, _ in placed}
    if len(files) <= 1 and len(printed_by_file) <= 1:
        return [f"#{n}" for n in range(1, len(placed) + 1)]
    per_file = {path: len(printed) for path, printed in printed_by_file}
    out = []
    for path, i in placed:
        name = printable(path.name, one_line=True)
        out.append(f"/{name}#{i + 1}" if per_file.get(path, 1) > 1 else f"/{name}")
    return out


#: Why a source of each kind holds no point, when its reader left no note.
_EMPTY = {
    "monitor": "no finished episode in it",
    "progress_csv": "a header but no row",
    "progress_json": "no JSON object in it",
}


def _drop_empty(
    sources: list[SourceData], separate: list[list[SourceData]], skipped: list[str], folder: Path
) -> list[SourceData]:
    """``sources`` without those that hold no point (an empty or header-only file, an event
    file with only its version record).

    Each dropped one is named in ``skipped``; when nothing else is left the run has no data,
    which is an error naming the file (never "no problems found" on nothing).
    """
    kept = [s for s in sources if any(len(series) for series in s.metrics.values())]
    if len(kept) == len(sources):
        return sources
    if kept:
        # Beside other data, a Monitor file with its header but no finished episode is a
        # fact, not an empty file: episodes are not ending (the env has no time limit), which
        # EP-NEVER-ENDS reports, and the Monitor wrapper is there, so MISSING-MONITOR must not
        # advise adding one. Its header also names the env.
        kept += [s for s in sources if s.kind == "monitor" and s.facts.get("episodes") == 0 and s not in kept]
        if len(kept) == len(sources):
            return sources
    empty = [s for s in sources if s not in kept]
    for src in empty:
        # The reader's own note says why (e.g. "empty (no dump written yet)"); else a generic one.
        own = [w for w in src.warnings if w.startswith(str(src.path))]
        skipped.extend(own or [f"{src.path}: {_EMPTY.get(src.kind, 'no data point in it')}: skipped"])
    if kept or separate:
        return kept
    first = empty[0]
    prefix = f"{first.path}: "
    reasons = [w[len(prefix) :] for w in first.warnings if w.startswith(prefix)]
    # The last note is the summary ("no scalar summaries ..." after "truncated ...").
    reason = reasons[-1] if reasons else _EMPTY.get(first.kind, "no data point in it")
    others = f" (nor in the {len(empty) - 1} other log file(s) of {folder})" if len(empty) > 1 else ""
    raise InputError(f"no data to analyze: {reason}{others}", first.path)


#: Namespaces SB3's logger writes (plus ``episode/`` from monitor.csv).
SB3_PREFIXES = ("rollout/", "train/", "time/", "eval/", "episode/")


def _check_sb3_keys(run: Run) -> None:
    """Refuse logs that hold scalars, but none that SB3 writes (another library's TensorBoard run)."""
    if not run.metrics or any(key.startswith(SB3_PREFIXES) for key in run.metrics):
        return
    sample = ", ".join(sorted(run.metrics)[:3])
    if not any("/" in key for key in run.metrics):
        # stable-baselines v2 / OpenAI baselines print un-namespaced keys (approxkl, nupdates).
        hint = "un-namespaced keys look like stable-baselines v2 or OpenAI baselines, which are not SB3"
    else:
        hint = "SB3 logs rollout/*, train/*, time/* and eval/*"
    raise InputError(f"not an SB3 log: no SB3 metric among its tags ({sample}); {hint}", run.path)


def build_run(path: Path, name: str, sources: list[SourceData], config: dict | None = None) -> Run:
    """Merge ``sources`` into a :class:`Run`: metric table, algorithm, hyperparameters."""
    from sb3doctor.sources.frames import align_monitor_steps

    facts: dict = {}
    warnings: list[str] = []
    sources, skip = align_monitor_steps(sources, config or {})
    if skip is not None:
        facts["frame_skip"], facts["frame_skip_source"] = skip
        if skip[1] == "clock":
            placed = (
                f"about {skip[0]:g} per agent step, measured against the logger's tables): each "
                "episode is placed at the step the training had reached when it ended"
            )
        else:
            placed = (
                f"{skip[0]:g} per agent step, AtariWrapper's frame skip in rl-zoo's config): its "
                f"episodes are placed at frames / {skip[0]:g}"
            )
        first = next(src.path for src in sources if src.kind == "monitor")
        warnings.append(f"{first}: the Monitor counts emulator frames ({placed}")
    metrics = merge_sources(sources)
    for src in sources:
        warnings.extend(src.warnings)
        for key, value in src.facts.items():
            facts.setdefault(key, value)
    names = [name, path.name]
    if isinstance(facts.get("log_dir"), str):
        names.insert(0, facts["log_dir"])
    if config and isinstance(config.get("algo"), str):
        names.insert(0, config["algo"])
    algo = detect_algo(metrics.keys(), names)
    run = Run(
        path=path,
        name=name,
        algo=algo,
        sources=sorted({s.kind for s in sources}),
        source_files=[s.path for s in sources],
        metrics=metrics,
        warnings=warnings,
        facts=facts,
    )
    run.hyperparams = recover_hyperparams(run, config or {})
    return run


def read_run_config(files: Mapping[str, list[Path]], skipped: list[str] | None = None) -> dict:
    """The configuration files of one run, merged: ``config.json`` (``sb3doctor train``), and
    rl-zoo's ``config.yml`` / ``args.yml`` for what it does not say. A ``hyperparams`` entry
    that is not a mapping is dropped, with a line in ``skipped``. Raises :class:`InputError`
    on a file that cannot be read."""
    config = _read_config(files.get(CONFIG, []))
    if "hyperparams" in config and not isinstance(config["hyperparams"], dict):
        kind = type(config.pop("hyperparams")).__name__
        if skipped is not None:
            skipped.append(f"{files[CONFIG][0]}: 'hyperparams' is a {kind}, not a mapping: ignored")
    if files.get(ZOO_CONFIG):
        # rl-zoo's config fills what config.json (sb3doctor train) does not say.
        from sb3doctor.sources.zoo import read_zoo_config

        zoo_config = read_zoo_config(files[ZOO_CONFIG])
        merged_hp = {**zoo_config.get("hyperparams", {}), **config.get("hyperparams", {})}
        config = {**zoo_config, **config}
        if merged_hp:
            config["hyperparams"] = merged_hp
    return config


def _read_config(paths: list[Path]) -> dict:
    """Hyperparameters written by ``sb3doctor train`` (``config.json``), if present."""
    for p in paths:
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"config.json is not valid JSON ({exc})", p) from exc
        except RecursionError:
            raise InputError("config.json is nested too deeply to read", p) from None
        if isinstance(data, dict):
            return data
    return {}
