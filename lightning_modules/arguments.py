"""Checks of the classifiers' layer sizes: a layer of 0 units (``hidden_sizes [0, 0, 0]``) builds a network that
outputs its last bias whatever the input, and trains to exit 0 with a chance-level accuracy."""

from __future__ import annotations

from collections.abc import Sequence


def widths_at_least_one(**sizes: int | Sequence[int]) -> None:
    """Every size (one number, or one per layer) is at least 1; else one line naming the option and the entry."""
    for name, value in sizes.items():
        entries = [value] if isinstance(value, int) else list(value)
        for i, size in enumerate(entries):
            if size < 1:
                where = "" if isinstance(value, int) else f" (entry {i} of {tuple(entries)})"
                raise ValueError(f"--model.init_args.{name} must be at least 1{where}, got {size}")
