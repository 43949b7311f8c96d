"""``main.py journal summary|export|backup``: look into, export and back up a trade journal.

These commands never create a journal: pointing ``--journal`` at a missing or foreign file
is a one-line error.  They do upgrade an older journal's schema in place (the same
transactional migrations the console runs when it opens the file).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.args import add_journal_option, path_argument
from app.cli.output import money
from engine.errors import UserError
from storage.journal_schema import JOURNAL_TABLES
from storage.paths import default_journal_path

if TYPE_CHECKING:
    from storage.journal import JournalSummary, SqliteJournal


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "journal",
        help="summarise, export or back up the trade journal",
        description="Inspect the SQLite trade journal of an account.",
    )
    commands = parser.add_subparsers(dest="journal_command", metavar="ACTION", required=True)

    summary = commands.add_parser("summary", help="tables, runs, open baskets, P&L per cluster")
    add_journal_option(summary)
    summary.set_defaults(func=run_summary)

    export = commands.add_parser("export", help="write one CSV file per table")
    add_journal_option(export)
    export.add_argument("--out", required=True, type=path_argument, metavar="DIR",
                        help="output folder")
    export.add_argument(
        "--table",
        action="append",
        choices=JOURNAL_TABLES,
        metavar="TABLE",
        help=f"export only this table (repeatable; one of: {', '.join(JOURNAL_TABLES)})",
    )
    export.add_argument("--force", action="store_true", help="replace existing CSV files")
    export.set_defaults(func=run_export)

    backup = commands.add_parser("backup", help="consistent copy via the SQLite backup API")
    add_journal_option(backup)
    backup.add_argument("--out", required=True, type=path_argument, metavar="FILE",
                        help="backup file")
    backup.add_argument("--force", action="store_true", help="replace an existing backup file")
    backup.set_defaults(func=run_backup)


def _journal_path(args: argparse.Namespace) -> Path:
    return args.journal if args.journal is not None else default_journal_path()


def run_summary(args: argparse.Namespace) -> int:
    from storage.journal import SqliteJournal

    with SqliteJournal.open(_journal_path(args), create=False) as journal:
        print(format_summary(journal.summary()))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Every CSV is written into a staging folder inside ``--out`` and moved into place only
    once all of them are complete: a failed export leaves nothing behind."""
    from storage.journal import SqliteJournal

    out: Path = args.out
    tables = list(dict.fromkeys(args.table or JOURNAL_TABLES))
    _check_export_folder(out)
    targets = {table: out / f"{table}.csv" for table in tables}
    _check_export_targets(list(targets.values()), overwrite=args.force)
    with SqliteJournal.open(_journal_path(args), create=False) as journal:
        counts = _export_staged(journal, out, tables, targets)
    for table, rows in counts.items():
        print(f"{targets[table]}: {rows} rows")
    return 0


def _check_export_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"--out: {out} is a file; journal export writes one CSV per table "
                        "into a folder (give a folder)")
    _check_parents(out)


def _check_parents(path: Path) -> None:
    """Refuse a path whose nearest existing parent is a file: nothing could be made there."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"--out: {parent} is a file, so {path} cannot be created")
            return


def _check_export_targets(targets: list[Path], *, overwrite: bool) -> None:
    for target in targets:
        if target.is_dir():
            raise UserError(f"--out: {target} is a folder, not a file that can be replaced")
        if target.exists() and not overwrite:
            raise UserError(f"{target}: already exists (use --force to replace it)")


def _export_staged(journal: SqliteJournal, out: Path, tables: list[str],
                   targets: dict[str, Path]) -> dict[str, int]:
    created = not out.exists()
    staging: Path | None = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".journal-export-", dir=out))
        counts = journal.export_csv(staging, tables, overwrite=True)
        for table in counts:
            os.replace(staging / f"{table}.csv", targets[table])
        return counts
    except OSError as exc:
        raise UserError(f"--out: cannot write into {out}: {exc.strerror or exc}") from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a folder made for a failed export goes with it


def run_backup(args: argparse.Namespace) -> int:
    from storage.journal import SqliteJournal

    out: Path = args.out
    if out.is_dir():
        raise UserError(f"--out: {out} is a folder; give the backup's file name")
    _check_parents(out)
    with SqliteJournal.open(_journal_path(args), create=False) as journal:
        try:
            target = journal.backup(out, overwrite=args.force)
        except OSError as exc:
            raise UserError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    print(f"backup written to {target} (integrity ok)")
    return 0


def format_summary(summary: JournalSummary) -> str:
    from engine.metrics.baskets import FEW_BASKETS

    lines = [
        f"journal   {summary.path}",
        f"schema    version {summary.schema_version}, integrity {summary.integrity}",
    ]
    if summary.account is not None:
        lines.append(f"account   {summary.account.describe()}")
    if summary.last_run is not None:
        run = summary.last_run
        ended = "no end recorded (running or crashed)"
        if run.get("end_reason") == "interrupted":
            ended = (f"interrupted; last known equity {money(run.get('last_equity') or math.nan)}"
                     f" at {run['ended_at']}")
        elif run["ended_at"]:
            ended = f"ended {run['ended_at']}"
        lines.append(
            f"last run  {run['run_id']} ({run['mode']}) started {run['started_at']}, {ended}"
        )
    left = (f" ({summary.left_open} of them opened over a simulator that is gone)"
            if summary.left_open else "")
    runs = summary.table_rows.get("runs", 0)
    over = f"all {runs} runs in this journal" if runs != 1 else "its one run"
    lines.append(
        f"baskets   {summary.open_baskets} open{left}, {summary.closed_baskets} closed, "
        f"net P&L {money(summary.net_pnl)} ({over} together)"
    )
    if summary.last_equity is not None:
        eq = summary.last_equity
        lines.append(
            f"equity    {money(eq.equity)} (balance {money(eq.balance)}) at "
            f"{eq.time.isoformat()}, the last run's last mark"
        )
    if summary.clusters:
        lines.append(f"clusters  name        baskets  win%     net P&L      costs  exits   "
                     f"({over}; closed baskets, P&L net of costs)")
        for stats in summary.clusters:
            exits = " ".join(f"{code}:{n}" for code, n in sorted(stats.exit_codes.items()))
            few = "*" if stats.baskets < FEW_BASKETS else " "
            lines.append(
                f"          {stats.cluster:<10} {stats.baskets:>8} {stats.win_rate:>5.0%}{few}"
                f"{money(stats.pnl):>11} {money(stats.costs):>10}  {exits}"
            )
        if any(stats.baskets < FEW_BASKETS for stats in summary.clusters):
            lines.append(f"          * from fewer than {FEW_BASKETS} closed baskets: too few "
                         "to judge a win% by")
    rows = ", ".join(f"{table} {n}" for table, n in summary.table_rows.items())
    lines.append(f"rows      {rows}")
    return "\n".join(lines)
