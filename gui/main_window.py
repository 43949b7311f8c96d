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
    QMessageBox,
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
from gui.chart.cluster_chart import ClusterChart, EquityChart
from gui.clusters_panel import ClustersPanel
from gui.market_watch import MarketWatch
from gui.toolbox import Toolbox

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
        self._init_calendar()

        self.bridge = EngineBridge(self.engine, parent=self)
        self.bridge.events.connect(self.on_events)
        self.bridge.snapshot.connect(self.on_snapshot)
        self.worker = EngineWorker(self.engine, pacer, until_msc=end_msc, start_engine=True,
                                   on_error=self._worker_failed)
        self._restore_layout()

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
        else:
            docks = {d.objectName(): d for d in self.findChildren(QDockWidget)}
            self.splitDockWidget(docks["Toolbox"], docks["Equity"], Qt.Orientation.Horizontal)
            watch = self.market_watch.rows_height(len(self.symbol_bars.symbols)) + 24
            self.resizeDocks([docks["Clusters"], docks["MarketWatch"]], [330, watch],
                             Qt.Orientation.Vertical)
            self.resizeDocks([docks["Clusters"]], [700], Qt.Orientation.Horizontal)
            self.resizeDocks([docks["Toolbox"], docks["Equity"]], [1000, 600],
                             Qt.Orientation.Horizontal)
            self.resizeDocks([docks["Toolbox"]], [250], Qt.Orientation.Vertical)

    def _save_layout(self) -> None:
        s = settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("state", self.saveState())
        s.sync()

    def _build_toolbar(self, speed: float) -> None:
        bar = QToolBar("Console")
        bar.setObjectName("ConsoleToolbar")
        self.addToolBar(bar)
        self.mode_label = QLabel()
        bar.addWidget(self.mode_label)
        bar.addSeparator()
        self.algo = QAction("Algo Trading", self)
        self.algo.setCheckable(True)
        self.algo.setChecked(True)
        self.algo.toggled.connect(self._algo_toggled)
        bar.addAction(self.algo)
        flatten = QAction("Flatten all", self)
        flatten.triggered.connect(self.flatten_all)
        bar.addAction(flatten)
        bar.addSeparator()
        self.open_action = QAction("Open replay...", self)
        self.open_action.triggered.connect(self._open_replay)
        bar.addAction(self.open_action)
        self.play = QAction("Pause", self)
        self.play.triggered.connect(self.toggle_play)
        bar.addAction(self.play)
        self.step_action = QAction("Step bar", self)
        self.step_action.triggered.connect(self.step_bar)
        bar.addAction(self.step_action)
        self.speed = QComboBox()
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        index = min(range(len(SPEEDS)), key=lambda i: abs(math.log(
            (SPEEDS[i][1] if math.isfinite(SPEEDS[i][1]) else 1e9) /
            (speed if math.isfinite(speed) else 1e9))))
        self.speed.setCurrentIndex(index)
        self.speed.currentIndexChanged.connect(
            lambda _i: self.set_speed(float(self.speed.currentData())))
        bar.addWidget(QLabel(" Speed "))
        bar.addWidget(self.speed)
        self.jump_to = QDateTimeEdit()
        self.jump_to.setTimeZone(QTimeZone.utc())
        self.jump_to.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.jump_to.setDateTime(QDateTime.fromMSecsSinceEpoch(self.engine.now_msc,
                                                               QTimeZone.utc()))
        bar.addWidget(QLabel(" Jump to "))
        bar.addWidget(self.jump_to)
        go = QAction("Go", self)
        go.triggered.connect(lambda: self.jump(self.jump_to.dateTime().toMSecsSinceEpoch()))
        bar.addAction(go)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setFormat("%p%")
        self.progress.setVisible(self.end_msc is not None)
        bar.addWidget(self.progress)

    def _build_status_bar(self) -> None:
        self.status_labels: dict[str, QLabel] = {}
        for key in ("connection", "time", "balance", "equity", "margin", "daily", "risk"):
            label = QLabel()
            label.setMinimumWidth(90)
            self.statusBar().addPermanentWidget(label)
            self.status_labels[key] = label

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
        self.bridge.close()
        self.worker.stop()
        if self.worker.ident is not None:  # started
            self.worker.join(timeout=10)
        if self.engine.started:
            self.engine.stop("console closed")
        if self.reader is not None:
            self.reader.close()
        self.session.close()

    # ------------------------------------------------------------------ commands

    def submit(self, command: cmd.Command) -> None:
        self.engine.submit(command)
        self.toolbox.journal.append_log(datetime.now(UTC), "INFO",
                                        f"command sent: {command.name} {command.arguments()}")

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def flatten_all(self) -> None:
        if self.confirm("Flatten all", "Close every basket and position at market?"):
            self.submit(cmd.FlattenAll(source="gui"))

    def _algo_toggled(self, on: bool) -> None:
        self.submit(cmd.ResumeCluster(cluster="*", source="gui") if on
                    else cmd.HaltCluster(cluster="*", source="gui"))

    def toggle_play(self) -> None:
        if self.pacer.paused:
            self.pacer.resume()
            self.play.setText("Pause")
        else:
            self.pacer.pause()
            self.play.setText("Play")

    def set_speed(self, value: float) -> None:
        self.pacer.set_speed(value)

    def step_bar(self) -> None:
        if not self.pacer.paused:
            self.toggle_play()
        self.pacer.step(1800)

    def jump(self, t_msc: int) -> None:
        if t_msc > self.pacer.now_msc():
            self.pacer.advance_to(int(t_msc))

    def _open_replay(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open recorded data", "", "Data files (*.csv *.gz *.txt *.tsv);;All files (*)")
        if paths:
            self.replayRequested.emit([Path(p) for p in paths])

    # ------------------------------------------------------------------ updates

    def select_cluster(self, name: str) -> None:
        if name == self._selected:
            return
        self._selected = name
        info = self.engine.cluster_info(name)
        if info is None:
            return
        self.chart.set_cluster(name, list(info.symbols), info.entry, info.exit_band,
                               info.tdi_stop)
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
        info = self.engine.cluster_info(self._selected or "")
        if info is None:
            return
        if self.chart.timeframe() == "M1":
            times, closes = self.engine.m1_history(list(info.symbols))
            if len(times):
                self.chart.set_m1(times, closes)
            return
        times, tdi, closes = self.engine.cluster_history(info.name)
        self.chart.set_history(times, tdi, closes)

    def _refresh_trades(self) -> None:
        if self.reader is None or self._selected is None:
            return
        records = self.reader.basket_history(HistoryFilter(cluster=self._selected, limit=500))
        trades = []
        for b in records:
            o, c = b.opening, b.closing
            trades.append({
                "basket_id": b.basket_id, "direction": o.direction.value,
                "entry_time_ms": int(o.opened_at.timestamp() * 1000),
                "exit_time_ms": int(c.closed_at.timestamp() * 1000) if c else None,
                "entry_tdi": o.entry_tdi, "exit_tdi": c.exit_tdi if c else None,
                "pnl": c.pnl if c else None, "exit_code": c.exit_code.value if c else ""})
        self.chart.set_trades(trades)

    def on_events(self, events: list[Any]) -> None:
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
                self.toolbox.journal.append_log(
                    ev.time, "INFO" if ev.ok else "WARNING",
                    f"{ev.command}: {'ok' if ev.ok else 'failed'}: {ev.message}")
                if self.reader is not None:
                    self.toolbox.journal.set_audit(self.reader.commands())
            elif isinstance(ev, RiskStateChanged):
                self.toolbox.journal.append_log(ev.time, "WARNING",
                                                f"{ev.scope} {ev.state}: {ev.reason}")
        # one redraw per batch, whatever the number of new bars: setting the history is
        # cheaper than appending bars one by one (measured: 4 ms against 20+ ms a batch)
        if new_bars or self.chart.timeframe() == "M1":
            self._schedule_chart()
        if self._trades_refresh_due:
            self._trades_refresh_due = False
            self._refresh_trades()
        if self._history_refresh_due:
            self._history_refresh_due = False
            self.toolbox.history.refresh()

    def on_snapshot(self, snap: EngineSnapshot) -> None:
        self.clusters.update_clusters(snap.clusters)
        self.market_watch.update_quotes(snap.quotes)
        self.charts.on_snapshot(snap)
        self.toolbox.trade.update_positions(
            snap.positions, {c.basket_id: c for c in snap.clusters if c.basket_id})
        for view in snap.clusters:
            if view.name == self._selected:
                self.chart.set_thresholds(view.entry, view.exit_band)
        now_ms = int(snap.time.timestamp() * 1000)
        if math.isfinite(snap.equity) and now_ms - self._last_equity_ms >= 60_000:
            self._last_equity_ms = now_ms
            self.equity.append(now_ms, snap.balance, snap.equity)
        self._update_status(snap)

    def _update_status(self, snap: EngineSnapshot) -> None:
        connected = "connected" if snap.connected else "DISCONNECTED"
        self.mode_label.setText(f" {snap.mode.upper()} | {connected} | "
                                f"{self.pacer.mode if hasattr(self.pacer, 'mode') else ''} ")
        labels = self.status_labels
        labels["connection"].setText(connected)
        labels["time"].setText(f"{snap.time:%Y-%m-%d %H:%M} UTC | {self._server_clock(snap.time)}")
        labels["balance"].setText(f"Balance {snap.balance:,.2f}")
        labels["equity"].setText(f"Equity {snap.equity:,.2f}")
        labels["margin"].setText(f"Margin level {snap.margin_level:,.0f}%"
                                 if snap.margin_level else "Margin level -")
        labels["daily"].setText(f"Day {snap.daily_pnl:+,.2f}")
        risk_pct = snap.open_risk / snap.equity * 100 if snap.equity else 0.0
        labels["risk"].setText(f"Risk in use {snap.open_risk:,.0f} ({risk_pct:.2f}%)")
        if self.end_msc is not None and self.end_msc > self.start_msc:
            done = (self.engine.now_msc - self.start_msc) / (self.end_msc - self.start_msc)
            self.progress.setValue(int(max(0.0, min(done, 1.0)) * 100))

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
