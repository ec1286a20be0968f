"""A shuffling sampler whose order is a function of (seed, epoch), so a resumed run replays it exactly."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochShuffleSampler(Sampler[int]):
    """A new random order of ``range(size)`` every epoch, drawn from its own generator seeded by (seed, epoch).

    Unlike ``RandomSampler`` it draws nothing from the global RNG and keeps no hidden position: the order of
    epoch ``e`` is the same in every process and after every restart. ``start_at(n)`` makes the next pass begin
    with the ``n``-th index (resuming mid-epoch); ``training_runs.resume.ResumeState`` sets the epoch and start.
    """

    def __init__(self, size: int, seed: int | None = None) -> None:
        self.size = size
        self.seed = torch.initial_seed() if seed is None else seed  # the seed_everything value by default
        self.epoch = 0
        self._start = 0

    def use_epoch(self, epoch: int) -> None:
        """(Not ``set_epoch``: Lightning calls that with its own count, which is off by one in a resumed epoch.)"""
        self.epoch = epoch

    def start_at(self, index: int) -> None:
        self._start = index

    def order(self, epoch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
        return torch.randperm(self.size, generator=generator)

    def __iter__(self) -> Iterator[int]:
        start, self._start = self._start, 0  # the start applies to one pass only
        yield from self.order(self.epoch)[start:].tolist()

    def __len__(self) -> int:
        return self.size


class SequentialSampler(Sampler[int]):
    """``range(size)`` in order, like torch's ``SequentialSampler``, but able to start part-way (``start_at``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._start = 0

    def start_at(self, index: int) -> None:
        self._start = index

    def __iter__(self) -> Iterator[int]:
        start, self._start = self._start, 0
        yield from range(start, self.size)

    def __len__(self) -> int:
        return self.size
