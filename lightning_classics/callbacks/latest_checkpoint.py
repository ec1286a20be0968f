"""``last.ckpt`` rewritten at the end of every epoch."""

from __future__ import annotations

from lightning_classics.callbacks.run_checkpoints import RunFolderCheckpoint


class LatestCheckpoint(RunFolderCheckpoint):
    """Keeps ``last.ckpt`` at the end of the latest epoch, whether or not that epoch was the best.

    (``ModelCheckpoint(save_last=True)`` only rewrites ``last.ckpt`` when a top-k checkpoint was
    saved in the same epoch, so ``--ckpt_path last`` could resume from an older epoch.)
    """

    def __init__(self, dirpath: str | None = None) -> None:
        super().__init__(
            dirpath=dirpath,
            filename=self.CHECKPOINT_NAME_LAST,
            monitor=None,
            save_top_k=1,
            enable_version_counter=False,  # replace last.ckpt, also when a mid-epoch write made it
        )
