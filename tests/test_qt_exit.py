"""Guards the Qt pin: PySide6-Essentials 6.12.0 with pyqtgraph 0.14.0 aborted (exit code 134)
at interpreter exit in a plain offscreen plot script; 6.11.3 does not."""

from __future__ import annotations

import subprocess
import sys

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
