"""``sb3doctor watch``. (being written)"""

from __future__ import annotations

import click


@click.command("watch")
@click.argument("path")
def watch_command(path: str) -> int:
    """Diagnose a run live while it trains."""
    raise click.ClickException("watch is not implemented yet")
