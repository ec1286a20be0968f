"""TinyNet as a LightningModule (``python -m lightning_modules.tiny_forward`` runs it on example inputs)."""

from __future__ import annotations

import torch

from lightning_modules.classifier import Classifier
from lightning_modules.networks import TinyNet as TinyNetwork


class TinyNet(Classifier):
    """3 inputs, two hidden layers of 4 units, 2 outputs."""

    def __init__(self, num_features: int = 3, hidden: int = 4, **kwargs) -> None:
        """
        Args:
            num_features: Inputs per example (linked from the data module by the CLI).
            hidden: Units in each of the two hidden layers.
        """
        kwargs.setdefault("num_classes", 2)
        super().__init__(**kwargs)
        self.net = TinyNetwork(num_features, hidden, self.hparams.num_classes)
        self.example_input_array = torch.zeros(1, num_features)
