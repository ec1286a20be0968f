"""Digits drawn with PIL's bundled font, in several styles, as picture files or as MNIST-style training data."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

from datamodules.idx import write_idx
from datamodules.mnist_files import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS
from lightning_classics.images import mnist_style, to_grayscale


@cache
def font(height: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(height)  # Pillow's bundled TrueType font: the same on every machine


def draw_digit(
    digit: int,
    canvas: tuple[int, int] = (120, 120),
    height: int = 80,
    stroke: int = 0,
    dark_on_light: bool = True,
    at: tuple[float, float] = (0.5, 0.5),
    angle: float = 0.0,
    colour: str | None = None,
) -> Image.Image:
    """An RGB picture of ``digit`` about ``height`` pixels tall, centred at the fraction ``at`` of the canvas."""
    paper, ink = ("white", colour or "black") if dark_on_light else ("black", colour or "white")
    glyph = Image.new("L", (height * 2, height * 2), 0)
    ImageDraw.Draw(glyph).text(
        (height, height), str(digit), fill=255, font=font(height), anchor="mm", stroke_width=stroke, stroke_fill=255
    )
    glyph = glyph.rotate(angle, resample=Image.Resampling.BILINEAR)
    picture = Image.new("RGB", canvas, paper)
    left = round(at[0] * canvas[0]) - height
    top = round(at[1] * canvas[1]) - height
    picture.paste(Image.new("RGB", glyph.size, ink), (left, top), mask=glyph)
    return picture


def training_digits(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(count, 28, 28) uint8 MNIST-style digits in varied sizes, strokes, slants and places, with their labels."""
    generator = torch.Generator().manual_seed(seed)

    def uniform(low: float, high: float) -> float:
        return low + (high - low) * torch.rand((), generator=generator).item()

    images, labels = [], []
    for i in range(count):
        digit = i % 10
        height = int(uniform(30, 90))
        picture = draw_digit(
            digit,
            height=height,
            stroke=int(uniform(0, height / 8)),
            at=(uniform(0.35, 0.65), uniform(0.35, 0.65)),
            angle=uniform(-12, 12),
            dark_on_light=i % 2 == 0,
        )
        images.append(mnist_style(to_grayscale(picture)))
        labels.append(digit)
    return torch.stack(images), torch.tensor(labels, dtype=torch.uint8)


def write_drawn_mnist(folder: Path, train: int = 600, test: int = 100) -> Path:
    """IDX files of drawn digits, in MNIST's layout."""
    folder.mkdir(parents=True, exist_ok=True)
    for (images_name, labels_name), (count, seed) in (
        ((TRAIN_IMAGES, TRAIN_LABELS), (train, 0)),
        ((TEST_IMAGES, TEST_LABELS), (test, 1)),
    ):
        images, labels = training_digits(count, seed)
        write_idx(folder / images_name, images)
        write_idx(folder / labels_name, labels)
    return folder
