"""Argument types and options shared by every command, so a flag means one thing everywhere.

Dates: one parser (``utc_time``) reads every date on the command line.  A day
(``2019-12-06``) stands for the whole UTC day; a date-time (``2019-12-06T13:00``, with or
without an offset, naive meaning UTC) for that instant.  ``--from`` is the first day of a
period and ``--to`` its last day, included whole.

Two ways to reject a bad value exist and both are kept: options read by ``period`` and
``parse_date`` fail when the command runs (``UserError``: main.py prints one line and
returns 2), the argparse types (``start_of``, ``end_of``) fail while the line is parsed
(argparse's own one-line error and exit status 2).
"""

from __future__ import annotations

import argparse
import math
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from engine.errors import UserError

DAY = pd.Timedelta(days=1)
_ONE_MS = pd.Timedelta(milliseconds=1)
_FORMS = "YYYY-MM-DD or YYYY-MM-DDTHH:MM, UTC"
_HELP_FORMS = "UTC: YYYY-MM-DD, or YYYY-MM-DDTHH:MM for an instant"


# -- dates -------------------------------------------------------------------------------


def utc_time(text: str) -> tuple[pd.Timestamp, bool]:
    """An ISO 8601 day or date-time as a UTC timestamp, and whether it was a whole day.

    Raises ``ValueError`` for anything else (``06/12/2019`` is not guessed at).
    """
    value = text.strip()
    try:
        return pd.Timestamp(date.fromisoformat(value), tz="UTC"), True
    except ValueError:
        pass
    stamp = pd.Timestamp(datetime.fromisoformat(value))
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")), False


def parse_date(text: str, flag: str) -> pd.Timestamp:
    """The first instant of a day (or the date-time itself): where a period starts."""
    return _parsed(text, flag)[0]


def parse_last_day(text: str, flag: str) -> pd.Timestamp:
    """The exclusive end of a period whose last day (included whole) or instant is ``text``."""
    when, whole_day = _parsed(text, flag)
    return when + DAY if whole_day else when


def _parsed(text: str, flag: str) -> tuple[pd.Timestamp, bool]:
    try:
        return utc_time(text)
    except (ValueError, TypeError):
        raise UserError(f"{flag}: not a date: {text!r} (use YYYY-MM-DD)") from None


def start_of(text: str) -> datetime:
    """argparse type: the first instant of a day, or the date-time itself (UTC)."""
    return _argument(text)[0].to_pydatetime()


def end_of(text: str) -> datetime:
    """argparse type: a day means the whole day, up to its last millisecond (inclusive)."""
    when, whole_day = _argument(text)
    return (when + DAY - _ONE_MS if whole_day else when).to_pydatetime()


def _argument(text: str) -> tuple[pd.Timestamp, bool]:
    try:
        return utc_time(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"bad date {text!r} (expected {_FORMS})") from None


def add_period_options(starts: argparse._ActionsContainer,
                       ends: argparse._ActionsContainer | None = None, *,
                       first: str = "first day", last: str = "last day") -> None:
    """``--from DATE`` and ``--to DATE`` (inclusive), read back by ``period``.

    ``starts``/``ends`` may be mutually exclusive groups, so a command can offer other
    ways to say where a run ends (``run --days``)."""
    starts.add_argument("--from", dest="date_from", metavar="DATE",
                        help=f"{first} ({_HELP_FORMS})")
    (ends if ends is not None else starts).add_argument(
        "--to", dest="date_to", metavar="DATE", help=f"{last}, included whole ({_HELP_FORMS})")


def period(args: argparse.Namespace) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``[start, end)`` from ``--from``/``--to``; either may be open (None)."""
    start = parse_date(args.date_from, "--from") if args.date_from else None
    end = parse_last_day(args.date_to, "--to") if args.date_to else None
    if start is not None and end is not None and start >= end:
        raise UserError(f"--from {args.date_from} is after --to {args.date_to}")
    return start, end


def span(text: str, flag: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``FROM:TO`` (TO included whole) as ``[start, end)``."""
    if ":" not in text:
        raise UserError(f"{flag}: expected FROM:TO, got {text!r}")
    a, b = text.split(":", 1)
    start, end = parse_date(a, flag), parse_last_day(b, flag)
    if start >= end:
        raise UserError(f"{flag}: {a} is after {b}")
    return start, end


def to_msc(when: datetime | None) -> int | None:
    return int(when.timestamp() * 1000) if when is not None else None


# -- speed -------------------------------------------------------------------------------


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


def add_speed_option(parser: argparse.ArgumentParser, *, note: str = "") -> None:
    parser.add_argument("--speed", default="max",
                        help=f"virtual seconds per second, or 'max' (default: max{note})")


# -- engine configuration, clusters, journal ---------------------------------------------


def add_config_option(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--config", type=Path, help="engine configuration (TOML)")


def add_clusters_option(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--clusters", metavar="A,B",
                        help="comma-separated cluster names (default: all that fit)")


def cluster_names(text: str | None) -> list[str] | None:
    """The names in ``--clusters A,B``; None when the option is absent."""
    if not text:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def add_journal_option(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--journal", type=Path, default=None, metavar="PATH",
        help="journal file (default: the demo account's journal in the data directory)")


# -- where the market data comes from ----------------------------------------------------

STORE_HELP = "market-data store directory"


def add_store_option(parser: argparse._ActionsContainer, *,
                     default_help: str | None = None) -> None:
    """``--store DIR``; ``default_help`` says where the command looks without it."""
    parser.add_argument("--store", type=Path, default=None, metavar="DIR",
                        help=STORE_HELP + (f" (default: {default_help})" if default_help else ""))


def add_data_source_options(parser: argparse.ArgumentParser) -> None:
    """Exactly one of ``--data FILES``, ``--store DIR``, ``--market synthetic``."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", nargs="+", type=Path, metavar="DIR_OR_FILE",
                     help="HistData M1 files or directories, MT5 exports, Dukascopy ticks")
    add_store_option(src)
    src.add_argument("--market", choices=["synthetic"], help="the built-in synthetic market")
    parser.add_argument("--seed", type=int, default=0, help="synthetic market seed (default 0)")
    parser.add_argument("--no-latency", action="store_true",
                        help="synthetic market without its disalignment effect (a no-edge "
                        "control)")
