"""The live adapter, driven by the simulated terminal in place of the MetaTrader5 module.

The simulator behaves like a broker's terminal (server time, suffixed names, strict
requests, IPC failures), so the adapter's login, symbol mapping, time conversion, request
coercion and reconnect logic are exercised for real; only the clock and ``sleep`` are
injected so nothing waits.
"""

from __future__ import annotations

import logging
import sys
import types
from datetime import UTC, datetime

import numpy as np
import pytest

from engine.errors import UserError
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge import constants as c
from mt5bridge.live import (
    ConnectionState,
    LiveConfig,
    LiveTerminal,
    TerminalConnectionError,
    _detect_broker_names,
    truncate_comment,
)
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim import SimConfig, SimTerminal
from mt5bridge.sim.feeds import walk_feed

SECRET = "s3cret-Pa55"
LOGIN = 52_700_001
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")
WINTER = int(datetime(2019, 1, 15, 10, tzinfo=UTC).timestamp() * 1000)  # a Tuesday
HOUR = 3_600_000


class Harness:
    """A simulated broker plus the adapter's injected clock, sleeps and state changes."""

    def __init__(self, start: int = WINTER, hours: int = 2, **sim_config) -> None:
        sim_config.setdefault("password", SECRET)
        self.sim = SimTerminal(walk_feed(SYMBOLS, start, start + hours * HOUR),
                               SimConfig(**sim_config))
        self.sim.sim_advance_to(start + 60_000)
        self.sleeps: list[float] = []
        self.states: list[tuple[ConnectionState, str]] = []
        self.extra_seconds = 0.0

    def clock(self) -> float:
        return self.sim.sim_now_msc() / 1000 + self.extra_seconds

    def live(self, **config) -> LiveTerminal:
        config.setdefault("login", LOGIN)
        config.setdefault("server", "FxCluster-Demo")
        config.setdefault("symbols", SYMBOLS)
        return LiveTerminal(self.sim, LiveConfig(**config), on_state=self._state,
                            sleep=self.sleeps.append, utc_now=self.clock)

    def _state(self, state: ConnectionState, detail: str) -> None:
        self.states.append((state, detail))


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv("FXCLUSTER_MT5_PASSWORD", SECRET)


@pytest.fixture
def broker(password) -> Harness:
    return Harness(symbol_suffix=".a")


def buy_request(live: LiveTerminal, symbol: str = "EURUSD", **extra: object) -> dict:
    request = {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": 0.1,
               "type": c.ORDER_TYPE_BUY, "price": live.symbol_info_tick(symbol).ask,
               "deviation": 20}
    request.update(extra)
    return request


# -- the module ------------------------------------------------------------------------------


def test_missing_metatrader5_package_is_a_clear_user_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "MetaTrader5", None)

    with pytest.raises(UserError, match="MetaTrader5 package is not installed"):
        LiveTerminal()


def test_constants_read_like_the_module(broker):
    live = broker.live()

    assert (live.ORDER_TYPE_SELL, live.TRADE_RETCODE_DONE) == (1, 10009)
    with pytest.raises(AttributeError):
        _ = live.NOT_A_CONSTANT


# -- login and password ----------------------------------------------------------------------


def test_connect_with_the_password_from_the_environment(broker):
    live = broker.live()

    live.connect()

    assert live.state is ConnectionState.CONNECTED
    assert [s for s, _ in broker.states] == [ConnectionState.CONNECTING,
                                             ConnectionState.CONNECTED]
    assert live.account_info().login == LOGIN


def test_wrong_password_is_a_clear_error_that_never_shows_it(monkeypatch):
    monkeypatch.setenv("FXCLUSTER_MT5_PASSWORD", "wrong-guess")
    harness = Harness()
    live = harness.live()

    with pytest.raises(TerminalConnectionError) as raised:
        live.connect()

    text = str(raised.value)
    assert "-6" in text and "Authorization failed" in text
    assert "FXCLUSTER_MT5_PASSWORD" in text and "wrong-guess" not in text
    assert live.state is ConnectionState.DISCONNECTED


def test_the_password_is_never_logged_stored_or_shown(broker, caplog):
    caplog.set_level(logging.DEBUG)
    live = broker.live()

    live.connect()
    broker.sim.sim_disconnect(failed_reconnects=1)
    live.order_send(buy_request(live))
    live.account_info()

    assert SECRET not in caplog.text
    assert SECRET not in repr(live) and SECRET not in repr(live.config)
    assert all(SECRET not in repr(value) for value in vars(live).values())
    assert "environment variable FXCLUSTER_MT5_PASSWORD" in caplog.text


def test_password_from_the_os_keyring(monkeypatch):
    monkeypatch.delenv("FXCLUSTER_MT5_PASSWORD", raising=False)
    asked = []

    def get_password(service: str, user: str) -> str:
        asked.append((service, user))
        return SECRET

    monkeypatch.setitem(sys.modules, "keyring",
                        types.SimpleNamespace(get_password=get_password))
    harness = Harness()

    harness.live().connect()

    assert asked == [("fxcluster-mt5", str(LOGIN))]


def test_wrong_terminal_path_names_the_likely_cause(password):
    harness = Harness()
    live = harness.live(path=r"C:\Program Files\Nowhere\terminal64.exe")

    with pytest.raises(TerminalConnectionError, match=r"-10003.*64-bit MetaTrader 5"):
        live.connect()


# -- symbols ---------------------------------------------------------------------------------


def test_broker_suffix_is_detected_and_names_map_both_ways(broker):
    live = broker.live()
    live.connect()

    sent = live.order_send(buy_request(live))
    position = live.positions_get(symbol="EURUSD")[0]
    deal = live.history_deals_get(position=position.ticket)[0]

    assert live.broker_symbol("EURUSD") == "EURUSD.a"
    assert sent.retcode == c.TRADE_RETCODE_DONE and sent.request.symbol == "EURUSD"
    assert (position.symbol, deal.symbol) == ("EURUSD", "EURUSD")
    assert live.symbol_info("GBPUSD").name == "GBPUSD"
    assert broker.sim.positions_get()[0].symbol == "EURUSD.a"
    assert all(broker.sim.symbol_info(s + ".a").select for s in SYMBOLS)


def test_configured_suffix_must_exist(broker):
    live = broker.live(symbol_suffix="m")

    with pytest.raises(TerminalConnectionError, match=r"EURUSDm.*symbol_suffix"):
        live.connect()


def test_a_symbol_the_broker_lacks_is_named(broker):
    live = broker.live(symbols=("EURUSD", "EURSEK"))

    with pytest.raises(TerminalConnectionError, match="does not offer EURSEK"):
        live.connect()


def test_suffix_detection_rules():
    offered = {"EURUSD.a", "EURUSDm", "GBPUSD.a", "USDJPY", "USDJPY.a"}

    exact_first = _detect_broker_names(("USDJPY", "GBPUSD"), offered)

    assert exact_first == {"USDJPY": "USDJPY", "GBPUSD": "GBPUSD.a"}
    assert _detect_broker_names(("EURUSD", "GBPUSD"), offered) == {"EURUSD": "EURUSD.a",
                                                                    "GBPUSD": "GBPUSD.a"}
    with pytest.raises(TerminalConnectionError, match="cannot tell the broker's symbol suffix"):
        _detect_broker_names(("EURUSD",), offered)


# -- server time -----------------------------------------------------------------------------


def test_gmt3_broker_is_detected_and_converted(password):
    harness = Harness(server_tz=ServerTimeZone.fixed(3))
    live = harness.live()

    live.connect()
    tick = live.symbol_info_tick("EURUSD")
    rates = live.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 3)
    bars = live.rates_to_bars("EURUSD", rates)

    assert live.server_tz == ServerTimeZone.fixed(3)
    assert live.server_tz_source == "detected"
    assert live.utc_ms_from_server_ms(tick.time_msc) == harness.sim.sim_now_msc()
    assert bars.dtype == BAR_DTYPE
    assert (bars["time"] == rates["time"] - 3 * 3600).all()
    assert bars["time"][-1] * 1000 <= harness.sim.sim_now_msc()
    assert np.allclose(bars["spread"], rates["spread"] * 0.00001)


def test_dst_broker_is_recognised_and_followed_across_the_switch(password):
    friday = int(datetime(2019, 3, 8, 12, tzinfo=UTC).timestamp() * 1000)
    harness = Harness(start=friday, hours=80)
    live = harness.live()

    live.connect()  # Friday: GMT+2, which is what a US-DST broker shows in winter
    harness.sim.sim_advance_to(friday + 72 * HOUR)  # Monday: the server is at GMT+3 now
    tick = live.symbol_info_tick("EURUSD")
    ticks = live.copy_ticks_range("EURUSD", 0, 2**31 - 1, c.COPY_TICKS_ALL)
    engine_ticks = live.ticks_to_engine(0, ticks)

    assert live.server_tz == ServerTimeZone() and live.server_tz_source == "detected"
    assert tick.time_msc - harness.sim.sim_now_msc() == 3 * HOUR
    assert live.utc_ms_from_server_ms(tick.time_msc) == harness.sim.sim_now_msc()
    assert engine_ticks.dtype == TICK_DTYPE
    assert engine_ticks["time_msc"][0] == friday
    assert engine_ticks["time_msc"][-1] == harness.sim.sim_now_msc()


def test_detection_falls_back_to_the_common_offset_while_the_market_is_closed(password):
    saturday = int(datetime(2019, 1, 19, 12, tzinfo=UTC).timestamp() * 1000)
    harness = Harness(start=saturday - 16 * HOUR, hours=20,
                      server_tz=ServerTimeZone.fixed(1))
    harness.sim.sim_advance_to(saturday)
    live = harness.live()

    live.connect()

    assert live.server_tz == ServerTimeZone() and live.server_tz_source == "default"


def test_configured_server_time_is_used_as_given(broker):
    live = broker.live(server_tz=ServerTimeZone.fixed(2))

    live.connect()

    assert live.server_tz_source == "configured"


def test_utc_date_arguments_become_server_seconds(broker):
    live = broker.live()
    live.connect()
    broker.sim.sim_advance_to(WINTER + HOUR)
    wanted_utc = WINTER + 30 * 60_000

    rates = live.copy_rates_from("EURUSD", c.TIMEFRAME_M1, live.server_s_from_utc_ms(wanted_utc),
                                 1)

    assert live.rates_to_bars("EURUSD", rates)["time"][0] * 1000 == wanted_utc


# -- requests --------------------------------------------------------------------------------


def test_requests_are_coerced_to_what_the_module_accepts(broker):
    live = broker.live()
    live.connect()
    tick = live.symbol_info_tick("EURUSD")
    request = {"action": np.int64(c.TRADE_ACTION_DEAL), "symbol": "EURUSD", "volume": 1,
               "type": np.int32(c.ORDER_TYPE_BUY), "price": np.float32(tick.ask),
               "deviation": 50.0, "magic": np.uint64(2_000_000_001),
               "comment": "basket EURUSD/GBPUSD/USDJPY #20190115-1", "colour": "green"}

    prepared = live.prepare_request(request)
    result = live.order_send(request)

    assert prepared["symbol"] == "EURUSD.a" and "colour" not in prepared
    assert type(prepared["volume"]) is float and type(prepared["magic"]) is int
    assert prepared["comment"] == "basket EURUSD/GBPUSD/USDJPY #"
    assert prepared["type_filling"] == c.ORDER_FILLING_FOK
    assert result.retcode == c.TRADE_RETCODE_DONE, result
    assert live.positions_get()[0].magic == 2_000_000_001


def test_filling_mode_is_taken_from_the_symbol(broker):
    live = broker.live()
    live.connect()

    gold = live.order_send(buy_request(live, "XAUUSD"))
    explicit = live.prepare_request(buy_request(live, "XAUUSD",
                                                type_filling=c.ORDER_FILLING_RETURN))

    assert live.filling_mode_for("XAUUSD") == c.ORDER_FILLING_IOC
    assert gold.retcode == c.TRADE_RETCODE_DONE and gold.request.type_filling == 1
    assert explicit["type_filling"] == c.ORDER_FILLING_RETURN


@pytest.mark.parametrize(("comment", "expected"), [
    ("short", "short"), ("x" * 29, "x" * 29), ("x" * 40, "x" * 29),
    ("\U0001F600" * 20, "\U0001F600" * 14), ("a" + "\U0001F600" * 20, "a" + "\U0001F600" * 14),
])
def test_comments_are_cut_to_29_utf16_units(comment, expected):
    assert truncate_comment(comment) == expected


# -- connection loss -------------------------------------------------------------------------


def test_ipc_failure_reconnects_with_backoff_and_retries_a_data_call(broker):
    live = broker.live()
    live.connect()
    broker.states.clear()
    broker.sim.sim_disconnect(failed_reconnects=2)

    info = live.account_info()

    assert info is not None and info.login == LOGIN
    assert broker.sleeps == [1.0, 2.0, 4.0]
    assert [s for s, _ in broker.states] == [
        ConnectionState.DISCONNECTED, ConnectionState.RECONNECTING,
        ConnectionState.RECONNECTING, ConnectionState.RECONNECTING, ConnectionState.CONNECTED]
    assert "-10004" in broker.states[0][1]


def test_order_send_is_never_resent_after_an_ipc_failure(broker):
    live = broker.live()
    live.connect()
    request = buy_request(live, type_filling=c.ORDER_FILLING_FOK)  # no symbol_info call first
    broker.sim.sim_disconnect()

    result = live.order_send(request)

    assert result is None
    assert live.state is ConnectionState.CONNECTED  # reconnected, but did not resend
    assert broker.sim.positions_total() == 0


def test_gives_up_after_the_attempts_then_waits_for_the_cooldown(broker):
    live = broker.live(reconnect_attempts=3, reconnect_cooldown_s=30)
    live.connect()
    broker.sim.sim_disconnect(failed_reconnects=100)

    first = live.positions_get()
    sleeps_after_first = list(broker.sleeps)
    during_cooldown = live.positions_get()
    broker.extra_seconds = 31
    broker.sim.sim_disconnect(failed_reconnects=0)
    after_cooldown = live.positions_get()

    assert first is None and during_cooldown is None
    assert sleeps_after_first == [1.0, 2.0, 4.0]
    assert broker.sleeps[:3] == sleeps_after_first and len(broker.sleeps) == 4
    assert after_cooldown == ()
    assert live.state is ConnectionState.CONNECTED


def test_a_stopping_engine_meets_a_lost_link_at_once_without_the_reconnect_loop(broker):
    # Arrange: connected, then the engine stops (``Engine.stop``) while the link is down
    live = broker.live()
    live.connect()
    broker.sim.sim_disconnect(failed_reconnects=100)

    # Act
    live.stop_reconnecting()
    info = live.account_info()
    again = live.positions_get()

    # Assert: no attempt, no wait (the loop took 1 + 2 + ... + 32 s before a stop's last
    # marks); what the terminal answers is what the stop gets
    assert info is None and again is None
    assert broker.sleeps == []
    assert live.state is ConnectionState.DISCONNECTED
    assert live.ensure_connected() is False


def test_backoff_is_capped(broker):
    live = broker.live(reconnect_attempts=6, reconnect_base_delay_s=2,
                       reconnect_max_delay_s=10)
    live.connect()
    broker.sim.sim_disconnect(failed_reconnects=100)

    live.account_info()

    assert broker.sleeps == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert live.ensure_connected() is False


def test_ordinary_failures_do_not_reconnect(broker):
    live = broker.live()
    live.connect()

    missing = live.symbol_info_tick("EURSEK")

    assert missing is None and live.last_error()[0] == c.RES_E_NOT_FOUND
    assert broker.sleeps == [] and live.state is ConnectionState.CONNECTED


def test_close_reports_the_state_and_later_calls_need_connect(broker):
    live = broker.live()
    live.connect()

    live.close()

    assert live.state is ConnectionState.DISCONNECTED
    assert broker.sim.account_info() is None
    with pytest.raises(TerminalConnectionError, match="call connect"):
        live.account_info()


def test_calls_before_connect_are_refused(broker):
    live = broker.live()

    with pytest.raises(TerminalConnectionError, match="call connect"):
        live.positions_get()
    assert broker.sleeps == []
