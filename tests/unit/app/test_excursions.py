"""MAE and MFE of a basket, worked by hand: a EURUSD leg bought and a USDJPY leg sold (its
quote currency, JPY, valued in USD at 1/USDJPY), marked at three M1 closes by the engine's
own ``Basket.unrealised``."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from app.backtest.excursions import Excursions
from engine.baskets import Basket, Leg
from engine.fx import CurrencyConverter
from engine.model import Direction

SYMBOLS = ("EURUSD", "USDJPY")
T0_MS = 1_549_290_600_000  # 2019-02-04 14:30 UTC, an M1 close


def _basket() -> Basket:
    basket = Basket("HAND-20190204T1430-001", "HAND", Direction.LONG,
                    datetime(2019, 2, 4, 14, 30, tzinfo=UTC), entry_tdi=-1.6, risk_budget=500.0,
                    take_profit=750.0, entry_bar=0)
    basket.legs = [Leg("EURUSD", 1.0, 100_000.0, open_price=1.10010),   # bought at the ask
                   Leg("USDJPY", -0.5, 100_000.0, open_price=110.00)]   # sold at the bid
    return basket


def _engine(now_msc: int, bids: tuple[float, float], asks: tuple[float, float]) -> SimpleNamespace:
    basket = _basket()
    market = SimpleNamespace(index={s: i for i, s in enumerate(SYMBOLS)},
                             bid=np.array(bids), ask=np.array(asks))
    return SimpleNamespace(now_msc=now_msc, baskets={"HAND": basket}, market=market,
                           fx=CurrencyConverter(SYMBOLS, "USD"),
                           held=SimpleNamespace(marks=()))  # no minutes stepped over


#: Three M1 closes: (EURUSD bid, USDJPY bid), (EURUSD ask, USDJPY ask), and the mark by hand:
#: EURUSD 100,000 x (bid - 1.10010); USDJPY -50,000 x (ask - 110.00) / USDJPY mid.
MINUTES = (
    ((1.09960, 110.10), (1.09970, 110.12),
     100_000 * (1.09960 - 1.10010) - 50_000 * (110.12 - 110.00) / 110.11),    # -104.49
    ((1.10150, 109.80), (1.10160, 109.82),
     100_000 * (1.10150 - 1.10010) - 50_000 * (109.82 - 110.00) / 109.81),    # +221.96
    ((1.10050, 110.00), (1.10060, 110.02),
     100_000 * (1.10050 - 1.10010) - 50_000 * (110.02 - 110.00) / 110.01),    # +39.99
)


def test_mae_and_mfe_are_the_lowest_and_highest_mark_at_the_m1_closes():
    excursions = Excursions()

    for minute, (bids, asks, _) in enumerate(MINUTES):
        excursions.observe(_engine(T0_MS + (minute + 1) * 60_000, bids, asks))

    by_hand = [mark for _, _, mark in MINUTES]
    assert excursions.low["HAND-20190204T1430-001"] == pytest.approx(min(by_hand), abs=1e-9)
    assert excursions.high["HAND-20190204T1430-001"] == pytest.approx(max(by_hand), abs=1e-9)
    assert round(min(by_hand), 2) == -104.49 and round(max(by_hand), 2) == 221.96


def test_the_minutes_a_step_took_in_one_go_are_marked_too():
    # Arrange: a step that took minutes in one go (engine.held_minutes) whose marks went
    # as low as -250 and as high as +300, then an M1 close at the third minute's quotes
    engine = _engine(T0_MS + 10 * 60_000, *MINUTES[2][:2])
    engine.held = SimpleNamespace(marks=(("HAND-20190204T1430-001", -250.0, 300.0),))
    excursions = Excursions()

    # Act
    excursions.observe(engine)

    # Assert: the skipped minutes' extremes, the close's mark in between
    assert excursions.low["HAND-20190204T1430-001"] == -250.0
    assert excursions.high["HAND-20190204T1430-001"] == 300.0


def test_only_m1_closes_are_marked():
    excursions = Excursions()

    excursions.observe(_engine(T0_MS + 30_000, *MINUTES[1][:2]))

    assert excursions.low == {} and excursions.high == {}


def test_the_columns_hold_the_exit_and_the_fills_and_leave_costs_out():
    excursions = Excursions()
    for minute, (bids, asks, _) in enumerate(MINUTES):
        excursions.observe(_engine(T0_MS + (minute + 1) * 60_000, bids, asks))
    excursions.mark("ALWAYS-UP", 12.0)
    trades = pd.DataFrame({
        "basket_id": ["HAND-20190204T1430-001", "ALWAYS-UP", "EXIT-BEYOND", "STILL-OPEN"],
        # price P&L at the exit: 30.00, 15.00, -250.00 and (open) none
        "pnl": [23.0, 8.0, -257.0, np.nan], "costs": [-7.0, -7.0, -7.0, np.nan]})
    excursions.mark("EXIT-BEYOND", -100.0)
    excursions.mark("STILL-OPEN", -3.0)

    out = excursions.columns(trades)

    assert out["mae"].tolist() == [-104.49, 0.0, -250.0, -3.0]
    assert out["mfe"].tolist() == [221.96, 15.0, 0.0, 0.0]
