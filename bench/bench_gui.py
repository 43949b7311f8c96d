"""Console responsiveness: first paint, event-loop lag under a max-speed replay, chart fps.

Run by hand:  QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_gui.py [--seconds 20]
- time to first painted window: from before the QApplication exists to the main window's
  first paint event (the engine warms up on its own thread meanwhile);
- event-loop lag: a 10 ms timer on the GUI thread records how late each tick fires while
  the engine runs the demo market with all 8 clusters at max speed on its worker thread;
- chart refresh: bars appended to the cluster chart and repainted per second.

Beside the lag it prints the CPU time of both threads during the replay (Linux): the GUI
thread's, and the engine's per step.  Both threads share one interpreter lock, so on a
loaded machine the market days and the lag move a lot from run to run while the CPU
figures move much less: compare those between commits.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import threading
import time
from collections.abc import Callable

T0 = time.perf_counter()

from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class FirstPaint(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.at is None:
            self.at = time.perf_counter()
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    import os

    os.environ.setdefault("FXCLUSTER_HOME", tempfile.mkdtemp())
    from gui.app import share_the_interpreter

    share_the_interpreter()
    app = QApplication([])
    from app.sessions import demo_session
    from engine.config import load_engine_config
    from gui.main_window import MainWindow
    from mt5bridge.sim.pacing import Pacer

    session = demo_session(load_engine_config(), seed=0)
    window = MainWindow(session, Pacer(session.engine.now_msc, math.inf), speed=math.inf)
    first = FirstPaint()
    window.installEventFilter(first)
    window.resize(1600, 900)
    window.show()
    window.start()
    while first.at is None:
        app.processEvents()
    print(f"first painted window: {first.at - T0:.2f} s after start (imports included)")

    lags: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        lags.append(max(0.0, (now - last[0]) - 0.010) * 1000)
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    steps = count_steps(session.engine)
    engine_cpu = thread_cpu_clock(window.worker)
    t_virtual0 = session.engine.now_msc
    steps0, engine0, gui0 = steps[0], engine_cpu(), time.thread_time()
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    gui_cpu, n_steps = time.thread_time() - gui0, steps[0] - steps0
    engine_s = engine_cpu() - engine0
    days = (session.engine.now_msc - t_virtual0) / 86_400_000
    lags.sort()
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))]
    print(f"event-loop lag during a max-speed replay with {len(session.engine.signals)} "
          f"clusters ({days:.1f} market days in {args.seconds:.0f} s): median "
          f"{statistics.median(lags):.1f} ms, p99 {p99:.1f} ms ({len(lags)} ticks)")
    per_step = f"{engine_s / n_steps * 1e6:.0f} us" if n_steps and math.isfinite(engine_s) \
        else "n/a"
    print(f"CPU during the replay: GUI thread {gui_cpu:.1f} s; engine thread {per_step} "
          f"per step ({n_steps} steps)")

    import numpy as np

    from gui.chart.cluster_chart import ClusterChart

    sig = next(iter(session.engine.signals.values()))
    symbols = list(sig.symbols)
    times, tdi, closes = sig.history_arrays()
    chart = ClusterChart()
    chart.resize(1000, 600)
    chart.show()
    chart.set_cluster(sig.spec.name, symbols, sig.entry, sig.exit_band)
    chart.set_history(times, tdi, closes)
    n = 300
    t0 = time.perf_counter()
    base = int(times[-1])
    for i in range(n):
        chart.append_bar(base + (i + 1) * 1_800_000, float(np.sin(i / 10)),
                         {s: 1.0 + 0.001 * i for s in symbols})
        chart.repaint()
        app.processEvents()
    fps = n / (time.perf_counter() - t0)
    print(f"chart refresh: {fps:.0f} frames per second (append a bar and repaint)")
    window.close()
    window.shutdown()


def count_steps(engine: object) -> list[int]:
    """A counter of the engine's steps (this instance's ``step`` wrapped)."""
    counter = [0]
    step = engine.step  # type: ignore[attr-defined]

    def counted(t_msc: int) -> None:
        counter[0] += 1
        step(t_msc)

    engine.step = counted  # type: ignore[attr-defined]
    return counter


def thread_cpu_clock(thread: threading.Thread) -> Callable[[], float]:
    """Seconds of CPU the (started) thread has used so far; NaN where the OS cannot say."""
    getter = getattr(time, "pthread_getcpuclockid", None)
    if getter is None or thread.ident is None:
        return lambda: math.nan
    clock = getter(thread.ident)
    return lambda: time.clock_gettime(clock)


if __name__ == "__main__":
    main()
