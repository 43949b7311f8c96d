"""The engine hedging an EXTERNAL convertible bond with the stock CFD, on real daily closes.

The market is the console's replay of the KO column of ``tests/data/equity_daily`` (real
adjusted closes, 2019-10 .. 2022; the replay trades from 2020-10-15, after the KO/PEP pair
cluster's warm-up); the bond is invented (10 bonds, 5 years, 1.5 % coupon, ratio 20).
Each day's close is one check: its order fills at that close.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from helpers.paths import TEST_DATA

from app.console import open_console
from engine import commands as cmd
from engine.config import load_engine_config
from engine.hedging_pnl import PNL_PARTS
from engine.loop import run_sync
from storage.journal import SqliteJournal

KO = TEST_DATA / "equity_daily" / "sp500_KO_PEP_RRC_adjclose_2019-10_2022.csv.gz"
DAY_MS = 86_400_000
CONFIG = """
[[cluster]]
name = "KO_PEP"
kind = "pair"
symbols = ["KO", "PEP"]
magic = 730001
timeframe = "D1"

[cluster.pair]
hedge_window = 250
z_window = 60
test_every = 5
half_life_max = 120

[risk]
max_lots_per_leg = 5000
"""
#: The invented bond: a band of 2 % of the 200 conversion shares (4 shares).
BOND = {"symbol": "KO", "bonds": 10, "entry_price": 1080.0, "maturity_years": 5.0,
        "ratio": 20.0, "coupon": 0.015, "volatility": 0.22, "rate": 0.01,
        "dividend_yield": 0.03, "credit_spread": 0.01, "band": 0.02}


def console(tmp_path: Path, journal: str = "journal.sqlite"):
    config_path = tmp_path / "ko.toml"
    config_path.write_text(CONFIG)
    run = open_console(load_engine_config(config_path), replay=[KO], speed=math.inf,
                       journal=tmp_path / journal)
    engine = run.session.engine
    engine.start()
    return run.session, engine


def days(engine, n: float) -> None:
    run_sync(engine, engine.now_msc + int(n * DAY_MS))


def restarted_views(tmp_path: Path):
    """The bonds' views of a console started again on the same journal (then closed)."""
    session, engine = console(tmp_path)
    views = engine.hedging.views()
    engine.stop("test")
    session.close()
    return views


def hedge_fills(path: Path) -> list[tuple[date, str, float]]:
    reader = SqliteJournal.open_reader(path)
    try:
        rows = reader._rows("SELECT sent_at, side, filled_volume FROM orders WHERE "
                            "purpose = 'HEDGE' AND retcode = 10009 ORDER BY sent_at")
    finally:
        reader.close()
    return [(date.fromisoformat(r["sent_at"][:10]), r["side"], r["filled_volume"])
            for r in rows]


def test_inside_the_band_nothing_is_traded_outside_it_the_difference(tmp_path):
    # Arrange
    session, engine = console(tmp_path)
    engine.submit(cmd.OpenExternalBond(**BOND, source="test"))
    # Act
    days(engine, 60)
    [view] = engine.hedging.views()
    fills = hedge_fills(tmp_path / "journal.sqlite")
    engine.stop("test")
    session.close()
    # Assert: every check, from the hedge before it to the hedge after it
    band = 0.02 * 10 * 20
    before = 0.0
    for point in view.history[1:]:  # the entry's check found the market closed (00:00 UTC)
        gap = point.target - before
        expected = before if abs(gap) <= band else before + math.floor(abs(gap) + 0.5) * \
            math.copysign(1.0, gap)
        assert point.held == expected, point
        before = point.held
    assert fills[:7] == [
        (date(2020, 10, 15), "SELL", 93.0), (date(2020, 10, 28), "BUY", 7.0),
        (date(2020, 11, 3), "SELL", 5.0), (date(2020, 11, 9), "SELL", 11.0),
        (date(2020, 11, 10), "SELL", 4.0), (date(2020, 11, 18), "BUY", 4.0),
        (date(2020, 12, 4), "SELL", 5.0)]
    assert view.held == -107.0 and view.band == pytest.approx(band)


def test_the_split_sums_to_the_total_which_recomputes_from_the_terminal(tmp_path):
    # Arrange
    session, engine = console(tmp_path)
    engine.submit(cmd.OpenExternalBond(**BOND, source="test"))
    # Act: across the coupon of April 2021 (every half year back from maturity), then a
    # check now (the nights' swaps since the last close are in the terminal's figures)
    days(engine, 200)
    engine.submit(cmd.SetHedge(bond_id="CB1-KO", band=0.02, source="test"))
    run_sync(engine, engine.now_msc + 60_000)
    [view] = engine.hedging.views()
    terminal = engine.terminal
    magic = view.magic
    positions = [p for p in terminal.positions_get(symbol="KO") or () if p.magic == magic]
    tickets = {d.position_id for d in terminal.history_deals_get(
        position=positions[0].ticket)} if positions else set()
    reader = SqliteJournal.open_reader(tmp_path / "journal.sqlite")
    deals = reader._rows("SELECT position_id, entry, profit, swap, commission, fee FROM deals "
                         "WHERE magic = ?", (magic,))
    reader.close()
    engine.stop("test")
    session.close()
    # Assert
    split = dict(view.split)
    assert list(split) == list(PNL_PARTS)
    assert sum(split.values()) == pytest.approx(view.total, abs=1e-9)
    assert tickets
    hedge = sum(d["profit"] + d["swap"] + d["commission"] + d["fee"] for d in deals) + \
        sum(p.profit + p.swap for p in positions)
    swap = sum(d["swap"] for d in deals) + sum(p.swap for p in positions)
    assert split["stock_financing"] == pytest.approx(swap, abs=1e-9)
    coupon_cash = 10 * 1000.0 * 0.015 / 2  # one coupon date passed
    independent = 10 * (view.price - 1080.0) + coupon_cash + hedge + split["bond_financing"]
    assert view.total == pytest.approx(independent, abs=1e-6)
    assert split["bond_financing"] < 0 and split["gamma_trading"] > 0


def test_an_account_halt_freezes_the_hedge_and_close_only_only_reduces_it(tmp_path):
    # Arrange: hedged at the first close
    session, engine = console(tmp_path)
    engine.submit(cmd.OpenExternalBond(**BOND, source="test"))
    days(engine, 2)
    # Act
    engine.submit(cmd.HaltCluster(cluster="*", source="test"))
    days(engine, 60)
    halted = hedge_fills(tmp_path / "journal.sqlite")
    engine.submit(cmd.PauseCluster(cluster="*", source="test"))
    start = len(engine.hedging.views()[0].history)
    days(engine, 120)
    [view] = engine.hedging.views()
    reader = SqliteJournal.open_reader(tmp_path / "journal.sqlite")
    refusals = {r.reason for r in reader.recent_refusals(cluster=view.bond_id)}
    reader.close()
    engine.stop("test")
    session.close()
    # Assert
    assert halted == [(date(2020, 10, 15), "SELL", 93.0)]
    assert {"ACCOUNT_HALTED", "CLOSE_ONLY"} <= refusals
    held = [p.held for p in view.history[start - 1:]]
    assert all(abs(b) <= abs(a) for a, b in pairwise(held))
    assert sorted(set(held)) == [-93.0, -89.0]  # one buy back; every sale refused


def test_a_paused_hedger_sends_nothing_and_resumes_to_the_target(tmp_path):
    session, engine = console(tmp_path)
    engine.submit(cmd.OpenExternalBond(**BOND, source="test"))
    days(engine, 2)
    bond_id = engine.hedging.views()[0].bond_id
    engine.submit(cmd.SetHedge(bond_id=bond_id, paused=True, source="test"))
    days(engine, 60)
    paused = engine.hedging.views()[0]
    engine.submit(cmd.SetHedge(bond_id=bond_id, paused=False, source="test"))
    days(engine, 1)
    resumed = engine.hedging.views()[0]
    engine.stop("test")
    session.close()

    assert paused.paused and paused.held == -93.0 and paused.outside_band
    assert not resumed.paused and not resumed.outside_band


def test_the_bond_is_read_back_at_restart_and_its_split_resumes(tmp_path):
    # Arrange: a first session holds the bond for a month
    session, engine = console(tmp_path)
    engine.submit(cmd.OpenExternalBond(**BOND, source="test"))
    days(engine, 30)
    engine.submit(cmd.SetHedge(bond_id="CB1-KO", market_price=1100.0, source="test"))
    run_sync(engine, engine.now_msc + 60_000)
    [before] = engine.hedging.views()
    reader = SqliteJournal.open_reader(tmp_path / "journal.sqlite")
    [record] = reader.open_externals()
    reader.close()
    engine.stop("test")
    session.close()
    # Act: the console again on the same journal
    [restored] = restarted_views(tmp_path)
    # Assert
    assert restored.bond_id == record.bond.bond_id == "CB1-KO"
    assert (restored.bonds, restored.entry_price, restored.ratio) == (10.0, 1080.0, 20.0)
    assert restored.maturity == record.bond.terms.maturity
    last = dict(record.last_mark.split)
    assert dict(restored.split) == {name: last[name] for name in PNL_PARTS}
    assert dict(restored.split) == dict(before.split)
    # the market price entered and what it implied then, not re-solved at a later spot
    assert (restored.market_price, restored.implied_at) == (1100.0, before.implied_at)
    assert restored.implied_vol == before.implied_vol and math.isfinite(before.implied_vol)


def test_closing_the_bond_closes_its_hedge_and_journals_the_close(tmp_path):
    session, engine = console(tmp_path)
    engine.submit(cmd.OpenExternalBond(**BOND, source="test"))
    days(engine, 20)
    before = engine.hedging.views()[0]
    # the next close: the hedge's market is open when the stock quotes
    engine.submit(cmd.CloseExternalBond(bond_id=before.bond_id, price=1120.0, source="test"))
    days(engine, 1)
    left = [p for p in engine.terminal.positions_get(symbol="KO") or ()
            if p.magic == before.magic]
    reader = SqliteJournal.open_reader(tmp_path / "journal.sqlite")
    [record] = reader.external_history()
    [done] = [c for c in reader.commands() if c.command == "CloseExternalBond"]
    reader.close()
    engine.stop("test")
    session.close()

    assert engine.hedging.views() == ()
    assert record.close is not None and record.close.close_price == 1120.0
    assert done.result.startswith("ok: CB1-KO closed at 1,120.00")
    assert math.isfinite(record.close.pnl)
    assert left == []  # closed at the stock's next quote if its market was shut


def test_the_exposure_table_counts_the_bond_so_a_hedged_book_is_flat_in_the_stock(tmp_path):
    session, engine = console(tmp_path)
    engine.submit(cmd.OpenExternalBond(**BOND, source="test"))
    days(engine, 10)
    snap = engine.snapshot(refresh=True)
    engine.stop("test")
    session.close()

    [view] = snap.externals
    ko = {row.currency: row.net for row in snap.exposures}.get("KO", 0.0)
    pair = sum((p.volume if p.side == "BUY" else -p.volume) * view.spot
               for p in snap.positions if p.magic == 730001 and p.symbol == "KO")
    bond_and_hedge = (10 * view.delta + view.held) * view.spot
    assert ko - pair == pytest.approx(bond_and_hedge, rel=1e-9, abs=1e-6)
    assert abs(bond_and_hedge) <= 4.0 * view.spot


def test_a_callable_bond_is_hedged_on_its_callable_delta_and_keeps_its_dates(tmp_path):
    # Arrange: the bond with an issuer's call in two years and a holder's put in three
    from engine.hedging_pricing import value_at

    session, engine = console(tmp_path)
    engine.submit(cmd.OpenExternalBond(**BOND, calls=((2.0, 1050.0),), puts=((3.0, 950.0),),
                                       source="test"))
    days(engine, 10)
    [view] = engine.hedging.views()
    [held] = engine.hedging._held.values()
    engine.stop("test")
    session.close()
    # Act: the console again on the same journal
    [restored] = restarted_views(tmp_path)
    # Assert: the check's delta is the callable bond's, and the dates survive a restart
    assert view.delta == value_at(held.bond, view.spot, view.time).delta
    assert [price for _, price in view.calls] == [1050.0]
    assert [price for _, price in view.puts] == [950.0]
    assert view.calls[0][0] == held.bond.opened_at + timedelta(days=2 * 365)
    assert (restored.calls, restored.puts) == (view.calls, view.puts)
    plain = replace(held.bond, terms=replace(held.bond.terms, calls=(), puts=()))
    assert view.delta != value_at(plain, view.spot, view.time).delta
