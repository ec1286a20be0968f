"""Reading a run's training curves from its TensorBoard event files.

A run folder (``runs/<run_name>/version_N/``) holds one event file per command that logged into it: the ``fit``
that trained it, each ``fit --ckpt_path last`` that resumed it, and each ``validate``/``test`` that evaluated a
checkpoint of it. Evaluation commands log at their own step 0 (a classifier's ``test`` adds ``epoch = 0`` there),
so the files are read one by one and only the training commands' files make the curves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

Series = tuple[np.ndarray, np.ndarray]  # (steps, values)
EVENT_FILES = "events.out.tfevents.*"


class NoLogsError(FileNotFoundError):
    """The folder holds no TensorBoard event files, or none written by training."""


def read_event_file(path: Path) -> dict[str, Series]:
    """Every scalar tag of one event file, as (steps, values) arrays in the order they were written."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    # 0: keep every point. No purging: a step that goes back is another command's, handled by training_scalars.
    accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0}, purge_orphaned_data=False)
    accumulator.Reload()
    scalars = {}
    for tag in accumulator.Tags()["scalars"]:
        events = accumulator.Scalars(tag)
        scalars[tag] = (np.array([e.step for e in events]), np.array([e.value for e in events]))
    return scalars


def written_order(path: Path) -> tuple[int, int, str]:
    """Event files are named ``events.out.tfevents.<unix time>.<host>.<pid>.<counter>``: time, then counter."""
    parts = path.name.split(".")
    seconds = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else 0
    counter = int(parts[-1]) if parts[-1].isdigit() else 0
    return seconds, counter, path.name


def is_training_log(scalars: dict[str, Series]) -> bool:
    """Training logs ``train/...`` scalars; ``validate`` and ``test`` log only ``val/``, ``test/`` and ``epoch``."""
    return any(tag.startswith("train/") for tag in scalars)


def training_scalars(folder: Path) -> dict[str, Series]:
    """The folder's training curves: its training commands' event files in the order they were written, where a
    resumed run's points replace the ones logged after its checkpoint (as TensorBoard shows a restarted run)."""
    merged: dict[str, Series] = {}
    for path in sorted(folder.glob(EVENT_FILES), key=written_order):
        scalars = read_event_file(path)
        if not is_training_log(scalars):
            continue
        for tag, (steps, values) in scalars.items():
            if tag in merged and len(steps):
                old_steps, old_values = merged[tag]
                kept = old_steps < steps[0]
                steps, values = np.concatenate([old_steps[kept], steps]), np.concatenate([old_values[kept], values])
            merged[tag] = steps, values
    return merged


def training_log_folders(path: Path) -> list[Path]:
    """Folders under ``path`` (itself included) with training logs, the latest trained first (by its newest
    training event file: a later ``test`` of an older version does not make that version the newest)."""
    folders = {event.parent for event in path.rglob(EVENT_FILES)}
    if not folders:
        raise NoLogsError(f"no TensorBoard logs under {path}: pass a run folder such as runs/mnist_cnn")
    trained = {}
    for folder in folders:
        training_files = [p for p in folder.glob(EVENT_FILES) if is_training_log(read_event_file(p))]
        if training_files:
            trained[folder] = max(p.stat().st_mtime for p in training_files)
    if not trained:
        raise NoLogsError(f"no training curves under {path}: its logs come from validate/test/predict only")
    return sorted(trained, key=lambda folder: trained[folder], reverse=True)


def run_title(folder: Path) -> str:
    """``mnist_cnn/version_0`` for a run's version folder (whichever folder the user passed), else its name."""
    return f"{folder.parent.name}/{folder.name}" if folder.name.startswith("version_") else folder.name
