"""Frames of an episode with a caption under each, saved as an animated GIF or an MP4 (imageio)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CAPTION_HEIGHT = 44  # pixels of white band under each frame for two lines of text
VIDEO_BLOCK = 16  # H.264 encoders want sides divisible by 16: frames are padded to it, never scaled
RECORD_SUFFIXES = (".gif", ".mp4")


def captioned(frame: np.ndarray, lines: tuple[str, str]) -> np.ndarray:
    """(H, W, 3) uint8 frame -> (H + caption, W, 3) with two lines of text in a white band below."""
    height, width = frame.shape[:2]
    picture = Image.new("RGB", (width, height + CAPTION_HEIGHT), "white")
    picture.paste(Image.fromarray(frame), (0, 0))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(15)
    for row, text in enumerate(lines):
        draw.text((8, height + 4 + 19 * row), text, fill="black", font=font)
    return np.asarray(picture)


def text_frame(text: str, width: int = 550) -> np.ndarray:
    """An ANSI text render (Taxi) drawn as an image: escape codes dropped, one line per row."""
    import re

    plain = re.sub(r"\x1b\[[0-9;]*m", "", text).rstrip("\n")
    font = ImageFont.load_default(18)
    lines = plain.splitlines() or [""]
    picture = Image.new("RGB", (width, 24 * len(lines) + 16), "white")
    draw = ImageDraw.Draw(picture)
    for row, line in enumerate(lines):
        draw.text((12, 8 + 24 * row), line, fill="black", font=font)
    return np.asarray(picture)


def pad_to_block(frame: np.ndarray, block: int = VIDEO_BLOCK) -> np.ndarray:
    height, width = frame.shape[:2]
    pad_h, pad_w = -height % block, -width % block
    return np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), constant_values=255)


def save_animation(frames: list[np.ndarray], path: Path, fps: float) -> Path:
    """Writes ``frames`` to ``path`` (``.gif`` loops forever; ``.mp4`` is H.264 via imageio-ffmpeg)."""
    import imageio.v2 as imageio

    if path.suffix not in RECORD_SUFFIXES:
        raise ValueError(f"--record {path}: give a .gif or .mp4 file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.partial{path.suffix}")  # no half-written file under the real name
    images: list[Any] = list(frames) if path.suffix == ".gif" else [pad_to_block(frame) for frame in frames]
    try:
        if path.suffix == ".gif":
            imageio.mimsave(partial, images, duration=1000 / fps, loop=0)  # duration: ms per frame
        else:
            imageio.mimsave(partial, images, fps=fps, codec="libx264", quality=7, macro_block_size=VIDEO_BLOCK)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path
