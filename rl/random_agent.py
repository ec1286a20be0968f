"""A uniformly random agent for ``rl.play --random``: what a trained agent is to be compared with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rl.arguments import make_env
from rl.wrappers import discrete_actions
from training_runs.errors import UserError


class RandomAgent:
    """Picks every action uniformly at random (seeded), in the environment that ``make_env`` builds.

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

    def act_greedy(self, obs: Any) -> int:
        """The interface's name; this agent ignores ``obs`` and draws the action."""
        return int(self.rng.integers(self.num_actions))


def env_maker(env_id: str) -> Callable[..., gym.Env]:
    """``gym.make(env_id, render_mode=...)``, with a one-line error naming ``--env`` for an unknown id."""
    try:
        make_env(env_id, option="--env").close()
    except ValueError as err:
        raise UserError(str(err)) from err

    def make(render_mode: str | None = None) -> gym.Env:
        return make_env(env_id, option="--env", render_mode=render_mode) if render_mode else make_env(env_id, "--env")

    return make
