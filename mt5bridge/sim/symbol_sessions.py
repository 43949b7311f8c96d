"""Trading sessions of the simulated broker's non-FX symbols, one per kind of market.

FX and metals keep the account's ``MarketHours`` (``sessions.py``).  A CFD on an index, a
commodity or a stock trades only while its underlying does, and a real MT5 server refuses an
order outside the symbol's session with ``TRADE_RETCODE_MARKET_CLOSED`` and sends no quotes
then.  Three sessions cover the symbols the simulator lists:

- ``CME_INDEX``: index CFDs (SPXUSD, NSXUSD, SP500) as a CME-style broker quotes them:
  Sunday 23:00 to Friday 22:00 UTC with a daily break 22:00-23:00 UTC (CME Globex 18:00-17:00
  New York in winter, kept in UTC).  The 2019 HistData CFD files, as the importer places
  them (fixed UTC-5), fit it except in the weeks when US and European daylight saving
  differ (10-31 March, 27 October-2 November): there the file's break sits an hour
  earlier and its 22:00-22:59 UTC bars fall in this break and are not quoted.
- ``ICE_BRENT``: Brent crude CFD on ICE Futures Europe hours, 01:00-23:00 London time
  (GMT/BST), Monday to Friday.
- ``NYSE``: stock CFDs, the NYSE regular session 09:30-16:00 New York time (EST/EDT), on
  NYSE trading days: weekdays less the exchange holidays (``nyse_holidays``).

Index and Brent sessions are also closed on Christmas Day and New Year's Day, as the FX hours
are.  Each session is a set of [open, close) intervals in UTC milliseconds, built per year
once and searched with ``numpy.searchsorted``, so a check costs a binary search whether it
asks for one time (an order) or a tick batch (the feed filter).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

__all__ = ["CME_INDEX", "ICE_BRENT", "NYSE", "SessionFilter", "SymbolSession", "nyse_holidays"]

_MS_PER_YEAR_APPROX = 365.2425 * 86_400_000


@dataclass(frozen=True)
class SymbolSession:
    """Daily trading hours in ``tz`` on the trading days of ``calendar``.

    ``opens_day_before``: the session of trading day D opens at ``open`` local time on the
    previous calendar day (a Globex-style evening open) and closes at ``close`` on D.
    ``calendar``: "weekdays" (Monday-Friday less 25 Dec and 1 Jan) or "nyse".
    """

    name: str
    tz: str
    open: tuple[int, int]
    close: tuple[int, int]
    opens_day_before: bool = False
    calendar: str = "weekdays"

    def is_open(self, utc_ms: int) -> bool:
        """Whether the symbol trades at UTC ``utc_ms`` (an order may be placed)."""
        return bool(self.open_mask(np.array([utc_ms], dtype=np.int64))[0])

    def open_mask(self, utc_ms: np.ndarray) -> np.ndarray:
        """Per time (UTC ms, any order), whether the session is open then."""
        times = np.asarray(utc_ms, dtype=np.int64)
        out = np.zeros(len(times), dtype=bool)
        if not len(times):
            return out
        years = (times // _MS_PER_YEAR_APPROX).astype(np.int64) + 1970
        for year in np.unique(years):
            starts, ends = _intervals(self, int(year))
            pick = years == year
            t = times[pick]
            i = np.searchsorted(starts, t, side="right") - 1
            ok = i >= 0
            ok[ok] = t[ok] < ends[i[ok]]
            out[pick] = ok
        return out

    def trading_days(self, first: date, last: date) -> list[date]:
        """The session's trading days from ``first`` to ``last`` inclusive."""
        out = []
        day = first
        while day <= last:
            if _is_trading_day(self.calendar, day):
                out.append(day)
            day += timedelta(days=1)
        return out


def _is_trading_day(calendar: str, day: date) -> bool:
    if day.weekday() >= 5:
        return False
    if calendar == "nyse":
        return day not in nyse_holidays(day.year)
    return (day.month, day.day) not in ((12, 25), (1, 1))


@lru_cache(maxsize=64)
def _intervals(session: SymbolSession, year: int) -> tuple[np.ndarray, np.ndarray]:
    """[open, close) in UTC ms of every trading day whose session may touch ``year``."""
    zone = ZoneInfo(session.tz)
    starts, ends = [], []
    for day in session.trading_days(date(year - 1, 12, 24), date(year + 1, 1, 8)):
        open_day = day - timedelta(days=1) if session.opens_day_before else day
        start = datetime(open_day.year, open_day.month, open_day.day, *session.open, tzinfo=zone)
        end = datetime(day.year, day.month, day.day, *session.close, tzinfo=zone)
        starts.append(int(start.astimezone(UTC).timestamp() * 1000))
        ends.append(int(end.astimezone(UTC).timestamp() * 1000))
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


# -- NYSE holidays ---------------------------------------------------------------------------


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month = (h + m - 7 * n + 114) // 31
    return date(year, month, (h + m - 7 * n + 114) % 31 + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (Monday 0) of the month; n = -1 is the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date | None:
    """NYSE rule: a Saturday holiday is taken the Friday before, a Sunday one the Monday
    after; except New Year's Day on a Saturday, which is not taken at all (the Friday
    before closes another year's books)."""
    if day.weekday() == 5:
        return None if (day.month, day.day) == (1, 1) else day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=128)
def nyse_holidays(year: int) -> frozenset[date]:
    """The NYSE's full-day holidays of ``year`` by its rules since 1998 (Juneteenth from
    2022).  One-off closures (the 2001 attacks, the 2012 hurricane, state funerals) are not
    rules and are not here."""
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 12, 25)]
    if year >= 2022:
        fixed.append(date(year, 6, 19))
    days = {_observed(d) for d in fixed}
    days |= {
        _nth_weekday(year, 1, 0, 3),   # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),   # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),   # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    }
    return frozenset(d for d in days if d is not None)


#: Index CFDs: Sunday 23:00 to Friday 22:00 UTC, daily break 22:00-23:00 UTC.
CME_INDEX = SymbolSession("CME index CFD", "UTC", (23, 0), (22, 0), opens_day_before=True)
#: Brent crude CFD: ICE Futures Europe, 01:00-23:00 London time, Monday to Friday.
ICE_BRENT = SymbolSession("ICE Brent", "Europe/London", (1, 0), (23, 0))
#: Stock CFDs: the NYSE regular session, 09:30-16:00 New York time, NYSE trading days.
NYSE = SymbolSession("NYSE regular session", "America/New_York", (9, 30), (16, 0),
                     calendar="nyse")


class SessionFilter:
    """The ticks a real server would send for symbols with a session of their own (CFDs):
    none outside the session, and prices at the symbol's digits (HistData writes index CFDs
    with a third decimal, ``2506.769``, that a 2-digit broker never quotes; a fill at such a
    price would not survive the legs' rounding).  Symbols without a session of their own
    (FX, metals) pass untouched.

    It runs on every batch a backtest step takes, so the common cases cost a few numpy
    calls, not a mask per symbol: a batch whose times all fall in one open interval of a
    session (most batches) or all in one closed gap keeps or drops that symbol's ticks
    whole, and when every symbol of the terminal (``n_symbols``) has a session with the same
    digits, the prices are rounded column by column.  Only a batch that straddles an open
    or a close is masked tick by tick."""

    def __init__(self, sessions: dict[int, SymbolSession],
                 digits: dict[int, int] | None = None, n_symbols: int | None = None) -> None:
        self._sessions = dict(sessions)
        self._digits = dict(digits or {})
        every_symbol = n_symbols is not None and set(self._sessions) == set(range(n_symbols))
        digit_set = {self._digits.get(i) for i in self._sessions}
        #: The digits every tick is rounded to, when one figure applies to all symbols.
        self._all_digits: int | None = None
        if every_symbol and len(digit_set) == 1:
            self._all_digits = digit_set.pop()

    def __bool__(self) -> bool:
        return bool(self._sessions)

    def __call__(self, ticks: np.ndarray) -> np.ndarray:
        """The ticks (``TICK_DTYPE``) inside their symbol's session, in their order."""
        if not self._sessions or not len(ticks):
            return ticks
        times = ticks["time_msc"]
        symbols = ticks["symbol"]
        lo, hi = int(times.min()), int(times.max())
        keep: np.ndarray | None = None
        for index, session in self._sessions.items():
            span = _span(session, lo, hi)
            if span is _OPEN:
                continue
            mine = symbols == index
            if not mine.any():
                continue
            if keep is None:
                keep = np.ones(len(ticks), dtype=bool)
            keep[mine] = False if span is _CLOSED else session.open_mask(times[mine])
        ticks = self._rounded(ticks, symbols)
        return ticks if keep is None or keep.all() else ticks[keep]

    def _rounded(self, ticks: np.ndarray, symbols: np.ndarray) -> np.ndarray:
        """A copy of ``ticks`` with each session symbol's prices at its digits (``ticks``
        itself when no symbol has digits)."""
        if not self._digits:
            return ticks
        ticks = ticks.copy()
        if self._all_digits is not None:
            for side in ("bid", "ask"):
                ticks[side] = np.round(ticks[side], self._all_digits)
            return ticks
        for index, digits in self._digits.items():
            mine = symbols == index
            if mine.any():
                for side in ("bid", "ask"):
                    ticks[side][mine] = np.round(ticks[side][mine], digits)
        return ticks


#: ``_span``'s answers: every time of the span open, every time closed, or some of each.
_OPEN, _CLOSED, _MIXED = "open", "closed", "mixed"


def _span(session: SymbolSession, lo: int, hi: int) -> str:
    """Whether the session is open at every time of ``[lo, hi]`` (UTC ms), at none, or
    neither: one binary search in the intervals ``open_mask`` searches."""
    year = int(lo // _MS_PER_YEAR_APPROX) + 1970
    if int(hi // _MS_PER_YEAR_APPROX) + 1970 != year:
        return _MIXED
    starts, ends = _intervals(session, year)
    i = int(np.searchsorted(starts, lo, side="right")) - 1
    if i >= 0 and lo < ends[i]:
        return _OPEN if hi < ends[i] else _MIXED
    following = i + 1
    return _CLOSED if following >= len(starts) or hi < starts[following] else _MIXED
