"""Schedules shared by the agents: exploration rates that change with experience, learning rates with updates."""

from __future__ import annotations

import functools

import lightning as L
import torch
from torch.optim.lr_scheduler import LambdaLR

from lightning_classics.runs.errors import UserError


def linear_schedule(step: int, start: float, end: float, duration: int) -> float:
    """``start`` at ``step`` 0, falling (or rising) linearly to ``end`` at ``duration``, then ``end``.

    The unit of ``step`` and ``duration`` is the caller's: agent steps (rl/steps.py) for DQN, episodes for tabular
    Q-learning. A ``duration`` of 0 or less means ``end`` from the start.
    """
    if duration <= 0 or step >= duration:
        return end
    return start + (end - start) * step / duration


def planned_updates(trainer: L.Trainer, steps_per_epoch: int) -> int:
    """Training steps the run is set to make: ``max_epochs * steps_per_epoch``, or ``max_steps`` if fewer.

    Read from the Trainer's limits, not from ``trainer.estimated_stepping_batches``, which would build the
    training loader before a resumed run has restored it (Lightning issue 20550).
    """
    limits = []
    if trainer.max_epochs is not None and trainer.max_epochs > 0:
        limits.append(trainer.max_epochs * steps_per_epoch)
    if trainer.max_steps is not None and trainer.max_steps > 0:
        limits.append(trainer.max_steps)
    if not limits:
        raise UserError(
            "--model.init_args.lr_end decays the learning rate over the whole run, which has no end: set "
            "--trainer.max_epochs (or --trainer.max_steps), or pass --model.init_args.lr_end null"
        )
    return min(limits)


def _linear_factor(step: int, end_factor: float, duration: int) -> float:
    return linear_schedule(step, 1.0, end_factor, duration)


def linear_lr_decay(optimizer: torch.optim.Optimizer, lr: float, lr_end: float, duration: int) -> LambdaLR:
    """The optimizer's learning rate falls linearly from ``lr`` at training step 0 to ``lr_end`` at ``duration``.

    A ``LambdaLR`` of a module-level function (a partial), so Lightning saves and restores its position with the
    checkpoint and a resumed run continues on the same schedule.
    """
    return LambdaLR(optimizer, functools.partial(_linear_factor, end_factor=lr_end / lr, duration=duration))
