"""Experience replay: a ring buffer of transitions in preallocated tensors, and the batches drawn from it."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch


class Batch(NamedTuple):
    """Transitions ``(s, a, R, s', terminated, k)``; every field has the batch size B as its first dimension.

    ``rewards`` is the discounted sum of ``steps`` rewards (1 for one-step DQN, up to n for n-step returns),
    so the TD target bootstraps from ``next_observations`` with the factor ``gamma ** steps``.
    """

    observations: torch.Tensor  # (B, obs_dim) float32
    actions: torch.Tensor  # (B,) int64
    rewards: torch.Tensor  # (B,) float32
    next_observations: torch.Tensor  # (B, obs_dim) float32
    terminated: torch.Tensor  # (B,) bool: the MDP ended, so nothing follows s' (a time-limit truncation is not)
    steps: torch.Tensor  # (B,) int64: rewards summed into `rewards`


class ReplayBuffer:
    """Fixed-capacity FIFO memory of transitions: once full, each new transition overwrites the oldest.

    Storage is allocated once, as CPU tensors. Single transitions are written through NumPy views of the same
    memory: one ``array[i] = x`` costs well under a microsecond, a torch indexed write several, and the
    environment loop writes one transition per step.
    """

    def __init__(self, capacity: int, obs_dim: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.obs_dim = obs_dim
        self.storage = Batch(
            observations=torch.zeros(capacity, obs_dim),
            actions=torch.zeros(capacity, dtype=torch.int64),
            rewards=torch.zeros(capacity),
            next_observations=torch.zeros(capacity, obs_dim),
            terminated=torch.zeros(capacity, dtype=torch.bool),
            steps=torch.ones(capacity, dtype=torch.int64),
        )
        self._views: Any = Batch._make(field.numpy() for field in self.storage)  # NumPy views sharing `storage`
        self.position = 0  # where the next transition goes
        self.size = 0  # how many slots hold a transition

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        observation: np.ndarray,
        action: int,
        reward: float,
        next_observation: np.ndarray,
        terminated: bool,
        steps: int = 1,
    ) -> None:
        i = self.position
        views = self._views
        views.observations[i] = observation
        views.actions[i] = action
        views.rewards[i] = reward
        views.next_observations[i] = next_observation
        views.terminated[i] = terminated
        views.steps[i] = steps
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement (torch's global RNG, so it is seeded
        by ``seed_everything`` and saved in checkpoints)."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        indices = torch.randint(self.size, (batch_size,))
        return Batch(*(field[indices] for field in self.storage))  # index copies: (capacity, ...) -> (B, ...)

    def latest(self, batch_size: int) -> Batch:
        """The ``batch_size`` most recent transitions, oldest first (learning without replay)."""
        count = min(batch_size, self.size)
        indices = torch.arange(self.position - count, self.position) % self.capacity  # ring order, wraps below 0
        return Batch(*(field[indices] for field in self.storage))

    def state_dict(self) -> dict:
        """Only tensors and ints, so checkpoints load with ``torch.load(weights_only=True)``.

        Slots ``[0, size)`` are always the filled ones (the ring fills from 0 before wrapping), so only those
        are saved: an early checkpoint of a large buffer stays small.
        """
        return {
            "capacity": self.capacity,
            "position": self.position,
            "size": self.size,
            **{name: field[: self.size].clone() for name, field in self.storage._asdict().items()},
        }

    def load_state_dict(self, state: dict) -> None:
        if state["capacity"] != self.capacity:
            raise ValueError(f"checkpoint buffer holds {state['capacity']} transitions, this one {self.capacity}")
        size = state["size"]
        for name, field in self.storage._asdict().items():
            field[:size] = state[name]
        self.position = state["position"]
        self.size = size
