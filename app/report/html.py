"""The report's former single module, kept so that ``from app.report.html import ...`` works.

The report now lives in the modules of :mod:`app.report`; import from the package.
"""

from app.report import (
    DEFAULT_TDI_STOP,
    EXIT_RULES,
    METRIC_SECTIONS,
    TRADE_COLUMNS,
    ReportInputError,
    ReportWriteError,
    checked_trades_frame,
    format_metric,
    label_of,
    monthly_returns,
    render_report,
    write_report,
)

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
