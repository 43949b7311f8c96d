"""Cluster and equity charts, rendered offscreen with synthetic FX bars that span weekends."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QToolButton

from gui.chart.axis import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    WEEK_MS,
    BarIndexAxis,
    boundary_indices,
    choose_step,
    thin_out,
    tick_labels,
)
from gui.chart.buffer import BarSeries, GrowableArray
from gui.chart.cluster_chart import ClusterChart, EquityChart, signal_tdi_at
from gui.chart.equity import drawdown_percent
from gui.chart.trades import TradeTable, bar_at, place_trades
from gui.plain_text import plain_tip

M30_MS = 30 * MINUTE_MS
SYMBOLS = ("EURUSD", "GBPUSD", "AUDUSD", "USDCHF")
#: Monday 2024-01-08 00:00 UTC.
MONDAY = int(datetime(2024, 1, 8, tzinfo=UTC).timestamp() * 1000)


def fx_times(start_ms: int, count: int, period_ms: int) -> np.ndarray:
    """Bar open times with the FX weekend (Friday 21:00 to Sunday 22:00 UTC) left out."""
    times: list[int] = []
    t = start_ms
    while len(times) < count:
        moment = datetime.fromtimestamp(t / 1000, UTC)
        weekday, hour = moment.weekday(), moment.hour
        closed = (weekday == 4 and hour >= 21) or weekday == 5 or (weekday == 6 and hour < 22)
        if not closed:
            times.append(t)
        t += period_ms
    return np.asarray(times, dtype=np.int64)


def synthetic_cluster(count: int = 2_000, seed: int = 7,
                      period_ms: int = M30_MS) -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    times = fx_times(MONDAY, count, period_ms)
    tdi = np.zeros(count)
    for i in range(1, count):
        tdi[i] = 0.97 * tdi[i - 1] + rng.normal(0.0, 0.45)
    tdi[:40] = np.nan  # warm-up
    common = np.cumsum(rng.normal(0.0, 4e-4, count))
    closes = {}
    for symbol, price in zip(SYMBOLS, (1.09, 1.27, 0.67, 0.86), strict=True):
        closes[symbol] = price * np.exp(common + np.cumsum(rng.normal(0.0, 3e-4, count)))
    return times, tdi, closes


def first_monday_open_after_weekend(times: np.ndarray) -> int:
    """Index of the first bar after the first Friday close."""
    gaps = np.diff(times)
    return int(np.flatnonzero(gaps > DAY_MS)[0]) + 1


@pytest.fixture
def chart(qtbot) -> ClusterChart:
    widget = ClusterChart()
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.set_cluster("EUR-bloc", SYMBOLS, entry=1.2, exit_band=0.3)
    return widget


@pytest.fixture
def loaded(chart) -> tuple[ClusterChart, np.ndarray, np.ndarray, dict]:
    times, tdi, closes = synthetic_cluster()
    chart.set_history(times, tdi, closes)
    return chart, times, tdi, closes


def trade(basket_id: int, direction: str, entry_ms: int, exit_ms: int | None,
          entry_tdi: float | None, exit_tdi: float | None, pnl: float | None) -> dict:
    return {"basket_id": basket_id, "direction": direction, "entry_time_ms": entry_ms,
            "exit_time_ms": exit_ms, "entry_tdi": entry_tdi, "exit_tdi": exit_tdi,
            "pnl": pnl, "exit_code": "MR" if exit_ms else None}


# ------------------------------------------------------------------------------ bands
def test_bands_sit_at_plus_minus_entry_exit_and_stop(chart):
    levels = chart.band_levels()

    assert levels == {"+stop": 2.5, "-stop": -2.5, "+E": 1.2, "-E": -1.2,
                      "+X": 0.3, "-X": -0.3}
    assert chart.bands["+E"].label.format == "+E 1.20"


def test_set_thresholds_moves_the_bands_and_keeps_the_data(loaded):
    chart, times, _, _ = loaded

    chart.set_thresholds(1.6, 0.5)

    levels = chart.band_levels()
    assert (levels["+E"], levels["-E"], levels["+X"], levels["-X"]) == (1.6, -1.6, 0.5, -0.5)
    assert levels["+stop"] == 2.5
    assert len(chart.tdi_curve.xData) == len(times)
    assert "E 1.60" in chart._title.text()


def test_set_cluster_with_another_stop_and_bad_levels(chart):
    chart.set_cluster("JPY-bloc", ("USDJPY", "EURJPY"), 1.0, 0.2, tdi_stop=3.0)

    assert chart.band_levels()["-stop"] == -3.0
    assert list(chart.leg_curves) == ["USDJPY", "EURJPY"]
    with pytest.raises(ValueError, match="entry"):
        chart.set_thresholds(float("nan"), 0.2)
    with pytest.raises(ValueError, match="repeat"):
        chart.set_cluster("x", ("EURUSD", "EURUSD"), 1.0, 0.2)


def test_set_cluster_clears_previous_data(loaded):
    chart, *_ = loaded

    chart.set_cluster("Other", ("EURUSD", "USDCHF"), 1.0, 0.2)

    assert chart.tdi_curve.xData is None  # pyqtgraph's "no points"
    assert chart.crosshair_text() == "M30: no bars"


def test_a_cluster_on_h1_bars_names_its_signal_view_h1(chart):
    times = fx_times(MONDAY, 50, 2 * M30_MS)
    closes = {s: np.linspace(1.0, 1.1, 50) for s in ("USDJPY", "EURJPY")}

    chart.set_cluster("JPY-H1", ("USDJPY", "EURJPY"), 1.0, 0.2, timeframe="H1")
    chart.set_history(times, np.linspace(-1.0, 1.0, 50), closes)

    labels = sorted(b.text() for b in chart.findChildren(QToolButton))
    assert labels == ["H1", "M1"]
    assert chart.crosshair_text().startswith("H1 ")
    assert chart.timeframe() == "M30"  # the view's key is the same whatever the bars


# ---------------------------------------------------------------------------- history
def test_history_shows_last_600_bars_with_legs_rebased_on_first_visible(loaded):
    chart, times, _, closes = loaded

    low, high = chart.visible_range()

    assert low == pytest.approx(len(times) - 600 - 0.5)
    assert high > len(times) - 1
    first = len(times) - 600
    eurusd = chart.leg_values("EURUSD")
    assert eurusd[first] == pytest.approx(0.0)
    expected = (closes["EURUSD"][-1] / closes["EURUSD"][first] - 1.0) * 100.0
    assert eurusd[-1] == pytest.approx(expected)
    assert np.array_equal(chart.leg_curves["EURUSD"].yData, eurusd)


def test_panning_rebases_the_legs(loaded):
    chart, _, _, closes = loaded

    chart.tdi_plot.setXRange(100, 400, padding=0)

    assert chart.leg_values("GBPUSD")[100] == pytest.approx(0.0)
    expected = (closes["GBPUSD"][400] / closes["GBPUSD"][100] - 1.0) * 100.0
    assert chart.leg_values("GBPUSD")[400] == pytest.approx(expected)


def test_history_refresh_keeps_a_panned_view_on_the_same_bars(loaded):
    chart, times, tdi, closes = loaded
    chart.tdi_plot.setXRange(300, 600, padding=0)

    chart.set_history(times[100:], tdi[100:], {s: c[100:] for s, c in closes.items()})

    assert chart.visible_range() == pytest.approx((200, 500))


def test_history_refresh_while_following_shows_the_newest_bars(loaded):
    chart, times, tdi, closes = loaded

    chart.set_history(times[:1500], tdi[:1500], {s: c[:1500] for s, c in closes.items()})

    assert chart.visible_range()[0] == pytest.approx(1500 - 600 - 0.5)


def test_history_input_errors_name_the_problem(chart):
    times, tdi, closes = synthetic_cluster(50)

    with pytest.raises(ValueError, match="tdi has 49 values for 50 times"):
        chart.set_history(times, tdi[:-1], closes)
    with pytest.raises(ValueError, match="no series for cluster member USDCHF"):
        chart.set_history(times, tdi, {s: closes[s] for s in SYMBOLS[:3]})
    with pytest.raises(ValueError, match="strictly increasing"):
        chart.set_history(times[::-1].copy(), tdi, closes)


# ---------------------------------------------------------------------------- markers
def test_markers_one_per_trade_with_direction_symbols_and_pnl_colours(loaded):
    chart, times, tdi, _ = loaded
    trades = [
        trade(1, "LONG", int(times[1500] + M30_MS), int(times[1520] + M30_MS), -1.5, 0.1, 42.0),
        trade(2, "SHORT", int(times[1600] + M30_MS), int(times[1650] + M30_MS), 1.7, -0.2,
              -13.5),
        trade(3, "SHORT", int(times[1990] + M30_MS), None, 1.4, None, None),
    ]

    chart.set_trades(trades)

    entries = chart.entry_markers.data
    exits = chart.exit_markers.data
    assert list(entries["symbol"]) == ["t1", "t", "t"]
    assert list(entries["x"]) == [1500, 1600, 1990]
    assert list(entries["y"]) == [-1.5, 1.7, 1.4]
    assert list(exits["x"]) == [1520, 1650]
    assert [b.color().name() for b in exits["brush"]] == ["#1a9641", "#d7191c"]
    marks = chart.trade_marks()
    assert list(marks.lines["profit"][0]) == [1500, 1520]
    assert list(marks.lines["loss"][1]) == [1.7, -0.2]
    assert list(marks.lines["open"][0]) == [1990, len(times) - 1]
    assert marks.lines["open"][1][-1] == tdi[-1]
    assert marks.hidden == 0
    tip = chart.entry_markers.opts["tip"](x=1600.0, y=1.7, data=entries["data"][1])
    assert tip == plain_tip("Basket 2 SHORT\nentry TDI +1.70")  # shown literally
    exit_tip = chart.exit_markers.opts["tip"](x=1650.0, y=-0.2, data=exits["data"][1])
    assert exit_tip == plain_tip("Basket 2 SHORT\nexit MR TDI -0.20\nP&L -13.50")


def test_unknown_tdi_is_read_from_the_series_and_early_trades_are_hidden(loaded):
    chart, times, tdi, _ = loaded
    before_history = int(times[0]) - DAY_MS

    chart.set_trades([
        trade(7, "LONG", int(times[1000] + M30_MS), int(times[1010] + M30_MS), None,
              float("nan"), 5.0),
        trade(8, "LONG", before_history, int(times[5] + M30_MS), -2.0, 0.0, 1.0),
    ])

    entries = chart.entry_markers.data
    exits = chart.exit_markers.data
    assert list(entries["y"]) == [tdi[1000]]
    assert list(exits["y"]) == [tdi[1010], 0.0]
    assert chart.trade_marks().hidden == 1
    assert len(chart.trade_marks().lines["profit"][0]) == 2  # no line for the early trade


def test_bad_trade_is_refused_with_its_id(loaded):
    chart, times, _, _ = loaded

    with pytest.raises(ValueError, match="trade 9: direction 'BUY'"):
        chart.set_trades([trade(9, "BUY", int(times[10]), None, 1.0, None, None)])
    with pytest.raises(ValueError, match="trade #0: missing entry_time_ms"):
        chart.set_trades([{"basket_id": 1, "direction": "LONG"}])


def test_trade_time_sits_on_the_last_closed_bar():
    times = np.array([0, 30, 60, 90], dtype=np.int64) * MINUTE_MS

    assert bar_at(times, 30 * MINUTE_MS, M30_MS) == 0  # the close of bar 0
    assert bar_at(times, 59 * MINUTE_MS, M30_MS) == 0
    assert bar_at(times, 60 * MINUTE_MS, M30_MS) == 1
    assert bar_at(times, 29 * MINUTE_MS, M30_MS) == -1
    assert bar_at(times, 10 * DAY_MS, M30_MS) == 3


def test_place_trades_flat_pnl_is_grey_group():
    times = np.arange(10, dtype=np.int64) * M30_MS
    tdi = np.linspace(-2, 2, 10)
    table = TradeTable.build([trade(1, "LONG", M30_MS, 4 * M30_MS, None, None, 0.0)])

    marks = place_trades(table, times, tdi, M30_MS)

    assert marks.exit_groups == ("flat",)
    assert list(marks.lines["flat"][0]) == [0, 3]


# ------------------------------------------------------------------------------- axis
def test_axis_labels_skip_the_weekend(loaded):
    chart, times, _, _ = loaded
    monday_open = first_monday_open_after_weekend(times)
    axis = chart.legs_plot.getAxis("bottom")

    ticks = axis.tickValues(monday_open - 100, monday_open + 100, 600)
    values = [int(v) for v in ticks[0][1]]
    labels = axis.tickStrings(ticks[0][1], 1.0, ticks[0][0])
    label_after_friday = labels[values.index(monday_open)]

    assert datetime.fromtimestamp(times[monday_open - 1] / 1000, UTC).strftime("%a") == "Fri"
    assert label_after_friday == "Sun 14 22:00"
    assert axis.label_at(monday_open) == "Sun 2024-01-14 22:00"
    assert monday_open - 1 not in values  # no tick on the Friday's last bar


def test_axis_step_follows_zoom():
    assert choose_step(M30_MS, 2) == HOUR_MS
    assert choose_step(M30_MS, 40) == DAY_MS
    assert choose_step(M30_MS, 200) == WEEK_MS
    assert choose_step(M30_MS, 1_000) == -1  # one month
    assert choose_step(MINUTE_MS, 12) == 15 * MINUTE_MS


def test_tick_labels_show_the_date_where_the_day_changes():
    times = [MONDAY + 20 * HOUR_MS, MONDAY + 22 * HOUR_MS, MONDAY + DAY_MS,
             MONDAY + DAY_MS + 2 * HOUR_MS]

    assert tick_labels(times, 2 * HOUR_MS) == ["Mon 08 20:00", "22:00", "Tue 09", "02:00"]
    assert tick_labels([MONDAY, MONDAY + WEEK_MS], WEEK_MS) == ["08 Jan", "15 Jan"]
    assert tick_labels([MONDAY, MONDAY + 40 * DAY_MS], -1) == ["Jan 2024", "Feb"]


def test_boundary_indices_mark_the_first_bar_of_each_bucket():
    times = fx_times(MONDAY, 400, M30_MS)

    days = boundary_indices(times, 0, len(times) - 1, DAY_MS)

    assert days[0] == 0  # Monday 00:00 is itself a boundary
    assert all(times[i] // DAY_MS != times[i - 1] // DAY_MS for i in days[1:])
    assert len(days) == len(np.unique(times // DAY_MS))


def test_thinning_keeps_the_session_open_over_an_earlier_tick():
    indices = np.array([10, 14, 18, 60])
    preferred = np.array([False, True, False, False])

    assert thin_out(indices, 8, preferred) == [14, 60]
    assert thin_out(indices, 8) == [10, 18, 60]


def test_every_weekend_open_gets_a_tick_at_the_default_zoom(loaded):
    chart, times, _, _ = loaded
    axis = chart.legs_plot.getAxis("bottom")
    low, high = chart.visible_range()

    ticks = [int(v) for v in axis.tickValues(low, high, 930)[0][1]]

    opens = [i for i in np.flatnonzero(np.diff(times) > DAY_MS) + 1 if low <= i <= high]
    assert opens and all(i in ticks for i in opens)


def test_axis_without_times_draws_no_ticks(qtbot):
    axis = BarIndexAxis()

    assert axis.tickValues(0, 100, 500) == []
    assert axis.label_at(0) == ""


# ----------------------------------------------------------------------------- append
def test_append_bar_grows_every_curve_by_one_and_follows(loaded):
    chart, times, _, _ = loaded
    n = len(times)
    low, high = chart.visible_range()
    new_time = int(times[-1] + M30_MS)

    chart.append_bar(new_time, 0.75, {s: 1.0 for s in SYMBOLS})

    assert len(chart.tdi_curve.xData) == n + 1
    assert chart.tdi_curve.yData[-1] == 0.75
    assert all(len(curve.yData) == n + 1 for curve in chart.leg_curves.values())
    assert chart.visible_range() == pytest.approx((low + 1, high + 1))
    assert chart.legs_plot.getAxis("bottom").label_at(n) == \
        datetime.fromtimestamp(new_time / 1000, UTC).strftime("%a %Y-%m-%d %H:%M")
    assert "TDI +0.75" in chart.crosshair_text()


def test_append_bar_after_panning_back_keeps_the_view(loaded):
    chart, times, _, _ = loaded
    chart.tdi_plot.setXRange(200, 500, padding=0)

    chart.append_bar(int(times[-1] + M30_MS), 0.1, {s: 1.0 for s in SYMBOLS})

    assert chart.visible_range() == pytest.approx((200, 500))
    assert len(chart.tdi_curve.yData) == len(times) + 1


def test_append_same_time_replaces_and_older_time_is_refused(loaded):
    chart, times, _, _ = loaded

    chart.append_bar(int(times[-1]), 2.0, {s: 1.0 for s in SYMBOLS})

    assert len(chart.tdi_curve.yData) == len(times)
    assert chart.tdi_curve.yData[-1] == 2.0
    with pytest.raises(ValueError, match="older than the newest bar"):
        chart.append_bar(int(times[-2]), 0.0, {s: 1.0 for s in SYMBOLS})
    with pytest.raises(ValueError, match="USDCHF"):
        chart.append_bar(int(times[-1] + M30_MS), 0.0, {s: 1.0 for s in SYMBOLS[:3]})


def test_growable_array_doubles_and_keeps_values():
    buffer = GrowableArray(np.float64, capacity=2)

    for value in range(1_000):
        buffer.append(float(value))

    assert np.array_equal(buffer.view(), np.arange(1_000, dtype=np.float64))


def test_bar_series_period_is_the_typical_spacing():
    series = BarSeries(("A",))
    times = fx_times(MONDAY, 500, M30_MS)

    series.replace(times, None, {"A": np.ones(500)})

    assert series.bar_period_ms() == M30_MS
    assert np.isnan(series.tdi.view()).all()


# ---------------------------------------------------------------------------- M30 / M1
def test_m1_toggle_emits_and_shows_the_m1_data(loaded, qtbot):
    chart, *_ = loaded
    m1_times, _, m1_closes = synthetic_cluster(900, seed=3, period_ms=MINUTE_MS)
    provisional = np.linspace(-1.0, 1.0, 900)
    chart.set_m1(m1_times, m1_closes, provisional)
    button = next(b for b in chart.findChildren(QToolButton) if b.text() == "M1")

    with qtbot.waitSignal(chart.timeframeChanged, timeout=2_000) as signal:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    assert signal.args == ["M1"]
    assert chart.timeframe() == "M1"
    assert len(chart.tdi_curve.yData) == 900
    assert chart.tdi_curve.yData[-1] == 1.0
    assert all(len(curve.yData) == 900 for curve in chart.leg_curves.values())
    assert chart.legs_plot.getAxis("bottom").label_at(0) == "Mon 2024-01-08 00:00"
    assert chart.crosshair_text().startswith("M1 ")


def test_m1_without_tdi_and_m30_appends_while_in_m1(loaded, qtbot):
    chart, times, _, _ = loaded
    m1_times, _, m1_closes = synthetic_cluster(300, seed=3, period_ms=MINUTE_MS)
    chart.set_m1(m1_times, m1_closes)
    chart.set_timeframe("M1")

    chart.append_bar(int(times[-1] + M30_MS), 0.5, {s: 1.0 for s in SYMBOLS})
    with qtbot.waitSignal(chart.timeframeChanged, timeout=2_000):
        chart.set_timeframe("M30")

    assert "TDI n/a" not in chart.crosshair_text()
    assert len(chart.tdi_curve.yData) == len(times) + 1
    with pytest.raises(ValueError, match="H1"):
        chart.set_timeframe("H1")


def test_m1_view_without_tdi_reads_na(loaded):
    chart, *_ = loaded
    m1_times, _, m1_closes = synthetic_cluster(300, seed=3, period_ms=MINUTE_MS)
    chart.set_m1(m1_times, m1_closes)

    chart.set_timeframe("M1")

    assert "TDI(M30) n/a" in chart.crosshair_text()


def test_m1_view_shows_the_tdi_of_the_last_m30_close(loaded):
    # Arrange: M30 bars at 00:00 and 00:30 (TDI 1.0 then 2.0), M1 bars 00:29 .. 01:01
    chart, *_ = loaded
    m30 = np.array([0, 1_800_000], dtype=np.int64)
    m1 = np.arange(29, 62, dtype=np.int64) * MINUTE_MS
    closes = {s: np.full(len(m1), 1.1) for s in SYMBOLS}

    # Act
    stepped = signal_tdi_at(m1, m30, np.array([1.0, 2.0]))
    chart.set_m1(m1, closes, stepped)
    chart.set_timeframe("M1")

    # Assert: NaN until the first close (00:30), 1.0 until the second (01:00), then 2.0
    assert np.isnan(stepped[0]) and stepped[1] == 1.0 and stepped[-2] == 2.0
    assert "TDI(M30) +2.00" in chart.crosshair_text()
    assert chart.tdi_plot.getAxis("left").labelText == "TDI (last M30 close)"


# --------------------------------------------------------------------------- crosshair
def test_crosshair_reads_the_bar_under_the_mouse(loaded, qtbot):
    chart, times, tdi, closes = loaded
    chart.show()
    qtbot.waitExposed(chart)
    index = len(times) - 100
    box = chart.legs_plot.getViewBox()
    y_mid = sum(box.viewRange()[1]) / 2
    scene_pos = box.mapViewToScene(QPointF(index + 0.2, y_mid))

    chart._on_mouse_moved(scene_pos)

    text = chart.crosshair_text()
    when = datetime.fromtimestamp(times[index] / 1000, UTC).strftime("%a %Y-%m-%d %H:%M")
    first = len(times) - 600
    pct = (closes["AUDUSD"][index] / closes["AUDUSD"][first] - 1.0) * 100.0
    assert chart.crosshair_index() == index
    assert text.startswith(f"M30 {when}  TDI {tdi[index]:+.2f}")
    assert f"AUDUSD {closes['AUDUSD'][index]:.5f} ({pct:+.2f}%)" in text
    assert all(line.isVisible() and line.value() == index for line in chart._crosshair)


def test_crosshair_follows_a_real_mouse_move_and_leaves(loaded, qtbot):
    chart, times, _, _ = loaded
    chart.show()
    qtbot.waitExposed(chart)
    QApplication.processEvents()  # let the plot layout take its final geometry
    index = len(times) - 50
    box = chart.tdi_plot.getViewBox()
    scene_pos = box.mapViewToScene(QPointF(index, 0.0))
    viewport = chart._plots.viewport()
    point = chart._plots.mapFromScene(scene_pos)

    qtbot.mouseMove(viewport, point)
    qtbot.waitUntil(lambda: chart.crosshair_index() == index, timeout=2_000)
    chart._on_mouse_moved(QPointF(-50.0, -50.0))

    assert chart.crosshair_index() is None
    assert "Fri" in chart.crosshair_text() or "2024" in chart.crosshair_text()


# ------------------------------------------------------------------------------ equity
def test_drawdown_is_equity_over_running_peak():
    equity = np.array([100.0, 110.0, 99.0, 121.0, 108.9, np.nan, 130.0])

    drawdown = drawdown_percent(equity)

    hand = [0.0, 0.0, -10.0, 0.0, -10.0, np.nan, 0.0]
    np.testing.assert_allclose(drawdown, hand, equal_nan=True)


def test_equity_chart_series_and_append_match_hand_computation(qtbot):
    chart = EquityChart()
    qtbot.addWidget(chart)
    times = MONDAY + np.arange(4, dtype=np.int64) * HOUR_MS
    chart.set_series(times, np.array([100.0, 100.0, 105.0, 105.0]),
                     np.array([100.0, 110.0, 99.0, 105.0]))

    chart.append(int(times[-1] + HOUR_MS), 121.0, 121.0)
    chart.append(int(times[-1] + 2 * HOUR_MS), 121.0, 96.8)

    hand = [0.0, 0.0, -10.0, (105 / 110 - 1) * 100, 0.0, -20.0]
    np.testing.assert_allclose(chart.drawdown_values(), hand)
    np.testing.assert_allclose(chart.drawdown_curve.yData, hand)
    assert chart.balance_curve.xData[0] == times[0] / 1000
    assert "-20.00%" in chart.summary_text()


def test_equity_chart_refuses_bad_series(qtbot):
    chart = EquityChart()
    qtbot.addWidget(chart)

    with pytest.raises(ValueError, match="differ in length"):
        chart.set_series(np.array([1, 2]), np.array([1.0]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="backwards at index 1"):
        chart.set_series(np.array([2, 1]), np.ones(2), np.ones(2))
    chart.set_series(np.array([5_000]), np.ones(1), np.ones(1))
    with pytest.raises(ValueError, match="older than the newest point"):
        chart.append(1_000, 1.0, 1.0)


# ------------------------------------------------------------------------- screenshots
def _distinct_colours(image) -> int:
    sample = {image.pixel(x, y) for x in range(0, image.width(), 7)
              for y in range(0, image.height(), 7)}
    return len(sample)


def test_cluster_chart_grab_is_a_full_size_picture(loaded, qtbot):
    chart, times, _, _ = loaded
    chart.set_trades([trade(1, "LONG", int(times[1700] + M30_MS), int(times[1720] + M30_MS),
                            -1.3, 0.2, 12.0)])
    chart.show()
    qtbot.waitExposed(chart)
    QApplication.processEvents()

    image = chart.grab().toImage()
    image.save("/tmp/test_cluster_chart.png")

    assert (image.width(), image.height()) == (1000, 600)
    assert _distinct_colours(image) > 20
    assert QColor(image.pixel(500, 300)).isValid()


def test_equity_chart_grab_is_a_full_size_picture(qtbot):
    chart = EquityChart()
    qtbot.addWidget(chart)
    chart.resize(1000, 600)
    rng = np.random.default_rng(5)
    times = MONDAY + np.arange(2_000, dtype=np.int64) * M30_MS
    balance = 10_000 + np.cumsum(np.where(rng.random(2_000) < 0.02, rng.normal(5, 60), 0.0))
    chart.set_series(times, balance, balance + rng.normal(0, 20, 2_000))
    chart.show()
    qtbot.waitExposed(chart)

    image = chart.grab().toImage()
    image.save("/tmp/test_equity_chart.png")

    assert (image.width(), image.height()) == (1000, 600)
    assert _distinct_colours(image) > 10
