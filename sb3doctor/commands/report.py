"""``sb3doctor report`` and ``plot``: the curves behind every finding, as HTML or as an image.

They need the ``[report]`` extra (scipy, matplotlib), imported inside the commands only.
"""

from __future__ import annotations

from pathlib import Path

import click

from sb3doctor.commands.analyze import CONFIG_OPTION, LANG_OPTION, RULES_DIR_OPTION
from sb3doctor.commands.compare import STRICT_OPTION, read_and_diagnose, require_report_extra
from sb3doctor.commands.options import ENV_OPTION
from sb3doctor.errors import SB3DoctorError, printable


@click.command("report")
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="sb3doctor-report.html",
    show_default=True,
    help="The HTML file to write (one self-contained file, opens offline).",
)
@click.option(
    "--title", default=None, help="Page title (default: 'sb3doctor report' and the number of runs)."
)
@LANG_OPTION
@CONFIG_OPTION
@RULES_DIR_OPTION
@STRICT_OPTION
@ENV_OPTION
def report_command(
    paths: tuple[str, ...],
    output: str,
    title: str | None,
    lang: str | None,
    config_path: str | None,
    rules_dirs: tuple[str, ...],
    strict: bool,
    env_id: str | None,
) -> int:
    """Write one self-contained HTML report of the runs under PATHS: a summary table, each run's
    key curves with the healthy band and the windows where findings fired, seed-group bands,
    the comparison of the groups and every hyperparameter with its source."""
    require_report_extra("report", ("scipy",))
    from sb3doctor.report.html import build_report

    lang = lang or "en"
    diagnosed = read_and_diagnose(
        paths, lang=lang, config_path=config_path, rules_dirs=rules_dirs, strict=strict, env_id=env_id
    )
    page = build_report(diagnosed, lang=lang, title=title)
    out = Path(output)
    if out.exists() and any(
        out.resolve() == Path(f).resolve() for run, _ in diagnosed for f in run.source_files
    ):
        raise SB3DoctorError("refusing to overwrite a file this report read", output)
    try:
        out.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise SB3DoctorError(f"cannot write the report ({exc.strerror})", output) from None
    size = len(page.encode("utf-8"))
    click.echo(
        f"sb3doctor: wrote {printable(str(out), one_line=True)} ({len(diagnosed)} runs, {size / 1e6:.2f} MB)",
        err=True,
    )
    return 0


@click.command("plot")
@click.argument("run_path")
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    metavar="NAME",
    help="Metric to draw, e.g. train/approx_kl (repeatable; default: the return curve).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    required=True,
    help="Image file; the suffix picks the format: .png, .svg (also .pdf).",
)
@click.option(
    "--smoothing",
    type=click.FloatRange(0.0, 0.999),
    default=0.6,
    show_default=True,
    help="Debiased EMA weight, as TensorBoard's slider (0: raw).",
)
@click.option("--run", "run_name", default=None, help="Which run, when RUN_PATH holds several (its name).")
@LANG_OPTION
@CONFIG_OPTION
@RULES_DIR_OPTION
@STRICT_OPTION
@ENV_OPTION
def plot_command(
    run_path: str,
    metrics: tuple[str, ...],
    output: str,
    smoothing: float,
    run_name: str | None,
    lang: str | None,
    config_path: str | None,
    rules_dirs: tuple[str, ...],
    strict: bool,
    env_id: str | None,
) -> int:
    """Draw a metric of one run to PNG or SVG (matplotlib), smoothed as in TensorBoard, with the
    rule's healthy band and the windows where findings fired."""
    suffix = Path(output).suffix.lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise SB3DoctorError("-o must end in .png, .svg or .pdf", output)
    require_report_extra("plot", ("scipy", "matplotlib"))
    from sb3doctor.report.plot import plot_run

    lang = lang or "en"
    diagnosed = read_and_diagnose(
        [run_path], lang=lang, config_path=config_path, rules_dirs=rules_dirs, strict=strict, env_id=env_id
    )
    if run_name is not None:
        picked = [d for d in diagnosed if d[0].name == run_name]
        if not picked:
            names = ", ".join(r.name for r, _ in diagnosed)
            raise SB3DoctorError(f"no run named {run_name!r} here (runs: {names})", run_path)
        diagnosed = picked
    if len(diagnosed) > 1:
        names = ", ".join(r.name for r, _ in diagnosed)
        raise SB3DoctorError(f"{len(diagnosed)} runs here ({names}): pick one with --run NAME", run_path)
    run, findings = diagnosed[0]
    plot_run(run, findings, list(metrics), Path(output), smoothing=smoothing, lang=lang)
    click.echo(f"sb3doctor: wrote {printable(output, one_line=True)}", err=True)
    return 0
