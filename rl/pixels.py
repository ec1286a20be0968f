"""Observations as images: the wrappers that turn rendered classic-control frames into small grayscale ones, and
reward clipping. rl/wrappers.py's ``build_env`` puts them together (with Atari's standard preprocessing) into
``(frame_stack, H, W)`` uint8 stacks that a CNN Q-network reads."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

# pygame draws classic-control frames; without a display it needs SDL's dummy video driver.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

# Luminance weights of ITU-R BT.601, as in the DQN paper's grayscale conversion.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class Crop(NamedTuple):
    """Rows ``[top, bottom)`` and columns ``[left, right)`` of the rendered frame that the agent sees."""

    top: int
    bottom: int
    left: int
    right: int


# CartPole renders 400x600 frames with the track at row 300 and a pole at most 125 px long above it, so
# rows 160-320 hold everything that moves (cart and pole): 160x600, which the preset downscales 10x to 16x60.
# The full width stays because the cart's position matters (it fails beyond x = +-2.4, the frame's edges).
CROPS = {"CartPole": Crop(160, 320, 0, 600)}


class RenderedFrames(gym.ObservationWrapper):
    """Replaces the observation by the rendered frame: cropped, grayscale, downscaled by area averaging.

    Pixels are inverted (255 - luminance) so the empty background is 0 and the objects are bright. The result
    is one ``(H, W)`` uint8 frame; frame stacking comes after this wrapper.
    """

    def __init__(self, env: gym.Env, crop: Crop, downscale: int) -> None:
        if env.render_mode != "rgb_array":
            raise ValueError("RenderedFrames needs an environment made with render_mode='rgb_array'")
        height, width = crop.bottom - crop.top, crop.right - crop.left
        if downscale < 1 or height % downscale or width % downscale:
            raise ValueError(f"downscale {downscale} must divide the crop's {height}x{width} pixels")
        super().__init__(env)
        self.crop = crop
        self.downscale = downscale
        shape = (height // downscale, width // downscale)
        self.observation_space = gym.spaces.Box(0, 255, shape, dtype=np.uint8)

    def observation(self, observation: Any) -> np.ndarray:
        frame = np.asarray(self.env.render())  # (400, 600, 3) uint8 for CartPole
        c, s = self.crop, self.downscale
        gray = frame[c.top : c.bottom, c.left : c.right] @ _LUMA  # (h, w, 3) -> (h, w) float32
        h, w = gray.shape
        small = gray.reshape(h // s, s, w // s, s).mean(axis=(1, 3))  # (h, w) -> (h/s, w/s): area average
        return (255.0 - small).round().astype(np.uint8)


class ClipReward(gym.RewardWrapper):
    """The reward's sign (-1, 0, +1), as in the DQN paper: one learning rate suits games of any score scale."""

    def reward(self, reward: Any) -> float:
        return float(np.sign(reward))


def is_atari(env_id: str) -> bool:
    return env_id.startswith("ALE/") or "NoFrameskip" in env_id


def pixel_crop(env_id: str) -> Crop:
    """The part of ``env_id``'s render that the agent sees; an error for environments without one."""
    name = env_id.split("-")[0]
    if name not in CROPS:
        raise ValueError(f"no pixel crop known for {env_id}; pixel observations support {sorted(CROPS)} and Atari")
    return CROPS[name]
