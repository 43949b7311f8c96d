"""Argument types shared by every command: one date parser, one speed parser."""

from __future__ import annotations

import math

import pandas as pd

from engine.errors import UserError


def parse_date(text: str, flag: str) -> pd.Timestamp:
    """A UTC date or date-time from the command line (ISO 8601)."""
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise UserError(f"{flag}: not a date: {text!r} (use YYYY-MM-DD)") from None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def parse_speed(text: str) -> float:
    if text.lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"--speed: expected a number or 'max', got {text!r}") from None
    if not value > 0:
        raise UserError("--speed must be positive")
    return value
