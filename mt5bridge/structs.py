"""The result types of the ``MetaTrader5`` package: struct sequences and numpy dtypes.

The package returns C struct sequences (``PyStructSequence``), not ``namedtuple``s.  Code
written against the simulated terminal must keep working against the real one, so these
copies reproduce what callers can observe:

- a ``tuple`` subclass with the package's exact field order, attribute access and
  ``_asdict()``; ``repr`` as ``Name(field=value, ...)``;
- **no** ``_fields`` and no ``_replace`` (the real ones have neither, so code that relies
  on them would break only in live trading);
- **not picklable**, as the real ones are not (RPyC bridges trip over this); ``copy`` works.

The rates and ticks arrays use the package's packed 60-byte dtypes, with times in broker
server time (see ``mt5bridge.servertime``).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from operator import itemgetter
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "MT5_RATES_DTYPE",
    "MT5_TICKS_DTYPE",
    "STRUCT_FIELDS",
    "AccountInfo",
    "BookInfo",
    "OrderCheckResult",
    "OrderSendResult",
    "StructSequence",
    "SymbolInfo",
    "TerminalInfo",
    "Tick",
    "TradeDeal",
    "TradeOrder",
    "TradePosition",
    "TradeRequest",
    "struct_with",
]

#: ``copy_rates_*`` rows: bar open time in server-time epoch seconds, bid OHLC, tick count,
#: spread in points, real volume.  Packed (itemsize 60), as the package builds it.
MT5_RATES_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("open", "<f8"),
        ("high", "<f8"),
        ("low", "<f8"),
        ("close", "<f8"),
        ("tick_volume", "<u8"),
        ("spread", "<i4"),
        ("real_volume", "<u8"),
    ]
)

#: ``copy_ticks_*`` rows: ``time`` in server-time seconds and ``time_msc`` in server-time
#: milliseconds; ``flags`` are ``TICK_FLAG_*`` bits.  Packed (itemsize 60).
MT5_TICKS_DTYPE = np.dtype(
    [
        ("time", "<i8"),
        ("bid", "<f8"),
        ("ask", "<f8"),
        ("last", "<f8"),
        ("volume", "<u8"),
        ("time_msc", "<i8"),
        ("flags", "<u4"),
        ("volume_real", "<f8"),
    ]
)

#: Field order of every struct type, exactly as in the package's PyStructSequence tables.
STRUCT_FIELDS: dict[str, tuple[str, ...]] = {
    "Tick": ("time", "bid", "ask", "last", "volume", "time_msc", "flags", "volume_real"),
    "TradePosition": (
        "ticket", "time", "time_msc", "time_update", "time_update_msc", "type", "magic",
        "identifier", "reason", "volume", "price_open", "sl", "tp", "price_current", "swap",
        "profit", "symbol", "comment", "external_id",
    ),
    "TradeOrder": (
        "ticket", "time_setup", "time_setup_msc", "time_done", "time_done_msc",
        "time_expiration", "type", "type_time", "type_filling", "state", "magic",
        "position_id", "position_by_id", "reason", "volume_initial", "volume_current",
        "price_open", "sl", "tp", "price_current", "price_stoplimit", "symbol", "comment",
        "external_id",
    ),
    "TradeDeal": (
        "ticket", "order", "time", "time_msc", "type", "entry", "magic", "position_id",
        "reason", "volume", "price", "commission", "swap", "profit", "fee", "symbol",
        "comment", "external_id",
    ),
    "TradeRequest": (
        "action", "magic", "order", "symbol", "volume", "price", "stoplimit", "sl", "tp",
        "deviation", "type", "type_filling", "type_time", "expiration", "comment",
        "position", "position_by",
    ),
    "OrderSendResult": (
        "retcode", "deal", "order", "volume", "price", "bid", "ask", "comment", "request_id",
        "retcode_external", "request",
    ),
    "OrderCheckResult": (
        "retcode", "balance", "equity", "profit", "margin", "margin_free", "margin_level",
        "comment", "request",
    ),
    "SymbolInfo": (
        "custom", "chart_mode", "select", "visible", "session_deals", "session_buy_orders",
        "session_sell_orders", "volume", "volumehigh", "volumelow", "time", "digits",
        "spread", "spread_float", "ticks_bookdepth", "trade_calc_mode", "trade_mode",
        "start_time", "expiration_time", "trade_stops_level", "trade_freeze_level",
        "trade_exemode", "swap_mode", "swap_rollover3days", "margin_hedged_use_leg",
        "expiration_mode", "filling_mode", "order_mode", "order_gtc_mode", "option_mode",
        "option_right", "bid", "bidhigh", "bidlow", "ask", "askhigh", "asklow", "last",
        "lasthigh", "lastlow", "volume_real", "volumehigh_real", "volumelow_real",
        "option_strike", "point", "trade_tick_value", "trade_tick_value_profit",
        "trade_tick_value_loss", "trade_tick_size", "trade_contract_size",
        "trade_accrued_interest", "trade_face_value", "trade_liquidity_rate", "volume_min",
        "volume_max", "volume_step", "volume_limit", "swap_long", "swap_short",
        "margin_initial", "margin_maintenance", "session_volume", "session_turnover",
        "session_interest", "session_buy_orders_volume", "session_sell_orders_volume",
        "session_open", "session_close", "session_aw", "session_price_settlement",
        "session_price_limit_min", "session_price_limit_max", "margin_hedged",
        "price_change", "price_volatility", "price_theoretical", "price_greeks_delta",
        "price_greeks_theta", "price_greeks_gamma", "price_greeks_vega", "price_greeks_rho",
        "price_greeks_omega", "price_sensitivity", "basis", "category", "currency_base",
        "currency_profit", "currency_margin", "bank", "description", "exchange", "formula",
        "isin", "name", "page", "path",
    ),
    "AccountInfo": (
        "login", "trade_mode", "leverage", "limit_orders", "margin_so_mode", "trade_allowed",
        "trade_expert", "margin_mode", "currency_digits", "fifo_close", "balance", "credit",
        "profit", "equity", "margin", "margin_free", "margin_level", "margin_so_call",
        "margin_so_so", "margin_initial", "margin_maintenance", "assets", "liabilities",
        "commission_blocked", "name", "server", "currency", "company",
    ),
    "TerminalInfo": (
        "community_account", "community_connection", "connected", "dlls_allowed",
        "trade_allowed", "tradeapi_disabled", "email_enabled", "ftp_enabled",
        "notifications_enabled", "mqid", "build", "maxbars", "codepage", "ping_last",
        "community_balance", "retransmission", "company", "name", "language", "path",
        "data_path", "commondata_path",
    ),
    "BookInfo": ("type", "price", "volume", "volume_dbl"),
}


class StructSequence(tuple):
    """A tuple with named fields that behaves like the package's C struct sequences.

    Build one from a sequence of exactly ``n_fields`` values, as with the C type:
    ``Tick((time, bid, ask, ...))``.
    """

    __slots__ = ()

    n_fields: ClassVar[int] = 0
    n_sequence_fields: ClassVar[int] = 0
    n_unnamed_fields: ClassVar[int] = 0
    #: Field names; deliberately not called ``_fields`` (the real types have no such name).
    _struct_fields: ClassVar[tuple[str, ...]] = ()

    def __new__(cls, sequence: Iterable[Any]) -> StructSequence:
        values = tuple(sequence)
        if len(values) != cls.n_fields:
            raise TypeError(
                f"{cls.__name__}() takes a {cls.n_fields}-sequence ({len(values)}-sequence given)"
            )
        return tuple.__new__(cls, values)

    def _asdict(self) -> dict[str, Any]:
        """Convert named tuple object to dictionary (the package's own docstring)."""
        return dict(zip(self._struct_fields, self, strict=True))

    def __repr__(self) -> str:
        body = ", ".join(
            f"{name}={value!r}" for name, value in zip(self._struct_fields, self, strict=True)
        )
        return f"{type(self).__name__}({body})"

    def __reduce_ex__(self, protocol: object) -> Any:
        raise pickle.PicklingError(
            f"Can't pickle <class '{type(self).__name__}'>: terminal structs do not pickle; "
            "convert with _asdict() first"
        )

    def __copy__(self) -> StructSequence:
        return self

    def __deepcopy__(self, memo: object) -> StructSequence:
        return self


def _struct_type(name: str, doc: str) -> type[StructSequence]:
    fields = STRUCT_FIELDS[name]
    namespace: dict[str, Any] = {
        "__slots__": (),
        "__doc__": doc,
        "__module__": __name__,
        "_struct_fields": fields,
        "n_fields": len(fields),
        "n_sequence_fields": len(fields),
        "__match_args__": fields,
    }
    for index, field_name in enumerate(fields):
        namespace[field_name] = property(itemgetter(index), doc=f"field {index}: {field_name}")
    return type(name, (StructSequence,), namespace)


Tick = _struct_type("Tick", "This is a structure for storing latest symbol prices")
TradePosition = _struct_type("TradePosition", "Trade position structure")
TradeOrder = _struct_type("TradeOrder", "Trade order structure")
TradeDeal = _struct_type("TradeDeal", "Trade deal structure")
TradeRequest = _struct_type("TradeRequest", "Trade request structure")
OrderSendResult = _struct_type("OrderSendResult", "order_send result structure")
OrderCheckResult = _struct_type("OrderCheckResult", "order_check result structure")
SymbolInfo = _struct_type("SymbolInfo", "This is a structure for storing symbol information")
AccountInfo = _struct_type("AccountInfo", "This is a structure for storing account information")
TerminalInfo = _struct_type(
    "TerminalInfo", "This is a structure for storing terminal information"
)
BookInfo = _struct_type("BookInfo", "This is a structure for storing Depth of Market information")


def struct_with(struct: tuple, **changes: Any) -> StructSequence:
    """A copy of a struct (ours or the real package's) with some fields replaced.

    The real types have no ``_replace``; this works through ``_asdict()`` and returns one of
    our types of the same name, e.g. to give a position its canonical symbol name back.
    """
    name = type(struct).__name__
    cls = _TYPES_BY_NAME.get(name)
    if cls is None:
        raise TypeError(f"not a terminal struct: {name}")
    values = struct._asdict()  # type: ignore[attr-defined]
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{name} has no field(s) {', '.join(sorted(unknown))}")
    values.update(changes)
    return tuple.__new__(cls, tuple(values[f] for f in cls._struct_fields))


_TYPES_BY_NAME: dict[str, type[StructSequence]] = {
    cls.__name__: cls
    for cls in (
        Tick, TradePosition, TradeOrder, TradeDeal, TradeRequest, OrderSendResult,
        OrderCheckResult, SymbolInfo, AccountInfo, TerminalInfo, BookInfo,
    )
}
