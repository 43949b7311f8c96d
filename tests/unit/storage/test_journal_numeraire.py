"""Schema version 4: each basket's space, numeraire and net numeraire exposure after rounding
are journaled and read back; a version-3 journal upgrades in place with them unknown."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from helpers.paths import TEST_DATA

from engine.model import Direction, OrderSide
from engine.records import BasketOpen, NumeraireBalance, PlannedLeg
from storage.journal import SqliteJournal
from storage.journal_schema import JOURNAL_SCHEMA

V3_SQL = TEST_DATA / "journal" / "journal_v3.sql"
T0 = datetime(2019, 10, 30, 14, 0, tzinfo=UTC)


def make_v3_journal(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(V3_SQL.read_text(encoding="utf-8"))
    conn.close()
    return path


def test_v3_fixture_is_a_version_3_journal(tmp_path):
    path = make_v3_journal(tmp_path / "old.sqlite")

    conn = sqlite3.connect(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()

    assert version == 3


def test_v3_file_upgrades_keeping_every_row_with_the_balance_unknown(tmp_path):
    # Arrange
    path = make_v3_journal(tmp_path / "old.sqlite")

    # Act
    with SqliteJournal.open(path, create=False) as journal:
        version = journal.schema_version
        counts = journal.table_counts()
        [closed] = journal.basket_history()
        opened = [b.basket.opening for b in journal.open_baskets()]

    # Assert
    assert version == JOURNAL_SCHEMA.latest
    assert counts["baskets"] == 3 and counts["legs"] == 3 and counts["deals"] == 2
    assert closed.closing.pnl == 52.5
    for opening in (closed.opening, *opened):
        assert (opening.balance.space, opening.balance.numeraire) == ("", "")
        assert math.isnan(opening.balance.net) and math.isnan(opening.balance.share)


def test_upgraded_v3_file_has_exactly_the_fresh_schema(tmp_path):
    upgraded = make_v3_journal(tmp_path / "old.sqlite")
    SqliteJournal.open(upgraded).close()
    fresh = tmp_path / "fresh.sqlite"
    SqliteJournal.open(fresh).close()

    def layout(path: Path) -> list[tuple]:
        conn = sqlite3.connect(path)
        rows = [(t, *r[1:]) for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for r in conn.execute(f"PRAGMA table_info({t})")]
        conn.close()
        return rows

    assert layout(upgraded) == layout(fresh)


def test_the_numeraire_balance_round_trips(tmp_path):
    # Arrange: a USD basket 2.5% of gross long the dollar after rounding
    legs = (PlannedLeg("EURUSD", OrderSide.BUY, 0.3, 33_450.0),
            PlannedLeg("USDCHF", OrderSide.BUY, 0.35, 35_000.0))
    balance = NumeraireBalance("currency", "USD", 1_550.0, 68_450.0)
    opening = BasketOpen("MAJ-20191030T1400-001", "run-1", "MAJ", Direction.LONG, T0, -1.3,
                         300.0, legs, 710001, balance)

    # Act
    with SqliteJournal.open(tmp_path / "j.sqlite") as journal:
        journal.open_basket(opening)
        back = journal.basket("MAJ-20191030T1400-001")

    # Assert
    assert back is not None
    assert back.opening == opening
    assert back.opening.balance.share == 1_550.0 / 68_450.0
    assert [leg.exposure for leg in back.opening.legs] == [33_450.0, 35_000.0]
