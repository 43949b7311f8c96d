"""The Toolbox: MT5's bottom panel with the Trade, History, Journal, Calendar, Regimes,
Basis, Deals, Convertible and Research tabs.

Each tab is a pure view with its own module (``gui.toolbox.trade`` and siblings); this
module only assembles them so the main window docks one widget and reaches each tab by
attribute (``toolbox.trade.update_positions(...)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from PySide6.QtWidgets import QTabWidget, QWidget

from gui.toolbox.basis import BasisTab
from gui.toolbox.calendar import CalendarTab
from gui.toolbox.convertible import ConvertibleTab
from gui.toolbox.deals import DealsTab
from gui.toolbox.history import HistoryTab
from gui.toolbox.journal import MAX_LOG_LINES, JournalTab
from gui.toolbox.regimes import RegimesTab
from gui.toolbox.research import ResearchTab
from gui.toolbox.trade import TradeTab

__all__ = ["BasisTab", "CalendarTab", "ConvertibleTab", "DealsTab", "HistoryTab", "JournalTab",
           "RegimesTab", "ResearchTab", "Toolbox", "TradeTab"]


class Toolbox(QTabWidget):
    """The tabs, at the bottom as in MT5 (Regimes: the correlation clusters' regimes).

    ``digits`` (symbol -> decimal places) formats the Trade tab's prices like the Market
    Watch; ``db_path`` is the SQLite calendar the Calendar tab imports into (None: the
    product's default calendar).
    """

    def __init__(self, parent: QWidget | None = None, *,
                 digits: Mapping[str, int] | None = None,
                 db_path: Path | None = None,
                 max_log_lines: int = MAX_LOG_LINES) -> None:
        super().__init__(parent)
        self.setTabPosition(QTabWidget.TabPosition.South)
        self.setDocumentMode(True)
        self.trade = TradeTab(digits)
        self.history = HistoryTab()
        self.journal = JournalTab(max_log_lines)
        self.calendar = CalendarTab(db_path)
        self.addTab(self.trade, "Trade")
        self.addTab(self.history, "History")
        self.addTab(self.journal, "Journal")
        self.addTab(self.calendar, "Calendar")
        self.regimes = RegimesTab()
        self.addTab(self.regimes, "Regimes")
        self.basis = BasisTab()  # basis clusters: cash vs dated future (gui.toolbox.basis)
        self.addTab(self.basis, "Basis")
        self.deals = DealsTab()  # merger-arbitrage deals (gui.toolbox.deals)
        self.addTab(self.deals, "Deals")
        # convertible arbitrage: EXTERNAL bonds and their hedge (gui.toolbox.convertible)
        self.convertible = ConvertibleTab()
        self.addTab(self.convertible, "Convertible")
        self.research = ResearchTab()  # a sweep's study, read-only (gui.toolbox.research)
        self.addTab(self.research, "Research")
