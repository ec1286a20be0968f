"""Pictures of a classifier's test results: the confusion matrix and its most confident mistakes.

Drawn with matplotlib's object API (no pyplot state, no GUI backend), returned as RGB arrays that
are both saved as PNG and logged to TensorBoard.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def render(figure: Figure) -> np.ndarray:
    """(H, W, 3) uint8 pixels of ``figure``."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_png(pixels: np.ndarray, path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, optimize=True)
    return path


def confusion_matrix_figure(matrix: torch.Tensor, class_names: Sequence[str], title: str) -> Figure:
    """Counts with true classes as rows and predictions as columns; the diagonal is what went right."""
    counts = matrix.cpu().numpy()
    figure = Figure(figsize=(6.4, 5.6), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    # Shade each cell by its share of the row, so mistakes stay visible next to the large diagonal.
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    size = len(class_names)
    for row in range(size):
        for col in range(size):
            if counts[row, col]:
                color = "white" if shares[row, col] > 0.5 else "black"
                axes.text(col, row, str(counts[row, col]), ha="center", va="center", fontsize=7, color=color)
    axes.set_xticks(range(size), class_names, rotation=45 if max(map(len, class_names)) > 2 else 0, ha="right")
    axes.set_yticks(range(size), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="share of the true class", shrink=0.8)
    return figure


def mistakes_figure(
    images: torch.Tensor,
    targets: Sequence[int],
    predictions: Sequence[int],
    confidences: Sequence[float],
    class_names: Sequence[str],
    title: str,
) -> Figure:
    """Grid of images (N, 1, H, W) in [0, 1], with "true -> predicted (probability)" under each."""
    count = len(images)
    columns = min(8, max(count, 1))
    rows = max(1, -(-count // columns))
    figure = Figure(figsize=(1.3 * columns, 1.5 * rows + 0.4), dpi=100, layout="constrained")
    figure.suptitle(title)
    for i in range(rows * columns):
        axes = figure.add_subplot(rows, columns, i + 1)
        axes.set_axis_off()
        if i < count:
            axes.imshow(images[i, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)  # (1, H, W) -> (H, W)
            axes.set_title(
                f"{class_names[targets[i]]} → {class_names[predictions[i]]}\n{confidences[i]:.0%}", fontsize=8
            )
    if count == 0:
        figure.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    return figure
