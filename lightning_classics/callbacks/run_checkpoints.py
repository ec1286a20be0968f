"""The checkpoint callbacks of a run folder, which a resumed run finds full of its own checkpoints."""

from __future__ import annotations

import warnings

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint


class RunFolderCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` writing into the run's own ``checkpoints/`` folder.

    Every new ``fit`` gets a new ``version_N`` folder (lightning_classics/runs/folders.py), so the folder holds files only
    when this run is resumed (``--ckpt_path last``) and they are its own: Lightning's warning that the folder
    "exists and is not empty" would be printed on every resume and says nothing.
    """

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")
            super().setup(trainer, pl_module, stage)


class BestCheckpoint(RunFolderCheckpoint):
    """The ``--checkpoint.*`` callback: ``best.ckpt`` by the model's metric (cli.py sets its defaults)."""
