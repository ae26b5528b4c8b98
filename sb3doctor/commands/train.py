"""``sb3doctor train``. (being written)"""

from __future__ import annotations

import click


@click.command("train")
def train_command() -> int:
    """Train a reference run that writes real SB3 logs."""
    raise click.ClickException("train is not implemented yet")
