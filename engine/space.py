"""The price space of a cluster: which currency its basket is neutral in, and how each
symbol's quote is turned into the price of one asset in that currency.

Why: a cluster that mixes XXXUSD and USDXXX quotes does not cancel the dollar in its pair
ratios (``log(EURUSD/USDCHF)`` moves by -2f when the dollar moves by f), and a basket whose
base-currency notionals sum to zero is then far from neutral in dollars (2019: 73% of
gross on average).  In ``currency`` space the cluster's **numeraire** is the one currency
every member symbol contains, and each symbol becomes the price of its *other* currency
(or metal) in the numeraire: EURUSD stays (EUR in USD), USDCHF becomes 1/USDCHF (CHF in
USD), EURGBP in a EUR cluster becomes 1/EURGBP (GBP in EUR).  Pair ratios are then cross
rates, the numeraire cancels, and exposures per oriented asset that sum to zero are a
position that is flat in the numeraire.

In ``symbol`` space every orientation is +1: the quotes are used as they come.

This module is the one place an orientation is decided and applied: the streaming signal
(``engine.signals``), the batch TDI of files (``app.cluster_tdi``) and the sizing
(``engine.cluster.size_basket``) all call it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

#: The two spaces (``engine.cluster.ClusterSpec.space``).
CURRENCY = "currency"
SYMBOL = "symbol"


class NoNumeraire(ValueError):
    """The cluster has no single currency that every member contains."""


def currencies_of(symbol: str) -> tuple[str, str]:
    """Base and quote of a symbol: its first six letters (a broker suffix may follow)."""
    return symbol[:3].upper(), symbol[3:6].upper()


def common_currencies(symbols: Iterable[str]) -> list[str]:
    """The currencies every symbol contains, sorted (none, one, or two for one rate)."""
    sets = [set(currencies_of(s)) for s in symbols]
    if not sets:
        return []
    return sorted(set.intersection(*sets))


def numeraire_of(symbols: Sequence[str]) -> str:
    """The one currency every symbol contains; ``NoNumeraire`` says why there is none.

    Two candidates happen only when every member quotes the same two currencies (EURUSD,
    USDEUR, EURUSD.pro): the members are one rate, so no choice between them is meaningful
    and the cluster is refused rather than given an arbitrary numeraire.
    """
    common = common_currencies(symbols)
    if len(common) == 1:
        return common[0]
    listed = ", ".join(symbols)
    if not common:
        raise NoNumeraire(f"no currency is common to every symbol ({listed}): a "
                          f"currency-space cluster needs one (use space = \"symbol\")")
    raise NoNumeraire(f"every symbol ({listed}) quotes both {common[0]} and {common[1]}: the "
                      f"members are one rate, with no single numeraire")


def numeraire_or_none(symbols: Sequence[str]) -> str:
    """The numeraire, or ``""`` when there is none (what a symbol-space cluster reports)."""
    try:
        return numeraire_of(symbols)
    except NoNumeraire:
        return ""


def orientation(symbol: str, numeraire: str) -> int:
    """+1 when the symbol's base is the asset priced in the numeraire (EURUSD in USD),
    -1 when its base is the numeraire itself (USDCHF in USD: 1/USDCHF is CHF in USD)."""
    base, quote = currencies_of(symbol)
    if quote == numeraire and base != numeraire:
        return 1
    if base == numeraire and quote != numeraire:
        return -1
    raise NoNumeraire(f"{symbol} does not price another currency in {numeraire}")


def orientations(symbols: Sequence[str], space: str) -> dict[str, int]:
    """Each symbol's orientation in ``space``: all +1 in symbol space."""
    if space == SYMBOL:
        return {s: 1 for s in symbols}
    if space != CURRENCY:
        raise ValueError(f"unknown space {space!r}")
    numeraire = numeraire_of(symbols)
    return {s: orientation(s, numeraire) for s in symbols}


def asset_of(symbol: str, sign: int) -> str:
    """The currency (or metal) a symbol prices once oriented: its base, or its quote."""
    base, quote = currencies_of(symbol)
    return base if sign > 0 else quote


def orient(prices: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Oriented prices: each column as is (+1) or inverted (-1); rows are bars.

    ``prices`` is one row (N,) or a block (T, N) in the order of ``signs``.  Every path that
    computes a TDI calls this, so batch and streaming invert the same numbers the same way.
    """
    p = np.asarray(prices, dtype=np.float64)
    s = np.asarray(signs)
    if not (s < 0).any():
        return p
    return np.where(s < 0, 1.0 / p, p)


class Orienter:
    """``orient`` for one fixed order of signs, the mask found once: a cluster orients every
    bar and every minute's prices with its own signs (the same numbers as ``orient``)."""

    def __init__(self, signs: np.ndarray) -> None:
        self._invert = np.asarray(signs) < 0
        self._any = bool(self._invert.any())

    def __call__(self, prices: np.ndarray) -> np.ndarray:
        p = np.asarray(prices, dtype=np.float64)
        if not self._any:
            return p
        return np.where(self._invert, 1.0 / p, p)


def orient_frame(closes: pd.DataFrame, signs: Mapping[str, int]) -> pd.DataFrame:
    """A frame of closes (one column per symbol) with each column oriented."""
    order = np.array([signs[c] for c in closes.columns])
    return pd.DataFrame(orient(closes.to_numpy(), order), index=closes.index,
                        columns=closes.columns)


def net_numeraire_exposure(notionals: Mapping[str, float], numeraire: str) -> float:
    """Net account-currency exposure to ``numeraire`` of legs given as signed base
    notionals (lots x contract size x account value of one base unit, + bought).

    A position in a symbol is long its base and short its quote by the same value, so the
    numeraire gains the notional where it is the base and loses it where it is the quote.
    NaN without a numeraire.
    """
    if not numeraire:
        return math.nan
    net = 0.0
    for symbol, notional in notionals.items():
        base, quote = currencies_of(symbol)
        if base == numeraire:
            net += notional
        elif quote == numeraire:
            net -= notional
    return net


def gross_notional(notionals: Mapping[str, float]) -> float:
    """The sum of the legs' absolute notionals: what shares of gross are shares of."""
    return float(sum(abs(v) for v in notionals.values()))
