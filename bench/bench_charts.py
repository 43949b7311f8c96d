"""Cluster chart redraw speed: append_bar on a 20,000-bar M30 history, offscreen.

Each frame is one ``append_bar`` followed by ``QApplication.processEvents()``, which runs the
queued scene update and paints the shown widget (the offscreen platform still rasterises).
Two views: the default window (last 600 bars, following) and the whole history in view.
Run it on an idle machine:

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_charts.py
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PySide6.QtWidgets import QApplication

from gui.chart.cluster_chart import ClusterChart

M30_MS = 1_800_000
DAY_MS = 86_400_000
SYMBOLS = ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")
HISTORY = 20_000
FRAMES = 100


def fx_times(start_ms: int, count: int) -> np.ndarray:
    """M30 open times without the Friday 21:00 - Sunday 22:00 UTC weekend."""
    candidates = start_ms + np.arange(int(count * 1.5) + 500, dtype=np.int64) * M30_MS
    weekday = (candidates // DAY_MS + 3) % 7
    hour = (candidates % DAY_MS) // 3_600_000
    closed = ((weekday == 4) & (hour >= 21)) | (weekday == 5) | ((weekday == 6) & (hour < 22))
    return candidates[~closed][:count]


Rows = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]


def build(history: int) -> tuple[ClusterChart, Rows]:
    """A shown chart holding ``history`` bars, plus the bars still to append."""
    rng = np.random.default_rng(11)
    times = fx_times(1_704_672_000_000, history + FRAMES * 3)
    tdi = np.zeros(len(times))
    for i in range(1, len(times)):
        tdi[i] = 0.97 * tdi[i - 1] + rng.normal(0.0, 0.45)
    common = np.cumsum(rng.normal(0.0, 4e-4, len(times)))
    closes = {s: np.exp(common + np.cumsum(rng.normal(0.0, 3e-4, len(times))))
              for s in SYMBOLS}
    chart = ClusterChart()
    chart.resize(1000, 600)
    chart.set_cluster("EUR-bloc", SYMBOLS, 1.2, 0.3)
    chart.set_history(times[:history], tdi[:history], {s: c[:history] for s, c in closes.items()})
    trades = [{"basket_id": k, "direction": "LONG" if k % 2 else "SHORT",
               "entry_time_ms": int(times[i]), "exit_time_ms": int(times[i + 20]),
               "entry_tdi": None, "exit_tdi": None, "pnl": float(k % 3 - 1), "exit_code": "MR"}
              for k, i in enumerate(range(200, history - 40, 400))]
    chart.set_trades(trades)
    chart.show()
    QApplication.processEvents()
    return chart, (times, tdi, closes)


def run(chart: ClusterChart, rows: Rows, start: int, flush: Callable[[], None]) -> float:
    times, tdi, closes = rows
    began = time.perf_counter()
    for i in range(start, start + FRAMES):
        chart.append_bar(int(times[i]), float(tdi[i]), {s: float(c[i]) for s, c in closes.items()})
        flush()
    return time.perf_counter() - began


def report(label: str, seconds: float) -> None:
    print(f"{label}: {FRAMES} frames in {seconds:.3f} s = {seconds / FRAMES * 1000:.2f} ms "
          f"per frame, {FRAMES / seconds:,.0f} frames/s")


def main() -> None:
    app = QApplication.instance() or QApplication([])
    chart, rows = build(HISTORY)
    print(f"history {HISTORY:,} M30 bars, 4 legs, {len(chart.trade_marks().exit_x)} trades; "
          f"window {chart.visible_range()[1] - chart.visible_range()[0]:.0f} bars; 1000x600")
    run(chart, rows, HISTORY, app.processEvents)  # warm-up (first paints, caches)
    start = HISTORY + FRAMES
    report("last 600 bars in view ", run(chart, rows, start, app.processEvents))
    chart.show_last_bars(HISTORY)
    QApplication.processEvents()
    report("all 20,000 bars in view", run(chart, rows, start + FRAMES, app.processEvents))


if __name__ == "__main__":
    main()
