"""Reference environments that produce real SB3 logs for sb3doctor's fault presets.

Importing this package registers ``sb3doctor/WarehouseRobot-v0`` with gymnasium (and is the
only place besides :mod:`sb3doctor.envs.warehouse` and :mod:`sb3doctor.train` that imports
gymnasium). ``import sb3doctor`` does not import it: the trainer does.
"""

from __future__ import annotations

import gymnasium as gym

WAREHOUSE_ID = "sb3doctor/WarehouseRobot-v0"

__all__ = ["WAREHOUSE_ID", "WarehouseRobotEnv"]

# The env enforces its own time limit (``time_limit`` kwarg, scaled with the grid), so no
# gymnasium TimeLimit is registered here: a fixed one would not follow grid_rows/cols.
if WAREHOUSE_ID not in gym.registry:
    gym.register(id=WAREHOUSE_ID, entry_point="sb3doctor.envs.warehouse:WarehouseRobotEnv")

from sb3doctor.envs.warehouse import WarehouseRobotEnv  # noqa: E402
