"""Stops a run whose training loss or weights became NaN or infinite, before any checkpoint of them is written.

A diverged model keeps "training" (every weight NaN, a constant prediction) and its checkpoints keep being saved,
``best.ckpt`` included. Lightning's ``detect_anomaly`` slows every step down and its EarlyStopping's
``check_finite`` only watches a monitored metric; this callback watches the loss and the weights themselves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import lightning as L
import torch

from lightning_classics.runs.errors import UserError


class NonFiniteStop(L.Callback):
    """Raises a one-line ``UserError`` naming the step when the training loss or a weight is not finite.

    The loss is checked without a host sync per step: the step's loss tensors are kept (no copy) and checked
    together every ``trainer.log_every_n_steps`` batches, where the logger syncs anyway. The weights are checked
    before each checkpoint: in ``on_save_checkpoint`` (every full checkpoint, mid-epoch ones included) and at the
    end of validation and of the training epoch, where the checkpoint callbacks save (they run after this one when
    it comes first in ``trainer.callbacks``, as the CLI puts it, and Lightning puts checkpoint callbacks last).
    """

    def __init__(self) -> None:
        self._losses: list[torch.Tensor] = []  # the losses since the last check, on their device

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if isinstance(loss, torch.Tensor):  # Lightning's automatic optimization passes a detached copy
            self._losses.append(loss.detach() if loss.requires_grad else loss)
        every = trainer.log_every_n_steps  # type: ignore[attr-defined]  # set by Lightning at run time
        if len(self._losses) >= max(1, every):
            self._check_losses(trainer, pl_module)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check(trainer, pl_module)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._check(trainer, pl_module)

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        self._check(trainer, pl_module)  # raising here stops the save before anything is written

    def _check(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._check_losses(trainer, pl_module)
        weights = [t for t in pl_module.state_dict().values() if torch.is_floating_point(t) and t.numel()]
        # one host sync for all of them: a flag per tensor, stacked
        if weights and not bool(torch.stack([t.isfinite().all() for t in weights]).all()):
            raise UserError(
                f"the model's weights became NaN or infinite by step {trainer.global_step}{_fix(pl_module)}"
            )

    def _check_losses(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._losses:
            return
        losses = torch.stack(self._losses).float()
        self._losses = []
        finite = losses.isfinite()
        # every process stops together (a non-finite loss on one would leave the others waiting in a collective)
        if trainer.strategy.reduce_boolean_decision(bool(finite.all()), all=True):
            return
        bad = (~finite).nonzero()
        step = trainer.global_step  # the update of the newest loss: checks come after a batch's update
        if len(bad) == 0:  # another process's loss
            raise UserError(
                f"the training loss became NaN or infinite in another process by step {step}{_fix(pl_module)}"
            )
        first = int(bad[0, 0])
        value = "NaN" if math.isnan(losses[first].item()) else "infinite"
        # one update per loss, or one per accumulate_grad_batches losses (the global step counts updates)
        step -= (len(losses) - 1 - first) // trainer.accumulate_grad_batches
        raise UserError(f"the training loss became {value} at step {step}{_fix(pl_module)}")


def _fix(pl_module: L.LightningModule) -> str:
    """What the user can change, said after the step: the run is over and nothing of the diverged model is saved."""
    lr = getattr(pl_module, "hparams", {}).get("lr")
    lower = f"lower --model.init_args.lr (it was {lr:g})" if isinstance(lr, int | float) else "lower the learning rate"
    return f": the run stopped and wrote no checkpoint of the diverged model; {lower}"
