"""n-step returns: folds consecutive one-step transitions into ``(s_t, a_t, R_t^(k), s_{t+k}, terminated, k)``."""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np
import torch


class Transition(NamedTuple):
    observation: np.ndarray
    action: int
    reward: float  # sum_{i<steps} gamma^i r_{t+i}
    next_observation: np.ndarray
    terminated: bool
    steps: int


class NStepAccumulator:
    """Holds the last ``n - 1`` steps of the running episode until their n-step return is known.

    Each pushed step releases the transition that started ``n`` steps ago. When the episode ends, every pending
    step is released with a shorter return (k < n rewards), all bootstrapping from the final observation:
    with ``terminated`` they will not bootstrap at all; after a truncation they do, discounted by ``gamma ** k``.
    With ``n = 1`` each step is released at once, unchanged.
    """

    def __init__(self, n: int, gamma: float, obs_dim: int) -> None:
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        self.n = n
        self.gamma = gamma
        self.obs_dim = obs_dim
        self.pending: deque[tuple[np.ndarray, int, float]] = deque()

    def push(
        self,
        observation: np.ndarray,
        action: int,
        reward: float,
        next_observation: np.ndarray,
        terminated: bool,
        truncated: bool,
    ) -> list[Transition]:
        """Adds step ``(s, a, r, s')`` and returns the transitions completed by it (oldest first)."""
        self.pending.append((observation, action, reward))
        released = []
        if len(self.pending) == self.n:
            released.append(self._release(next_observation, terminated))
        if terminated or truncated:
            while self.pending:
                released.append(self._release(next_observation, terminated))
        return released

    def _release(self, next_observation: np.ndarray, terminated: bool) -> Transition:
        """Releases the oldest pending step, with the discounted sum of all pending rewards."""
        ret = 0.0
        for i, (_, _, reward) in enumerate(self.pending):
            ret += self.gamma**i * reward
        steps = len(self.pending)
        observation, action, _ = self.pending.popleft()
        return Transition(observation, action, ret, next_observation, terminated, steps)

    def clear(self) -> None:
        self.pending.clear()

    def state_dict(self) -> dict:
        pending = list(self.pending)
        return {
            # (k, *obs_shape) with 0 <= k < n, in the observations' own dtype (uint8 frames stay bytes)
            "observations": torch.from_numpy(np.stack([p[0] for p in pending]))
            if pending
            else torch.zeros(0, self.obs_dim),
            "actions": torch.tensor([p[1] for p in pending], dtype=torch.int64),
            "rewards": torch.tensor([p[2] for p in pending], dtype=torch.float64),
        }

    def load_state_dict(self, state: dict) -> None:
        self.pending = deque(
            (obs.numpy().copy(), int(action), float(reward))
            for obs, action, reward in zip(state["observations"], state["actions"], state["rewards"], strict=True)
        )
