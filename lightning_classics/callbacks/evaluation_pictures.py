"""After ``test``: a confusion matrix and the most confidently misclassified images, as PNGs and in TensorBoard."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import lightning as L
import torch
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_info
from torchmetrics.classification import MulticlassConfusionMatrix

from lightning_classics.plots.figures import confusion_matrix_figure, mistakes_figure, render, save_png


class TestPictures(L.Callback):
    """Draws the test set's confusion matrix and its ``num_mistakes`` most confident mistakes.

    Works with any module whose ``test_step`` returns the batch's logits for image batches
    ``(images in [0, 1], labels)``; other modules (the agents, TinyNet) are left alone.
    """

    def __init__(self, num_mistakes: int = 24, enabled: bool = True) -> None:
        """
        Args:
            num_mistakes: How many of the most confidently misclassified test images to show.
            enabled: Draw the pictures after ``test`` (``false`` to skip them).
        """
        self.num_mistakes = num_mistakes
        self.enabled = enabled
        self.confusion: MulticlassConfusionMatrix | None = None
        self.worst: dict[str, torch.Tensor] = {}
        # What the latest pictures show: the confusion matrix and the mistakes drawn (for inspection and tests).
        self.last_matrix: torch.Tensor | None = None
        self.last_mistakes: dict[str, torch.Tensor] = {}

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.confusion = None
        self.worst = {}

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if not self.enabled or not isinstance(outputs, torch.Tensor) or not isinstance(batch, tuple | list):
            return
        images, targets = batch[0], batch[1]
        if images.dim() != 4:  # not an image batch (N, C, H, W)
            return
        logits = outputs.detach()
        if self.confusion is None:
            self.confusion = MulticlassConfusionMatrix(logits.shape[-1]).to(logits.device)
        self.confusion.update(logits, targets)
        confidence, predictions = logits.softmax(dim=-1).max(dim=-1)
        wrong = predictions != targets
        candidates = {
            "confidence": confidence[wrong],
            "target": targets[wrong],
            "prediction": predictions[wrong],
            "image": images[wrong].float(),
        }
        if self.worst:
            candidates = {k: torch.cat([self.worst[k], v]) for k, v in candidates.items()}
        keep = candidates["confidence"].argsort(descending=True)[: self.num_mistakes]
        self.worst = {k: v[keep] for k, v in candidates.items()}

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.confusion is None:
            return
        matrix = self.confusion.compute()  # summed over processes
        worst = self._gather_worst(pl_module, matrix.shape[0], self.confusion.device)
        self.last_matrix, self.last_mistakes = matrix.cpu(), {k: v.cpu() for k, v in worst.items()}
        if not trainer.is_global_zero:
            return
        datamodule = getattr(trainer, "datamodule", None)
        class_names = list(getattr(datamodule, "class_names", [str(c) for c in range(matrix.shape[0])]))
        accuracy = matrix.diag().sum().item() / max(matrix.sum().item(), 1)
        pictures = {
            "confusion_matrix": confusion_matrix_figure(
                matrix, class_names, f"Test confusion matrix ({accuracy:.2%} correct)"
            ),
            "misclassified": mistakes_figure(
                worst["image"],
                worst["target"].tolist(),
                worst["prediction"].tolist(),
                worst["confidence"].tolist(),
                class_names,
                "Most confident mistakes: true → predicted (probability)",
            ),
        }
        folder = Path(trainer.default_root_dir)
        for name, figure in pictures.items():
            pixels = render(figure)
            path = save_png(pixels, folder / f"{name}.png")
            for logger in trainer.loggers:
                if isinstance(logger, TensorBoardLogger):
                    logger.experiment.add_image(f"test/{name}", pixels, trainer.global_step, dataformats="HWC")
            announce(trainer, f"Saved {path}")
        self.confusion = None

    def _gather_worst(self, pl_module: L.LightningModule, num_classes: int, device: torch.device) -> dict:
        """Every process's top mistakes, merged (padded to the same length so they can be all-gathered)."""
        if not self.worst:
            self.worst = {
                "confidence": torch.zeros(0, device=device),
                "target": torch.zeros(0, dtype=torch.long, device=device),
                "prediction": torch.zeros(0, dtype=torch.long, device=device),
                "image": torch.zeros(0, *getattr(pl_module.hparams, "image_shape", (1, 28, 28)), device=device),
            }
        if pl_module.trainer.world_size == 1:
            return self.worst
        missing = self.num_mistakes - len(self.worst["confidence"])
        padded = {k: torch.cat([v, v.new_zeros(missing, *v.shape[1:])]) for k, v in self.worst.items()}
        padded["confidence"][len(self.worst["confidence"]) :] = -1.0  # marks padding
        gathered = {
            k: cast(torch.Tensor, pl_module.all_gather(v)).flatten(0, 1) for k, v in padded.items()
        }  # (world, k, ...) -> (world*k, ...)
        keep = gathered["confidence"].argsort(descending=True)[: self.num_mistakes]
        keep = keep[gathered["confidence"][keep] >= 0]
        return {k: v[keep] for k, v in gathered.items()}


def announce(trainer: L.Trainer, message: str) -> None:
    """A diagnostic line on stderr that does not land in the middle of a progress bar: Lightning's bar prints it
    above itself (``ProgressBar.print``) while one is drawn, else it is logged as usual."""
    bar = trainer.progress_bar_callback
    if isinstance(bar, TQDMProgressBar) and bar.is_enabled:
        bar.print(message, file=sys.stderr)
    else:
        rank_zero_info(message)
