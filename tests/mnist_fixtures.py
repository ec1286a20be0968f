"""Tiny MNIST-format data sets written as real IDX files."""

from __future__ import annotations

from pathlib import Path

import torch

from datamodules.idx import write_idx
from datamodules.mnist_files import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS


def easy_digits(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """28x28 uint8 images whose class c is a bright vertical bar at column 4 + 2c, over dim noise.

    Every row shows the bar, so a row-reading LSTM can classify from its last step, and
    a model that learns anything at all separates the classes.
    """
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 10
    labels = labels[torch.randperm(count, generator=generator)]
    images = torch.randint(0, 60, (count, 28, 28), generator=generator, dtype=torch.uint8)
    images[torch.arange(count), :, 4 + 2 * labels] = 255
    return images, labels.to(torch.uint8)


def write_mnist_files(folder: Path, train: int = 300, test: int = 100, gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    train_images, train_labels = easy_digits(train, seed=1)
    test_images, test_labels = easy_digits(test, seed=2)
    write_idx(folder / f"{TRAIN_IMAGES}{suffix}", train_images)
    write_idx(folder / f"{TRAIN_LABELS}{suffix}", train_labels)
    write_idx(folder / f"{TEST_IMAGES}{suffix}", test_images)
    write_idx(folder / f"{TEST_LABELS}{suffix}", test_labels)
    return folder
