"""One training process per run folder: ``fit`` holds an OS lock on ``version_N/.lock`` while it runs.

Two ``fit --ckpt_path last`` of one run would otherwise write the same ``last.ckpt`` in turn (its step going
backwards) and remove each other's temporary files. ``fcntl.flock`` locks belong to the open file, so the OS
releases them when the process exits, crashes or is killed: a dead run never leaves its folder locked.

Evaluation commands (validate, test, predict) take no lock: they only read checkpoints, which are replaced
atomically (lightning_classics/runs/atomic_io.py), and their own outputs (event files named by host and PID,
``predictions.pt`` written atomically) do not collide with the training's.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import sys
from pathlib import Path

from lightning_classics.runs.errors import UserError

LOCK_FILE = ".lock"
_held: list[int] = []  # descriptors of the lock files this process holds


def is_launching_process() -> bool:
    """The process that owns a (DDP) run: the first of Lightning's launcher, or rank 0 under torchrun/SLURM."""
    ranks = (os.environ.get(name, "0") for name in ("LOCAL_RANK", "RANK", "SLURM_PROCID"))
    return all(rank == "0" for rank in ranks)


def lock_run(folder: Path) -> None:
    """Hold ``folder``'s lock until :func:`release_run_locks` or the process's end; a one-line error naming the
    process that holds it already. Other DDP processes of the same run take no lock: their launcher holds it."""
    if not is_launching_process():
        return
    # No O_TRUNC: the holder's line must survive until this process knows it cannot take the lock.
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by exec'd children
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 4096).decode(errors="replace").strip() or "another process"
        os.close(fd)
        raise UserError(
            f"run folder {folder} is in use by {holder}: wait for it to end (or stop it), "
            "or start a new run without --ckpt_path"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"process {os.getpid()} ({shlex.join([Path(sys.executable).name, *sys.argv])})\n".encode())
    _held.append(fd)


def release_run_locks() -> None:
    """The command ended: its run folders are free for the next one (an in-process caller may run several)."""
    while _held:
        fd = _held.pop()
        os.ftruncate(fd, 0)  # the folder no longer names a process that may be long gone
        os.close(fd)
