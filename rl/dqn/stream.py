"""The bridge between the environment loop and Lightning's training loop: a dataset of replayed batches."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

import torch
from torch.utils.data import IterableDataset

from rl.dqn.replay import Batch


class ExperienceStream(IterableDataset):
    """One pass = one Lightning epoch of ``length`` training batches.

    Before each batch it lets the agent act (``collect``: a few environment steps into the replay buffer), then
    draws the batch (``draw``: a uniform sample, or the newest transitions without replay). The data is made
    while it is consumed, so it must be iterated in the training process: use it with ``num_workers=0``.

    Lightning fetches one batch ahead of the one being trained on (to know which batch is the last), so the
    agent acts with weights that are one update old; Q-learning is off-policy, so that does no harm. It also
    means that a checkpoint written at the end of batch k already holds the acting and the replay draw of batch
    k + 1: the batches made but not yet trained on (``ahead``) go into the checkpoint too, and a stream resumed
    from it yields them (``pending``) before it makes new ones, so a run resumed mid-epoch is bit-exact.

    Making a DataLoader's iterator draws a base seed from torch's global RNG. The uninterrupted run drew it at the
    epoch's start, before the checkpoint; a run resumed mid-epoch draws it again after restoring the RNG, so its
    first pass puts back the checkpoint's RNG state (``rng_state``) before it draws a replay batch.
    """

    def __init__(
        self,
        collect: Callable[[], None],
        draw: Callable[[], Batch],
        length: int,
        done: int = 0,
        pending: list[Batch] | None = None,
        rng_state: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.collect = collect
        self.draw = draw
        self.length = length
        self.done = done  # batches of the first pass already trained on (a run resumed mid-epoch)
        self.pending = pending or []  # batches of the first pass made before the checkpoint, not yet trained on
        self.rng_state = rng_state  # torch's RNG state at the mid-epoch checkpoint the first pass resumes
        self.ahead: deque[Batch] = deque()  # batches handed to Lightning's loop and not yet trained on

    def __iter__(self) -> Iterator[Batch]:
        done, self.done = self.done, 0
        pending, self.pending = self.pending, []
        if self.rng_state is not None:
            torch.set_rng_state(self.rng_state)
            self.rng_state = None
        self.ahead.clear()
        for index in range(self.length - done):
            if index < len(pending):
                batch = pending[index]
            else:
                self.collect()
                batch = self.draw()
            self.ahead.append(batch)
            yield batch

    def taken(self) -> None:
        """The training loop starts on the oldest batch handed out: it is no longer ahead."""
        self.ahead.popleft()
