"""Checkpoint writes that never leave a truncated file: temporary file beside the target, fsync, rename.

Lightning 2.6 writes a checkpoint to a temporary file in ``$TMPDIR`` and moves it into place; when ``$TMPDIR``
is on another filesystem than the run folder (tmpfs ``/tmp``) that move is a plain copy, so a process killed
during it (or a full disk) leaves a truncated checkpoint where a good one was. Here the temporary file is written
in the target's own folder, flushed and fsynced, and then renamed over the target: ``rename`` within one
filesystem is atomic, so the target is always either the old complete file or the new complete file.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.fabric.utilities.types import _PATH

from training_runs.errors import UserError

TEMP_MARKER = ".partial-"  # in the names of temporary files: ".last.ckpt.partial-<pid>-<random>"


def temp_path_for(target: Path) -> Path:
    return target.with_name(f".{target.name}{TEMP_MARKER}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def atomic_torch_save(obj: Any, target: str | Path) -> None:
    """``torch.save`` to ``target`` so that a crash or a failed write leaves the previous file untouched."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(target)
    try:
        with open(temp, "wb") as file:
            torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException as err:
        temp.unlink(missing_ok=True)
        if isinstance(err, OSError | RuntimeError) and not isinstance(err, NotImplementedError):
            # torch.save reports a full disk as a RuntimeError from its writer.
            reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err).splitlines()[0]
            kept = "the previous file is intact" if target.exists() else "nothing was written"
            raise UserError(
                f"could not write checkpoint {target} ({reason}); {kept}. Free space or pass --runs_dir"
            ) from err
        raise
    _fsync_dir(target.parent)  # make the rename itself durable


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems do not support fsync on directories
    finally:
        os.close(fd)


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files that a killed write left behind in ``folder``; returns what was removed."""
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if p.name.startswith(".") and TEMP_MARKER in p.name and p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO with atomic writes in the run folder and ``weights_only=True`` loads."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options, got {storage_options!r}")
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(
        self, path: _PATH, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        # Tensors and primitives only: nothing in a checkpoint file can run code while it is read.
        return super().load_checkpoint(path, map_location=map_location, weights_only=True)
