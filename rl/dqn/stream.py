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

    It has a length, so Lightning knows which batch is the epoch's last without fetching one ahead: the agent
    acts with the newest weights, and a checkpoint written after a batch holds exactly the experience gathered
    up to that batch (so a run resumed mid-epoch continues exactly).
    """

    def __init__(self, collect: Callable[[], None], draw: Callable[[], Batch], length: int, done: int = 0) -> None:
        super().__init__()
        self.collect = collect
        self.draw = draw
        self.length = length
        self.done = done  # batches of the first pass already trained on (a run resumed mid-epoch)

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[Batch]:
        done, self.done = self.done, 0
        for _ in range(self.length - done):
            self.collect()
            yield self.draw()
