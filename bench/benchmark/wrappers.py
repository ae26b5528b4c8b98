"""Env wrappers the benchmark's fault runs name in their zoo hyperparameters (``env_wrapper``)."""

from __future__ import annotations

import gymnasium as gym


class ScaleReward1000(gym.RewardWrapper):
    """Multiply every reward by 1000: the "reward scale too large" fault."""

    def reward(self, reward: float) -> float:
        return float(reward) * 1000.0
