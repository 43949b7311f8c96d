"""Calibration of the synthetic market: currency volatilities, risk loadings, symbol latency.

The figures are chosen so that the synthetic symbols look like 2019 FX at the scales the
engine sees (M1 to M30): EURUSD about 5 % a year, AUDUSD about 6 %, XAUUSD about 11 %, the
risk-on/off factor making AUD/NZD/CAD move against JPY/CHF/XAU.  They are plain tables so a
reader can see at once why a symbol behaves as it does; nothing here is fitted at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

from mt5bridge.sim.symbols import CURRENCIES

#: Trading minutes in a year (5 days x 1440 minutes x 52 weeks): converts annual
#: volatilities into per-minute ones.
TRADING_MINUTES_PER_YEAR = 5 * 1440 * 52

#: Annualised volatility of each currency's latent value (log units).  A pair's volatility
#: follows from its two legs and their common risk loading.
CURRENCY_ANNUAL_VOL: dict[str, float] = {
    "USD": 0.045,
    "EUR": 0.028,
    "GBP": 0.050,
    "JPY": 0.040,
    "CHF": 0.030,
    "CAD": 0.035,
    "AUD": 0.040,
    "NZD": 0.043,
    "XAU": 0.095,
}

#: Loading of each currency on the common risk-on/off factor, in [-1, 1].  Positive: the
#: currency rises when risk appetite rises (commodity currencies); negative: a safe haven.
RISK_LOADING: dict[str, float] = {
    "USD": 0.0,
    "EUR": 0.1,
    "GBP": 0.2,
    "JPY": -0.6,
    "CHF": -0.3,
    "CAD": 0.4,
    "AUD": 0.7,
    "NZD": 0.75,
    "XAU": -0.3,
}


@dataclass(frozen=True)
class SymbolLatency:
    """How a symbol absorbs a shock to the ratio of its two currencies.

    The quote moves by ``impact`` times the shock at once and then settles exponentially to
    the full shock, with time constant ``tau_minutes`` (counted in open-market minutes).
    Each symbol has its own impact and speed, so after any shock the symbols of a cluster
    are temporarily out of line with each other and realign over tens of minutes to hours:
    that disalignment is what the engine's TDI trades.

    The defaults over-react (``impact`` > 1, as when a burst of orders runs through thin
    liquidity, then the price settles), quick for liquid majors and slower for thin crosses.
    An ``impact`` below 1 is a pure lag; measured on M30 bars, pure lags make the symbols'
    log-ratios trend rather than revert (variance ratios of 1.3-2 at 4 hours: the laggard
    keeps catching up), which is a momentum market, not the mean-reverting disalignment the
    engine trades; see the synthetic-market section of bench/README.md.
    """

    impact: float
    tau_minutes: float
    #: Relative tick arrival rate (EURUSD is the most quoted symbol).
    liquidity: float


#: Per-symbol response and liquidity.  Symbols missing here use ``DEFAULT_LATENCY``.
SYMBOL_LATENCY: dict[str, SymbolLatency] = {
    "EURUSD": SymbolLatency(1.08, 30.0, 1.6),
    "USDJPY": SymbolLatency(1.12, 40.0, 1.4),
    "GBPUSD": SymbolLatency(1.20, 70.0, 1.3),
    "XAUUSD": SymbolLatency(1.20, 60.0, 1.3),
    "AUDUSD": SymbolLatency(1.23, 95.0, 1.1),
    "USDCHF": SymbolLatency(1.31, 145.0, 1.0),
    "USDCAD": SymbolLatency(1.27, 120.0, 1.0),
    "NZDUSD": SymbolLatency(1.31, 145.0, 0.8),
    "EURGBP": SymbolLatency(1.35, 190.0, 0.9),
    "EURJPY": SymbolLatency(1.31, 145.0, 0.9),
    "EURCHF": SymbolLatency(1.39, 240.0, 0.7),
    "GBPJPY": SymbolLatency(1.39, 190.0, 0.8),
    "GBPCHF": SymbolLatency(1.43, 240.0, 0.6),
    "AUDJPY": SymbolLatency(1.35, 190.0, 0.8),
    "AUDNZD": SymbolLatency(1.43, 240.0, 0.6),
    "AUDCAD": SymbolLatency(1.43, 240.0, 0.6),
}
DEFAULT_LATENCY = SymbolLatency(1.35, 190.0, 0.7)

#: Stochastic volatility: log-volatility follows an hourly AR(1).  The global component moves
#: every currency (calm and busy weeks), the per-currency one lets e.g. GBP have its own
#: turbulent days.  ``*_SD`` is the stationary standard deviation of the log-volatility.
GLOBAL_LOG_VOL_SD = 0.30
GLOBAL_LOG_VOL_HALF_LIFE_HOURS = 120.0
CURRENCY_LOG_VOL_SD = 0.20
CURRENCY_LOG_VOL_HALF_LIFE_HOURS = 24.0

#: Standard deviation of a news jump in the event currency's log value, by impact
#: (a high-impact release moves EURUSD by a couple of dozen pips).
NEWS_JUMP_SD: dict[str, float] = {"High": 0.0020, "Medium": 0.0008, "Low": 0.0003}
#: Extra volatility after an event: the currency's volatility is multiplied by
#: ``1 + boost * exp(-minutes_after / NEWS_VOL_DECAY_MINUTES)`` for an hour.
NEWS_VOL_BOOST: dict[str, float] = {"High": 2.0, "Medium": 1.0, "Low": 0.3}
NEWS_VOL_DECAY_MINUTES = 20.0
NEWS_VOL_WINDOW_MINUTES = 60
#: Spread multiplier at the event minute, by impact.  The minute before carries a third of
#: the widening; after the event it falls linearly back to 1 over six minutes.
NEWS_SPREAD_PEAK: dict[str, float] = {"High": 8.0, "Medium": 4.0, "Low": 2.0}
NEWS_SPREAD_AFTER_MINUTES = 5

#: Per-minute log-normal noise on spreads, so Market Watch shows a live spread.
SPREAD_NOISE_SD = 0.15


def latency_of(symbol: str) -> SymbolLatency:
    return SYMBOL_LATENCY.get(symbol, DEFAULT_LATENCY)


def currency_index(currency: str) -> int:
    return CURRENCIES.index(currency)
