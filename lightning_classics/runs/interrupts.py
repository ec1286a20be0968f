"""Checkpoints during an epoch: every N steps, every T minutes, and when SIGTERM or SIGINT (Ctrl-C) arrives."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

import lightning as L
import torch

from lightning_classics.runs.lightning_internals import is_last_batch


class TrainingInterrupted(Exception):
    """Raised after a signal's checkpoint is written, to end the run (the CLI prints how to resume)."""

    def __init__(self, signal_name: str, checkpoint: Path) -> None:
        super().__init__(f"{signal_name}: a resumable checkpoint was written to {checkpoint}")
        self.signal_name = signal_name
        self.checkpoint = checkpoint


class MidEpochCheckpoint(L.Callback):
    """Writes ``path`` (the run's ``last.ckpt``) at the end of a training batch when

    - ``every_n_steps`` training steps (batches) passed since the last write (0: off),
    - ``every_n_minutes`` minutes passed since the last write (0: off), or
    - SIGTERM (preemption, ``kill``) or SIGINT (Ctrl-C) arrived; the run then stops with ``TrainingInterrupted``.
      A second Ctrl-C stops at once, without a checkpoint.

    A batch end is a consistent point (weights, optimizer, counters and RNGs belong together), which the
    moment a signal arrives is not; so the handler only takes note, and the next batch end writes.
    """

    def __init__(self, path: Path, every_n_steps: int = 0, every_n_minutes: float = 0.0) -> None:
        self.path = path
        self.every_n_steps = every_n_steps
        self.every_n_minutes = every_n_minutes
        self._batches = 0  # training batches since the last write (agents without an optimizer make no global steps)
        self._last_time = time.monotonic()
        self._signal: str | None = None
        self._previous_sigint: Any = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._batches, self._last_time = 0, time.monotonic()
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # only in the main thread, untouched
            self._previous_sigint = signal.signal(signal.SIGINT, self._on_sigint)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore_sigint()

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self._restore_sigint()

    def _restore_sigint(self) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self._signal is not None:  # the second Ctrl-C: stop now
            raise KeyboardInterrupt
        self._signal = "SIGINT"

    def _due(self, trainer: L.Trainer) -> bool:
        by_steps = self.every_n_steps > 0 and self._batches >= self.every_n_steps
        by_time = self.every_n_minutes > 0 and time.monotonic() - self._last_time >= 60 * self.every_n_minutes
        due = by_steps or by_time
        if trainer.world_size > 1:  # every process must take the same decision: saving is collective
            due = bool(trainer.strategy.broadcast(torch.tensor(due), src=0).item())
        return due

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        self._batches += 1
        stop = self._signal or ("SIGTERM" if trainer.received_sigterm else None)
        # Not after an epoch's last batch: the epoch-end checkpoint follows its validation. One written before the
        # validation would resume into a different place of the RNG streams (creating the validation loader's
        # iterator draws from torch's global RNG), so the resumed run would not be exact.
        if stop is None and (is_last_batch(trainer) or not self._due(trainer)):
            return
        # a full checkpoint (optimizer, loops, callbacks); said explicitly, else Lightning logs that it chose one
        trainer.save_checkpoint(self.path, weights_only=False)
        self._batches, self._last_time = 0, time.monotonic()
        if stop is not None:
            raise TrainingInterrupted(stop, self.path)
