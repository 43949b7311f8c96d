"""The report's two failures: inputs it cannot draw honestly, and a file it cannot write."""

from __future__ import annotations

from engine.errors import DataError, UserError


class ReportInputError(DataError):
    """Results the report cannot be drawn from as given; the message names the input and key."""


class ReportWriteError(UserError):
    """The report file could not be written (a missing drive, no permission, a full disk)."""
