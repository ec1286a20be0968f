"""A tiny deterministic environment on which a DQN learns in a few hundred updates, and settings that do."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class Corridor(gym.Env):
    """Cells 0..4, start in 0; action 1 steps right, 0 left (the walls stop the agent).

    Reaching cell 4 pays 1 and terminates; the time limit below truncates after 8 steps. Observations are
    one-hot cells. Optimal greedy return 1.0 needs four right steps in a row, so solving it means learning.
    """

    LENGTH = 5

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(0.0, 1.0, (self.LENGTH,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.state = np.zeros(1, dtype=np.int64)  # the cell, as an array: the classic-control convention

    def _observation(self) -> np.ndarray:
        return np.eye(self.LENGTH, dtype=np.float32)[self.state[0]]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.state = np.zeros(1, dtype=np.int64)
        return self._observation(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.state = np.clip(self.state + (1 if action == 1 else -1), 0, self.LENGTH - 1)
        terminated = bool(self.state[0] == self.LENGTH - 1)
        return self._observation(), float(terminated), terminated, False, {}


if "DQNTestCorridor-v0" not in gym.registry:
    gym.register("DQNTestCorridor-v0", entry_point=Corridor, max_episode_steps=8, reward_threshold=1.0)
# With the module in the id, gym.make imports this module first: usable from a fresh process (cli.py, DDP).
CORRIDOR = "tests.corridor_env:DQNTestCorridor-v0"

# Small and fast: a solved corridor within a few hundred updates.
CORRIDOR_AGENT = dict(
    env_id=CORRIDOR,
    hidden_sizes=(32,),
    lr=0.01,
    gamma=0.9,
    batch_size=32,
    learning_starts=50,
    steps_per_epoch=100,
    target_update_interval=20,
    epsilon_decay_steps=400,
    val_episodes=3,
    test_episodes=3,
)
