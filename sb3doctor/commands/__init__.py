"""One module per CLI command; each imports heavy libraries only inside its function."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sb3doctor.model import Run


def read_paths(paths: Iterable[str], *, strict: bool, unique: bool = True) -> list[Run]:
    """Every run under ``paths``, for the commands that read logs; with ``unique``, runs that
    share a name get distinguishing path names (see ``make_names_unique``).

    A run folder that cannot be read is skipped with one warning line on stderr; with
    ``strict`` it is an error (exit 2), as is a path with no readable run at all.
    """
    import click

    from sb3doctor.errors import SB3DoctorError, printable
    from sb3doctor.sources import make_names_unique, read_runs_tolerant

    runs: list[Run] = []
    for p in paths:
        found, problems = read_runs_tolerant(p, strict=strict)
        if problems and strict:
            raise SB3DoctorError(problems[0])
        for problem in problems:
            click.echo(f"sb3doctor: warning: skipped {printable(problem, one_line=True)}", err=True)
        runs.extend(found)
    return make_names_unique(runs) if unique else runs
