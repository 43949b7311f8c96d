"""Where a cluster's trades go on the index-plotted TDI pane: markers and trade lines.

Kept free of Qt so the placement rules are plain functions of (trades, bars):

- a trade time sits on the last bar that had *closed* by then (bar times are open times, a
  bar covers ``[time, time + period)``), i.e. on the bar whose TDI the decision was made on;
- an entry before the first bar's close is not drawn (the history window starts after it);
  its exit is still marked, without a line;
- an unknown ``entry_tdi``/``exit_tdi`` (None or NaN) is read from the plotted TDI at that
  bar; when that is NaN too the marker is left out;
- markers left out are counted in ``TradeMarks.hidden``;
- an open trade (``exit_time_ms`` None) gets a dashed grey line from its entry to the
  newest bar's TDI and no exit marker.

The trades are turned into arrays once (``TradeTable``) and placed with ``searchsorted``, so
re-placing them after every new bar costs microseconds even for thousands of trades.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: pyqtgraph symbol names: 't1' points up, 't' points down.
LONG_SYMBOL = "t1"
SHORT_SYMBOL = "t"
#: Line groups, each drawn as one curve of segment pairs; exits use the first three.
LINE_GROUPS = ("profit", "loss", "flat", "open")
_REQUIRED = ("basket_id", "direction", "entry_time_ms")
_OPEN = np.iinfo(np.int64).min


def _number(value: object) -> float:
    """A float, NaN for None (unknown)."""
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def check_trade(position: int, trade: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the trade and key when a trade cannot be placed."""
    for key in _REQUIRED:
        if key not in trade or trade[key] is None:
            raise ValueError(f"trade #{position}: missing {key}")
    if trade["direction"] not in ("LONG", "SHORT"):
        raise ValueError(f"trade {trade['basket_id']}: direction {trade['direction']!r} "
                         "is not LONG or SHORT")


@dataclass(frozen=True)
class TradeTable:
    """The trades as columns (row i = trades[i]); open trades have ``exit_ms == _OPEN``."""

    trades: tuple[Mapping[str, Any], ...]
    is_long: np.ndarray
    entry_ms: np.ndarray
    exit_ms: np.ndarray
    entry_tdi: np.ndarray
    exit_tdi: np.ndarray
    pnl: np.ndarray
    #: "profit", "loss" or "flat" by the sign of the P&L (flat: zero or unknown).
    groups: np.ndarray

    @classmethod
    def build(cls, trades: Sequence[Mapping[str, Any]]) -> TradeTable:
        for position, trade in enumerate(trades):
            check_trade(position, trade)
        rows = tuple(dict(trade) for trade in trades)
        return cls(
            trades=rows,
            is_long=np.array([t["direction"] == "LONG" for t in rows], dtype=bool),
            entry_ms=np.array([int(t["entry_time_ms"]) for t in rows], dtype=np.int64),
            exit_ms=np.array([_OPEN if t.get("exit_time_ms") is None else int(t["exit_time_ms"])
                              for t in rows], dtype=np.int64),
            entry_tdi=np.array([_number(t.get("entry_tdi")) for t in rows], dtype=np.float64),
            exit_tdi=np.array([_number(t.get("exit_tdi")) for t in rows], dtype=np.float64),
            pnl=np.array([_number(t.get("pnl")) for t in rows], dtype=np.float64),
            groups=np.array([pnl_group(_number(t.get("pnl"))) for t in rows], dtype=object),
        )

    def __len__(self) -> int:
        return len(self.trades)

    def describe_entry(self, row: int, level: float) -> str:
        trade = self.trades[row]
        return f"Basket {trade['basket_id']} {trade['direction']}\nentry TDI {level:+.2f}"

    def describe_exit(self, row: int, level: float) -> str:
        trade = self.trades[row]
        pnl = self.pnl[row]
        pnl_text = "n/a" if math.isnan(pnl) else f"{pnl:+,.2f}"
        code = trade.get("exit_code") or "?"
        return (f"Basket {trade['basket_id']} {trade['direction']}\n"
                f"exit {code} TDI {level:+.2f}\nP&L {pnl_text}")


@dataclass(frozen=True)
class TradeMarks:
    """Everything the TDI pane draws for the trades (x = bar index, y = TDI).

    ``entry_rows``/``exit_rows`` say which trade each marker belongs to (for tool tips).
    ``lines`` maps a group to (x, y), consecutive pairs forming one segment each.
    """

    entry_x: np.ndarray
    entry_y: np.ndarray
    entry_long: np.ndarray
    entry_rows: np.ndarray
    exit_x: np.ndarray
    exit_y: np.ndarray
    exit_groups: tuple[str, ...]
    exit_rows: np.ndarray
    lines: dict[str, tuple[np.ndarray, np.ndarray]]
    hidden: int

    @property
    def entry_symbols(self) -> list[str]:
        return [LONG_SYMBOL if is_long else SHORT_SYMBOL for is_long in self.entry_long]

    def same_markers(self, other: TradeMarks | None) -> bool:
        """True when ``other`` draws identical markers (the scatter can be left alone)."""
        if other is None:
            return False
        pairs = ((self.entry_x, other.entry_x), (self.entry_y, other.entry_y),
                 (self.entry_rows, other.entry_rows), (self.exit_x, other.exit_x),
                 (self.exit_y, other.exit_y), (self.exit_rows, other.exit_rows))
        return all(np.array_equal(a, b) for a, b in pairs)


def bar_at(times_ms: np.ndarray, time_ms: int | np.ndarray, period_ms: int,
           ) -> int | np.ndarray:
    """Index of the last bar closed at or before ``time_ms``; -1 when none had closed."""
    if len(times_ms) == 0:
        return np.full(np.shape(time_ms), -1, dtype=np.int64) if np.ndim(time_ms) else -1
    found = np.searchsorted(times_ms + period_ms, time_ms, side="right") - 1
    return found if np.ndim(found) else int(found)


def pnl_group(pnl: float) -> str:
    if math.isnan(pnl) or pnl == 0:
        return "flat"
    return "profit" if pnl > 0 else "loss"


def _levels(given: np.ndarray, index: np.ndarray, tdi: np.ndarray) -> np.ndarray:
    """The given TDI, else the plotted TDI at ``index``; NaN when neither is known."""
    plotted = np.full(len(index), np.nan)
    inside = (index >= 0) & (index < len(tdi))
    plotted[inside] = tdi[index[inside]]
    return np.where(np.isfinite(given), given, plotted)


def place_trades(table: TradeTable, times_ms: np.ndarray, tdi: np.ndarray,
                 period_ms: int) -> TradeMarks:
    """Markers and lines for the trades in ``table`` over bars ``times_ms`` with ``tdi``."""
    empty = np.empty(0)
    last = len(times_ms) - 1
    start = np.asarray(bar_at(times_ms, table.entry_ms, period_ms), dtype=np.int64)
    start_y = _levels(table.entry_tdi, start, tdi)
    start_y[start < 0] = np.nan
    shown_entry = np.isfinite(start_y)

    closed = table.exit_ms != _OPEN
    end = np.full(len(table), -1, dtype=np.int64)
    end[closed] = bar_at(times_ms, table.exit_ms[closed], period_ms)
    end_y = _levels(table.exit_tdi, end, tdi)
    end_y[(end < 0) | ~closed] = np.nan
    shown_exit = closed & np.isfinite(end_y)

    groups = table.groups
    lines: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for group in LINE_GROUPS[:3]:
        rows = np.flatnonzero(shown_entry & shown_exit & (groups == group))
        lines[group] = _segments(start[rows], start_y[rows], end[rows], end_y[rows])
    last_y = float(tdi[last]) if last >= 0 else math.nan
    if math.isfinite(last_y):
        rows = np.flatnonzero(shown_entry & ~closed & (start < last))
        lines["open"] = _segments(start[rows], start_y[rows], np.full(len(rows), last),
                                  np.full(len(rows), last_y))
    else:
        lines["open"] = (empty, empty)

    entry_rows = np.flatnonzero(shown_entry)
    exit_rows = np.flatnonzero(shown_exit)
    hidden = int(np.count_nonzero(~shown_entry) + np.count_nonzero(closed & ~shown_exit))
    return TradeMarks(
        entry_x=start[entry_rows].astype(np.float64),
        entry_y=start_y[entry_rows],
        entry_long=table.is_long[entry_rows],
        entry_rows=entry_rows,
        exit_x=end[exit_rows].astype(np.float64),
        exit_y=end_y[exit_rows],
        exit_groups=tuple(groups[exit_rows]),
        exit_rows=exit_rows,
        lines=lines,
        hidden=hidden,
    )


def _segments(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray,
              ) -> tuple[np.ndarray, np.ndarray]:
    """Interleave start and end points: (x0[0], x1[0], x0[1], x1[1], ...)."""
    xs = np.empty(2 * len(x0))
    ys = np.empty(2 * len(x0))
    xs[0::2], xs[1::2] = x0, x1
    ys[0::2], ys[1::2] = y0, y1
    return xs, ys


def basket_trades(records: Sequence[Any]) -> list[dict[str, Any]]:
    """The chart's trades from journal baskets (``engine.records.BasketRecord``), open ones
    with no exit (``exit_time_ms`` None), oldest first."""
    trades = []
    for record in records:
        o, c = record.opening, record.closing
        trades.append({
            "basket_id": o.basket_id, "direction": o.direction.value,
            "entry_time_ms": int(o.opened_at.timestamp() * 1000),
            "exit_time_ms": int(c.closed_at.timestamp() * 1000) if c else None,
            "entry_tdi": o.entry_tdi, "exit_tdi": c.exit_tdi if c else None,
            "pnl": c.pnl if c else None, "exit_code": c.exit_code.value if c else ""})
    return sorted(trades, key=lambda t: t["entry_time_ms"])
