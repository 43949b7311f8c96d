"""legs.csv for a stock CFD leg, worked by hand: its price currency is the broker's
(``symbol_info().currency_profit``: USD for KO), not two letters of a name that has none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.backtest.legs import leg_frame
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

T0 = datetime(2021, 3, 16, 15, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
BASKET = "PAIR-20210316T1500-001"
#: (deal type 0 buy / 1 sell, entry 0 in / 1 out, bid, ask, commission, swap, profit, at)
FILLS = ((0, 0, 50.00, 50.01, -2.0, 0.0, 0.0, T0),      # buy 100 at the ask 50.01
         (1, 1, 51.00, 51.01, -2.0, -0.63, 99.0, T1))   # sell 100 at the bid 51.00
QUOTES = {(BASKET, "open"): {"USD": 1.0, "KO": 50.005},
          (BASKET, "close"): {"USD": 1.0, "KO": 51.005}}


@pytest.fixture
def journal(tmp_path):
    with SqliteJournal.open(tmp_path / "journal.sqlite") as journal:
        journal.start_run(RunStart("run-1", "backtest", T0, "cfg"))
        journal.open_basket(BasketOpen(BASKET, "run-1", "PAIR", "LONG", T0, -2.1, 300.0,
                                       (PlannedLeg("KO", "BUY", 100.0),)))
        for n, (kind, entry, bid, ask, commission, swap, profit, at) in enumerate(FILLS, 1):
            price = ask if kind == 0 else bid
            side = "BUY" if kind == 0 else "SELL"
            journal.record_request(OrderRequest(
                f"run-1:{n}", BASKET, "ENTRY" if entry == 0 else "EXIT", "KO", side, 100.0,
                price, 20, 1, BASKET, 1, at))
            journal.record_result(OrderResult(f"run-1:{n}", at, 10009, 100 + n, 200 + n, 100.0,
                                              price, raw={"bid": bid, "ask": ask}))
            journal.record_deal(Deal(100 + n, 200 + n, 1, "KO", kind, entry, 100.0, price,
                                     commission, swap, profit, 0.0, at, 1, BASKET, BASKET))
        journal.close_basket(BasketClose(BASKET, T1, 0.1, "MR", 94.37, -4.63))
        yield journal


def test_a_stock_legs_spread_cost_is_valued_in_its_price_currency(journal):
    legs = leg_frame(journal, journal.basket_history(), QUOTES, {"KO": (1.0, 2, "USD")})

    leg = legs.iloc[0]
    # half the spread in and out: 100 x (50.01 - 50.005) + 100 x (51.005 - 51.00)
    assert leg["spread_cost"] == -1.0
    assert (leg["open_quote_value"], leg["close_quote_value"]) == (1.0, 1.0)
    assert (leg["commission"], leg["swap"], leg["pnl"]) == (-4.0, -0.63, 94.37)
