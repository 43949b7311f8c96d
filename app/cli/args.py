"""Argument types and options shared by every command, so a flag means one thing everywhere.

Dates: one parser (``utc_time``) reads every date on the command line.  A day
(``2019-12-06``) stands for the whole UTC day; a date-time (``2019-12-06T13:00``, with or
without an offset, naive meaning UTC) for that instant.  ``--from`` is the first day of a
period and ``--to`` its last day, included whole.  Nothing else is guessed at: not
``01/02/2019`` (the 1st of February or the 2nd of January, depending on the country), not
the other spellings ISO 8601 allows, and no date before 1970 (where every clock of the
product starts) or after ``LAST_YEAR``.

Two ways to reject a bad value exist and both are kept: options read by ``period`` and
``parse_date`` fail when the command runs (``UserError``: main.py prints one line and
returns 2), the argparse types (``start_of``, ``end_of``) fail while the line is parsed
(argparse's own one-line error and exit status 2).

Building a parser imports nothing heavy (``app.cli.choices``): pandas loads when a date is
first read, which is when a command runs.
"""

from __future__ import annotations

import argparse
import math
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from engine.config import EngineConfig

DAY = timedelta(days=1)
_ONE_MS = timedelta(milliseconds=1)
_HELP_FORMS = "UTC: YYYY-MM-DD, or YYYY-MM-DDTHH:MM for an instant"


# -- dates -------------------------------------------------------------------------------

#: The forms a date may take: a day, or a day and a time (minutes, optional seconds and
#: fraction) with an optional ``Z`` or ``+HH:MM`` offset.  ISO 8601's other spellings
#: (``20191206``, week dates, ordinal days) are not guessed at, nor are ``06/12/2019`` and
#: ``06.12.2019``, whose day and month order differs between countries.
_DATE_FORM = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?")
#: The first instant a date may name: the Unix epoch, where every clock of the product
#: (MT5 times, journal times, Parquet partitions) starts.
FIRST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
#: The last year a date may name: pandas' nanosecond timestamps end in April 2262.
LAST_YEAR = 2261


class DateOutOfRange(ValueError):
    """A well-formed date the product's clocks cannot hold."""


def utc_time(text: str) -> tuple[pd.Timestamp, bool]:
    """An ISO 8601 day or date-time as a UTC timestamp, and whether it was a whole day.

    Raises ``ValueError`` whose message says what is wrong: not one of the accepted forms
    (``06/12/2019`` is not guessed at), not a real day, or outside 1970 .. ``LAST_YEAR``.
    """
    value = text.strip()
    if not _DATE_FORM.fullmatch(value):
        ambiguous = re.fullmatch(r"\d{1,4}[/.]\d{1,2}[/.]\d{1,4}.*", value)
        raise ValueError("day and month order is ambiguous; use YYYY-MM-DD" if ambiguous
                         else "not in the form YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    whole_day = len(value) == 10
    try:
        parsed = date.fromisoformat(value) if whole_day else datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    if parsed.year > LAST_YEAR:
        raise DateOutOfRange(f"after {LAST_YEAR}, the last year the product's timestamps hold")
    import pandas as pd

    stamp = pd.Timestamp(parsed)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if stamp < FIRST_INSTANT:
        raise DateOutOfRange("before 1970-01-01 UTC, where the product's clocks start")
    return stamp, whole_day


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
    except DateOutOfRange as exc:
        raise UserError(f"{flag}: {text.strip()} is {exc}") from None
    except (ValueError, TypeError) as exc:
        raise UserError(f"{flag}: not a date: {text!r} ({exc})") from None


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
    except DateOutOfRange as exc:
        raise argparse.ArgumentTypeError(f"{text.strip()} is {exc}") from None
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(f"bad date {text!r}: {exc}") from None


def add_replay_calendar_option(p: argparse.ArgumentParser) -> None:
    """``--calendar`` of a replay: the news filter's events, as ``backtest`` takes them."""
    p.add_argument("--calendar", type=Path, help="economic calendar file(s) for the news "
                   "filter (an imported calendar database or files to import, as backtest "
                   "takes them); default: none, and the run says the filter is off")


def replay_calendar(args: argparse.Namespace, start: Any, end: Any) -> Any:
    """The replay's calendar (``--calendar``) over its period, or None."""
    if getattr(args, "calendar", None) is None:
        return None
    from app.backtest import calendar_snapshot

    return calendar_snapshot(args.calendar, start, end)


#: The note of a replay without a calendar: what a backtest of the same data does too.
NO_REPLAY_CALENDAR = ("no economic calendar given: the news filter is off (--calendar FILE, "
                      "as backtest takes it)")


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
        raise UserError(f"--from {args.date_from} is not before --to {args.date_to}")
    return start, end


def span(text: str, flag: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``FROM:TO`` (TO included whole) as ``[start, end)``.

    The colon that separates them is the one before TO's year, so either end may be an
    instant with a time (``2024-01-08T10:00:2024-01-09``)."""
    parts = re.fullmatch(r"(.+?):(\s*\d{4}-.*)", text) or re.fullmatch(r"([^:]*):(.*)", text)
    if parts is None:
        raise UserError(f"{flag}: expected FROM:TO, got {text!r}")
    a, b = parts.groups()
    start, end = parse_date(a, flag), parse_last_day(b, flag)
    if start >= end:
        raise UserError(f"{flag}: {a} is not before {b}")
    return start, end


def to_msc(when: datetime | None) -> int | None:
    return int(when.timestamp() * 1000) if when is not None else None


# -- paths ------------------------------------------------------------------------------


def path_argument(text: str) -> Path:
    """argparse type of every path option: an empty value is refused.

    ``Path("")`` is ``Path(".")``, so ``--report ""`` (an unset shell variable) would write
    a report into the working folder over the user's own files."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no file or folder")
    return Path(text)


path_argument.__name__ = "path"  # argparse names a rejected value's type by it


# -- speed and length of a run ----------------------------------------------------------

#: The slowest pace: ten times slower than real time, so a virtual minute lasts ten.  A
#: slower run shows nothing happening for minutes on end, and near zero the pacing
#: arithmetic overflows (``--speed 1e-300`` made the first wait longer than the clock holds).
MIN_SPEED = 0.1
#: The fastest finite pace: a virtual day in under a tenth of a second.  The engine steps a
#: demo day in about a second on a 2-core machine (all clusters), so anything faster is
#: "max" in effect; a larger number is more likely a typo than a wish, and ``max`` says it.
MAX_SPEED = 1_000_000.0
#: The longest run ``--days`` may ask for: a century, more than any data or demo covers
#: and far inside what the clock converts (``--days 1e9`` ended in year 2.7 million and
#: crashed the first date conversion).
MAX_DAYS = 36_500.0
#: The shortest: one minute, the engine's step (``--days 0`` used to mean a whole day).
MIN_DAYS = 1 / 1440


def parse_speed(text: str) -> float:
    """Virtual seconds per wall second, ``MIN_SPEED`` .. ``MAX_SPEED``, or ``max`` (inf)."""
    if text.strip().lower() == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"--speed: expected a number or 'max', got {text!r}") from None
    if not MIN_SPEED <= value <= MAX_SPEED:
        raise UserError(f"--speed: {text} is outside {MIN_SPEED:g} .. {MAX_SPEED:,.0f} "
                        "(virtual seconds per second; 'max' runs as fast as the machine goes)")
    return value


def parse_days(value: float | None) -> float | None:
    """``--days``: a finite length between a minute and a century (None: not given)."""
    if value is None:
        return None
    if not MIN_DAYS <= value <= MAX_DAYS:  # NaN fails both comparisons
        raise UserError(f"--days: {value:g} is not a length of run: give a number of days from "
                        f"{MIN_DAYS:.4f} (one minute) to {MAX_DAYS:,.0f}")
    return value


def add_speed_option(parser: argparse.ArgumentParser, *, note: str = "") -> None:
    parser.add_argument("--speed", default="max",
                        help=f"virtual seconds per second, or 'max' (default: max{note})")


# -- engine configuration, clusters, journal ---------------------------------------------


def add_config_option(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--config", type=path_argument, help="engine configuration (TOML)")


def add_clusters_option(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--clusters", metavar="A,B",
                        help="comma-separated cluster names (default: all that fit)")


def cluster_names(text: str | None) -> list[str] | None:
    """The names in ``--clusters A,B`` (spaces around the commas allowed); None when the
    option is absent.  Raises ``UserError`` when the option names no cluster at all."""
    if text is None:
        return None
    names = list(dict.fromkeys(name.strip() for name in text.split(",") if name.strip()))
    if not names:
        raise UserError(f"--clusters: no cluster name in {text!r} (give names like A,B)")
    return names


def chosen_clusters(config: EngineConfig, text: str | None) -> EngineConfig:
    """``config`` restricted to ``--clusters``; an unknown name is refused with the list of
    the names the configuration knows."""
    names = cluster_names(text)
    if names is None:
        return config
    known = [c.name for c in config.clusters]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UserError(f"--clusters: unknown cluster(s): {', '.join(unknown)} "
                        f"(known: {', '.join(known)})")
    return config.with_clusters(names)


def add_journal_option(parser: argparse._ActionsContainer) -> None:
    parser.add_argument(
        "--journal", type=path_argument, default=None, metavar="PATH",
        help="journal file (default: the account's own in the data directory: the demo's, "
        "a replay's, the live account's)")


# -- where the market data comes from ----------------------------------------------------

STORE_HELP = "market-data store directory"


def add_store_option(parser: argparse._ActionsContainer, *,
                     default_help: str | None = None) -> None:
    """``--store DIR``; ``default_help`` says where the command looks without it."""
    parser.add_argument("--store", type=path_argument, default=None, metavar="DIR",
                        help=STORE_HELP + (f" (default: {default_help})" if default_help else ""))


def add_data_source_options(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    """Exactly one of ``--data FILES``, ``--store DIR``, ``--market synthetic`` (at most one
    when not ``required``: ``sweep list|show`` share the parser and need none)."""
    src = parser.add_mutually_exclusive_group(required=required)
    src.add_argument("--data", nargs="+", type=path_argument, metavar="DIR_OR_FILE",
                     help="HistData M1 files or directories, MT5 exports, Dukascopy ticks "
                     "(the files of a symbol are consecutive periods: two that overlap are "
                     "refused)")
    add_store_option(src)
    src.add_argument("--market", choices=["synthetic"], help="the built-in synthetic market")
    parser.add_argument("--seed", type=int, default=0, help="synthetic market seed (default 0)")
    parser.add_argument("--no-latency", action="store_true",
                        help="synthetic market without its disalignment effect (a no-edge "
                        "control)")
