"""Reinforcement learning: tabular Q-learning on Taxi and DQN agents on CartPole."""

from rl.qlearning import TabularQLearning  # noqa: F401  (tabular Q-learning on Taxi)
