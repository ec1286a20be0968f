"""SIGTERM before Lightning's own handler is in place: a clean stop instead of the OS killing the process.

Lightning installs its SIGTERM handler late in ``trainer.fit`` (after the loggers wrote their first files); until
then SIGTERM's default action ends the process at once, leaving a half-made run folder and no message. This
handler turns it into Lightning's ``SIGTERMException``, which the command line reports in one line after removing
the unfinished folder. Lightning keeps an existing handler and calls it after its own: this one then does nothing,
so a SIGTERM during training still ends at a batch end with a checkpoint (lightning_classics/runs/interrupts.py).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from lightning.pytorch.utilities.exceptions import SIGTERMException


def _stop_unless_lightning_handles(signum: int, frame: FrameType | None) -> None:
    if signal.getsignal(signal.SIGTERM) is _stop_unless_lightning_handles:  # not called by Lightning's handler
        raise SIGTERMException


@contextlib.contextmanager
def sigterm_stops_cleanly() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``SIGTERMException`` where Lightning does not handle it; a handler
    someone else installed is left alone, as is any thread but the main one (only it may set handlers)."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) not in (
        signal.SIG_DFL,
        None,
    ):
        yield
        return
    signal.signal(signal.SIGTERM, _stop_unless_lightning_handles)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
