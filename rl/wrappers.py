"""Building the agent's environment (frame skipping, frame stacking) and saving/restoring its exact state."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.wrappers import FlattenObservation, FrameStackObservation, TimeLimit


class FrameSkip(gym.Wrapper):
    """Repeats each action for ``skip`` frames and returns the sum of their rewards.

    The agent decides (and learns) once per ``skip`` frames, so an episode is ``skip`` times shorter in agent
    steps and each reward carries more signal. Stops early when the episode ends within the repeated frames.
    """

    def __init__(self, env: gym.Env, skip: int) -> None:
        if skip < 1:
            raise ValueError(f"skip must be at least 1, got {skip}")
        super().__init__(env)
        self.skip = skip

    def step(self, action):
        total_reward = 0.0
        for _ in range(self.skip):
            observation, reward, terminated, truncated, info = self.env.step(action)
            total_reward += float(reward)
            if terminated or truncated:
                break
        return observation, total_reward, terminated, truncated, info


def make_env(env_id: str, frame_skip: int = 1, frame_stack: int = 1, render_mode: str | None = None) -> gym.Env:
    """``gym.make(env_id)`` (time limit included), then frame skipping, then stacking of the last
    ``frame_stack`` observations the agent saw, flattened into one vector: (k, obs_dim) -> (k * obs_dim,)."""
    # render_mode only when asked for: not every registered env accepts the keyword
    env = gym.make(env_id, render_mode=render_mode) if render_mode else gym.make(env_id)
    if frame_skip > 1:
        env = FrameSkip(env, frame_skip)
    if frame_stack > 1:
        # "reset" padding: the first state of an episode is its first observation repeated k times
        env = FlattenObservation(FrameStackObservation(env, frame_stack, padding_type="reset"))
    return env


def _wrappers(env: gym.Env):
    while isinstance(env, gym.Wrapper):
        yield env
        env = env.env


def env_state(env: gym.Env) -> dict[str, Any]:
    """Everything that decides the environment's future, as tensors and Python numbers (checkpoint-safe).

    Covers the simulator state (classic-control environments keep it in ``unwrapped.state``), its random
    generator (which draws the next episodes' start states), the time limit's step count and the frame stack.
    """
    inner: Any = env.unwrapped  # classic-control envs keep their physics in `state`
    state: dict[str, Any] = {
        "physics": torch.from_numpy(np.array(inner.state)),
        "np_random": inner.np_random.bit_generator.state,  # a dict of ints and strings
    }
    for wrapper in _wrappers(env):
        if isinstance(wrapper, TimeLimit):
            state["elapsed_steps"] = wrapper._elapsed_steps  # no public setter; truncation depends on it
        elif isinstance(wrapper, FrameStackObservation):
            state["frames"] = torch.from_numpy(np.stack(wrapper.obs_queue))  # (k, obs_dim), oldest first
    return state


def load_env_state(env: gym.Env, state: dict[str, Any]) -> None:
    """Inverse of :func:`env_state`. The environment must have been reset once (wrappers check for that)."""
    inner: Any = env.unwrapped  # classic-control envs keep their physics in `state`
    inner.state = state["physics"].numpy().copy()
    inner.np_random.bit_generator.state = state["np_random"]
    for wrapper in _wrappers(env):
        if isinstance(wrapper, TimeLimit):
            wrapper._elapsed_steps = state["elapsed_steps"]
        elif isinstance(wrapper, FrameStackObservation):
            wrapper.obs_queue.extend(frame.numpy().copy() for frame in state["frames"])  # maxlen k: replaces all


def discrete_actions(env: gym.Env) -> int:
    """Number of actions of an environment with a discrete action space; a clear error for any other space."""
    space = env.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(
            f"{env.spec.id if env.spec else env} has a {type(space).__name__} action space; "
            "these agents pick one of a finite set of actions (gymnasium.spaces.Discrete), e.g. CartPole or Taxi"
        )
    return int(space.n)
