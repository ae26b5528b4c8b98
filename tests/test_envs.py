"""The reference warehouse-robot env: dynamics, reward modes, time limit, seeding, rendering."""

from __future__ import annotations

import importlib.util
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from sb3doctor.envs import WAREHOUSE_ID
from sb3doctor.envs.warehouse import DOWN, LEFT, REWARD_MODES, RIGHT, UP, WarehouseRobotEnv


def placed(
    env: WarehouseRobotEnv, target: tuple[int, int], robot: tuple[int, int] = (0, 0)
) -> WarehouseRobotEnv:
    """Reset, then put robot and target where a scripted trajectory needs them."""
    env.reset(seed=0)
    env.robot_row, env.robot_col = robot
    env.target_row, env.target_col = target
    return env


def run(env: WarehouseRobotEnv, actions: list[int]) -> list[tuple[list[int], float, bool, bool]]:
    out = []
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(a)
        out.append((obs.tolist(), reward, terminated, truncated))
    return out


def test_walls_stop_the_robot_and_moves_change_one_coordinate() -> None:
    env = placed(WarehouseRobotEnv(), target=(5, 5))
    steps = run(env, [LEFT, UP, RIGHT, DOWN, DOWN, LEFT, UP])
    assert [s[0][:2] for s in steps] == [[0, 0], [0, 0], [0, 1], [1, 1], [2, 1], [2, 0], [1, 0]]
    env = placed(WarehouseRobotEnv(grid_rows=3, grid_cols=4), target=(1, 1), robot=(2, 3))
    assert [s[0][:2] for s in run(env, [DOWN, RIGHT, UP])] == [[2, 3], [2, 3], [1, 3]]


def test_reaching_the_target_terminates_with_the_goal_reward() -> None:
    env = placed(WarehouseRobotEnv(), target=(1, 2))
    steps = run(env, [RIGHT, RIGHT, DOWN])
    assert [s[1:] for s in steps] == [(0.0, False, False), (0.0, False, False), (1.0, True, False)]
    assert steps[-1][0] == [1, 2, 1, 2]
    _, _, _, _, info = placed(env, target=(0, 1)).step(RIGHT)
    assert info == {"is_success": True}


def test_observation_and_target_placement_follow_the_seed() -> None:
    env = WarehouseRobotEnv(grid_rows=5, grid_cols=7)
    targets = set()
    for seed in range(300):
        obs, _info = env.reset(seed=seed)
        assert obs.dtype == np.int32 and env.observation_space.contains(obs)
        assert obs[:2].tolist() == [0, 0]
        targets.add((int(obs[2]), int(obs[3])))
    # As in seed 004: never on row 0 or column 0, and every other cell is used.
    assert targets == {(r, c) for r in range(1, 5) for c in range(1, 7)}


def test_seeding_is_deterministic() -> None:
    def targets(seed: int) -> list[list[int]]:
        env = WarehouseRobotEnv()
        first = env.reset(seed=seed)[0].tolist()
        return [first] + [env.reset()[0].tolist() for _ in range(20)]

    assert targets(7) == targets(7)
    assert targets(7) != targets(8)


def test_returned_observation_is_a_copy() -> None:
    env = WarehouseRobotEnv()
    obs, _ = env.reset(seed=0)
    obs[0] = 99
    nxt, *_ = env.step(RIGHT)
    assert nxt[0] == 0 and obs[0] == 99


def test_time_limit_truncates_at_max_episode_steps() -> None:
    env = WarehouseRobotEnv()  # 6x6: auto limit 2 * (6 + 6) = 24
    assert env.max_episode_steps == 24
    env.reset(seed=0)
    flags = [(s[2], s[3]) for s in run(env, [LEFT] * 24)]
    assert flags[:23] == [(False, False)] * 23
    assert flags[23] == (False, True)
    env = placed(WarehouseRobotEnv(time_limit=3), target=(1, 1))
    assert [s[3] for s in run(env, [UP, UP, UP])] == [False, False, True]
    # Reaching the target on the last allowed step is a termination, not a truncation.
    env = placed(WarehouseRobotEnv(time_limit=2), target=(1, 1))
    assert [s[2:] for s in run(env, [RIGHT, DOWN])] == [(False, False), (True, False)]


def test_no_time_limit_never_truncates() -> None:
    env = placed(WarehouseRobotEnv(time_limit=None), target=(5, 5))
    assert not any(s[3] for s in run(env, [UP] * 2000))
    assert env.elapsed_steps == 2000


def test_sparse_rewards() -> None:
    env = placed(WarehouseRobotEnv(reward_mode="sparse"), target=(2, 2))
    assert [s[1] for s in run(env, [RIGHT, LEFT, RIGHT, RIGHT, DOWN, DOWN])] == [0, 0, 0, 0, 0, 1]


def test_proximity_rewards_use_the_seed_bands() -> None:
    env = placed(WarehouseRobotEnv(grid_rows=10, grid_cols=10, reward_mode="proximity"), target=(9, 9))
    # Euclidean distances after each move: 12.04 (far), 7.07, 4.24, 3.16, 1.41, 1.0, 0 (goal)
    env.robot_row, env.robot_col = 0, 0
    rewards = [s[1] for s in run(env, [RIGHT])]
    env.robot_row, env.robot_col = 4, 4
    rewards += [s[1] for s in run(env, [LEFT])]  # (4, 3): distance hypot(5, 6) = 7.8
    env.robot_row, env.robot_col = 6, 6
    rewards += [s[1] for s in run(env, [UP])]  # (5, 6): hypot(4, 3) = 5.0
    env.robot_row, env.robot_col = 6, 8
    rewards += [s[1] for s in run(env, [DOWN])]  # (7, 8): hypot(2, 1) = 2.24
    rewards += [s[1] for s in run(env, [DOWN, RIGHT, DOWN])]  # (8, 8) 1.41, (8, 9) 1.0, goal
    assert rewards == [-0.01, 0.2, 0.2, 0.1, 0.05, 0.05, 1.0]


def test_proximity_scales_are_configurable() -> None:
    env = WarehouseRobotEnv(
        grid_rows=10,
        grid_cols=10,
        reward_mode="proximity",
        proximity_bands=((3.0, -0.1),),
        proximity_far=-0.5,
    )
    placed(env, target=(9, 9), robot=(7, 9))
    assert [s[1] for s in run(env, [LEFT, UP])] == [-0.1, -0.5]


def test_exploration_rewards_only_new_cells() -> None:
    env = placed(WarehouseRobotEnv(reward_mode="exploration"), target=(5, 5))
    rewards = [s[1] for s in run(env, [RIGHT, LEFT, UP, DOWN, DOWN, RIGHT, UP])]
    #          (0,1) new, (0,0) start, (0,0) wall, (1,0) new, (2,0) new, (2,1) new, (1,1) new
    assert rewards == [0.001, 0.0, 0.0, 0.001, 0.001, 0.001, 0.001]
    env.reset(seed=1)  # a new episode forgets the visited cells
    env.target_row, env.target_col = 5, 5
    assert run(env, [RIGHT])[0][1] == 0.001
    env = placed(WarehouseRobotEnv(reward_mode="exploration", exploration_bonus=0.1), target=(5, 5))
    assert run(env, [DOWN])[0][1] == 0.1


def test_direction_rewards_moves_that_get_closer() -> None:
    env = placed(WarehouseRobotEnv(reward_mode="direction"), target=(2, 3), robot=(0, 1))
    rewards = [s[1] for s in run(env, [RIGHT, LEFT, UP, DOWN, RIGHT, DOWN, RIGHT])]
    #          closer, away, wall, closer, closer, closer, goal
    assert rewards == [0.01, 0.0, 0.0, 0.01, 0.01, 0.01, 1.0]
    env = placed(
        WarehouseRobotEnv(reward_mode="direction", direction_bonus=0.5, goal_reward=10), target=(1, 1)
    )
    assert [s[1] for s in run(env, [RIGHT, DOWN])] == [0.5, 10.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reward_mode": "dense"}, "reward_mode must be one of"),
        ({"grid_rows": 1}, "at least 2 rows"),
        ({"time_limit": 0}, "time_limit must be"),
        ({"render_mode": "video"}, "render_mode must be one of"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WarehouseRobotEnv(**kwargs)


def test_invalid_action_is_rejected() -> None:
    env = WarehouseRobotEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="invalid action 4"):
        env.step(4)


def test_ansi_render() -> None:
    env = placed(WarehouseRobotEnv(grid_rows=3, grid_cols=4, render_mode="ansi"), target=(2, 3))
    assert env.render() == "R _ _ _\n_ _ _ _\n_ _ _ T\n"
    env.step(DOWN)
    assert env.render() == "_ _ _ _\nR _ _ _\n_ _ _ T\nAction: DOWN\n"


def test_rgb_render() -> None:
    env = placed(
        WarehouseRobotEnv(grid_rows=3, grid_cols=4, render_mode="rgb_array"), target=(2, 3), robot=(1, 0)
    )
    img = env.render()
    assert img.shape == (3 * 32, 4 * 32, 3) and img.dtype == np.uint8
    assert img[1 * 32 + 16, 0 * 32 + 16].tolist() == [40, 90, 200]  # robot
    assert img[2 * 32 + 16, 3 * 32 + 16].tolist() == [230, 140, 30]  # target
    assert img[0 * 32 + 16, 2 * 32 + 16].tolist() == [235, 235, 235]  # floor


def test_human_render_needs_pygame() -> None:
    if importlib.util.find_spec("pygame") is None:
        assert "human" not in WarehouseRobotEnv.metadata["render_modes"]
        with pytest.raises(gym.error.DependencyNotInstalled, match="pip install pygame"):
            WarehouseRobotEnv(render_mode="human")
    else:
        assert "human" in WarehouseRobotEnv.metadata["render_modes"]


def test_gymnasium_make_passes_time_limit_through() -> None:
    env = gym.make(WAREHOUSE_ID, time_limit=None)
    assert env.unwrapped.max_episode_steps is None
    env = gym.make(WAREHOUSE_ID, time_limit=5)
    env.reset(seed=0)
    assert [env.step(UP)[3] for _ in range(5)] == [False] * 4 + [True]


def test_registered_with_gymnasium() -> None:
    env = gym.make(WAREHOUSE_ID, grid_rows=4, grid_cols=5, reward_mode="direction")
    assert isinstance(env.unwrapped, WarehouseRobotEnv)
    assert env.unwrapped.max_episode_steps == 18
    obs, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs)


@pytest.mark.parametrize("mode", REWARD_MODES)
def test_passes_gymnasium_and_sb3_env_checkers(mode: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # both checkers report problems as warnings
        gym_check_env(gym.make(WAREHOUSE_ID, reward_mode=mode, render_mode="rgb_array").unwrapped)
        gym_check_env(gym.make(WAREHOUSE_ID, reward_mode=mode, render_mode="ansi").unwrapped)
        sb3_check_env(WarehouseRobotEnv(reward_mode=mode, time_limit=None))
