"""Turn a picture of a digit (any size, colour or polarity) into a 28x28 image the way MNIST was made.

MNIST's digits are white on black, their bounding box scaled to fit a 20x20 box with the aspect
ratio kept, and placed in a 28x28 image so that the centre of mass of the ink sits at its centre.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from lightning_classics.runs.errors import UserError

SIZE = 28  # output image side
BOX = 20  # the digit's bounding box is scaled to fit BOX x BOX
INK_THRESHOLD = 0.2  # fraction of full ink that counts as part of the digit for its bounding box
MAX_PIXELS = 4096 * 4096  # larger pictures are refused rather than decoded (a decompression bomb guard)
WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")  # more than 8 bits per pixel, one channel
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


class ImageInputError(UserError):
    """No usable picture: a missing path, bytes or a file that are not a readable image, too large, or blank."""


def read_grayscale(source: str | Path | bytes) -> torch.Tensor:
    """A user's picture file or its encoded bytes -> (H, W) float tensor in [0, 1], or ``ImageInputError``.

    The one place a user's picture is decoded. Pillow's decoders raise whatever their parsing trips over
    on a damaged file (ValueError, SyntaxError, TypeError, struct.error, EOFError, IndexError, ...), so
    every exception from opening to the grayscale tensor becomes one error that names the picture.
    """
    name = "the request body" if isinstance(source, bytes) else str(source)
    try:
        if isinstance(source, bytes):
            return _decode(io.BytesIO(source), name)
        with _open_regular_file(Path(source)) as file:
            return _decode(file, name)
    except ImageInputError:
        raise
    except Exception as err:  # any decoder failure on a damaged file: see the docstring
        reason = " ".join(str(err).split())[:120]
        detail = f"{type(err).__name__}: {reason}" if reason else type(err).__name__
        raise ImageInputError(f"{name}: not a readable image ({detail})") from err


def _open_regular_file(path: Path) -> BinaryIO:
    """The file, opened without blocking; FIFOs, devices, folders and symlink loops are refused by name."""
    try:
        # O_NONBLOCK: opening a FIFO that nobody writes to would otherwise wait forever.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ImageInputError(f"{path}: a symlink loop, not an image file") from err
        if err.errno == errno.ENOENT:
            raise ImageInputError(f"{path}: does not exist (a dangling symlink?)") from err
        raise ImageInputError(f"{path}: cannot be read ({err.strerror})") from err
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise ImageInputError(f"{path}: {_file_kind(mode)}, not an image file")
    return os.fdopen(descriptor, "rb")


def _file_kind(mode: int) -> str:
    kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}
    return next((kind for test, kind in kinds.items() if test(mode)), "a device or other special file")


def _decode(file: BinaryIO, name: str) -> torch.Tensor:
    image = Image.open(file)
    if image.width * image.height > MAX_PIXELS:  # checked before decoding: a decompression bomb guard
        raise ImageInputError(
            f"{name}: image is {image.width}x{image.height}, larger than the {MAX_PIXELS:,} pixels accepted"
        )
    if image.width == 0 or image.height == 0:
        raise ImageInputError(f"{name}: image is {image.width}x{image.height}, it has no pixels")
    image.load()
    return to_grayscale(ImageOps.exif_transpose(image))


def to_grayscale(image: Image.Image) -> torch.Tensor:
    """(H, W) float tensor in [0, 1]; transparent parts count as white paper; 16-bit and float pictures keep their
    contrast (PIL's ``convert("L")`` clips 16-bit values at 255, so dark ink 5000 on paper 60000 would be blank)."""
    if image.mode in WIDE_MODES:
        return _wide_to_unit(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        paper = Image.new("RGBA", image.size, "white")
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    gray = torch.frombuffer(bytearray(image.convert("L").tobytes()), dtype=torch.uint8)
    return gray.reshape(image.height, image.width).float() / 255  # (H*W,) -> (H, W)


def _wide_to_unit(image: Image.Image) -> torch.Tensor:
    """16-bit ('I;16*'), 32-bit integer ('I') and float ('F') grayscale scaled to [0, 1] before any 8-bit step."""
    values = torch.from_numpy(np.asarray(image, dtype=np.float64).copy())
    if not torch.isfinite(values).all():
        raise ValueError("the image holds NaN or infinite pixel values")  # named by read_grayscale
    full_scale = 65535.0  # 16-bit PNGs and TIFFs open as 'I;16' or 'I' with values 0-65535
    if image.mode == "F":
        full_scale = 1.0 if values.max() <= 1 else 255.0  # float pictures come as [0, 1] or as 0-255
    return (values / full_scale).clamp(0, 1).float()


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
    """A picture file or its encoded bytes -> (28, 28) uint8 MNIST-style digit, or ``ImageInputError``."""
    name = "the request body" if isinstance(source, bytes) else str(source)
    return mnist_style(read_grayscale(source), name)


def image_files(path: str | Path) -> list[Path]:
    """The files to classify: ``path`` itself, or every entry of the folder ``path`` (sorted, not recursive).

    Entries that are not regular files (sub-folders, FIFOs, symlink loops, ...) are listed too, so that
    reading them names each one as skipped instead of leaving it out unsaid; hidden files are left out.
    """
    path = Path(path)
    if path.is_dir():
        entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        if entries:
            return entries
        raise ImageInputError(f"predict_path {path} is an empty folder: put PNG/JPEG files in it")
    if path.exists() or path.is_symlink():  # a file, or something that reading will name (a FIFO, a symlink loop)
        return [path]
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
