"""The bridge between the environment loop and Lightning's training loop: a dataset of replayed batches."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, IterableDataset

from rl.dqn.replay import Batch


class ExperienceStream(IterableDataset):
    """One pass = one Lightning epoch of ``length`` training batches.

    Before each batch it lets the agent act (``collect``: a few agent steps into the replay buffer), then
    draws the batch (``draw``: a uniform sample, or the newest transitions without replay). The data is made
    while it is consumed, so it must be iterated in the training process: use it with ``num_workers=0``.

    It makes each batch one ahead of the one it hands out (the first call makes two), so the agent acts with weights
    that are one update old; Q-learning is off-policy, so that does no harm, and acting ahead is what the agent was
    tuned with. (Lightning would fetch one ahead itself from a loader without a length, but it starts doing so
    before ``on_train_start``, before ``training_runs.resume.ResumeState`` can set the position: so the stream has a
    length and looks ahead itself.) A checkpoint written at the end of batch k thus already holds the acting and
    the replay draw of batch k + 1: the batches made but not yet trained on (``ahead``) go into the checkpoint too,
    and a stream resumed from it yields them (``pending``) before it makes new ones, so a run resumed mid-epoch is
    bit-exact.

    Making a DataLoader's iterator draws a base seed, from torch's global RNG unless the loader has its own
    generator: :meth:`loader` gives it one, so a run resumed mid-epoch (which makes an iterator the uninterrupted
    run made before the checkpoint) draws its replay batches from the same global RNG state as that run.
    """

    def __init__(
        self,
        collect: Callable[[], None],
        draw: Callable[[], Batch],
        length: int,
    ) -> None:
        """
        Args:
            collect: Acts in the environments before each batch (the agent's share of agent steps).
            draw: Makes one training batch from the replay buffer.
            length: Batches per pass (Lightning epoch).
        """
        super().__init__()
        self.collect = collect
        self.draw = draw
        self.length = length
        self.pending: list[Batch] = []  # the first pass's batches made before the checkpoint (load_state_dict)
        self.ahead: deque[Batch] = deque()  # batches handed to Lightning's loop and not yet trained on
        self._skip = 0  # batches of the next pass already trained on (set_position)

    def __len__(self) -> int:
        return self.length

    def set_position(self, epoch: int, done: int) -> None:
        """The next pass starts after its first ``done`` batches (every epoch is made the same way)."""
        self._skip = done

    def __iter__(self) -> Iterator[Batch]:
        done, self._skip = self._skip, 0
        pending, self.pending = self.pending, []
        self.ahead.clear()
        count = self.length - done

        def make(index: int) -> Batch:
            if index < len(pending):
                return pending[index]
            self.collect()
            return self.draw()

        if count <= 0:
            return
        following = make(0)
        self.ahead.append(following)
        for index in range(count):
            batch = following
            if index + 1 < count:  # the next batch, made before this one is trained on
                following = make(index + 1)
                self.ahead.append(following)
            yield batch

    def taken(self) -> None:
        """The training loop starts on the oldest batch handed out: it is no longer ahead."""
        self.ahead.popleft()

    def loader(self) -> DataLoader:
        """The training loader: ready-made batches, made in this process (``num_workers=0``). Its own generator
        draws the iterator's unused base seed, which would otherwise move torch's global RNG (replay sampling)."""
        return DataLoader(self, batch_size=None, num_workers=0, generator=torch.Generator())

    def state_dict(self) -> dict[str, Any]:
        """The batches made but not yet trained on (their acting and replay draws are already in the agent's state),
        as tensors: the first pass of a stream resumed from it yields them before it makes new ones."""
        return {"ahead": [{name: field.cpu() for name, field in batch._asdict().items()} for batch in self.ahead]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pending = [Batch(**fields) for fields in state["ahead"]]
