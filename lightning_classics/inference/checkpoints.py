"""Load a classifier from a checkpoint written by ``cli.py fit``, knowing nothing but its path."""

from __future__ import annotations

from pathlib import Path

import lightning_modules
import rl
from lightning_classics.runs.checkpoint_loader import load_model, model_classes
from lightning_classics.runs.errors import UserError
from lightning_modules import ImageClassifier


class NotAClassifierError(UserError):
    """The checkpoint is missing, unreadable, damaged, or holds something other than an image classifier."""


def load_classifier(ckpt_path: str | Path, option: str = "--ckpt") -> ImageClassifier:
    """The image classifier saved in ``ckpt_path``, on the CPU, in eval mode (see lightning_classics/runs/checkpoint_loader.py:
    checksum verified, ``weights_only``, and no module the checkpoint names is ever imported)."""
    try:
        classes = model_classes(lightning_modules, rl)  # an agent's checkpoint is named as one, then refused
        return load_model(ckpt_path, ImageClassifier, classes, option=option)
    except UserError as err:
        raise NotAClassifierError(str(err)) from err
