"""What a "step" counts, in one place: the two counts every agent's logs, progress bar and ``rl.play`` report.

- **Agent step**: one decision, an action chosen for one environment copy (``num_envs`` copies make ``num_envs``
  agent steps per vector step). Training's x-axis, its progress bar, ``train/env_steps`` (the name the logs have
  always had), ``epsilon_decay_steps``, ``train_freq``, ``learning_starts`` and ``gamma`` count these.
- **Frame**: one ``step`` of the environment itself, beneath frame skipping (one Atari emulator frame, one
  CartPole physics step). With ``frame_skip`` k an agent step is k frames, fewer when the episode ends inside
  them; Atari's no-op starts (played inside ``reset``) count too. Logged as ``train/env_frames``; the time
  limits (CartPole's 200 steps) count these.

Other libraries: Stable-Baselines3 and RL Zoo's ``total_timesteps`` count ``env.step`` calls of the environment
they are given, so for classic control without frame skip their timesteps are our agent steps and our frames
alike; for Atari with their 4-frame skip, their timesteps are our agent steps, and the papers' "frames" ours.
"""

from __future__ import annotations

import gymnasium as gym


class FrameCounter(gym.Wrapper):
    """Counts this environment's frames (:meth:`step` calls), over all its episodes; wraps the environment
    right under any frame skipping (rl/wrappers.py's ``build_env`` puts it there)."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.frames = 0

    def step(self, action):
        self.frames += 1
        return self.env.step(action)


def frames_of(env: gym.Env) -> int | None:
    """Frames ``env`` has taken since it was made; ``None`` if it was not built to count them."""
    try:
        return int(env.get_wrapper_attr("frames"))
    except AttributeError:
        return None


def set_frames(env: gym.Env, frames: int) -> None:
    """Sets the count of ``env``'s :class:`FrameCounter` (a resumed run continues the saved count)."""
    if not env.set_wrapper_attr("frames", frames, force=False):
        raise ValueError(f"{env} counts no frames: build it with rl.wrappers.build_env")
