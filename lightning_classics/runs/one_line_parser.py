"""An ``argparse`` parser whose errors are one line (``error: ...`` from lightning_classics.runs.command_line), not a usage
block: for the small commands (``rl.play``, ``lightning_classics.inference.export``) that do not go through LightningCLI."""

from __future__ import annotations

import argparse
from typing import NoReturn

from lightning_classics.runs.errors import UserError


class OneLineArgumentParser(argparse.ArgumentParser):
    """Raises ``UserError`` for a missing, unknown or malformed option instead of printing the usage and exiting 2."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**{**kwargs, "allow_abbrev": False})

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see --help)")
