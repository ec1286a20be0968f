"""What an agent needs to run as several processes (``--trainer.strategy ddp``): who am I, and gathering.

Each process acts in its own environments and keeps its own replay buffer; Lightning's DDP averages the
gradients. What the processes must agree on (evaluation results, checkpoints) goes through :func:`gather`.
"""

from __future__ import annotations

from typing import Any, TypeVar

import torch.distributed as dist
from torch import nn

T = TypeVar("T")


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, number of processes); (0, 1) outside a distributed run."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather(value: T) -> list[T]:
    """Every process's ``value``, in rank order, on every process (``[value]`` outside a distributed run).

    A collective call: every process must make it at the same point, or they wait for each other forever.
    """
    _, world = rank_and_world()
    if world == 1:
        return [value]
    values: list[Any] = [None] * world
    dist.all_gather_object(values, value)
    return values


def check_identical(module: nn.Module, name: str) -> None:
    """Fails loudly if ``module``'s parameters differ between processes (compares one checksum each)."""
    checksums = gather(float(sum(p.detach().double().sum() for p in module.parameters())))
    if len(set(checksums)) > 1:
        raise RuntimeError(f"the {name} differs between processes (parameter sums {checksums})")
