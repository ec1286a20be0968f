"""Tiny MNIST-format files for the quick mode: 300 training and 100 test digits that any model learns."""

from __future__ import annotations

from pathlib import Path

import torch

from datamodules.idx import write_idx
from datamodules.mnist_files import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS


def easy_digits(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """28x28 uint8 images whose class c is a bright vertical bar at column 4 + 2c, over dim noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count)[torch.randperm(count, generator=generator)] % 10
    images = torch.randint(0, 60, (count, 28, 28), generator=generator, dtype=torch.uint8)
    images[torch.arange(count), :, 4 + 2 * labels] = 255
    return images, labels.to(torch.uint8)


def write_tiny_mnist(folder: Path) -> Path:
    """Write the four MNIST files (gzipped) into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    for (images_name, labels_name), (count, seed) in (
        ((TRAIN_IMAGES, TRAIN_LABELS), (300, 1)),
        ((TEST_IMAGES, TEST_LABELS), (100, 2)),
    ):
        images, labels = easy_digits(count, seed)
        write_idx(folder / f"{images_name}.gz", images)
        write_idx(folder / f"{labels_name}.gz", labels)
    return folder
