"""Contract tests: the simulated terminal against the MetaTrader5 package's real surface.

The reference is ``tests/data/mt5/mt5_api.json`` (a copy of the shared package reference,
read from the 5.0.6231 wheel); one test checks the copy is still identical to the shared
file when that is present.  Anything code can observe must match: constants, functions and
their calling conventions, struct field orders, numpy dtypes, request parsing, last_error.
"""

from __future__ import annotations

import copy
import json
import os
import pickle
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from helpers.paths import TEST_DATA

from mt5bridge import constants as c
from mt5bridge.sim import SimConfig, SimTerminal
from mt5bridge.sim.feeds import walk_feed
from mt5bridge.structs import MT5_RATES_DTYPE, MT5_TICKS_DTYPE, STRUCT_FIELDS

REFERENCE = TEST_DATA / "mt5" / "mt5_api.json"
START = int(datetime(2019, 3, 4, 8, tzinfo=UTC).timestamp() * 1000)  # Monday, GMT+2 server
SYMBOLS = ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD"]


@pytest.fixture(scope="module")
def api() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


@pytest.fixture
def term() -> SimTerminal:
    terminal = SimTerminal(walk_feed(SYMBOLS, START, START + 3_600_000), SimConfig())
    assert terminal.initialize()
    for name in SYMBOLS:
        terminal.symbol_select(name, True)
    terminal.sim_advance_to(START + 10 * 60_000)
    return terminal


def _buy_request(term: SimTerminal, **extra: object) -> dict:
    tick = term.symbol_info_tick("EURUSD")
    request = {
        "action": c.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.1,
        "type": c.ORDER_TYPE_BUY, "price": tick.ask, "deviation": 10,
        "type_filling": c.ORDER_FILLING_FOK, "magic": 7, "comment": "contract",
    }
    request.update(extra)
    return request


# -- the reference itself ------------------------------------------------------------------


def test_test_copy_is_identical_to_shared_reference(shared_reference):
    shared = (shared_reference / "mt5_api.json").read_bytes()

    assert REFERENCE.read_bytes() == shared


# -- constants -----------------------------------------------------------------------------


def test_own_constants_match_reference_names_values_and_order(api):
    expected = api["constants"]

    assert len(c.MT5_CONSTANTS) == api["constants_count"] == 223
    assert list(c.MT5_CONSTANTS.items()) == list(expected.items())


def test_own_constants_spot_values_without_reference():
    # Values a trader meets daily, checked against the package table independently.
    assert (c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_REQUOTE, c.TRADE_RETCODE_INVALID_FILL) == (
        10009, 10004, 10030)
    assert (c.TIMEFRAME_M30, c.TIMEFRAME_H1, c.TIMEFRAME_D1, c.TIMEFRAME_MN1) == (
        30, 16385, 16408, 49153)
    assert (c.ORDER_FILLING_FOK, c.ORDER_FILLING_IOC, c.ORDER_FILLING_RETURN) == (0, 1, 2)
    assert (c.RES_E_INTERNAL_FAIL_CONNECT, c.RES_E_INTERNAL_FAIL_TIMEOUT) == (-10004, -10005)
    assert (c.DEAL_DIVIDEND, c.DEAL_TAX) == (15, 17)
    assert not hasattr(c, "DEAL_TYPE_DIVIDEND")


def test_terminal_exposes_every_constant_with_its_value(api, term):
    for name, value in api["constants"].items():
        assert getattr(term, name) == value, name
        assert type(getattr(SimTerminal, name)) is int, name


def test_mql5_flags_are_kept_off_the_module_surface(api):
    expected = {k: v for k, v in api["not_in_python_module"].items() if k != "note"}

    assert expected == c.MQL5_FLAGS
    for name in expected:
        assert not hasattr(SimTerminal, name), name


def test_nonexistent_names_are_absent(api):
    for entry in api["deprecated_or_nonexistent_names_seen_in_user_code"]:
        name = entry.split(" ")[0]
        if "/" in name:
            continue
        assert not hasattr(SimTerminal, name), name


# -- functions and calling conventions -----------------------------------------------------


def test_every_function_and_helper_exists(api, term):
    for name in api["functions"] + api["python_level_helpers"]:
        assert callable(getattr(term, name)), name
    assert len(api["functions"]) == 32


POSITIONAL_ONLY_CALLS = [
    ("copy_rates_from", ("EURUSD", c.TIMEFRAME_M1, START // 1000 + 7200, 5),
     ["symbol", "timeframe", "date_from", "count"]),
    ("copy_rates_from_pos", ("EURUSD", c.TIMEFRAME_M1, 0, 5),
     ["symbol", "timeframe", "start_pos", "count"]),
    ("copy_rates_range", ("EURUSD", c.TIMEFRAME_M1, 0, 2**31 - 1),
     ["symbol", "timeframe", "date_from", "date_to"]),
    ("copy_ticks_from", ("EURUSD", 0, 5, c.COPY_TICKS_ALL),
     ["symbol", "date_from", "count", "flags"]),
    ("copy_ticks_range", ("EURUSD", 0, 2**31 - 1, c.COPY_TICKS_ALL),
     ["symbol", "date_from", "date_to", "flags"]),
    ("symbol_info", ("EURUSD",), ["symbol"]),
    ("symbol_info_tick", ("EURUSD",), ["symbol"]),
    ("symbol_select", ("EURUSD", True), ["symbol", "enable"]),
    ("order_calc_margin", (c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.13),
     ["action", "symbol", "volume", "price"]),
    ("order_calc_profit", (c.ORDER_TYPE_BUY, "EURUSD", 1.0, 1.13, 1.14),
     ["action", "symbol", "volume", "price_open", "price_close"]),
    ("history_deals_total", (0, 2**31 - 1), ["date_from", "date_to"]),
    ("history_orders_total", (0, 2**31 - 1), ["date_from", "date_to"]),
    ("market_book_add", ("EURUSD",), ["symbol"]),
]


@pytest.mark.parametrize(("name", "args", "names"), POSITIONAL_ONLY_CALLS,
                         ids=[p[0] for p in POSITIONAL_ONLY_CALLS])
def test_positional_only_functions_work_positionally_and_refuse_keywords(term, name, args,
                                                                         names):
    function = getattr(term, name)

    result = function(*args)

    assert result is not None, term.last_error()
    with pytest.raises(TypeError):
        function(**dict(zip(names, args, strict=True)))


@pytest.mark.parametrize("name", ["positions_get", "orders_get", "symbols_get"])
def test_keyword_only_functions_refuse_positional_arguments(term, name):
    keyword = {"symbols_get": {"group": "*USD*"}}.get(name, {"symbol": "EURUSD"})

    assert getattr(term, name)(**keyword) is not None
    with pytest.raises(TypeError):
        getattr(term, name)(next(iter(keyword.values())))


def test_c_int_arguments_refuse_floats_and_strings(term):
    with pytest.raises(TypeError):
        term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 5.0)
    with pytest.raises(TypeError):
        term.copy_rates_from_pos("EURUSD", "M1", 0, 5)
    with pytest.raises(OverflowError):
        term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 2**31)


def test_date_arguments_in_milliseconds_overflow_the_c_long(term):
    with pytest.raises(OverflowError):
        term.copy_ticks_range("EURUSD", START, START + 60_000, c.COPY_TICKS_ALL)


def test_version_and_last_error_shapes(term):
    version = term.version()

    assert isinstance(version, tuple) and len(version) == 3
    assert isinstance(version[0], int) and isinstance(version[1], int)
    assert isinstance(version[2], str)
    assert term.last_error() == (1, "Success")


# -- structs -------------------------------------------------------------------------------


def test_own_struct_field_orders_match_reference(api):
    for name, spec in api["structs"].items():
        assert STRUCT_FIELDS[name] == tuple(spec["fields"]), name
        assert len(spec["fields"]) == spec["n_fields"]
    assert set(STRUCT_FIELDS) == set(api["structs"])


def _all_structs(term: SimTerminal) -> dict[str, object]:
    term.market_book_add("EURUSD")
    sent = term.order_send(_buy_request(term, sl=1.0, tp=2.0))
    assert sent.retcode == c.TRADE_RETCODE_DONE, sent
    tick = term.symbol_info_tick("EURUSD")
    pending = term.order_send({
        "action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.1,
        "type": c.ORDER_TYPE_BUY_LIMIT, "price": round(tick.ask - 0.005, 5),
        "type_filling": c.ORDER_FILLING_RETURN,
    })
    assert pending.retcode == c.TRADE_RETCODE_PLACED, pending
    return {
        "Tick": tick,
        "TradePosition": term.positions_get()[0],
        "TradeOrder": term.orders_get()[0],
        "TradeDeal": term.history_deals_get(0, 2**31 - 1)[-1],
        "TradeRequest": sent.request,
        "OrderSendResult": sent,
        "OrderCheckResult": term.order_check(_buy_request(term)),
        "SymbolInfo": term.symbol_info("EURUSD"),
        "AccountInfo": term.account_info(),
        "TerminalInfo": term.terminal_info(),
        "BookInfo": term.market_book_get("EURUSD")[0],
    }


def test_returned_structs_have_reference_field_order_and_behave_like_struct_sequences(api,
                                                                                      term):
    structs = _all_structs(term)

    for name, value in structs.items():
        fields = api["structs"][name]["fields"]
        assert type(value).__name__ == name
        assert isinstance(value, tuple)
        assert list(value._asdict()) == fields, name
        assert len(value) == len(fields)
        assert getattr(value, fields[0]) == value[0]
        assert not hasattr(value, "_fields"), name
        assert copy.copy(value) == value
        with pytest.raises(pickle.PicklingError):
            pickle.dumps(value)


def test_struct_field_types_follow_the_package(term):
    structs = _all_structs(term)
    position = structs["TradePosition"]
    deal = structs["TradeDeal"]
    account = structs["AccountInfo"]

    assert all(isinstance(position[i], int) for i in range(9))
    assert all(isinstance(position[i], float) for i in range(9, 16))
    assert isinstance(deal.commission, float) and isinstance(deal.ticket, int)
    assert isinstance(account.balance, float) and isinstance(account.login, int)
    assert position.ticket > 2**32 and deal.ticket > 2**32


# -- numpy dtypes --------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "dtype"), [("copy_rates", MT5_RATES_DTYPE),
                                            ("copy_ticks", MT5_TICKS_DTYPE)])
def test_own_dtypes_match_reference(api, key, dtype):
    ref = api["numpy_dtypes"][key]

    assert [(n, dtype.fields[n][0].str) for n in dtype.names] == [tuple(f) for f in ref["fields"]]
    assert [dtype.fields[n][1] for n in dtype.names] == ref["offsets"]
    assert dtype.itemsize == ref["itemsize"] == 60


def test_copy_functions_return_the_packed_dtypes(term):
    rates = term.copy_rates_from_pos("EURUSD", c.TIMEFRAME_M1, 0, 5)
    ticks = term.copy_ticks_from("EURUSD", START // 1000, 5, c.COPY_TICKS_ALL)

    assert rates.dtype == MT5_RATES_DTYPE and len(rates) == 5
    assert ticks.dtype == MT5_TICKS_DTYPE and len(ticks) == 5


# -- request parsing -----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["action", "magic", "order", "deviation", "type",
                                 "type_filling", "type_time", "expiration", "position",
                                 "position_by"])
@pytest.mark.parametrize("bad", [np.int64(1), 1.0], ids=["numpy-int64", "float"])
def test_int_fields_accept_only_python_int(term, key, bad):
    result = term.order_send(_buy_request(term, **{key: bad}))

    assert result is None
    assert term.last_error() == (-2, f'Invalid "{key}" argument')


@pytest.mark.parametrize("key", ["volume", "price", "stoplimit", "sl", "tp"])
@pytest.mark.parametrize("bad", [1, Decimal("1.5"), np.float32(1.5)],
                         ids=["int", "decimal", "numpy-float32"])
def test_float_fields_accept_only_float(term, key, bad):
    result = term.order_check(_buy_request(term, **{key: bad}))

    assert result is None
    assert term.last_error() == (-2, f'Invalid "{key}" argument')


def test_numpy_float64_and_bool_are_accepted(term):
    request = _buy_request(term, volume=np.float64(0.1), magic=True)

    result = term.order_send(request)

    assert result.retcode == c.TRADE_RETCODE_DONE
    assert result.request.magic == 1 and type(result.request.volume) is float


def test_integer_volume_is_the_classic_mistake(term):
    assert term.order_send(_buy_request(term, volume=1)) is None
    assert term.last_error() == (-2, 'Invalid "volume" argument')


@pytest.mark.parametrize(("comment", "ok"), [
    ("x" * 29, True), ("x" * 30, False), ("é" * 29, True), ("\U0001F600" * 14 + "x", True),
    ("\U0001F600" * 15, False),
])
def test_strings_are_limited_to_29_utf16_units(term, comment, ok):
    result = term.order_check(_buy_request(term, comment=comment))

    if ok:
        assert result is not None and result.retcode == 0
    else:
        assert result is None
        assert term.last_error() == (-2, 'Invalid "comment" argument')


def test_symbol_must_be_a_short_string(term):
    assert term.order_check(_buy_request(term, symbol="E" * 30)) is None
    assert term.last_error() == (-2, 'Invalid "symbol" argument')
    assert term.order_check(_buy_request(term, symbol=b"EURUSD")) is None
    assert term.last_error() == (-2, 'Invalid "symbol" argument')


def test_missing_keys_default_to_zero_and_unknown_keys_are_ignored(term):
    request = _buy_request(term, colour="green", stop_loss=1.0)

    result = term.order_send(request)

    assert result.retcode == c.TRADE_RETCODE_DONE
    echo = result.request._asdict()
    assert (echo["sl"], echo["tp"], echo["order"], echo["expiration"]) == (0.0, 0.0, 0, 0)
    assert echo["stoplimit"] == 0.0 and echo["position_by"] == 0
    assert "colour" not in echo


def test_request_that_is_not_a_dict(term):
    assert term.order_send([("action", 1)]) is None
    assert term.last_error() == (-2, "Invalid arguments")
    assert term.order_send() is None


def test_order_check_success_is_retcode_zero_done(term):
    result = term.order_check(_buy_request(term))

    assert (result.retcode, result.comment) == (0, "Done")
    assert result.margin > 0 and result.margin_free < result.equity
    assert result.balance == pytest.approx(100_000.0)


def test_order_send_market_success_is_10009(term):
    result = term.order_send(_buy_request(term))

    assert (result.retcode, result.comment) == (10009, "Request executed")
    assert result.deal > 2**32 and result.order > 2**32 and result.request_id >= 1


# -- last_error conventions ----------------------------------------------------------------


def test_failure_returns_none_and_success_resets_last_error(term):
    assert term.symbol_info("NOPE") is None
    assert term.last_error()[0] == c.RES_E_NOT_FOUND

    assert term.symbol_info("EURUSD") is not None
    assert term.last_error() == (1, "Success")


def test_calls_before_initialize_fail_with_no_ipc_connection():
    terminal = SimTerminal(walk_feed(["EURUSD"], START, START + 60_000))

    assert terminal.account_info() is None
    assert terminal.last_error() == (-10004, "No IPC connection")
    assert terminal.initialize() is True
    terminal.shutdown()
    assert terminal.positions_total() is None


def test_empty_results_are_empty_tuples(term):
    assert term.positions_get() == ()
    assert term.orders_get(symbol="GBPUSD") == ()
    assert term.history_deals_get(0, 1000) == ()


# -- time ----------------------------------------------------------------------------------


@pytest.fixture
def new_york_local_time():
    """Run the test with the process in New York local time (naive datetimes read as it)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is not available on this platform")
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_naive_datetimes_are_read_in_local_time(term, new_york_local_time):
    # The number the caller means is server time 10:05 (08:05 UTC at GMT+2).
    server_s = term.symbol_info_tick("EURUSD").time - 5 * 60
    as_utc = datetime.fromtimestamp(server_s, UTC)
    naive = as_utc.replace(tzinfo=None)

    aware = term.copy_ticks_from("EURUSD", as_utc, 1, c.COPY_TICKS_ALL)
    shifted = term.copy_ticks_from("EURUSD", naive, 1, c.COPY_TICKS_ALL)

    assert aware["time"][0] == server_s
    # New York is behind UTC, so the naive value lands five hours later (past the data).
    assert naive.timestamp() - as_utc.timestamp() == timedelta(hours=5).total_seconds()
    assert len(shifted) == 0


def test_returned_times_are_server_time(term):
    tick = term.symbol_info_tick("EURUSD")
    utc_now_s = term.sim_now_msc() // 1000

    assert tick.time - utc_now_s == pytest.approx(2 * 3600, abs=2)
