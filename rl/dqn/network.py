"""Q-networks: plain ``nn.Module`` MLPs that map an observation to one value per action."""

from __future__ import annotations

from collections.abc import Sequence

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


class QNetwork(nn.Module):
    """MLP Q-function ``Q(s, .)``, optionally with a dueling head.

    The dueling head (Wang et al., 2016) splits the last layer into a state value ``V(s)`` and advantages
    ``A(s, a)`` and recombines them as ``Q = V + A - mean_a A``: subtracting the mean makes the split
    identifiable (otherwise any constant could move between V and A).
    """

    def __init__(self, obs_dim: int, num_actions: int, hidden_sizes: Sequence[int], dueling: bool = False) -> None:
        super().__init__()
        self.trunk = mlp_trunk(obs_dim, hidden_sizes)
        width = hidden_sizes[-1] if hidden_sizes else obs_dim
        self.dueling = dueling
        if dueling:
            self.value = nn.Linear(width, 1)
            self.advantage = nn.Linear(width, num_actions)
        else:
            self.head = nn.Linear(width, num_actions)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        features = self.trunk(observations)  # (B, obs_dim) -> (B, width)
        if not self.dueling:
            return self.head(features)  # (B, num_actions)
        advantages = self.advantage(features)  # (B, num_actions)
        return self.value(features) + advantages - advantages.mean(dim=-1, keepdim=True)  # (B, 1) broadcasts
