"""Load a classifier from a checkpoint written by ``cli.py fit``, knowing nothing but its path."""

from __future__ import annotations

from pathlib import Path

from lightning_modules import ImageClassifier
from training_runs.checkpoint_loader import load_model
from training_runs.errors import UserError


class NotAClassifierError(UserError):
    """The checkpoint is missing, unreadable, damaged, or holds something other than an image classifier."""


def load_classifier(ckpt_path: str | Path, option: str = "--ckpt") -> ImageClassifier:
    """The image classifier saved in ``ckpt_path``, on the CPU, in eval mode (see training_runs/checkpoint_loader.py:
    checksum verified, ``weights_only``, and no module the checkpoint names is ever imported)."""
    try:
        return load_model(ckpt_path, ImageClassifier, option=option)
    except UserError as err:
        raise NotAClassifierError(str(err)) from err
