"""Turn a picture of a digit (any size, colour or polarity) into a 28x28 image the way MNIST was made.

MNIST's digits are white on black, their bounding box scaled to fit a 20x20 box with the aspect
ratio kept, and placed in a 28x28 image so that the centre of mass of the ink sits at its centre.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

SIZE = 28  # output image side
BOX = 20  # the digit's bounding box is scaled to fit BOX x BOX
INK_THRESHOLD = 0.2  # fraction of full ink that counts as part of the digit for its bounding box
MAX_PIXELS = 4096 * 4096  # larger pictures are refused rather than decoded (a decompression bomb guard)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class ImageInputError(ValueError):
    """No usable picture: a missing path, bytes or a file that are not a readable image, too large, or blank."""


def load_image(source: str | Path | bytes) -> Image.Image:
    """Open a file path or encoded bytes as a PIL image; one clear error for anything unreadable."""
    name = "the request body" if isinstance(source, bytes) else str(source)
    try:
        image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        if image.width * image.height > MAX_PIXELS:
            raise ImageInputError(
                f"{name}: image is {image.width}x{image.height}, larger than the {MAX_PIXELS:,} pixels accepted"
            )
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise ImageInputError(f"{name}: not a readable image ({type(err).__name__})") from err
    return ImageOps.exif_transpose(image)


def to_grayscale(image: Image.Image) -> torch.Tensor:
    """(H, W) float tensor in [0, 1]; transparent parts count as white paper."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    gray = torch.frombuffer(bytearray(image.convert("L").tobytes()), dtype=torch.uint8)
    return gray.reshape(image.height, image.width).float() / 255  # (H*W,) -> (H, W)


def mnist_style(gray: torch.Tensor, name: str = "image") -> torch.Tensor:
    """(H, W) grayscale in [0, 1] -> (28, 28) uint8 MNIST-style digit (white ink on black)."""
    border = torch.cat([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = border.median()
    ink = gray - background if background < 0.5 else background - gray  # light paper: dark ink, so invert
    ink = ink.clamp(min=0)
    peak = ink.max()
    if peak < 0.1:  # nothing stands out from the background by more than 10% of full scale
        raise ImageInputError(f"{name}: no digit found (the image is blank)")
    ink = ink / peak  # full contrast: pale pencil strokes and photos count like MNIST's saturated ink

    rows = (ink > INK_THRESHOLD).any(dim=1).nonzero().squeeze(1)
    cols = (ink > INK_THRESHOLD).any(dim=0).nonzero().squeeze(1)
    digit = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # the bounding box of the ink
    height, width = digit.shape
    scale = BOX / max(height, width)
    new_size = (max(1, round(height * scale)), max(1, round(width * scale)))
    # (h, w) -> (1, 1, h, w) for interpolate; antialiasing averages thin strokes of big pictures instead of dropping them
    digit = F.interpolate(digit[None, None], size=new_size, mode="bilinear", antialias=True, align_corners=False)[0, 0]
    digit = (digit / digit.max()).clamp(0, 1)  # thin strokes of a large canvas fade when shrunk; restore full ink

    # Place the box so that the ink's centre of mass lands on the centre of the 28x28 image.
    total = digit.sum()
    com_y = (digit.sum(dim=1) * torch.arange(new_size[0])).sum() / total
    com_x = (digit.sum(dim=0) * torch.arange(new_size[1])).sum() / total
    top = int(min(max(round(SIZE / 2 - 0.5 - com_y.item()), 0), SIZE - new_size[0]))
    left = int(min(max(round(SIZE / 2 - 0.5 - com_x.item()), 0), SIZE - new_size[1]))
    out = torch.zeros(SIZE, SIZE)
    out[top : top + new_size[0], left : left + new_size[1]] = digit
    return (out * 255).round().to(torch.uint8)


def preprocess(source: str | Path | bytes) -> torch.Tensor:
    """A picture file or its encoded bytes -> (28, 28) uint8 MNIST-style digit."""
    name = "the request body" if isinstance(source, bytes) else str(source)
    return mnist_style(to_grayscale(load_image(source)), name)


def image_files(path: str | Path) -> list[Path]:
    """The files to classify: ``path`` itself, or every file in the folder ``path`` (sorted, not recursive)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if files:
            return files
        raise ImageInputError(f"predict_path {path} is an empty folder: put PNG/JPEG files in it")
    raise ImageInputError(f"predict_path {path} does not exist: pass an image file or a folder of images")


def preprocess_files(paths: Iterable[Path]) -> tuple[torch.Tensor, list[Path], list[str]]:
    """Preprocess each file; unreadable ones are skipped and reported.

    Returns (N, 28, 28) uint8 images, the N files they came from, and one error line per skipped file.
    """
    images, kept, errors = [], [], []
    for path in paths:
        try:
            images.append(preprocess(path))
            kept.append(path)
        except ImageInputError as err:
            errors.append(str(err))
    stacked = torch.stack(images) if images else torch.zeros(0, SIZE, SIZE, dtype=torch.uint8)
    return stacked, kept, errors
