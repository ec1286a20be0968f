"""One folder per run: ``<runs_dir>/<run_name>/version_N/`` holds its checkpoints, logs and saved config.

A new ``fit`` always gets the next free ``version_N`` (the layout of Lightning's own loggers), so no run ever
replaces or renames the files of an earlier one. ``--ckpt_path best|last`` and evaluation commands use the
latest version unless ``--version`` picks another.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from lightning_classics.runs.errors import UserError

VERSION_PREFIX = "version_"
CHECKPOINT_DIR = "checkpoints"
NAMED_CHECKPOINTS = {"best": "best.ckpt", "last": "last.ckpt"}
# Lightning's script launcher re-runs cli.py for the other local ranks of a DDP run; they must use the folder the
# first process chose instead of choosing (and creating) another one.
RUN_DIR_ENV = "LIGHTNING_CLASSICS_RUN_DIR"
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_reserved: list[Path] = []  # version folders this process created for a new fit


@dataclass(frozen=True)
class RunFolder:
    """A run's own folder: checkpoints in ``checkpoints/``, TensorBoard events and ``config.yaml`` beside them."""

    path: Path

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINT_DIR

    @property
    def version(self) -> int:
        return int(self.path.name.removeprefix(VERSION_PREFIX))

    def checkpoint(self, which: str) -> Path:
        return self.checkpoints / NAMED_CHECKPOINTS[which]


def check_run_name(run_name: str) -> None:
    if not _PLAIN_NAME.fullmatch(run_name) or run_name in (".", ".."):
        raise UserError(
            f"--run_name {run_name!r} is not a plain folder name: use letters, digits, '.', '_' and '-' "
            "(no '/', no leading '.'), so that the run stays inside --runs_dir"
        )


def versions(run_root: Path) -> list[int]:
    """The version numbers found in ``run_root``, ascending."""
    if not run_root.is_dir():
        return []
    found = []
    for child in run_root.iterdir():
        number = child.name.removeprefix(VERSION_PREFIX)
        if child.is_dir() and child.name.startswith(VERSION_PREFIX) and number.isdigit():
            found.append(int(number))
    return sorted(found)


def _version_path(run_root: Path, version: int) -> Path:
    return run_root / f"{VERSION_PREFIX}{version}"


def _writable_runs_dir(runs_dir: Path) -> None:
    if runs_dir.exists() and not runs_dir.is_dir():
        raise UserError(f"--runs_dir {runs_dir} is a file, not a folder: pass a folder for the runs")
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create --runs_dir {runs_dir} ({err.strerror}): pass a folder you can write") from err
    if not os.access(runs_dir, os.W_OK | os.X_OK):
        raise UserError(f"--runs_dir {runs_dir} is not writable: pass a folder you can write")


def new_run(runs_dir: Path, run_name: str) -> RunFolder:
    """Reserve the next free ``version_N`` by creating it (``mkdir`` fails if a concurrent run took it first)."""
    inherited = os.environ.get(RUN_DIR_ENV)
    if inherited and os.environ.get("LOCAL_RANK", "0") != "0":
        return RunFolder(Path(inherited))
    _writable_runs_dir(runs_dir)
    run_root = runs_dir / run_name
    if "RANK" in os.environ or "SLURM_PROCID" in os.environ:
        # torchrun/SLURM start every rank at once; none creates a folder before all have joined the process
        # group, so they all see the same versions here and agree without reserving.
        existing = versions(run_root)
        return RunFolder(_version_path(run_root, existing[-1] + 1 if existing else 0))
    run_root.mkdir(exist_ok=True)
    version = (versions(run_root) or [-1])[-1] + 1
    while True:
        try:
            _version_path(run_root, version).mkdir()
            break
        except FileExistsError:
            version += 1
    folder = RunFolder(_version_path(run_root, version))
    _reserved.append(folder.path)
    os.environ[RUN_DIR_ENV] = str(folder.path)
    return folder


def forget_reserved_runs() -> None:
    """The command finished: its folders are runs now, whatever they hold."""
    _reserved.clear()


def discard_unfinished_runs() -> list[Path]:
    """Remove the version folders this process created that hold no checkpoint (the command failed before its
    first one), so a failed command leaves nothing half-written; returns what was removed."""
    removed = []
    while _reserved:
        path = _reserved.pop()
        checkpoints = path / CHECKPOINT_DIR
        if path.is_dir() and not (checkpoints.is_dir() and any(checkpoints.glob("*.ckpt"))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # the run name's folder too, if this was its only version
    return removed


def existing_run(runs_dir: Path, run_name: str, version: int | None, purpose: str) -> RunFolder:
    """The run to continue or evaluate: ``version`` if given, else the latest; a one-line error if there is none."""
    run_root = runs_dir / run_name
    found = versions(run_root)
    if not found:
        others = sorted(p.name for p in runs_dir.iterdir() if p.is_dir()) if runs_dir.is_dir() else []
        hint = f"runs in {runs_dir}: {', '.join(others)}" if others else f"{runs_dir} holds no runs"
        raise UserError(
            f"nothing to {purpose}: no run '{run_name}' in {runs_dir} ({hint}); check --run_name/--runs_dir"
        )
    if version is None:
        return RunFolder(_version_path(run_root, found[-1]))
    if version not in found:
        raise UserError(f"--version {version} does not exist in {run_root}; versions there: {found}")
    return RunFolder(_version_path(run_root, version))


def run_of_checkpoint(path: Path) -> RunFolder | None:
    """The run folder a checkpoint file lives in (``.../version_N/checkpoints/x.ckpt``), if it is one."""
    folder = path.resolve().parent
    if folder.name == CHECKPOINT_DIR and folder.parent.name.startswith(VERSION_PREFIX):
        return RunFolder(folder.parent)
    return None
