"""``sb3doctor export``: the full-resolution metric table of every run under PATHS."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("export")
@click.argument("paths", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json", "parquet"]),
    default=None,
    help="Output format (default: from the -o suffix, else csv).",
)
@click.option(
    "--strict", is_flag=True, help="Fail on a corrupt record inside an event file instead of skipping it."
)
def export_command(paths: tuple[str, ...], output: str | None, fmt: str | None, strict: bool) -> int:
    """Export every metric point of the runs under PATHS as one long table.

    Columns: run, step, metric, value, wall_time (empty where the source has no clock).
    No downsampling: every logged point is kept.
    """
    from sb3doctor import export
    from sb3doctor.errors import SB3DoctorError, printable
    from sb3doctor.sources import make_names_unique, read_runs

    if fmt is None:
        suffix = Path(output).suffix.lstrip(".").lower() if output else ""
        fmt = suffix if suffix in export.FORMATS else "csv"
    if fmt == "parquet" and output is None:
        raise click.UsageError("parquet is binary: give a file with -o")

    runs = make_names_unique([run for p in paths for run in read_runs(p, strict=strict)])
    for run in runs:
        for warning in run.warnings:
            click.echo(f"sb3doctor: warning: {printable(warning, one_line=True)}", err=True)

    from sb3doctor.commands.analyze import _is_read_file

    # By device and inode, as analyze -o: a hard link to a log is the log.
    if output is not None and _is_read_file(Path(output), runs):
        raise SB3DoctorError("refusing to overwrite a file this run read (a log or its config)", output)
    if fmt == "parquet":
        assert output is not None
        export.write_parquet(runs, output)
        return 0
    writer = export.write_csv if fmt == "csv" else export.write_json
    if output is None:
        writer(runs, sys.stdout)
    else:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            writer(runs, fh)
    return 0
