"""The backtest and walk-forward report: a self-contained HTML page and its data files.

- :mod:`.page`: the page put together, and written to disk (:func:`write_report`);
- :mod:`.inputs`: reading and checking the metrics, trades, daily equity, TDI and settings;
- :mod:`.format`: how numbers, amounts, times and metric values are written;
- :mod:`.markup`: HTML building blocks the sections share;
- :mod:`.sections`: one module per part of the page;
- :mod:`.svg`: the inline charts;
- :mod:`.walkforward`: the walk-forward's own page, drawn from ``walkforward.json``;
- ``report.css`` and ``report.js``: the page's style and its table-sorting script (package data).
"""

from app.report.errors import ReportInputError, ReportWriteError
from app.report.format import format_metric, label_of
from app.report.inputs import METRIC_SECTIONS, TRADE_COLUMNS, checked_trades_frame
from app.report.page import render_report, write_report
from app.report.sections.exits import EXIT_RULES
from app.report.sections.monthly import monthly_returns
from app.report.sections.tdi import DEFAULT_TDI_STOP

__all__ = [
    "DEFAULT_TDI_STOP",
    "EXIT_RULES",
    "METRIC_SECTIONS",
    "TRADE_COLUMNS",
    "ReportInputError",
    "ReportWriteError",
    "checked_trades_frame",
    "format_metric",
    "label_of",
    "monthly_returns",
    "render_report",
    "write_report",
]
