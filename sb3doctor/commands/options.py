"""Command-line options that several commands share, with one wording."""

from __future__ import annotations

from typing import Any

import click

#: The env a run trained on, where its logs do not name it (a plain TensorBoard folder).
ENV_OPTION = click.option(
    "--env",
    "env_id",
    default=None,
    metavar="ENV_ID",
    help="The gymnasium env id the runs trained on (e.g. CartPole-v1), when the logs do not say it "
    "(Monitor header, config.json, rl-zoo folder): compares the returns with its random and rl-zoo levels.",
)

#: The planned length of a run, which only a config or the model states.
TOTAL_TIMESTEPS_OPTION = click.option(
    "--total-timesteps",
    "total_timesteps",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="The total_timesteps the runs were started with: a run still training is judged as the share "
    "of it done so far (the rules that wait for a quarter or half of a run count from this).",
)


def stated_hyperparams(env_id: str | None, total_timesteps: int | None) -> dict[str, Any]:
    """What ``--env`` and ``--total-timesteps`` state, under the hyperparameter names the rules
    read (``env_id``, ``planned_timesteps``); only the options given."""
    stated: dict[str, Any] = {}
    if env_id:
        stated["env_id"] = env_id
    if total_timesteps:
        stated["planned_timesteps"] = total_timesteps
    return stated
