"""Batched, on-device image augmentation (no per-sample Python or PIL work)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(
    images: torch.Tensor,
    degrees: float = 10.0,
    translate: float = 0.1,
    scale: tuple[float, float] = (0.9, 1.1),
) -> torch.Tensor:
    """Rotate, shift and scale each image of a ``(B, C, H, W)`` float batch by its own random amount.

    ``translate`` is a fraction of the image size. Uncovered pixels become 0, so call this
    before normalisation, while 0 still means background.
    """
    batch = images.shape[0]
    device, dtype = images.device, images.dtype

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.empty(batch, device=device, dtype=dtype).uniform_(low, high)

    angle = uniform(-degrees, degrees) * (math.pi / 180)
    inv_scale = 1 / uniform(*scale)
    # affine_grid works in [-1, 1] coordinates, so a shift by a fraction f of the width is 2f.
    shift_x, shift_y = uniform(-2 * translate, 2 * translate), uniform(-2 * translate, 2 * translate)
    cos, sin = torch.cos(angle) * inv_scale, torch.sin(angle) * inv_scale
    theta = torch.stack(
        [torch.stack([cos, -sin, shift_x], dim=1), torch.stack([sin, cos, shift_y], dim=1)], dim=1
    )  # (B, 2, 3): maps output coordinates to input coordinates
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
