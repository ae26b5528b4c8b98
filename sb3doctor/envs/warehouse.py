"""The warehouse-robot grid world of seed ``004_ba10d42dd4c0c204.txt``, made fast and headless.

A robot starts in the top-left cell ``(0, 0)`` of a ``grid_rows x grid_cols`` grid and must
reach a target placed at random (from the env's seed) in rows ``1..rows-1`` and columns
``1..cols-1`` (as in the seed, so the target never sits on the start). Four actions
(``LEFT, DOWN, RIGHT, UP``); moving into a wall leaves the robot in place. The observation
is ``[robot_row, robot_col, target_row, target_col]`` (``int32``). Reaching the target gives
``goal_reward`` (1) and ends the episode (``terminated``).

Reward modes reproduce the seed's shaping experiments (each scale is a keyword argument):

* ``sparse``: only the goal reward.
* ``proximity``: while not at the target, a bonus chosen by the Euclidean distance to the
  target from ``proximity_bands`` (seed: ``< 2 -> 0.05``, ``< 4 -> 0.1``, ``< 8 -> 0.2``) and
  ``proximity_far`` (seed: ``-0.01``) beyond the last band. The seed's bands pay *more* far
  from the target; they are kept as the default because they reproduce its looping failure.
* ``exploration``: ``exploration_bonus`` (seed: 0.001) the first time a cell is visited in an
  episode.
* ``direction``: ``direction_bonus`` (0.01; the seed gives no number) for a move that
  shortens the Manhattan distance to the target.

Unlike the seed's env, episodes are cut by a time limit (``truncated``) after
``max_episode_steps`` steps, by default ``2 * (rows + cols)`` (twice the longest shortest
path). The constructor argument is called ``time_limit`` because ``gymnasium.make`` keeps
``max_episode_steps`` for itself (it would wrap a fixed ``TimeLimit`` instead, and drop
``None``); ``time_limit=None`` restores the seed's endless episodes, which is what froze its
episode statistics.

Speed: positions are plain Python ints and every reward scale is precomputed, so a step
does a few integer comparisons and copies one 4-element buffer into the returned
observation (a fresh array, so callers may keep it).
"""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

REWARD_MODES = ("sparse", "proximity", "exploration", "direction")
LEFT, DOWN, RIGHT, UP = 0, 1, 2, 3
ACTION_NAMES = ("LEFT", "DOWN", "RIGHT", "UP")
# (row delta, col delta) per action.
_MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))

# rgb_array colours: floor, grid lines, target, robot.
_FLOOR = (235, 235, 235)
_LINE = (180, 180, 180)
_TARGET = (230, 140, 30)
_ROBOT = (40, 90, 200)
_CELL = 32
# "human" is offered only where pygame is installed: gymnasium's check_env builds the env
# once per advertised render mode.
_RENDER_MODES = ["ansi", "rgb_array"] + (["human"] if importlib.util.find_spec("pygame") else [])


class WarehouseRobotEnv(gym.Env[np.ndarray, np.int64]):
    """Grid world: drive the robot from (0, 0) to a random target.

    :param grid_rows: number of rows (>= 2)
    :param grid_cols: number of columns (>= 2)
    :param reward_mode: one of ``sparse``, ``proximity``, ``exploration``, ``direction``
    :param goal_reward: reward for reaching the target
    :param proximity_bands: ``(max_distance, reward)`` pairs, checked in order
    :param proximity_far: reward beyond the last band
    :param exploration_bonus: reward for entering a cell not yet visited this episode
    :param direction_bonus: reward for a move that brings the robot closer to the target
    :param time_limit: steps before ``truncated=True`` (stored as ``max_episode_steps``);
        ``"auto"`` means ``2 * (rows + cols)``, ``None`` means no limit (the seed's behaviour)
    :param render_mode: ``None``, ``"ansi"``, ``"rgb_array"`` or ``"human"`` (needs pygame)
    """

    metadata: dict[str, Any] = {"render_modes": _RENDER_MODES, "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        grid_rows: int = 6,
        grid_cols: int = 6,
        reward_mode: str = "sparse",
        goal_reward: float = 1.0,
        proximity_bands: tuple[tuple[float, float], ...] = ((2.0, 0.05), (4.0, 0.1), (8.0, 0.2)),
        proximity_far: float = -0.01,
        exploration_bonus: float = 0.001,
        direction_bonus: float = 0.01,
        time_limit: int | str | None = "auto",
        render_mode: str | None = None,
    ) -> None:
        if int(grid_rows) < 2 or int(grid_cols) < 2:
            raise ValueError(f"the grid needs at least 2 rows and 2 columns, got {grid_rows}x{grid_cols}")
        if reward_mode not in REWARD_MODES:
            raise ValueError(f"reward_mode must be one of {', '.join(REWARD_MODES)}, got {reward_mode!r}")
        if render_mode == "human" and "human" not in self.metadata["render_modes"]:
            raise gym.error.DependencyNotInstalled(
                'render_mode="human" needs pygame: pip install pygame (or use "ansi" / "rgb_array")'
            )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.grid_rows = int(grid_rows)
        self.grid_cols = int(grid_cols)
        self.reward_mode = reward_mode
        self.goal_reward = float(goal_reward)
        self.proximity_bands = tuple((float(d), float(r)) for d, r in proximity_bands)
        self.proximity_far = float(proximity_far)
        self.exploration_bonus = float(exploration_bonus)
        self.direction_bonus = float(direction_bonus)
        if time_limit == "auto":
            time_limit = 2 * (self.grid_rows + self.grid_cols)
        if time_limit is not None and int(time_limit) < 1:
            raise ValueError(f"time_limit must be >= 1, 'auto' or None, got {time_limit!r}")
        self.max_episode_steps: int | None = None if time_limit is None else int(time_limit)
        self.render_mode = render_mode

        self.action_space = spaces.Discrete(4)
        high = np.array([self.grid_rows - 1, self.grid_cols - 1] * 2, dtype=np.int32)
        self.observation_space = spaces.Box(low=0, high=high, shape=(4,), dtype=np.int32)

        self._mode = REWARD_MODES.index(reward_mode)
        # Proximity reward of every (|dr|, |dc|) pair, computed once: a step is then one lookup.
        self._proximity = [
            [self._proximity_of(math.hypot(dr, dc)) for dc in range(self.grid_cols)]
            for dr in range(self.grid_rows)
        ]
        self._visited = bytearray(self.grid_rows * self.grid_cols)
        self._obs = np.zeros(4, dtype=np.int32)
        self.robot_row = self.robot_col = 0
        self.target_row = self.target_col = 1
        self.elapsed_steps = 0
        self.last_action: int | None = None
        self._window: Any = None
        self._clock: Any = None

    def _proximity_of(self, distance: float) -> float:
        for limit, reward in self.proximity_bands:
            if distance < limit:
                return reward
        return self.proximity_far

    # -- gymnasium API -------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        """Put the robot at (0, 0) and draw a new target from the env's random generator."""
        super().reset(seed=seed)
        self.robot_row = self.robot_col = 0
        self.target_row = int(self.np_random.integers(1, self.grid_rows))
        self.target_col = int(self.np_random.integers(1, self.grid_cols))
        self.elapsed_steps = 0
        self.last_action = None
        if self._mode == 2:
            self._visited[:] = bytes(len(self._visited))
            self._visited[0] = 1
        if self.render_mode == "human":
            self.render()
        return self._observation(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Move one cell (walls stop the robot) and return the gymnasium 5-tuple."""
        a = int(action)
        if not 0 <= a < 4:
            raise ValueError(f"invalid action {action!r}: expected 0-3 (LEFT, DOWN, RIGHT, UP)")
        row, col = self.robot_row, self.robot_col
        dr, dc = _MOVES[a]
        new_row, new_col = row + dr, col + dc
        if 0 <= new_row < self.grid_rows:
            row = new_row
        if 0 <= new_col < self.grid_cols:
            col = new_col
        old_distance = abs(self.robot_row - self.target_row) + abs(self.robot_col - self.target_col)
        self.robot_row, self.robot_col = row, col
        self.elapsed_steps += 1
        self.last_action = a

        dist_r, dist_c = abs(row - self.target_row), abs(col - self.target_col)
        terminated = dist_r == 0 and dist_c == 0
        if terminated:
            reward = self.goal_reward
        elif self._mode == 0:
            reward = 0.0
        elif self._mode == 1:
            reward = self._proximity[dist_r][dist_c]
        elif self._mode == 2:
            cell = row * self.grid_cols + col
            if self._visited[cell]:
                reward = 0.0
            else:
                self._visited[cell] = 1
                reward = self.exploration_bonus
        else:
            reward = self.direction_bonus if dist_r + dist_c < old_distance else 0.0
        truncated = (
            not terminated
            and self.max_episode_steps is not None
            and self.elapsed_steps >= self.max_episode_steps
        )
        if self.render_mode == "human":
            self.render()
        # A fresh info dict each step: Monitor writes info["episode"] into it at episode end.
        return self._observation(), reward, terminated, truncated, {"is_success": terminated}

    def _observation(self) -> np.ndarray:
        obs = self._obs
        obs[0] = self.robot_row
        obs[1] = self.robot_col
        obs[2] = self.target_row
        obs[3] = self.target_col
        return obs.copy()

    # -- rendering -----------------------------------------------------------------------

    def render(self) -> Any:
        """``ansi``: the grid as text (R robot, T target, _ floor); ``rgb_array``: an image."""
        if self.render_mode == "ansi":
            return self._ansi()
        if self.render_mode == "rgb_array":
            return self._rgb()
        if self.render_mode == "human":
            return self._human()
        return None

    def _ansi(self) -> str:
        lines = []
        for r in range(self.grid_rows):
            cells = []
            for c in range(self.grid_cols):
                if r == self.robot_row and c == self.robot_col:
                    cells.append("R")
                elif r == self.target_row and c == self.target_col:
                    cells.append("T")
                else:
                    cells.append("_")
            lines.append(" ".join(cells))
        action = "" if self.last_action is None else f"Action: {ACTION_NAMES[self.last_action]}\n"
        return "\n".join(lines) + "\n" + action

    def _rgb(self) -> np.ndarray:
        img = np.empty((self.grid_rows * _CELL, self.grid_cols * _CELL, 3), dtype=np.uint8)
        img[:] = _FLOOR
        img[::_CELL, :] = _LINE
        img[:, ::_CELL] = _LINE
        for (r, c), colour, margin in (
            ((self.target_row, self.target_col), _TARGET, 4),
            ((self.robot_row, self.robot_col), _ROBOT, 8),
        ):
            img[
                r * _CELL + margin : (r + 1) * _CELL - margin, c * _CELL + margin : (c + 1) * _CELL - margin
            ] = colour
        return img

    def _human(self) -> None:
        import pygame

        frame = self._rgb()
        if self._window is None:
            pygame.init()
            pygame.display.init()
            self._window = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
            self._clock = pygame.time.Clock()
        surface = pygame.surfarray.make_surface(frame.swapaxes(0, 1))
        self._window.blit(surface, (0, 0))
        pygame.event.pump()
        pygame.display.update()
        self._clock.tick(self.metadata["render_fps"])

    def close(self) -> None:
        """Close the pygame window if one was opened."""
        if self._window is not None:
            import pygame

            pygame.display.quit()
            pygame.quit()
            self._window = None
