"""A shuffling sampler whose order is a function of (seed, epoch), so a resumed run replays it exactly."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochShuffleSampler(Sampler[int]):
    """A new random order of ``range(size)`` every epoch, drawn from its own generator seeded by (seed, epoch).

    Unlike ``RandomSampler`` it draws nothing from the global RNG and keeps no hidden position: the order of
    epoch ``e`` is the same in every process and after every restart. ``lightning_classics.runs.resume.ResumeState`` tells it
    the epoch and, resuming mid-epoch, how many indices to skip (``set_position``). It has no ``set_epoch``:
    Lightning would call that with its own count, which is off by one in a resumed epoch.
    """

    def __init__(self, size: int, seed: int | None = None) -> None:
        self.size = size
        self.seed = torch.initial_seed() if seed is None else seed  # the seed_everything value by default
        self.epoch = 0
        self._start = 0

    def set_position(self, epoch: int, done: int) -> None:
        """The next pass is epoch ``epoch``'s order without its first ``done`` indices."""
        self.epoch, self._start = epoch, done

    def order(self, epoch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
        return torch.randperm(self.size, generator=generator)

    def __iter__(self) -> Iterator[int]:
        start, self._start = self._start, 0  # the start applies to one pass only
        yield from self.order(self.epoch)[start:].tolist()

    def __len__(self) -> int:
        return self.size


class PositionedSequentialSampler(Sampler[int]):
    """``range(size)`` in order, like torch's ``SequentialSampler``, but able to start part-way (``set_position``)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._start = 0

    def set_position(self, epoch: int, done: int) -> None:
        """The next pass starts at index ``done``; every epoch has the same order."""
        self._start = done

    def __iter__(self) -> Iterator[int]:
        start, self._start = self._start, 0
        yield from range(start, self.size)

    def __len__(self) -> int:
        return self.size
