"""The settings of a ``deal`` cluster (merger arbitrage): the ``[cluster.deal]`` table.

MT5 has no deal feed: the trader states the deal.  Each field's name is its TOML key; the
cluster's ``symbols`` are the target (a cash deal) or the target then the acquirer (a stock
or mixed deal).  The shared settings stay on the cluster (entry E and exit X in % a year of
annualised net spread, the score stop ``tdi_stop``, the timeframe).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine import ranges

#: ``terms``: the offer per target share.  ``cash``: ``cash``; ``stock``: ``ratio`` acquirer
#: shares; ``mixed``: both.
CASH, STOCK, MIXED = "cash", "stock", "mixed"
TERMS = (CASH, STOCK, MIXED)
#: ``financing``: the CFDs' own swap rates (``symbol_info``: ``swap_long`` of the target,
#: ``swap_short`` of the acquirer, annual interest modes) or the rates stated here.
SWAP, RATE = "swap", "rate"
FINANCINGS = (SWAP, RATE)
#: A deal's life (``KindPoint.regime`` of its points).
PENDING, OPEN, COMPLETED, BROKEN = "pending", "open", "completed", "broken"
#: The deal model's diagnostics, in the order of ``KindPoint.diagnostics``: the target's
#: close ``price``; the ``offer`` value per target share; the gross ``spread`` (offer - price,
#: the price's currency) and ``spread_pct`` (% of the price); ``ann_gross`` (the spread %
#: x 365 / days) and ``ann_net`` (less ``financing``, the legs' yearly financing cost in % of
#: the price); ``p``, the implied completion probability (price - break) / (offer - break);
#: ``days`` to the expected close (calendar days, from the bar's trading day); ``acquirer``,
#: the acquirer's close (NaN for a cash deal).
DIAGNOSTICS = ("price", "offer", "spread", "spread_pct", "ann_gross", "ann_net", "financing",
               "p", "days", "acquirer")
#: The highest price, cash amount or break price a deal may state (a share price).
MAX_PRICE = 1e6
#: The highest exchange ratio (acquirer shares per target share).
MAX_RATIO = 1000.0
#: The widest financing rate, % a year (either sign: a credit is a negative cost).
MAX_RATE = 100.0


def as_date(field: str, value: object, *, required: bool) -> date | None:
    """A TOML date (``2021-01-04``) or an ISO string as a ``date``; None when absent and
    not required."""
    if value is None or value == "":
        if required:
            raise ranges.FieldError(field, "missing: a date like 2021-01-04")
        return None
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ranges.FieldError(field, f"expected a date like 2021-01-04, got {value!r}")


@dataclass(frozen=True)
class DealParams:
    """A merger-arbitrage deal (docs/architecture.md, Strategy kinds: deal).

    - ``terms = "cash"``, one of ``TERMS``: ``cash`` (one symbol, the target), ``stock`` or
      ``mixed`` (two symbols: target, acquirer);
    - ``cash = 0.0``, [0, 1e6]: cash per target share (required above 0 for cash and mixed);
    - ``ratio = 0.0``, [0, 1000]: acquirer shares per target share (required above 0 for
      stock and mixed): the offer is ``cash + ratio x acquirer``, and the basket shorts
      ``ratio`` acquirer shares per target share bought (a fixed hedge);
    - ``break_price`` (required), (0, 1e6]: where the target would trade if the deal broke
      (the trader's estimate, often the undisturbed price before the announcement); it must
      lie below the offer for ``p`` to be defined.  The basket is sized so that a fall of
      the target to it loses the cluster's risk budget;
    - ``announced`` (required): the announcement date; no point is valid before it;
    - ``expected_close`` (required), after ``announced``: the date the annualised spread
      runs to; past it the deal is locked for entries (``DEAL_OVERDUE``);
    - ``completed = None`` / ``broken = None``: the date the deal completed or broke, for
      backtests (at most one): at the first bar of that trading day the open basket closes
      with ``DC`` or ``DB`` and the deal opens nothing more.  In the console the trader's
      ``DealEvent`` does the same;
    - ``financing = "swap"``, one of ``FINANCINGS``: ``swap`` takes the yearly rates from the
      CFDs' swap terms as ``symbol_info`` states them (an annual-interest ``swap_mode``; the
      long target pays ``-swap_long`` %, the short acquirer ``-swap_short`` %); ``rate`` the
      two rates below;
    - ``long_rate = 4.5``, [-100, 100]: % a year the long target's financing costs
      (``financing = "rate"``; the simulated broker's benchmark 2 + markup 2.5);
    - ``short_rate = 2.5``, [-100, 100]: % a year the short acquirer costs (borrow and
      markup; ``financing = "rate"``, stock and mixed deals).
    """

    terms: str = CASH
    cash: float = 0.0
    ratio: float = 0.0
    break_price: float = 0.0
    announced: date | str | None = None
    expected_close: date | str | None = None
    completed: date | str | None = None
    broken: date | str | None = None
    financing: str = SWAP
    long_rate: float = 4.5
    short_rate: float = 2.5

    def __post_init__(self) -> None:
        checked: dict[str, object] = {
            "terms": ranges.choice("terms", self.terms, TERMS),
            "cash": ranges.number("cash", self.cash, 0, MAX_PRICE),
            "ratio": ranges.number("ratio", self.ratio, 0, MAX_RATIO),
            "break_price": ranges.number("break_price", self.break_price, 0, MAX_PRICE,
                                         low_open=True),
            "announced": as_date("announced", self.announced, required=True),
            "expected_close": as_date("expected_close", self.expected_close, required=True),
            "completed": as_date("completed", self.completed, required=False),
            "broken": as_date("broken", self.broken, required=False),
            "financing": ranges.choice("financing", self.financing, FINANCINGS),
            "long_rate": ranges.number("long_rate", self.long_rate, -MAX_RATE, MAX_RATE),
            "short_rate": ranges.number("short_rate", self.short_rate, -MAX_RATE, MAX_RATE),
        }
        self._check_terms(checked)
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @staticmethod
    def _check_terms(v: dict[str, object]) -> None:
        terms = v["terms"]
        if terms in (CASH, MIXED) and not v["cash"]:
            raise ranges.FieldError("cash", f"a {terms} deal needs the cash per target share "
                                            "above 0")
        if terms in (STOCK, MIXED) and not v["ratio"]:
            raise ranges.FieldError("ratio", f"a {terms} deal needs the exchange ratio above 0")
        if terms == CASH and v["ratio"]:
            raise ranges.FieldError("ratio", "a cash deal has no exchange ratio: use "
                                             "terms = \"mixed\" for cash plus stock")
        announced, close = v["announced"], v["expected_close"]
        assert isinstance(announced, date) and isinstance(close, date)
        if close <= announced:
            raise ranges.FieldError("expected_close", f"must be after announced ({announced}),"
                                                      f" got {close}")
        if v["completed"] is not None and v["broken"] is not None:
            raise ranges.FieldError("broken", "a deal either completed or broke: give one date")
        for key in ("completed", "broken"):
            when = v[key]
            if isinstance(when, date) and when < announced:
                raise ranges.FieldError(key, f"must be on or after announced ({announced}), "
                                             f"got {when}")

    @property
    def legs(self) -> int:
        """Symbols the deal trades: the target, and the acquirer for stock terms."""
        return 1 if self.terms == CASH else 2

    @property
    def warmup_bars(self) -> int:
        """A deal reads each bar alone: no window to fill."""
        return 0

    def check_symbols(self, symbols: tuple[str, ...]) -> None:
        """A cash deal is one symbol (the target); stock and mixed are two (target,
        acquirer)."""
        if len(symbols) != self.legs:
            what = "the target" if self.legs == 1 else "the target, then the acquirer"
            raise ranges.FieldError("symbols", f"a {self.terms} deal needs {self.legs} "
                                               f"symbol(s), {what}; got {', '.join(symbols)}")

    def offer(self, acquirer: float) -> float:
        """The offer's value per target share at the acquirer's price (NaN for cash terms
        is never needed: ``ratio`` is 0 there)."""
        return self.cash + (self.ratio * acquirer if self.ratio else 0.0)

    @property
    def event(self) -> tuple[str, date] | None:
        """The completion or break the TOML dates (None: neither)."""
        if self.completed is not None:
            return COMPLETED, self.completed  # type: ignore[return-value]
        if self.broken is not None:
            return BROKEN, self.broken  # type: ignore[return-value]
        return None

    def terms_text(self) -> str:
        """The terms in one line: ``50.00 cash``, ``0.45 x PEP``, ``20.00 + 0.30 x ACQ``."""
        if self.terms == CASH:
            return f"{self.cash:.2f} cash"
        stock = f"{self.ratio:g} x acquirer"
        return stock if self.terms == STOCK else f"{self.cash:.2f} + {stock}"
