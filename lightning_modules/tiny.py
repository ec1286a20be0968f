"""TinyNet: the 3-4-4-2 starter network as a classifier (``cli.py predict --config configs/tiny_net.yaml``)."""

from __future__ import annotations

import torch

from lightning_modules.arguments import widths_at_least_one
from lightning_modules.classifier import Classifier
from lightning_modules.networks import MLP


class TinyNet(Classifier):
    """3 inputs, two hidden layers of 4 units with ReLU, 2 outputs."""

    def __init__(self, num_features: int = 3, hidden: int = 4, **kwargs) -> None:
        """
        Args:
            num_features: Inputs per example (linked from the data module by the CLI).
            hidden: Units in each of the two hidden layers.
        """
        widths_at_least_one(num_features=num_features, hidden=hidden)
        kwargs.setdefault("num_classes", 2)
        super().__init__(**kwargs)
        self.net = MLP(num_features, (hidden, hidden), self.hparams.num_classes)
        self.example_input_array = torch.zeros(1, num_features)
