"""The EXTERNAL leg in the journal (real SQLite): a convertible bond entered by hand, its
hedge marks and its close, written by the migration after the strategy kinds' and read back
after the file is closed and opened again (a restart)."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime

import pytest
from helpers.paths import TEST_DATA

from engine.hedging_bond import BondTerms, CreditInputs, ExternalBond, HedgeSettings, maturity_in
from engine.hedging_records import ExternalClose, ExternalJournal, ExternalMark
from storage.journal import SqliteJournal
from storage.journal_schema import JOURNAL_SCHEMA

OPENED = datetime(2020, 10, 15, 20, 0, tzinfo=UTC)


def a_bond(bond_id: str = "CB1-KO") -> ExternalBond:
    return ExternalBond(bond_id, "KO", 10.0, 1080.0, OPENED,
                        BondTerms(maturity_in(5.0, OPENED), face=1000.0, coupon=0.015,
                                  frequency=2, ratio=20.0),
                        CreditInputs(volatility=0.22, rate=0.01, dividend_yield=0.03,
                                     credit_spread=0.01),
                        HedgeSettings(band=0.04), 90_000_001, "replay-1", "test")


def a_mark(when: datetime, held: float) -> ExternalMark:
    return ExternalMark("CB1-KO", when, 46.0, 1097.5, 9.2, 0.38, -92.0, held,
                        (("edge", 175.0), ("gamma_trading", 1.5), ("rest", -0.5),
                         ("coupon", 0.0), ("bond_financing", -0.3), ("stock_financing", 0.0),
                         ("hedge_cost", -2.1), ("mid_hedge", 0.0)), "replay-1")


def test_a_bond_is_journaled_and_read_back_after_the_file_is_reopened(tmp_path):
    # Arrange
    path = tmp_path / "journal.sqlite"
    bond = a_bond()
    with SqliteJournal.open(path) as journal:
        # Act
        journal.open_external(bond)
        journal.record_external_mark(a_mark(OPENED, -92.0))
        later = datetime(2020, 10, 16, 20, 0, tzinfo=UTC)
        journal.record_external_mark(a_mark(later, -95.0))
        journal.record_external_mark(a_mark(later, -95.0))  # replayed: no second row
    with SqliteJournal.open(path) as reopened:
        [held] = reopened.open_externals()
        marks = reopened.external_marks("CB1-KO")
    # Assert
    assert isinstance(reopened, ExternalJournal)
    assert held.bond == bond  # every entered figure, the maturity date included
    assert held.close is None
    assert held.last_mark == a_mark(later, -95.0)
    assert [m.held for m in marks] == [-92.0, -95.0]
    assert held.last_mark.total == pytest.approx(175.0 + 1.5 - 0.5 + 0.0 - 0.3 - 2.1)


def test_a_closed_bond_leaves_the_open_list_and_keeps_its_close(tmp_path):
    path = tmp_path / "journal.sqlite"
    closed_at = datetime(2021, 3, 1, 21, 0, tzinfo=UTC)
    with SqliteJournal.open(path) as journal:
        journal.open_external(a_bond())
        journal.open_external(a_bond("CB2-KO"))
        journal.close_external(ExternalClose("CB1-KO", closed_at, 1150.0, 512.25,
                                             "closed by gui", "replay-2"))
    with SqliteJournal.open(path) as reopened:
        still = [r.bond.bond_id for r in reopened.open_externals()]
        [first] = reopened.external_history("CB1-KO")

    assert still == ["CB2-KO"]
    assert first.close == ExternalClose("CB1-KO", closed_at, 1150.0, 512.25, "closed by gui",
                                        "replay-2")


def test_closing_a_bond_never_entered_is_refused(tmp_path):
    with SqliteJournal.open(tmp_path / "journal.sqlite") as journal, \
            pytest.raises(ValueError, match="never entered"):
        journal.close_external(ExternalClose("NOPE", OPENED, 1000.0, 0.0))


def test_an_older_journal_gains_the_two_tables_at_the_latest_version(tmp_path):
    # Arrange: a version 3 file as an earlier release wrote it
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript((TEST_DATA / "journal" / "journal_v3.sql").read_text(encoding="utf-8"))
    conn.close()
    # Act
    with SqliteJournal.open(path) as journal:
        version = journal.schema_version
        counts = journal.table_counts()
        journal.open_external(a_bond())
        held = journal.open_externals()
    # Assert
    assert version == JOURNAL_SCHEMA.latest
    assert counts["external_positions"] == 0 and counts["external_marks"] == 0
    assert [r.bond.bond_id for r in held] == ["CB1-KO"]


def test_an_undefined_part_of_the_split_is_stored_as_null_and_read_as_nan(tmp_path):
    mark = ExternalMark("CB1-KO", OPENED, 46.0, math.nan, math.nan, math.nan, math.nan, 0.0,
                        (("edge", math.nan),))
    with SqliteJournal.open(tmp_path / "journal.sqlite") as journal:
        journal.open_external(a_bond())
        journal.record_external_mark(mark)
        [back] = journal.external_marks("CB1-KO")

    assert math.isnan(back.price) and math.isnan(dict(back.split)["edge"])
