"""nautilus_trader: every symbol's M1 bars through a BacktestEngine and a strategy that
subscribes to them and does nothing.

Run by the nautilus venv's python (``bench/bench_peers.py`` does it):
``python nautilus_nothing.py --from 2019-04-01 --to 2019-07-01 DAT_ASCII_*_M1_2019.csv.gz``.

- One simulated venue ``SIM`` (hedging, margin account, 1,000,000 USD, the venue's defaults
  otherwise: bars drive its matching engine), one ``CurrencyPair`` per file from
  ``TestInstrumentProvider.default_fx_ccy`` (5 decimals, 3 for a JPY quote; XAU/USD too).
- Bar type ``<SYM>.SIM-1-MINUTE-BID-EXTERNAL``: HistData's prices are bids.  A bar's
  ``ts_event`` is its close (nautilus' convention), so the file's open stamp plus one minute.
- The strategy subscribes to every bar type in ``on_start`` and only counts its ``on_bar``
  calls, so the run is seen to deliver every bar; no order is ever sent.

Prints one JSON object: seconds for the imports, the reading, turning frames into ``Bar``
objects and adding them (``load_s``), the engine's run, and the bars the strategy saw.
"""

from __future__ import annotations

import time

#: Before the imports, so that ``import_s`` is what this process paid for them.
STARTED = time.perf_counter()

import pandas as pd  # noqa: E402
from histdata import arguments, emit, read_all  # noqa: E402
from nautilus_trader import __version__ as nautilus_version  # noqa: E402
from nautilus_trader.backtest.engine import BacktestEngine, BacktestEngineConfig  # noqa: E402
from nautilus_trader.config import LoggingConfig, StrategyConfig  # noqa: E402
from nautilus_trader.model.currencies import USD  # noqa: E402
from nautilus_trader.model.data import Bar, BarType  # noqa: E402
from nautilus_trader.model.enums import AccountType, OmsType  # noqa: E402
from nautilus_trader.model.identifiers import TraderId, Venue  # noqa: E402
from nautilus_trader.model.objects import Money  # noqa: E402
from nautilus_trader.persistence.wranglers import BarDataWrangler  # noqa: E402
from nautilus_trader.test_kit.providers import TestInstrumentProvider  # noqa: E402
from nautilus_trader.trading.strategy import Strategy  # noqa: E402

IMPORTED = time.perf_counter()
VENUE = Venue("SIM")


class Nothing(Strategy):
    """Subscribes to the bars and does nothing with them but count them."""

    def __init__(self, bar_types: list[BarType]) -> None:
        super().__init__(StrategyConfig(strategy_id="NOTHING-001"))
        self.bar_types = bar_types
        self.bars_seen = 0

    def on_start(self) -> None:
        for bar_type in self.bar_types:
            self.subscribe_bars(bar_type)

    def on_bar(self, bar: Bar) -> None:
        self.bars_seen += 1


def _engine() -> BacktestEngine:
    engine = BacktestEngine(BacktestEngineConfig(trader_id=TraderId("BENCH-001"),
                                                 logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(venue=VENUE, oms_type=OmsType.HEDGING, account_type=AccountType.MARGIN,
                     base_currency=USD, starting_balances=[Money(1_000_000, USD)])
    return engine


def _load(engine: BacktestEngine, frames: dict[str, pd.DataFrame]) -> list[BarType]:
    bar_types = []
    for symbol, frame in frames.items():
        instrument = TestInstrumentProvider.default_fx_ccy(f"{symbol[:3]}/{symbol[3:]}", VENUE)
        bar_type = BarType.from_str(f"{instrument.id}-1-MINUTE-BID-EXTERNAL")
        closes = frame.set_axis(frame.index + pd.Timedelta(minutes=1))
        engine.add_instrument(instrument)
        engine.add_data(BarDataWrangler(bar_type, instrument).process(closes))
        bar_types.append(bar_type)
    return bar_types


def main() -> None:
    paths, start, end = arguments()
    t0 = time.perf_counter()
    frames = read_all(paths, start, end)
    t1 = time.perf_counter()
    engine = _engine()
    strategy = Nothing(_load(engine, frames))
    engine.add_strategy(strategy)
    t2 = time.perf_counter()
    engine.run()
    t3 = time.perf_counter()
    orders = len(engine.cache.orders())
    engine.dispose()
    emit(STARTED, peer="nautilus_trader", version=nautilus_version,
         work="bars through a do-nothing strategy (M1 BID bars, venue SIM)",
         symbols=len(frames), bars=int(sum(len(f) for f in frames.values())),
         bars_seen=strategy.bars_seen, orders=orders, import_s=round(IMPORTED - STARTED, 3),
         read_s=round(t1 - t0, 3), load_s=round(t2 - t1, 3), run_s=round(t3 - t2, 3))


if __name__ == "__main__":
    main()
