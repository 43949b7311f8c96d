"""Contract specifications of the symbols the simulated broker offers.

The figures are those of a typical ECN-style MT5 account in 2019 (raw spreads plus a
commission per lot): they decide costs in demo, replay and backtest, so they are kept
realistic rather than flattering.  A few symbols differ on purpose so that code which
assumes "every symbol is like EURUSD" breaks in tests rather than with a broker:
XAUUSD allows only IOC filling and has a 2-digit quote and a 100 oz contract; GBPJPY and
AUDNZD trade in steps of 0.1 lots from 0.1.

Swaps are in points per lot per night (``SYMBOL_SWAP_MODE_POINTS``), charged three-fold on
the ``swap_rollover3days`` weekday (Wednesday for FX, Friday for metals), as MT5 brokers do.

Beyond FX the broker lists CFDs (``CFD_SPECS``; ``BROKER_SPECS`` is every symbol;
docs/architecture.md, Instruments):

- index CFDs ``SPXUSD``, ``NSXUSD`` (and ``SP500``, the cash index the daily data names) and
  the Brent CFD ``BCOUSD``: contract 1 index unit / 10 barrels, 2 digits, margin 5 % / 10 %
  of the notional (``SYMBOL_CALC_MODE_CFD``), no commission (the cost is in the spread),
  CME-style or ICE hours (``symbol_sessions``); indices finance at an annual rate
  (``SYMBOL_SWAP_MODE_INTEREST_CURRENT``: long pays benchmark + markup, short gets benchmark
  - markup), Brent in points;
- stock CFDs for the 20 tickers of the daily equity file: contract 1 share, volume in whole
  shares, margin 20 %, NYSE hours, a commission per share with a minimum per deal, and
  financing on both legs at an annual rate on the notional (long pays benchmark + markup,
  short pays the markup).  ``RRC`` is long-only (``SYMBOL_TRADE_MODE_LONGONLY``: a borrow
  the broker cannot find); any other can be made so with ``SimConfig.extra_specs``.

For these ``base`` is the asset itself (``KO``, ``SPX``): the simulator values it by the
symbol's price, as it values XAU; ``symbol_info`` reports the currencies a broker states
for a CFD (base, profit and margin all ``USD``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mt5bridge import constants as c
from mt5bridge.sim.futures import (
    FUTURES_CASH,
    MONTH_CODES,
    QUARTERLY_CODES,
    FuturesTerms,
    contract_spec,
)
from mt5bridge.sim.symbol_sessions import CME_INDEX, ICE_BRENT, NYSE, SymbolSession

#: ``SymbolInfo.filling_mode`` bits.  They are MQL5 flags the Python module does not export.
SYMBOL_FILLING_FOK = 1
SYMBOL_FILLING_IOC = 2

WEDNESDAY = 3
FRIDAY = 5


@dataclass(frozen=True)
class SymbolSpec:
    """What a broker says about one symbol (the subset of ``SymbolInfo`` the product uses).

    ``base``/``quote`` are the currencies of the ratio the price expresses (``quote`` is also
    the profit currency); ``typical_spread_points`` is the quiet-session spread the synthetic
    market quotes before session and news widening.

    Beyond FX: ``calc_mode`` (``SYMBOL_CALC_MODE_*``; CFD modes take ``margin_rate`` of the
    notional as margin, whatever the account's leverage), ``trade_mode``
    (``SYMBOL_TRADE_MODE_*``: long-only, close-only), ``swap_mode`` (points, or an annual
    interest rate in percent on the current notional, 360-day year), the commission
    (``commission_per_lot`` None: the account's per lot; else per lot plus
    ``commission_per_unit`` per unit of volume x contract size, at least
    ``commission_min`` a deal), ``session`` (None: the account's FX ``MarketHours``) and the
    Market Watch ``group``.

    A futures CFD (``futures.py``) adds ``start_time`` and ``expiration_time`` (UTC epoch
    seconds; ``symbol_info`` states them in server time), ``basis`` (the cash symbol) and
    ``futures`` (contract month, carry inputs, ``close_only_days``).
    """

    name: str
    base: str
    quote: str
    digits: int
    contract_size: float
    typical_spread_points: int
    swap_long: float
    swap_short: float
    volume_min: float = 0.01
    volume_max: float = 100.0
    volume_step: float = 0.01
    filling_mode: int = SYMBOL_FILLING_FOK | SYMBOL_FILLING_IOC
    swap_rollover3days: int = WEDNESDAY
    description: str = ""
    calc_mode: int = c.SYMBOL_CALC_MODE_FOREX
    trade_mode: int = c.SYMBOL_TRADE_MODE_FULL
    swap_mode: int = c.SYMBOL_SWAP_MODE_POINTS
    margin_rate: float = 1.0
    commission_per_lot: float | None = None
    commission_per_unit: float = 0.0
    commission_min: float = 0.0
    session: SymbolSession | None = None
    group: str = "Forex"
    # -- futures CFDs (mt5bridge/sim/futures.py): UTC epoch seconds, 0 without expiry --
    start_time: int = 0
    expiration_time: int = 0
    basis: str = ""
    futures: FuturesTerms | None = None

    @property
    def point(self) -> float:
        return 10.0 ** (-self.digits)

    @property
    def margin_currency(self) -> str:
        """The currency (or asset) margin is computed in before conversion."""
        return self.base

    @property
    def priced_margin(self) -> bool:
        """Margin is ``margin_rate`` of the notional (CFD and stock modes), not 1/leverage."""
        return self.calc_mode in (c.SYMBOL_CALC_MODE_CFD, c.SYMBOL_CALC_MODE_EXCH_STOCKS)

    @property
    def stated_currencies(self) -> tuple[str, str, str]:
        """``symbol_info``'s (currency_base, currency_profit, currency_margin): a CFD's are
        all its price currency, as brokers state them."""
        if self.priced_margin:
            return self.quote, self.quote, self.quote
        return self.base, self.quote, self.margin_currency

    @property
    def profit_currency(self) -> str:
        return self.quote


def _fx(name: str, digits: int, spread: int, swap_long: float, swap_short: float,
        **kwargs: object) -> SymbolSpec:
    return SymbolSpec(name=name, base=name[:3], quote=name[3:6], digits=digits,
                      contract_size=100_000.0, typical_spread_points=spread,
                      swap_long=swap_long, swap_short=swap_short, **kwargs)  # type: ignore[arg-type]


#: The FX and metal symbols, keyed by name: the synthetic market's universe (``CFD_SPECS``
#: below has no synthetic model; ``BROKER_SPECS`` is both).
SYMBOL_SPECS: dict[str, SymbolSpec] = {
    s.name: s
    for s in (
        _fx("EURUSD", 5, 2, -7.2, 2.1, description="Euro vs US Dollar"),
        _fx("GBPUSD", 5, 5, -4.8, 0.4, description="Great Britain Pound vs US Dollar"),
        _fx("USDJPY", 3, 3, 3.6, -8.9, description="US Dollar vs Japanese Yen"),
        _fx("USDCHF", 5, 6, 4.4, -10.3, description="US Dollar vs Swiss Franc"),
        _fx("USDCAD", 5, 6, -1.9, -3.4, description="US Dollar vs Canadian Dollar"),
        _fx("AUDUSD", 5, 4, -2.9, -1.6, description="Australian Dollar vs US Dollar"),
        _fx("NZDUSD", 5, 7, -1.8, -2.7, description="New Zealand Dollar vs US Dollar"),
        _fx("EURGBP", 5, 6, -5.6, 0.8, description="Euro vs Great Britain Pound"),
        _fx("EURJPY", 3, 8, -6.1, -1.4, description="Euro vs Japanese Yen"),
        _fx("EURCHF", 5, 8, -5.0, -2.2, description="Euro vs Swiss Franc"),
        _fx("GBPJPY", 3, 12, -1.2, -7.5, volume_min=0.1, volume_step=0.1,
            description="Great Britain Pound vs Japanese Yen"),
        _fx("GBPCHF", 5, 14, 1.0, -9.8, description="Great Britain Pound vs Swiss Franc"),
        _fx("AUDJPY", 3, 8, 0.9, -5.6, description="Australian Dollar vs Japanese Yen"),
        _fx("AUDNZD", 5, 14, -3.4, -3.1, volume_min=0.1, volume_step=0.1,
            description="Australian Dollar vs New Zealand Dollar"),
        _fx("AUDCAD", 5, 12, -2.5, -3.0, description="Australian Dollar vs Canadian Dollar"),
        SymbolSpec(name="XAUUSD", base="XAU", quote="USD", digits=2, contract_size=100.0,
                   typical_spread_points=15, swap_long=-25.0, swap_short=8.0,
                   volume_max=50.0, filling_mode=SYMBOL_FILLING_IOC,
                   swap_rollover3days=FRIDAY, description="Gold vs US Dollar",
                   calc_mode=c.SYMBOL_CALC_MODE_CFDLEVERAGE, group="Metals"),
    )
}

#: Annual rates of the CFD financing swaps, in percent: a benchmark (about the 2019 US
#: overnight rate) and the broker's markup.
BENCHMARK_RATE_PCT = 2.0
FINANCING_MARKUP_PCT = 2.5

#: Stock CFD commission: USD 0.02 a share, at least USD 1 a deal (a common MT5 CFD
#: broker's US share pricing; on a 100-share KO deal, the minimum applies).
STOCK_COMMISSION_PER_SHARE = 0.02
STOCK_COMMISSION_MIN = 1.0

#: The stocks of the daily equity file (``shared/data/equity_daily``), by ticker.
STOCK_TICKERS: tuple[str, ...] = (
    "AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO", "LLY", "MRK", "MSFT",
    "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM",
)

#: Stocks the broker cannot borrow: buy only.
LONG_ONLY_STOCKS: frozenset[str] = frozenset({"RRC"})


def _index(name: str, asset: str, spread: int, description: str) -> SymbolSpec:
    return SymbolSpec(
        name=name, base=asset, quote="USD", digits=2, contract_size=1.0,
        typical_spread_points=spread,
        swap_long=-(BENCHMARK_RATE_PCT + FINANCING_MARKUP_PCT),
        swap_short=BENCHMARK_RATE_PCT - FINANCING_MARKUP_PCT,
        volume_min=0.1, volume_max=500.0, volume_step=0.1, swap_rollover3days=FRIDAY,
        description=description, calc_mode=c.SYMBOL_CALC_MODE_CFD,
        swap_mode=c.SYMBOL_SWAP_MODE_INTEREST_CURRENT, margin_rate=0.05,
        commission_per_lot=0.0, session=CME_INDEX, group="Indices")


def _stock(ticker: str) -> SymbolSpec:
    return SymbolSpec(
        name=ticker, base=ticker, quote="USD", digits=2, contract_size=1.0,
        typical_spread_points=2,
        swap_long=-(BENCHMARK_RATE_PCT + FINANCING_MARKUP_PCT),
        swap_short=-FINANCING_MARKUP_PCT,
        volume_min=1.0, volume_max=10_000.0, volume_step=1.0, swap_rollover3days=FRIDAY,
        description=f"{ticker} stock CFD (NYSE/Nasdaq)", calc_mode=c.SYMBOL_CALC_MODE_CFD,
        trade_mode=(c.SYMBOL_TRADE_MODE_LONGONLY if ticker in LONG_ONLY_STOCKS
                    else c.SYMBOL_TRADE_MODE_FULL),
        swap_mode=c.SYMBOL_SWAP_MODE_INTEREST_CURRENT, margin_rate=0.2,
        commission_per_lot=0.0, commission_per_unit=STOCK_COMMISSION_PER_SHARE,
        commission_min=STOCK_COMMISSION_MIN, session=NYSE, group="Stocks")


#: The CFDs the broker lists beside FX, keyed by name.
CFD_SPECS: dict[str, SymbolSpec] = {
    s.name: s
    for s in (
        _index("SPXUSD", "SPX", 50, "S&P 500 index CFD"),
        _index("NSXUSD", "NSX", 150, "Nasdaq 100 index CFD"),
        _index("SP500", "SP500", 50, "S&P 500 cash index CFD"),
        SymbolSpec(name="BCOUSD", base="BCO", quote="USD", digits=2, contract_size=10.0,
                   typical_spread_points=4, swap_long=-2.0, swap_short=-1.0,
                   volume_min=0.1, volume_max=500.0, volume_step=0.1,
                   swap_rollover3days=FRIDAY, description="Brent crude oil CFD",
                   calc_mode=c.SYMBOL_CALC_MODE_CFD, margin_rate=0.1,
                   commission_per_lot=0.0, session=ICE_BRENT, group="Commodities"),
        *(_stock(t) for t in STOCK_TICKERS),
    )
}

#: Years of the quarterly futures CFDs the broker lists (``FUTURES_SPECS``): 2019 and the
#: first half of 2020, so that every day of 2019 has a live front contract and a next one.
FUTURES_LISTED: tuple[tuple[int, str], ...] = (
    *((2019, code) for code in QUARTERLY_CODES), (2020, "H"), (2020, "M"))

#: The dated futures CFDs (``futures.py``) on gold and the index and Brent CFDs, keyed by
#: name (``SPXUSD_Z19``); other years are found by name (``futures_catalogue``).
FUTURES_SPECS: dict[str, SymbolSpec] = {
    s.name: s
    for cash in FUTURES_CASH
    for year, code in FUTURES_LISTED
    for s in (contract_spec({**SYMBOL_SPECS, **CFD_SPECS}[cash], year,
                            MONTH_CODES.index(code) + 1),)
}

#: Every symbol the simulated broker lists (what the terminal looks a feed's symbols up in).
BROKER_SPECS: dict[str, SymbolSpec] = {**SYMBOL_SPECS, **CFD_SPECS, **FUTURES_SPECS}


def long_only(spec: SymbolSpec) -> SymbolSpec:
    """The spec with shorts refused (``SYMBOL_TRADE_MODE_LONGONLY``), for ``extra_specs``."""
    return dataclasses.replace(spec, trade_mode=c.SYMBOL_TRADE_MODE_LONGONLY)


#: Currencies that appear in the symbol universe (XAU counts as one: gold trades like one).
CURRENCIES: tuple[str, ...] = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "XAU")

#: Value of one unit of each currency in USD around the start of 2019.  Synthetic markets
#: start here so prices look familiar; all cross rates follow from these ratios.
REFERENCE_USD_VALUE: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.145,
    "GBP": 1.275,
    "JPY": 1.0 / 109.5,
    "CHF": 1.0 / 0.985,
    "CAD": 1.0 / 1.362,
    "AUD": 0.705,
    "NZD": 0.672,
    "XAU": 1282.0,
}


def reference_price(spec: SymbolSpec) -> float:
    """The spec's price implied by ``REFERENCE_USD_VALUE``, rounded to its digits."""
    return round(REFERENCE_USD_VALUE[spec.base] / REFERENCE_USD_VALUE[spec.quote], spec.digits)
