"""Errors a user can fix: shown as one line (``error: ...``) instead of a traceback."""

from __future__ import annotations


class UserError(ValueError):
    """Bad input (an option, a file, a folder): the message says what was wrong and how to fix it."""
