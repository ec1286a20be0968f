"""``predict``'s results as rows: printed as a table and written as CSV, a new file for every ``predict``."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import torch

from lightning_classics.runs.atomic_io import temp_path_for

Row = dict[str, str | int | float]


def prediction_rows(
    batches: Sequence[dict[str, torch.Tensor]], class_names: Sequence[str] | None = None, files: Sequence[Path] = ()
) -> list[Row]:
    """One row per input: where it came from, the true label if known, the top two classes and their probabilities.

    ``batches`` are ``predict_step`` outputs (``probabilities``, and optionally ``index`` and ``label``);
    ``files`` names the inputs when they were image files (``index`` points into it).
    """
    probabilities = torch.cat([b["probabilities"] for b in batches]).float()
    count, num_classes = probabilities.shape
    index = torch.cat([b["index"] for b in batches]) if "index" in batches[0] else torch.arange(count)
    labels = torch.cat([b["label"] for b in batches]) if "label" in batches[0] else None
    names = list(class_names) if class_names is not None else [str(c) for c in range(num_classes)]
    top = probabilities.topk(min(2, num_classes), dim=-1)
    rows: list[Row] = []
    for i in range(count):
        row: Row = {"file": str(files[int(index[i])])} if files else {"index": int(index[i])}
        if labels is not None:
            row["label"] = names[int(labels[i])]
        row["prediction"] = names[int(top.indices[i, 0])]
        row["probability"] = round(float(top.values[i, 0]), 4)
        if num_classes > 1:
            row["runner_up"] = names[int(top.indices[i, 1])]
            row["runner_up_probability"] = round(float(top.values[i, 1]), 4)
        rows.append(row)
    return rows


def prediction_names(folder: Path, now: datetime) -> list[Path]:
    """``predictions-<UTC time>.csv``, then ``...-2.csv``, ``-3``, ...: the names a ``predict`` at ``now`` tries, in
    order. The time makes one run's results sort by when they were made; the number parts two in the same second."""
    stem = f"predictions-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return [folder / (f"{stem}.csv" if n == 1 else f"{stem}-{n}.csv") for n in range(1, 1000)]


def write_csv(rows: Sequence[Row], folder: Path, now: datetime | None = None) -> Path:
    """Write ``rows`` to a new ``predictions-<UTC time>[-n].csv`` in ``folder`` and return its path.

    An earlier ``predict``'s file is never replaced (each keeps its results, e.g. own pictures, then the test set),
    and a reader never sees half a file: the rows go to a temporary file that is then hard-linked under the first
    free name (``link`` fails instead of replacing, so two ``predict`` at once cannot take the same name)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = prediction_names(folder, now or datetime.now(UTC))
    temp = temp_path_for(names[0])
    try:
        with temp.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
            file.flush()
            os.fsync(file.fileno())
        for path in names:
            try:
                os.link(temp, path)
            except FileExistsError:
                continue
            return path
        raise FileExistsError(f"{names[-1]} and every name before it exist: move some predictions away")
    finally:
        temp.unlink(missing_ok=True)


def format_table(rows: Sequence[Row], limit: int = 20) -> str:
    """Fixed-width text table of the first ``limit`` rows (the CSV holds them all)."""
    shown = rows[:limit]
    columns = list(rows[0])
    cells = [[f"{row[c]:.1%}" if isinstance(row[c], float) else str(row[c]) for c in columns] for row in shown]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows")
    if "label" in columns:
        correct = sum(row["label"] == row["prediction"] for row in rows)
        lines.append(f"{correct} of {len(rows)} predictions match the label ({correct / len(rows):.2%})")
    return "\n".join(lines)
