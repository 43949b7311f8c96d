"""What a strategy kind is: a signal model the shared engine trades.

A kind turns the aligned closes of its symbols (bars of the cluster's signal timeframe,
strictly backward-looking: a bar's point uses that bar's close and earlier ones only) into,
per bar, a ``KindPoint``: a score in threshold units, whether it is valid, a lock reason
when automatic entries must not open, and named diagnostics.  It also says, for a point
and a direction, the basket to hold: a signed exposure vector over its symbols in the
account currency, scaled to a gross exposure of 1.

Everything else is shared and lives outside the kinds: the entry rule (LONG below -E, SHORT
above +E on the score), the exits (MR, OS and TS on the score; TP, HS, TO, NEWS, MANUAL,
RISK), sizing from the exposure vector to lots, execution, risk, news, the journal, the
backtest and the console.  A kind never sees an order, an account or a clock.

Each kind module provides a streaming model (this interface) and a batch function over a
whole history computed by a separate arithmetic; the tests hold the two to 1e-9, and hold
every kind's scores invariant under truncating the history's start (once both are warm).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from engine.model import Direction, ExitCode


@dataclass(frozen=True)
class KindPoint:
    """One signal bar's reading of a kind.

    - ``score``: the value the shared thresholds read (the TDI, a spread's z-score, ...);
      NaN when not valid;
    - ``valid``: the model is warm and the score is defined at this bar;
    - ``lock``: ``""`` when automatic entries may open, else ``"CODE: sentence"`` (e.g.
      ``"EIGENGAP: eigengap 1.02 < 1.15"``, ``"COINT_LOST: ..."``): the refusal the engine
      journals; a trader's manual basket overrides it;
    - ``diagnostics``: the kind's named figures at this bar, in its ``diagnostic_names``
      order (NaN where undefined): the console's columns and the journal's detail;
    - ``state``: what the model needs to build the basket of this point (hedge weights, the
      TDI's v1, ...); opaque to everything else;
    - ``regime``: for kinds that watch a regime (``correlation``), ``"normal"`` or
      ``"broken"``; ``""`` for the others.
    """

    score: float
    valid: bool
    lock: str = ""
    diagnostics: tuple[float, ...] = ()
    state: Any = field(default=None, compare=False)
    regime: str = ""

    @property
    def lock_code(self) -> str:
        return self.lock.split(":", 1)[0] if self.lock else ""


def invalid_point(n_diagnostics: int, lock: str = "") -> KindPoint:
    """A point of a model still warming up (or of a degenerate window)."""
    return KindPoint(math.nan, False, lock, (math.nan,) * n_diagnostics)


class SignalModel(ABC):
    """The streaming side of a kind (see the module docstring).

    Subclasses set ``kind`` and ``diagnostic_names``, and in ``__init__`` ``symbols`` (the
    traded members), ``feed_symbols`` (the closes ``update`` takes: the members first, in
    ``symbols`` order, then any symbol only the model reads, e.g. a factor's) and
    ``warmup_bars`` (bars before the first valid point).
    """

    kind: ClassVar[str]
    diagnostic_names: ClassVar[tuple[str, ...]] = ()
    #: False for a kind that only watches (a correlation regime with ``action = "lock"``):
    #: the engine never opens a basket from its points.
    trades: bool = True
    #: False for a kind whose baskets the hard stop (HS) must not close: a deal is sized by
    #: the loss to its break price instead of a stop (``own_sizing``), as a break gaps
    #: through any stop.
    hard_stop: bool = True

    symbols: tuple[str, ...]
    feed_symbols: tuple[str, ...]
    warmup_bars: int

    @abstractmethod
    def update(self, closes: np.ndarray, bar_s: int) -> KindPoint:
        """Add one closed signal bar (closes of ``feed_symbols``, as quoted) -> its point."""

    @abstractmethod
    def provisional(self, prices: np.ndarray) -> float:
        """The score at these prices (of ``feed_symbols``) with the statistics of the last
        closed bar: what the fast exits read at an M1 close.  NaN when not defined."""

    def provisional_estimates(self, prices: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray] | None:
        """``provisional`` of every row of ``prices`` in one block, as estimates and a
        bound per row (``provisional`` of the row is within ``bound`` of the estimate;
        NaN or infinite where it may not be finite), or None where the model has no block
        form.  A backtest's look-ahead over held minutes (``engine.held_minutes``) uses
        them only to choose the minutes worth asking ``provisional`` exactly: a minute
        whose estimate is clear of every exit level by more than its bound cannot exit."""
        return None

    @abstractmethod
    def exposures(self, point: KindPoint, direction: Direction) -> dict[str, float]:
        """Signed account-currency exposure per member for the basket of ``point`` in
        ``direction`` (LONG: the basket that gains when the score rises back from below
        -E), scaled to a gross (sum of absolute values) of 1.  Raises ValueError when the
        point cannot make a basket."""

    def set_thresholds(self, entry: float, exit_band: float) -> None:
        """The trader changed E and X (``SetThresholds``): a model whose own state reads them
        (a regime's hysteresis) takes them from its next bar; the others ignore them."""
        return None

    def time_stop_bars(self, point: KindPoint) -> int | None:
        """A basket-specific time stop in signal bars (e.g. a multiple of the half-life),
        or None for the cluster's ``time_stop_bars``."""
        return None

    # --- kind-level hooks of the shared engine (the defaults: what every other kind does)

    def own_sizing(self, point: KindPoint, direction: Direction,
                   prices: Mapping[str, float]) -> tuple[dict[str, float], float] | None:
        """(the unit basket at ``prices``, its loss per unit of gross at the kind's own
        stop) when the kind sizes by a loss of its own (a deal: the break price); None: the
        shared sizing (``hard_stop_atr`` basket ATRs).  ValueError: no basket to size."""
        return None

    def rounding_problem(self, lots: Mapping[str, float]) -> str:
        """Why the rounded lots are not the kind's basket ("" when they are), beyond the
        shared balance check (a deal's fixed hedge ratio)."""
        return ""

    def event_exit(self, point: KindPoint) -> tuple[ExitCode, str] | None:
        """An exit the kind's own events call for at this point (a deal's completion or
        break: ``DC``/``DB``) before the shared exits, with its detail; None: none."""
        return None

    def use_symbol_info(self, infos: Mapping[str, Any]) -> None:
        """The terminal's ``symbol_info`` of the members at start (a deal reads its
        financing from the CFDs' swap terms); the others ignore it."""
        return None

    def refuse_thresholds(self, entry: float, exit_band: float) -> str:
        """Why the trader's new E and X are refused for this kind (``""``: accepted): a
        basis's E must stay above its break-even."""
        return ""

    def forced_exit(self, point: KindPoint) -> tuple[ExitCode, str] | None:
        """An exit the kind itself calls at a signal-bar close whatever the score says
        (the ``basis`` kind's EX before its contract's expiry), with its detail; None for
        the kinds that have none.  The shared exits come first."""
        return None

    def diagnostics_of(self, point: KindPoint) -> Mapping[str, float]:
        return dict(zip(self.diagnostic_names, point.diagnostics, strict=False))


def unit_gross(weights: Mapping[str, float]) -> dict[str, float]:
    """``weights`` scaled to a gross of 1 (ValueError when all are zero or not finite)."""
    values = np.array(list(weights.values()), dtype=np.float64)
    gross = float(np.abs(values).sum())
    if not (math.isfinite(gross) and gross > 0):
        raise ValueError("the basket has no finite exposure")
    return {s: float(v) / gross for s, v in weights.items()}
