"""Plain ``nn.Module`` networks, free of any training logic."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class PixelNormalize(nn.Module):
    """Raw pixels -> what the network was trained on: uint8 in 0-255 or floats in [0, 1], then standardised."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        # Not persistent: the values come from the hyper-parameters, so state dicts stay as they were.
        self.register_buffer("mean", torch.tensor(mean), persistent=False)
        self.register_buffer("std", torch.tensor(std), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.dtype == torch.uint8:
            images = images.float() / 255
        return (images - self.mean) / self.std


class MLP(nn.Sequential):
    """Fully connected classifier: flatten -> [Linear, ReLU, Dropout] per hidden layer -> Linear.

    Also the 3-4-4-2 TinyNet: ``MLP(3, (4, 4), 2)`` (flattening a batch of vectors changes nothing)."""

    def __init__(self, in_features: int, hidden_sizes: Sequence[int], num_classes: int, dropout: float = 0.0) -> None:
        layers: list[nn.Module] = [nn.Flatten()]  # (B, C, H, W) -> (B, C*H*W)
        width = in_features
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, num_classes))
        super().__init__(*layers)


class ConvNet(nn.Module):
    """Convolution blocks ([conv 3x3, batch norm, ReLU] x depth, then 2x2 max-pool) followed by an MLP head."""

    def __init__(
        self,
        image_shape: Sequence[int],
        channels: Sequence[int],
        hidden_sizes: Sequence[int],
        num_classes: int,
        dropout: float = 0.0,
        block_depths: Sequence[int] | None = None,
    ) -> None:
        """``block_depths``: convolutions in each block (one each when ``None``), as long as ``channels``."""
        super().__init__()
        depths = [1] * len(channels) if block_depths is None else list(block_depths)
        if len(depths) != len(channels) or min(depths, default=1) < 1:
            raise ValueError(
                f"block_depths must give a count >= 1 for each of the {len(channels)} blocks in channels "
                f"{tuple(channels)}, got {tuple(depths)}"
            )
        in_channels, height, width = image_shape
        blocks: list[nn.Module] = []
        for out_channels, depth in zip(channels, depths, strict=True):
            for _ in range(depth):
                blocks += [
                    nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
                    nn.BatchNorm2d(out_channels),
                    nn.ReLU(inplace=True),
                ]
                in_channels = out_channels
            blocks.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
        self.features = nn.Sequential(*blocks)
        self.head = MLP(in_channels * height * width, hidden_sizes, num_classes, dropout)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))  # (B, C, H, W) -> (B, C', H', W') -> (B, classes)


class RowLSTM(nn.Module):
    """Reads each image row by row (H steps of C*W features) and classifies from the last step's output."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.input_size = input_size
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, dropout=dropout)
        self.classifier = nn.Linear(hidden_size, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = images.shape
        rows = images.permute(0, 2, 1, 3).reshape(batch, height, channels * width)  # (B, C, H, W) -> (B, H, C*W)
        outputs, _ = self.lstm(rows)  # (B, H, hidden)
        return self.classifier(outputs[:, -1])  # last step: (B, hidden) -> (B, classes)
