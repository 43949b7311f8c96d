"""The Deals tab's actions in the console: the Add deal dialog and the deal events.

Kept out of the main window so that wiring the tab is a line there: the window lends its
engine (read: the market's symbols and timeframes, the clusters' magics, the clock), its
``submit`` and its ``confirm``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog

from engine import commands as cmd
from gui.dialogs.deal_entry import DealDialog
from gui.toolbox.deals import DealsTab, deal_params_of


def free_magic(clusters: Any) -> int:
    """A magic number no configured cluster uses: one above the highest."""
    return max((int(c.magic) for c in clusters), default=740000) + 1


def deal_dialog(window: Any) -> DealDialog:
    """The Add deal dialog for ``window``'s running engine."""
    engine = window.engine
    return DealDialog(engine.market.symbols, engine.market.timeframes,
                      free_magic(engine.config.clusters), engine.now().date(), window)


def install_deals(window: Any, tab: DealsTab) -> None:
    """Feed ``tab`` from ``window``'s engine and send its requests as commands."""
    engine = window.engine
    tab.set_sources(lambda: deal_params_of(engine.config.clusters), engine.cluster_history)

    def add() -> None:
        dialog = deal_dialog(window)
        window.deal_dialog = dialog  # reachable while open (tests fill it in)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            window.submit(dialog.command())

    def event(cluster: str, what: str) -> None:
        code = "DC" if what == "completed" else "DB"
        if window.confirm(f"Deal {what}", f"Report that the deal {cluster} {what}? Its "
                          f"basket, if any, closes now with {code}, and the deal opens "
                          "nothing more."):
            window.submit(cmd.DealEvent(cluster=cluster, event=what, source="gui"))

    tab.addDealRequested.connect(add)
    tab.dealEventRequested.connect(event)
    # buying a deal by hand is the Clusters panel's Open long: the preview, then OpenBasket
    tab.buyRequested.connect(lambda cluster: window.risk.open_basket(cluster, "LONG"))
