"""Building the agent's environment: ``gym.make`` plus frame skipping and frame stacking."""

from __future__ import annotations

import gymnasium as gym
from gymnasium.wrappers import FlattenObservation, FrameStackObservation

from rl.arguments import make_env


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


def build_env(
    env_id: str, frame_skip: int = 1, frame_stack: int = 1, render_mode: str | None = None, one_hot: bool = False
) -> gym.Env:
    """``gym.make(env_id)`` (time limit included), ``one_hot``: integer-label observations as one-hot vectors
    (gymnasium's flattening of a Discrete space), then frame skipping, then stacking of the last
    ``frame_stack`` observations the agent saw, flattened into one vector: (k, obs_dim) -> (k * obs_dim,).
    Image observations (H, W) stay images: (k, H, W), the frame stacks a CNN reads."""
    # render_mode only when asked for: not every registered env accepts the keyword
    env = make_env(env_id, render_mode=render_mode) if render_mode else make_env(env_id)
    if one_hot:
        env = FlattenObservation(env)
    if frame_skip > 1:
        env = FrameSkip(env, frame_skip)
    if frame_stack > 1:
        # "reset" padding: the first state of an episode is its first observation repeated k times
        stacked = FrameStackObservation(env, frame_stack, padding_type="reset")
        image = len(env.observation_space.shape or ()) == 2
        env = stacked if image else FlattenObservation(stacked)
    return env


def discrete_actions(env: gym.Env) -> int:
    """Number of actions of an environment with a discrete action space; a clear error for any other space."""
    space = env.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(
            f"{env.spec.id if env.spec else env} has a {type(space).__name__} action space; "
            "these agents pick one of a finite set of actions (gymnasium.spaces.Discrete), e.g. CartPole or Taxi"
        )
    return int(space.n)
