"""A uniformly random agent for ``rl.play --random``: what a trained agent is to be compared with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rl.wrappers import discrete_actions


class RandomAgent:
    """Picks every action uniformly at random (seeded), in the environment that ``make_env`` builds (a trained
    agent's, frame skip and stack included, or ``rl.wrappers.build_env``'s for an id).

    It offers ``rl.play``'s agent interface, so it plays, prints and records exactly as a trained agent does.
    """

    name = "random agent"

    def __init__(self, make_env: Callable[..., gym.Env], seed: int) -> None:
        self._make_env = make_env
        probe = make_env()
        self.num_actions = discrete_actions(probe)
        probe.close()
        self.rng = np.random.default_rng(seed)

    def make_env(self, render_mode: str | None = None) -> gym.Env:
        return self._make_env(render_mode=render_mode)

    def act(self, obs: Any) -> int:
        """A uniformly random action; ``obs`` is not looked at."""
        return int(self.rng.integers(self.num_actions))
