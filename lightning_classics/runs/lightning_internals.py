"""Every use of Lightning's private API in the project, in one place (checked against lightning 2.6.6).

Each item below reaches past Lightning's public API because no public API does the job. Each has a canary
in tests/test_lightning_internals.py that fails with a message naming the item if a Lightning upgrade removes
it or changes what it means; when one fails, fix the item here, not its callers.

1. ``LightningCLIWithoutCheckpointHparams``: overrides ``LightningCLI._parse_ckpt_path``.
2. ``is_last_batch``: reads ``trainer.fit_loop.epoch_loop.batch_progress.is_last_batch``.
3. ``CachedCudaCheck``: lifts ``PYTORCH_NVML_BASED_CUDA_CHECK``, which ``import lightning`` sets, during a run.

Private names this project no longer uses (issue 22): ``TQDMProgressBar._should_update`` (the progress bar
decides its redraws from the public ``refresh_rate``), monkeypatching ``get_metrics`` (the bar overrides it),
and ``LightningModule._current_fx_name`` (the lean loop's ``CheapHookName``: 1.02 and 1.06x per DQN update in
two runs, within the noise, and nothing for the ANN).
"""

from __future__ import annotations

import os

import lightning as L
import torch
from lightning.pytorch.cli import LightningCLI

CHECKED_VERSION = "2.6.6"  # the Lightning version every item here was last checked against


class LightningCLIWithoutCheckpointHparams(LightningCLI):
    """LightningCLI that does not read ``--ckpt_path``'s hyper-parameters into the configuration.

    Why private: LightningCLI's constructor calls ``_parse_ckpt_path`` right after parsing; it imports the
    class the checkpoint names and parses the checkpoint's hyper-parameters over the command line's. There is
    no public switch to turn that off. The project checks a checkpoint against the configuration itself after
    the model is built (cli.py's ``after_instantiate_classes``), with one-line errors instead of a traceback
    from an import or a parse. Checked against lightning 2.6.6.
    """

    def _parse_ckpt_path(self) -> None:
        """Replaced by nothing: see the class docstring."""


def is_last_batch(trainer: L.Trainer) -> bool:
    """Whether the training batch being processed is the last of its epoch.

    Why private: Lightning knows this from its data fetcher, which looks one batch ahead, so it is right for
    loaders of unknown length and with ``limit_train_batches``; ``batch_idx + 1 == trainer.num_training_batches``
    is not (``num_training_batches`` is ``inf`` for an iterable without ``__len__``). No public attribute
    exposes it. Checked against lightning 2.6.6.
    """
    return bool(trainer.fit_loop.epoch_loop.batch_progress.is_last_batch)


NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"  # set to "1" by lightning/fabric/__init__.py


class CachedCudaCheck(L.Callback):
    """From ``setup`` to ``teardown``, on a machine where no GPU is visible, lets torch check CUDA the
    default way (cached after the first call) instead of through NVML on every optimizer step.

    Why: ``import lightning`` sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` (a CUDA check that cannot break a later
    ``fork``); torch then never caches the answer before CUDA is initialised, and every Adam/AdamW step asks
    again (a failing ``dlopen`` of NVML). What it buys: ``python -m benchmarks.lean_loop --switch nvml``,
    recorded in docs/results.md ("What the shipped speed settings buy"). With no
    GPU there is no CUDA state that a ``fork`` could break; where a GPU is visible nothing changes. The
    variable is put back at ``teardown``. Relies on Lightning setting it at import: checked against
    lightning 2.6.6.
    """

    def __init__(self) -> None:
        self._removed = False  # whether setup lifted the variable (so teardown puts it back)

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if os.environ.get(NVML_CHECK) == "1" and torch.cuda.device_count() == 0:
            del os.environ[NVML_CHECK]
            self._removed = True

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self._removed:
            os.environ[NVML_CHECK] = "1"
            self._removed = False
