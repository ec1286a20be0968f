"""Presets by name: ``--config mnist_cnn`` means ``configs/mnist_cnn.yaml`` of this project, from any folder."""

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
        preset = PRESETS_DIR / f"{value}.yaml"
        if not preset.is_file():
            names = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
            sys.exit(f"error: --config {value}: no such file and no preset of that name (presets: {names})")
        if inline:
            resolved[i] = f"--config={preset}"
        else:
            resolved[i + 1] = str(preset)
    return resolved
