"""Lightning's TQDM progress bar, drawn on stderr.

Lightning draws its bars on stdout. Progress is a diagnostic, like warnings and logs: on stdout it fills
``cli.py predict ... > out.txt`` with bars, while the results (cli.py's ``show_result``) belong there alone.
Lightning's documented way to change a bar is to override its ``init_*_tqdm`` methods; these build the same bars
as Lightning 2.6's, with ``file=sys.stderr``.
"""

from __future__ import annotations

import sys
from typing import Any

from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm


class StderrProgressBar(TQDMProgressBar):
    """``TQDMProgressBar`` whose bars go to stderr."""

    def _bar(self, desc: str, position: int, leave: bool, **kwargs: Any) -> Tqdm:
        return Tqdm(
            desc=desc,
            position=position,
            disable=self.is_disabled,
            leave=leave,
            dynamic_ncols=True,
            file=sys.stderr,
            bar_format=self.BAR_FORMAT,
            **kwargs,
        )

    def init_sanity_tqdm(self) -> Tqdm:
        return self._bar(self.sanity_check_description, 2 * self.process_position, leave=False)

    def init_train_tqdm(self) -> Tqdm:
        return self._bar(self.train_description, 2 * self.process_position, leave=True, smoothing=0)

    def init_predict_tqdm(self) -> Tqdm:
        return self._bar(self.predict_description, 2 * self.process_position, leave=True, smoothing=0)

    def init_validation_tqdm(self) -> Tqdm:
        has_main_bar = self.trainer.state.fn != "validate"  # during fit, validation's bar sits under the training's
        return self._bar(self.validation_description, 2 * self.process_position + has_main_bar, leave=not has_main_bar)

    def init_test_tqdm(self) -> Tqdm:
        return self._bar(self.test_description, 2 * self.process_position, leave=True)
