"""``Mt5LinuxTerminal``: the MetaTrader5 module of an mt5linux server, without pickle.

mt5linux runs an RPyC classic server in the terminal's Windows Python (under Wine, port
18812) and its client fetches every result by pickling it (``rpyc.classic.obtain``): the
package's structs do not pickle (its issue #57), and unpickling what a server sends runs
whatever that server wants.  This client speaks to the same server and takes nothing by
pickle:

- **Connecting**: RPyC's ``ClassicClient`` service (the classic protocol, as
  ``rpyc.classic.connect`` speaks it, but exposing nothing of this process to the server and
  refusing pickles), then ``conn.modules.MetaTrader5``.  RPyC 6 (what mt5linux has required
  since 1.0; RPyC 5 and 6 are not wire-compatible): the ``mt5linux`` extra installs it.
- **Arguments** are plain Python values, which RPyC sends by value: numbers, strings,
  tuples.  What it would send as a reference to an object of this process is built on the
  server instead: a request ``dict`` by the server's ``dict`` from a tuple of pairs, a
  ``datetime`` by the server's ``datetime`` (naive stays naive, as the package reads it
  there).  numpy numbers become Python numbers; anything else is refused (``TypeError``).
- **Structs**: the server's ``tuple(result)`` comes back by value (field values are plain
  builtins), and the field names from ``result._asdict()`` once per type; the product's
  struct type of that name is built field by field (``mt5bridge.structs``), nested ones (the
  ``request`` of an ``OrderSendResult``) likewise.  A tuple of structs (``positions_get``)
  comes back in one round trip (the server's ``tuple(map(tuple, result))``).
- **Arrays**: the remote dtype's description must be the one expected for the function
  (``copy_rates_*``: ``MT5_RATES_DTYPE``, ``copy_ticks_*``: ``MT5_TICKS_DTYPE``), then
  ``tobytes()`` comes back as bytes and ``np.frombuffer`` rebuilds the array.
- **A lost link is MT5-like**: no server, a broken connection or no answer within
  ``timeout_s`` makes a function return its failure value with ``last_error()`` set to the
  module's IPC codes (-10003 initialize, -10002 receive, -10005 timeout, -10004 no
  connection), which ``LiveTerminal`` answers by reconnecting (``shutdown()`` then
  ``initialize()``, which opens a new connection); the server's own -10005 (mt5linux's IPC
  timeouts with the terminal) takes the same path.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from engine.errors import UserError
from mt5bridge import constants as c
from mt5bridge import structs
from mt5bridge.remote.wire import MT5_FUNCTIONS

#: How long a call may wait for the server: the module's own ``initialize`` timeout.
DEFAULT_TIMEOUT_S = 60.0
_STRUCT_TYPES: dict[str, type[structs.StructSequence]] = {
    name: getattr(structs, name) for name in structs.STRUCT_FIELDS
}
_EXPECTED_DTYPES = {
    "copy_rates_from": structs.MT5_RATES_DTYPE,
    "copy_rates_from_pos": structs.MT5_RATES_DTYPE,
    "copy_rates_range": structs.MT5_RATES_DTYPE,
    "copy_ticks_from": structs.MT5_TICKS_DTYPE,
    "copy_ticks_range": structs.MT5_TICKS_DTYPE,
}
_PLAIN = (type(None), bool, int, float, str, bytes)
_SUCCESS = (c.RES_S_OK, "Success")
_NO_IPC = (c.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")


class Mt5LinuxError(ConnectionError):
    """The server answered with something this client does not convert."""


def import_rpyc() -> Any:
    """The ``rpyc`` package, or one line saying how to install it."""
    try:
        rpyc = importlib.import_module("rpyc")
    except ImportError:
        raise UserError("--terminal rpyc://...: the rpyc package is not installed: pip install "
                        "'fxcluster[mt5linux]' (RPyC 6, as mt5linux uses)") from None
    major = str(getattr(rpyc, "__version__", "0")).split(".")[0]
    if major != "6":
        raise UserError(f"--terminal rpyc://...: rpyc {rpyc.__version__} is installed; mt5linux "
                        "servers speak RPyC 6 (pip install 'rpyc>=6,<7')")
    return rpyc


class Mt5LinuxTerminal:
    """The ``MetaTrader5`` module's surface, answered by an mt5linux (RPyC classic) server.

    Hand it to ``LiveTerminal(module=...)``.  Creating one never contacts the server: the
    connection opens on ``initialize()``.  Thread-safe: calls are sent one at a time.
    """

    __version__ = ""
    __author__ = ""

    def __init__(self, host: str, port: int, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 module_name: str = "MetaTrader5") -> None:
        self._rpyc = import_rpyc()
        self.host, self.port = host, int(port)
        self.timeout_s = timeout_s
        self._module_name = module_name
        self._conn: Any = None
        self._mt5: Any = None
        self._lock = threading.RLock()
        self._link_error: tuple[int, str] | None = None
        self._fields: dict[str, tuple[str, ...]] = {}

    def __repr__(self) -> str:
        state = "connected" if self._conn is not None else "not connected"
        return f"Mt5LinuxTerminal(rpyc://{self.host}:{self.port}, {state})"

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def close(self) -> None:
        with self._lock:
            self._drop()

    # -- the connection ------------------------------------------------------------------------

    def _open(self) -> None:
        from rpyc.core.service import ClassicClient
        from rpyc.utils.factory import connect

        config = {"sync_request_timeout": self.timeout_s, "allow_pickle": False,
                  "allow_public_attrs": False}
        self._conn = connect(self.host, self.port, service=ClassicClient, config=config,
                             keepalive=True)
        self._mt5 = self._conn.modules[self._module_name]
        for attribute in ("__version__", "__author__"):
            with contextlib.suppress(AttributeError):
                setattr(self, attribute, str(getattr(self._mt5, attribute)))

    def _drop(self) -> None:
        conn, self._conn, self._mt5 = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _link_failure(self, exc: BaseException) -> tuple[int, str]:
        """The IPC code the module reports for this failure of the link."""
        if isinstance(exc, self._rpyc.AsyncResultTimeout):
            return c.RES_E_INTERNAL_FAIL_TIMEOUT, "IPC timeout"
        return c.RES_E_INTERNAL_FAIL_RECEIVE, "IPC recv failed"

    def _link_errors(self) -> tuple[type[BaseException], ...]:
        return (EOFError, OSError, self._rpyc.AsyncResultTimeout)

    # -- calls -----------------------------------------------------------------------------------

    def last_error(self) -> tuple[int, str]:
        """The module's ``last_error()``, or the link's own failure of the last call."""
        with self._lock:
            if self._link_error is not None:
                return self._link_error
            if self._conn is None:
                return _NO_IPC
            try:
                code, message = self._mt5.last_error()
            except self._link_errors() as exc:
                self._drop()
                self._link_error = self._link_failure(exc)
                return self._link_error
            return int(code), str(message)

    def initialize(self, *args: Any, **kwargs: Any) -> bool:
        with self._lock:
            if self._conn is None:
                try:
                    self._open()
                except (*self._link_errors(), AttributeError, ImportError) as exc:
                    self._drop()
                    self._link_error = (c.RES_E_INTERNAL_FAIL_INIT,
                                        f"IPC initialize failed, no mt5linux server at "
                                        f"{self.host}:{self.port} ({exc or type(exc).__name__})")
                    return False
            return bool(self._call("initialize", args, kwargs))

    def shutdown(self) -> None:
        """Shut the module down on the server (as a direct call would) and disconnect."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(*self._link_errors()):
                    self._mt5.shutdown()
            self._drop()
            self._link_error = None

    def _call(self, name: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        failure = MT5_FUNCTIONS[name]
        with self._lock:
            if self._conn is None:
                self._link_error = _NO_IPC
                return failure
            try:
                remote_args = tuple(self._argument(a) for a in args)
                remote_kwargs = {k: self._argument(v) for k, v in kwargs.items()}
                result = getattr(self._mt5, name)(*remote_args, **remote_kwargs)
                value = self._value(result, _EXPECTED_DTYPES.get(name))
            except self._link_errors() as exc:
                self._drop()
                self._link_error = self._link_failure(exc)
                return failure
            self._link_error = None
            return value

    # -- arguments: plain values, or built on the server -----------------------------------------

    def _argument(self, value: Any) -> Any:
        kind = type(value)
        if kind in _PLAIN:
            return value
        if isinstance(value, np.generic):
            return value.item()
        if kind is datetime:
            return self._remote_datetime(value)
        if isinstance(value, dict):
            pairs = tuple((str(k), self._argument(v)) for k, v in value.items())
            return self._conn.builtins.dict(pairs)
        if kind in (tuple, list):
            return tuple(self._argument(v) for v in value)
        raise TypeError(f"a {kind.__name__} cannot be sent to an mt5linux server (plain "
                        "numbers, strings, dates and request dicts only)")

    def _remote_datetime(self, value: datetime) -> Any:
        remote = self._conn.modules["datetime"]
        if value.tzinfo is None:
            return remote.datetime(value.year, value.month, value.day, value.hour,
                                   value.minute, value.second, value.microsecond)
        utc = value.astimezone(UTC)
        return remote.datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second,
                               utc.microsecond, remote.timezone.utc)

    # -- results: plain values, structs, arrays ------------------------------------------------

    def _value(self, value: Any, dtype: np.dtype | None) -> Any:
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is tuple:
            return self._tuple(value)
        name = _remote_type(value, self._rpyc)
        if name in _STRUCT_TYPES:
            return self._struct(name, value)
        if name == "ndarray":
            return self._array(value, dtype)
        if name in ("tuple", "list"):
            return self._tuple(self._conn.builtins.tuple(value))
        raise Mt5LinuxError(f"the mt5linux server returned a {name}, which this client does not "
                            "convert")

    def _tuple(self, items: tuple) -> tuple:
        """A tuple of results: structs of one type in one round trip, else item by item."""
        names = {_remote_type(v, self._rpyc) for v in items if type(v) not in _PLAIN}
        if len(names) == 1 and len(items) > 1 and (name := names.pop()) in _STRUCT_TYPES \
                and all(type(v) not in _PLAIN for v in items):
            b = self._conn.builtins
            rows = b.tuple(b.map(b.tuple, items))
            fields = self._field_names(name, items[0])
            return tuple(self._build(name, fields, row) for row in rows)
        return tuple(self._value(v, None) for v in items)

    def _field_names(self, name: str, ref: Any) -> tuple[str, ...]:
        fields = self._fields.get(name)
        if fields is None:
            fields = tuple(str(f) for f in self._conn.builtins.tuple(ref._asdict()))
            self._fields[name] = fields
        return fields

    def _struct(self, name: str, ref: Any) -> structs.StructSequence:
        return self._build(name, self._field_names(name, ref), self._conn.builtins.tuple(ref))

    def _build(self, name: str, fields: tuple[str, ...], row: Any) -> structs.StructSequence:
        """The product's struct ``name`` from the server's field names and values."""
        if type(row) is not tuple or len(row) != len(fields):
            raise Mt5LinuxError(f"{name}: {len(fields)} field names, a row of another shape")
        values = dict(zip(fields, row, strict=True))
        kind = _STRUCT_TYPES[name]
        ours = structs.STRUCT_FIELDS[name]
        missing = [f for f in ours if f not in values]
        if missing:
            raise Mt5LinuxError(f"{name} from the server lacks {', '.join(missing[:4])}")
        return kind([self._value(values[f], None) for f in ours])

    def _array(self, ref: Any, dtype: np.dtype | None) -> np.ndarray:
        if dtype is None:
            raise Mt5LinuxError("the mt5linux server returned an array where none is expected")
        descr = self._conn.builtins.tuple(ref.dtype.descr)
        expected = tuple(tuple(field) for field in dtype.descr)
        if tuple(tuple(f) for f in descr) != expected or int(ref.dtype.itemsize) != \
                dtype.itemsize:
            raise Mt5LinuxError(f"the server's array has dtype {descr!r}, not the "
                                f"MetaTrader5 package's {expected!r}")
        shape = tuple(int(n) for n in ref.shape)
        raw = ref.tobytes()
        if type(raw) is not bytes or len(raw) != int(np.prod(shape)) * dtype.itemsize:
            raise Mt5LinuxError("the server's array bytes do not match its shape")
        return np.frombuffer(bytearray(raw), dtype=dtype).reshape(shape)


def _remote_type(ref: Any, rpyc: Any) -> str:
    """The unqualified type name of the server's object behind a reference."""
    if not isinstance(ref, rpyc.BaseNetref):
        return type(ref).__name__
    qualified = object.__getattribute__(ref, "____id_pack__")[0]
    return str(qualified).rsplit(".", 1)[-1]


def _mt5_function(name: str) -> Callable[..., Any]:
    def function(self: Mt5LinuxTerminal, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, args, kwargs)

    function.__name__ = name
    function.__qualname__ = f"Mt5LinuxTerminal.{name}"
    function.__doc__ = f"``MetaTrader5.{name}`` on the mt5linux server, without pickle."
    return function


for _name in MT5_FUNCTIONS:
    if _name not in ("initialize", "shutdown", "last_error"):
        setattr(Mt5LinuxTerminal, _name, _mt5_function(_name))
for _name, _value in c.MT5_CONSTANTS.items():
    setattr(Mt5LinuxTerminal, _name, _value)
del _name, _value
