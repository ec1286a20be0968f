"""Load a classifier from a checkpoint written by ``cli.py fit``, knowing nothing but its path."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from lightning_modules import ImageClassifier


class NotAClassifierError(ValueError):
    """The checkpoint is missing, unreadable, or holds something other than an image classifier."""


def load_classifier(ckpt_path: str | Path) -> ImageClassifier:
    """The image classifier saved in ``ckpt_path``, on the CPU, in eval mode.

    LightningCLI stores the module's import path in the checkpoint's hyper-parameters
    (``_class_path``), so no model name is needed. Loading is ``weights_only``: nothing in the
    file can run code.
    """
    path = Path(ckpt_path)
    if not path.is_file():
        raise NotAClassifierError(f"no checkpoint at {path}: pass the .ckpt file written by `cli.py fit`")
    try:
        hparams = torch.load(path, map_location="cpu", weights_only=True).get("hyper_parameters", {})
    except Exception as err:  # a truncated file or something else entirely: say which file and stop
        raise NotAClassifierError(f"{path} is not a readable checkpoint ({type(err).__name__})") from err
    class_path = hparams.get("_class_path", "")
    module_name, _, class_name = class_path.rpartition(".")
    try:
        model_class = getattr(importlib.import_module(module_name), class_name, None) if module_name else None
    except ImportError:  # written by another version of the project, or by something else
        model_class = None
    if not (isinstance(model_class, type) and issubclass(model_class, ImageClassifier)):
        raise NotAClassifierError(
            f"{path} holds {class_path or 'no module class'}, not an image classifier (ANN, CNN or LSTM)"
        )
    model = model_class.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    return model.eval()
