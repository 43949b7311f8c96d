"""The Research tab's heatmap: a metric of a study's trials by two parameters (pyqtgraph).

The figures are ``app.sweep.summary.heatmap``'s (the median per cell and the count of
trials under it), the colours the study report's (``app.report.svg.sweep.heat_colour``), so
the console and ``report.html`` show the same map.  Each cell is written with its median and
its count; an empty cell is grey.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.report.format import format_metric
from app.report.sections.sweep import HEAT_KINDS
from app.report.svg.sweep import heat_colour
from gui.chart import style

#: An empty cell (no trial with a defined value).
EMPTY_RGB = (232, 232, 232)


def value_text(value: Any) -> str:
    """A parameter value on an axis; ``(all)`` when the map has one row."""
    return "(all)" if value is None else str(value)


def cell_rgb(value: float | None, lo: float, hi: float, metric: str) -> tuple[int, int, int]:
    """The report's colour of a cell (an empty one grey)."""
    colour = heat_colour(value, lo, hi, HEAT_KINDS[metric])
    if not colour:
        return EMPTY_RGB
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def cell_label(metric: str, value: float | None, count: int) -> str:
    """A cell's text: the median as the report writes it, and the trials under it."""
    return f"{format_metric(metric, value)[0]}\nn={count}"


class HeatmapView(QWidget):
    """``show_map(heatmap)`` draws one ``app.sweep.summary.heatmap`` result; ``clear``
    empties it.  Row 0 (the first ``y`` value) is at the top, as in the report."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setBackground(style.BACKGROUND)
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.getViewBox().invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.labels: list[pg.TextItem] = []
        self.cells: list[list[str]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)

    def clear(self) -> None:
        plot = self.plot_widget.getPlotItem()
        for item in self.labels:
            plot.removeItem(item)
        self.labels, self.cells = [], []
        self.image.clear()
        plot.getAxis("bottom").setTicks([[]])
        plot.getAxis("left").setTicks([[]])
        plot.setLabel("bottom", "")
        plot.setLabel("left", "")

    def show_map(self, heatmap: Mapping[str, Any]) -> None:
        self.clear()
        medians: Sequence[Sequence[float | None]] = heatmap["median"]
        counts: Sequence[Sequence[int]] = heatmap["count"]
        metric = heatmap["metric"]
        defined = [v for row in medians for v in row if v is not None and math.isfinite(v)]
        lo, hi = (min(defined), max(defined)) if defined else (0.0, 0.0)
        rgb = np.array([[cell_rgb(v, lo, hi, metric) for v in row] for row in medians],
                       dtype=np.ubyte)
        self.image.setImage(rgb, levels=(0, 255))
        self.image.setRect(0, 0, len(heatmap["x_values"]), len(heatmap["y_values"]))
        plot = self.plot_widget.getPlotItem()
        for i, row in enumerate(medians):
            texts = []
            for j, value in enumerate(row):
                text = cell_label(metric, value, counts[i][j])
                texts.append(text)
                label = pg.TextItem(text, color=style.TEXT, anchor=(0.5, 0.5))
                label.setPos(j + 0.5, i + 0.5)
                plot.addItem(label)
                self.labels.append(label)
            self.cells.append(texts)
        plot.getAxis("bottom").setTicks(
            [[(j + 0.5, value_text(x)) for j, x in enumerate(heatmap["x_values"])]])
        plot.getAxis("left").setTicks(
            [[(i + 0.5, value_text(y)) for i, y in enumerate(heatmap["y_values"])]])
        # pyqtgraph renders axis labels as HTML: the study's parameter names are escaped
        plot.setLabel("bottom", escape(heatmap["x"]))
        plot.setLabel("left", escape(heatmap["y"] or ""))
        plot.setXRange(0, len(heatmap["x_values"]), padding=0)
        plot.setYRange(0, len(heatmap["y_values"]), padding=0)
