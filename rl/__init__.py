"""Reinforcement learning: one sub-package per algorithm (``rl.dqn``, ``rl.tabular``); the modules at this level
are shared by every agent (evaluation, schedules, seeds, environment wrappers, checkpoint state, play)."""

from rl.dqn import DQN
from rl.tabular import TabularQLearning

__all__ = ["DQN", "TabularQLearning"]
