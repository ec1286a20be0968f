"""Optimizers that update every parameter in one fused kernel (torch's ``fused=True``) wherever they may.

A fused Adam/AdamW step is one kernel for all tensors instead of a loop over them: on the CPU it shortens the
ANN's whole training step noticeably (``python -m benchmarks.fused_step``, recorded in docs/results.md), and on a
GPU it replaces the per-tensor kernel launches of the default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import lightning as L
import torch
from lightning.pytorch.plugins.precision import MixedPrecision


def may_fuse(trainer: L.Trainer | None, clip_val: float | None) -> bool:
    """False where Lightning refuses a fused step: mixed precision with gradient clipping. There Lightning
    unscales the gradients itself before clipping them, which a fused step would do again inside.
    ``trainer`` None: a module used without a Trainer, where no precision plugin is in the way."""
    return trainer is None or not (clip_val and isinstance(trainer.precision_plugin, MixedPrecision))


def build_optimizer(
    factory: Callable[..., torch.optim.Optimizer], params: Iterable[torch.nn.Parameter], fuse: bool, **kwargs
) -> torch.optim.Optimizer:
    """``factory(params, fused=True, **kwargs)`` if ``fuse`` and torch has a fused kernel for the parameters'
    device, else ``factory(params, **kwargs)`` (torch's default: foreach on GPUs, a loop on the CPU)."""
    params = list(params)
    if fuse:
        try:
            return factory(params, fused=True, **kwargs)
        except RuntimeError:  # "`fused=True` requires ... Tensors of supported devices": take the default
            pass
    return factory(params, **kwargs)
