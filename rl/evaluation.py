"""Greedy evaluation shared by any agent that maps an observation to an action.

Every evaluation episode starts from ``env.reset(seed=s)`` for a fixed list of seeds, so two checkpoints are
scored on exactly the same start states and a score does not depend on how much training came before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym


def greedy_episode(env: gym.Env, act: Callable[[Any], int], seed: int) -> tuple[float, int]:
    """Play one episode with ``act`` from the start state of ``seed``; return (return, steps)."""
    obs, _ = env.reset(seed=seed)
    episode_return, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, _ = env.step(act(obs))
        episode_return += float(reward)
        steps += 1
        if terminated or truncated:
            return episode_return, steps


def greedy_returns(env: gym.Env, act: Callable[[Any], int], seeds: Iterable[int]) -> list[float]:
    """The return of one greedy episode per seed."""
    return [greedy_episode(env, act, int(seed))[0] for seed in seeds]
