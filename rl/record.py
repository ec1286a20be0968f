"""Recording an agent's episode as a GIF or MP4: the real frame, for pixel agents what the network sees beside it,
and a caption under it (the agent, the step, the action's name, the return, and at the end why the episode ended).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lightning_classics.runs.errors import UserError


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


CAPTION_LINES = 3  # who plays (and the seed); step, action and return; why the episode ended
LINE_HEIGHT = 16
FONT_SIZE = 13


def with_caption(frame: np.ndarray, lines: list[str]) -> np.ndarray:
    """``frame`` with a white band of ``CAPTION_LINES`` lines of black text under it: (H, W, 3) -> (H + band, W, 3)."""
    from PIL import Image, ImageDraw, ImageFont

    band = np.full((CAPTION_LINES * LINE_HEIGHT + 4, frame.shape[1], 3), 255, dtype=np.uint8)
    canvas = Image.fromarray(np.concatenate([frame, band]))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=FONT_SIZE)
    for row, line in enumerate(lines[:CAPTION_LINES]):
        draw.text((4, frame.shape[0] + 2 + row * LINE_HEIGHT), line, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)


FORMATS = (".gif", ".mp4")
MP4_BLOCK = 16  # H.264 players expect sizes in multiples of 16: frames are padded (white) to them


def check_record_path(path: str | Path) -> Path:
    """The path ``--record`` writes to, checked before the episode is played: a .gif or .mp4 in an existing folder."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise UserError(f"--record writes GIF or MP4; name the file *.gif or *.mp4, not {path.name}")
    if not path.parent.is_dir():
        raise UserError(f"cannot record to {path}: folder {path.parent} does not exist")
    if path.suffix.lower() == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401  # imageio's MP4 writer: the ffmpeg binary it ships
        except ImportError:
            raise UserError("--record *.mp4 needs imageio-ffmpeg: pip install imageio-ffmpeg") from None
    return path


def pad_to_block(images: np.ndarray, block: int = MP4_BLOCK) -> np.ndarray:
    """(N, H, W, 3) -> (N, H', W', 3) with H' and W' rounded up to multiples of ``block``, padded with white."""
    height, width = images.shape[1:3]
    pad_h, pad_w = -height % block, -width % block
    return np.pad(images, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), constant_values=255)


def write_video(path: str | Path, images: list[np.ndarray], fps: float = 25.0, hold_last_s: float = 1.5) -> None:
    """Writes ``images`` at ``fps`` as a looping GIF or an MP4 (H.264), by the file's suffix; the last image stays
    on screen ``hold_last_s`` longer, so that its caption can be read. A failed write leaves no file behind."""
    import imageio.v3 as iio

    path = check_record_path(path)
    frames = np.stack(images)  # (N, H, W, 3), uint8
    try:
        if path.suffix.lower() == ".gif":
            # GIF stores delays in hundredths of a second (Pillow would cut 38 ms to 30): round to the nearest
            durations = [round(100 / fps) * 10.0] * len(frames)
            durations[-1] += round(100 * hold_last_s) * 10.0
            iio.imwrite(path, frames, extension=".gif", duration=durations, loop=0)
        else:
            held = np.repeat(frames[-1:], round(hold_last_s * fps), axis=0)
            # macro_block_size 1: already padded, so imageio has nothing to resize (and no warning to print)
            iio.imwrite(path, pad_to_block(np.concatenate([frames, held])), extension=".mp4", fps=fps,
                        codec="libx264", macro_block_size=1, plugin="FFMPEG")  # fmt: skip
    except BaseException:
        path.unlink(missing_ok=True)
        raise
