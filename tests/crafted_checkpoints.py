"""Small checkpoints made without training, shaped as ``cli.py fit`` writes them, and a module with an import
side effect for checkpoints to name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch

from lightning_classics.runs.atomic_io import atomic_torch_save
from lightning_modules import ANN
from rl import TabularQLearning

CLI_INSTANTIATOR = "lightning.pytorch.cli.instantiate_module"  # what LightningCLI writes as ``_instantiator``
# Written to the working folder and put on sys.path by the tests: importing it writes MARKER beside it.
EVIL_MODULE = """
from pathlib import Path
Path(__file__).with_name("MARKER").write_text("evilmod was imported")
ANN = TabularQLearning = object
def make(cls, kwargs):
    return None
"""


def checkpoint_of(model: L.LightningModule) -> dict[str, Any]:
    """The sections LightningCLI's checkpoints have: weights and hyper-parameters with the class path."""
    class_path = f"{type(model).__module__}.{type(model).__qualname__}"
    hparams = {"_instantiator": CLI_INSTANTIATOR, "_class_path": class_path, **dict(model.hparams)}
    checkpoint: dict[str, Any] = {
        "state_dict": model.state_dict(),
        "hyper_parameters": hparams,
        "pytorch-lightning_version": L.__version__,
    }
    model.on_save_checkpoint(checkpoint)
    return checkpoint


def small_classifier() -> ANN:
    torch.manual_seed(0)
    return ANN(hidden_sizes=(8, 8, 8))


def write_checkpoint(path: Path, checkpoint: dict[str, Any]) -> Path:
    atomic_torch_save(checkpoint, path)
    return path


def classifier_checkpoint(path: Path, **hparams: Any) -> Path:
    """A small ANN's checkpoint; ``hparams`` replace hyper-parameters (e.g. ``_class_path``)."""
    checkpoint = checkpoint_of(small_classifier())
    checkpoint["hyper_parameters"].update(hparams)
    return write_checkpoint(path, checkpoint)


def agent_checkpoint(path: Path, **hparams: Any) -> Path:
    """A Taxi Q-learning agent's checkpoint (an untrained table); ``hparams`` replace hyper-parameters."""
    agent = TabularQLearning(seed=0)
    checkpoint = checkpoint_of(agent)
    checkpoint["hyper_parameters"].update(hparams)
    return write_checkpoint(path, checkpoint)


def plant_evil_module(folder: Path, monkeypatch: Any) -> Path:
    """``folder/evilmod.py``, importable (on sys.path and the working folder); returns the marker it would write."""
    (folder / "evilmod.py").write_text(EVIL_MODULE)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.chdir(folder)
    return folder / "MARKER"
