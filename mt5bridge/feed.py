"""The market-feed interface that drives the simulated terminal.

A feed is the only source of prices and of time for a simulated terminal: the terminal's
virtual clock is whatever the feed last delivered.  The synthetic market, the replay of
recorded ticks and the replay of M1 bars (ticks generated in "1 minute OHLC" mode) all
implement this one protocol, so the terminal never knows which one it is running on.

Ticks travel in batches as numpy structured arrays (``TICK_DTYPE``) rather than as Python
objects: a year of replay is tens of millions of ticks, and per-tick objects would dominate
the cost of a backtest.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from engine.ticks import BAR_DTYPE, TICK_DTYPE, empty_ticks

__all__ = ["BAR_DTYPE", "TICK_DTYPE", "MarketFeed", "empty_ticks"]


@runtime_checkable
class MarketFeed(Protocol):
    """A time-ordered stream of ticks over a fixed set of symbols.

    Contract:
    - ``ticks_until(t)`` returns every not-yet-delivered tick with ``time_msc <= t``, in
      non-decreasing time order (ties keep the source order); calling it again with the same
      or an earlier ``t`` returns an empty batch.  Memory use is bounded by the batch, not by
      the length of the feed.
    - ``next_time()`` is the time of the next undelivered tick, or ``None`` when the feed is
      exhausted; it lets a fast-as-possible loop jump the clock over quiet periods.
    - ``start_msc``/``end_msc`` bound the data (``end_msc`` may be ``None`` for an endless
      feed such as a live synthetic market).
    """

    @property
    def symbols(self) -> Sequence[str]: ...

    @property
    def start_msc(self) -> int: ...

    @property
    def end_msc(self) -> int | None: ...

    def next_time(self) -> int | None: ...

    def ticks_until(self, t_msc: int) -> np.ndarray: ...

    def warmup_bars(self) -> dict[str, np.ndarray]:
        """M1 bars (``BAR_DTYPE``) strictly before ``start_msc``, per symbol.

        This is the history a terminal serves through ``copy_rates_*`` before the first tick
        (so the engine has valid TDIs at once).  A feed without history returns ``{}``.
        """
        ...
