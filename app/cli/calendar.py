"""``main.py calendar list|coverage`` and the ``import calendar FILES...`` subcommand.

``import`` belongs to the market-data commands; they add this module's sub-subcommand with
``register_import_calendar(import_subparsers)``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.args import end_of, path_argument, start_of
from engine.calendar import EconomicEvent
from engine.errors import UserError
from engine.model import Impact

if TYPE_CHECKING:
    from storage.calendar import Calendar


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calendar",
        help="list economic-calendar events and coverage",
        description="Query the imported economic calendar (times in UTC).",
    )
    actions = parser.add_subparsers(dest="calendar_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="events in a date range")
    listing.add_argument(
        "--from",
        dest="start",
        required=True,
        type=start_of,
        metavar="WHEN",
        help="first day or instant, UTC (2019-12-06 or 2019-12-06T13:00)",
    )
    listing.add_argument(
        "--to",
        dest="end",
        required=True,
        type=end_of,
        metavar="WHEN",
        help="last day (included whole) or instant, UTC",
    )
    listing.add_argument(
        "--currency",
        action="append",
        metavar="CCY",
        help="only events for this currency (repeatable or comma-separated); "
        "events for ALL currencies are always shown",
    )
    listing.add_argument(
        "--impact",
        type=parse_impact,
        default=Impact.NONE,
        metavar="LEVEL",
        help="lowest impact shown: NONE, HOLIDAY, LOW, MEDIUM or HIGH (default NONE)",
    )
    _add_calendar_option(listing)
    listing.set_defaults(func=run_list)

    coverage = actions.add_parser("coverage", help="the UTC stretches imported files cover")
    _add_calendar_option(coverage)
    coverage.set_defaults(func=run_coverage)


def register_import_calendar(import_subparsers: argparse._SubParsersAction) -> None:
    """Add ``calendar FILES... [--calendar PATH] [--strict]`` under the ``import`` command."""
    parser = import_subparsers.add_parser(
        "calendar",
        help="import ForexFactory XML/CSV, MT5 calendar exports or UTC calendar CSVs",
        description="Import economic-calendar files; the format is detected from content. "
        "Importing a file again updates its events instead of adding them.",
    )
    parser.add_argument("files", nargs="+", type=path_argument, metavar="FILE")
    _add_calendar_option(parser)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first bad row instead of skipping it",
    )
    parser.set_defaults(func=run_import)


def _add_calendar_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--calendar",
        type=path_argument,
        default=None,
        metavar="PATH",
        help="calendar database (default: calendar.sqlite in the data directory)",
    )


def parse_impact(text: str) -> Impact:
    try:
        return Impact.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _currencies(values: Sequence[str] | None) -> list[str] | None:
    if not values:
        return None
    codes = [c.strip().upper() for v in values for c in v.split(",") if c.strip()]
    bad = [c for c in codes if len(c) != 3 or not c.isalpha()]
    if bad:
        raise UserError(f"--currency: bad currency code {bad[0]!r} (expected e.g. USD)")
    return codes


def _open_existing(path: Path | None) -> Calendar:
    from storage.calendar import Calendar, default_calendar_path

    resolved = path if path is not None else default_calendar_path()
    if not resolved.exists():
        raise UserError(
            f"{resolved}: no economic calendar yet; import one with "
            "'main.py import calendar FILES...'"
        )
    return Calendar.open(resolved, create=False)


def format_event(event: EconomicEvent) -> str:
    values = "  ".join(
        f"{name} {value}"
        for name, value in (
            ("actual", event.actual),
            ("forecast", event.forecast),
            ("previous", event.previous),
        )
        if value
    )
    line = (
        f"{event.time:%Y-%m-%d %H:%M}  {event.currency:<3}  {event.impact.value:<7}  "
        f"{event.title}"
    )
    return f"{line}  [{values}]" if values else line


def uncovered(
    start: datetime, end: datetime, stretches: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """Parts of ``[start, end]`` no imported file covers."""
    gaps: list[tuple[datetime, datetime]] = []
    cursor = start
    for s, e in stretches:
        if e <= cursor or s > end:
            continue
        if s > cursor:
            gaps.append((cursor, s))
        cursor = max(cursor, e)
    if cursor <= end:
        gaps.append((cursor, end))
    return gaps


def run_list(args: argparse.Namespace) -> int:
    if args.end < args.start:
        raise UserError("--to is before --from")
    currencies = _currencies(args.currency)
    with _open_existing(args.calendar) as calendar:
        events = calendar.events_between(args.start, args.end, currencies, args.impact)
        gaps = uncovered(args.start, args.end, calendar.covered_stretches())
    for event in events:
        print(format_event(event))
    print(f"{len(events)} events")
    for gap_start, gap_end in gaps:
        print(f"not covered by any imported file: {gap_start:%Y-%m-%d %H:%M} .. "
              f"{gap_end:%Y-%m-%d %H:%M} UTC")
    return 0


def run_coverage(args: argparse.Namespace) -> int:
    with _open_existing(args.calendar) as calendar:
        stretches = calendar.covered_stretches()
        total = calendar.event_count()
    for start, end in stretches:
        print(f"{start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC")
    print(f"{len(stretches)} covered stretches, {total} events")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from app.cli.destinations import check_destination
    from storage.calendar import import_calendar_files

    if args.calendar is not None:
        check_destination(args.calendar, "--calendar", folder=False)
    summary = import_calendar_files(args.files, args.calendar, strict=args.strict)
    for line in summary.report_lines():
        print(line)
    return 0
