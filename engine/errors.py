"""Errors that carry a message meant for the trader, not a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input the user can fix: a missing file, a malformed row, a broken config.

    The CLI and the GUI show ``str(error)`` as one line and never a traceback, so the message
    must name what is wrong and where (file, line, key).
    """


class DataError(UserError):
    """Market data that cannot be used as given (NaN or non-positive prices, bad order)."""


class ConfigError(UserError):
    """A configuration file that cannot be read; the message names the file, key and reason."""

    def __init__(self, path: object, key: str, reason: str) -> None:
        self.path = str(path)
        self.key = key
        self.reason = reason
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {reason}")
