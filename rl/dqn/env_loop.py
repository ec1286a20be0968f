"""The environment side of DQN: epsilon-greedy acting that fills the replay buffer, and greedy evaluation."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rl.checkpointing import env_state, generator_state, load_env_state
from rl.dqn.nstep import NStepAccumulator
from rl.dqn.replay import ReplayBuffer
from rl.wrappers import discrete_actions


class EnvLoop:
    """Acts epsilon-greedily in one environment and stores what happens in the replay buffer.

    It owns the interaction state a faithful resume needs: the current observation, the running episode's
    return and length, the step/episode counters, the n-step accumulator, the exploration RNG and the
    environment's own state (see :meth:`state_dict`).
    """

    def __init__(self, env: gym.Env, buffer: ReplayBuffer, n_steps: int, gamma: float) -> None:
        self.env = env
        self.buffer = buffer
        self.num_actions = discrete_actions(env)
        self.accumulator = NStepAccumulator(n_steps, gamma, buffer.obs_dim)
        self.rng = np.random.default_rng()  # replaced by a seeded one in reset()
        self.observation: np.ndarray | None = None
        self.episode_return = 0.0
        self.episode_length = 0
        self.env_steps = 0
        self.episodes = 0
        self.finished_returns: list[float] = []  # returns of episodes ended since the caller last drained it

    def reset(self, seed: int) -> None:
        """Seeds exploration and the environment, and starts the first episode."""
        self.rng = np.random.default_rng(seed)
        self.observation, _ = self.env.reset(seed=seed)
        self.accumulator.clear()
        self.episode_return, self.episode_length = 0.0, 0

    def step(self, q_network: nn.Module, epsilon: float) -> None:
        """One environment step: a random action with probability ``epsilon``, else the greedy one."""
        if self.observation is None:
            raise RuntimeError("call reset(seed) before step()")
        if self.rng.random() < epsilon:
            action = int(self.rng.integers(self.num_actions))
        else:
            action = self.greedy_action(q_network)
        next_observation, reward, terminated, truncated, _ = self.env.step(action)
        reward = float(reward)
        released = self.accumulator.push(self.observation, action, reward, next_observation, terminated, truncated)
        for transition in released:
            self.buffer.add(*transition)
        self.env_steps += 1
        self.episode_return += reward
        self.episode_length += 1
        if terminated or truncated:
            self.finished_returns.append(self.episode_return)
            self.episodes += 1
            self.episode_return, self.episode_length = 0.0, 0
            next_observation, _ = self.env.reset()  # unseeded: continues the generator seeded in reset()
        self.observation = next_observation

    @torch.no_grad()
    def greedy_action(self, q_network: nn.Module) -> int:
        device = next(q_network.parameters()).device
        observation = torch.from_numpy(self.observation).to(device).unsqueeze(0)  # (obs_dim,) -> (1, obs_dim)
        return int(q_network(observation).argmax())  # one sync per step: the environment needs a Python int

    def state_dict(self) -> dict:
        if self.observation is None:
            raise RuntimeError("nothing to save before reset()")
        return {
            "observation": torch.from_numpy(self.observation.copy()),
            "episode_return": self.episode_return,
            "episode_length": self.episode_length,
            "env_steps": self.env_steps,
            "episodes": self.episodes,
            "n_step": self.accumulator.state_dict(),
            "rng": generator_state(self.rng),
            "env": env_state(self.env),
        }

    def load_state_dict(self, state: dict) -> None:
        if self.observation is None:
            self.env.reset()  # the wrappers refuse to step an environment that was never reset
        self.observation = state["observation"].numpy().copy()
        self.episode_return = state["episode_return"]
        self.episode_length = state["episode_length"]
        self.env_steps = state["env_steps"]
        self.episodes = state["episodes"]
        self.accumulator.load_state_dict(state["n_step"])
        self.rng.bit_generator.state = state["rng"]
        load_env_state(self.env, state["env"])
        self.finished_returns.clear()
