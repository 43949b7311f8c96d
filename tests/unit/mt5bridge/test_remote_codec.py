"""The terminal wire's message format: typed JSON that rebuilds exact types and runs nothing.

Three tables: values that cross and come back with exactly their type (structs, dtypes, 64-bit
tickets, NaN and infinities, datetimes); values the encoder refuses; documents the decoder
refuses (a pickle first).  Then the exceptions' allow-list and the request/reply shapes.
"""

from __future__ import annotations

import math
import os
import pickle
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ConfigError, DataError
from engine.ticks import TICK_DTYPE
from mt5bridge.remote import (
    RemoteTerminalError,
    WireError,
    decode_message,
    encode_message,
)
from mt5bridge.remote.wire import (
    RAISE,
    describe_exception,
    read_reply,
    read_request,
    rebuild_exception,
    reply,
    request,
)
from mt5bridge.sim import FaultConfig, SimConfig
from mt5bridge.sim.symbols import SymbolSpec
from mt5bridge.structs import (
    MT5_RATES_DTYPE,
    MT5_TICKS_DTYPE,
    OrderSendResult,
    StructSequence,
    SymbolInfo,
    Tick,
    TradeRequest,
)


def same(back: object, value: object) -> None:
    """Equal, and of exactly the same types all the way down (NaN equal to NaN)."""
    assert type(back) is type(value), (type(back), type(value))
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        assert back.tobytes() == value.tobytes()
        assert back.flags.writeable
    elif isinstance(value, tuple | list):
        assert len(back) == len(value)
        for b, v in zip(back, value, strict=True):
            same(b, v)
    elif isinstance(value, dict):
        assert list(back) == list(value)
        for key in value:
            same(back[key], value[key])
    elif isinstance(value, float | np.floating) and math.isnan(value):
        assert math.isnan(back)
    else:
        assert back == value
        if isinstance(value, datetime):
            assert back.utcoffset() == value.utcoffset()


REQUEST = TradeRequest((1, 7001, 0, "EURUSD", 0.1, 1.1, 0.0, 0.0, 0.0, 20, 0, 0, 0, 0, "x", 0, 0))
RATES = np.array([(1547554860, 1.14233, 1.14272, 1.14231, 1.1426, 60, 2, 0)] * 3,
                 dtype=MT5_RATES_DTYPE)
TICKS = np.array([(1547554860, 1.1, 1.2, 0.0, 0, 1547554860123, 6, 0.0)], dtype=MT5_TICKS_DTYPE)
ALIGNED = np.dtype([("a", "<i2"), ("b", "<f8")], align=True)  # padding between the fields

ROUND_TRIPS = {
    "None": None,
    "bools": (True, False),
    "64-bit tickets": (2**63 - 1, 2**64 - 1, -(2**63), 5_100_000_001),
    "ints past 64 bits": 10**30,
    "floats, bit for bit": (0.1, 1.1420899999999998, -0.0, 5e-324, 1.7976931348623157e308),
    "NaN and infinities": (math.nan, math.inf, -math.inf),
    "strings": ("", "EURUSD.a", "Forex\\EURUSD", "é€𝄞", "\ud800 lone surrogate", '"{}[]'),
    "tuple vs list": ((1, [2, (3,)]), [(), []]),
    "dicts, keys of any type": {"action": 1, 2: "two", (3, 4): None, "volume": 0.1},
    "nested struct": OrderSendResult((10009, 2, 3, 0.1, 1.1, 1.09, 1.1, "done", 1, 0, REQUEST)),
    "struct with NaN": Tick((1, math.nan, math.inf, 0.0, 0, 1000, 6, 0.0)),
    "all 90-odd SymbolInfo fields": SymbolInfo(tuple(range(len(SymbolInfo._struct_fields)))),
    "tuple of structs": (REQUEST, REQUEST),
    "MT5 rates (packed 60-byte rows)": RATES,
    "MT5 ticks": TICKS,
    "engine ticks": np.zeros(4, dtype=TICK_DTYPE),
    "empty ticks": np.zeros(0, dtype=TICK_DTYPE),
    "aligned dtype with padding": np.zeros(2, dtype=ALIGNED),
    "2-D floats, big-endian": np.arange(6, dtype=">f8").reshape(2, 3),
    "bools and small ints": (np.array([True, False]), np.arange(5, dtype=np.uint8)),
    "numpy numbers": (np.float64(1.5), np.int64(-(2**63)), np.uint64(2**64 - 1),
                      np.float32(0.1), np.bool_(True), np.float64(math.nan)),
    "datetimes": (datetime(2024, 1, 8, 10, 30, 15, 123456), datetime(2000, 1, 1, tzinfo=UTC),
                  datetime(2019, 7, 1, tzinfo=timezone(timedelta(hours=3)))),
    "fault config": FaultConfig(seed=3, requote=1.0),
    "sim config": SimConfig(market_seed=2, selected=("EURUSD",), extra_specs=(
        SymbolSpec("XXXYYY", "XXX", "YYY", 5, 100_000.0, 10, -1.0, 0.5),)),
}


@pytest.mark.parametrize("value", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_values_come_back_with_exactly_their_types(value):
    # Act
    back = decode_message(encode_message(value))

    # Assert
    same(back, value)


def test_the_simulator_s_password_never_crosses_the_wire():
    # Arrange: a simulated account with a login password
    config = SimConfig(market_seed=2, password="s3cret-Pa55")

    # Act
    message = encode_message(config)
    back = decode_message(message)

    # Assert: not in the bytes; the other side has the default, the rest as it was
    assert b"s3cret-Pa55" not in message
    assert back.password is None
    assert back == SimConfig(market_seed=2)


def test_a_struct_comes_back_as_the_module_type_with_its_fields():
    # Arrange
    result = ROUND_TRIPS["nested struct"]

    # Act
    back = decode_message(encode_message(result))

    # Assert
    assert type(back) is OrderSendResult and isinstance(back, StructSequence)
    assert type(back.request) is TradeRequest
    assert back._asdict() == result._asdict()


def test_a_datetime_in_utc_keeps_the_utc_singleton():
    back = decode_message(encode_message(datetime(2000, 1, 1, tzinfo=UTC)))

    assert back.tzinfo is UTC


class Unknown:
    pass


REFUSED_VALUES = {
    "set": {1, 2},
    "frozenset": frozenset({1}),
    "bytes": b"raw",
    "bytearray": bytearray(b"raw"),
    "an object": Unknown(),
    "a function": os.system,
    "a class": Unknown,
    "a path": Path("/etc/passwd"),
    "complex": 1j,
    "object array": np.array([Unknown()], dtype=object),
    "string array": np.array(["a", "b"]),
    "complex array": np.zeros(2, dtype=np.complex128),
    "nested structured dtype": np.zeros(1, dtype=[("a", [("b", "<i4")])]),
    "subarray field": np.zeros(1, dtype=[("a", "<i4", (2,))]),
    "datetime64 array": np.zeros(1, dtype="datetime64[s]"),
    "a date": datetime(2024, 1, 8).date(),
    "an unknown type inside a dict": {"ok": 1, "bad": {1}},
    "an unknown type inside a struct": Tick((1, 1.0, 1.1, 0.0, 0, 1000, 6, {1})),
}


@pytest.mark.parametrize("value", REFUSED_VALUES.values(), ids=REFUSED_VALUES.keys())
def test_the_encoder_refuses_what_the_wire_does_not_carry(value):
    with pytest.raises(TypeError, match="cannot be sent"):
        encode_message(value)


class Exploit:
    """The issue's payload: unpickling it runs a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


REFUSED_DOCUMENTS = {
    "not UTF-8": b"\xff\xfe",
    "not JSON": b"call symbol_info_tick",
    "a NaN token": b"[NaN]",
    "an Infinity token": b"-Infinity",
    "an untagged object": b'{"action": 1}',
    "an unknown tag": b'{"pickle": "gASV"}',
    "two tags": b'{"tuple": [], "dict": []}',
    "an unknown struct": b'{"struct": "Popen", "values": []}',
    "a struct with too few fields": b'{"struct": "Tick", "values": [1]}',
    "a struct name that is no string": b'{"struct": ["Tick"], "values": []}',
    "a tuple that is no array": b'{"tuple": "abc"}',
    "an unhashable dict key": b'{"dict": [[[1], 2]]}',
    "a dict entry that is no pair": b'{"dict": [[1, 2, 3]]}',
    "a float that is no non-finite": b'{"float": "1e5"}',
    "a bad datetime": b'{"datetime": "monday"}',
    "an object dtype": b'{"ndarray": "AAAAAAAAAAA=", "dtype": "|O8", "shape": [1]}',
    "an object field": b'{"ndarray": "AAAAAAAAAAA=", "dtype": [["a"], ["|O8"], [0], 8], '
                       b'"shape": [1]}',
    "a dtype by repr": b'{"ndarray": "", "dtype": "np.dtype(object)", "shape": [0]}',
    "bytes not matching the shape": b'{"ndarray": "AAAA", "dtype": "<f8", "shape": [1]}',
    "a negative shape": b'{"ndarray": "", "dtype": "<f8", "shape": [-1]}',
    "bytes that are no base64": b'{"ndarray": "!!!!", "dtype": "<f8", "shape": [0]}',
    "an object scalar": b'{"scalar": "|O8", "value": 1}',
    "an unknown dataclass": b'{"dataclass": "Popen", "fields": [["args", "id"]]}',
    "a dataclass by module path": b'{"dataclass": "subprocess.Popen", "fields": []}',
    "a dataclass with an unknown field": b'{"dataclass": "FaultConfig", "fields": '
                                          b'[["__class__", 1]]}',
    "a dataclass its own checks refuse": b'{"dataclass": "FaultConfig", "fields": '
                                          b'[["requote", 2.0]]}',
    "nesting too deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("data", REFUSED_DOCUMENTS.values(), ids=REFUSED_DOCUMENTS.keys())
def test_the_decoder_refuses_anything_but_the_format(data):
    with pytest.raises(WireError):
        decode_message(data)


def test_a_pickle_is_refused_and_runs_nothing(tmp_path):
    # Arrange
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Exploit(marker))

    # Act
    with pytest.raises(WireError):
        decode_message(payload)

    # Assert
    assert not marker.exists()


# -- exceptions ----------------------------------------------------------------------------------


class LocalError(Exception):
    pass


@pytest.mark.parametrize("exc", [
    ZeroDivisionError("division by zero"),
    TypeError("symbol_info() takes 1 positional argument"),
    KeyError("EURUSD"),
    OverflowError("date value out of range"),
    DataError("EURUSD.csv:3: price is NaN"),
], ids=lambda e: type(e).__name__)
def test_allowed_exceptions_come_back_as_themselves(exc):
    # Act
    back = rebuild_exception(decode_message(encode_message(describe_exception(exc))))

    # Assert
    assert type(back) is type(exc) and str(back) == str(exc)


def test_a_config_error_keeps_its_key_and_reason():
    back = rebuild_exception(decode_message(encode_message(describe_exception(
        ConfigError("broker.toml", "leverage", "must be positive")))))

    assert type(back) is ConfigError
    assert (str(back), back.key, back.reason) == ("broker.toml: leverage: must be positive",
                                                   "leverage", "must be positive")


@pytest.mark.parametrize("description", [
    ["LocalError", "a type of the server's own", (), {}, ""],
    ["system", "echo pwned", ("echo pwned",), {}, ""],
    ["os.system", "echo pwned", ("echo pwned",), {}, ""],
    ["SystemExit", "0", (0,), {}, ""],
    ["KeyboardInterrupt", "", (), {}, ""],
], ids=["unknown type", "a function's name", "a module path", "SystemExit", "Ctrl+C"])
def test_other_exception_types_arrive_as_remote_terminal_errors(description):
    back = rebuild_exception(decode_message(encode_message(description)))

    assert type(back) is RemoteTerminalError
    assert str(back) == f"{description[0]}: {description[1]}"


def test_an_unknown_exception_keeps_its_server_traceback():
    def fail() -> None:
        raise LocalError("inside the terminal")

    try:
        fail()
    except LocalError as exc:
        description = describe_exception(exc)

    back = rebuild_exception(decode_message(encode_message(description)))

    assert str(back) == "LocalError: inside the terminal"
    assert "in fail" in back.server_traceback


# -- requests and replies ------------------------------------------------------------------------


def test_a_request_reads_back_as_op_name_args_kwargs():
    data = request("call", "history_deals_get", (datetime(2000, 1, 1, tzinfo=UTC), 2**40),
                   {"group": "*USD*"})

    assert read_request(data) == ("call", "history_deals_get",
                                  (datetime(2000, 1, 1, tzinfo=UTC), 2**40), {"group": "*USD*"})


@pytest.mark.parametrize("message", [
    {"op": "call"},
    ["call", "symbol_info"],
    ["exec", "os.system", ("id",), {}],
    ["call", 7, (), {}],
    ["call", "symbol_info", ["EURUSD"], {}],
    ["call", "symbol_info", (), {1: 2}],
    ["batch", "", ((1, (), {}),), {}],
    ["batch", "", [("sim_now_msc", (), {})], {}],
], ids=["an object", "three parts", "unknown op", "name no string", "args no tuple",
        "keyword no string", "batch name no string", "batch no tuple"])
def test_a_request_of_another_shape_is_refused(message):
    with pytest.raises(WireError):
        read_request(encode_message(message))


def test_a_reply_the_wire_cannot_carry_becomes_a_type_error():
    status, description, error = read_reply(reply("ok", {"lock": {1, 2}}, (1, "Success")))

    assert (status, error) == (RAISE, (1, "Success"))
    back = rebuild_exception(description)
    assert type(back) is TypeError and "builtins.set cannot be sent" in str(back)
