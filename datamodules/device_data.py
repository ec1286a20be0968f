"""A data set held whole on the training device: each batch is one on-device gather, shuffled there too."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch


class EpochOrder:
    """The order of one process's shard in each epoch, drawn on the device from ``seed`` and the epoch.

    Every process draws the same permutation (same seed), then takes every ``world_size``-th index from
    ``rank``: disjoint shards. Training shards are padded by repeating the permutation's first indices so
    that every process takes the same number of steps (as DDP requires, like ``DistributedSampler``);
    evaluation shards are not padded, so each example counts once. Its ``epoch`` is set by the loader's
    ``set_position`` (no ``set_epoch``: Lightning would call that with its own count, a second writer).
    """

    def __init__(self, size: int, shuffle: bool, seed: int, rank: int = 0, world_size: int = 1) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        self.size, self.shuffle, self.seed = size, shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def __len__(self) -> int:
        if self.shuffle:  # padded to equal shards
            return math.ceil(self.size / self.world_size)
        return len(range(self.rank, self.size, self.world_size))

    def indices(self, device: torch.device) -> torch.Tensor:
        if not self.shuffle:
            return torch.arange(self.rank, self.size, self.world_size, device=device)
        generator = torch.Generator(device=device).manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.size, generator=generator, device=device)
        padded = len(self) * self.world_size
        if padded > self.size:
            order = torch.cat([order, order[: padded - self.size]])
        return order[self.rank :: self.world_size]


class DeviceBatchLoader:
    """Iterates ``(images, labels)`` batches of tensors that already live on one device.

    No worker processes, no collate, no pinned staging copy, no host-to-device transfer: the index is
    drawn on the device and a batch is ``tensor[index]``. ``set_position`` (called by
    ``lightning_classics.runs.resume.ResumeState``) chooses the epoch's order and, resuming mid-epoch, the first batch.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int, order: EpochOrder, drop_last: bool = False) -> None:
        if not tensors or any(len(t) != len(tensors[0]) for t in tensors):
            raise ValueError("DeviceBatchLoader needs one or more tensors of equal length")
        if any(t.device != tensors[0].device for t in tensors):
            raise ValueError("DeviceBatchLoader's tensors must be on one device")
        self.tensors, self.batch_size, self.drop_last = tensors, batch_size, drop_last
        self.sampler = order
        self.batch_sampler = None  # Lightning's DataLoader inspection reads both attributes
        self._skip = 0  # batches to skip in the next pass (a resumed epoch)

    def __len__(self) -> int:
        count = len(self.sampler)
        return count // self.batch_size if self.drop_last else math.ceil(count / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        index = self.sampler.indices(self.tensors[0].device)
        first, self._skip = self._skip, 0
        for batch in range(first, len(self)):
            rows = index[batch * self.batch_size : (batch + 1) * self.batch_size]  # one gather per tensor
            yield tuple(t[rows] for t in self.tensors)

    def set_position(self, epoch: int, done: int) -> None:
        """The next pass is epoch ``epoch``'s order without its first ``done`` batches."""
        self.sampler.epoch, self._skip = epoch, done

    # Checkpoints of earlier versions hold this loader's position in Lightning's loop state, and Lightning refuses to
    # restore them into a loader without load_state_dict. The position now comes from ResumeState alone: ignored.
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass
