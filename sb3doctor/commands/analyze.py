"""``sb3doctor analyze``, ``rules`` and ``explain``. (being written)"""

from __future__ import annotations

import click


@click.command("analyze")
@click.argument("paths", nargs=-1, required=True)
def analyze_command(paths: tuple[str, ...]) -> int:
    """Diagnose the runs under PATHS."""
    raise click.ClickException("analyze is not implemented yet")


@click.command("rules")
def rules_command() -> int:
    """List the rules."""
    raise click.ClickException("rules is not implemented yet")


@click.command("explain")
@click.argument("rule_id")
def explain_command(rule_id: str) -> int:
    """Explain one rule."""
    raise click.ClickException("explain is not implemented yet")
