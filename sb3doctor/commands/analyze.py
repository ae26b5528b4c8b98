"""``sb3doctor analyze``, ``rules`` and ``explain``: option parsing only; the work is in the library.

Imports inside the functions keep ``sb3doctor --help`` and other commands from paying for
the rule loader, YAML and rich.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sb3doctor.commands.options import ENV_OPTION, TOTAL_TIMESTEPS_OPTION, stated_hyperparams
from sb3doctor.errors import PENDING_EXIT, SB3DoctorError, printable

if TYPE_CHECKING:  # pragma: no cover
    from sb3doctor.config import Config
    from sb3doctor.ruleset import Rule

FORMATS = ("terminal", "json", "junit", "sarif", "github", "markdown")
LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of messages and advice (default: en).",
)
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="sb3doctor.yaml or pyproject.toml to use (default: the nearest one from the current folder up).",
)
RULES_DIR_OPTION = click.option(
    "--rules-dir",
    "rules_dirs",
    multiple=True,
    type=click.Path(),
    help="Extra rule files or folders (repeatable).",
)


def _load(config_path: str | None, rules_dirs: tuple[str, ...]) -> tuple[Config, list[Rule]]:
    """The configuration and the rules it selects (built-in + extra, disabled ones removed)."""
    from sb3doctor.config import load_config
    from sb3doctor.rules_path import builtin_rules_dir
    from sb3doctor.ruleset import load_rules

    config = load_config(config_path)
    rules = load_rules([builtin_rules_dir(), *config.extra_rules, *(Path(d) for d in rules_dirs)])
    return config, config.select(rules)


def _disable(rules: list[Rule], items: tuple[str, ...]) -> list[Rule]:
    """``rules`` without the ids/categories given with ``--disable`` (unknown ones are an error)."""
    from sb3doctor.errors import ConfigError
    from sb3doctor.ruleset import CATEGORIES

    known = {r.id for r in rules} | set(CATEGORIES)
    for item in items:
        if item not in known:
            raise ConfigError(f"--disable: unknown rule id or category {item!r} (see `sb3doctor rules`)")
    return [r for r in rules if r.id not in items and r.category not in items]


def _is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _use_color(flag: bool | None) -> bool:
    """``--color``/``--no-color`` win; else colour on a terminal unless ``NO_COLOR`` is set (no-color.org)."""
    if flag is not None:
        return flag
    return _is_tty() and not os.environ.get("NO_COLOR")


def _width() -> int:
    import shutil

    return max(60, shutil.get_terminal_size((100, 24)).columns) if _is_tty() else 100


@click.command(
    "analyze",
    epilog="Exit codes: 0 passed, 1 gate failed (a finding or failed --expect at --fail-on), "
    "2 could not run (bad input, unreadable log, bad config or --expect), 130 interrupted.",
)
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="terminal",
    show_default=True,
    help="Report format (junit, sarif, github, markdown are for CI).",
)
@LANG_OPTION
@click.option(
    "--fail-on",
    type=click.Choice(["info", "warning", "error", "never"]),
    default=None,
    help="Exit 1 when a finding reaches this severity (default: error). Also the lowest severity that "
    "--format github annotates (warning with never).",
)
@CONFIG_OPTION
@RULES_DIR_OPTION
@click.option("--disable", multiple=True, metavar="ID", help="Disable a rule id or a category (repeatable).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the report (in --format) to this file; the terminal still shows the human view.",
)
@click.option(
    "--expect",
    "expects",
    multiple=True,
    metavar="EXPR",
    help="Expectation METRIC:STAT[@WINDOW]OP VALUE (repeatable); STAT: last first mean median min max std; "
    "WINDOW: lastN, firstN (points), lastP%, firstP% (of the run); e.g. 'rollout/ep_rew_mean:last>=475', "
    "'train/explained_variance:median@last20%>0.5'. A failed one is an error finding.",
)
@click.option(
    "--aggregate",
    type=click.Choice(["median", "min", "mean", "max"]),
    default=None,
    help="Check --expect on this aggregate across the runs of a group (seeds) instead of per run.",
)
@click.option(
    "--group-by",
    default=None,
    metavar="PATTERN",
    help="How runs are grouped for --aggregate (default: same parent folder and algorithm, logs/PPO_1..5 -> "
    "logs/PPO): a regex searched in each run's name then path, the first capture group (or the match) is "
    "the group; 'glob:PATTERN' for shell wildcards.",
)
@click.option(
    "--strict", is_flag=True, help="Fail on a corrupt record inside an event file instead of skipping it."
)
@click.option(
    "--color/--no-color",
    "color_flag",
    default=None,
    help="Colour the terminal view (default: on a terminal, unless NO_COLOR is set).",
)
@ENV_OPTION
@TOTAL_TIMESTEPS_OPTION
def analyze_command(
    paths: tuple[str, ...],
    fmt: str,
    lang: str | None,
    fail_on: str | None,
    config_path: str | None,
    rules_dirs: tuple[str, ...],
    disable: tuple[str, ...],
    output: str | None,
    expects: tuple[str, ...],
    aggregate: str | None,
    group_by: str | None,
    strict: bool,
    color_flag: bool | None,
    env_id: str | None,
    total_timesteps: int | None,
) -> int:
    """Diagnose the SB3 runs under PATHS (run folders, log folders, event files, stdout logs).

    Prints per run the findings, worst first, with evidence and advice computed from the
    run's own values, then a per-metric summary. Exit 1 when a finding reaches --fail-on.
    """
    from sb3doctor.commands import read_paths
    from sb3doctor.engine import evaluate
    from sb3doctor.errors import SB3DoctorError
    from sb3doctor.reporters import Report, RunReport, render, sort_findings

    config, rules = _load(config_path, rules_dirs)
    rules = _disable(rules, disable)
    lang = lang or config.lang or "en"
    fail_on = fail_on or config.fail_on or "error"

    expectations: list[Any] = []
    if expects or config.expect:
        from sb3doctor.expect import parse_expectations

        expectations = parse_expectations(config.expect, source=config.path) + parse_expectations(
            list(expects)
        )
    aggregate = aggregate or config.aggregate
    group_by = group_by or config.group_by
    if group_by is not None:
        from sb3doctor.config import check_group_by

        check_group_by(group_by)  # before any run is read: a bad pattern is a usage error

    runs = read_paths(paths, strict=strict)
    stated = stated_hyperparams(env_id, total_timesteps)
    for run in runs:
        run.hyperparams.update(stated)
        for warning in run.warnings:
            click.echo(f"sb3doctor: warning: {printable(f'{run.name}: {warning}', one_line=True)}", err=True)

    report = Report(
        runs=[
            RunReport(
                run, evaluate(run, rules, lang=lang), checked=[r.id for r in rules if r.applies(run.algo)]
            )
            for run in runs
        ],
        fail_on=fail_on,
    )
    if expectations:
        from sb3doctor.expect import evaluate_expectations

        report.expectations = evaluate_expectations(runs, expectations, aggregate, group_by, lang)
        by_run = {id(rr.run): rr for rr in report.runs}
        for res in report.expectations:
            rr = by_run.get(id(res.run)) if res.run is not None else None
            if rr is not None:
                rr.checked.append(res.rule)
                if res.finding is not None:
                    rr.findings = sort_findings([*rr.findings, res.finding])
            elif res.finding is not None:
                report.findings.append(res.finding)

    code = 1 if report.failed(fail_on) else 0
    # If the reader of our stdout goes away (`| head -1`), main() still exits with the gate's code.
    PENDING_EXIT["code"] = code
    if output is not None:
        out_path = Path(output)
        if _is_read_file(out_path, runs):
            raise SB3DoctorError("refusing to overwrite a file this run read (a log or its config)", output)
        text = render(report, fmt, lang=lang, color=False, width=100)
        try:
            out_path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SB3DoctorError(f"cannot write the report ({exc.strerror})", output) from None
        color = _use_color(color_flag)
        view = render(report, "terminal", lang=lang, color=color, width=_width())
        click.echo(printable(view, keep_sgr=color), nl=False, color=color)
    else:
        color = _use_color(color_flag) and fmt == "terminal"
        text = render(report, fmt, lang=lang, color=color, width=_width())
        if fmt not in ("json", "sarif"):
            # Run names, paths and tags come from the logs: escape codes in them must not
            # reach the terminal (JSON escapes control characters itself).
            text = printable(text, keep_sgr=color)
        # click strips ANSI codes when stdout is not a terminal unless told otherwise
        click.echo(text, nl=False, color=color)
    return code


def _check_rule_files(files: tuple[str, ...]) -> int:
    """``rules --check``: load each file as a rule and run its examples."""
    from sb3doctor.engine import evaluate
    from sb3doctor.ruleset import RuleProblems, example_run, load_rule_file

    code = 0
    for name in files:
        path = Path(name)
        if not path.is_file():
            click.echo(f"{path}: no such file", err=True)
            code = 2
            continue
        try:
            rule = load_rule_file(path)
        except RuleProblems as exc:
            # Every problem of the file, one per line, so that it is fixed in one round.
            n = len(exc.problems)
            click.echo(f"sb3doctor: error: {path}: {n} problem{'s' if n > 1 else ''}:", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            code = 2
            continue
        except SB3DoctorError as exc:
            click.echo(f"sb3doctor: error: {exc}", err=True)
            code = 2
            continue
        failed = []
        for i, ex in enumerate(rule.examples):
            fired = bool(evaluate(example_run(rule, ex), [rule]))
            if fired != (ex["expect"] == "fire"):
                failed.append(f"example {i} should {'fire' if ex['expect'] == 'fire' else 'stay quiet'}")
        if failed:
            click.echo(f"{path}: {rule.id}: {'; '.join(failed)}", err=True)
            code = 2
        else:
            click.echo(f"{path}: ok ({rule.id}, {len(rule.examples)} examples)")
    return code


def _is_read_file(out_path: Path, runs: list[Any]) -> bool:
    """Whether ``out_path`` is (by device and inode, so hard links count) a file a run read."""
    try:
        st = out_path.stat()
    except OSError:
        return False  # does not exist yet: nothing to overwrite
    read: list[Path] = [f for r in runs for f in r.source_files]
    for r in runs:
        folder = Path(r.path) if Path(r.path).is_dir() else Path(r.path).parent
        read += [folder / "config.json", *folder.glob("*/config.yml"), *folder.glob("*/args.yml")]
    for f in read:
        try:
            other = f.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino):
            return True
    return False


@click.command("rules")
@LANG_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["terminal", "json"]), default="terminal", show_default=True
)
@CONFIG_OPTION
@RULES_DIR_OPTION
@click.option("--algo", default=None, help="Only the rules that apply to this algorithm (e.g. PPO).")
@click.option(
    "--check",
    "check_files",
    multiple=True,
    metavar="FILE",
    help="Validate rule files (schema, conditions, templates) and run their examples; exit 2 on a problem.",
)
def rules_command(
    lang: str | None,
    fmt: str,
    config_path: str | None,
    rules_dirs: tuple[str, ...],
    algo: str | None,
    check_files: tuple[str, ...],
) -> int:
    """List the rules: id, category, severity, algorithms and a one-line description."""
    if check_files:
        return _check_rule_files(check_files)
    config, rules = _load(config_path, rules_dirs)
    lang = lang or config.lang or "en"
    if algo is not None:
        rules = [r for r in rules if r.applies(algo)]
    if fmt == "json":
        import json

        doc = [
            {
                "id": r.id,
                "name": r.name,
                "category": r.category,
                "severity": r.severity,
                "applies_to": list(r.applies_to),
                "description": r.summary(lang),
            }
            for r in rules
        ]
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    from rich.cells import cell_len, set_cell_size

    from sb3doctor.i18n import t

    header = tuple(
        t(c, lang).capitalize() for c in ("id", "severity", "category", "description", "algorithms")
    )
    rows = [header] + [
        (r.id, r.severity, r.category, r.summary(lang), ", ".join(r.applies_to)) for r in rules
    ]
    # One line per rule: what it detects comes before the algorithms, and only the algorithm
    # list gives way (cut with an ellipsis; `explain ID` has the rest). Cell widths, not
    # characters, so Chinese text lines up.
    widths = [max(cell_len(row[i]) for row in rows) for i in range(4)]
    room = max(12, (_width() if _is_tty() else 160) - sum(widths) - 2 * 4)
    for row in rows:
        cells = [set_cell_size(row[i], widths[i]) for i in range(4)]
        algos = row[4] if cell_len(row[4]) <= room else set_cell_size(row[4], room - 1) + "…"
        click.echo("  ".join([*cells, algos]).rstrip())
    return 0


@click.command("explain")
@click.argument("rule_id")
@LANG_OPTION
@CONFIG_OPTION
@RULES_DIR_OPTION
def explain_command(
    rule_id: str, lang: str | None, config_path: str | None, rules_dirs: tuple[str, ...]
) -> int:
    """Print the full documentation of one rule: why, false alarms, advice, sources, examples."""
    from sb3doctor.config import load_config
    from sb3doctor.errors import ConfigError
    from sb3doctor.rules_path import builtin_rules_dir
    from sb3doctor.ruleset import load_rules

    config = load_config(config_path)
    # Disabled rules can still be explained: load every rule, apply only the overrides.
    rules = load_rules([builtin_rules_dir(), *config.extra_rules, *(Path(d) for d in rules_dirs)])
    lang = lang or config.lang or "en"
    by_id = {r.id.upper(): r for r in rules}
    rule = by_id.get(rule_id.upper())
    if rule is None:
        import difflib

        close = difflib.get_close_matches(rule_id.upper(), list(by_id), n=1)
        hint = f" (did you mean {close[0]}?)" if close else " (see `sb3doctor rules`)"
        raise ConfigError(f"unknown rule id {rule_id!r}{hint}")
    from sb3doctor.explain import explain_text

    click.echo(explain_text(rule, lang), nl=False)
    return 0
