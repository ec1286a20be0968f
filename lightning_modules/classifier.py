"""The shared LightningModule logic of every classifier: one step for train, val and test."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal, cast

import lightning as L
import torch
import torch.nn.functional as F
from lightning.fabric.utilities.data import AttributeDict
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from torchmetrics.classification import MulticlassAccuracy

from lightning_modules.schedules import lr_multiplier

STAGES = ("train", "val", "test")


class Classifier(L.LightningModule):
    """Cross-entropy classifier. Subclasses build ``self.net`` and set ``example_input_array``."""

    hparams: AttributeDict  # save_hyperparameters() fills an AttributeDict (Lightning declares a wider type)

    net: nn.Module
    checkpoint_metric = "val/acc"  # what the CLI's best checkpoint maximises

    def __init__(
        self,
        num_classes: int = 10,
        optimizer: Literal["adamw", "adam", "sgd"] = "adamw",
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        scheduler: Literal["onecycle", "cosine", "none"] = "onecycle",
        warmup_fraction: float = 0.1,
        label_smoothing: float = 0.0,
    ) -> None:
        """
        Args:
            num_classes: Number of output classes (linked from the data module by the CLI).
            optimizer: ``adamw`` (decoupled weight decay), ``adam`` or ``sgd`` (Nesterov momentum 0.9).
            lr: Peak learning rate.
            weight_decay: Weight decay.
            scheduler: LR schedule over the whole run: ``onecycle`` (warm-up then cosine), ``cosine`` or ``none``.
            warmup_fraction: Fraction of all steps spent warming up (``onecycle`` only).
            label_smoothing: Label smoothing of the cross-entropy loss.
        """
        super().__init__()
        # Every argument is a primitive, so checkpoints load with torch.load(weights_only=True).
        self.save_hyperparameters()
        # average="micro": the fraction of correct predictions (torchmetrics defaults to a per-class mean).
        self.metrics = nn.ModuleDict({f"{s}_acc": MulticlassAccuracy(num_classes, average="micro") for s in STAGES})

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net(inputs)

    def shared_step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        inputs, targets = batch
        logits = self(inputs)
        loss = F.cross_entropy(logits, targets, label_smoothing=self.hparams.label_smoothing)
        accuracy = cast(MulticlassAccuracy, self.metrics[f"{stage}_acc"])
        accuracy(logits, targets)
        training = stage == "train"
        # Training loss is a per-step curve, everything else a per-epoch value (one key each, no
        # _step/_epoch suffixes). Eval losses are averaged over processes; the metric syncs its own counts.
        self.log(f"{stage}/loss", loss, on_step=training, on_epoch=not training, prog_bar=True, sync_dist=not training)
        self.log(f"{stage}/acc", accuracy, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self.shared_step(batch, "train")

    def validation_step(self, batch, batch_idx: int) -> None:
        self.shared_step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> None:
        self.shared_step(batch, "test")

    def predict_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        inputs = batch[0]  # predict batches may come with or without labels
        probabilities = self(inputs).softmax(dim=-1)
        return {"prediction": probabilities.argmax(dim=-1), "probabilities": probabilities}

    def configure_optimizers(self):
        hp = self.hparams
        optimizers: dict[str, Callable[..., torch.optim.Optimizer]] = {
            "adamw": torch.optim.AdamW,
            "adam": torch.optim.Adam,
            "sgd": partial(torch.optim.SGD, momentum=0.9, nesterov=True),
        }
        optimizer = optimizers[hp.optimizer](self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        if hp.scheduler == "none":
            return optimizer
        total_steps = int(self.trainer.estimated_stepping_batches)
        schedule = partial(
            lr_multiplier, total_steps=total_steps, schedule=hp.scheduler, warmup_fraction=hp.warmup_fraction
        )
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": LambdaLR(optimizer, schedule), "interval": "step"},
        }
