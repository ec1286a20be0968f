"""Exact resume: RNG states, the data order and the position inside an epoch travel in every checkpoint.

Lightning's checkpoints hold the weights, optimizer, schedulers and loop counters, but no RNG state (with several
processes: every process's RNG states, since each draws its own dropout masks and augmentations), and its
way of restoring a loader's position (a stateful ``DataLoader``) is skipped when ``configure_optimizers`` reads
``trainer.estimated_stepping_batches`` before the restore (Lightning issue 20550), as the classifiers' one-cycle
schedule does. So this callback keeps the position itself: it counts the batches of the current epoch, saves
them with the RNG states, and when a run resumes it restores the RNGs and tells the training loader's sampler
(``EpochShuffleSampler``) or dataset where to start, just before the first resumed batch.
"""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.data import DataLoader
from torchmetrics import Metric

from rl.distributed import gather
from training_runs.rng import capture_rng_states, restore_rng_states


def _loader_parts(loader: Any, method: str) -> list[Any]:
    """The sampler(s) and dataset of a training loader that offer ``method`` (``use_epoch`` or ``start_at``)."""
    if not isinstance(loader, DataLoader):
        return []
    candidates = {id(c): c for c in (loader.sampler, getattr(loader.batch_sampler, "sampler", None), loader.dataset)}
    return [c for c in candidates.values() if c is not None and callable(getattr(c, method, None))]


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
        self._module = pl_module
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
        module = getattr(self, "_module", None)
        if not state_dict["epoch_done"] and callable(getattr(module, "resume_mid_epoch", None)):
            # A module whose loader makes its batches as they are consumed (an agent's experience stream) starts
            # its loader before training starts, so it is told now how many batches of the epoch are done.
            module.resume_mid_epoch(state_dict["batches_done"])  # type: ignore[union-attr]

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
        loader = trainer.train_dataloader
        assert isinstance(loader, DataLoader)
        for part in _loader_parts(loader, "use_epoch"):
            part.use_epoch(self._epoch)
        if callable(getattr(pl_module, "resume_mid_epoch", None)):
            return  # told in load_state_dict
        parts = _loader_parts(loader, "start_at")
        if trainer.world_size > 1:
            rank_zero_warn("resuming mid-epoch with several processes: the epoch's data order starts over")
        elif not parts:
            rank_zero_warn("the training loader cannot start mid-epoch: the resumed epoch's data starts over")
        for part in parts if trainer.world_size == 1 else []:
            # samplers count samples; a dataset of ready-made batches (batch_size None) counts batches
            per_batch = loader.batch_size if part is not loader.dataset and loader.batch_size else 1
            part.start_at(self._batches_done * per_batch)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch, self._batches_done, self._epoch_done = trainer.current_epoch, 0, False
        for part in _loader_parts(trainer.train_dataloader, "use_epoch"):
            part.use_epoch(self._epoch)
        # Metric states are saved (persistent) for mid-epoch resumes; a new epoch starts from zero counts.
        for module in pl_module.modules():
            if isinstance(module, Metric):
                module.reset()

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
