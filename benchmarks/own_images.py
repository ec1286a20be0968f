"""How much accuracy the own-pictures path keeps: MNIST test digits redrawn as pictures, then preprocessed back.

    .venv/bin/python -m benchmarks.own_images --ckpt runs/mnist_cnn/version_0/checkpoints/best.ckpt --data-dir ../shared/datasets/mnist

Each test digit is drawn the way a user's picture might look: inverted to dark ink on white paper,
scaled up 2-5x, placed off-centre on a larger canvas with a grey-ish paper tone, and saved as PNG
bytes. ``lightning_classics.images`` turns each back into a 28x28 digit, and the checkpoint classifies
both versions. The gap between the two accuracies is what the preprocessing loses (or gains).
"""

from __future__ import annotations

import argparse
import io
import time

import torch
from PIL import Image

from datamodules.idx import read_idx
from datamodules.mnist_files import TEST_IMAGES, TEST_LABELS, find_files
from lightning_classics.images import preprocess
from lightning_classics.inference.checkpoints import load_classifier


def as_picture(digit: torch.Tensor, generator: torch.Generator) -> bytes:
    """A (28, 28) uint8 MNIST digit -> PNG bytes of a dark digit on light paper, larger and off-centre."""
    scale = int(torch.randint(2, 6, (), generator=generator))
    paper = int(torch.randint(200, 256, (), generator=generator))
    ink = Image.fromarray((255 - digit).numpy()).resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR)
    canvas = Image.new("L", (28 * scale * 2, 28 * scale + 40), paper)
    left = int(torch.randint(0, 28 * scale, (), generator=generator))
    # darken: ink where the digit is, paper tone elsewhere
    canvas.paste(ink.point(lambda v: v * paper // 255), (left, 20))
    buffer = io.BytesIO()
    canvas.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", required=True, help="classifier checkpoint")
    parser.add_argument("--data-dir", required=True, help="folder with the MNIST files")
    parser.add_argument("--count", type=int, default=2000, help="test digits to redraw (the first N)")
    args = parser.parse_args(argv)
    files = find_files(args.data_dir, "mnist")
    if files is None:
        raise SystemExit(f"error: MNIST files not found in {args.data_dir}")
    images, labels = read_idx(files[TEST_IMAGES])[: args.count], read_idx(files[TEST_LABELS])[: args.count].long()
    model = load_classifier(args.ckpt)
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    redrawn = torch.stack([preprocess(as_picture(image, generator)) for image in images])
    seconds = time.perf_counter() - start
    with torch.inference_mode():
        direct = model(images.unsqueeze(1)).argmax(dim=1)  # (N, 28, 28) -> (N, 1, 28, 28)
        round_trip = model(redrawn.unsqueeze(1)).argmax(dim=1)
    print(
        f"| {type(model).__name__} | {args.count} | {(direct == labels).float().mean():.2%} | "
        f"{(round_trip == labels).float().mean():.2%} | {1000 * seconds / args.count:.1f} ms |"
    )


if __name__ == "__main__":
    main()
