# long-module: the MetaTrader5 module's whole surface (32 functions) on one object, as the real
# package exposes it; each function is short, and splitting the object would split that surface.
"""``SimTerminal``: an object with the ``MetaTrader5`` module's surface over a market feed.

Everything a caller can observe follows the real package (see ``mt5_api.json``): the 223
constants as attributes, the 32 functions with their calling conventions (``copy_*``
positional only, ``positions_get``/``orders_get``/``symbols_get`` keyword only), struct
results with the real field order, packed numpy rows, ``None`` plus ``last_error()`` on
failure and ``(1, 'Success')`` after success, strict request parsing, and times in broker
**server time**.  Code that runs against this object runs against the real terminal.

The simulator is driven through a few ``sim_``-prefixed methods that the real module does
not have: ``sim_advance_to(t)`` consumes the feed up to ``t`` (UTC ms) and is the only thing
that moves the clock; the engine's backtest loop calls it once per step and can take the
step's ticks from ``sim_last_ticks()``.  Like the real module's single IPC link, a terminal
is not thread-safe: drive it from one thread.

Failure codes used where the package's behaviour is not documented (inferred, kept
consistent): unknown symbol ``(-4, 'Terminal: Not found')``; symbol not in Market Watch,
or no quote yet, ``(-1, 'Terminal: Call failed')``; a bad timeframe/count/flags value
``(-2, 'Terminal: Invalid params')``; a bad symbol or date argument
``(-2, 'Invalid arguments')``.  A range with no bars or ticks returns an empty array.
"""

from __future__ import annotations

import dataclasses
import ntpath
import uuid
from typing import Any

import numpy as np

from engine.errors import ConfigError
from engine.ports import AccountFigures
from mt5bridge import constants as c
from mt5bridge.feed import MarketFeed
from mt5bridge.sim import preview
from mt5bridge.sim.config import SimConfig
from mt5bridge.sim.faults import FaultConfig, FaultInjector
from mt5bridge.sim.futures import trade_mode_at
from mt5bridge.sim.futures_catalogue import futures_spec
from mt5bridge.sim.futures_expiry import ExpirySchedule
from mt5bridge.sim.groups import group_matcher
from mt5bridge.sim.rates import TIMEFRAME_MINUTES, RatesBook, bucket_start, to_mt5_rates
from mt5bridge.sim.requests import (
    ArgumentError,
    c_double,
    c_int,
    c_ulong,
    parse_date,
    parse_request,
    parse_symbol,
)
from mt5bridge.sim.symbol_sessions import SessionFilter
from mt5bridge.sim.symbols import BROKER_SPECS, SymbolSpec
from mt5bridge.sim.tape import TickTape
from mt5bridge.sim.trading import TradeServer
from mt5bridge.structs import (
    MT5_TICKS_DTYPE,
    AccountInfo,
    BookInfo,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)

__all__ = ["SimTerminal"]

_VERSION = (500, 5120, "13 Jun 2025")
_BUILD = _VERSION[1]

#: ``last_error`` texts by code (the package's own table).
ERROR_MESSAGES: dict[int, str] = {
    c.RES_S_OK: "Success",
    c.RES_E_FAIL: "Terminal: Call failed",
    c.RES_E_INVALID_PARAMS: "Terminal: Invalid params",
    c.RES_E_NO_MEMORY: "Terminal: Out of memory",
    c.RES_E_NOT_FOUND: "Terminal: Not found",
    c.RES_E_INVALID_VERSION: "Terminal: Incompatible versions, please install the latest "
    "version of Terminal and Python module",
    c.RES_E_AUTH_FAILED: "Terminal: Authorization failed",
    c.RES_E_UNSUPPORTED: "Terminal: Unsupported function",
    c.RES_E_AUTO_TRADING_DISABLED: "Terminal: Call failed",
    c.RES_E_INTERNAL_FAIL: "IPC call failed",
    c.RES_E_INTERNAL_FAIL_SEND: "IPC send failed",
    c.RES_E_INTERNAL_FAIL_RECEIVE: "IPC recv failed",
    c.RES_E_INTERNAL_FAIL_INIT: "IPC initialize failed",
    c.RES_E_INTERNAL_FAIL_CONNECT: "No IPC connection",
    c.RES_E_INTERNAL_FAIL_TIMEOUT: "IPC timeout",
}

_DAY_S = 86_400
_NOT_GIVEN: Any = object()


def _specs_for(symbols: tuple[str, ...], config: SimConfig) -> list[SymbolSpec]:
    extra = {spec.name: spec for spec in config.extra_specs}
    specs = []
    for name in symbols:
        spec = extra.get(name) or BROKER_SPECS.get(name) or futures_spec(name)
        if spec is None:
            raise ConfigError("simulated terminal", "extra_specs",
                              f"the feed quotes {name}, which has no symbol specification")
        specs.append(dataclasses.replace(spec, name=name + config.symbol_suffix))
    return specs


class SimTerminal:
    """The simulated MT5 terminal (see the module docstring)."""

    __version__ = "5.0.6231"
    __author__ = "MetaQuotes Ltd."

    def __init__(self, feed: MarketFeed | None = None, config: SimConfig | None = None) -> None:
        config = config if config is not None else SimConfig()
        if not config.account_epoch:
            # The account's positions and deals live as long as this object: a life of its own.
            config = dataclasses.replace(config, account_epoch=f"sim-{uuid.uuid4().hex}")
        self._config = config
        if feed is None:
            from mt5bridge.sim.market import MarketConfig, SyntheticMarket

            feed = SyntheticMarket(MarketConfig(seed=config.market_seed))
        self._feed = feed
        feed_names = tuple(feed.symbols)
        self._specs = _specs_for(feed_names, config)
        self._names = tuple(spec.name for spec in self._specs)
        self._index = {name: i for i, name in enumerate(self._names)}
        #: Every price at its symbol's digits: a feed that can round (a replay of files,
        #: whose decimals need not be the broker's) rounds each tick once as it reads it;
        #: for any other, the session filter rounds the CFDs' ticks.
        quote_at = getattr(feed, "quote_at_digits", None)
        if quote_at is not None:
            quote_at([spec.digits for spec in self._specs])
        #: a CFD's ticks outside its own session are not quoted (``symbol_sessions``)
        own = {i: spec for i, spec in enumerate(self._specs) if spec.session is not None}
        self._in_session = SessionFilter(
            {i: s.session for i, s in own.items() if s.session is not None},
            None if quote_at is not None else {i: s.digits for i, s in own.items()},
            n_symbols=len(self._specs))
        self._tz = config.server_tz
        self._now = int(feed.start_msc)
        self._tape = TickTape(
            len(self._names),
            config.tick_history_max_ticks,
            int(config.tick_history_days * _DAY_S * 1000),
            on_evict=self._flush_bars_before_eviction,
        )
        warmup = feed.warmup_bars()
        self._rates = RatesBook(
            self._names,
            {name + config.symbol_suffix: bars for name, bars in warmup.items()},
            config.max_bars,
            self._tz,
        )
        for i in range(len(self._names)):
            last = self._rates.last_close(i)
            if last is not None:
                close, spread, bar_time = last
                self._tape.seed_quote(i, close, close + spread, (bar_time + 60) * 1000 - 1)
        self._bars_upto = 0
        self._bars_clock = -1
        self._faults = FaultInjector(config.faults)
        self._trade = TradeServer(config, self._specs, self._tape, self._faults, self._now)
        self._expiries = ExpirySchedule(self._specs, self._now)  # futures CFDs (futures.py)
        self._next_rollover = self._tz.next_midnight_utc_ms(self._now)
        self._selected: set[int] = set()
        for name in config.selected:
            i = self._index.get(name, self._index.get(name + config.symbol_suffix))
            if i is None:
                raise ConfigError("simulated terminal", "selected", f"unknown symbol {name}")
            self._selected.add(i)
        self._books: set[int] = set()
        self._initialized = False
        self._lost = False
        self._failures_left = 0
        self._last_error: tuple[int, str] = (c.RES_S_OK, "Success")
        self._last_range = (0, 0)
        self._ticks_consumed = 0

    def __repr__(self) -> str:
        return (f"SimTerminal({len(self._names)} symbols, server {self._config.server}, "
                f"{self._tz.label})")

    # -- last_error bookkeeping ------------------------------------------------------------

    def _ok(self, value: Any) -> Any:
        self._last_error = (c.RES_S_OK, "Success")
        return value

    def _fail(self, code: int, message: str | None = None, value: Any = None) -> Any:
        self._last_error = (code, message if message is not None else ERROR_MESSAGES.get(
            code, "Terminal: Call failed"))
        return value

    def _link(self) -> bool:
        """Whether a call reaches the terminal; records the IPC error when it does not."""
        if not self._initialized or self._lost:
            self._fail(c.RES_E_INTERNAL_FAIL_CONNECT)
            return False
        if self._faults.connection_drops():
            self._lost = True
            self._failures_left = self._config.faults.reconnect_failures
            self._fail(c.RES_E_INTERNAL_FAIL_TIMEOUT)
            return False
        return True

    def _symbol_index(self, symbol: object, *, need_selected: bool) -> int | None:
        """Index of a symbol argument, or None with last_error set."""
        try:
            name = parse_symbol(symbol)
        except ArgumentError as exc:
            return self._fail(c.RES_E_INVALID_PARAMS, exc.message)
        i = self._index.get(name)
        if i is None:
            return self._fail(c.RES_E_NOT_FOUND)
        if need_selected and i not in self._selected:
            return self._fail(c.RES_E_FAIL)
        return i

    # -- connection ------------------------------------------------------------------------

    def initialize(self, path: object = None, *, login: object = None, password: object = None,
                   server: object = None, timeout: object = 60_000,
                   portable: object = False) -> bool:
        """Establish connection to MetaTrader 5 terminal."""
        if path is not None and not self._is_terminal_path(path):
            return self._fail(c.RES_E_INTERNAL_FAIL_INIT,
                              f"IPC initialize failed, Process create failed '{path}'", False)
        if self._lost and self._failures_left > 0:
            self._failures_left -= 1
            seconds = int(timeout) // 1000 if isinstance(timeout, int) else 60
            return self._fail(c.RES_E_INTERNAL_FAIL_INIT,
                              f"IPC initialize failed, Pipe server didn't answer in {seconds} sec",
                              False)
        given = login is not None or password is not None or server is not None
        if given and not self._credentials_ok(login, password, server):
            return False
        self._initialized = True
        self._lost = False
        return self._ok(True)

    def _is_terminal_path(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        folder = ntpath.normcase(ntpath.normpath(self._config.terminal_path))
        given = ntpath.normcase(ntpath.normpath(path))
        return given in (folder, ntpath.join(folder, "terminal64.exe"))

    def _credentials_ok(self, login: object, password: object, server: object) -> bool:
        if login is not None and (not isinstance(login, int) or isinstance(login, bool)):
            return self._fail(c.RES_E_INVALID_PARAMS, 'Invalid "login" argument', False)
        for name, value in (("password", password), ("server", server)):
            if value is not None and not isinstance(value, str):
                return self._fail(c.RES_E_INVALID_PARAMS, f'Invalid "{name}" argument', False)
        cfg = self._config
        if login is not None and login != cfg.login:
            return self._fail(c.RES_E_AUTH_FAILED, value=False)
        if server is not None and server != cfg.server:
            return self._fail(c.RES_E_AUTH_FAILED, value=False)
        if cfg.password is not None and password is not None and password != cfg.password:
            return self._fail(c.RES_E_AUTH_FAILED, value=False)
        if cfg.password is not None and password is None and login is not None:
            return self._fail(c.RES_E_AUTH_FAILED, value=False)
        return True

    def login(self, login: object, password: object = None, server: object = None,
              timeout: object = 60_000) -> bool:
        """Log in to specific account."""
        if not self._link():
            return False
        if not self._credentials_ok(login, password, server):
            return False
        return self._ok(True)

    def shutdown(self) -> None:
        """Disconnect from MetaTrader 5 terminal."""
        self._initialized = False
        self._ok(None)

    def version(self) -> tuple[int, int, str] | None:
        """Get MetaTrader 5 terminal version."""
        if not self._link():
            return None
        return self._ok(_VERSION)

    def last_error(self) -> tuple[int, str]:
        """Return last error code and description."""
        return self._last_error

    def terminal_info(self) -> Any:
        """Get parameters of MetaTrader 5 terminal."""
        if not self._link():
            return None
        cfg = self._config
        data_path = r"C:\Users\trader\AppData\Roaming\MetaQuotes\Terminal\FXCLUSTERSIM0000"
        return self._ok(TerminalInfo((
            False, False, True, False, self._trade.algo_enabled, False, False, False, False,
            False, _BUILD, cfg.max_bars, 1252, 25_000, 0.0, 0.0, cfg.company,
            "FxCluster Sim Terminal", "English", cfg.terminal_path, data_path,
            r"C:\Users\trader\AppData\Roaming\MetaQuotes\Terminal\Common",
        )))

    def _account_now(self) -> tuple[float, float, float, float, float, float]:
        """(balance, profit, equity, margin, free margin, margin level) at the last quotes.

        Only positions read quotes: with none open the figures are the balance's, and the
        quotes are brought up to date when something next reads them (every reader syncs
        them first), so a flat account skips the walk through the ticks since the last."""
        if self._trade.positions:
            self._tape.sync_quotes()
        return self._account_figures()

    def _account_figures(self) -> tuple[float, float, float, float, float, float]:
        """``_account_now`` at the tape's quotes as they stand (``mt5bridge.sim.preview``)."""
        trade = self._trade
        profit = trade.profit()  # once: equity is balance + this + swaps (TradeAccount.equity)
        balance = trade.balance
        equity, margin = round(balance + profit + trade.swaps(), 2), trade.margin()
        return (balance, profit, equity, margin, round(equity - margin, 2),
                round(trade.margin_level(equity, margin), 2))

    def sim_account_figures(self) -> AccountFigures | None:
        """``account_info``'s balance, equity, margin, free margin and margin level, without
        the structure (``LiveTerminal.account_figures``)."""
        if not self._link():
            return None
        balance, _, equity, margin, free, level = self._account_now()
        return self._ok(AccountFigures(balance, equity, margin, free, level))

    def account_info(self) -> Any:
        """Return information on the current account."""
        if not self._link():
            return None
        cfg = self._config
        balance, profit, equity, margin, free, level = self._account_now()
        return self._ok(AccountInfo((
            cfg.login, c.ACCOUNT_TRADE_MODE_DEMO, cfg.leverage, 200,
            c.ACCOUNT_STOPOUT_MODE_PERCENT, True, True, cfg.margin_mode, 2, False,
            balance, 0.0, profit, equity, margin, free, level, cfg.margin_so_call, cfg.margin_so_so,
            0.0, 0.0, 0.0, 0.0, 0.0, cfg.account_name, cfg.server, cfg.currency, cfg.company,
        )))

    # -- symbols ---------------------------------------------------------------------------

    def symbols_total(self) -> int | None:
        """Return the number of all available symbols."""
        if not self._link():
            return None
        return self._ok(len(self._names))

    def symbols_get(self, *args: object, group: object = None) -> tuple | None:
        """Return all available symbols or filtred by group."""
        if args:
            raise TypeError("Unnamed arguments not allowed")
        if not self._link():
            return None
        if group is not None and not isinstance(group, str):
            return self._fail(c.RES_E_INVALID_PARAMS, 'Invalid "group" argument')
        matcher = group_matcher(group) if group else None
        infos = tuple(self._symbol_info(i) for i, name in enumerate(self._names)
                      if matcher is None or matcher.fullmatch(name))
        return self._ok(infos)

    def symbol_info(self, symbol: object, /) -> Any:
        """Return full information for specified symbol."""
        if not self._link():
            return None
        i = self._symbol_index(symbol, need_selected=False)
        if i is None:
            return None
        return self._ok(self._symbol_info(i))

    def symbol_info_tick(self, symbol: object, /) -> Any:
        """Return current prices of specified symbol."""
        if not self._link():
            return None
        i = self._symbol_index(symbol, need_selected=True)
        if i is None:
            return None
        self._tape.sync_quotes()
        if not self._tape.has_quote[i]:
            return self._fail(c.RES_E_FAIL)
        return self._ok(self._tick(i))

    def symbol_select(self, symbol: object, enable: object = True, /) -> bool:
        """Select symbol in Market Watch window or remove symbol from the window."""
        if not self._link():
            return False
        i = self._symbol_index(symbol, need_selected=False)
        if i is None:
            return False
        if enable:
            self._selected.add(i)
        else:
            busy = any(p.symbol_index == i for p in self._trade.positions.values()) or any(
                o.symbol_index == i for o in self._trade.orders.values())
            if busy:
                return self._fail(c.RES_E_FAIL, value=False)
            self._selected.discard(i)
        return self._ok(True)

    def _tick(self, i: int) -> Any:
        tape = self._tape
        server_ms = self._tz.to_server_ms(int(tape.time_msc[i]))
        return Tick((server_ms // 1000, float(tape.bid[i]), float(tape.ask[i]), 0.0, 0,
                     server_ms, int(tape.flags[i]), 0.0))

    def _symbol_info(self, i: int) -> Any:
        spec = self._specs[i]
        tape, conv = self._tape, self._trade.converter
        self._flush_bars()
        tape.sync_quotes()
        bid, ask = float(tape.bid[i]), float(tape.ask[i])
        has_quote = bool(tape.has_quote[i])
        point = spec.point
        tick_value_profit = conv.to_account(point * spec.contract_size, spec.profit_currency)
        tick_value_loss = -conv.to_account(-point * spec.contract_size, spec.profit_currency)
        day_open = day_high = day_low = 0.0
        day_spread = 0.0
        if has_quote:
            today = int(bucket_start(self._tz.to_server_ms(self._now) // 1000, c.TIMEFRAME_D1))
            bars = self._rates.between(i, c.TIMEFRAME_D1, today, today)
            if len(bars):
                day_open, day_high, day_low = (float(bars["open"][0]), float(bars["high"][0]),
                                               float(bars["low"][0]))
                day_spread = float(bars["spread"][0])
        change = (bid - day_open) / day_open * 100.0 if day_open else 0.0
        selected = i in self._selected
        server_time = self._tz.to_server_ms(int(tape.time_msc[i])) // 1000 if has_quote else 0
        group, calc_mode = spec.group, spec.calc_mode
        currency_base, currency_profit, currency_margin = spec.stated_currencies
        # a futures CFD: its dates in server time, its mode by date, its cash symbol
        start_time, expiration_time = (
            self._tz.to_server_ms(t * 1000) // 1000 if t else 0
            for t in (spec.start_time, spec.expiration_time))
        basis = spec.basis + self._config.symbol_suffix if spec.basis else ""
        values = (
            False, c.SYMBOL_CHART_MODE_BID, selected, selected, 0, 0, 0, 0, 0, 0, server_time,
            spec.digits, round((ask - bid) / point) if has_quote else 0, True, 0,
            calc_mode, trade_mode_at(spec, self._now), start_time, expiration_time, 0, 0,
            c.SYMBOL_TRADE_EXECUTION_INSTANT,
            spec.swap_mode, spec.swap_rollover3days, False,
            c.SYMBOL_EXPIRATION_GTC | c.SYMBOL_EXPIRATION_DAY | c.SYMBOL_EXPIRATION_SPECIFIED
            | c.SYMBOL_EXPIRATION_SPECIFIED_DAY,
            spec.filling_mode,
            c.SYMBOL_ORDER_MARKET | c.SYMBOL_ORDER_LIMIT | c.SYMBOL_ORDER_STOP
            | c.SYMBOL_ORDER_SL | c.SYMBOL_ORDER_TP | c.SYMBOL_ORDER_CLOSEBY,
            c.SYMBOL_ORDERS_GTC, c.SYMBOL_OPTION_MODE_EUROPEAN, c.SYMBOL_OPTION_RIGHT_CALL,
            bid, day_high, day_low, ask, day_high + day_spread if day_high else 0.0,
            day_low + day_spread if day_low else 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            point, tick_value_profit, tick_value_profit, tick_value_loss, point,
            spec.contract_size, 0.0, 0.0, 0.0, spec.volume_min, spec.volume_max,
            spec.volume_step, 0.0, spec.swap_long, spec.swap_short, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 0.0, day_open, 0.0, 0.0, 0.0, 0.0, 0.0, spec.contract_size,
            round(change, 4), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
            basis, "", currency_base, currency_profit, currency_margin, "", spec.description,
            "", "", "", spec.name, "", f"{group}\\{spec.name}",
        )
        return SymbolInfo(values)

    # -- rates and ticks -------------------------------------------------------------------

    def _flush_bars(self) -> None:
        end = self._tape.end
        if end == self._bars_upto and self._now == self._bars_clock:
            return
        self._rates.add_ticks(self._tape.view(self._bars_upto, end), self._now)
        self._bars_upto = end
        self._bars_clock = self._now

    def _flush_bars_before_eviction(self, cut: int) -> None:
        if cut > self._bars_upto:
            # No clock advance here: the minute being formed may continue after ``cut``.
            ticks = self._tape.view(self._bars_upto, cut)
            self._rates.add_ticks(ticks, int(ticks["time_msc"][-1]) if len(ticks) else 0)
            self._bars_upto = cut

    def _rates_prelude(self, symbol: object, timeframe: int) -> int | None:
        i = self._symbol_index(symbol, need_selected=True)
        if i is None:
            return None
        if timeframe not in TIMEFRAME_MINUTES:
            return self._fail(c.RES_E_INVALID_PARAMS)
        self._flush_bars()
        return i

    def _rates_result(self, i: int, bars: np.ndarray) -> np.ndarray:
        return self._ok(to_mt5_rates(bars, self._specs[i].point))

    def copy_rates_from(self, symbol: object, timeframe: object, date_from: object,
                        count: object, /) -> np.ndarray | None:
        """Get bars starting from specific date."""
        tf, n = c_int(timeframe), c_int(count)
        if not self._link():
            return None
        try:
            start = parse_date(date_from)
        except ArgumentError as exc:
            return self._fail(c.RES_E_INVALID_PARAMS, exc.message)
        i = self._rates_prelude(symbol, tf)
        if i is None:
            return None
        if n <= 0:
            return self._fail(c.RES_E_INVALID_PARAMS)
        return self._rates_result(i, self._rates.upto(i, tf, start, n))

    def copy_rates_from_pos(self, symbol: object, timeframe: object, start_pos: object,
                            count: object, /) -> np.ndarray | None:
        """Get bars starting from specified position."""
        tf, pos, n = c_int(timeframe), c_int(start_pos), c_int(count)
        if not self._link():
            return None
        i = self._rates_prelude(symbol, tf)
        if i is None:
            return None
        if n <= 0 or pos < 0:
            return self._fail(c.RES_E_INVALID_PARAMS)
        return self._rates_result(i, self._rates.last(i, tf, pos, n))

    def copy_rates_range(self, symbol: object, timeframe: object, date_from: object,
                         date_to: object, /) -> np.ndarray | None:
        """Get bars from specified period."""
        tf = c_int(timeframe)
        if not self._link():
            return None
        try:
            start, stop = parse_date(date_from), parse_date(date_to)
        except ArgumentError as exc:
            return self._fail(c.RES_E_INVALID_PARAMS, exc.message)
        i = self._rates_prelude(symbol, tf)
        if i is None:
            return None
        return self._rates_result(i, self._rates.between(i, tf, start, stop))

    def _ticks_result(self, i: int, ticks: np.ndarray, flags: int) -> np.ndarray:
        if flags == c.COPY_TICKS_TRADE:
            ticks = ticks[:0]  # FX quotes carry no last price or volume
        out = np.zeros(len(ticks), dtype=MT5_TICKS_DTYPE)
        server_ms = self._tz.to_server_ms_array(ticks["time_msc"])
        out["time"] = server_ms // 1000
        out["time_msc"] = server_ms
        out["bid"] = ticks["bid"]
        out["ask"] = ticks["ask"]
        out["flags"] = ticks["flags"]
        return self._ok(out)

    def _ticks_prelude(self, symbol: object, flags: int) -> int | None:
        i = self._symbol_index(symbol, need_selected=True)
        if i is None:
            return None
        if flags not in (c.COPY_TICKS_ALL, c.COPY_TICKS_INFO, c.COPY_TICKS_TRADE):
            return self._fail(c.RES_E_INVALID_PARAMS)
        return i

    def copy_ticks_from(self, symbol: object, date_from: object, count: object,
                        flags: object, /) -> np.ndarray | None:
        """Get ticks starting from specific date."""
        n, fl = c_int(count), c_int(flags)
        if not self._link():
            return None
        try:
            start = parse_date(date_from)
        except ArgumentError as exc:
            return self._fail(c.RES_E_INVALID_PARAMS, exc.message)
        i = self._ticks_prelude(symbol, fl)
        if i is None:
            return None
        if n <= 0:
            return self._fail(c.RES_E_INVALID_PARAMS)
        g0 = self._tape.index_at_time(self._tz.to_utc_ms(start * 1000))
        seg = self._tape.view(g0, self._tape.end)
        picked = seg[np.flatnonzero(seg["symbol"] == i)[:n]]
        return self._ticks_result(i, picked, fl)

    def copy_ticks_range(self, symbol: object, date_from: object, date_to: object,
                         flags: object, /) -> np.ndarray | None:
        """Get ticks from specified period."""
        fl = c_int(flags)
        if not self._link():
            return None
        try:
            start, stop = parse_date(date_from), parse_date(date_to)
        except ArgumentError as exc:
            return self._fail(c.RES_E_INVALID_PARAMS, exc.message)
        i = self._ticks_prelude(symbol, fl)
        if i is None:
            return None
        g0 = self._tape.index_at_time(self._tz.to_utc_ms(start * 1000))
        g1 = self._tape.index_at_time(self._tz.to_utc_ms(stop * 1000), side="right")
        seg = self._tape.view(g0, max(g0, g1))
        return self._ticks_result(i, seg[seg["symbol"] == i], fl)

    # -- positions, orders, history --------------------------------------------------------

    def _server_s_ms(self, utc_ms: int) -> tuple[int, int]:
        server = self._tz.to_server_ms(utc_ms)
        return server // 1000, server

    def _position_struct(self, pos: Any) -> Any:
        trade = self._trade
        t, t_ms = self._server_s_ms(pos.time_msc)
        u, u_ms = self._server_s_ms(pos.time_update_msc)
        return TradePosition((
            pos.ticket, t, t_ms, u, u_ms, pos.type, pos.magic, pos.identifier, pos.reason,
            pos.volume, pos.price_open, pos.sl, pos.tp, trade.position_price(pos),
            pos.swap_cents / 100.0, trade.position_profit(pos), pos.symbol, pos.comment,
            pos.external_id,
        ))

    def _order_struct(self, order: Any) -> Any:
        setup, setup_ms = self._server_s_ms(order.time_setup_msc)
        done, done_ms = self._server_s_ms(order.time_done_msc) if order.time_done_msc else (0, 0)
        if order.state == c.ORDER_STATE_PLACED:
            i = order.symbol_index
            is_buy = order.type in (c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP)
            price_current = float(self._tape.ask[i] if is_buy else self._tape.bid[i])
        else:
            price_current = order.price_current
        return TradeOrder((
            order.ticket, setup, setup_ms, done, done_ms, order.time_expiration, order.type,
            order.type_time, order.type_filling, order.state, order.magic, order.position_id,
            order.position_by_id, order.reason, order.volume_initial, order.volume_current,
            order.price_open, order.sl, order.tp, price_current, order.price_stoplimit,
            order.symbol, order.comment, order.external_id,
        ))

    def _deal_struct(self, deal: Any) -> Any:
        t, t_ms = self._server_s_ms(deal.time_msc)
        return TradeDeal((
            deal.ticket, deal.order, t, t_ms, deal.type, deal.entry, deal.magic,
            deal.position_id, deal.reason, deal.volume, deal.price,
            deal.commission_cents / 100.0, deal.swap_cents / 100.0, deal.profit_cents / 100.0,
            deal.fee_cents / 100.0, deal.symbol, deal.comment, deal.external_id,
        ))

    @staticmethod
    def _filter(records: Any, symbol: object, ticket: object, group: object) -> list:
        out = list(records)
        if ticket is not None:
            out = [r for r in out if r.ticket == ticket]
        if symbol is not None:
            out = [r for r in out if r.symbol == symbol]
        if group is not None:
            matcher = group_matcher(str(group))
            out = [r for r in out if matcher.fullmatch(r.symbol)]
        return out

    def positions_total(self) -> int | None:
        """Return the number of open positions."""
        if not self._link():
            return None
        return self._ok(len(self._trade.positions))

    def positions_get(self, *args: object, symbol: object = None, ticket: object = None,
                      group: object = None) -> tuple | None:
        """Return all open positions, can be filtered by symbol, group or ticket."""
        if args:
            raise TypeError("Unnamed arguments not allowed")
        if not self._link():
            return None
        self._tape.sync_quotes()
        found = self._filter(self._trade.positions.values(), symbol, ticket, group)
        return self._ok(tuple(self._position_struct(p) for p in found))

    def orders_total(self) -> int | None:
        """Return the number of orders."""
        if not self._link():
            return None
        return self._ok(len(self._trade.orders))

    def orders_get(self, *args: object, symbol: object = None, ticket: object = None,
                   group: object = None) -> tuple | None:
        """Return all orders, can be filtered by symbol, group or ticket."""
        if args:
            raise TypeError("Unnamed arguments not allowed")
        if not self._link():
            return None
        self._tape.sync_quotes()
        found = self._filter(self._trade.orders.values(), symbol, ticket, group)
        return self._ok(tuple(self._order_struct(o) for o in found))

    def _history_range(self, args: tuple) -> tuple[int, int] | None:
        if len(args) != 2:
            return self._fail(c.RES_E_INVALID_PARAMS, "Invalid arguments")
        try:
            return parse_date(args[0]), parse_date(args[1])
        except ArgumentError as exc:
            return self._fail(c.RES_E_INVALID_PARAMS, exc.message)

    def history_orders_total(self, date_from: object, date_to: object, /) -> int | None:
        """Return the number of orders in selected range from history."""
        if not self._link():
            return None
        span = self._history_range((date_from, date_to))
        if span is None:
            return None
        return self._ok(len(self._trade.history.orders_between(self._tz, *span)))

    def history_orders_get(self, *args: object, group: object = None, ticket: object = None,
                           position: object = None) -> tuple | None:
        """Return orders in selected range from history or filtered by position id, ticket."""
        h = self._trade.history
        return self._history_query(args, group, ticket, position, h.order, h.orders_of_position,
                                   h.orders_between, self._order_struct)

    def history_deals_total(self, date_from: object, date_to: object, /) -> int | None:
        """Return the number of deals in selected range from history."""
        if not self._link():
            return None
        span = self._history_range((date_from, date_to))
        if span is None:
            return None
        return self._ok(len(self._trade.history.deals_between(self._tz, *span)))

    def history_deals_get(self, *args: object, group: object = None, ticket: object = None,
                          position: object = None) -> tuple | None:
        """Return deals in selected range from history or filtered by position id, ticket."""
        h = self._trade.history
        return self._history_query(args, group, ticket, position, h.deal, h.deals_of_position,
                                   h.deals_between, self._deal_struct)

    def _history_query(self, args: tuple, group: object, ticket: object, position: object,
                       by_ticket: Any, by_position: Any, between: Any,
                       to_struct: Any) -> tuple | None:
        """The MT5 rules shared by history orders and deals: a ticket, else a position id,
        else a date range (with an optional group filter)."""
        if not self._link():
            return None
        if not _optional_ints(ticket, position):
            return self._fail(c.RES_E_INVALID_PARAMS, "Invalid arguments")
        if ticket is not None:
            found = by_ticket(int(ticket))  # type: ignore[call-overload]
        elif position is not None:
            found = by_position(int(position))  # type: ignore[call-overload]
        else:
            span = self._history_range(args)
            if span is None:
                return None
            found = between(self._tz, *span, group=_opt_str(group))
        return self._ok(tuple(to_struct(x) for x in found))

    # -- trading ---------------------------------------------------------------------------

    def order_check(self, request: object = _NOT_GIVEN) -> Any:
        """Check if there are enough funds to execute required trading operation."""
        if not self._link():
            return None
        try:
            req = parse_request(request)
        except ArgumentError as exc:
            return self._fail(c.RES_E_INVALID_PARAMS, exc.message)
        self._tape.sync_quotes()
        return self._ok(self._trade.check(req))

    def order_send(self, request: object = _NOT_GIVEN) -> Any:
        """Send trading requests to server."""
        if not self._link():
            return None
        try:
            req = parse_request(request)
        except ArgumentError as exc:
            return self._fail(c.RES_E_INVALID_PARAMS, exc.message)
        self._tape.sync_quotes()
        return self._ok(self._trade.send(req))

    def order_calc_margin(self, action: object, symbol: object, volume: object,
                          price: object, /) -> float | None:
        """Calculate margin required for specified order."""
        order_type, v, p = c_ulong(action), c_double(volume), c_double(price)
        if not self._link():
            return None
        i = self._symbol_index(symbol, need_selected=False)
        if i is None:
            return None
        if order_type > c.ORDER_TYPE_SELL_STOP_LIMIT:
            return self._fail(c.RES_E_INVALID_PARAMS)
        self._tape.sync_quotes()
        return self._ok(self._trade.calc_margin(order_type, i, v, p))

    def order_calc_profit(self, action: object, symbol: object, volume: object,
                          price_open: object, price_close: object, /) -> float | None:
        """Calculate profit for the current account in the current market conditions."""
        order_type = c_ulong(action)
        v, p_open, p_close = c_double(volume), c_double(price_open), c_double(price_close)
        if not self._link():
            return None
        i = self._symbol_index(symbol, need_selected=False)
        if i is None:
            return None
        if order_type > c.ORDER_TYPE_SELL_STOP_LIMIT:
            return self._fail(c.RES_E_INVALID_PARAMS)
        self._tape.sync_quotes()
        return self._ok(self._trade.calc_profit(order_type, i, v, p_open, p_close))

    # -- market depth (one synthetic level each side at the current quote) ------------------

    def market_book_add(self, symbol: object, /) -> bool:
        """Opens Depth of Market for a selected symbol."""
        if not self._link():
            return False
        i = self._symbol_index(symbol, need_selected=True)
        if i is None:
            return False
        self._books.add(i)
        return self._ok(True)

    def market_book_get(self, symbol: object, /) -> tuple | None:
        """Returns Depth of Market structures of a specified symbol."""
        if not self._link():
            return None
        i = self._symbol_index(symbol, need_selected=True)
        if i is None:
            return None
        if i not in self._books:
            return self._fail(c.RES_E_FAIL)
        self._tape.sync_quotes()
        size = self._specs[i].volume_max
        book = (
            BookInfo((c.BOOK_TYPE_SELL, float(self._tape.ask[i]), int(size), float(size))),
            BookInfo((c.BOOK_TYPE_BUY, float(self._tape.bid[i]), int(size), float(size))),
        )
        return self._ok(book)

    def market_book_release(self, symbol: object, /) -> bool:
        """Closes Depth of Market for a selected symbol."""
        if not self._link():
            return False
        i = self._symbol_index(symbol, need_selected=False)
        if i is None or i not in self._books:
            return self._fail(c.RES_E_FAIL, value=False) if i is not None else False
        self._books.discard(i)
        return self._ok(True)

    # -- the package's Python-level helpers ------------------------------------------------

    def _RawOrder(self, order_type: int, symbol: str, volume: float, price: float,
                  comment: str | None = None, ticket: int | None = None) -> Any:
        order: dict[str, Any] = {
            "action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume,
            "type": order_type, "price": price, "deviation": 10,
        }
        if comment is not None:
            order["comment"] = comment
        if ticket is not None:
            order["position"] = ticket
        return self.order_send(order)

    def Buy(self, symbol: str, volume: float, price: float | None = None, *,
            comment: str | None = None, ticket: int | None = None) -> Any:
        """Buy order (the package helper: FOK filling, deviation 10, 10 tries)."""
        return self._helper_order(c.ORDER_TYPE_BUY, symbol, volume, price, comment, ticket)

    def Sell(self, symbol: str, volume: float, price: float | None = None, *,
             comment: str | None = None, ticket: int | None = None) -> Any:
        """Sell order (the package helper: FOK filling, deviation 10, 10 tries)."""
        return self._helper_order(c.ORDER_TYPE_SELL, symbol, volume, price, comment, ticket)

    def _helper_order(self, order_type: int, symbol: str, volume: float, price: float | None,
                      comment: str | None, ticket: int | None) -> Any:
        if price is not None:
            return self._RawOrder(order_type, symbol, volume, price, comment, ticket)
        result = None
        for _ in range(10):
            tick = self.symbol_info_tick(symbol)
            if tick is None:
                return None
            quote = tick.ask if order_type == c.ORDER_TYPE_BUY else tick.bid
            result = self._RawOrder(order_type, symbol, volume, quote, comment, ticket)
            if result is None or result.retcode not in (
                c.TRADE_RETCODE_REQUOTE, c.TRADE_RETCODE_PRICE_OFF
            ):
                break
        return result

    def Close(self, symbol: str, *, comment: str | None = None,
              ticket: int | None = None) -> bool | str | None:
        """Close positions of a symbol (or one ticket): True, 'Partially', False or None."""
        positions = (self.positions_get(ticket=ticket) if ticket is not None
                     else self.positions_get(symbol=symbol))
        if positions is None:
            return None
        tried = done = 0
        for pos in positions:
            if pos.type not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
                continue
            tried += 1
            for _ in range(10):
                tick = self.symbol_info_tick(symbol)
                if tick is None:
                    break
                if pos.type == c.ORDER_TYPE_BUY:
                    r = self._RawOrder(c.ORDER_TYPE_SELL, symbol, pos.volume, tick.bid, comment,
                                       pos.ticket)
                else:
                    r = self._RawOrder(c.ORDER_TYPE_BUY, symbol, pos.volume, tick.ask, comment,
                                       pos.ticket)
                if r is None:
                    break
                if r.retcode not in (c.TRADE_RETCODE_REQUOTE, c.TRADE_RETCODE_PRICE_OFF):
                    if r.retcode == c.TRADE_RETCODE_DONE:
                        done += 1
                    break
        if done > 0:
            return True if done == tried else "Partially"
        return False

    # -- simulator control (not part of the MetaTrader5 surface) ---------------------------

    def sim_advance_to(self, t_msc: int) -> int:
        """Consume the feed up to UTC ``t_msc``: quotes, stops, stop-out, rollovers.

        Returns the number of ticks processed.  The clock never goes backwards; rollovers
        are applied at each server midnight crossed, between the ticks before and after it,
        and so are the expiries of futures CFDs (``futures_expiry``).
        """
        t_msc = int(t_msc)
        first = self._tape.end
        processed = 0
        while self._expiries and self._expiries.next_msc <= t_msc:  # type: ignore[operator]
            at, indices = self._expiries.pop()
            processed += self._advance(at - 1)
            self._set_now(at)
            self._tape.sync_quotes()
            for i in indices:
                self._trade.settle_expired(i, at)
        processed += self._advance(t_msc)
        self._last_range = (first, self._tape.end)
        return processed

    def _advance(self, t_msc: int) -> int:
        """``sim_advance_to``'s feed, rollovers and order expiries up to ``t_msc``."""
        processed = 0
        while self._next_rollover <= t_msc:
            boundary = self._next_rollover
            processed += self._consume(boundary - 1)
            self._set_now(boundary)
            self._tape.sync_quotes()
            if self._trade.orders:
                self._trade.expire_orders(boundary)
            self._trade.rollover(boundary)
            self._next_rollover = self._tz.next_midnight_utc_ms(boundary)
        processed += self._consume(t_msc)
        self._set_now(t_msc)
        if self._trade.orders:
            self._trade.expire_orders(self._now)
        return processed

    def _consume(self, t_msc: int) -> int:
        batch = self._feed.ticks_until(t_msc)
        if self._in_session:
            batch = self._in_session(batch)
        n = len(batch)
        if n == 0:
            return 0
        step = max(self._tape.max_ticks // 2, 1)
        trade = self._trade
        for lo in range(0, n, step):
            part = batch[lo:lo + step] if n > step else batch
            g0 = self._tape.append(part)
            trade.now_msc = max(trade.now_msc, int(part["time_msc"][-1]))
            trade.on_batch(part, g0)
        self._ticks_consumed += n
        return n

    def _set_now(self, t_msc: int) -> None:
        if t_msc > self._now:
            self._now = t_msc
        self._trade.now_msc = self._now

    def sim_now_msc(self) -> int:
        """The virtual clock (UTC epoch milliseconds)."""
        return self._now

    def sim_last_ticks(self) -> np.ndarray:
        """The ticks (``TICK_DTYPE``, UTC) consumed by the last ``sim_advance_to`` call.

        Symbol indices follow ``sim_symbols()``.  A copy; only what the tick window holds.
        """
        return self._tape.view(*self._last_range).copy()

    def sim_last_ticks_view(self) -> np.ndarray:
        """``sim_last_ticks`` without the copy: valid until the next ``sim_advance_to``
        (the in-process driver hands it to the engine, which reads it within the step)."""
        return self._tape.view(*self._last_range)

    def sim_peek_ticks(self, t_msc: int) -> np.ndarray | None:
        """The ticks ``sim_advance_to(t_msc)`` would consume, left in the feed (None: not
        known without reading on); see ``mt5bridge.sim.preview``."""
        return preview.peek_ticks(self, t_msc)

    def sim_preview_accounts(self, ticks: np.ndarray,
                             minutes: np.ndarray) -> list[AccountFigures] | None:
        """The account's figures at each coming minute close, given its ``ticks`` (from
        ``sim_peek_ticks``); see ``mt5bridge.sim.preview.minute_accounts``."""
        return preview.minute_accounts(self, ticks, minutes)

    def sim_next_event_msc(self) -> int | None:
        """The next rollover or expiry: the account changes by itself there."""
        return preview.next_event_msc(self)

    def sim_symbols(self) -> tuple[str, ...]:
        """Broker symbol names in the feed's index order."""
        return self._names

    @property
    def sim_feed(self) -> MarketFeed:
        return self._feed

    @property
    def sim_config(self) -> SimConfig:
        return self._config

    def sim_set_algo_trading(self, enabled: bool) -> None:
        """The terminal's Algo Trading button (off: ``order_send`` gives 10027)."""
        self._trade.algo_enabled = bool(enabled)

    def sim_disconnect(self, failed_reconnects: int = 0) -> None:
        """Drop the IPC link: calls fail with -10004 until ``initialize()`` succeeds.

        The first ``failed_reconnects`` ``initialize()`` attempts fail (-10003).
        """
        self._lost = True
        self._failures_left = failed_reconnects

    def sim_reconnect(self) -> None:
        """Restore a dropped link without ``initialize()`` (e.g. the terminal came back)."""
        self._lost = False

    def sim_set_faults(self, faults: FaultConfig) -> None:
        """Replace the fault configuration (fresh random streams from its seed)."""
        self._config = dataclasses.replace(self._config, faults=faults)
        self._faults = FaultInjector(faults)
        self._trade.faults = self._faults

    def sim_faults_fired(self) -> dict[str, int]:
        """How often each fault kind fired so far."""
        return dict(self._faults.fired)

    def sim_stats(self) -> dict[str, int]:
        """Counters for reports: ticks consumed, deals, reference-rate conversions."""
        return {
            "ticks": self._ticks_consumed,
            "deals": len(self._trade.history.deals),
            "positions": len(self._trade.positions),
            "reference_conversions": self._trade.converter.reference_conversions,
        }


def _optional_ints(*values: object) -> bool:
    return all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


for _name, _value in c.MT5_CONSTANTS.items():
    setattr(SimTerminal, _name, _value)
del _name, _value
