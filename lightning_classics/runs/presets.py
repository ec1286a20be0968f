"""Presets by name: ``--config mnist_cnn`` means ``configs/mnist_cnn.yaml`` of this project, from any folder
(an overlay, ``--config overlays/fashion_mnist`` or just ``fashion_mnist``, is ``configs/overlays/fashion_mnist.yaml``)."""

from __future__ import annotations

import sys
from pathlib import Path



def presets_dir() -> Path:
    """The preset folder: ``lightning_classics/configs`` in an installed wheel (pyproject ships the root's configs/
    there), else the checkout's ``configs/``, which stays at the root where users type ``--config configs/x.yaml``."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "configs"
    return installed if installed.is_dir() else package.parent / "configs"


PRESETS_DIR = presets_dir()
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
        if Path(value).exists() or value.endswith((".yaml", ".yml", "}")):
            continue  # a file or inline YAML: jsonargparse's own business
        candidates = (d / f"{value}.yaml" for d in (PRESETS_DIR, OVERLAYS_DIR))
        # inside configs/ only: ``overlays/x`` names an overlay, ``../x`` names nothing of ours
        preset = next((c for c in candidates if c.is_file() and c.resolve().is_relative_to(PRESETS_DIR)), None)
        if preset is None and "/" in value:
            continue  # a path to a file that is not there: jsonargparse says so
        if preset is None:
            names = ", ".join(
                sorted(str(p.relative_to(PRESETS_DIR).with_suffix("")) for p in PRESETS_DIR.rglob("*.yaml"))
            )
            sys.exit(f"error: --config {value}: no such file and no preset of that name (presets: {names})")
        if inline:
            resolved[i] = f"--config={preset}"
        else:
            resolved[i + 1] = str(preset)
    return resolved
