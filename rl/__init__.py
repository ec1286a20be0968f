"""Reinforcement learning: tabular Q-learning on Taxi and DQN agents on CartPole."""

from rl.dqn import DQN
from rl.qlearning import TabularQLearning

__all__ = ["DQN", "TabularQLearning"]
