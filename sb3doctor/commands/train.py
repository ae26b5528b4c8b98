"""``sb3doctor train``: train a reference run (real SB3 logs), optionally with a fault preset.

Only click is imported at module level: torch, SB3 and gymnasium load inside the command, so
the analyzer's commands stay light.
"""

from __future__ import annotations

import importlib.util

import click

from sb3doctor.errors import SB3DoctorError
from sb3doctor.presets import PRESETS

_ALGOS = ("ppo", "a2c", "dqn", "sac", "td3")
_PRESET_HELP = "\n".join(
    f"\b\n  {name:<18} {', '.join(p['expected_categories']) or '(no finding)'}" for name, p in PRESETS.items()
)


@click.command(
    "train",
    epilog="Presets and the categories `sb3doctor analyze` should report on them:\n\n" + _PRESET_HELP,
)
@click.option(
    "--algo",
    type=click.Choice(_ALGOS, case_sensitive=False),
    default=None,
    help="Algorithm (default: ppo, or the preset's).",
)
@click.option(
    "--env",
    "env_id",
    default=None,
    metavar="ID",
    help="Gymnasium env id (default: sb3doctor/WarehouseRobot-v0).",
)
@click.option(
    "--timesteps",
    type=int,
    default=None,
    metavar="N",
    help="Training budget (default: 50000, or the preset's).",
)
@click.option(
    "--n-envs", type=int, default=None, metavar="K", help="Parallel envs (default: 1, or the preset's)."
)
@click.option("--seed", type=int, default=0, show_default=True, metavar="S", help="Random seed.")
@click.option(
    "--device",
    type=click.Choice(["auto", "cuda", "cpu"]),
    default="auto",
    show_default=True,
    help="auto uses CUDA when torch sees a GPU; cuda without one is an error.",
)
@click.option(
    "--logdir",
    type=click.Path(file_okay=False),
    default="logs",
    show_default=True,
    help="Parent folder; the run goes to <logdir>/<ALGO>_<n>.",
)
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default=None,
    metavar="NAME",
    help="Fault preset (see below).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a hyperparameter (YAML value), e.g. --set learning_rate=1e-4; "
    "env.KEY sets an env kwarg, e.g. --set env.grid_rows=10. Repeatable.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
def train_command(
    algo: str | None,
    env_id: str | None,
    timesteps: int | None,
    n_envs: int | None,
    seed: int,
    device: str,
    logdir: str,
    preset: str | None,
    overrides: tuple[str, ...],
    progress: bool | None,
) -> int:
    """Train an SB3 model and write the logs SB3 writes (TensorBoard, stdout, CSV, monitor).

    Ctrl-C stops training cleanly: logs are kept, the model is saved, exit code 130.
    """
    from sb3doctor.train import resolve_config, train

    missing = [m for m in ("torch", "stable_baselines3", "gymnasium") if importlib.util.find_spec(m) is None]
    if missing:
        # The light install (`pip install sb3doctor`) has no training stack: say which extra.
        raise SB3DoctorError(
            f"`sb3doctor train` needs {', '.join(missing)}: install the training extra, "
            'e.g. pip install "sb3doctor[train]" (from a clone: pip install ".[train]")'
        )
    config = resolve_config(
        algo=algo,
        env_id=env_id,
        timesteps=timesteps,
        n_envs=n_envs,
        seed=seed,
        device=device,
        logdir=logdir,
        preset=preset,
        overrides=overrides,
    )
    result = train(config, progress=progress, echo=lambda msg: click.echo(msg, err=True))
    if result.interrupted:
        click.echo(
            f"sb3doctor: interrupted at {result.timesteps} timesteps; "
            f"logs and model saved in {result.run_dir}",
            err=True,
        )
        return 130
    click.echo(f"sb3doctor: done: {result.timesteps} timesteps; run saved in {result.run_dir}", err=True)
    return 0
