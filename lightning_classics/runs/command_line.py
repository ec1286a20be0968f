"""How a command ends: results, or one line that says what was wrong (a traceback only with ``--debug``)."""

from __future__ import annotations

import os
import sys
from argparse import ArgumentError
from collections.abc import Callable
from typing import TypeVar

from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch.utilities.exceptions import SIGTERMException

from lightning_classics.runs.atomic_io import CheckpointWriteInterrupted
from lightning_classics.runs.errors import UserError
from lightning_classics.runs.folders import discard_unfinished_runs, forget_reserved_runs
from lightning_classics.runs.interrupts import TrainingInterrupted
from lightning_classics.runs.parse_errors import one_line_parse_error
from lightning_classics.runs.run_lock import release_run_locks
from lightning_classics.runs.startup_sigterm import sigterm_stops_cleanly

DEBUG_FLAG = "--debug"
DEBUG_ENV = "LIGHTNING_CLASSICS_DEBUG"
T = TypeVar("T")


def one_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


def release_process_group() -> None:
    """Ends a finished DDP run's process group (Lightning leaves it open): gloo's threads still alive when the
    interpreter exits abort the process ("terminate called without an active exception", exit status -6)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def run_command(command: Callable[[list[str] | None], T], args: list[str] | None = None) -> T:
    """Run ``command(args)``; turn every failure into ``error: <one line>`` and a non-zero exit.

    ``--debug`` (anywhere in ``args``) or ``LIGHTNING_CLASSICS_DEBUG=1`` shows the full traceback instead.
    """
    given = sys.argv[1:] if args is None else args
    debug = DEBUG_FLAG in given or os.environ.get(DEBUG_ENV, "") not in ("", "0")
    if debug:
        os.environ[DEBUG_ENV] = "1"  # also for the processes a DDP launcher starts with the same command line
    if args is None:
        # LightningCLI reads sys.argv itself (and warns when given both); the DDP launcher re-runs sys.argv.
        sys.argv = [a for a in sys.argv if a != DEBUG_FLAG]
    try:
        with sigterm_stops_cleanly():
            result = command(None if args is None else [a for a in args if a != DEBUG_FLAG])
        forget_reserved_runs()
        release_process_group()
        return result
    except TrainingInterrupted as stop:
        code = 130 if stop.signal_name == "SIGINT" else 143  # 128 + the signal's number, as shells report it
        print(
            f"Stopped by {stop.signal_name}. Resumable checkpoint: {stop.checkpoint}\n"
            f"Run folder: {stop.checkpoint.parent.parent}\n"
            "Continue with the same command plus: --ckpt_path last",
            file=sys.stderr,
        )
        raise SystemExit(code) from None
    except CheckpointWriteInterrupted as stop:  # a second Ctrl-C while a checkpoint was written
        discard_unfinished_runs()
        print(f"Stopped by SIGINT: {stop}", file=sys.stderr)
        raise SystemExit(130) from None
    except ArgumentError as err:
        discard_unfinished_runs()
        if debug:
            raise
        raise SystemExit(f"error: {one_line_parse_error(str(err), [])}") from err
    except SIGTERMException:  # a fit with a last.ckpt raises TrainingInterrupted instead (cli.CLI.fit)
        removed = "".join(f" Removed the unfinished run folder {path}." for path in discard_unfinished_runs())
        print(f"Stopped by SIGTERM; no resumable checkpoint was written.{removed}", file=sys.stderr)
        raise SystemExit(143) from None
    except UserError as err:
        discard_unfinished_runs()
        if debug:
            raise
        raise SystemExit(f"error: {one_line(err)}") from err
    except Exception as error:
        discard_unfinished_runs()
        if debug:
            raise
        cause = _root_cause(error)
        if isinstance(cause, UserError):
            raise SystemExit(f"error: {one_line(cause)}") from error
        known = isinstance(cause, ValueError | OSError | MisconfigurationException)
        kind = "" if known else f"{type(cause).__name__}: "
        hint = f" (add {DEBUG_FLAG} for the traceback)"
        raise SystemExit(f"error: {kind}{one_line(cause)}{_fix_for(cause)}{hint}") from error
    finally:
        release_run_locks()


def _root_cause(err: BaseException) -> BaseException:
    """jsonargparse wraps an error raised while building a class in "Does not validate against any of the Union
    subtypes"; the error the class raised says what was wrong."""
    while "Does not validate against any of the Union subtypes" in str(err) and err.__cause__ is not None:
        err = err.__cause__
    return err


def _fix_for(err: BaseException) -> str:
    """How to fix the errors whose own message does not say."""
    text = str(err).lower()
    if isinstance(err, MisconfigurationException) and ("gpu" in text or "cuda" in text or "mps" in text):
        return "; this machine has no such device: pass --trainer.accelerator auto (or cpu)"
    return ""
