"""The live adapter: the engine's door to a real MetaTrader 5 terminal.

It wraps the official ``MetaTrader5`` module (imported only when live trading starts, since
it exists for Windows alone) and takes care of what every live MT5 integration gets wrong
once:

- **Login**: ``initialize`` with path/login/server; the password is read at connect time
  from an environment variable or the OS keyring and handed straight to the terminal. It
  is never stored on the adapter, logged or shown in a ``repr``.
- **Symbols**: brokers rename symbols (``EURUSD.a``, ``EURUSDm``); the adapter maps the
  product's canonical names to the broker's, selects them in Market Watch (data calls fail
  otherwise) and maps names back in positions, orders and deals.
- **Time**: MT5 stamps everything in broker server time.  The offset is configured, or
  detected at connect time by comparing the freshest tick with the UTC clock; the
  conversion helpers turn server times into the product's UTC.
- **Requests**: field values are coerced to the plain ``int``/``float`` the module
  insists on (a ``numpy.int64`` magic or an ``int`` volume makes ``order_send`` return
  ``None``), comments are cut to 29 characters, and the filling mode is taken from the
  symbol's ``filling_mode`` when the request has none.
- **Connection**: IPC failures (``-10000``..``-10005``) trigger a reconnect with
  exponential backoff; the state goes to a callback.  Data calls are retried once after a
  reconnect; ``order_send`` never is (the order may have reached the server: the engine
  reconciles from positions and deals instead).

The same adapter drives the simulated terminal: hand it a ``SimTerminal`` as ``module``.
"""

from __future__ import annotations

import enum
import importlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.errors import UserError
from engine.ports import AccountFigures
from engine.ticks import BAR_DTYPE, TICK_DTYPE
from mt5bridge import constants as c
from mt5bridge.servertime import ServerTimeZone
from mt5bridge.sim.requests import FLOAT_FIELDS, INT_FIELDS, MAX_STRING_UNITS
from mt5bridge.sim.sessions import MarketHours
from mt5bridge.structs import struct_with

__all__ = [
    "IPC_ERROR_CODES",
    "ConnectionState",
    "LiveConfig",
    "LiveTerminal",
    "TerminalConnectionError",
    "truncate_comment",
]

log = logging.getLogger(__name__)

#: ``last_error`` codes that mean the link to the terminal is broken, not the request.
IPC_ERROR_CODES = frozenset(range(c.RES_E_INTERNAL_FAIL_TIMEOUT, c.RES_E_INTERNAL_FAIL + 1))

_HALF_HOUR_MS = 1_800_000
#: A detected offset is trusted only if the freshest tick is at most this old.
_MAX_TICK_AGE_MS = 120_000


class TerminalConnectionError(UserError):
    """The terminal could not be reached or refused the login."""


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"


@dataclass(frozen=True)
class LiveConfig:
    """How to reach the trader's terminal.

    - ``path``: the terminal folder or ``terminal64.exe`` (None: the module's default).
    - ``login`` / ``server``: the account (None: whatever the terminal is logged in to).
    - ``password_env`` ("FXCLUSTER_MT5_PASSWORD"): environment variable holding the
      password; if unset, the OS keyring entry (``keyring_service``, str(login)) is used
      when the ``keyring`` package is installed; otherwise no password is passed and the
      terminal uses its saved one.
    - ``timeout_ms`` (60 000) and ``portable`` (False): passed to ``initialize``.
    - ``symbols``: canonical symbols to select in Market Watch (the clusters' symbols).
    - ``symbol_suffix``: broker suffix (``".a"``); None detects it from ``symbols_get``.
    - ``server_tz``: the server clock; None detects it at connect time.
    - ``reconnect_attempts`` (6), ``reconnect_base_delay_s`` (1, doubling),
      ``reconnect_max_delay_s`` (60), ``reconnect_cooldown_s`` (30: after giving up, wait
      this long before a call tries again).
    """

    path: str | None = None
    login: int | None = None
    server: str | None = None
    password_env: str = "FXCLUSTER_MT5_PASSWORD"
    keyring_service: str = "fxcluster-mt5"
    timeout_ms: int = 60_000
    portable: bool = False
    symbols: tuple[str, ...] = ()
    symbol_suffix: str | None = None
    server_tz: ServerTimeZone | None = None
    reconnect_attempts: int = 6
    reconnect_base_delay_s: float = 1.0
    reconnect_max_delay_s: float = 60.0
    reconnect_cooldown_s: float = 30.0


def truncate_comment(comment: str) -> str:
    """Cut a comment to the 29 UTF-16 code units the terminal accepts (no half characters)."""
    units = 0
    for i, ch in enumerate(comment):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > MAX_STRING_UNITS:
            return comment[:i]
    return comment


def _import_metatrader5() -> Any:
    try:
        return importlib.import_module("MetaTrader5")
    except ImportError:
        raise UserError(
            "the MetaTrader5 package is not installed: live trading needs Windows with the "
            "MetaTrader 5 terminal and 'pip install MetaTrader5'; demo, replay and backtest "
            "run without it"
        ) from None


def _is_failure(result: object) -> bool:
    return result is None or result is False


class LiveTerminal:
    """The MetaTrader5 functions the engine uses, with canonical symbols and UTC helpers.

    Functions keep the module's names and conventions (server times in results, ``None`` on
    failure, ``last_error()``); symbol arguments and the ``symbol`` fields of results use
    the product's canonical names.  Call ``connect()`` first.
    """

    def __init__(
        self,
        module: Any = None,
        config: LiveConfig | None = None,
        *,
        on_state: Callable[[ConnectionState, str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        utc_now: Callable[[], float] = time.time,
    ) -> None:
        self._mt5 = module if module is not None else _import_metatrader5()
        self.config = config if config is not None else LiveConfig()
        self._on_state = on_state
        self._sleep = sleep
        self._utc_now = utc_now
        self._lock = threading.RLock()
        self.state = ConnectionState.DISCONNECTED
        self._open = False  # between a successful connect() and close()
        #: No reconnect loop any more (``stop_reconnecting``): the engine is stopping.
        self._no_reconnect = False
        self._gave_up_at: float | None = None
        self._to_broker: dict[str, str] = {}
        self._to_canonical: dict[str, str] = {}
        self._filling: dict[str, int] = {}
        self._points: dict[str, float] = {}
        self.server_tz: ServerTimeZone = self.config.server_tz or ServerTimeZone()
        #: How ``server_tz`` was obtained: "configured", "detected" or "default".
        self.server_tz_source = "configured" if self.config.server_tz else "default"

    def __repr__(self) -> str:
        cfg = self.config
        return (f"LiveTerminal(login={cfg.login}, server={cfg.server!r}, "
                f"state={self.state.value}, server time {self.server_tz.label})")

    def __getattr__(self, name: str) -> Any:
        """The module's constants (``ORDER_TYPE_BUY`` ...), so the adapter reads like it."""
        if name.isupper() and name in c.MT5_CONSTANTS:
            return getattr(self.__dict__.get("_mt5"), name, c.MT5_CONSTANTS[name])
        raise AttributeError(name)

    # -- connection ------------------------------------------------------------------------

    def _set_state(self, state: ConnectionState, detail: str = "") -> None:
        self.state = state
        log.info("MT5 connection %s%s", state.value, f": {detail}" if detail else "")
        if self._on_state is not None:
            self._on_state(state, detail)

    def _password(self) -> str | None:
        cfg = self.config
        if cfg.password_env and os.environ.get(cfg.password_env):
            log.info("MT5 password taken from environment variable %s", cfg.password_env)
            return os.environ[cfg.password_env]
        if cfg.login is None:
            return None
        try:
            keyring = importlib.import_module("keyring")
        except ImportError:
            return None
        try:
            secret = keyring.get_password(cfg.keyring_service, str(cfg.login))
        except Exception as exc:  # any keyring backend failure means "no password"
            log.warning("OS keyring unavailable (%s); connecting without a password",
                        type(exc).__name__)
            return None
        if secret:
            log.info("MT5 password taken from the OS keyring (%s)", cfg.keyring_service)
        return secret or None

    def _initialize(self) -> bool:
        cfg = self.config
        kwargs: dict[str, Any] = {"timeout": int(cfg.timeout_ms)}
        if cfg.login is not None:
            kwargs["login"] = int(cfg.login)
        if cfg.server:
            kwargs["server"] = cfg.server
        if cfg.portable:
            kwargs["portable"] = True
        password = self._password()
        if password is not None:
            kwargs["password"] = password
        try:
            if cfg.path:
                return bool(self._mt5.initialize(cfg.path, **kwargs))
            return bool(self._mt5.initialize(**kwargs))
        finally:
            kwargs.pop("password", None)
            del password

    def connect(self, keep: Callable[[set[str]], Sequence[str]] | None = None) -> None:
        """Connect, map and select the symbols, settle the server clock; or raise.

        ``keep``: given the configured symbols the broker offers (``offered_symbols``), the
        symbols to trade instead of the configured ones (a session fitting its clusters to
        the broker); it may raise, and nothing stays connected."""
        with self._lock:
            self._set_state(ConnectionState.CONNECTING)
            if not self._initialize():
                code, message = self._mt5.last_error()
                self._set_state(ConnectionState.DISCONNECTED, f"{code} {message}")
                raise TerminalConnectionError(_connect_failure_text(code, message, self.config))
            try:
                if keep is not None:
                    offered = offered_symbols(self.config.symbols, self._broker_names())
                    self.config = replace(self.config, symbols=tuple(keep(offered)))
                self._map_symbols()
                self._select_symbols()
                self._settle_server_tz()
            except Exception:
                self._mt5.shutdown()
                self._set_state(ConnectionState.DISCONNECTED, "setup failed")
                raise
            self._gave_up_at = None
            self._open = True
            self._set_state(ConnectionState.CONNECTED, f"server time {self.server_tz.label} "
                            f"({self.server_tz_source})")

    def close(self) -> None:
        with self._lock:
            self._open = False
            self._mt5.shutdown()
            self._set_state(ConnectionState.DISCONNECTED, "closed")

    def stop_reconnecting(self) -> None:
        """From now on a lost link is not reconnected: the engine is stopping, and its last
        marks take what the terminal answers at once.  Without this a stop met a dead
        terminal with the whole reconnect loop (six attempts, backoff from 1 to 32 s: 64 s
        measured), long enough for a service manager to kill the process before the run's
        end was journaled."""
        with self._lock:
            self._no_reconnect = True

    def ensure_connected(self) -> bool:
        """Reconnect now if the link is down (ignores the cooldown); True when connected."""
        with self._lock:
            if not self._open:
                raise TerminalConnectionError("the terminal is not connected: call connect()")
            if self.state is ConnectionState.CONNECTED:
                return True
            return False if self._no_reconnect else self._reconnect()

    def _reconnect(self) -> bool:
        cfg = self.config
        delay = cfg.reconnect_base_delay_s
        for attempt in range(1, cfg.reconnect_attempts + 1):
            self._set_state(ConnectionState.RECONNECTING, f"attempt {attempt} in {delay:g} s")
            self._sleep(delay)
            self._mt5.shutdown()
            if self._initialize() and self._select_symbols(raise_on_failure=False):
                self._gave_up_at = None
                self._set_state(ConnectionState.CONNECTED, f"reconnected (attempt {attempt})")
                return True
            code, message = self._mt5.last_error()
            log.warning("MT5 reconnect attempt %d failed: %s %s", attempt, code, message)
            delay = min(delay * 2, cfg.reconnect_max_delay_s)
        self._gave_up_at = self._utc_now()
        self._set_state(ConnectionState.DISCONNECTED,
                        f"gave up after {cfg.reconnect_attempts} attempts")
        return False

    def _call(self, name: str, *args: Any, retry: bool = True, **kwargs: Any) -> Any:
        """Call a module function; on an IPC failure reconnect and (data calls) retry."""
        with self._lock:
            if not self._open:
                raise TerminalConnectionError("the terminal is not connected: call connect()")
            if self.state is not ConnectionState.CONNECTED:
                cooling = (self._gave_up_at is not None and self._utc_now() - self._gave_up_at
                           < self.config.reconnect_cooldown_s)
                if cooling or self._no_reconnect or not self._reconnect():
                    return None
            function = getattr(self._mt5, name)
            result = function(*args, **kwargs)
            if not _is_failure(result):
                return result
            code, message = self._mt5.last_error()
            if code not in IPC_ERROR_CODES:
                return result
            self._set_state(ConnectionState.DISCONNECTED, f"{name}: {code} {message}")
            if self._no_reconnect:
                return result
            if self._reconnect() and retry:
                return function(*args, **kwargs)
            return result

    # -- symbols ---------------------------------------------------------------------------

    def _broker_names(self) -> set[str]:
        """Every symbol name the broker lists (empty when the terminal lists none)."""
        offered = self._mt5.symbols_get()
        return {s.name for s in offered} if offered else set()

    def _map_symbols(self) -> None:
        cfg = self.config
        names = self._broker_names()
        if cfg.symbol_suffix is not None:
            mapping = {s: s + cfg.symbol_suffix for s in cfg.symbols}
            missing = [b for b in mapping.values() if names and b not in names]
            if missing:
                raise TerminalConnectionError(
                    f"the broker does not offer {', '.join(missing)} (symbol_suffix "
                    f"{cfg.symbol_suffix!r}); check the suffix in the live configuration")
        else:
            mapping = _detect_broker_names(cfg.symbols, names)
        self._to_broker = mapping
        self._to_canonical = {b: s for s, b in mapping.items()}
        if any(s != b for s, b in mapping.items()):
            log.info("broker symbol names: %s",
                     ", ".join(f"{s}->{b}" for s, b in mapping.items() if s != b))

    def _select_symbols(self, raise_on_failure: bool = True) -> bool:
        for canonical, broker in self._to_broker.items():
            if not self._mt5.symbol_select(broker, True):
                code, message = self._mt5.last_error()
                if raise_on_failure:
                    raise TerminalConnectionError(
                        f"cannot select {broker} ({canonical}) in Market Watch: {code} {message}")
                return False
        return True

    def add_symbols(self, symbols: Sequence[str]) -> None:
        """Map and select symbols found after connecting (a basis cluster's contracts, read
        from the broker's list at start) under the broker's suffix in use; or raise.  A
        reconnect selects them again with the others."""
        with self._lock:
            new = [s for s in dict.fromkeys(symbols) if s not in self._to_broker]
            if not new:
                return
            suffix = self._suffix_in_use()
            names = self._broker_names()
            missing = [s + suffix for s in new if names and s + suffix not in names]
            if missing:
                raise TerminalConnectionError(f"the broker does not offer "
                                              f"{', '.join(missing)}")
            self._to_broker.update({s: s + suffix for s in new})
            self._to_canonical.update({s + suffix: s for s in new})
            self.config = replace(self.config, symbols=(*self.config.symbols, *new))
            self._select_symbols()

    def canonical_name(self, broker_name: str) -> str:
        """A name from the broker's own list (``symbols_get``, a ``basis`` field) as the
        engine names it: the mapped name, else the name less the suffix in use."""
        if broker_name in self._to_canonical:
            return self._to_canonical[broker_name]
        suffix = self._suffix_in_use()
        if suffix and broker_name.endswith(suffix) and len(broker_name) > len(suffix):
            return broker_name[: -len(suffix)]
        return broker_name

    def _suffix_in_use(self) -> str:
        """The configured suffix, else the one the mapping found ("" for exact names)."""
        if self.config.symbol_suffix is not None:
            return self.config.symbol_suffix
        for canonical, broker in self._to_broker.items():
            if broker != canonical and broker.startswith(canonical):
                return broker[len(canonical):]
        return ""

    def broker_symbol(self, symbol: str) -> str:
        """The broker's name for a canonical symbol (unmapped names pass through)."""
        return self._to_broker.get(symbol, symbol)

    def canonical_symbol(self, broker_symbol: str) -> str:
        return self._to_canonical.get(broker_symbol, broker_symbol)

    # -- server time -----------------------------------------------------------------------

    def _settle_server_tz(self) -> None:
        if self.config.server_tz is not None:
            return
        detected = self._detect_offset_ms()
        if detected is None:
            self.server_tz, self.server_tz_source = ServerTimeZone(), "default"
            log.warning("could not detect the server time offset (market closed or no fresh "
                        "tick); assuming %s", self.server_tz.label)
            return
        now_ms = int(self._utc_now() * 1000)
        typical = ServerTimeZone()
        if detected == typical.offset_ms(now_ms):
            self.server_tz = typical
        else:
            self.server_tz = ServerTimeZone.fixed(detected / 3_600_000)
        self.server_tz_source = "detected"

    def _detect_offset_ms(self) -> int | None:
        """Server minus UTC from the freshest tick, to the half hour; None if unreliable."""
        now_ms = int(self._utc_now() * 1000)
        if not _fx_market_open(now_ms):
            return None
        latest = None
        for broker in self._to_broker.values():
            tick = self._mt5.symbol_info_tick(broker)
            if tick is not None and (latest is None or tick.time_msc > latest):
                latest = int(tick.time_msc)
        if latest is None:
            return None
        raw = latest - now_ms
        offset = round(raw / _HALF_HOUR_MS) * _HALF_HOUR_MS
        age = offset - raw
        if not -_MAX_TICK_AGE_MS <= age <= _MAX_TICK_AGE_MS:
            return None
        return offset

    def utc_ms_from_server_s(self, server_s: int) -> int:
        return self.server_tz.to_utc_ms(int(server_s) * 1000)

    def utc_ms_from_server_ms(self, server_ms: int) -> int:
        return self.server_tz.to_utc_ms(int(server_ms))

    def server_s_from_utc_ms(self, utc_ms: int) -> int:
        """A date argument for ``copy_*``/``history_*`` (an int: never a naive datetime)."""
        return self.server_tz.to_server_ms(int(utc_ms)) // 1000

    def rates_to_bars(self, symbol: str, rates: np.ndarray) -> np.ndarray:
        """``copy_rates_*`` rows -> ``BAR_DTYPE`` in UTC, spread in price units."""
        out = np.empty(len(rates), dtype=BAR_DTYPE)
        out["time"] = self.server_tz.to_utc_s_array(rates["time"])
        for name in ("open", "high", "low", "close"):
            out[name] = rates[name]
        out["tick_volume"] = rates["tick_volume"].astype(np.int64)
        out["spread"] = rates["spread"] * self._point(symbol)
        return out

    def ticks_to_engine(self, symbol_index: int, ticks: np.ndarray) -> np.ndarray:
        """``copy_ticks_*`` rows -> ``TICK_DTYPE`` in UTC for the engine's symbol index."""
        out = np.empty(len(ticks), dtype=TICK_DTYPE)
        out["time_msc"] = self.server_tz.to_utc_ms_array(ticks["time_msc"])
        out["symbol"] = symbol_index
        out["bid"] = ticks["bid"]
        out["ask"] = ticks["ask"]
        out["flags"] = ticks["flags"]
        return out

    def _point(self, symbol: str) -> float:
        if symbol not in self._points:
            info = self.symbol_info(symbol)
            if info is None:
                raise TerminalConnectionError(f"no symbol information for {symbol}")
            self._points[symbol] = float(info.point)
        return self._points[symbol]

    # -- requests --------------------------------------------------------------------------

    def filling_mode_for(self, symbol: str) -> int:
        """The ``type_filling`` the symbol allows: FOK, else IOC, else RETURN."""
        if symbol not in self._filling:
            info = self.symbol_info(symbol)
            mode = int(info.filling_mode) if info is not None else 0
            if mode & c.SYMBOL_FILLING_FOK:
                self._filling[symbol] = c.ORDER_FILLING_FOK
            elif mode & c.SYMBOL_FILLING_IOC:
                self._filling[symbol] = c.ORDER_FILLING_IOC
            else:
                self._filling[symbol] = c.ORDER_FILLING_RETURN
        return self._filling[symbol]

    def prepare_request(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The request as the module accepts it (see the module docstring)."""
        out: dict[str, Any] = {}
        for key, value in request.items():
            if key in INT_FIELDS:
                out[key] = int(value)
            elif key in FLOAT_FIELDS:
                out[key] = float(value)
            elif key == "symbol":
                out[key] = self.broker_symbol(str(value))
            elif key == "comment":
                out[key] = truncate_comment(str(value))
            else:
                log.debug("dropping unknown request key %r", key)
        symbol = request.get("symbol")
        if "type_filling" not in out and symbol is not None and out.get("action") in (
            c.TRADE_ACTION_DEAL, c.TRADE_ACTION_PENDING
        ):
            out["type_filling"] = self.filling_mode_for(str(symbol))
        return out

    # -- results: canonical symbol names ---------------------------------------------------

    def _canon(self, struct: Any) -> Any:
        broker = getattr(struct, "symbol", None)
        if broker is None or broker not in self._to_canonical:
            return struct
        return struct_with(struct, symbol=self._to_canonical[broker])

    def _canon_all(self, result: Any) -> Any:
        if result is None:
            return None
        return tuple(self._canon(item) for item in result)

    def _canon_result(self, result: Any) -> Any:
        if result is None or not hasattr(result, "request"):
            return result
        return struct_with(result, request=self._canon(result.request))

    # -- the module's functions ------------------------------------------------------------

    def last_error(self) -> tuple[int, str]:
        return self._mt5.last_error()

    def version(self) -> Any:
        return self._call("version")

    def terminal_info(self) -> Any:
        return self._call("terminal_info")

    def account_info(self) -> Any:
        return self._call("account_info")

    def account_figures(self) -> AccountFigures | None:
        """Balance, equity, margin, free margin and margin level, as ``account_info`` gives
        them; a simulated terminal in this process hands them over without building the
        account structure (the engine asks every minute a basket is open)."""
        if hasattr(self._mt5, "sim_account_figures"):
            return self._call("sim_account_figures")
        info = self.account_info()
        if info is None:
            return None
        return AccountFigures(float(info.balance), float(info.equity), float(info.margin),
                              float(info.margin_free), float(info.margin_level))

    def symbols_total(self) -> Any:
        return self._call("symbols_total")

    def symbols_get(self, **filters: Any) -> Any:
        """Broker names as the terminal lists them (no mapping: this is the broker's list)."""
        return self._call("symbols_get", **filters)

    def symbol_info(self, symbol: str) -> Any:
        info = self._call("symbol_info", self.broker_symbol(symbol))
        if info is None or info.name not in self._to_canonical:
            return info
        return struct_with(info, name=self._to_canonical[info.name])

    def symbol_info_tick(self, symbol: str) -> Any:
        return self._call("symbol_info_tick", self.broker_symbol(symbol))

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        return bool(self._call("symbol_select", self.broker_symbol(symbol), enable))

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: Any, count: int) -> Any:
        return self._call("copy_rates_from", self.broker_symbol(symbol), timeframe, date_from,
                          count)

    def copy_rates_from_pos(self, symbol: str, timeframe: int, start_pos: int,
                            count: int) -> Any:
        return self._call("copy_rates_from_pos", self.broker_symbol(symbol), timeframe,
                          start_pos, count)

    def copy_rates_range(self, symbol: str, timeframe: int, date_from: Any,
                         date_to: Any) -> Any:
        return self._call("copy_rates_range", self.broker_symbol(symbol), timeframe, date_from,
                          date_to)

    def copy_ticks_from(self, symbol: str, date_from: Any, count: int, flags: int) -> Any:
        return self._call("copy_ticks_from", self.broker_symbol(symbol), date_from, count,
                          flags)

    def copy_ticks_range(self, symbol: str, date_from: Any, date_to: Any, flags: int) -> Any:
        return self._call("copy_ticks_range", self.broker_symbol(symbol), date_from, date_to,
                          flags)

    def positions_total(self) -> Any:
        return self._call("positions_total")

    def positions_get(self, **filters: Any) -> Any:
        if "symbol" in filters and filters["symbol"] is not None:
            filters["symbol"] = self.broker_symbol(filters["symbol"])
        return self._canon_all(self._call("positions_get", **filters))

    def orders_total(self) -> Any:
        return self._call("orders_total")

    def orders_get(self, **filters: Any) -> Any:
        if "symbol" in filters and filters["symbol"] is not None:
            filters["symbol"] = self.broker_symbol(filters["symbol"])
        return self._canon_all(self._call("orders_get", **filters))

    def history_orders_total(self, date_from: Any, date_to: Any) -> Any:
        return self._call("history_orders_total", date_from, date_to)

    def history_orders_get(self, *args: Any, **filters: Any) -> Any:
        return self._canon_all(self._call("history_orders_get", *args, **filters))

    def history_deals_total(self, date_from: Any, date_to: Any) -> Any:
        return self._call("history_deals_total", date_from, date_to)

    def history_deals_get(self, *args: Any, **filters: Any) -> Any:
        return self._canon_all(self._call("history_deals_get", *args, **filters))

    def order_check(self, request: Mapping[str, Any]) -> Any:
        return self._canon_result(self._call("order_check", self.prepare_request(request)))

    def order_send(self, request: Mapping[str, Any]) -> Any:
        """Send once: an IPC failure reconnects but never resends (see module docstring)."""
        prepared = self.prepare_request(request)
        return self._canon_result(self._call("order_send", prepared, retry=False))

    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> Any:
        return self._call("order_calc_margin", int(action), self.broker_symbol(symbol),
                          float(volume), float(price))

    def order_calc_profit(self, action: int, symbol: str, volume: float, price_open: float,
                          price_close: float) -> Any:
        return self._call("order_calc_profit", int(action), self.broker_symbol(symbol),
                          float(volume), float(price_open), float(price_close))


def _fx_market_open(utc_ms: int) -> bool:
    """Sunday 22:00 to Friday 22:00 UTC: when a fresh tick is to be expected."""
    return MarketHours(holidays=()).is_open(utc_ms)


def offered_symbols(symbols: Sequence[str], names: set[str]) -> set[str]:
    """The canonical ``symbols`` the broker lists under their own name or with a suffix of up
    to four characters (as ``_detect_broker_names`` looks for them); all of them when the
    broker lists nothing (the mapping then takes the names as given)."""
    if not names:
        return set(symbols)
    return {s for s in symbols
            if s in names or any(n.startswith(s) and 0 < len(n) - len(s) <= 4 for n in names)}


def _detect_broker_names(symbols: tuple[str, ...], offered: set[str]) -> dict[str, str]:
    """Canonical -> broker names: exact names, else one suffix shared by all symbols."""
    mapping: dict[str, str] = {}
    candidates: dict[str, list[str]] = {}
    for symbol in symbols:
        if symbol in offered or not offered:
            mapping[symbol] = symbol
            continue
        found = sorted(n for n in offered if n.startswith(symbol) and 0 < len(n) - len(symbol)
                       <= 4)
        if not found:
            raise TerminalConnectionError(
                f"the broker does not offer {symbol} (no symbol named {symbol} or "
                f"{symbol} plus a suffix)")
        candidates[symbol] = found
    if candidates:
        suffix_sets = [{n[len(s):] for n in names} for s, names in candidates.items()]
        common = set.intersection(*suffix_sets)
        if len(common) != 1:
            listed = "; ".join(f"{s}: {', '.join(n)}" for s, n in candidates.items())
            raise TerminalConnectionError(
                f"cannot tell the broker's symbol suffix ({listed}); set symbol_suffix in the "
                "live configuration")
        suffix = common.pop()
        mapping.update({s: s + suffix for s in candidates})
    return {s: mapping[s] for s in symbols}


def _connect_failure_text(code: int, message: str, config: LiveConfig) -> str:
    if "terminal server" in message:  # the bridge's own words say what failed and what to do
        return f"cannot connect to MetaTrader 5 ({code}: {message})"
    hint = {
        c.RES_E_AUTH_FAILED: "check login and server, and the password in "
        f"${config.password_env} or the OS keyring",
        c.RES_E_INTERNAL_FAIL_INIT: "is the 64-bit MetaTrader 5 terminal installed, and is "
        "the path right?",
        c.RES_E_INTERNAL_FAIL_TIMEOUT: "the terminal did not answer: close any dialog or "
        "update prompt in it and try again",
    }.get(code, "see the terminal's Journal tab")
    return f"cannot connect to MetaTrader 5 ({code}: {message}): {hint}"
