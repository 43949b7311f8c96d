"""``live-check`` over the simulated terminal configured as several brokers, in process.

The simulator plays the ``MetaTrader5`` module (``run_live_check(module=SimTerminal)``), so
the live adapter's login, suffix detection, server clock detection and request shaping run
for real; each variant pins the verdicts of the rows it is about.  The check's "now" is the
simulated terminal's own clock, so nothing depends on the day the tests run.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, date, datetime

import pytest
from helpers.calendars import import_daily_calendar

from app.livecheck import Verdict, run_live_check
from app.livecheck.baskets import minimal_basket
from engine.cluster import LegQuote
from engine.config import load_engine_config
from engine.news import NewsConfig
from mt5bridge import constants as c
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim import SimConfig, SimTerminal
from mt5bridge.sim.feeds import walk_feed
from mt5bridge.sim.symbols import BROKER_SPECS, SYMBOL_FILLING_IOC
from storage.calendar import default_calendar_path

PASS, WARN, FAIL = Verdict.PASS, Verdict.WARN, Verdict.FAIL
MINUTE = 60_000
#: A Tuesday in winter (US standard time) and one in summer (US DST).
WINTER = datetime(2019, 1, 15, 10, tzinfo=UTC)
SUMMER = datetime(2019, 7, 16, 10, tzinfo=UTC)
#: The last minutes before the weekly close, and the Saturday after it.
FRIDAY_CLOSE = datetime(2019, 1, 18, 21, 50, tzinfo=UTC)
SATURDAY = datetime(2019, 1, 19, 10, tzinfo=UTC)

TWO = ("USD_MAJORS", "GOLD_HAVENS")  # they share EURUSD and USDCHF
USD_MAJORS = ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")


@pytest.fixture(autouse=True)
def _current_calendar(tmp_path) -> None:
    """A ready broker's trader has imported a calendar that covers the checks' days (the
    winter and summer weeks below): the news row passes unless a test takes it away."""
    import_daily_calendar(tmp_path, date(2019, 1, 13), 8)
    import_daily_calendar(tmp_path, date(2019, 7, 14), 8)


def config_of(*clusters: str):
    return load_engine_config().with_clusters(list(clusters))


def broker(start: datetime = WINTER, *, symbols: tuple[str, ...] | None = None,
           now: datetime | None = None, **sim) -> SimTerminal:
    """A simulated broker quoting ``symbols`` from ``start`` for ten minutes, its clock at
    ``now`` (default: a minute after the start, so the quotes are fresh)."""
    config = config_of(*TWO)
    names = symbols if symbols is not None else tuple(dict.fromkeys(config.symbols))
    first = int(start.timestamp() * 1000)
    terminal = SimTerminal(walk_feed(names, first, first + 10 * MINUTE), SimConfig(**sim))
    terminal.sim_advance_to(int(now.timestamp() * 1000) if now else first + MINUTE)
    return terminal


def verdicts(report) -> dict[str, Verdict]:
    return {check.name: check.verdict for check in report}


def detail(report, name: str) -> str:
    return next(check.detail for check in report if check.name == name)


def fix(report, name: str) -> str:
    return next(check.fix for check in report if check.name == name)


def test_a_ready_broker_passes_every_row_and_nothing_is_traded():
    # Arrange
    sim = broker()

    # Act
    report = run_live_check(sim, config_of(*TWO))

    # Assert
    assert set(verdicts(report).values()) == {PASS} and report.exit_status == 0
    assert [c.name for c in report][:5] == ["connection", "account", "margin mode",
                                            "algo trading", "server time"]
    assert {f"basket {n} {side}" for n in TWO for side in ("long", "short")} <= set(
        verdicts(report))
    assert "build 5120" in detail(report, "connection")
    assert "login 52700001 on FxCluster-Demo" in detail(report, "account")
    assert "live-FxCluster-Demo-52700001.sqlite" in detail(report, "account")
    assert sim.initialize()  # live-check shut its link down, as a live session's close does
    assert sim.positions_total() == 0 and sim.orders_total() == 0
    assert len(sim.history_deals_get(0, 2**31 - 1)) == 1  # the initial deposit only
    assert "0 failed, 0 warnings" in report.as_table()


@pytest.mark.parametrize(("start", "server_tz", "label", "offset"), [
    (WINTER, ServerTimeZone(), "GMT+2/+3 (US DST)", "+2 h"),
    (SUMMER, ServerTimeZone(), "GMT+2/+3 (US DST)", "+3 h"),
    (WINTER, ServerTimeZone.fixed(3), "GMT+3", "+3 h"),
    (SUMMER, ServerTimeZone.fixed(2), "GMT+2", "+2 h"),
], ids=["gmt2-dst-winter", "gmt2-dst-summer", "gmt3-fixed-winter", "gmt2-fixed-summer"])
def test_the_server_clock_is_detected_and_says_how(start, server_tz, label, offset):
    # Arrange
    sim = broker(start, server_tz=server_tz)

    # Act
    report = run_live_check(sim, config_of(*TWO))

    # Assert
    text = detail(report, "server time")
    assert verdicts(report)["server time"] is PASS and report.exit_status == 0
    assert text.startswith(f"{label}, detected: server minus UTC is {offset}")
    assert "freshest tick" in text
    assert ("follows US DST" in text) == server_tz.follows_us_dst


@pytest.mark.parametrize("suffix", [".a", "m"])
def test_a_broker_suffix_is_found_and_shown(suffix):
    # Arrange
    sim = broker(symbol_suffix=suffix)

    # Act
    report = run_live_check(sim, config_of(*TWO))

    # Assert
    assert report.exit_status == 0 and set(verdicts(report).values()) == {PASS}
    assert detail(report, "symbol EURUSD").startswith(f"EURUSD{suffix} at the broker (its "
                                                      "suffix)")


def test_an_ioc_only_broker_gets_ioc_orders():
    # Arrange
    ioc_only = tuple(dataclasses.replace(BROKER_SPECS[s], filling_mode=SYMBOL_FILLING_IOC)
                     for s in USD_MAJORS)
    sim = broker(extra_specs=ioc_only)

    # Act
    report = run_live_check(sim, config_of("USD_MAJORS"))

    # Assert
    assert report.exit_status == 0 and set(verdicts(report).values()) == {PASS}
    assert detail(report, "symbol GBPUSD").endswith("filling IOC: the adapter sends IOC")
    assert verdicts(report)["basket USD_MAJORS long"] is PASS


def test_a_netting_account_warns_and_fails_clusters_that_share_a_symbol():
    # Arrange
    sim = broker(margin_mode=c.ACCOUNT_MARGIN_MODE_RETAIL_NETTING)

    # Act
    alone = run_live_check(sim, config_of("USD_MAJORS"))
    shared = run_live_check(sim, config_of(*TWO))

    # Assert
    assert verdicts(alone)["margin mode"] is WARN and alone.exit_status == 0
    assert detail(alone, "margin mode").startswith("netting: one position per symbol")
    assert verdicts(shared)["margin mode"] is FAIL and shared.exit_status == 1
    assert "EURUSD (USD_MAJORS, GOLD_HAVENS)" in detail(shared, "margin mode")
    assert "hedging account" in fix(shared, "margin mode")
    assert verdicts(shared)["basket GOLD_HAVENS short"] is PASS


def test_algo_trading_off_fails_with_10027_and_the_fix():
    # Arrange
    sim = broker(algo_trading=False)

    # Act
    report = run_live_check(sim, config_of(*TWO))

    # Assert
    assert verdicts(report)["algo trading"] is FAIL and report.exit_status == 1
    assert "10027 TRADE_RETCODE_CLIENT_DISABLES_AT" in detail(report, "algo trading")
    assert '"Algo Trading" in the terminal\'s toolbar' in fix(report, "algo trading")
    assert 'Expert Advisors > "Allow algorithmic trading"' in fix(report, "algo trading")
    # order_check does not read the switch (only order_send is documented to return 10027)
    assert verdicts(report)["basket USD_MAJORS long"] is PASS
    assert [c.name for c in report if c.verdict is FAIL] == ["algo trading"]


def test_a_closed_market_is_a_warning_not_a_failure():
    # Arrange: quotes up to Friday's close, the clock on Saturday
    sim = broker(FRIDAY_CLOSE, now=SATURDAY)

    # Act
    report = run_live_check(sim, config_of(*TWO))

    # Assert
    found = verdicts(report)
    assert report.exit_status == 0 and FAIL not in found.values()
    assert found["market EURUSD"] is WARN and found["basket USD_MAJORS long"] is WARN
    assert "10018 MARKET_CLOSED" in detail(report, "market EURUSD")
    assert "10018 MARKET_CLOSED" in detail(report, "basket GOLD_HAVENS short")
    assert found["server time"] is WARN
    assert detail(report, "server time").startswith("not detected")
    assert "assumed GMT+2/+3 (US DST)" in detail(report, "server time")
    assert found["symbol EURUSD"] is PASS and found["algo trading"] is PASS


def test_a_missing_symbol_fails_its_row_and_its_clusters_only():
    # Arrange: a broker without gold
    sim = broker(symbols=("EURUSD", "GBPUSD", "AUDUSD", "USDCHF", "USDJPY"))

    # Act
    report = run_live_check(sim, config_of(*TWO))

    # Assert
    found = verdicts(report)
    assert report.exit_status == 1
    assert [c.name for c in report if c.verdict is FAIL] == ["symbol XAUUSD",
                                                            "basket GOLD_HAVENS"]
    assert "offers no XAUUSD" in detail(report, "symbol XAUUSD")
    assert found["connection"] is PASS and "would refuse to start" in detail(report,
                                                                            "connection")
    assert found["basket USD_MAJORS long"] is PASS and "market XAUUSD" not in found


def test_with_the_shipped_clusters_those_the_broker_cannot_feed_are_left_out_with_a_warning(
        caplog):
    # Arrange: the shipped configuration (every cluster) on a broker of six symbols
    sim = broker(symbols=("EURUSD", "GBPUSD", "AUDUSD", "USDCHF", "USDJPY", "XAUUSD"))

    # Act: as live-check runs with no --config and no --clusters
    with caplog.at_level(logging.WARNING):
        report = run_live_check(sim, load_engine_config(), fit_to_broker=True)

    # Assert: no failure; one warning row names what a live session leaves out and why
    found = verdicts(report)
    assert FAIL not in found.values() and report.exit_status == 0
    assert found["clusters"] is WARN
    assert "USD_CAD_JPY (no USDCAD)" in detail(report, "clusters")
    assert detail(report, "clusters").endswith("and trades USD_MAJORS, GOLD_HAVENS")
    assert "would refuse to start" not in detail(report, "connection")
    assert {"basket USD_MAJORS long", "basket GOLD_HAVENS short"} <= set(found)
    assert "basket USD_CAD_JPY" not in found and "symbol USDCAD" not in found
    # the server clock detected from the kept symbols, and no warning of one undetected:
    # listing the broker's symbols first (the clusters it cannot feed) reads no clock
    assert found["server time"] is PASS and "detected" in detail(report, "server time")
    assert not [r for r in caplog.records if "server time offset" in r.getMessage()]


def test_a_wrong_login_fails_the_connection_and_stops():
    # Arrange
    sim = broker(password="right")

    # Act
    report = run_live_check(sim, config_of(*TWO), login=123, server="Elsewhere")

    # Assert
    assert [(c.name, c.verdict) for c in report] == [("connection", FAIL)]
    assert "Authorization failed" in detail(report, "connection")
    assert report.exit_status == 1


def test_the_minimal_basket_puts_every_leg_at_or_above_its_minimum_and_reverses_short():
    # Arrange
    spec = config_of("USD_MAJORS").clusters[0]
    quotes = {s: LegQuote(s, 1.0 if s.startswith("USD") else 1.2, 100_000, 0.01, 100, 0.01)
              for s in USD_MAJORS}

    # Act
    long_side = minimal_basket(spec, quotes)
    short_side = minimal_basket(spec, quotes, -1)

    # Assert
    assert set(long_side) == set(USD_MAJORS)
    assert min(abs(v) for v in long_side.values()) == 0.01
    assert short_side == {s: -v for s, v in long_side.items()}


def test_the_json_rows_are_the_table_rows():
    # Arrange
    import json

    sim = broker(algo_trading=False)

    # Act
    report = run_live_check(sim, config_of("USD_MAJORS"))
    data = json.loads(report.as_json())

    # Assert
    assert [row["check"] for row in data["checks"]] == [c.name for c in report]
    assert data["failed"] == 1 and data["exit_status"] == 1
    assert data["checks"][3] == {"check": "algo trading", "verdict": "FAIL",
                                 "detail": detail(report, "algo trading"),
                                 "fix": fix(report, "algo trading")}


class _ApiDisabled:
    """The simulated terminal with "Disable algorithmic trading via external Python API"
    ticked: what ``terminal_info`` says then (the simulator has no such switch)."""

    def __init__(self, sim: SimTerminal) -> None:
        self._sim = sim

    def __getattr__(self, name: str):
        return getattr(self._sim, name)

    def terminal_info(self):
        from mt5bridge.structs import struct_with

        info = self._sim.terminal_info()
        return None if info is None else struct_with(info, tradeapi_disabled=True)


def test_the_python_api_switched_off_fails_the_algo_row_with_its_fix():
    # Arrange
    terminal = _ApiDisabled(broker())

    # Act
    report = run_live_check(terminal, config_of("USD_MAJORS"))

    # Assert
    assert verdicts(report)["algo trading"] is FAIL and report.exit_status == 1
    assert '"Disable algorithmic trading via external Python API"' in fix(report,
                                                                          "algo trading")


class _RealModule:
    """What a served real module answers when asked for the simulator's clock."""

    def sim_now_msc(self) -> int:
        raise AttributeError("the terminal server does not offer 'sim_now_msc'")


def test_now_is_the_simulators_clock_or_else_this_machines():
    # Arrange
    from app.livecheck.connect import terminal_clock

    sim = broker()

    # Act
    sim_clock, sim_name = terminal_clock(sim)
    _, refused_name = terminal_clock(_RealModule())
    _, plain_name = terminal_clock(object())

    # Assert
    assert sim_clock() == WINTER.timestamp() + 60 and sim_name == "the simulated terminal's clock"
    assert refused_name == plain_name == "this machine's clock"


# ---------------------------------------------------------------- the news calendar row

def news_config(**news):
    return dataclasses.replace(config_of("USD_MAJORS"),
                               news=dataclasses.replace(NewsConfig(), **news))


def test_a_calendar_that_covers_the_next_day_passes_with_how_far_it_sees():
    # Arrange
    sim = broker()

    # Act
    report = run_live_check(sim, config_of("USD_MAJORS"))

    # Assert: the autouse calendar covers 13 .. 20 January, "now" is 15 January 10:01
    assert verdicts(report)["news calendar"] is PASS
    assert detail(report, "news calendar") == (
        "16 events; it covers until 2019-01-21 00:00 UTC, past the next 24 h the filter needs")


def test_no_calendar_imported_warns_that_the_news_filter_would_be_off():
    # Arrange
    default_calendar_path().unlink()
    sim = broker()

    # Act
    report = run_live_check(sim, config_of("USD_MAJORS"))

    # Assert
    assert verdicts(report)["news calendar"] is WARN and report.exit_status == 0
    assert detail(report, "news calendar").startswith("no economic calendar imported (")
    assert "news filter is off" in detail(report, "news calendar")
    assert fix(report, "news calendar").endswith("main.py import calendar FILES")


def test_a_stale_calendar_under_block_fails_since_a_session_would_refuse_every_entry():
    # Arrange: "now" is Sunday 20 January 10:00; the calendar ends at the 21st's start
    sim = broker(WINTER, now=datetime(2019, 1, 20, 10, tzinfo=UTC))

    # Act
    report = run_live_check(sim, config_of("USD_MAJORS"))

    # Assert
    assert verdicts(report)["news calendar"] is FAIL and report.exit_status == 1
    assert detail(report, "news calendar") == (
        "16 events; it covers until 2019-01-21 00:00 UTC, short of the next 24 h the filter "
        "needs: a live session would refuse every entry (CALENDAR_STALE, stale_policy = "
        "block)")
    assert 'stale_policy = "allow"' in fix(report, "news calendar")


def test_a_stale_calendar_under_allow_warns_and_nothing_fails():
    # Arrange
    sim = broker(WINTER, now=datetime(2019, 1, 20, 10, tzinfo=UTC))

    # Act
    report = run_live_check(sim, news_config(stale_policy="allow"))

    # Assert
    assert verdicts(report)["news calendar"] is WARN
    assert detail(report, "news calendar").endswith(
        "a live session trades on what it knows (stale_policy = allow), blind to releases "
        "past that")


def test_a_calendar_with_no_data_for_now_says_so():
    # Arrange: the autouse calendar knows nothing of March
    sim = broker(datetime(2019, 3, 5, 10, tzinfo=UTC))

    # Act
    report = run_live_check(sim, config_of("USD_MAJORS"))

    # Assert
    assert verdicts(report)["news calendar"] is FAIL
    assert "it has no data covering now" in detail(report, "news calendar")


def test_the_news_filter_switched_off_reads_no_calendar():
    # Arrange
    default_calendar_path().unlink()
    sim = broker()

    # Act
    report = run_live_check(sim, news_config(enabled=False))

    # Assert
    assert verdicts(report)["news calendar"] is PASS
    assert "[news] enabled = false" in detail(report, "news calendar")


def test_a_damaged_calendar_file_fails_the_row_in_one_line():
    # Arrange
    path = default_calendar_path()
    for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        extra.unlink(missing_ok=True)
    path.write_bytes(b"not a database at all, " * 100)
    sim = broker()

    # Act
    report = run_live_check(sim, config_of("USD_MAJORS"))

    # Assert
    assert verdicts(report)["news calendar"] is FAIL
    assert str(path) in detail(report, "news calendar")
    assert "\n" not in detail(report, "news calendar")
