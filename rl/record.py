"""Recording an agent's episode as a GIF: the real frame and, for pixel agents, what the network sees beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def what_the_network_sees(observation: Any, height: int) -> np.ndarray | None:
    """A ``(k, H, W)`` uint8 frame stack as one gray RGB column of its k frames (oldest on top), scaled up by
    an integer factor to at most ``height`` rows; ``None`` for observations that are not frame stacks."""
    stack = np.asarray(observation)
    if stack.ndim != 3 or stack.dtype != np.uint8:
        return None
    k, h, w = stack.shape
    scale = max(1, height // (k * h))
    column = stack.reshape(k * h, w)  # (k, H, W) -> (k*H, W): frames one under the other
    column = column.repeat(scale, axis=0).repeat(scale, axis=1)  # nearest-neighbour upscaling
    column[np.arange(1, k) * h * scale] = 128  # a gray line between frames
    return np.repeat(column[:, :, None], 3, axis=2)  # gray -> RGB


MAX_HEIGHT = 240  # GIF encoding costs per pixel: CartPole's 400x600 render is recorded at 200x300


def shrink(frame: np.ndarray, max_height: int = MAX_HEIGHT) -> np.ndarray:
    """Area-averages an (H, W, 3) frame by the smallest integer factor that brings it to ``max_height`` rows."""
    factor = -(-frame.shape[0] // max_height)  # ceiling division
    if factor == 1:
        return frame
    h, w = frame.shape[0] // factor * factor, frame.shape[1] // factor * factor
    blocks = frame[:h, :w].reshape(h // factor, factor, w // factor, factor, 3)
    return blocks.mean(axis=(1, 3)).round().astype(np.uint8)


def side_by_side(frame: np.ndarray, observation: Any) -> np.ndarray:
    """The rendered frame (shrunk to at most ``MAX_HEIGHT`` rows), with the network's input to its right when
    the agent sees frame stacks."""
    frame = shrink(frame)
    seen = what_the_network_sees(observation, frame.shape[0])
    if seen is None:
        return frame
    height = max(frame.shape[0], seen.shape[0])
    canvas = np.full((height, frame.shape[1] + 8 + seen.shape[1], 3), 255, dtype=np.uint8)
    canvas[: frame.shape[0], : frame.shape[1]] = frame
    canvas[: seen.shape[0], frame.shape[1] + 8 :] = seen
    return canvas


def write_gif(path: str | Path, images: list[np.ndarray], fps: float = 25.0) -> None:
    """Writes ``images`` as a looping GIF; the folder must exist (nothing half-written on bad paths)."""
    import imageio.v3 as iio

    path = Path(path)
    if not path.parent.is_dir():
        raise SystemExit(f"error: cannot record to {path}: folder {path.parent} does not exist")
    if path.suffix.lower() != ".gif":
        raise SystemExit(f"error: --record writes GIFs; name the file *.gif, not {path.name}")
    iio.imwrite(path, np.stack(images), extension=".gif", duration=1000.0 / fps, loop=0)
