"""legs.csv and the spread cost, worked by hand on one basket in a real journal: a EURUSD
leg (quote USD) and a USDJPY leg (quote JPY, valued in USD at 1/USDJPY), each filled at the
ask or bid of a known quote on the way in and on the way out."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from app.backtest.legs import (
    LEG_COLUMNS,
    booked_key,
    leg_frame,
    metric_baskets,
    with_cost_split,
)
from engine.metrics import ClosedBasket
from engine.records import (
    BasketClose,
    BasketOpen,
    Deal,
    OrderRequest,
    OrderResult,
    PlannedLeg,
    RunStart,
)
from storage.journal import SqliteJournal

T0 = datetime(2019, 2, 4, 14, 30, tzinfo=UTC)
T1 = T0 + timedelta(hours=3)
BASKET = "HAND-20190204T1430-001"
#: (symbol, deal type 0 buy / 1 sell, entry 0 in / 1 out, lots, bid, ask, profit, at)
FILLS = (
    ("EURUSD", 0, 0, 1.0, 1.10000, 1.10010, 0.0, T0),     # buy at the ask 1.10010
    ("USDJPY", 1, 0, 0.5, 110.00, 110.02, 0.0, T0),       # sell at the bid 110.00
    ("EURUSD", 1, 1, 1.0, 1.10100, 1.10110, 90.0, T1),    # sell at the bid 1.10100
    ("USDJPY", 0, 1, 0.5, 109.48, 109.50, 228.31, T1),    # buy at the ask 109.50
)
QUOTES = {
    (BASKET, "open"): {"USD": 1.0, "EUR": 1.10005, "JPY": 1 / 110.01},
    (BASKET, "close"): {"USD": 1.0, "EUR": 1.10105, "JPY": 1 / 109.49},
}
SPECS = {"EURUSD": (100_000.0, 5), "USDJPY": (100_000.0, 3)}


@pytest.fixture
def journal(tmp_path):
    with SqliteJournal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(RunStart("run-1", "backtest", T0, "cfg"))
        journal.open_basket(BasketOpen(BASKET, "run-1", "HAND", "LONG", T0, -1.4, 300.0, (
            PlannedLeg("EURUSD", "BUY", 1.0), PlannedLeg("USDJPY", "SELL", 0.5))))
        for n, (symbol, kind, entry, lots, bid, ask, profit, at) in enumerate(FILLS, start=1):
            price = ask if kind == 0 else bid
            side = "BUY" if kind == 0 else "SELL"
            journal.record_request(OrderRequest(
                f"run-1:{n}", BASKET, "ENTRY" if entry == 0 else "EXIT", symbol, side, lots,
                price, 20, 1, BASKET, 1, at))
            journal.record_result(OrderResult(
                f"run-1:{n}", at, 10009, 100 + n, 200 + n, lots, price,
                raw={"bid": bid, "ask": ask}))
            journal.record_deal(Deal(
                100 + n, 200 + n, 1 if symbol == "EURUSD" else 2, symbol, kind, entry, lots,
                price, -3.5 * lots, 0.0, profit, 0.0, at, 1, BASKET, BASKET))
        journal.close_basket(BasketClose(BASKET, T1, 0.1, "MR", 90.0 + 228.31 - 10.5, -10.5))
        yield journal


def test_spread_cost_of_a_hand_worked_basket(journal):
    # Arrange
    records = journal.basket_history()

    # Act
    legs = leg_frame(journal, records, QUOTES, SPECS)

    # Assert: half the spread at each fill x volume x contract x the quote's USD value
    eur = legs[legs["symbol"] == "EURUSD"].iloc[0]
    jpy = legs[legs["symbol"] == "USDJPY"].iloc[0]
    # EURUSD: in 0.00005 + out 0.00005, x 1 lot x 100,000 x 1 = 10.00
    assert eur["spread_cost"] == -10.0
    # USDJPY: in 0.01 x 50,000 / 110.01 = 4.5450; out 0.01 x 50,000 / 109.49 = 4.5666
    by_hand = 0.01 * 50_000 / 110.01 + 0.01 * 50_000 / 109.49
    assert by_hand == pytest.approx(9.1117, abs=1e-4)
    assert jpy["spread_cost"] == -round(by_hand, 2) == -9.11
    assert list(legs.columns) == list(LEG_COLUMNS)
    assert (eur["side"], eur["lots"], eur["open_price"], eur["open_mid"]) == (
        "BUY", 1.0, 1.1001, 1.10005)
    assert (jpy["side"], jpy["close_price"], jpy["close_mid"]) == ("SELL", 109.5, 109.49)
    assert jpy["open_quote_value"] == pytest.approx(1 / 110.01, rel=1e-9)
    assert (eur["pnl"], jpy["pnl"]) == (83.0, 224.81)  # profit + commission of both sides


def test_the_basket_gets_the_sums_of_its_legs(journal):
    # Arrange
    records = journal.basket_history()
    legs = leg_frame(journal, records, QUOTES, SPECS)
    trades = pd.DataFrame({"basket_id": [BASKET], "exit_time": [T1], "pnl": [307.81]})

    # Act
    split = with_cost_split(trades, legs)
    baskets = metric_baskets(records, split)

    # Assert
    row = split.iloc[0]
    assert (row["commission"], row["swap"], row["spread_cost"]) == (-10.5, 0.0, -19.11)
    assert row["total_costs"] == -29.61
    assert legs["pnl"].sum() == pytest.approx(row["pnl"], abs=0.005)
    assert isinstance(baskets[0], ClosedBasket)
    assert (baskets[0].commission, baskets[0].swap, baskets[0].spread_cost) == (
        -10.5, 0.0, -19.11)


def test_without_the_quote_values_the_spread_cost_is_unknown_not_zero(journal):
    legs = leg_frame(journal, journal.basket_history(), {}, SPECS)

    assert legs["spread_cost"].isna().all()
    assert legs["pnl"].notna().all()
    assert not math.isnan(legs["commission"].sum())


#: The values a gain and a loss of each currency were booked at when the basket closed:
#: JPY through USDJPY (109.48 / 109.50): a gain at 1 / ask, a loss at 1 / bid.
BOOKED = {
    (BASKET, "close_gain"): {"USD": 1.0, "EUR": 1.10100, "JPY": 1 / 109.50},
    (BASKET, "close_loss"): {"USD": 1.0, "EUR": 1.10110, "JPY": 1 / 109.48},
}


def test_each_leg_states_the_rate_its_profit_was_booked_at(journal):
    # Arrange
    records = journal.basket_history()

    # Act
    legs = leg_frame(journal, records, {**QUOTES, **BOOKED}, SPECS).set_index("symbol")

    # Assert: the sold USDJPY bought back lower gained 0.50 x 50,000 JPY, booked at 1 / ask
    eur, jpy = legs.loc["EURUSD"], legs.loc["USDJPY"]
    assert eur["close_profit_rate"] == 1.0
    assert jpy["close_profit_rate"] == pytest.approx(1 / 109.50, rel=1e-9)
    for leg in (eur, jpy):
        sign = 1 if leg["side"] == "BUY" else -1
        move = sign * (leg["close_price"] - leg["open_price"]) * leg["lots"] * \
            leg["contract_size"]
        assert round(move * leg["close_profit_rate"], 2) == leg["profit"]


def _leg_closed_early(tmp_path, quotes):
    """A USDJPY leg sold at 110.00 whose exit filled a minute before its basket closed
    (an exit retried leg by leg), bought back at 109.40: 0.60 x 50,000 JPY."""
    with SqliteJournal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(RunStart("run-1", "backtest", T0, "cfg"))
        journal.open_basket(BasketOpen(BASKET, "run-1", "HAND", "LONG", T0, -1.4, 300.0, (
            PlannedLeg("USDJPY", "SELL", 0.5),)))
        for n, (kind, entry, price, profit, at) in enumerate(
                ((1, 0, 110.00, 0.0, T0), (0, 1, 109.40, 274.22, EARLY)), start=1):
            journal.record_deal(Deal(100 + n, 200 + n, 1, "USDJPY", kind, entry, 0.5, price,
                                     0.0, 0.0, profit, 0.0, at, 1, BASKET, BASKET))
        journal.close_basket(BasketClose(BASKET, T1, 0.1, "MR", 274.22, 0.0))
        return leg_frame(journal, journal.basket_history(), quotes, SPECS).iloc[0]


EARLY = T1 - timedelta(minutes=1)


def test_a_leg_closed_at_another_moment_than_its_basket_states_its_own_moments_rate(
        tmp_path):
    # Arrange: the gain booked at 1 / ask a minute before the close (109.40), not at it
    own = {(BASKET, booked_key(True, EARLY)): {"USD": 1.0, "JPY": 1 / 109.40},
           (BASKET, booked_key(False, EARLY)): {"USD": 1.0, "JPY": 1 / 109.38}}

    # Act
    leg = _leg_closed_early(tmp_path, {**QUOTES, **BOOKED, **own})

    # Assert
    assert leg["close_profit_rate"] == pytest.approx(1 / 109.40, rel=1e-9)
    assert round(0.60 * 50_000 * leg["close_profit_rate"], 2) == leg["profit"] == 274.22


def test_a_leg_closed_at_a_moment_nobody_recorded_has_no_booked_rate(tmp_path):
    # Act: only the basket's closing quotes are known, and the leg's deal met others
    leg = _leg_closed_early(tmp_path, {**QUOTES, **BOOKED})

    # Assert
    assert math.isnan(leg["close_profit_rate"])
    assert leg["profit"] == 274.22
