"""What the engine shows the world: immutable views, the snapshot cache, and run counters.

The console (and the CLI's status lines) read the engine through these types only: a
snapshot is built on the engine's thread and handed over whole, so a reader on another
thread never sees a half-updated picture and never touches the engine's live state.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from engine.fx import split_symbol
from engine.instruments import Instrument
from engine.market import utc
from engine.risk.locks import STATE_RANK as LOCK_RANK

#: The snapshot is rebuilt at most this often during stepping (five times a second).
REFRESH_S = 0.2


@dataclass(frozen=True)
class ClusterView:
    """What the console shows for one cluster (an immutable copy)."""

    name: str
    symbols: tuple[str, ...]
    tdi: float
    eigengap: float
    entry: float
    exit_band: float
    state: str
    reason: str
    basket_id: str | None
    direction: str | None
    pnl: float
    blackout_until: datetime | None
    #: The cluster's numeraire ("" when it has none) and the open basket's net exposure to
    #: it valued now (account currency, + long) and as a share of the legs' gross notional;
    #: NaN without a basket or a numeraire.
    numeraire: str = ""
    net_numeraire: float = math.nan
    net_numeraire_share: float = math.nan
    #: The cluster's own setting (its lock, else ACTIVE) and reason; ``state``/``reason``
    #: above are the *effective* ones (``effective_state``): a halted account makes every
    #: cluster read HALTED whatever the trader set on it.
    own_state: str = "ACTIVE"
    own_reason: str = ""
    #: ``pnl`` split (account currency): the open legs' price profit (the Trade tab's
    #: "Profit"), swaps and commissions paid so far, and the commission still due to close;
    #: ``pnl`` = realised legs + ``profit`` + ``paid`` + ``to_close`` (what closing now books).
    profit: float = 0.0
    paid: float = 0.0
    to_close: float = 0.0
    #: The cluster's strategy kind (``engine.kinds``: ``tdi``, ``pair``, ``correlation``);
    #: ``tdi`` above holds its score (the TDI, a z-score, ...) whatever the kind.
    kind: str = "tdi"
    #: The kind's diagnostics at the last signal bar, (name, value) in the kind's order.
    diagnostics: tuple[tuple[str, float], ...] = ()
    #: Why automatic entries are locked by the signal itself ("CODE: sentence"), or "".
    signal_lock: str = ""
    #: For a regime-watching kind: "normal" or "broken", and for how many signal bars.
    regime: str = ""
    regime_bars: int = 0
    #: False for a cluster that only watches (a correlation regime with ``action = "lock"``):
    #: it never opens a basket of its own.
    trades: bool = True


@dataclass(frozen=True)
class QuoteView:
    """One Market Watch row."""

    symbol: str
    bid: float
    ask: float
    spread_points: float
    time: datetime | None
    digits: int | None = None


@dataclass(frozen=True)
class PositionView:
    """One open position at the terminal (tickets stay Python ints end to end)."""

    ticket: int
    symbol: str
    side: str  # "BUY" or "SELL"
    volume: float
    price_open: float
    price_current: float
    swap: float
    profit: float
    magic: int
    comment: str
    cluster: str | None  # the engine's cluster owning the magic, if any
    commission: float = 0.0  # paid so far (MT5 books it on deals; the engine knows its legs')
    #: When the position opened (UTC; None when the terminal did not say) and its stop
    #: loss and take profit (prices; 0.0 = none), as MT5's Trade tab shows them.
    time: datetime | None = None
    sl: float = 0.0
    tp: float = 0.0


@dataclass(frozen=True)
class CurrencyExposure:
    """One currency's net exposure across every open position (the Trade tab's table).

    ``net``: the signed account-currency value of the currency held (+ long), summed over
    the positions (a position of ``u`` base units is long ``u`` x value(base) of its base
    and short as much of its quote currency), valued at the current mids.  ``cap``: the
    risk config's per-currency cap in account currency (``max_currency_exposure`` x
    equity); ``share`` = |net| / cap (NaN when the cap is unknown).
    """

    currency: str
    net: float
    cap: float
    share: float


#: MetaTrader 5's ``symbol_info().filling_mode`` bits and ``type_filling`` values
#: (reference: SYMBOL_FILLING_FOK=1, IOC=2, BOC=4; ORDER_FILLING_FOK=0, IOC=1, RETURN=2).
FILLING_BITS = ((1, "FOK"), (2, "IOC"), (4, "BOC"))
ORDER_FILLING_NAMES = {0: "FOK", 1: "IOC", 2: "RETURN", 3: "BOC"}


@dataclass(frozen=True)
class SymbolSpec:
    """What New Order needs of a symbol, as the terminal specifies it (fixed while running).

    ``filling_flags`` is ``symbol_info().filling_mode`` (a bitmask); ``filling`` the
    ``type_filling`` the engine sends for it (FOK, else IOC, else RETURN: as every leg).
    """

    symbol: str
    digits: int
    point: float
    contract_size: float
    volume_min: float
    volume_step: float
    volume_max: float
    filling_flags: int
    filling: int

    @property
    def filling_text(self) -> str:
        """``FOK (allowed: FOK, IOC)``: the mode sent and the modes the symbol allows."""
        allowed = [name for bit, name in FILLING_BITS if self.filling_flags & bit]
        sent = ORDER_FILLING_NAMES.get(self.filling, str(self.filling))
        return f"{sent} (allowed: {', '.join(allowed) or 'RETURN only'})"

    def volume_problem(self, volume: float) -> str | None:
        """Why ``volume`` lots cannot be sent (None: it can): below the minimum, above the
        maximum, or not a whole number of steps from the minimum."""
        if not math.isfinite(volume) or volume <= 0:
            return f"volume {volume!r} must be a positive number of lots"
        if volume < self.volume_min - 1e-9:
            return f"{self.symbol} volume {volume:g} is below the minimum {self.volume_min:g}"
        if volume > self.volume_max + 1e-9:
            return f"{self.symbol} volume {volume:g} is above the maximum {self.volume_max:g}"
        steps = (volume - self.volume_min) / self.volume_step if self.volume_step > 0 else 0.0
        if abs(steps - round(steps)) > 1e-6:
            return (f"{self.symbol} volume {volume:g} is not a multiple of the step "
                    f"{self.volume_step:g} (from {self.volume_min:g})")
        return None


@dataclass(frozen=True)
class EngineSnapshot:
    time: datetime
    clusters: tuple[ClusterView, ...]
    account_state: str
    account_reason: str
    balance: float
    equity: float
    margin_level: float
    open_risk: float
    daily_pnl: float
    connected: bool
    calendar_state: str
    quotes: tuple[QuoteView, ...] = ()
    positions: tuple[PositionView, ...] = ()
    margin: float = 0.0
    free_margin: float = 0.0
    mode: str = ""
    #: When the account's state began (market time, UTC): the account lock's time, or
    #: when the connection dropped; None while ACTIVE.
    account_since: datetime | None = None
    #: The Algo Trading switch (``commands.SetAutomation``): automatic entries on/off.
    automation: bool = True
    #: An account lock a ``Rearm`` clears (a drawdown halt, a daily-loss stop, a trader's
    #: account halt); False while ACTIVE or merely disconnected.
    rearmable: bool = False
    #: The drawdown rule: the peak equity it is measured from, and the limit (fraction).
    peak_equity: float = math.nan
    max_drawdown: float = math.nan
    #: Net exposure per currency across every open position, largest first, with the cap.
    exposures: tuple[CurrencyExposure, ...] = ()
    #: Every market symbol's specification for New Order (built once, then reused).
    specs: tuple[SymbolSpec, ...] = ()
    #: EXTERNAL convertible bonds held and their hedge (``engine.hedging_views``).
    externals: tuple[Any, ...] = ()


#: Strictness of a state by name (the risk manager's order): the effective state is the
#: strictest of account and cluster.
STATE_RANK = {state.value: rank for state, rank in LOCK_RANK.items()}


def effective_state(account_state: str, account_reason: str, own_state: str,
                    own_reason: str) -> tuple[str, str]:
    """(state, reason) a cluster trades under: the stricter of the account's state and its
    own, the account's winning ties (a halted account halts every cluster whatever the
    trader set on it; the cluster's own setting comes back when the account is re-armed)."""
    if STATE_RANK.get(account_state, 0) >= max(STATE_RANK.get(own_state, 0), 1):
        return account_state, f"account {account_state}: {account_reason}".rstrip(": ")
    return own_state, own_reason


@dataclass(frozen=True)
class ClusterInfo:
    """A cluster's fixed description and its thresholds in force, for the console's chart.

    ``symbols`` is in the TDI's canonical order, the order of ``Engine.cluster_history``.
    """

    name: str
    symbols: tuple[str, ...]
    currencies: frozenset[str]
    entry: float
    exit_band: float
    tdi_stop: float
    #: The cluster's strategy kind and what its score is called (TDI, z, ...).
    kind: str = "tdi"
    score_name: str = "TDI"
    #: The signal's bars (``ClusterSpec.timeframe``): the chart's signal view is named after it.
    timeframe: str = "M30"


@dataclass
class RunStats:
    baskets_opened: int = 0
    baskets_closed: int = 0
    exits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    refusals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    realised_pnl: float = 0.0


def quote_views(symbols: Sequence[str], bid: np.ndarray, ask: np.ndarray,
                last_tick_msc: np.ndarray, points: Mapping[str, float]) -> tuple[QuoteView, ...]:
    """Market Watch rows from the market's quote arrays (spreads in the symbol's points)."""
    out = []
    for i, symbol in enumerate(symbols):
        point = points.get(symbol) or 1e-5
        t = int(last_tick_msc[i])
        out.append(QuoteView(symbol, float(bid[i]), float(ask[i]),
                             float((ask[i] - bid[i]) / point), utc(t) if t else None,
                             max(0, round(-math.log10(point)))))
    return tuple(out)


class CommissionPaid:
    """Per ticket, the commission paid so far (``get``, as a mapping's): a basket leg's as
    the engine booked it; any other position's (sent by hand, external) from its opening
    deals at the terminal, since MT5 books commission on deals, not on positions."""

    def __init__(self, terminal: Any, baskets: Iterable[Any]) -> None:
        self._terminal = terminal
        self._legs = {leg.position: leg.commission for b in baskets for leg in b.legs}

    def get(self, ticket: int, default: float = 0.0) -> float:
        if ticket in self._legs:
            return float(self._legs[ticket])
        deals = self._terminal.history_deals_get(position=ticket) or ()
        return float(sum(float(d.commission) for d in deals)) if deals else default


def position_views(positions: Iterable[Any], owners: Mapping[int, str],
                   paid: Mapping[int, float] | CommissionPaid,
                   to_utc_ms: Callable[[int], int] | None = None) -> tuple[PositionView, ...]:
    """Trade rows from the terminal's positions: ``owners`` maps a magic to its cluster,
    ``paid`` a ticket to the commission its basket leg paid so far; ``to_utc_ms`` turns the
    terminal's server-time ``time_msc`` into UTC (None: the time is left out)."""
    return tuple(PositionView(
        int(p.ticket), str(p.symbol), "BUY" if int(p.type) == 0 else "SELL",
        float(p.volume), float(p.price_open), float(p.price_current), float(p.swap),
        float(p.profit), int(p.magic), str(p.comment), owners.get(int(p.magic)),
        float(paid.get(int(p.ticket), 0.0)), _opened_at(p, to_utc_ms),
        float(getattr(p, "sl", 0.0) or 0.0), float(getattr(p, "tp", 0.0) or 0.0))
        for p in positions)


def _opened_at(position: Any, to_utc_ms: Callable[[int], int] | None) -> datetime | None:
    server_ms = int(getattr(position, "time_msc", 0) or 0)
    if to_utc_ms is None or server_ms <= 0:
        return None
    return utc(int(to_utc_ms(server_ms)))


def currency_exposures(positions: Iterable[PositionView], contract_sizes: Mapping[str, float],
                       base_value: Callable[[str], float],
                       instruments: Mapping[str, Instrument] | None = None,
                       ) -> dict[str, float]:
    """Net account-currency exposure per currency of ``positions`` (+ long).

    A position of ``units`` = +-volume x contract size of its base is long ``units`` x
    ``base_value(base)`` of the base and short the same value of the quote currency (the
    rule the risk cap applies to baskets, ``engine.baskets.add_exposure``).  The base of a
    stock or index CFD is the asset itself (``instruments``, the converter's table; a symbol
    missing there is split by its name).  A symbol without a contract size or a base without
    a value is left out rather than guessed.
    """
    out: dict[str, float] = {}
    for p in positions:
        size = contract_sizes.get(p.symbol)
        inst = (instruments or {}).get(p.symbol)
        base, quote = inst.parts if inst is not None else split_symbol(p.symbol)
        value = base_value(base)
        if not size or not math.isfinite(value):
            continue
        units = (p.volume if p.side == "BUY" else -p.volume) * size
        out[base] = out.get(base, 0.0) + units * value
        out[quote] = out.get(quote, 0.0) - units * value
    return out


def exposure_views(net: Mapping[str, float], equity: float,
                   cap_multiple: float) -> tuple[CurrencyExposure, ...]:
    """The exposure table's rows, largest |net| first; currencies at zero are left out."""
    cap = cap_multiple * equity if math.isfinite(equity) and equity > 0 else math.nan
    rows = [CurrencyExposure(ccy, value, cap, abs(value) / cap if cap > 0 else math.nan)
            for ccy, value in net.items() if abs(value) >= 0.005]
    return tuple(sorted(rows, key=lambda r: (-abs(r.net), r.currency)))


class SnapshotCache:
    """The latest snapshot, rebuilt by the engine's thread and read from any thread.

    ``refresh_due`` throttles the rebuilds while stepping; ``invalidate`` makes the next
    step rebuild at once (after a command, so its effect shows without delay).
    """

    def __init__(self, build: Callable[[], EngineSnapshot]) -> None:
        self._build = build
        self._latest: EngineSnapshot | None = None
        self._built_at = 0.0
        self._lock = threading.Lock()

    def refresh_due(self) -> bool:
        return time.monotonic() - self._built_at >= REFRESH_S

    def invalidate(self) -> None:
        self._built_at = 0.0

    def get(self, refresh: bool = False) -> EngineSnapshot:
        """The latest snapshot; rebuilt first with ``refresh`` or when there is none yet."""
        if refresh or self._latest is None:
            self._built_at = time.monotonic()
            snap = self._build()
            with self._lock:
                self._latest = snap
        with self._lock:
            assert self._latest is not None
            return self._latest

    def latest(self) -> EngineSnapshot | None:
        """The latest snapshot without building one (None before the first)."""
        with self._lock:
            return self._latest


def basket_pnl_split(basket: Any, market: Any, fx: Any) -> tuple[float, float, float]:
    """(price profit of the open legs, swaps and commissions paid, commission to close) of
    an open ``engine.baskets.Basket``: the parts of its net P&L the console labels."""
    profit = basket.unrealised(market.index, market.bid, market.ask, fx)
    paid = sum(leg.commission + leg.swap for leg in basket.legs)
    return profit, paid, basket.costs() - paid


def account_view(risk: Any, disconnected_at: datetime | None,
                 max_drawdown: float) -> dict[str, Any]:
    """The account fields of a snapshot from the risk manager's ``RiskSnapshot``: since when
    the state holds (the lock's time, else the disconnection's), whether a ``Rearm``
    applies, and the drawdown rule's reference."""
    lock = risk.account_lock
    since = lock.time if lock is not None else None
    if since is None and not risk.connected:
        since = disconnected_at
    peak = risk.peak_equity
    return {"account_since": since if risk.account_state.value != "ACTIVE" else None,
            "rearmable": lock is not None,
            "peak_equity": float(peak) if peak is not None else math.nan,
            "max_drawdown": float(max_drawdown)}
