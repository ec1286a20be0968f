"""DQN: the LightningModule (agent.py) and its parts, each in its own file: Q-network, replay buffer, n-step
returns, environment loop, the dataset that feeds Lightning, the TD update rule, the stop rule, the training
curves and the argument checks."""

from rl.dqn.agent import DQN

__all__ = ["DQN"]
