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

    It makes each batch one ahead of the one it hands out (the first call makes two), so the agent acts with weights
    that are one update old; Q-learning is off-policy, so that does no harm, and acting ahead is what the agent was
    tuned with. (Lightning would fetch one ahead itself from a loader without a length, but it starts doing so
    before ``on_train_start``, before ``training_runs.resume.ResumeState`` can set the position: so the stream has a
    length and looks ahead itself.) A checkpoint written at the end of batch k thus already holds the acting and
    the replay draw of batch k + 1: the batches made but not yet trained on (``ahead``) go into the checkpoint too,
    and a stream resumed from it yields them (``pending``) before it makes new ones, so a run resumed mid-epoch is
    bit-exact.

    Making a DataLoader's iterator draws a base seed from torch's global RNG. The uninterrupted run drew it at the
    epoch's start, before the checkpoint; a run resumed mid-epoch draws it again after restoring the RNG, so its
    first pass, when it starts mid-epoch, puts back the checkpoint's RNG state (``rng_state``) before it draws.
    """

    def __init__(
        self,
        collect: Callable[[], None],
        draw: Callable[[], Batch],
        length: int,
        pending: list[Batch] | None = None,
        rng_state: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.collect = collect
        self.draw = draw
        self.length = length
        self.pending = pending or []  # batches of the first pass made before the checkpoint, not yet trained on
        self.rng_state = rng_state  # torch's RNG state at the mid-epoch checkpoint the first pass resumes
        self.ahead: deque[Batch] = deque()  # batches made and not yet trained on
        self._skip = 0  # batches of the next pass already trained on (set_position)

    def __len__(self) -> int:
        return self.length

    def set_position(self, epoch: int, done: int) -> None:
        """The next pass starts after its first ``done`` batches (every epoch is made the same way)."""
        self._skip = done

    def __iter__(self) -> Iterator[Batch]:
        done, self._skip = self._skip, 0
        pending, self.pending = self.pending, []
        rng_state, self.rng_state = self.rng_state, None
        if done and rng_state is not None:
            torch.set_rng_state(rng_state)
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
