"""Tabular Q-learning: the LightningModule (agent.py) and the update rule in plain numpy (qlearning.py)."""

from rl.tabular.agent import TabularQLearning

__all__ = ["TabularQLearning"]
