"""The bridge between the environment loop and Lightning's training loop: a dataset of replayed batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from torch.utils.data import IterableDataset

from rl.dqn.replay import Batch


class ExperienceStream(IterableDataset):
    """One pass = one Lightning epoch of ``length`` training batches.

    Before each batch it lets the agent act (``collect``: a few environment steps into the replay buffer), then
    draws the batch (``draw``: a uniform sample, or the newest transitions without replay). The data is made
    while it is consumed, so it must be iterated in the training process: use it with ``num_workers=0``.

    Lightning fetches one batch ahead of the one being trained on (to know which batch is the last), so the
    agent acts with weights that are one update old; Q-learning is off-policy, so that does no harm. (It also
    means a checkpoint written mid-epoch already holds the experience of the next batch, so a DQN run resumed
    mid-epoch is not bit-exact; at epoch boundaries it is.)
    """

    def __init__(self, collect: Callable[[], None], draw: Callable[[], Batch], length: int, done: int = 0) -> None:
        super().__init__()
        self.collect = collect
        self.draw = draw
        self.length = length
        self.done = done  # batches of the first pass already trained on (a run resumed mid-epoch)

    def __iter__(self) -> Iterator[Batch]:
        done, self.done = self.done, 0
        for _ in range(self.length - done):
            self.collect()
            yield self.draw()
