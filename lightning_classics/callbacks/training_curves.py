"""TensorBoard extras every run gets from the CLI: the learning-rate curve and a real ``hp_metric``."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint


class LearningRateCurve(LearningRateMonitor):
    """Lightning's ``LearningRateMonitor``, switched off where it has nothing to log, and on the agents' x-axis.

    (The stock callback raises without a logger, and Taxi's tabular Q-learning has no optimizer.) The stock callback
    logs against optimizer steps; an agent (a module with ``env_steps``) logs every curve against its environment
    steps (rl/evaluation.py, ``log_env_steps``), so its learning rate, ``train/lr``, is logged there too.
    """

    def __init__(self) -> None:
        super().__init__(logging_interval="step")
        self.active = False

    def on_train_start(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        self.active = bool(trainer.loggers) and bool(trainer.optimizers)
        if self.active:
            super().on_train_start(trainer, *args, **kwargs)

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any, **kwargs: Any) -> None:
        if not self.active:
            return
        env_steps = getattr(pl_module, "env_steps", None)
        if env_steps is None:
            super().on_train_batch_start(trainer, pl_module, *args, **kwargs)
        elif trainer.global_step % trainer.log_every_n_steps == 0:  # type: ignore[attr-defined]  # set at run time
            rates = {
                f"train/lr{'' if i == 0 else f'-{i}'}": group["lr"]
                for i, group in enumerate(group for optimizer in trainer.optimizers for group in optimizer.param_groups)
            }
            for logger in trainer.loggers:
                logger.log_metrics(rates, step=int(env_steps))

    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        if self.active:
            super().on_train_epoch_start(trainer, *args, **kwargs)


class BestMetricAsHpMetric(L.Callback):
    """Logs the best value so far of the monitored metric as ``hp_metric`` after every validation.

    TensorBoardLogger writes a placeholder ``hp_metric`` of -1 with the hyper-parameters; TensorBoard's
    HPARAMS tab shows the latest value, so runs can then be compared by what they achieved.
    """

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.loggers:
            return
        checkpoint = next(
            (c for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint) and c.monitor), None
        )
        if checkpoint is None or checkpoint.monitor not in trainer.callback_metrics:
            return
        value = trainer.callback_metrics[checkpoint.monitor].item()
        best = checkpoint.best_model_score  # from earlier epochs (or the resumed run)
        if best is not None:
            value = max(value, best.item()) if checkpoint.mode == "max" else min(value, best.item())
        for logger in trainer.loggers:
            logger.log_metrics({"hp_metric": value}, step=trainer.global_step)
