"""Checkpoint writes that never leave a truncated file: temporary file beside the target, fsync, rename.

Lightning 2.6 writes a checkpoint to a temporary file in ``$TMPDIR`` and moves it into place; when ``$TMPDIR``
is on another filesystem than the run folder (tmpfs ``/tmp``) that move is a plain copy, so a process killed
during it (or a full disk) leaves a truncated checkpoint where a good one was. Here the temporary file is written
in the target's own folder, flushed and fsynced, and then renamed over the target: ``rename`` within one
filesystem is atomic, so the target is always either the old complete file or the new complete file.
Every file carries a SHA-256 of its bytes (lightning_classics/runs/checkpoint_checksum.py), checked by every load.
"""

from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.fabric.utilities.types import _PATH

from lightning_classics.runs.checkpoint_checksum import append_checksum
from lightning_classics.runs.checkpoint_loader import read_checkpoint
from lightning_classics.runs.errors import UserError

TEMP_MARKER = ".partial-"  # in the names of temporary files: ".last.ckpt.partial-<pid>-<random>"


class CheckpointWriteInterrupted(Exception):
    """Ctrl-C arrived while a checkpoint was being written; the previous file is intact.

    Not a KeyboardInterrupt: Lightning turns those into exit status 1, and the command line must report the
    interrupt (exit status 130) rather than a failed write."""

    def __init__(self, target: Path) -> None:
        kept = "the previous file is intact" if target.exists() else "nothing was written"
        super().__init__(f"interrupted while writing checkpoint {target}; {kept}")
        self.target = target


def temp_path_for(target: Path) -> Path:
    return target.with_name(f".{target.name}{TEMP_MARKER}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _causes(err: BaseException) -> list[BaseException]:
    """``err`` and the errors it was raised from or while handling: torch's writer reports a failed
    ``write`` (a full disk, Ctrl-C inside it) as ``RuntimeError: [enforce fail ...] unexpected pos``, with
    the real error only in the chain."""
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _write_failure(err: BaseException, target: Path) -> UserError:
    """The one-line error for a write that failed with ``err``."""
    os_error = next((e for e in _causes(err) if isinstance(e, OSError)), None)
    kept = "the previous file is intact" if target.exists() else "nothing was written"
    if os_error is not None and os_error.errno in (errno.ENOSPC, errno.EDQUOT):
        return UserError(
            f"could not write checkpoint {target}: no space left on device; {kept}. "
            "Free space, or pass --runs_dir on another disk"
        )
    if os_error is not None:
        reason = os_error.strerror or str(os_error)
        return UserError(f"could not write checkpoint {target} ({reason}); {kept}. Pass --runs_dir on a writable disk")
    reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return UserError(f"could not write checkpoint {target} ({reason}); {kept}")


def atomic_torch_save(obj: Any, target: str | Path) -> None:
    """``torch.save`` to ``target``, with a checksum, so that a crash or a failed write leaves the previous file."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(target)
    try:
        with open(temp, "w+b") as file:
            torch.save(obj, file)
            file.flush()
            append_checksum(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException as err:
        temp.unlink(missing_ok=True)
        if any(isinstance(e, KeyboardInterrupt) for e in _causes(err)):  # a second Ctrl-C, see MidEpochCheckpoint
            raise CheckpointWriteInterrupted(target) from None
        if isinstance(err, OSError | RuntimeError) and not isinstance(err, NotImplementedError):
            raise _write_failure(err, target) from err
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


def _writer_is_gone(temp: Path) -> bool:
    """Whether the process that wrote ``temp`` (its pid is in the name) no longer runs: only then is it stale."""
    pid = temp.name.rpartition(TEMP_MARKER)[2].partition("-")[0]
    if not pid.isdigit():
        return True
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, and someone else's
        return False
    return False


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files that a killed write left behind in ``folder``; returns what was removed.

    A temporary file whose writer still runs (another run's write in progress) is left alone."""
    if not folder.is_dir():
        return []
    stale = [
        p
        for p in folder.iterdir()
        if p.name.startswith(".") and TEMP_MARKER in p.name and p.is_file() and _writer_is_gone(p)
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint IO with atomic, checksummed writes in the run folder and verified loads."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: _PATH, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options, got {storage_options!r}")
        atomic_torch_save(checkpoint, path)

    def load_checkpoint(
        self, path: _PATH, map_location: Any = None, weights_only: bool | None = None
    ) -> dict[str, Any]:
        # Verified checksum, tensors and primitives only: nothing in a checkpoint file can run code while it is read.
        return read_checkpoint(path, map_location=map_location)
