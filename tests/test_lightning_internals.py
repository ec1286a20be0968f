"""Canaries for lightning_classics/runs/lightning_internals.py: each private Lightning name the project uses, exercised
against the installed Lightning. A failure here means a Lightning upgrade moved or changed one of them: fix
the item in lightning_classics/runs/lightning_internals.py (its docstring says why it is there)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import lightning as L
import pytest
import torch
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.demos.boring_classes import BoringModel, RandomDataset, RandomIterableDataset
from torch.utils.data import DataLoader

from lightning_classics.runs.lightning_internals import (
    CHECKED_VERSION,
    NVML_CHECK,
    LightningCLIWithoutCheckpointHparams,
    is_last_batch,
)
from tests.helpers import quiet_trainer


def canary(item: str, ok: bool, what_changed: str) -> None:
    """Fails with one message that names the internals item and what Lightning changed under it."""
    if not ok:
        pytest.fail(
            f"Lightning {L.__version__} changed under lightning_classics/runs/lightning_internals.py's {item} "
            f"(checked against {CHECKED_VERSION}): {what_changed}",
            pytrace=False,
        )


# --- 1. LightningCLI._parse_ckpt_path ---------------------------------------------------------------------------


class Widths(L.LightningModule):
    """A module with one hyper-parameter, to see whose value of it a CLI ends up with."""

    def __init__(self, width: int = 2) -> None:
        super().__init__()
        self.save_hyperparameters()


class StopBeforeInstantiating(Exception):
    pass


def width_configured_by(cli_class: type[LightningCLI], checkpoint: str) -> tuple[int, int]:
    """(calls of ``_parse_ckpt_path``, the model's configured width) when ``cli_class`` parses
    ``fit --ckpt_path checkpoint``; stops before anything is built or trained."""
    seen: dict[str, Any] = {"calls": 0}

    class Probe(cli_class):  # type: ignore[valid-type, misc]
        def _parse_ckpt_path(self) -> None:
            seen["calls"] += 1
            super()._parse_ckpt_path()

        def before_instantiate_classes(self) -> None:
            seen["width"] = self.config.fit.model.width
            raise StopBeforeInstantiating

    with pytest.raises(StopBeforeInstantiating):
        Probe(Widths, args=["fit", "--ckpt_path", checkpoint], save_config_callback=None, seed_everything_default=False)
    return seen["calls"], seen["width"]


@pytest.fixture
def checkpoint_with_width_7(tmp_path) -> str:
    path = tmp_path / "width7.ckpt"
    torch.save({"hyper_parameters": {"width": 7}}, path)
    return str(path)


def test_lightning_cli_still_reads_checkpoint_hparams_through_parse_ckpt_path(checkpoint_with_width_7):
    item = "LightningCLIWithoutCheckpointHparams"
    canary(item, callable(getattr(LightningCLI, "_parse_ckpt_path", None)), "LightningCLI._parse_ckpt_path is gone")
    calls, width = width_configured_by(LightningCLI, checkpoint_with_width_7)
    canary(item, calls == 1, f"LightningCLI's constructor called _parse_ckpt_path {calls} times, not once")
    canary(
        item, width == 7, "LightningCLI._parse_ckpt_path no longer puts a checkpoint's hyper-parameters in the config"
    )


def test_the_project_cli_base_ignores_checkpoint_hparams(checkpoint_with_width_7):
    calls, width = width_configured_by(LightningCLIWithoutCheckpointHparams, checkpoint_with_width_7)
    assert calls == 1
    assert width == 2  # the command line's (default) value, not the checkpoint's 7


# --- 2. trainer.fit_loop.epoch_loop.batch_progress.is_last_batch ------------------------------------------------


class LastBatchRecorder(L.Callback):
    def __init__(self) -> None:
        self.seen: list[bool] = []

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        self.seen.append(is_last_batch(trainer))


def last_batch_flags(loader: DataLoader, **trainer_kwargs: Any) -> list[bool]:
    recorder = LastBatchRecorder()
    trainer = quiet_trainer(max_epochs=2, limit_val_batches=0, callbacks=[recorder], **trainer_kwargs)
    trainer.fit(BoringModel(), train_dataloaders=loader)
    return recorder.seen


def test_is_last_batch_marks_the_last_batch_of_each_epoch():
    item = "is_last_batch"
    path_exists = hasattr(quiet_trainer().fit_loop.epoch_loop, "batch_progress")
    canary(item, path_exists, "trainer.fit_loop.epoch_loop.batch_progress is gone")
    sized = last_batch_flags(DataLoader(RandomDataset(32, 6), batch_size=2))
    canary(item, sized == [False, False, True] * 2, f"3 batches an epoch, 2 epochs flagged {sized}")
    limited = last_batch_flags(DataLoader(RandomDataset(32, 6), batch_size=2), limit_train_batches=2)
    canary(item, limited == [False, True] * 2, f"limit_train_batches=2 flagged {limited}")
    # What no public attribute tells: the end of a loader of unknown length (num_training_batches is inf).
    unsized = last_batch_flags(DataLoader(RandomIterableDataset(32, 6), batch_size=2))
    canary(item, unsized == [False, False, True] * 2, f"an iterable of unknown length flagged {unsized}")


# --- 3. PYTORCH_NVML_BASED_CUDA_CHECK, set by `import lightning` -------------------------------------------------


def test_importing_lightning_still_sets_the_nvml_cuda_check():
    """``CachedCudaCheck`` lifts this variable during a run; it has a job only while Lightning sets it."""
    env = {key: value for key, value in os.environ.items() if key != NVML_CHECK}
    code = f"import os, lightning; print(os.environ.get({NVML_CHECK!r}))"
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    canary("CachedCudaCheck", shown.strip() == "1", f"`import lightning` left {NVML_CHECK} as {shown.strip()}")
