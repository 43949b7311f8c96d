"""Account-currency value of every currency, from the quotes the engine already has.

Sizing and marking need "what is one unit of X worth in the account currency": for the
base of a leg (dollar exposure -> units) and for its quote currency (price move -> money).
Each currency is resolved once to the symbol that links it to the account currency,
directly (EURUSD, USDJPY) or through one intermediate (EURGBP needs GBPUSD), and valued at
the current mid.  A universe that cannot value a currency is a configuration error, found
at start rather than at the first trade.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.errors import ConfigError


def split_symbol(symbol: str) -> tuple[str, str]:
    """Base and quote currency of a six-letter FX or metal symbol (suffixes ignored)."""
    return symbol[:3], symbol[3:6]


class CurrencyConverter:
    """Values currencies in the account currency from a vector of mid prices."""

    def __init__(self, symbols: Sequence[str], account_currency: str = "USD") -> None:
        self.symbols = tuple(symbols)
        self.account = account_currency
        self._routes: dict[str, list[tuple[int, int]]] = {}  # ccy -> [(symbol index, +1|-1)]
        pairs = {split_symbol(s): i for i, s in enumerate(self.symbols)}
        currencies = {c for s in self.symbols for c in split_symbol(s)} | {account_currency}
        for ccy in currencies:
            route = self._route(ccy, pairs)
            if route is None:
                raise ConfigError("symbols", ccy, f"no quoted symbol converts {ccy} to "
                                  f"{account_currency}; add e.g. {ccy}{account_currency}")
            self._routes[ccy] = route

    def _route(self, ccy: str, pairs: dict[tuple[str, str], int]) -> list[tuple[int, int]] | None:
        target = self.account
        if ccy == target:
            return []
        if (ccy, target) in pairs:
            return [(pairs[(ccy, target)], 1)]
        if (target, ccy) in pairs:
            return [(pairs[(target, ccy)], -1)]
        for hop in sorted({c for pair in pairs for c in pair}):
            if hop in (ccy, target):
                continue
            first = (pairs.get((ccy, hop)), 1) if (ccy, hop) in pairs else (
                (pairs.get((hop, ccy)), -1) if (hop, ccy) in pairs else None)
            if first is None:
                continue
            rest = self._direct(hop, pairs)
            if rest is not None:
                return [first, *rest]  # type: ignore[list-item]
        return None

    def _direct(self, ccy: str, pairs: dict[tuple[str, str], int]) -> list[tuple[int, int]] | None:
        if (ccy, self.account) in pairs:
            return [(pairs[(ccy, self.account)], 1)]
        if (self.account, ccy) in pairs:
            return [(pairs[(self.account, ccy)], -1)]
        return None

    def value(self, ccy: str, mids: np.ndarray) -> float:
        """Account-currency value of one unit of ``ccy`` at the given mids (NaN if unquoted)."""
        out = 1.0
        for idx, sign in self._routes[ccy]:
            px = float(mids[idx])
            out *= px if sign > 0 else 1.0 / px
        return out
