"""Lightning's per-batch bookkeeping, made cheaper where it does nothing for the run (framework tax).

Lightning's training loop does a fixed amount of Python work per batch: on the 2-core CPU about 1 ms
(an ANN with 8-wide layers: 1.0 ms a step by hand, 2.1 ms through the shipped CLI; BENCHMARKS.md). That is
a tenth of the ANN's step and more than half of a DQN update. Three parts of it cost more than they need to:

* ``NoOpProfiler``: with no profiler asked for, Lightning still enters ``profiler.profile(name)`` about 70
  times a batch, each a new generator-based context manager around two no-op calls.
* ``CheapHookName``: Lightning records the running hook's name on the module (``_current_fx_name``) twice
  per hook, about 45 times a batch, through ``nn.Module.__setattr__``, which checks every value against
  the module's parameters, buffers and submodules.
* ``CachedCudaCheck``: ``import lightning`` sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` (a CUDA check that
  cannot break a later ``fork``). torch then never caches the answer before CUDA is initialised, and every
  Adam/AdamW step asks: 46 us a step on a machine without GPUs, instead of 2.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import lightning as L
import torch
from lightning.pytorch.profilers import PassThroughProfiler

_NO_OP = contextlib.nullcontext()  # reusable and re-entrant: one instance serves every profiled action
NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


class NoOpProfiler(PassThroughProfiler):
    """Lightning's default profiler (profiles nothing) whose ``profile`` context costs nothing either."""

    def profile(self, action_name: str) -> contextlib.nullcontext:  # type: ignore[override]
        return _NO_OP


class CheapHookName:
    """LightningModule mixin (list it before ``L.LightningModule``): stores the hook name Lightning sets
    before and after every hook directly. It is a ``str`` or ``None``, never a parameter, buffer or
    submodule, so ``nn.Module.__setattr__``'s checks could only ever pass it on to ``object.__setattr__``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


class CachedCudaCheck(L.Callback):
    """From ``setup`` to ``teardown``, on a machine where no GPU is visible, lets torch check CUDA the
    default way (cached after the first call) instead of through NVML on every optimizer step.

    With no GPU there is no CUDA state that a ``fork`` could break, which is all the NVML check guards
    against; where a GPU is visible nothing changes (and once a run initialises CUDA, torch caches the
    answer anyway). The variable is put back at ``teardown``.
    """

    def __init__(self) -> None:
        self._removed = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if os.environ.get(NVML_CHECK) == "1" and torch.cuda.device_count() == 0:
            del os.environ[NVML_CHECK]
            self._removed = True

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self._removed:
            os.environ[NVML_CHECK] = "1"
            self._removed = False
