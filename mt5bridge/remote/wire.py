"""What travels between ``TerminalServer`` and ``RemoteTerminal``, and how it is encoded.

Every message is one pickle.  A request is ``(op, name, args, kwargs)``; a reply is
``(status, value, last_error)``.  The terminal's structs do not pickle (the real ones do not
either), so they travel as ``EncodedStruct``; an exception travels as ``_RaisedError``, a
description that always pickles, and is rebuilt as the same type on the other side.

The protocol is frozen until it is redesigned: a pickle names each class by its module
path, so the classes that cross the link keep the path they have always had,
``mt5bridge.remote`` (the package ``__init__`` sets it).
"""

from __future__ import annotations

import contextlib
import importlib
import pickle
import traceback
from typing import Any, NamedTuple

from mt5bridge import constants as c
from mt5bridge import structs

PROTOCOL_VERSION = 1
#: Every message is pickled with this protocol.
PICKLE_PROTOCOL = pickle.HIGHEST_PROTOCOL

#: The module's 32 functions, each with what it returns when the terminal is unreachable.
MT5_FUNCTIONS: dict[str, Any] = {
    "initialize": False,
    "shutdown": None,
    "login": False,
    "version": None,
    "terminal_info": None,
    "account_info": None,
    "copy_ticks_from": None,
    "copy_ticks_range": None,
    "copy_rates_from": None,
    "copy_rates_from_pos": None,
    "copy_rates_range": None,
    "positions_total": None,
    "positions_get": None,
    "orders_total": None,
    "orders_get": None,
    "history_orders_total": None,
    "history_orders_get": None,
    "history_deals_total": None,
    "history_deals_get": None,
    "order_check": None,
    "order_send": None,
    "order_calc_margin": None,
    "order_calc_profit": None,
    "symbol_info": None,
    "symbol_info_tick": None,
    "symbol_select": False,
    "symbols_total": None,
    "symbols_get": None,
    "market_book_add": False,
    "market_book_release": False,
    "market_book_get": None,
    "last_error": None,
}

#: Reply statuses: the value is the result, or a ``_RaisedError``.
OK, RAISE = "ok", "raise"
#: Request operations: call a function, read an attribute, run several calls, greet.
CALL, GET, BATCH, HELLO = "call", "get", "batch", "hello"
#: ``last_error()`` values that the link itself produces.
SUCCESS = (c.RES_S_OK, "Success")
NO_IPC = (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")

_STRUCT_TYPES: dict[str, type[structs.StructSequence]] = {
    name: getattr(structs, name) for name in structs.STRUCT_FIELDS
}
#: The structs with a struct inside (``request``); the others hold plain values only.
_NESTING_STRUCTS = frozenset({"OrderSendResult", "OrderCheckResult"})


class RemoteTerminalError(Exception):
    """The terminal raised an exception whose type does not exist in the client process."""


# -- values on the wire ------------------------------------------------------------------------


class EncodedStruct(NamedTuple):
    """A terminal struct in picklable form: its type name and its values in field order."""

    name: str
    values: tuple


def encode_value(value: Any) -> Any:
    """Replace every terminal struct in ``value`` (tuples, lists, dicts) by an ``EncodedStruct``.

    Works for the real package's structs too: they are recognised by type name.
    """
    if isinstance(value, tuple):
        kind = type(value)
        if kind is tuple:
            return tuple(encode_value(v) for v in value) if value else value
        name = kind.__name__
        if name in _STRUCT_TYPES and hasattr(value, "_asdict"):
            if name in _NESTING_STRUCTS:
                return EncodedStruct(name, tuple(encode_value(v) for v in value))
            return EncodedStruct(name, tuple(value))
        return value
    if isinstance(value, list):
        return [encode_value(v) for v in value]
    if isinstance(value, dict):
        return {k: encode_value(v) for k, v in value.items()}
    return value


def decode_value(value: Any) -> Any:
    """The inverse of ``encode_value``: ``EncodedStruct`` back to ``mt5bridge.structs`` types."""
    if isinstance(value, EncodedStruct):
        name = value.name
        if name in _NESTING_STRUCTS:
            return _STRUCT_TYPES[name](decode_value(v) for v in value.values)
        return _STRUCT_TYPES[name](value.values)
    if type(value) is tuple:
        return tuple(decode_value(v) for v in value) if value else value
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        return {k: decode_value(v) for k, v in value.items()}
    return value


# -- exceptions on the wire --------------------------------------------------------------------


class _RaisedError(NamedTuple):
    """An exception raised in the server, in a form that always pickles."""

    module: str
    qualname: str
    args: tuple
    message: str
    server_traceback: str
    pickled: bytes | None
    state: dict[str, Any]


def describe_exception(exc: BaseException) -> _RaisedError:
    """What the server sends back for ``exc``: the pickled exception when it round-trips,
    and always its type's path, arguments, message, state and traceback."""
    pickled: bytes | None = None
    with contextlib.suppress(Exception):
        blob = pickle.dumps(exc, protocol=PICKLE_PROTOCOL)
        back = pickle.loads(blob)
        if type(back) is type(exc) and str(back) == str(exc):
            pickled = blob
    args: tuple = exc.args
    try:
        pickle.dumps(args, protocol=PICKLE_PROTOCOL)
    except Exception:
        args = (str(exc),)
    state = {k: v for k, v in getattr(exc, "__dict__", {}).items() if k != "__notes__"}
    try:
        pickle.dumps(state, protocol=PICKLE_PROTOCOL)
    except Exception:
        state = {}
    kind = type(exc)
    return _RaisedError(kind.__module__, kind.__qualname__, args, str(exc),
                        "".join(traceback.format_exception(exc)), pickled, state)


def rebuild_exception(raised: _RaisedError) -> BaseException:
    """The same exception type with the same message, or ``RemoteTerminalError``."""
    exc: BaseException | None = None
    if raised.pickled is not None:
        with contextlib.suppress(Exception):
            exc = pickle.loads(raised.pickled)
    if exc is None:
        with contextlib.suppress(Exception):
            kind: Any = importlib.import_module(raised.module)
            for part in raised.qualname.split("."):
                kind = getattr(kind, part)
            if isinstance(kind, type) and issubclass(kind, Exception):
                # Bypass a custom __init__ (ConfigError takes three arguments, not the message).
                candidate = kind.__new__(kind, *raised.args)
                Exception.__init__(candidate, *raised.args)
                candidate.__dict__.update(raised.state)
                if str(candidate) == raised.message:
                    exc = candidate
    if exc is None:
        exc = RemoteTerminalError(f"{raised.qualname}: {raised.message}")
    # An attribute, not a note: pytest.raises(match=...) reads notes, and the message must
    # match exactly as it does in-process.
    with contextlib.suppress(AttributeError):
        exc.server_traceback = raised.server_traceback  # type: ignore[attr-defined]
    return exc
