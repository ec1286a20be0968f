"""The shared LightningModule logic of every classifier: one step for train, val and test."""

from __future__ import annotations

import math
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

from lightning_classics.runs.fused_optimizers import build_optimizer, may_fuse
from lightning_modules.schedules import lr_multiplier

EVAL_STAGES = ("val", "test")


class Classifier(L.LightningModule):
    """Cross-entropy classifier. Subclasses build ``self.net`` and set ``example_input_array``."""

    hparams: AttributeDict  # save_hyperparameters() fills an AttributeDict (Lightning declares a wider type)

    net: nn.Module
    train_counts: torch.Tensor  # buffers registered in __init__
    train_loss_sum: torch.Tensor
    train_loss_steps: torch.Tensor
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
        batch_size: int = 128,
        lr_scaling: Literal["none", "linear", "sqrt"] = "none",
        reference_batch_size: int = 128,
        compile: bool = False,
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
            batch_size: Training batch size per device (linked from the data module by the CLI).
            lr_scaling: How ``lr`` follows the global batch (batch_size x devices x accumulation) when it differs
                from ``reference_batch_size``: ``linear``, ``sqrt`` (suits Adam-type optimizers) or ``none``.
            reference_batch_size: The global batch size ``lr`` was tuned for.
            compile: ``torch.compile`` the network (kernels fused; the first steps pay for the compilation).
        """
        super().__init__()
        if lr <= 0:
            raise ValueError(f"--model.init_args.lr must be positive, got {lr}")
        if not 0 <= warmup_fraction < 1 or not 0 <= label_smoothing < 1 or weight_decay < 0:
            raise ValueError(
                "--model.init_args.warmup_fraction and label_smoothing must be in [0, 1) and weight_decay >= 0, got "
                f"{warmup_fraction}, {label_smoothing} and {weight_decay}"
            )
        # Every argument is a primitive, so checkpoints load with torch.load(weights_only=True).
        self.save_hyperparameters()
        # average="micro": the fraction of correct predictions (torchmetrics defaults to a per-class mean).
        self.metrics = nn.ModuleDict(
            {f"{s}_acc": MulticlassAccuracy(num_classes, average="micro") for s in EVAL_STAGES}
        )
        # Training statistics accumulate on the device and reach the host only when logged (no per-step
        # sync, no per-step metric object): [correct, seen] this epoch, and the loss since the last log.
        # Persistent: a run resumed mid-epoch continues the epoch's counts (exact resume, lightning_classics/runs/resume.py).
        self.register_buffer("train_counts", torch.zeros(2, dtype=torch.long))
        self.register_buffer("train_loss_sum", torch.zeros(()))
        self.register_buffer("train_loss_steps", torch.zeros((), dtype=torch.long))

    def configure_model(self) -> None:
        """Compiles the network in place, so checkpoints keep the same keys with and without ``compile``."""
        if self.hparams.compile and not getattr(self, "_compiled", False):
            self.net.compile()
            self._compiled = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net(inputs)

    def shared_step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The loss and the logits of one batch, with the stage's loss and accuracy logged."""
        inputs, targets = batch
        logits = self(inputs)
        loss = F.cross_entropy(logits, targets, label_smoothing=self.hparams.label_smoothing)
        if stage == "train":
            self._track_training(loss.detach(), logits.detach(), targets)
            return loss, logits
        accuracy = cast(MulticlassAccuracy, self.metrics[f"{stage}_acc"])
        accuracy.update(logits, targets)
        # Per-epoch values (one key each, no _step/_epoch suffixes). Eval losses are averaged over
        # processes; the metric syncs its own counts.
        self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=True, sync_dist=True, batch_size=len(targets))
        self.log(f"{stage}/acc", accuracy, on_epoch=True, prog_bar=True)
        return loss, logits

    def _track_training(self, loss: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> None:
        """``train/loss`` is the mean over the steps since the last log, logged only on the steps where the
        logger writes (every ``trainer.log_every_n_steps``): a ``self.log`` and a metric update per step cost
        a small network a fifth of its time. ``train/acc`` is logged once per epoch."""
        # In place (add_), not +=: a buffer assigned with += goes through nn.Module.__setattr__ each step.
        self.train_counts[0].add_((logits.argmax(dim=-1) == targets).sum())
        self.train_counts[1].add_(len(targets))
        self.train_loss_sum.add_(loss)
        self.train_loss_steps.add_(1)
        every = self.trainer.log_every_n_steps  # type: ignore[attr-defined]  # set by Lightning at run time
        if every and (self.global_step + 1) % every == 0:  # global_step counts the updates before this one
            self._log_training_loss()

    def _log_training_loss(self) -> None:
        """``train/loss``: the mean over the steps since the last log, which then starts over."""
        self.log("train/loss", self.train_loss_sum / self.train_loss_steps, prog_bar=True)
        self.train_loss_sum.zero_()
        self.train_loss_steps.zero_()

    def on_train_epoch_start(self) -> None:
        self.train_counts.zero_()

    def on_train_epoch_end(self) -> None:
        counts = self.train_counts
        if self.trainer.world_size > 1:
            # (world, 2) -> (2,): every process's images
            counts = cast(torch.Tensor, self.all_gather(counts)).sum(dim=0)
        self.log("train/acc", counts[0] / counts[1].clamp(min=1), prog_bar=True)
        # The steps since the last log too: a run or epoch shorter than log_every_n_steps still logs its loss.
        # (A host sync once per epoch, when it already syncs for the accuracy.)
        if self.train_loss_steps.item() > 0:
            self._log_training_loss()

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self.shared_step(batch, "train")[0]

    def validation_step(self, batch, batch_idx: int) -> None:
        self.shared_step(batch, "val")

    def test_step(self, batch, batch_idx: int) -> torch.Tensor:
        return self.shared_step(batch, "test")[1]  # logits, for callbacks such as the test pictures

    def predict_step(self, batch, batch_idx: int) -> dict[str, torch.Tensor]:
        """Class probabilities; a batch ``(inputs, index)`` or ``(inputs, label, index)`` keeps its index and label."""
        inputs, *extra = batch
        probabilities = self(inputs).softmax(dim=-1)
        output = {"prediction": probabilities.argmax(dim=-1), "probabilities": probabilities}
        if extra:
            output["index"] = extra[-1]
        if len(extra) == 2:
            output["label"] = extra[0]
        return output

    def scaled_lr(self) -> float:
        """``lr`` scaled from ``reference_batch_size`` to this run's global batch by ``lr_scaling``."""
        hp = self.hparams
        if hp.lr_scaling == "none":
            return hp.lr
        trainer = self.trainer
        global_batch = hp.batch_size * trainer.world_size * trainer.accumulate_grad_batches
        ratio = global_batch / hp.reference_batch_size
        return hp.lr * (ratio if hp.lr_scaling == "linear" else math.sqrt(ratio))

    def configure_optimizers(self):
        hp = self.hparams
        optimizers: dict[str, Callable[..., torch.optim.Optimizer]] = {
            "adamw": torch.optim.AdamW,
            "adam": torch.optim.Adam,
            "sgd": partial(torch.optim.SGD, momentum=0.9, nesterov=True),
        }
        fuse = may_fuse(self.trainer, self.trainer.gradient_clip_val)
        optimizer = build_optimizer(
            optimizers[hp.optimizer], self.parameters(), fuse, lr=self.scaled_lr(), weight_decay=hp.weight_decay
        )
        if hp.scheduler == "none":
            return optimizer
        total_steps = int(self.trainer.estimated_stepping_batches)
        schedule = partial(
            lr_multiplier, total_steps=total_steps, schedule=hp.scheduler, warmup_fraction=hp.warmup_fraction
        )
        return {
            "optimizer": optimizer,
            # name: the learning-rate curve's TensorBoard tag (see the CLI's LearningRateCurve callback)
            "lr_scheduler": {"scheduler": LambdaLR(optimizer, schedule), "interval": "step", "name": "train/lr"},
        }
