"""What several test files share: the project root, quiet CLI flags, a quiet Trainer, CLI argument lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L

ROOT = Path(__file__).resolve().parents[1]
# CLI flags that keep in-process runs from drawing progress bars and model summaries.
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def preset(name: str) -> str:
    """Path of ``configs/<name>.yaml``, or of ``configs/overlays/<name>.yaml`` for an overlay."""
    overlay = ROOT / "configs" / "overlays" / f"{name}.yaml"
    return str(overlay if overlay.is_file() else ROOT / "configs" / f"{name}.yaml")


def cli_args(subcommand: str, preset_name: str, runs_dir: Path | str, *extra: str) -> list[str]:
    """Arguments for ``cli.main``: one preset, runs under ``runs_dir``, quiet, then ``extra``."""
    return [subcommand, "--config", preset(preset_name), "--runs_dir", str(runs_dir), *QUIET, *extra]


def quiet_trainer(**kwargs: Any) -> L.Trainer:
    """A CPU Trainer that writes and prints nothing (no logger, checkpoints, progress bar, summary)."""
    defaults: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
    }
    return L.Trainer(**{**defaults, **kwargs})


def predictions_file(folder: Path, suffix: str = ".csv") -> Path:
    """The one ``predictions-<UTC time>.<suffix>`` in ``folder`` (each ``predict`` writes its own pair of files)."""
    (found,) = folder.glob(f"predictions-*{suffix}")
    return found
