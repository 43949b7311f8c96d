"""A leg whose exit filled at another moment than its basket's still states the rate its
profit was booked at (``legs.csv``'s ``close_profit_rate``), recorded from the engine's own
``LegClosed`` event, so that its profit recomputes from its own row."""

from __future__ import annotations

from helpers.engine_setup import first_basket, session, step_until

from app.backtest.legs import leg_frame, record_quote_values, symbol_specs
from engine import commands as cmd
from mt5bridge.sim import FaultConfig


def test_legs_closed_before_a_retried_one_keep_their_own_booked_rate(tmp_path):
    # Arrange: a basket open; then half the orders rejected (seed 13: the last leg's exit,
    # USDCHF's, fails and is retried at the next minute closes)
    s = session(tmp_path)
    quotes = record_quote_values(s)
    engine = s.engine
    cluster = first_basket(engine)
    s.sim.sim_set_faults(FaultConfig(seed=13, reject=0.5))

    # Act: close by hand; the broker accepts again; the retry fills
    done, _ = engine.execute(cmd.CloseBasket(cluster=cluster))
    s.sim.sim_set_faults(FaultConfig())
    assert not done and step_until(engine, lambda e: cluster not in e.baskets, max_days=1)
    journal = engine.journal
    records = journal.basket_history()
    legs = leg_frame(journal, records, quotes, symbol_specs(s.terminal, engine.market.symbols))

    # Assert: legs closed at two moments, every one with its rate and its profit from it
    closed_at = records[0].closing.closed_at
    early = legs[legs["close_time"] < closed_at]
    assert len(early) == 3 and set(legs["symbol"]) - set(early["symbol"]) == {"USDCHF"}
    assert legs["close_profit_rate"].notna().all()
    sign = legs["side"].map({"BUY": 1, "SELL": -1})
    move = sign * (legs["close_price"] - legs["open_price"]) * legs["lots"] \
        * legs["contract_size"]
    assert ((move * legs["close_profit_rate"]).round(2) - legs["profit"]).abs().max() < 0.005
