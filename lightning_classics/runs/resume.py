"""Exact resume: RNG states, the data order and the position inside an epoch travel in every checkpoint.

Lightning's checkpoints hold the weights, optimizer, schedulers and loop counters, but no RNG state (with several
processes: every process's RNG states, since each draws its own dropout masks and augmentations), and its
way of restoring a loader's position (a stateful ``DataLoader``) is skipped when ``configure_optimizers`` reads
``trainer.estimated_stepping_batches`` before the restore (Lightning issue 20550), as the classifiers' one-cycle
schedule does. So this callback keeps the position itself: it counts the batches of the current epoch, saves
them with the RNG states, and tells the training loader which epoch it plays and where to start through the one
protocol every training loader implements (``lightning_classics.runs.epoch_position.EpochPosition``).
"""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn
from torchmetrics import Metric

from lightning_classics.runs.processes import gather
from lightning_classics.runs.epoch_position import position_owner
from lightning_classics.runs.rng import capture_rng_states, restore_rng_states


class ResumeState(L.Callback):
    """Saves RNG states and the epoch position in checkpoints; restores both when training resumes.

    ``lr_change`` (checkpoint's lr, requested lr) moves a resumed run's restored optimizer and schedulers to
    the learning rate asked for, instead of silently keeping the checkpoint's.
    """

    def __init__(self, lr_change: tuple[float, float] | None = None) -> None:
        self.lr_change = lr_change
        self._epoch = 0
        self._batches_done = 0  # training batches started in the current epoch
        self._epoch_done = False  # the last batch of the epoch has been trained on
        self._pending: dict[str, Any] | None = None  # loaded position, applied when training starts

    def state_dict(self) -> dict[str, Any]:
        return {
            "epoch": self._epoch,
            "batches_done": self._batches_done,
            "epoch_done": self._epoch_done,
            # Lightning writes process 0's checkpoint dict only, so it carries every process's states, in rank
            # order (a collective call: every process saves together, as Lightning requires).
            "rng": gather(capture_rng_states()),
        }

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._rank, self._world_size = trainer.global_rank, trainer.world_size
        self._fitting = stage == "fit"

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        # Restored at once, while Lightning restores the rest: from here to the first resumed batch Lightning draws
        # nothing from the global RNGs (no sanity check on restarts; the loaders have their own generators), just
        # as the uninterrupted run draws nothing between writing the checkpoint and its next batch.
        saved = state_dict["rng"]
        saved = [saved] if isinstance(saved, dict) else saved  # checkpoints of earlier versions: one process's
        rank, world = getattr(self, "_rank", 0), getattr(self, "_world_size", 1)
        if len(saved) == world:
            restore_rng_states(saved[rank])
        elif getattr(self, "_fitting", True):  # only a resumed fit continues them: evaluations are seeded
            rank_zero_warn(
                f"the checkpoint holds the RNG states of {len(saved)} process(es), this run has {world}: the RNGs "
                f"start from the seed, so the resumed run differs from an uninterrupted one (resume with "
                f"--trainer.devices {len(saved)} to continue exactly)"
            )
        self._pending = state_dict

    # When the position is applied: every loader reads it when its pass draws the first batch, and Lightning draws
    # the first batch of a loader with a length after on_train_start (a resumed epoch) and after
    # on_train_epoch_start (a new epoch), also when configure_optimizers built the loader early. These two hooks are
    # the single point for every loader. (A loader without a length would be iterated earlier, in the fit loop's
    # setup, which no callback hook precedes: the DQN's ExperienceStream has a length for that reason.)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.lr_change is not None:
            self._apply_lr(trainer, *self.lr_change)
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        if state["epoch_done"]:
            return  # on_train_epoch_start starts the next epoch as usual
        # Resumed mid-epoch: Lightning calls no on_train_epoch_start; continue with the batches not yet seen.
        self._epoch, self._batches_done = state["epoch"], state["batches_done"]
        self._set_position(trainer, self._epoch, self._batches_done)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch, self._batches_done, self._epoch_done = trainer.current_epoch, 0, False
        self._set_position(trainer, self._epoch, 0)
        # Metric states are saved (persistent) for mid-epoch resumes; a new epoch starts from zero counts.
        for module in pl_module.modules():
            if isinstance(module, Metric):
                module.reset()

    @staticmethod
    def _set_position(trainer: L.Trainer, epoch: int, batches_done: int) -> None:
        owner = position_owner(trainer.train_dataloader)
        if owner is not None:
            part, per_batch = owner
            part.set_position(epoch, batches_done * per_batch)
        elif batches_done:
            rank_zero_warn(
                f"the training loader cannot start mid-epoch: no part of {type(trainer.train_dataloader).__name__} "
                f"has set_position(epoch, done) (lightning_classics.runs.epoch_position.EpochPosition; with several processes "
                f"Lightning wraps a DataLoader's sampler), so the resumed epoch's data starts over"
            )

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self._batches_done += 1

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._epoch_done = bool(trainer.fit_loop.epoch_loop.batch_progress.is_last_batch)

    @staticmethod
    def _apply_lr(trainer: L.Trainer, old: float, new: float) -> None:
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = group["lr"] * new / old if old else new
                if "initial_lr" in group:
                    group["initial_lr"] = new
        for config in trainer.lr_scheduler_configs:
            scheduler = config.scheduler
            if hasattr(scheduler, "base_lrs"):
                scheduler.base_lrs = [new for _ in scheduler.base_lrs]
