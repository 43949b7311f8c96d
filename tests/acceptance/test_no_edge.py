"""No edge, no profit: the guard against look-ahead and optimistic costs.

A year of the synthetic market with the differential latency switched off is a market with
nothing to exploit: every symbol is the exact ratio of its currencies' values.  An engine
that profits there is cheating (a look-ahead, a cost left out).  With the latency on, the
same engine and config must be profitable: the effect it trades is there.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from helpers.engine_setup import DAY_MS, SYMBOLS, config

from app.sessions import demo_session
from engine.loop import run_sync
from engine.metrics import sharpe_ratio

START = datetime(2024, 1, 8, tzinfo=UTC)


def year_of_trading(tmp_path, latency: bool) -> tuple[float, float, int]:
    # the shipped price space and overshoot level (the helper config pins the older ones)
    s = demo_session(config(space="currency", overshoot="E"), seed=0, start=START,
                     symbols=SYMBOLS, latency=latency,
                     journal_path=tmp_path / f"journal-{latency}.sqlite")
    e = s.engine
    e.start()
    marks: dict[pd.Timestamp, float] = {}

    def mark(engine) -> None:  # equity at each UTC midnight (an M30 boundary: always stepped)
        if engine.now_msc % DAY_MS == 0:
            marks[pd.Timestamp(engine.now_msc, unit="ms", tz="UTC")] = \
                float(engine.terminal.account_info().equity)

    run_sync(e, e.now_msc + 365 * DAY_MS, on_step=mark)
    e.stop("end of year")
    s.close()
    equity = pd.Series(marks)
    weekdays = equity[equity.index.day_of_week.isin([1, 2, 3, 4, 5])]  # ends of Mon..Fri
    returns = weekdays.pct_change().dropna()
    return float(equity.iloc[-1]), sharpe_ratio(returns, periods_per_year=252), \
        e.stats.baskets_opened


@pytest.mark.slow
def test_no_disalignment_no_profit_and_with_it_a_profit(tmp_path):
    # Act: the same engine, config and seed on both markets
    flat_final, flat_sharpe, flat_baskets = year_of_trading(tmp_path, latency=False)
    edge_final, edge_sharpe, edge_baskets = year_of_trading(tmp_path, latency=True)
    # Assert: no significant profit without the effect ...
    assert flat_baskets > 50  # it traded all year: the absence of profit is not inactivity
    assert flat_sharpe < 0.5
    assert flat_final < 100_000
    # ... and a profit with it.
    assert edge_baskets > 50
    assert edge_final > 100_000
    assert edge_sharpe > 0.5
