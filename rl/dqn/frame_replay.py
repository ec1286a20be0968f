"""Replay for stacked uint8 frames that stores each frame once: transitions hold frame indices, and the stacks
``(k, H, W)`` are rebuilt from them when a batch is drawn.

Consecutive stacks share ``k - 1`` frames, and ``s'`` of one transition is ``s`` of the next, so storing stacks
would keep every frame ``2k`` times. Here a transition costs one new frame (plus ``2k`` int32 indices); the
rest are references to frames already stored.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import torch

from rl.dqn.replay import Batch, ReplayBuffer


def _checksum(frame: np.ndarray) -> int:
    """CRC-32 of the frame's bytes: read in place, several times faster than hashing a copy of them."""
    return zlib.crc32(np.ascontiguousarray(frame).data)


class FrameStore:
    """uint8 frames in one preallocated tensor, each distinct frame held once while something refers to it.

    :meth:`add` returns the slot of a frame equal to the given one if one is held (found by a checksum of
    its bytes, confirmed by comparing them), else stores it in a free slot. Every slot counts its references;
    :meth:`release` drops one, and a slot nobody refers to becomes free. Equal content means an exact
    rebuild, so sharing is safe wherever the equal frame came from (the previous step, the stack's padding
    at an episode start, another episode). The store grows by a quarter when it runs out of free slots.
    """

    def __init__(self, capacity: int, frame_shape: Sequence[int]) -> None:
        self.frame_shape = tuple(frame_shape)
        self.frames = torch.zeros(capacity, *self.frame_shape, dtype=torch.uint8)
        self._frames_np: Any = self.frames.numpy()  # NumPy view: single writes are far cheaper than torch's
        self.refs = np.zeros(capacity, dtype=np.int64)
        self.hashes = np.zeros(capacity, dtype=np.int64)
        self.free = list(range(capacity - 1, -1, -1))  # a stack: slot 0 is used first
        self.by_hash: dict[int, int] = {}
        self.used = 0  # slots [0, used) have held a frame at some time (what a checkpoint saves)

    @property
    def capacity(self) -> int:
        return len(self.refs)

    def add(self, frame: np.ndarray) -> int:
        """The slot holding ``frame``, with one more reference to it."""
        key = _checksum(frame)
        slot = self.by_hash.get(key)
        if slot is None or not np.array_equal(self._frames_np[slot], frame):  # absent, or a hash collision
            slot = self._store(frame)
            self.by_hash.setdefault(key, slot)
            self.hashes[slot] = key
        self.refs[slot] += 1
        return slot

    def _store(self, frame: np.ndarray) -> int:
        if not self.free:
            self._grow(self.capacity + max(1, self.capacity // 4))
        slot = self.free.pop()
        self._frames_np[slot] = frame
        self.used = max(self.used, slot + 1)
        return slot

    def _grow(self, capacity: int) -> None:
        old = self.capacity
        frames = torch.zeros(capacity, *self.frame_shape, dtype=torch.uint8)
        frames[:old] = self.frames
        self.frames, self._frames_np = frames, frames.numpy()
        self.refs = np.concatenate([self.refs, np.zeros(capacity - old, dtype=np.int64)])
        self.hashes = np.concatenate([self.hashes, np.zeros(capacity - old, dtype=np.int64)])
        self.free = list(range(capacity - 1, old - 1, -1)) + self.free

    def release(self, slots: np.ndarray) -> None:
        for slot in slots.tolist():
            self.refs[slot] -= 1
            if self.refs[slot] == 0:
                self.free.append(slot)
                if self.by_hash.get(int(self.hashes[slot])) == slot:
                    del self.by_hash[int(self.hashes[slot])]

    def rebuild(self, live_slots: np.ndarray) -> None:
        """Recomputes references, free slots and the hash index from the slots that transitions hold."""
        self.refs[:] = np.bincount(live_slots.ravel(), minlength=self.capacity)[: self.capacity]
        self.free = [int(slot) for slot in np.flatnonzero(self.refs == 0)[::-1]]
        self.by_hash.clear()
        for slot in np.flatnonzero(self.refs).tolist():
            key = _checksum(self._frames_np[slot])
            self.hashes[slot] = key
            self.by_hash.setdefault(key, slot)

    def nbytes(self) -> int:
        return self.frames.numel() + self.refs.nbytes + self.hashes.nbytes


class FrameReplayBuffer:
    """A ring buffer of transitions ``(s, a, R, s', terminated, k)`` whose states are ``(k, H, W)`` uint8
    frame stacks, with the same interface as :class:`rl.dqn.replay.ReplayBuffer` (batches are uint8 stacks).

    Each transition holds the :class:`FrameStore` slots of its two stacks; overwriting the oldest transition
    releases its frames. The stacks a batch rebuilds are exactly the arrays given to :meth:`add`.
    """

    def __init__(self, capacity: int, obs_shape: Sequence[int]) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if len(obs_shape) != 3:
            raise ValueError(f"frame stacks have the shape (k, H, W), got {tuple(obs_shape)}")
        self.capacity = capacity
        self.obs_shape = tuple(obs_shape)
        self.obs_dim = int(np.prod(obs_shape))
        stack = self.obs_shape[0]
        # Distinct frames alive at once: about one per transition, plus each episode's first frame and the
        # few stacks the n-step returns hold back. 1/16 spare covers episodes of 16 steps or more (CartPole's
        # are about 100, Pong's thousands); the store grows if a run needs more.
        self.store = FrameStore(capacity + capacity // 16 + 4 * stack, self.obs_shape[1:])
        self.obs_slots = np.zeros((capacity, stack), dtype=np.int32)
        self.next_slots = np.zeros((capacity, stack), dtype=np.int32)
        self.actions = torch.zeros(capacity, dtype=torch.int64)
        self.rewards = torch.zeros(capacity)
        self.terminated = torch.zeros(capacity, dtype=torch.bool)
        self.steps = torch.ones(capacity, dtype=torch.int64)
        self._scalars: Any = [field.numpy() for field in (self.actions, self.rewards, self.terminated, self.steps)]
        self.position = 0
        self.size = 0

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
        # Store the new frames before releasing the overwritten transition's: a frame both share is kept.
        obs_slots = [self.store.add(frame) for frame in observation]
        next_slots = [self.store.add(frame) for frame in next_observation]
        if self.size == self.capacity:
            self.store.release(self.obs_slots[i])
            self.store.release(self.next_slots[i])
        self.obs_slots[i] = obs_slots
        self.next_slots[i] = next_slots
        actions, rewards, terminals, steps_ = self._scalars
        actions[i], rewards[i], terminals[i], steps_[i] = action, reward, terminated, steps
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def _batch(self, indices: np.ndarray) -> Batch:
        frames = self.store.frames
        rows = torch.from_numpy(indices)
        return Batch(
            observations=frames[torch.from_numpy(self.obs_slots[indices]).long()],  # (B, k) slots -> (B, k, H, W)
            actions=self.actions[rows],
            rewards=self.rewards[rows],
            next_observations=frames[torch.from_numpy(self.next_slots[indices]).long()],
            terminated=self.terminated[rows],
            steps=self.steps[rows],
        )

    def sample(self, batch_size: int) -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement (torch's global RNG, as ReplayBuffer)."""
        if self.size == 0:
            raise RuntimeError("cannot sample from an empty replay buffer")
        return self._batch(torch.randint(self.size, (batch_size,)).numpy())

    def latest(self, batch_size: int) -> Batch:
        """The ``batch_size`` most recent transitions, oldest first (learning without replay)."""
        count = min(batch_size, self.size)
        return self._batch(np.arange(self.position - count, self.position) % self.capacity)

    def nbytes(self) -> int:
        """Bytes of all the buffer's storage: frames, their bookkeeping, and the transitions."""
        transitions = self.obs_slots.nbytes + self.next_slots.nbytes + sum(a.nbytes for a in self._scalars)
        return self.store.nbytes() + transitions

    def state_dict(self) -> dict:
        """Tensors and ints only (``torch.load(weights_only=True)``): the filled transitions and the frames
        they may refer to; references and the hash index are recomputed on load."""
        size = self.size
        return {
            "capacity": self.capacity,
            "position": self.position,
            "size": size,
            "frames": self.store.frames[: self.store.used].clone(),
            "obs_slots": torch.from_numpy(self.obs_slots[:size].copy()),
            "next_slots": torch.from_numpy(self.next_slots[:size].copy()),
            "actions": self.actions[:size].clone(),
            "rewards": self.rewards[:size].clone(),
            "terminated": self.terminated[:size].clone(),
            "steps": self.steps[:size].clone(),
        }

    def load_state_dict(self, state: dict) -> None:
        if state["capacity"] != self.capacity:
            raise ValueError(f"checkpoint buffer holds {state['capacity']} transitions, this one {self.capacity}")
        size, frames = state["size"], state["frames"]
        if len(frames) > self.store.capacity:
            self.store._grow(len(frames))
        self.store.frames[: len(frames)] = frames
        self.store.used = len(frames)
        self.obs_slots[:size] = state["obs_slots"].numpy()
        self.next_slots[:size] = state["next_slots"].numpy()
        for name in ("actions", "rewards", "terminated", "steps"):
            getattr(self, name)[:size] = state[name]
        self.position, self.size = state["position"], size
        self.store.rebuild(np.concatenate([self.obs_slots[:size], self.next_slots[:size]]))


def replay_buffer_for(capacity: int, obs_shape: Sequence[int]) -> ReplayBuffer:
    """:class:`FrameReplayBuffer` for uint8 frame stacks ``(k, H, W)``, the plain ``ReplayBuffer`` otherwise."""
    if len(obs_shape) == 3:
        # typed as ReplayBuffer, whose interface it has (add, sample, latest, len, capacity, state_dict)
        return cast(ReplayBuffer, FrameReplayBuffer(capacity, obs_shape))
    return ReplayBuffer(capacity, int(np.prod(obs_shape)))
