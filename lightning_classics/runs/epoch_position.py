"""The one protocol by which a training loader is told which epoch it plays and how far into it to start.

Every training loader of the project implements it, on the part that owns its order: ``EpochShuffleSampler`` and
``PositionedSequentialSampler`` (a DataLoader's sampler), ``DeviceBatchLoader`` (the loader itself) and the DQN's
``ExperienceStream`` (a DataLoader's dataset). ``lightning_classics.runs.resume.ResumeState`` is its one caller.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class EpochPosition(Protocol):
    def set_position(self, epoch: int, done: int) -> None:
        """The next pass is epoch ``epoch`` and starts after its first ``done`` items (what one pass yields:
        indices for a sampler, batches for a loader or a stream of ready-made batches)."""


def position_owner(loader: object) -> tuple[EpochPosition, int] | None:
    """The part of a training loader that implements ``EpochPosition`` (the loader itself, its sampler, its batch
    sampler's sampler or its dataset), with how many of that part's items make one of the loader's batches; None
    if no part does (e.g. a sampler Lightning wrapped in a ``DistributedSamplerWrapper`` for several processes)."""
    if isinstance(loader, EpochPosition):
        return loader, 1
    per_batch = getattr(loader, "batch_size", None) or 1  # a DataLoader's sampler or dataset yields single items
    batch_sampler = getattr(loader, "batch_sampler", None)
    parts = (
        getattr(loader, "sampler", None),
        getattr(batch_sampler, "sampler", None),
        getattr(loader, "dataset", None),
    )
    for part in parts:
        if isinstance(part, EpochPosition):
            return part, per_batch
    return None
