"""Q-networks: plain ``nn.Module`` s that map an observation to one value per action: an MLP for state vectors,
the same MLP behind a convolutional encoder for stacks of image frames."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn


def mlp_trunk(in_features: int, hidden_sizes: Sequence[int]) -> nn.Sequential:
    """[Linear, ReLU] per hidden layer; an empty ``hidden_sizes`` gives the identity (a linear Q-function)."""
    layers: list[nn.Module] = []
    width = in_features
    for size in hidden_sizes:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers)


# Convolutions as (out_channels, kernel, stride). "nature": the DQN paper's encoder for 84x84 Atari frames.
# "small": two layers for small frames (CartPole's 16x60), where the Nature kernels would shrink the map to
# nothing; 16x60 -> 7x29 -> 3x14, cheap enough to train on a CPU.
ENCODERS = {
    "nature": ((32, 8, 4), (64, 4, 2), (64, 3, 1)),
    "small": ((16, 4, 2), (32, 3, 2)),
}


class ConvEncoder(nn.Module):
    """Stacked uint8 frames -> flat features: [Conv2d, ReLU] per layer of ``ENCODERS[kind]``, then Flatten.

    Pixels are scaled from 0..255 to 0..1 here, so the replay buffer and the environment keep 1-byte frames.
    """

    def __init__(self, frame_shape: Sequence[int], kind: Literal["nature", "small"] = "nature") -> None:
        super().__init__()
        channels, height, width = frame_shape  # (frame_stack, H, W): stacked frames are the input channels
        layers: list[nn.Module] = []
        for out_channels, kernel, stride in ENCODERS[kind]:
            layers += [nn.Conv2d(channels, out_channels, kernel, stride), nn.ReLU()]
            channels = out_channels
            height, width = (height - kernel) // stride + 1, (width - kernel) // stride + 1
            if height < 1 or width < 1:
                raise ValueError(f"frames of {tuple(frame_shape)[1:]} are too small for the {kind!r} encoder")
        self.layers = nn.Sequential(*layers, nn.Flatten())
        self.out_features = channels * height * width

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.layers(frames.float() / 255.0)  # (B, k, H, W) -> (B, out_features)


class QNetwork(nn.Module):
    """MLP Q-function ``Q(s, .)``, optionally with a dueling head.

    The dueling head (Wang et al., 2016) splits the last layer into a state value ``V(s)`` and advantages
    ``A(s, a)`` and recombines them as ``Q = V + A - mean_a A``: subtracting the mean makes the split
    identifiable (otherwise any constant could move between V and A).

    With an ``encoder`` (a :class:`ConvEncoder`) the MLP reads the encoder's features instead of the raw
    observation: the pixel agent is the same network behind a CNN.
    """

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        hidden_sizes: Sequence[int],
        dueling: bool = False,
        encoder: ConvEncoder | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder if encoder is not None else nn.Identity()
        in_features = encoder.out_features if encoder is not None else obs_dim
        self.trunk = mlp_trunk(in_features, hidden_sizes)
        width = hidden_sizes[-1] if hidden_sizes else in_features
        self.dueling = dueling
        if dueling:
            self.value = nn.Linear(width, 1)
            self.advantage = nn.Linear(width, num_actions)
        else:
            self.head = nn.Linear(width, num_actions)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        features = self.trunk(self.encoder(observations))  # (B, obs_dim) or (B, k, H, W) -> (B, width)
        if not self.dueling:
            return self.head(features)  # (B, num_actions)
        advantages = self.advantage(features)  # (B, num_actions)
        return self.value(features) + advantages - advantages.mean(dim=-1, keepdim=True)  # (B, 1) broadcasts


def q_network_for(
    obs_shape: Sequence[int],
    num_actions: int,
    hidden_sizes: Sequence[int],
    dueling: bool = False,
    encoder: Literal["nature", "small"] = "nature",
) -> QNetwork:
    """An MLP for vector observations ``(obs_dim,)``; a CNN encoder plus the MLP for frame stacks ``(k, H, W)``."""
    if len(obs_shape) == 3:
        return QNetwork(0, num_actions, hidden_sizes, dueling, ConvEncoder(obs_shape, encoder))
    return QNetwork(math.prod(obs_shape), num_actions, hidden_sizes, dueling)
