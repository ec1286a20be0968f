"""A tiny synthetic 3-feature, 2-class dataset for TinyNet (and for quick tests)."""

from __future__ import annotations

import lightning as L
import torch
from lightning.fabric.utilities.data import AttributeDict
from torch.utils.data import DataLoader

from datamodules.epoch_sampler import EpochShuffleSampler
from datamodules.tensor_data import TensorBatchDataset, keep_batch


def make_tiny_dataset(size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``size`` points in R^3 from a standard normal; class 1 where x0 + 2*x1 - x2 > 0."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(size, 3, generator=generator)
    labels = (inputs @ torch.tensor([1.0, 2.0, -1.0]) > 0).long()
    return inputs, labels


class TinyDataModule(L.LightningDataModule):
    """Linearly separable 3-feature data with 2 classes; predicts on a few fixed example inputs."""

    hparams: AttributeDict  # save_hyperparameters() fills an AttributeDict (Lightning declares a wider type)

    num_features = 3
    num_classes = 2

    def __init__(
        self,
        train_size: int = 2000,
        val_size: int = 500,
        test_size: int = 500,
        batch_size: int = 64,
        seed: int = 0,
        predict_inputs: list[list[float]] | None = None,
    ) -> None:
        """
        Args:
            train_size: Number of training points.
            val_size: Number of validation points.
            test_size: Number of test points.
            batch_size: Batch size for every stage.
            seed: Seed of the generated points (train, val and test use seed, seed+1, seed+2).
            predict_inputs: Rows of 3 numbers that ``predict`` runs the network on; a few fixed examples by default.
        """
        super().__init__()
        self.save_hyperparameters()  # the one record of the arguments: self.hparams.<name>
        for name, value in (("train_size", train_size), ("val_size", val_size), ("test_size", test_size)):
            if value < 1:
                raise ValueError(f"--data.{name} must be at least 1, got {value}")
        if batch_size < 1:
            raise ValueError(f"--data.batch_size must be at least 1, got {batch_size}")
        rows = predict_inputs if predict_inputs is not None else [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0], [-1.0, 1.0, -2.0]]
        shape_error = (
            f"--data.predict_inputs must be rows of {self.num_features} numbers, e.g. [[1, 2, 3]], got {rows!r}"
        )
        try:
            self.predict_inputs = torch.tensor(rows, dtype=torch.float32)
        except (ValueError, TypeError) as err:  # ragged rows or non-numbers
            raise ValueError(shape_error) from err
        if self.predict_inputs.dim() != 2 or self.predict_inputs.shape[1] != self.num_features:
            raise ValueError(shape_error)
        self.sets = {
            name: TensorBatchDataset(*make_tiny_dataset(size, seed + offset))
            for offset, (name, size) in enumerate((("train", train_size), ("val", val_size), ("test", test_size)))
        }

    @property
    def batch_size(self) -> int:
        """Training batch size per device: a data fact the CLI links into the model (for ``lr_scaling``)."""
        return self.hparams.batch_size

    def train_dataloader(self) -> DataLoader:
        train = self.sets["train"]
        # Its own sampler and generator: an order a resumed run can replay, no draws from the global RNG.
        sampler = EpochShuffleSampler(len(train))
        return DataLoader(
            train, self.hparams.batch_size, sampler=sampler, generator=torch.Generator(), collate_fn=keep_batch
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.sets["val"], batch_size=self.hparams.batch_size, collate_fn=keep_batch)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.sets["test"], batch_size=self.hparams.batch_size, collate_fn=keep_batch)

    def predict_dataloader(self) -> DataLoader:
        return DataLoader(
            TensorBatchDataset(self.predict_inputs), batch_size=self.hparams.batch_size, collate_fn=keep_batch
        )
