"""Building the agent's environment (:func:`build_env`, the one factory): ``gym.make`` plus frame counting,
frame skipping, pixels and frame stacking."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.wrappers import AtariPreprocessing, FlattenObservation, FrameStackObservation

from rl.pixels import ClipReward, RenderedFrames, is_atari, pixel_crop
from rl.steps import FrameCounter
from training_runs.errors import UserError


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
    env_id: str,
    frame_skip: int = 1,
    frame_stack: int = 1,
    *,
    render_mode: str | None = None,
    one_hot: bool = False,
    pixels: bool = False,
    downscale: int = 5,
    training: bool = False,
    clip_rewards: bool = False,
    option: str = "--model.init_args.env_id",
) -> gym.Env:
    """Every agent's environment, as the agent sees it: the one factory that DQN, tabular Q-learning, the random
    agent and ``rl.play`` all use.

    ``gym.make(env_id)`` (its time limit included), then a :class:`~rl.steps.FrameCounter` (frames, rl/steps.py),
    then ``frame_skip`` frames per action (rewards summed), then the last ``frame_stack`` observations:

    - state vectors: stacked and flattened, (k, obs_dim) -> (k * obs_dim,); ``one_hot``: integer-label
      observations (Taxi's state number) as one-hot vectors first;
    - ``pixels`` (always for Atari ids, ``ALE/Pong-v5``): ``(frame_stack, H, W)`` uint8 stacks of processed frames
      (rl/pixels.py). Classic control: the cropped render, grayscale, shrunk ``downscale`` times. Atari: the DQN
      paper's ``AtariPreprocessing`` (up to 30 no-op starts, ``frame_skip`` with a max over the last two frames,
      84x84 grayscale) and, while ``training``, a lost life ends the episode as ``terminated``.

    ``render_mode``: gymnasium's, for watching (pixel agents render ``rgb_array`` for themselves regardless).
    ``clip_rewards``: the reward's sign, meant for training only (evaluation reports the true score).
    ``option``: the command-line option named when ``env_id`` cannot be made.
    """
    env: gym.Env
    if is_atari(env_id):
        import ale_py  # imported here: only Atari needs ale-py

        gym.register_envs(ale_py)
        # frameskip=1: every step is one emulator frame, and AtariPreprocessing does the skipping
        env = FrameCounter(_make(env_id, option, frameskip=1, render_mode=render_mode))
        env = AtariPreprocessing(
            env, noop_max=30, frame_skip=frame_skip, screen_size=84, terminal_on_life_loss=training
        )
    elif pixels:
        crop = pixel_crop(env_id)
        # the agent's frames come from rgb_array renders; a "human" window is not one of them
        env = FrameCounter(_make(env_id, option, render_mode="rgb_array"))
        env = RenderedFrames(_skip(env, frame_skip), crop, downscale)
    else:
        # render_mode only when asked for: not every registered env accepts the keyword
        made = _make(env_id, option, render_mode=render_mode) if render_mode else _make(env_id, option)
        env = _skip(FrameCounter(FlattenObservation(made) if one_hot else made), frame_skip)
    if clip_rewards:
        env = ClipReward(env)
    if frame_stack == 1 and not (pixels or is_atari(env_id)):
        return env
    # "reset" padding: the first state of an episode is its first observation repeated k times
    stacked = FrameStackObservation(env, frame_stack, padding_type="reset")
    image = len(env.observation_space.shape or ()) == 2
    return stacked if image else FlattenObservation(stacked)


def _skip(env: gym.Env, frame_skip: int) -> gym.Env:
    return FrameSkip(env, frame_skip) if frame_skip > 1 else env


def _make(env_id: str, option: str, **kwargs: Any) -> gym.Env:
    """``gym.make`` with a one-line error, naming ``option``, for an id that gymnasium does not know."""
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as err:  # NameNotFound, VersionNotFound, DeprecatedEnv, ...
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{option} {env_id!r} cannot be made: {reason} (ids look like CartPole-v1 or Taxi-v4)") from err


def discrete_actions(env: gym.Env) -> int:
    """Number of actions of an environment with a discrete action space; a clear error for any other space."""
    space = env.action_space
    if not isinstance(space, gym.spaces.Discrete):
        raise ValueError(
            f"{env.spec.id if env.spec else env} has a {type(space).__name__} action space; "
            "these agents pick one of a finite set of actions (gymnasium.spaces.Discrete), e.g. CartPole or Taxi"
        )
    return int(space.n)
