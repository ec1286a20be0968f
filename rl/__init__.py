"""Reinforcement learning: tabular Q-learning on Taxi and DQN agents on CartPole."""
