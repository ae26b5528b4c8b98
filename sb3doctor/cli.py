"""The ``sb3doctor`` command line: a thin click group.

Each command lives in :mod:`sb3doctor.commands` and only parses options; the work is
done by the library. Only this module decides exit codes:

* 0: success (no finding reached ``--fail-on``)
* 1: a finding or expectation reached ``--fail-on`` (the gate failed)
* 2: usage, configuration or input error (one line on stderr, no traceback)
* 130: interrupted with Ctrl-C
"""

from __future__ import annotations

import contextlib
import os
import sys

import click

from sb3doctor import __version__
from sb3doctor.commands.analyze import analyze_command, explain_command, rules_command
from sb3doctor.commands.compare import compare_command
from sb3doctor.commands.export import export_command
from sb3doctor.commands.report import plot_command, report_command
from sb3doctor.commands.train import train_command
from sb3doctor.commands.watch import watch_command
from sb3doctor.errors import PENDING_EXIT, SB3DoctorError, printable

EXIT_CODES_HELP = (
    "Exit codes: 0 passed, 1 gate failed (findings at --fail-on), 2 could not run, 130 interrupted."
)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, prog_name="sb3doctor")
def cli() -> None:
    """Diagnose Stable-Baselines3 runs from the logs they already write."""


cli.add_command(analyze_command)
cli.add_command(rules_command)
cli.add_command(explain_command)
cli.add_command(export_command)
cli.add_command(watch_command)
cli.add_command(train_command)
cli.add_command(report_command)
cli.add_command(compare_command)
cli.add_command(plot_command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises for user errors)."""
    try:
        result = cli.main(args=argv, prog_name="sb3doctor", standalone_mode=False)
    except SB3DoctorError as exc:
        click.echo(f"sb3doctor: error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("sb3doctor: interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("sb3doctor: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except BrokenPipeError:
        # `sb3doctor analyze run | head -1`: the reader went away; that is not an error, and
        # the gate's verdict stands. Point stdout at /dev/null so that Python's final flush
        # does not print "Exception ignored ... BrokenPipeError".
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return PENDING_EXIT["code"]
    except RecursionError:
        click.echo("sb3doctor: error: input nested too deeply to read", err=True)
        return 2
    except MemoryError:
        # Not a bug to trace: the logs (or a limit set with ulimit) are bigger than the memory.
        click.echo("sb3doctor: error: out of memory while reading the logs", err=True)
        return 2
    except Exception as exc:  # an internal error is "could not run" (2), never "gate failed" (1)
        if os.environ.get("SB3DOCTOR_DEBUG"):
            raise
        detail = printable(" ".join(str(exc).split())[:300], one_line=True)
        click.echo(
            f"sb3doctor: internal error: {type(exc).__name__}: {detail}; "
            "run with SB3DOCTOR_DEBUG=1 for the traceback",
            err=True,
        )
        return 2
    if isinstance(result, int):
        return result
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
