"""What travels between ``TerminalServer`` and ``RemoteTerminal``: requests, replies, errors.

Every message is one typed JSON document (``mt5bridge.remote.codec``: no pickle in either
direction).  A request is ``[op, name, args, kwargs]``; a reply is ``[status, value,
last_error]``.  An exception travels as a description, ``[type name, message, args, state,
server traceback]``, and is rebuilt as the same type only when that name is on
``EXCEPTION_TYPES``; any other type arrives as ``RemoteTerminalError("Type: message")``.
"""

from __future__ import annotations

import contextlib
import traceback
from typing import Any

from engine import errors
from mt5bridge import constants as c
from mt5bridge.remote.codec import WireError, dumps, loads

#: 2: typed JSON and the secret-file handshake (1 was pickles behind a fixed key).
PROTOCOL_VERSION = 2

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

#: Reply statuses: the value is the result, or an exception's description.
OK, RAISE = "ok", "raise"
#: Request operations: call a function, read an attribute, run several calls, greet.
CALL, GET, BATCH, HELLO = "call", "get", "batch", "hello"
OPERATIONS = frozenset({CALL, GET, BATCH, HELLO})
#: ``last_error()`` values that the link itself produces.
SUCCESS = (c.RES_S_OK, "Success")
NO_IPC = (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")


class RemoteTerminalError(Exception):
    """The terminal raised an exception of a type the wire does not rebuild."""


#: The exception types rebuilt as themselves on the client, by name: what a terminal (the
#: simulator, the real package, a caller's wrong arguments) raises.  Others arrive as
#: ``RemoteTerminalError``.
EXCEPTION_TYPES: dict[str, type[Exception]] = {
    kind.__name__: kind for kind in (
        Exception, ArithmeticError, AssertionError, AttributeError, IndexError, KeyError,
        LookupError, NotImplementedError, OverflowError, RuntimeError, TypeError,
        ValueError, ZeroDivisionError, errors.UserError, errors.DataError,
        errors.ConfigError, RemoteTerminalError,
    )
}


# -- requests and replies ------------------------------------------------------------------------


def request(op: str, name: str, args: tuple = (), kwargs: dict[str, Any] | None = None) -> bytes:
    return dumps([op, name, tuple(args), dict(kwargs or {})])


def read_request(data: bytes) -> tuple[str, str, Any, dict[str, Any]]:
    """``(op, name, args, kwargs)``; ``WireError`` for anything that is not a request."""
    message = loads(data)
    if type(message) is not list or len(message) != 4:
        raise WireError("a request is [op, name, args, kwargs]")
    op, name, args, kwargs = message
    if op not in OPERATIONS or type(name) is not str:
        raise WireError(f"unknown request {str(op)[:20]!r}")
    if op == BATCH:
        calls = _batch_calls(args)
        return op, name, calls, {}
    if type(args) is not tuple or type(kwargs) is not dict or \
            not all(type(k) is str for k in kwargs):
        raise WireError("a request's arguments are a tuple and a dict of names")
    return op, name, args, kwargs


def _batch_calls(calls: Any) -> list[tuple[str, tuple, dict[str, Any]]]:
    if type(calls) is not tuple:
        raise WireError("a batch is a tuple of calls")
    for call in calls:
        if type(call) is not tuple or len(call) != 3 or type(call[0]) is not str or \
                type(call[1]) is not tuple or type(call[2]) is not dict or \
                not all(type(k) is str for k in call[2]):
            raise WireError("a batch call is (name, args, kwargs)")
    return list(calls)


def batch_request(calls: Any) -> bytes:
    return request(BATCH, "", tuple((str(name), tuple(args), dict(kwargs))
                                    for name, args, kwargs in calls))


def reply(status: str, value: Any, last_error: tuple[int, str] | None) -> bytes:
    """The reply to send; a value the wire cannot carry becomes a ``TypeError`` reply."""
    error = None if last_error is None else [int(last_error[0]), str(last_error[1])]
    try:
        return dumps([status, value, error])
    except Exception as exc:  # e.g. a result of a type the wire does not carry
        return dumps([RAISE, describe_exception(exc), error])


def read_reply(data: bytes) -> tuple[str, Any, tuple[int, str] | None]:
    message = loads(data)
    if type(message) is not list or len(message) != 3 or message[0] not in (OK, RAISE):
        raise WireError("a reply is [status, value, last_error]")
    status, value, error = message
    if error is not None:
        if type(error) is not list or len(error) != 2 or type(error[0]) is not int or \
                type(error[1]) is not str:
            raise WireError("last_error is [code, message]")
        error = (error[0], error[1])
    return status, value, error


# -- exceptions on the wire ----------------------------------------------------------------------


def describe_exception(exc: BaseException) -> list[Any]:
    """``[type name, message, args, state, traceback]``, each part something the wire carries."""
    args: tuple = exc.args
    state = {k: v for k, v in getattr(exc, "__dict__", {}).items()
             if isinstance(k, str) and not k.startswith("_")}
    with contextlib.suppress(Exception):
        dumps(args)
        dumps(state)
        return [type(exc).__name__, str(exc), args, state, _traceback(exc)]
    with contextlib.suppress(Exception):
        dumps(args)
        return [type(exc).__name__, str(exc), args, {}, _traceback(exc)]
    return [type(exc).__name__, str(exc), (str(exc),), {}, _traceback(exc)]


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def rebuild_exception(description: Any) -> BaseException:
    """The same exception type with the same message, or ``RemoteTerminalError``."""
    if type(description) is not list or len(description) != 5:
        return RemoteTerminalError(f"an unreadable error from the terminal: {description!r:.200}")
    name, message, args, state, server_traceback = description
    message = str(message)
    exc: BaseException | None = None
    kind = EXCEPTION_TYPES.get(name) if type(name) is str else None
    if kind is not None and type(args) is tuple and type(state) is dict:
        with contextlib.suppress(Exception):
            # Bypass a custom __init__ (ConfigError takes three arguments, not the message).
            candidate = kind.__new__(kind, *args)
            Exception.__init__(candidate, *args)
            for key, value in state.items():
                # Instance state only (ConfigError's path, key, reason): never a name the
                # class has, such as a method.
                if type(key) is str and not key.startswith("_") and not hasattr(kind, key):
                    setattr(candidate, key, value)
            if str(candidate) == message:
                exc = candidate
    if exc is None:
        exc = RemoteTerminalError(f"{name}: {message}")
    # An attribute, not a note: pytest.raises(match=...) reads notes, and the message must
    # match exactly as it does in-process.
    with contextlib.suppress(AttributeError):
        exc.server_traceback = str(server_traceback)  # type: ignore[attr-defined]
    return exc
