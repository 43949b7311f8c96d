"""Dated futures CFDs of the simulated broker: contract terms, expiry rules, trade mode.

MT5 CFD brokers list dated futures CFDs next to the cash CFD (an index or oil future with an
``expiration_time``; ``symbol_info().basis`` names the underlying).  This module holds what
defines one contract, without importing the symbol table (``symbols.py`` builds its
``FUTURES_SPECS`` catalogue with ``contract_spec``; lookups by cash symbol and time are in
``futures_catalogue``):

- **Names**: ``<cash>_<month code><yy>``, e.g. ``SPXUSD_Z19``, ``XAUUSD_H20``: the cash
  symbol, an underscore and the exchange's month code (CME/ICE: H March, M June, U
  September, Z December; all twelve are accepted) with a two-digit year.  This is the
  ``US500_Z19`` style of MT5 CFD brokers; keeping the cash name as the prefix makes the
  underlying readable from the name, and the name stays FX-shaped for the engine's name
  rule (``SPXUSD_Z19``: the asset SPX in USD, like the cash CFD).
- **Spec fields** (``SymbolSpec``, all in UTC epoch seconds): ``start_time`` (first
  trading second), ``expiration_time`` (the last instant it trades; 0 for a symbol without
  expiry), ``basis`` (the cash symbol) and ``futures`` (``FuturesTerms``: contract month,
  code, the carry inputs, ``close_only_days``).  ``symbol_info`` reports ``start_time``
  and ``expiration_time`` in broker server time, as MT5 reports every datetime.
- **Expiry rules** (``EXPIRY_RULES``, per cash symbol): index CFDs the third Friday of the
  contract month (CME equity-index futures); Brent the last business day of the second
  month before the contract month (ICE Brent); gold the third-last business day of the
  contract month (COMEX).  Business days are Monday to Friday (no exchange holidays); every
  contract expires at ``EXPIRY_HOUR_UTC`` (21:00 UTC, inside every session here) and lists
  nine months before its expiry day, so two quarterly contracts are always live.
- **Fair basis**: ln(F/S) = (rate - carry_yield) x tau, tau in years to expiry (ACT/365):
  ``fair_log_basis``.  ``carry_yield`` is the dividend yield of an index and the net
  convenience yield (minus storage) of Brent; gold's lease rate is taken as 0.
- **Trade mode over time** (``trade_mode_at``): ``SYMBOL_TRADE_MODE_DISABLED`` before
  ``start_time`` and from ``expiration_time`` on, ``SYMBOL_TRADE_MODE_CLOSEONLY`` from
  ``close_only_days`` x 24 h before expiry, else the spec's own mode (full).
"""

from __future__ import annotations

import calendar
import dataclasses
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from engine.errors import ConfigError
from mt5bridge import constants as c

__all__ = [
    "EXPIRY_HOUR_UTC",
    "EXPIRY_RULES",
    "FUTURES_CASH",
    "MONTH_CODES",
    "QUARTERLY_CODES",
    "SECONDS_PER_YEAR",
    "FuturesTerms",
    "contract_name",
    "contract_spec",
    "expiry_date",
    "fair_log_basis",
    "parse_contract",
    "trade_mode_at",
    "years_to_expiry",
]

#: The exchange month codes (CME/ICE), January to December.
MONTH_CODES = "FGHJKMNQUVXZ"
#: The quarterly cycle the broker lists: March, June, September, December.
QUARTERLY_CODES = "HMUZ"
#: Hour (UTC) at which every contract expires on its last trading day.
EXPIRY_HOUR_UTC = 21
#: Months a contract lists before its expiry day.
LISTING_MONTHS = 9
#: ACT/365: seconds in the year of the carry's time to expiry.
SECONDS_PER_YEAR = 365 * 86_400

_NAME = re.compile(r"^(?P<cash>[A-Za-z0-9.#]+)_(?P<code>[FGHJKMNQUVXZ])(?P<yy>\d{2})$")
_WHERE = "futures contract"


@dataclass(frozen=True)
class FuturesTerms:
    """What makes a futures CFD more than its cash CFD (``SymbolSpec.futures``).

    - ``cash``: the underlying cash symbol (also ``SymbolSpec.basis``).
    - ``month``: the contract month, ``YYYY-MM``; ``code`` its month code and year (``Z19``).
    - ``rate``: the annual financing rate of the carry (decimal, 0.02 = 2 %).
    - ``carry_yield``: the annual yield the holder of the cash gets instead (an index's
      dividend yield; Brent's convenience yield net of storage; decimal).
    - ``close_only_days``: days before expiry when the broker turns the contract
      close-only (``SYMBOL_TRADE_MODE_CLOSEONLY``), counted as 24-hour periods.
    """

    cash: str
    month: str
    code: str
    rate: float
    carry_yield: float
    close_only_days: int

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", self.month):
            raise ConfigError(_WHERE, "month", f"must be YYYY-MM, got {self.month!r}")
        for key in ("rate", "carry_yield"):
            value = getattr(self, key)
            if not isinstance(value, int | float) or not math.isfinite(value) \
                    or abs(value) > 1.0:
                raise ConfigError(_WHERE, key, f"must be an annual rate in [-1, 1], got {value!r}")
        days = self.close_only_days
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60:
            raise ConfigError(_WHERE, "close_only_days", f"must be 0..60 days, got {days!r}")

    @property
    def carry(self) -> float:
        """The annual carry of the log-basis: rate minus the yield."""
        return self.rate - self.carry_yield


class DatedSpec(Protocol):
    """What this module reads of a ``symbols.SymbolSpec`` (the symbol table imports this
    module, so it cannot be imported here)."""

    name: str
    digits: int
    trade_mode: int
    start_time: int
    expiration_time: int
    futures: FuturesTerms | None


_Spec = TypeVar("_Spec", bound=Any)


@dataclass(frozen=True)
class _Family:
    """How the broker lists the futures of one cash symbol."""

    rule: str  # "third_friday" | "brent" | "third_last_business_day"
    rate: float
    carry_yield: float
    close_only_days: int
    spread_points: int
    title: str


#: The cash symbols with futures, and how their contracts are listed.  Rates: the 2019 US
#: benchmark the broker's financing uses (2 %); yields: the S&P 500's and Nasdaq 100's
#: dividend yields of 2019 (1.9 %, 0.9 %), Brent's backwardation of 2019 (a net convenience
#: yield of 6 %: carry -4 % a year), gold's lease rate (about 0).  Spreads in points, a little
#: wider than the cash CFD's, as brokers quote their dated CFDs.
EXPIRY_RULES: dict[str, _Family] = {
    "SPXUSD": _Family("third_friday", 0.02, 0.019, 2, 60, "S&P 500 index future CFD"),
    "NSXUSD": _Family("third_friday", 0.02, 0.009, 2, 180, "Nasdaq 100 index future CFD"),
    "BCOUSD": _Family("brent", 0.02, 0.06, 3, 5, "Brent crude oil future CFD"),
    "XAUUSD": _Family("third_last_business_day", 0.02, 0.0, 3, 25, "Gold future CFD"),
}
#: The cash symbols the broker lists dated futures of.
FUTURES_CASH: tuple[str, ...] = tuple(EXPIRY_RULES)


def contract_name(cash: str, year: int, month: int) -> str:
    """``SPXUSD_Z19`` for (``SPXUSD``, 2019, 12)."""
    return f"{cash}_{MONTH_CODES[month - 1]}{year % 100:02d}"


def parse_contract(name: str) -> tuple[str, int, int] | None:
    """(cash, year, month) of a contract name, or None when the name is not one.

    Two-digit years are read as 2000-2099.
    """
    match = _NAME.match(name)
    if match is None:
        return None
    return match["cash"], 2000 + int(match["yy"]), MONTH_CODES.index(match["code"]) + 1


def _business_days_back(day: date, n: int) -> date:
    """The n-th business day (Mon-Fri) counting back from ``day`` (n=1: ``day`` itself when
    it is one)."""
    found = 0
    while True:
        if day.weekday() < 5:
            found += 1
            if found == n:
                return day
        day -= timedelta(days=1)


def expiry_date(cash: str, year: int, month: int) -> date:
    """The last trading day of the ``cash`` future of (year, month) by its family's rule."""
    rule = EXPIRY_RULES[cash].rule
    if rule == "third_friday":
        first = date(year, month, 1)
        return first + timedelta(days=(4 - first.weekday()) % 7 + 14)
    if rule == "brent":
        y, m = (year, month - 2) if month > 2 else (year - 1, month + 10)
        return _business_days_back(date(y, m, calendar.monthrange(y, m)[1]), 1)
    return _business_days_back(date(year, month, calendar.monthrange(year, month)[1]), 3)


def _utc_seconds(day: date, hour: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp())


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    y, m = divmod(index, 12)
    return date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def contract_spec(cash_spec: _Spec, year: int, month: int) -> _Spec:
    """The futures CFD of ``cash_spec`` for (year, month): the cash CFD's contract (size,
    digits, volume, calc mode, session, commission) with its own name, spread, dates and
    carry terms, and no swap (a future's financing is in its price)."""
    family = EXPIRY_RULES[cash_spec.name]
    last_day = expiry_date(cash_spec.name, year, month)
    name = contract_name(cash_spec.name, year, month)
    terms = FuturesTerms(cash=cash_spec.name, month=f"{year:04d}-{month:02d}",
                         code=name.rsplit("_", 1)[1], rate=family.rate,
                         carry_yield=family.carry_yield,
                         close_only_days=family.close_only_days)
    return dataclasses.replace(
        cash_spec, name=name, typical_spread_points=family.spread_points,
        swap_long=0.0, swap_short=0.0, swap_mode=c.SYMBOL_SWAP_MODE_DISABLED,
        description=f"{family.title}, {calendar.month_abbr[month]} {year}", group="Futures",
        start_time=_utc_seconds(_months_before(last_day, LISTING_MONTHS)),
        expiration_time=_utc_seconds(last_day, EXPIRY_HOUR_UTC), basis=cash_spec.name,
        futures=terms)


def years_to_expiry(spec: DatedSpec, t_msc: int) -> float:
    """tau: years (ACT/365) from UTC ``t_msc`` to the contract's expiry, 0 after it."""
    return max(spec.expiration_time * 1000 - t_msc, 0) / (SECONDS_PER_YEAR * 1000.0)


def fair_log_basis(spec: DatedSpec, t_msc: int) -> float:
    """ln(F/S) the carry alone gives at ``t_msc``: (rate - carry_yield) x tau."""
    assert spec.futures is not None, f"{spec.name} is not a futures CFD"
    return spec.futures.carry * years_to_expiry(spec, t_msc)


def trade_mode_at(spec: DatedSpec, t_msc: int) -> int:
    """``symbol_info().trade_mode`` at UTC ``t_msc``: the spec's own mode for a symbol without
    expiry; for a futures CFD disabled outside [start_time, expiration_time), close-only
    from ``close_only_days`` before expiry."""
    if not spec.expiration_time:
        return spec.trade_mode
    expiry_msc = spec.expiration_time * 1000
    if t_msc < spec.start_time * 1000 or t_msc >= expiry_msc:
        return c.SYMBOL_TRADE_MODE_DISABLED
    days = spec.futures.close_only_days if spec.futures is not None else 0
    if t_msc >= expiry_msc - days * 86_400_000:
        return c.SYMBOL_TRADE_MODE_CLOSEONLY
    return spec.trade_mode
