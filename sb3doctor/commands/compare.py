"""``sb3doctor compare``: is configuration B really better than A, given the seeds?

Also the helpers of ``report`` and ``plot`` (:mod:`sb3doctor.commands.report`): reading and
diagnosing runs as ``analyze`` does, and the check for the ``[report]`` extra. scipy and
matplotlib are imported inside the commands only, so ``sb3doctor analyze`` and
``import sb3doctor`` never load them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sb3doctor.commands.analyze import CONFIG_OPTION, LANG_OPTION, RULES_DIR_OPTION, _load
from sb3doctor.commands.options import ENV_OPTION
from sb3doctor.errors import PENDING_EXIT, SB3DoctorError, printable

if TYPE_CHECKING:  # pragma: no cover
    from sb3doctor.model import Finding, Run
    from sb3doctor.report.compare import Group


def require_report_extra(command: str, modules: tuple[str, ...]) -> None:
    """Exit 2 with one line naming the ``[report]`` extra when one of ``modules`` is missing."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise SB3DoctorError(
            f"`sb3doctor {command}` needs {', '.join(missing)}: install the report extra, "
            'e.g. pip install "sb3doctor[report]" (from a clone: pip install ".[report]")'
        )


def read_and_diagnose(
    paths: tuple[str, ...] | list[str],
    *,
    lang: str,
    config_path: str | None,
    rules_dirs: tuple[str, ...],
    strict: bool = False,
    env_id: str | None = None,
    unique: bool = True,
) -> list[tuple[Run, list[Finding]]]:
    """Read every run under ``paths`` and diagnose it with the configured rules, as ``analyze`` does.

    Each run's findings come root cause first (:func:`sb3doctor.reporters.sort_findings`).
    """
    from sb3doctor.commands import read_paths
    from sb3doctor.engine import evaluate
    from sb3doctor.reporters import sort_findings

    _config, rules = _load(config_path, rules_dirs)
    runs = read_paths(paths, strict=strict, unique=unique)
    out = []
    for run in runs:
        if env_id:
            run.hyperparams["env_id"] = env_id
        out.append((run, sort_findings(evaluate(run, rules, lang=lang))))
    return out


STRICT_OPTION = click.option(
    "--strict", is_flag=True, help="Fail on a corrupt record inside an event file instead of skipping it."
)


@click.command(
    "compare",
    epilog="Each argument is one group: a run folder, a folder of seeds (every run under it), or a quoted "
    "glob pattern ('runs/ppo-lr3e-4-s*'). Exit codes: 0 done, 1 --fail-if-worse and a group is worse than "
    "the first with 95% confidence, 2 could not run.",
)
@click.argument("groups", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["terminal", "json", "markdown"]),
    default="terminal",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--stat",
    type=click.Choice(["iqm", "mean"]),
    default="iqm",
    show_default=True,
    help="The statistic that decides better/worse (IQM: mean of the middle 50% of the runs).",
)
@click.option(
    "--fail-if-worse",
    is_flag=True,
    help="Exit 1 when a group is worse than the first with 95% confidence (the bootstrap interval of "
    "the difference lies below 0). Needs 2+ runs per group.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the table (in --format) to this file.",
)
@LANG_OPTION
@CONFIG_OPTION
@RULES_DIR_OPTION
@STRICT_OPTION
@ENV_OPTION
def compare_command(
    groups: tuple[str, ...],
    fmt: str,
    stat: str,
    fail_if_worse: bool,
    output: str | None,
    lang: str | None,
    config_path: str | None,
    rules_dirs: tuple[str, ...],
    strict: bool,
    env_id: str | None,
) -> int:
    """Compare the final return of groups of runs (seeds): IQM and mean with 95% bootstrap CIs,
    the probability of improvement over the first group, and each group's diagnosis.

    A run's final return is the mean of its last 10% of episodes (Monitor), else of the last 10%
    of its logged rollout/ep_rew_mean.
    """
    require_report_extra("compare", ("scipy",))
    from sb3doctor.errors import InputError
    from sb3doctor.report import compare as cmp
    from sb3doctor.sources import make_names_unique

    lang = lang or "en"
    built = []
    all_runs: list[Run] = []
    for arg in groups:
        paths = cmp.expand(arg)
        if not paths:
            raise InputError("no such file or folder, and no path matches this pattern", arg)
        diagnosed = read_and_diagnose(
            paths,
            lang=lang,
            config_path=config_path,
            rules_dirs=rules_dirs,
            strict=strict,
            env_id=env_id,
            unique=False,
        )
        runs = [r for r, _ in diagnosed]
        all_runs.extend(runs)
        built.append(cmp.make_group(printable(arg, one_line=True), runs, [f for _, f in diagnosed]))
    make_names_unique(all_runs)
    env_sets = _env_sets(built, env_id)
    mixed = _mixed_envs(env_sets)
    if mixed and fail_if_worse:
        # A gate on returns of different tasks would pass or fail for a meaningless reason.
        raise InputError(f"--fail-if-worse cannot compare returns of different envs ({mixed})", groups[0])
    comparisons = cmp.compare(built, stat)
    text = {
        "terminal": lambda: cmp.render_terminal(comparisons, stat, lang),
        "markdown": lambda: cmp.render_markdown(comparisons, stat, lang),
        "json": lambda: cmp.render_json(comparisons, stat),
    }[fmt]()
    worse = [c for c in comparisons if c.verdict == cmp.WORSE]
    too_few = [c for c in comparisons if c.verdict == cmp.TOO_FEW]
    code = 1 if fail_if_worse and worse else 0
    PENDING_EXIT["code"] = code
    if output is not None:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SB3DoctorError(f"cannot write the comparison ({exc.strerror})", output) from None
    click.echo(text if fmt == "json" else printable(text), nl=False)
    if mixed:
        click.echo(
            f"sb3doctor: warning: the groups compared train on different envs ({mixed}): "
            "their returns are on different scales and the verdicts compare nothing",
            err=True,
        )
    unknown = [label for label, envs in env_sets if not envs]
    if unknown and fail_if_worse:
        click.echo(
            f"sb3doctor: warning: the env of {', '.join(unknown)} is unknown (give --env, or keep the "
            "Monitor files): the gate cannot check that the groups train on the same task",
            err=True,
        )
    for pooled in _pooled_envs(env_sets):
        click.echo(
            f"sb3doctor: warning: {pooled}: one group pools runs of several envs; its IQM and mean "
            "mix their return scales",
            err=True,
        )
    if fail_if_worse and too_few:
        names = ", ".join(c.group.label for c in too_few)
        click.echo(
            f"sb3doctor: warning: --fail-if-worse cannot judge {names}: a verdict needs 2+ runs "
            "with a return in the group and in the first",
            err=True,
        )
    if code:
        click.echo(
            f"sb3doctor: {', '.join(c.group.label for c in worse)} worse than {comparisons[0].group.label} "
            f"with 95% confidence ({stat.upper() if stat == 'iqm' else stat})",
            err=True,
        )
    return code


def _env_sets(groups: list[Group], override: str | None) -> list[tuple[str, list[str]]]:
    """Each group's label and the envs its runs trained on (those known)."""
    from sb3doctor.reference import detect_env_id

    return [
        (group.label, sorted({env for run in group.runs if (env := detect_env_id(run, override)[0])}))
        for group in groups
    ]


def _mixed_envs(sets: list[tuple[str, list[str]]]) -> str:
    """Empty when the groups (as ``_env_sets`` gives them) trained on the same envs (those
    known); else each group's envs ("logs/ppo*: CartPole-v1; logs/sac*: Pendulum-v1"). Groups
    that each pool the same several envs (seed 1 of ten configs against seed 2 of them) compare
    like with like."""
    known = [envs for _, envs in sets if envs]
    if all(envs == known[0] for envs in known):
        return ""
    return "; ".join(f"{label}: {', '.join(envs) or 'unknown'}" for label, envs in sets)


def _pooled_envs(sets: list[tuple[str, list[str]]]) -> list[str]:
    """The groups that pool runs of several envs: their IQM and mean mix return scales."""
    return [f"{label} ({', '.join(envs)})" for label, envs in sets if len(envs) > 1]
