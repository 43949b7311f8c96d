"""Daily closes as a backtest's market (``app.backtest.daily``), on the real KO/PEP/RRC and
S&P 500 slices in ``tests/data/equity_daily``, and the index CFD M1 files through the
simulated terminal as the FX files go."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from helpers.paths import TEST_DATA

from app.backtest import BacktestSpec, run_backtest
from app.backtest.daily import daily_bars, daily_market_bars
from app.replay_feed import ReplayFeed
from engine.config import load_engine_config
from engine.errors import UserError
from mt5bridge import constants as c
from mt5bridge.sim import SimConfig, SimTerminal
from mt5bridge.sim.symbol_sessions import CME_INDEX, NYSE
from mt5bridge.sim.symbols import BROKER_SPECS
from storage.importers.daily import is_wide_daily, read_wide_daily

STOCKS = TEST_DATA / "equity_daily" / "sp500_KO_PEP_RRC_adjclose_2019-10_2022.csv.gz"
INDEX = TEST_DATA / "equity_daily" / "sp500_index_2019-10_2022.csv.gz"
NEW_YORK = ZoneInfo("America/New_York")
POINTS = {s: spec.point for s, spec in BROKER_SPECS.items()}


def utc_ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


def new_york(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(NEW_YORK)


# -- the file --------------------------------------------------------------------------------


def test_the_wide_daily_format_is_recognised_and_read():
    closes = read_wide_daily(STOCKS, ["KO", "PEP"])

    assert is_wide_daily(STOCKS) and is_wide_daily(INDEX)
    assert not is_wide_daily(TEST_DATA / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz")
    assert list(closes) == ["KO", "PEP"]
    assert len(closes["KO"]) == 818
    assert closes["KO"].index[0].date() == date(2019, 10, 1)
    assert (closes["KO"].iloc[0], closes["PEP"].iloc[-1]) == (48.639, 179.278)  # as written


@pytest.mark.parametrize(("body", "message"), [
    ("Date,KO\n2020-01-02,49.3\n2020/01/03,49.1\n", ":3: not a YYYY-MM-DD date"),
    ("Date,KO\n2020-01-02,49.3\n2020-01-03,-1\n", ":3: KO: not a plausible close: '-1'"),
    ("Date,KO\n2020-01-03,49.3\n2020-01-02,49.1\n", ":3: 2020-01-02 is not after"),
    ("Date,KO\n2020-01-02,49.3\n2020-01-03,abc\n", "not a plausible close: 'abc'"),
    # blank and whitespace-only lines, which pandas skips, still count as lines
    ("\nDate,KO\n2020-01-02,49.3\n\n\t\n2020-01-03,-1\n", ":6: KO: not a plausible close"),
    ("Date,KO\n2020-01-03,49.3\n\n2020-01-02,49.1\n", ":4: 2020-01-02 is not after"),
    ("Date,KO\n2020-01-02,49.3\n \n2020-01-0x,49.1\n", ":4: not a YYYY-MM-DD date"),
])
def test_a_bad_daily_file_is_one_line_naming_the_line(tmp_path, body, message):
    path = tmp_path / "daily.csv"
    path.write_text(body)

    with pytest.raises(UserError, match=message):
        read_wide_daily(path)


def test_a_symbol_the_file_lacks_is_named(tmp_path):
    with pytest.raises(UserError, match="no column for XOM"):
        read_wide_daily(STOCKS, ["KO", "XOM"])


# -- the close at 16:00 New York -------------------------------------------------------------


def test_each_close_is_the_bar_15_59_to_16_00_new_york_with_a_two_bp_spread():
    closes = read_wide_daily(STOCKS, ["KO"])["KO"]

    bars = daily_bars(closes.loc["2020-03-06":"2020-03-09"], 0.01)

    # Friday on EST (UTC-5), Monday on EDT (UTC-4): 15:59 New York both days
    assert bars["time"].tolist() == [utc_ms(2020, 3, 6, 20, 59) // 1000,
                                     utc_ms(2020, 3, 9, 19, 59) // 1000]
    assert np.array_equal(bars["open"], bars["close"]) and np.array_equal(bars["high"],
                                                                          bars["low"])
    # 2 bp of ~53 USD is 1.06 cents: one cent; never under a point
    assert bars["spread"].tolist() == pytest.approx([0.01, 0.01])


def daily_terminal(symbols, start, end):
    bars = daily_market_bars([STOCKS, INDEX], symbols, POINTS)
    feed = ReplayFeed.from_bars(bars, utc_ms(*start), utc_ms(*end))
    term = SimTerminal(feed, SimConfig(selected=tuple(bars)))
    assert term.initialize()
    return term, bars


def test_the_replayed_daily_ticks_land_in_the_closing_minute_of_every_trading_day():
    term, _ = daily_terminal({"KO", "PEP", "SP500"}, (2022, 1, 1), (2022, 4, 1))

    term.sim_advance_to(utc_ms(2022, 4, 1))

    ticks = term.sim_last_ticks()
    names = term.sim_symbols()
    days_by_symbol = {}
    for i, name in enumerate(names):
        stamps = [new_york(int(t)) for t in ticks["time_msc"][ticks["symbol"] == i]]
        assert {(s.hour, s.minute) for s in stamps} == {(15, 59)}, name
        days_by_symbol[name] = sorted({s.date() for s in stamps})
    trading_days = NYSE.trading_days(date(2022, 1, 1), date(2022, 3, 31))
    assert all(days == trading_days for days in days_by_symbol.values())
    assert len(trading_days) == 62  # 2022 Q1: 64 weekdays less MLK and Presidents' Day


def test_an_order_at_the_d1_close_is_refused_until_the_next_daily_close():
    """The D1 bar closes at 17:00 New York, when the stock is closed: the terminal refuses
    (10018); the next quote, and so the first possible fill, is the next trading day's close
    (ask = close + the modelled spread), and at 16:00 the market is closed again."""
    term, bars = daily_terminal({"KO"}, (2022, 3, 1), (2022, 3, 10))
    ko = bars["KO"]
    tuesday = ko[ko["time"] == utc_ms(2022, 3, 8, 20, 59) // 1000][0]
    term.sim_advance_to(utc_ms(2022, 3, 7, 22))  # Monday 17:00 New York (EST)
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": "KO", "volume": 100.0,
               "type": c.ORDER_TYPE_BUY, "price": term.symbol_info_tick("KO").ask,
               "deviation": 10, "type_filling": c.ORDER_FILLING_FOK}

    at_d1_close = term.order_send(request)
    term.sim_advance_to(utc_ms(2022, 3, 8, 21))  # Tuesday 16:00 New York
    tick = term.symbol_info_tick("KO")
    after_the_close = term.order_check({**request, "price": tick.ask})

    assert at_d1_close.retcode == c.TRADE_RETCODE_MARKET_CLOSED
    quoted_at = new_york(term.sim_config.server_tz.to_utc_ms(tick.time_msc))
    assert quoted_at.strftime("%a %H:%M") == "Tue 15:59"
    assert tuesday["close"] == 56.11  # the adjusted close 56.113, at the broker's cents
    assert (tick.bid, tick.ask) == pytest.approx((56.11, 56.12))
    assert after_the_close.retcode == c.TRADE_RETCODE_MARKET_CLOSED


def test_a_stock_order_fills_at_the_daily_close_inside_its_minute():
    term, bars = daily_terminal({"KO"}, (2022, 3, 1), (2022, 3, 10))
    ko = bars["KO"]
    tuesday = ko[ko["time"] == utc_ms(2022, 3, 8, 20, 59) // 1000][0]
    term.sim_advance_to(utc_ms(2022, 3, 8, 20, 59, 30))  # inside the closing minute

    result = term.order_send({
        "action": c.TRADE_ACTION_DEAL, "symbol": "KO", "volume": 100.0,
        "type": c.ORDER_TYPE_BUY, "price": term.symbol_info_tick("KO").ask, "deviation": 10,
        "type_filling": c.ORDER_FILLING_FOK})

    assert result.retcode == c.TRADE_RETCODE_DONE
    assert (result.bid, result.price) == (tuesday["close"], 56.12)  # ask: + 2 bp = 1 cent


# -- the backtest's market -------------------------------------------------------------------

#: The FX slice's three weeks with short windows (as tests/integration/app/test_factor_runs).
FX_CONFIG = """
[defaults]
tau_f = 4
tau_s = 24
tau_q = 96
atr_bars = 14

[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001
"""


def test_a_backtest_feeds_the_daily_closes_beside_m1_bars(tmp_path):
    """The daily file beside the FX M1 slice: the stocks are quoted at their closes (a
    TDI cluster trades the FX), the report names their data and modelled spread."""
    config_path = tmp_path / "fx.toml"
    config_path.write_text(FX_CONFIG)
    spec = BacktestSpec(config=load_engine_config(config_path), source="files",
                        paths=(STOCKS, *sorted((TEST_DATA / "histdata").glob("DAT_*USD*"))))

    result = run_backtest(spec, journal_path=tmp_path / "journal.sqlite")

    assert result.complete, result.notes
    assert {"KO D1", "PEP D1", "RRC D1", "EURUSD M1"} <= set(result.data_ranges)
    assert result.data_ranges["KO D1"]["rows"] == 818
    assert "modelled spread 2 bp" in result.params["spreads"]["KO"]
    assert len(result.trades) > 0


def test_daily_files_do_not_mix_with_tick_files(tmp_path):
    ticks = TEST_DATA / "ticks"
    config_path = tmp_path / "fx.toml"
    config_path.write_text(FX_CONFIG)
    spec = BacktestSpec(config=load_engine_config(config_path), source="files",
                        paths=(STOCKS, *sorted(ticks.iterdir())))

    with pytest.raises(UserError, match="daily-close files replay with HistData M1"):
        run_backtest(spec, journal_path=tmp_path / "journal.sqlite")


# -- index CFD M1 files ----------------------------------------------------------------------


def test_index_cfd_m1_files_replay_through_the_terminal_inside_their_session():
    files = sorted((TEST_DATA / "cfd_m1").glob("*.csv.gz"))
    bars = sum(len({line.split(b";")[0] for line in gzip.decompress(f.read_bytes()).splitlines()
                    if line}) for f in files)  # the duplicated hour counted once
    feed = ReplayFeed.from_files(files)
    term = SimTerminal(feed, SimConfig(selected=("NSXUSD", "SPXUSD")))
    assert term.initialize()

    term.sim_advance_to(utc_ms(2019, 11, 2))

    ticks = term.sim_last_ticks()
    # every bar's four ticks but those of 28-31 October 22:00-22:59 UTC: that week the
    # file's clock is an hour off from the importer's fixed UTC-5 (US and European summer
    # time differ), its bars fall in the 22:00-23:00 break and are not quoted
    assert 4 * bars - len(ticks) == 4 * 517
    assert CME_INDEX.open_mask(ticks["time_msc"]).all()
    info = term.symbol_info("SPXUSD")
    assert (info.currency_profit, info.trade_contract_size) == ("USD", 1.0)
    assert term.symbol_info_tick("SPXUSD").bid == 3064.87  # the last close 3064.869, 2 digits
    assert np.array_equal(np.round(ticks["bid"], 2), ticks["bid"])
