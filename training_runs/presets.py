"""Presets by name: ``--config mnist_cnn`` means ``configs/mnist_cnn.yaml`` of this project, from any folder
(an overlay's name, ``--config fashion_mnist``, means ``configs/overlays/fashion_mnist.yaml``)."""

from __future__ import annotations

import sys
from pathlib import Path

# configs/ sits beside cli.py and this package, in a checkout and in an installed wheel alike.
PRESETS_DIR = Path(__file__).resolve().parents[1] / "configs"
# Overlays hold only what differs from a base preset; they are given after it (``--config BASE --config OVERLAY``).
OVERLAYS_DIR = PRESETS_DIR / "overlays"


def find_presets(args: list[str]) -> list[str]:
    """``--config mnist_cnn`` (a bare name, not a file here) means ``configs/mnist_cnn.yaml`` of this project,
    so the command works from any folder."""
    resolved = list(args)
    for i, arg in enumerate(resolved):
        flag, _, inline = arg.partition("=")
        if flag != "--config" or (not inline and i + 1 == len(resolved)):
            continue
        value = inline or resolved[i + 1]
        if Path(value).exists() or "/" in value or value.endswith((".yaml", ".yml", "}")):
            continue  # a file, a path to one, or inline YAML: jsonargparse's own business
        preset = next(
            (d / f"{value}.yaml" for d in (PRESETS_DIR, OVERLAYS_DIR) if (d / f"{value}.yaml").is_file()), None
        )
        if preset is None:
            names = ", ".join(sorted(p.stem for d in (PRESETS_DIR, OVERLAYS_DIR) for p in d.glob("*.yaml")))
            sys.exit(f"error: --config {value}: no such file and no preset of that name (presets: {names})")
        if inline:
            resolved[i] = f"--config={preset}"
        else:
            resolved[i + 1] = str(preset)
    return resolved
