"""The console's main window: dockable panels around the cluster chart.

The engine runs on its own thread (``engine.loop.EngineWorker``); this window only reads
the engine's immutable snapshots and events (through ``EngineBridge``, on the GUI thread)
and its read methods (cluster descriptions, chart histories, blackout windows), and sends
commands through ``Engine.submit``.  History views read the journal through a connection
of their own (SQLite WAL lets readers and the engine's writer work together), opened by
``app.console``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, QSettings, Qt, QTimer, QTimeZone, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QToolBar,
    QWidget,
)

from app.console import calendar_path, open_journal_reader, server_time, settings_path
from app.symbol_bars import attach as attach_symbol_bars
from app.symbol_marks import RunMarks
from engine import commands as cmd
from engine.events import (
    BasketClosed,
    BasketOpened,
    CommandDone,
    LogLine,
    RiskStateChanged,
    TdiUpdated,
)
from engine.loop import EngineWorker
from engine.records import HistoryFilter
from engine.snapshot import EngineSnapshot
from gui.bridge import EngineBridge
from gui.chart.chart_area import ChartArea
from gui.chart.cluster_chart import ClusterChart, EquityChart, signal_tdi_at
from gui.chart.trades import basket_trades
from gui.clusters_panel import ClustersPanel
from gui.collector import GuiThreadCollector
from gui.dialogs.confirmations import ask
from gui.market_watch import MarketWatch
from gui.menus import install_menus
from gui.order_dialog import install_order_tools
from gui.plain_text import plain_label
from gui.replay_controls import follow_clock, install_replay_end
from gui.risk_controls import RiskControls
from gui.status_bar import ConsoleStatusBar
from gui.toolbox import Toolbox
from gui.toolbox.deals_actions import install_deals
from gui.toolbox.regimes import correlation_params_of
from gui.waiting import WaitingLabel

#: The Toolbox's default height (pixels): about twelve table rows at 1600x900.
TOOLBOX_HEIGHT = 300
#: How long the status bar says a command the engine refused (ms): the Journal tab keeps it.
REFUSAL_MS = 15_000

SPEEDS = (("1x", 1.0), ("10x", 10.0), ("60x", 60.0), ("600x", 600.0), ("3600x", 3600.0),
          ("max", math.inf))


def settings() -> QSettings:
    """Layout and preferences, in the product's data directory (one file, easy to reset)."""
    return QSettings(str(settings_path()), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """One session (demo, replay or live) in one window."""

    replayRequested = Signal(object)  # list[Path]: open these files as a new replay

    def __init__(self, session: Any, pacer: Any, *, speed: float,
                 end_msc: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.engine = session.engine
        self._collector = GuiThreadCollector(self)  # Qt objects die on this thread only
        self.pacer = pacer
        self.end_msc = end_msc
        self.start_msc = self.engine.now_msc
        self.engine.keep_m1_history = True  # the chart's M1 view
        self.setWindowTitle(f"FX Cluster Console - {session.mode.value}")
        self.setObjectName("FxClusterConsole")
        self.reader = open_journal_reader(session)
        self._selected: str | None = None
        self._last_equity_ms = 0
        self._history_refresh_due = False
        self._trades_refresh_due = False
        self._chart_timer = QTimer(self)
        self._chart_timer.setSingleShot(True)
        self._chart_timer.setInterval(self.CHART_INTERVAL_MS)
        self._chart_timer.timeout.connect(self._refresh_chart)

        self.chart = ClusterChart()
        # symbol charts: bid bars seeded and tapped before the engine's thread starts
        self.symbol_bars = attach_symbol_bars(session)
        marks = RunMarks(self.reader, self.engine.run_id, datetime.fromtimestamp(
            self.start_msc / 1000, UTC)) if self.reader is not None else None
        self.charts = ChartArea(self.chart, self.symbol_bars, marks)
        self.setCentralWidget(self.charts)
        self.clusters = ClustersPanel()
        self.market_watch = MarketWatch()
        self.toolbox = Toolbox(db_path=calendar_path())
        self.equity = EquityChart()
        self._dock("Clusters", self.clusters, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Market Watch", self.market_watch, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Toolbox", self.toolbox, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("Equity", self.equity, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._build_toolbar(speed)
        self._build_status_bar()

        self.market_watch.set_day_source(self.symbol_bars.day_stats)
        self.market_watch.chartRequested.connect(self.charts.open_symbol)
        self.clusters.command.connect(self.submit)
        self.clusters.openRequested.connect(self.risk.open_basket)
        self.clusters.tdi_stop_of = lambda name: getattr(self.engine.cluster_info(name),
                                                         "tdi_stop", None)
        self.clusters.selected.connect(self.select_cluster)
        self.toolbox.trade.closeLegRequested.connect(
            lambda ticket: self.submit(cmd.ClosePosition(ticket=int(ticket), source="gui")))
        self.toolbox.trade.closeBasketRequested.connect(
            lambda cluster: self.submit(cmd.CloseBasket(cluster=cluster, source="gui")))
        self.toolbox.trade.flattenAllRequested.connect(
            lambda: self.submit(cmd.FlattenAll(source="gui")))
        if self.reader is not None:
            self.toolbox.history.set_journal_reader(self.reader)
        self.chart.timeframeChanged.connect(lambda _tf: self._refresh_chart())
        self.toolbox.calendar.calendarImported.connect(self.use_calendar)
        self.toolbox.regimes.set_params(correlation_params_of(self.engine.config.clusters))
        self.toolbox.basis.history_of = self.engine.cluster_history
        self.toolbox.basis.trade_mode_of = self.engine.trade_mode
        self.toolbox.basis.rollRequested.connect(
            lambda cluster: self.submit(cmd.RollContract(cluster=cluster, source="gui")))
        install_deals(self, self.toolbox.deals)  # the Deals tab: its dialog and events
        self.toolbox.convertible.command.connect(self.submit)  # EXTERNAL bonds' commands
        self.toolbox.convertible.set_symbols(self.engine.market.symbols)
        self._init_calendar()

        self.bridge = EngineBridge(self.engine, parent=self)
        self.bridge.events.connect(self.on_events)
        self.bridge.snapshot.connect(self.on_snapshot)
        self.worker = EngineWorker(self.engine, pacer, until_msc=end_msc, start_engine=True,
                                   on_error=self._worker_failed)
        self.orders = install_order_tools(self)  # New Order (F9), one-click strip
        self.menus = install_menus(self)  # File, View, Tools, Help; shortcuts; reset layout
        for note in getattr(session, "notes", ()):
            self.toolbox.journal.append_log(self.engine.now(), "WARNING", note)
        if not self.engine.config.clusters and getattr(session, "notes", None):
            self.chart.show_notice("No cluster can run on this data:<br>" +
                                   "<br>".join(escape(n) for n in session.notes))
        self._restore_layout()
        if session.mode.value == "replay":
            self.replay_end, self.replay_watcher = install_replay_end(
                self, self.progress, self.start_msc, end_msc, lambda: self.engine.now_msc,
                self._replay_data_ended)
            self.replay_end.replayAgain.connect(
                lambda: self.replayRequested.emit(list(getattr(session, "sources", ()))))
            self.replay_end.openAnother.connect(self._open_replay)

    def _replay_data_ended(self) -> bool:
        """The pacer holds the clock at the last tick, or the worker stopped at the end."""
        stopped = self.worker.ident is not None and not self.worker.is_alive()
        return bool(getattr(self.pacer, "finished", False)) or stopped

    # ------------------------------------------------------------------ layout

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", ""))
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _restore_layout(self) -> None:
        s = settings()
        geometry = s.value("geometry")
        state = s.value("state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 900)
        if state is not None:
            self.restoreState(state)
            self.risk.keep_banner_visible()
        else:
            self.default_layout()

    def default_layout(self) -> None:
        """The first start's arrangement of the docks (also View > Reset layout's)."""
        docks = {d.objectName(): d for d in self.findChildren(QDockWidget)}
        self.splitDockWidget(docks["Toolbox"], docks["Equity"], Qt.Orientation.Horizontal)
        watch = self.market_watch.rows_height(len(self.symbol_bars.symbols)) + 24
        self.resizeDocks([docks["Clusters"], docks["MarketWatch"]], [330, watch],
                         Qt.Orientation.Vertical)
        self.resizeDocks([docks["Clusters"]], [700], Qt.Orientation.Horizontal)
        self.resizeDocks([docks["Toolbox"], docks["Equity"]], [1330, 270],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([docks["Toolbox"]], [250], Qt.Orientation.Vertical)
        # once laid out, the Toolbox gets room for a dozen rows (before the first show
        # the central chart's minimum height wins and it kept four)
        QTimer.singleShot(0, lambda: self.resizeDocks(
            [docks["Toolbox"], docks["Equity"]], [TOOLBOX_HEIGHT, TOOLBOX_HEIGHT],
            Qt.Orientation.Vertical))

    def _save_layout(self) -> None:
        s = settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("state", self.saveState())
        s.sync()

    def _build_toolbar(self, speed: float) -> None:
        bar = QToolBar("Console")
        bar.setObjectName("ConsoleToolbar")
        self.addToolBar(bar)
        self.mode_label = plain_label()  # mode and pacer names, shown literally
        bar.addWidget(self.mode_label)
        bar.addSeparator()
        # risk state and its controls: banner, alerts, Algo Trading, Flatten all, Re-arm
        self.risk = RiskControls(self, settings(), self.submit,
                                 lambda title, text: self.confirm(title, text))
        self.risk.install(bar)
        self.algo = self.risk.algo
        # every close asked from a panel holds a demo or replay clock while it is asked
        self.clusters.hold_clock = self.risk.hold_clock
        self.toolbox.trade.hold_clock = self.risk.hold_clock
        bar.addSeparator()
        self.open_action = QAction("Open replay...", self)
        self.open_action.triggered.connect(self._open_replay)
        bar.addAction(self.open_action)
        # The clock's controls: a simulated clock (demo, replay) can pause, step, run fast
        # or jump; a live session's clock is the market's, and these are not shown.
        self.play = QAction("Pause", self)
        self.play.triggered.connect(self.toggle_play)
        bar.addAction(self.play)
        self.step_action = QAction("Step bar", self)
        self.step_action.triggered.connect(self.step_bar)
        bar.addAction(self.step_action)
        self.speed = QComboBox()
        # the presets, and the speed the session was opened with where it is none of them
        # (--speed 86400): the box shows the speed in use
        speeds = dict(SPEEDS)
        if speed not in speeds.values():
            speeds[f"{speed:g}x"] = speed
        for label, value in sorted(speeds.items(), key=lambda item: item[1]):
            self.speed.addItem(label, value)
        self.speed.setCurrentIndex(self.speed.findData(speed))
        self.speed.currentIndexChanged.connect(
            lambda _i: self.set_speed(float(self.speed.currentData())))
        speed_label = bar.addWidget(QLabel(" Speed "))
        speed_box = bar.addWidget(self.speed)
        self.jump_to = QDateTimeEdit()
        self.jump_to.setTimeZone(QTimeZone.utc())
        self.jump_to.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.jump_to.setDateTime(QDateTime.fromMSecsSinceEpoch(self.engine.now_msc,
                                                               QTimeZone.utc()))
        jump_label = bar.addWidget(QLabel(" Jump to "))
        jump_box = bar.addWidget(self.jump_to)
        go = QAction("Go", self)
        go.triggered.connect(lambda: self.jump(self.jump_to.dateTime().toMSecsSinceEpoch()))
        bar.addAction(go)
        self.clock_actions = (self.play, self.step_action, speed_label, speed_box, jump_label,
                              jump_box, go)
        for action in self.clock_actions:
            action.setVisible(not self.live)
            action.setEnabled(not self.live)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(180)
        self.progress.setMaximumWidth(220)
        self.progress.setFormat("%p%")
        self.progress.setVisible(self.session.mode.value == "replay")
        bar.addWidget(self.progress)

    def _build_status_bar(self) -> None:
        self.status_bar = ConsoleStatusBar(self)  # gui/status_bar.py
        self.setStatusBar(self.status_bar)
        self.status_labels = self.status_bar.labels
        self.waiting = WaitingLabel()  # what the engine waits for
        self.status_bar.addWidget(self.waiting, 1)

    # ------------------------------------------------------------------ run

    def start(self) -> None:
        self.worker.start()

    def _worker_failed(self, exc: BaseException) -> None:  # engine thread
        QTimer.singleShot(0, lambda: self.statusBar().showMessage(
            f"engine stopped: {type(exc).__name__}: {exc}"))

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_layout()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if getattr(self, "_shut", False):
            return
        self._shut = True
        self._chart_timer.stop()  # a pending refresh would read the closed journal
        self.charts.stop()  # the symbol charts' deals too
        self.bridge.close()
        self.worker.stop()
        if self.worker.ident is not None:  # started
            self.worker.join(timeout=10)
        if self.engine.started:  # "terminated by SIGTERM" when a signal closed it
            self.engine.stop(getattr(self, "stop_reason", "console closed"))
        if self.reader is not None:
            self.reader.close()
        self.session.close()
        self._collector.stop()  # after the engine thread has gone

    # ------------------------------------------------------------------ commands

    def submit(self, command: cmd.Command) -> None:
        self.engine.submit(command)
        self.toolbox.journal.append_log(self.engine.now(), "INFO",
                                        f"command sent: {command.name} {command.arguments()}")

    def confirm(self, title: str, text: str) -> bool:
        """A yes/no question that defaults to No (tests replace it), asked with a demo or
        replay clock held: the one-click strip's and New Order's confirmations."""
        with self.risk.hold_clock():
            return ask(self, title, text)

    def flatten_all(self) -> None:
        self.risk.flatten_all()

    @property
    def live(self) -> bool:
        """A live session: the clock is the market's (no pause, step, speed or jump)."""
        return self.session.mode.value == "live"

    def toggle_play(self) -> None:
        if self.live:
            return
        if self.pacer.paused:
            self.pacer.resume()
            self.play.setText("Pause")
        else:
            self.pacer.pause()
            self.play.setText("Play")

    def set_speed(self, value: float) -> None:
        if not self.live:
            self.pacer.set_speed(value)

    def step_bar(self) -> None:
        if self.live:
            return
        if not self.pacer.paused:
            self.toggle_play()
        self.pacer.step(1800)

    def jump(self, t_msc: int) -> None:
        if not self.live and t_msc > self.pacer.now_msc():
            self.pacer.advance_to(int(t_msc))

    def _open_replay(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open recorded data", "", "Data files (*.csv *.gz *.txt *.tsv);;All files (*)")
        if paths:
            self.replayRequested.emit([Path(p) for p in paths])

    # ------------------------------------------------------------------ updates

    def select_cluster(self, name: str) -> None:
        if name == self._selected or getattr(self, "_shut", False):
            return  # after shutdown the table may still emit as it goes: nothing to read
        self._selected = name
        self.toolbox.calendar.select_cluster(name)  # its blackouts follow the selection
        info = self.engine.cluster_info(name)
        if info is None:
            return
        self.chart.set_cluster(name, list(info.symbols), info.entry, info.exit_band,
                               info.tdi_stop, info.score_name, info.timeframe)
        self._refresh_chart()
        self._refresh_trades()

    #: The chart redraws at most this often (a repaint of several thousand points per curve
    #: is the most expensive thing the GUI thread does during a fast replay).
    CHART_INTERVAL_MS = 250

    def _schedule_chart(self) -> None:
        """Coalesce chart refreshes: at most one per ``CHART_INTERVAL_MS``."""
        if not self._chart_timer.isActive():
            self._chart_timer.start()

    def _refresh_chart(self) -> None:
        if self._trades_refresh_due:
            self._trades_refresh_due = False
            self._refresh_trades()
        info = self.engine.cluster_info(self._selected or "")
        if info is None:
            return
        if self.chart.timeframe() == "M1":
            times, closes = self.engine.m1_history(list(info.symbols))
            if len(times):
                bar_times, tdi, _ = self.engine.cluster_history(info.name)
                self.chart.set_m1(times, closes, signal_tdi_at(times, bar_times, tdi))
            return
        times, tdi, closes = self.engine.cluster_history(info.name)
        self.chart.set_history(times, tdi, closes)

    def _refresh_trades(self) -> None:
        if self.reader is None or self._selected is None or getattr(self, "_shut", False):
            return
        # this run's baskets only, closed and open: earlier runs on the same journal are
        # History, not marks
        run = self.engine.run_id
        records = self.reader.basket_history(HistoryFilter(
            cluster=self._selected, limit=500, run_id=run))
        records += [o.basket for o in self.reader.open_baskets()
                    if (o.basket.opening.run_id, o.basket.opening.cluster) ==
                    (run, self._selected)]
        self.chart.set_trades(basket_trades(records))

    def on_events(self, events: list[Any]) -> None:
        self.risk.on_events(events)
        new_bars = 0
        self.charts.on_events(events)
        for ev in events:
            if isinstance(ev, TdiUpdated):
                if ev.cluster == self._selected and ev.timeframe != "M1":
                    new_bars += 1
            elif isinstance(ev, LogLine):
                self.toolbox.journal.append_log(ev.time, ev.level, ev.text)
            elif isinstance(ev, BasketOpened | BasketClosed):
                self._trades_refresh_due = True
                self._history_refresh_due = self._history_refresh_due or \
                    isinstance(ev, BasketClosed)
                verb = "opened" if isinstance(ev, BasketOpened) else \
                    f"closed {ev.exit_code} {ev.pnl:+,.2f}"
                self.toolbox.journal.append_log(ev.time, "INFO", f"{ev.basket_id} {verb}")
            elif isinstance(ev, CommandDone):
                self._on_command_done(ev)
            elif isinstance(ev, RiskStateChanged):
                self.toolbox.journal.append_log(ev.time, "WARNING",
                                                f"{ev.scope} {ev.state}: {ev.reason}")
        # one redraw per batch, whatever the number of new bars: setting the history is
        # cheaper than appending bars one by one (measured: 4 ms against 20+ ms a batch)
        if new_bars or self.chart.timeframe() == "M1":
            self._schedule_chart()
        if self._trades_refresh_due:  # with the next chart refresh: one repaint for both
            self._schedule_chart()
        if self._history_refresh_due:
            self._history_refresh_due = False
            self.toolbox.history.refresh_when_shown()

    def _on_command_done(self, ev: CommandDone) -> None:
        """The answer in the Journal tab and its audit trail; a refusal also in the status
        bar, where the trader who sent it is looking (an order's answer is the order
        tools' own line)."""
        self.toolbox.journal.append_log(
            ev.time, "INFO" if ev.ok else "WARNING",
            f"{ev.command}: {'ok' if ev.ok else 'failed'}: {ev.message}")
        self.toolbox.convertible.on_command_done(ev.command, ev.ok, ev.message)
        if not ev.ok and ev.command != "PlaceOrder":
            self.statusBar().showMessage(f"{ev.command} refused: {ev.message}", REFUSAL_MS)
        if self.reader is not None:
            self.toolbox.journal.set_audit(self.reader.commands())

    def on_snapshot(self, snap: EngineSnapshot) -> None:
        self.risk.on_snapshot(snap)
        self.clusters.update_clusters(snap.clusters)
        self.toolbox.regimes.update_views(snap.clusters)
        self.toolbox.basis.update_views(snap.clusters)
        self.toolbox.deals.update_views(snap.clusters)
        self.toolbox.convertible.update_views(snap.externals)
        self.market_watch.update_quotes(snap.quotes)
        self.charts.on_snapshot(snap)
        self.toolbox.trade.update_positions(
            snap.positions, {c.basket_id: c for c in snap.clusters if c.basket_id},
            snap.exposures)
        for view in snap.clusters:
            if view.name == self._selected:
                self.chart.set_thresholds(view.entry, view.exit_band)
        now_ms = int(snap.time.timestamp() * 1000)
        if math.isfinite(snap.equity) and now_ms - self._last_equity_ms >= 60_000:
            self._last_equity_ms = now_ms
            self.equity.append(now_ms, snap.balance, snap.equity, defer=True)
        self._update_status(snap)

    def _update_status(self, snap: EngineSnapshot) -> None:
        connected = "connected" if snap.connected else "DISCONNECTED"
        self.mode_label.setText(f" {snap.mode.upper()} | {connected} | "
                                f"{self.pacer.mode if hasattr(self.pacer, 'mode') else ''} ")
        clock = f"{snap.time:%Y-%m-%d %H:%M} UTC"  # one market clock: status bar and chart
        self.status_bar.show_snapshot(snap, f"{clock} | {self._server_clock(snap.time)}")
        self.chart.set_clock(f"market {clock}")
        follow_clock(self.jump_to, int(snap.time.timestamp() * 1000))
        watcher = getattr(self, "replay_watcher", None)
        self.waiting.show_snapshot(snap, getattr(self.session, "notes", ()),
                                   watcher is not None and watcher.done, self._signal_bars)

    def _signal_bars(self, cluster: str) -> tuple[int, int]:
        """A warming cluster's signal bars so far and what its kind's first valid score
        needs (a TDI's windows, a pair's hedge window, a deal's none)."""
        spec = next((c for c in self.engine.config.clusters if c.name == cluster), None)
        sig = self.engine.signals.get(cluster)
        need = (spec.factor_bars + sig.model.warmup_bars + 1
                if spec is not None and sig is not None else 0)
        return len(self.engine.cluster_history(cluster)[0]), need

    def _server_clock(self, when: datetime) -> str:
        server = server_time(self.session, when)
        return f"server {server:%H:%M}" if server is not None else ""

    def use_calendar(self, calendar: Any) -> None:
        """An imported calendar becomes the engine's: an immutable copy for its thread."""
        now = datetime.fromtimestamp(self.engine.now_msc / 1000, tz=UTC)
        snapshot = calendar.snapshot(now - timedelta(days=30), now + timedelta(days=400)) \
            if hasattr(calendar, "snapshot") else calendar
        count = len(getattr(snapshot, "events", ()))
        self.submit(cmd.UseCalendar(calendar=snapshot, source="gui",
                                    description=f"imported calendar ({count} events)"))
        self.session.calendar = snapshot

    def _init_calendar(self) -> None:
        calendar = getattr(self.session, "calendar", None)
        if calendar is None:
            return
        now = datetime.fromtimestamp(self.engine.now_msc / 1000, tz=UTC)
        start, end = now - timedelta(days=7), now + timedelta(days=21)
        self.toolbox.calendar.set_calendar(calendar, start, end)
        self.toolbox.calendar.set_blackouts(self.engine.blackout_windows(start, end))
