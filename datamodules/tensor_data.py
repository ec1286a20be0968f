"""In-memory tensor datasets that hand out whole batches with one indexing operation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Dataset, DistributedSampler


class TensorBatchDataset(Dataset):
    """Paired tensors indexed a batch at a time.

    ``DataLoader`` calls ``__getitems__`` with the batch's list of indices, so a batch costs
    one tensor gather instead of ``batch_size`` ``__getitem__`` calls and a collate.
    Use it with ``collate_fn=keep_batch``.
    """

    def __init__(self, *tensors: torch.Tensor) -> None:
        if not tensors or any(len(t) != len(tensors[0]) for t in tensors):
            raise ValueError("TensorBatchDataset needs one or more tensors of equal length")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(indices, dtype=torch.long)
        return tuple(t[index] for t in self.tensors)


def keep_batch(batch):
    """Collate function for ``TensorBatchDataset``: the batch is already assembled."""
    return batch


class ShardSampler(DistributedSampler):
    """Every ``num_replicas``-th index starting at ``rank``: disjoint shards that cover the data exactly.

    Unlike ``DistributedSampler`` it never pads shards with repeated samples, so evaluation
    metrics count each image exactly once (shards may then differ in length by one).
    """

    def __init__(self, dataset: TensorBatchDataset, num_replicas: int, rank: int) -> None:
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=False)
        self.shard = range(rank, len(dataset), num_replicas)

    def __iter__(self) -> Iterator[int]:
        return iter(self.shard)

    def __len__(self) -> int:
        return len(self.shard)
