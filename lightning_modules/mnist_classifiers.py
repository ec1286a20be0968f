"""The three MNIST classifiers: fully connected (ANN), convolutional (CNN) and recurrent (LSTM)."""

from __future__ import annotations

import math

import torch
from torch import nn

from lightning_modules.arguments import widths_at_least_one
from lightning_modules.classifier import Classifier
from lightning_modules.networks import MLP, ConvNet, PixelNormalize, RowLSTM

IMAGE_SHAPE = (1, 28, 28)
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # the defaults, so checkpoints saved before these arguments load as MNIST's


class ImageClassifier(Classifier):
    """A classifier whose inputs are images of one shape; subclasses build ``self.net`` for that shape.

    The model normalises its own input with the training set's pixel statistics, so a checkpoint
    classifies raw images by itself (in Python, exported or served).
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int] = IMAGE_SHAPE,
        pixel_mean: float = MNIST_MEAN,
        pixel_std: float = MNIST_STD,
        **kwargs,
    ) -> None:
        """
        Args:
            image_shape: Input image shape (C, H, W) (linked from the data module by the CLI).
            pixel_mean: Training-set pixel mean on the [0, 1] scale, subtracted by the model (linked from the data module).
            pixel_std: Training-set pixel standard deviation, divided out by the model (linked from the data module).
        """
        super().__init__(**kwargs)
        self.image_shape = tuple(image_shape)
        self.normalize = PixelNormalize(pixel_mean, pixel_std)
        self.example_input_array = torch.zeros(1, *image_shape)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) uint8 pixels in 0-255 or floats in [0, 1] -> (B, classes) logits."""
        return self.net(self.normalize(images))

    def raw_pixel_network(self) -> nn.Module:
        """The plain ``nn.Module`` (normalisation, then the network) that export and serving run."""
        return nn.Sequential(self.normalize, self.net).eval()


class ANN(ImageClassifier):
    """Fully connected network: flattened 784 pixels -> three hidden layers -> class logits."""

    def __init__(self, hidden_sizes: tuple[int, int, int] = (1024, 512, 256), dropout: float = 0.2, **kwargs) -> None:
        """
        Args:
            hidden_sizes: Widths of the three hidden linear layers.
            dropout: Dropout after each hidden layer.
        """
        widths_at_least_one(hidden_sizes=hidden_sizes)
        super().__init__(**kwargs)
        self.net = MLP(math.prod(self.image_shape), hidden_sizes, self.hparams.num_classes, dropout)


class CNN(ImageClassifier):
    """Convolution blocks (three by default), then linear layers -> class logits."""

    def __init__(
        self,
        channels: tuple[int, ...] = (32, 64, 128),
        hidden_sizes: tuple[int, ...] = (256, 128),
        dropout: float = 0.3,
        channels_last: bool = True,
        block_depths: tuple[int, ...] | None = None,
        **kwargs,
    ) -> None:
        """
        Args:
            channels: Output channels of each convolution block (3x3 conv, batch norm, ReLU, 2x2 max-pool).
            hidden_sizes: Widths of the hidden linear layers (one more linear layer outputs the logits).
            dropout: Dropout after each hidden linear layer.
            channels_last: Keep weights and images in channels-last (NHWC) memory order: faster training on
                the CPU (its max-pooling and convolutions), what tensor-core GPUs prefer (docs/results.md).
            block_depths: Convolutions in each block, one count per entry of ``channels``; ``null``: one each.
        """
        widths_at_least_one(channels=channels, hidden_sizes=hidden_sizes)
        super().__init__(**kwargs)
        self.net = ConvNet(self.image_shape, channels, hidden_sizes, self.hparams.num_classes, dropout, block_depths)
        if channels_last:
            self.net.to(memory_format=torch.channels_last)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.hparams.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)  # same shape, NHWC strides
        return super().forward(inputs)  # the base normalises raw pixels first


class LSTM(ImageClassifier):
    """Each image read as a sequence of rows by a stacked LSTM; the last step is classified by one linear layer."""

    def __init__(self, hidden_size: int = 256, num_layers: int = 2, dropout: float = 0.2, **kwargs) -> None:
        """
        Args:
            hidden_size: Units of each LSTM layer.
            num_layers: Stacked LSTM layers.
            dropout: Dropout between LSTM layers.
        """
        widths_at_least_one(hidden_size=hidden_size, num_layers=num_layers)
        super().__init__(**kwargs)
        channels, _, width = self.image_shape  # H rows of C*W features each
        self.net = RowLSTM(channels * width, hidden_size, num_layers, self.hparams.num_classes, dropout)
