"""The state every part of the simulated trade server shares, and the words they share.

``TradeServer`` (``trading.py``) is composed of mixins, one job each: account figures,
booking, request checks, market deals, position requests, pending orders and triggers.
They all work on the one set of attributes declared here, which ``TradeServer.__init__``
sets.  Mixins rather than collaborator objects because the parts call each other in both
directions (a trigger activates a pending order, which books a deal, which invalidates the
trigger levels) and the backtest's hot path (``on_batch``) must not pay an extra attribute
hop per call: a method found through the mixins costs the same lookup as before the split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from mt5bridge import constants as c

if TYPE_CHECKING:
    from mt5bridge.servertime import ServerTimeZone
    from mt5bridge.sim.account import CurrencyConverter, Order, Position
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.faults import FaultInjector
    from mt5bridge.sim.history import History
    from mt5bridge.sim.symbols import SymbolSpec
    from mt5bridge.sim.tape import TickTape

__all__ = ["BUY_TYPES", "PENDING_TYPES", "VOLUME_EPS", "BookRows", "TradeState", "round_volume"]

BUY_TYPES = frozenset((c.ORDER_TYPE_BUY, c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_BUY_STOP,
                       c.ORDER_TYPE_BUY_STOP_LIMIT))
PENDING_TYPES = frozenset((c.ORDER_TYPE_BUY_LIMIT, c.ORDER_TYPE_SELL_LIMIT,
                           c.ORDER_TYPE_BUY_STOP, c.ORDER_TYPE_SELL_STOP))
VOLUME_EPS = 1e-9


def round_volume(v: float) -> float:
    return round(v, 8)


@dataclass
class BookRows:
    """Open positions flattened for the per-batch margin-level check.

    Rebuilt only when positions change.  Each row is (symbol index, is buy, signed units,
    open price, link symbol index, link multiplies, currency or None); ``currency`` is set
    when the profit has no direct link quote and must go through the converter.  A plain
    Python loop over these rows beats numpy for the few dozen positions an account holds.
    """

    rows: list[tuple[int, bool, float, float, int, bool, str | None]]
    margin: float
    swap: float


class TradeState:
    """The attributes the trade server's mixins read and write (set by ``TradeServer``).

    ``now_msc`` (UTC) is set by the terminal as its clock advances; quotes come from
    ``tape`` and must be synced by the caller before a request is handled.  ``_arrays``
    (the flattened book) and ``_levels`` (the trigger levels) are caches: whatever changes
    what they summarise sets them to None, and the next reader rebuilds them.
    """

    config: SimConfig
    specs: list[SymbolSpec]
    index_of: dict[str, int]
    tape: TickTape
    faults: FaultInjector
    tz: ServerTimeZone
    now_msc: int
    algo_enabled: bool
    converter: CurrencyConverter
    history: History
    positions: dict[int, Position]
    orders: dict[int, Order]
    balance_cents: int
    _next_order: int
    _next_deal: int
    _request_id: int
    _watch_positions: bool  # any position with SL or TP
    _arrays: BookRows | None
    _levels: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None
