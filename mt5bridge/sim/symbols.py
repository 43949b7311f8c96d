"""Contract specifications of the symbols the simulated broker offers.

The figures are those of a typical ECN-style MT5 account in 2019 (raw spreads plus a
commission per lot): they decide costs in demo, replay and backtest, so they are kept
realistic rather than flattering.  A few symbols differ on purpose so that code which
assumes "every symbol is like EURUSD" breaks in tests rather than with a broker:
XAUUSD allows only IOC filling and has a 2-digit quote and a 100 oz contract; GBPJPY and
AUDNZD trade in steps of 0.1 lots from 0.1.

Swaps are in points per lot per night (``SYMBOL_SWAP_MODE_POINTS``), charged three-fold on
the ``swap_rollover3days`` weekday (Wednesday for FX, Friday for metals), as MT5 brokers do.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def point(self) -> float:
        return 10.0 ** (-self.digits)

    @property
    def margin_currency(self) -> str:
        return self.base

    @property
    def profit_currency(self) -> str:
        return self.quote


def _fx(name: str, digits: int, spread: int, swap_long: float, swap_short: float,
        **kwargs: object) -> SymbolSpec:
    return SymbolSpec(name=name, base=name[:3], quote=name[3:6], digits=digits,
                      contract_size=100_000.0, typical_spread_points=spread,
                      swap_long=swap_long, swap_short=swap_short, **kwargs)  # type: ignore[arg-type]


#: Every symbol the simulated broker lists, keyed by name.
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
                   swap_rollover3days=FRIDAY, description="Gold vs US Dollar"),
    )
}

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
