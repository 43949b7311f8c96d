"""Guards the Qt pin: PySide6-Essentials 6.12.0 with pyqtgraph 0.14.0 aborted (exit code 134)
at interpreter exit in a plain offscreen plot script; 6.11.3 does not."""

from __future__ import annotations

import subprocess
import sys

from helpers.paths import REPO_ROOT

SCRIPT = """
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication
app = QApplication([])
w = pg.PlotWidget()
w.plot([1, 2, 3], [3, 1, 2])
w.resize(400, 300)
w.show()
app.processEvents()
w.grab()
print("painted")
"""


def test_offscreen_plot_script_exits_cleanly():
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "painted" in proc.stdout


CHARTS = """
import numpy as np
from PySide6.QtWidgets import QApplication
from gui.chart.cluster_chart import ClusterChart, EquityChart
app = QApplication([])
chart = ClusterChart()
chart.set_cluster("C", ["EURUSD", "GBPUSD", "USDCHF"], 1.2, 0.25)
t = (np.arange(500, dtype=np.int64) * 1_800_000) + 1_546_300_800_000
chart.set_history(t, np.sin(np.arange(500) / 10), {s: np.linspace(1, 1.1, 500)
                                                    for s in ["EURUSD", "GBPUSD", "USDCHF"]})
equity = EquityChart()
equity.set_series(t[:50], np.full(50, 1e5), np.linspace(1e5, 1.01e5, 50))
for w in (chart, equity):
    w.resize(800, 500)
    w.show()
app.processEvents()
chart.grab()
equity.grab()
for w in (chart, equity):  # what the console does on close, before the interpreter exits
    w.close()
    w.deleteLater()
app.processEvents()
print("painted")
"""


def test_the_console_charts_exit_cleanly():
    # A pyqtgraph GraphicsLayoutWidget still alive at interpreter exit crashes (SIGSEGV)
    # on PySide6 6.11 and 6.12 alike; the console closes its widgets first. This runs our
    # own charts that way and would catch a binding or library upgrade that breaks it.
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", CHARTS], capture_output=True, text=True,
                          env=env, timeout=120, cwd=REPO_ROOT)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "painted" in proc.stdout
