"""The symbol chart on real bid bars: candles, timeframes, weekends, quotes, deals, positions,
crosshair and zoom (offscreen Qt, a real ``SymbolBars`` store, real HistData M1 bars)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from helpers.paths import TEST_DATA
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.symbol_bars import TIMEFRAME_SECONDS, SymbolBars
from app.symbol_marks import DealMark
from engine.snapshot import PositionView
from engine.ticks import BAR_DTYPE
from gui.chart.symbol_chart import DEFAULT_VISIBLE_BARS, SymbolChart
from mt5bridge.servertime import ServerTimeZone

HISTDATA = TEST_DATA / "histdata" / "DAT_ASCII_EURUSD_M1_2019.csv.gz"
#: pandas' bucket of each chart timeframe.
PANDAS_FREQ = {"M1": "1min", "M5": "5min", "M15": "15min", "M30": "30min", "H1": "1h",
               "H4": "4h", "D1": "1D"}
#: The server clock every test store uses: GMT+2, GMT+3 under US DST (New York + 7 h).
SERVER_FROM_NEW_YORK = pd.Timedelta(hours=7)


def histdata_m1() -> pd.DataFrame:
    """The raw file: bid OHLC, EST stamps (UTC = stamp + 5 h), the first of duplicated rows."""
    frame = pd.read_csv(HISTDATA, sep=";", header=None,
                        names=["stamp", "open", "high", "low", "close", "volume"])
    frame["time"] = pd.to_datetime(frame["stamp"], format="%Y%m%d %H%M%S") + \
        pd.Timedelta(hours=5)
    frame = frame.drop_duplicates("time", keep="first").sort_values("time")
    return frame.set_index(pd.DatetimeIndex(frame["time"]).tz_localize("UTC"))


def as_bars(frame: pd.DataFrame) -> np.ndarray:
    bars = np.zeros(len(frame), dtype=BAR_DTYPE)
    bars["time"] = frame.index.as_unit("s").asi8
    for name in ("open", "high", "low", "close"):
        bars[name] = frame[name].to_numpy()
    return bars


def pandas_candles(frame: pd.DataFrame, timeframe: str) -> pd.DataFrame:
    """An independent aggregation: buckets on the server clock (New York + 7 h), labelled
    with the bucket's start in UTC."""
    server = frame.index.tz_convert("America/New_York").tz_localize(None) + SERVER_FROM_NEW_YORK
    bucket = server.floor(PANDAS_FREQ[timeframe])
    grouped = frame.groupby(bucket, sort=True)
    out = pd.DataFrame({"open": grouped["open"].first(), "high": grouped["high"].max(),
                        "low": grouped["low"].min(), "close": grouped["close"].last()})
    labels = (out.index - SERVER_FROM_NEW_YORK).tz_localize(
        "America/New_York", ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")
    out.index = labels
    return out


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return histdata_m1()


@pytest.fixture
def store(frame) -> SymbolBars:
    bars = SymbolBars(("EURUSD",), ServerTimeZone())
    bars.seed("EURUSD", as_bars(frame))
    return bars


@pytest.fixture
def chart(qtbot, store) -> SymbolChart:
    widget = SymbolChart("EURUSD", store, timeframe="M15")
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.show()
    widget.refresh()
    return widget


def candle(chart: SymbolChart, index: int) -> tuple[float, float, float, float]:
    return tuple(float(a[index]) for a in chart.candles.ohlc())  # type: ignore[return-value]


@pytest.mark.parametrize("timeframe", list(TIMEFRAME_SECONDS))
def test_first_and_last_candles_equal_an_independent_aggregation(chart, frame, timeframe):
    # Arrange
    expected = pandas_candles(frame, timeframe)
    # Act
    chart.set_timeframe(timeframe)
    # Assert
    times = chart.times_ms()
    assert len(times) == len(expected)
    for index in (0, -1):
        row = expected.iloc[index]
        assert times[index] == expected.index[index].timestamp() * 1000
        assert candle(chart, index) == pytest.approx(
            (row["open"], row["high"], row["low"], row["close"]), abs=1e-12)


def test_a_daily_candle_is_the_server_day_five_a_week(chart):
    chart.set_timeframe("D1")

    opens = [datetime.fromtimestamp(t / 1000, UTC) for t in chart.times_ms()]

    # Server midnight at GMT+3 (US summer time until 3 November 2019) is 21:00 UTC
    assert {(t.hour, t.minute) for t in opens} == {(21, 0)}
    # Five a week, opening Sunday..Thursday evenings; HistData's fixed EST clock runs an
    # hour past the server's Friday midnight, which makes a one-hour Saturday candle
    # (opening Friday 21:00 UTC), as MT5 would draw it from the same data
    days = [t for t in opens if t.weekday() != 4]
    assert len(days) == 15 and {t.weekday() for t in days} == {6, 0, 1, 2, 3}


def test_the_weekend_leaves_no_gap(chart):
    # Arrange: the last Friday candle and the first Sunday candle
    chart.set_timeframe("H1")
    times = chart.times_ms()
    gaps = np.diff(times)
    friday = int(np.flatnonzero(gaps > 24 * 3_600_000)[0])
    # Act
    xs = np.arange(len(times))  # candle i is drawn at x = i
    # Assert: neighbours on the x axis, two days apart in time, the Sunday open labelled
    assert xs[friday + 1] - xs[friday] == 1
    assert times[friday + 1] - times[friday] > 40 * 3_600_000
    assert datetime.fromtimestamp(times[friday + 1] / 1000, UTC).weekday() == 6
    chart.plot.setXRange(friday - 20, friday + 20, padding=0)
    ticks = [int(v) for _step, values in chart.axis.tickValues(friday - 20, friday + 20, 900)
             for v in values]
    assert friday + 1 in ticks


def test_timeframe_buttons_switch_and_say_so(chart, qtbot, store):
    # Arrange
    seen: list[str] = []
    chart.timeframeChanged.connect(seen.append)
    # Act
    qtbot.mouseClick(chart.tf_buttons["H4"], Qt.MouseButton.LeftButton)
    # Assert
    assert chart.timeframe() == "H4" and seen == ["H4"]
    assert chart.tf_buttons["H4"].isChecked() and not chart.tf_buttons["M15"].isChecked()
    assert len(chart.times_ms()) == len(store.bars("EURUSD", "H4"))
    _low, high = chart.visible_range()
    assert high >= len(chart.times_ms()) - 1  # the newest candles are in view
    assert "H4" in chart.readout_text()


def test_opening_shows_the_newest_candles_and_fits_their_prices(chart):
    low, high = chart.visible_range()
    n = len(chart.times_ms())

    assert high - low == pytest.approx(DEFAULT_VISIBLE_BARS)
    assert low < n - 1 < high
    bottom, top = chart.plot.getViewBox().viewRange()[1]
    lows, highs = chart.candles.ohlc()[2], chart.candles.ohlc()[1]
    first = int(np.ceil(low))
    assert bottom < lows[first:].min() and top > highs[first:].max()


def test_bid_and_ask_lines_carry_their_prices(chart):
    chart.set_quote(1.10254, 1.10261)

    assert chart.bid_line.isVisible() and chart.ask_line.isVisible()
    assert chart.bid_line.value() == 1.10254 and chart.ask_line.value() == 1.10261
    assert chart.bid_line.label.format == "Bid 1.10254"
    assert chart.ask_line.label.format == "Ask 1.10261"


def test_deal_marks_sit_at_their_prices_in_the_bars_holding_their_times(chart):
    # Arrange: a buy leg opened and closed, a sell leg still open, one deal before the data
    times = chart.times_ms()
    t_open, t_close, t_sell = int(times[100]) + 61_000, int(times[140]) + 5_000, int(times[150])
    marks = [
        DealMark("EURUSD", t_open, 1.10012, "BUY", True, "B-1", 0.3, 0.0),
        DealMark("EURUSD", t_close, 1.10377, "SELL", False, "B-1", 0.3, 109.5),
        DealMark("EURUSD", t_sell, 1.10501, "SELL", True, "B-2", 0.2, 0.0),
        DealMark("EURUSD", int(times[0]) - 3_600_000, 1.09, "BUY", True, "B-0", 0.1, 0.0),
        DealMark("GBPUSD", t_open, 1.29, "BUY", True, "B-1", 0.3, 0.0),
    ]
    # Act
    chart.set_marks(marks)
    # Assert
    points = chart.mark_points()
    assert points["entry"][0].tolist() == [100.0, 150.0]
    assert points["entry"][1].tolist() == [1.10012, 1.10501]
    assert points["exit"][0].tolist() == [140.0]
    assert points["exit"][1].tolist() == [1.10377]
    xs, ys = chart.trade_lines["BUY"].getData()
    assert xs.tolist() == [100.0, 140.0] and ys.tolist() == [1.10012, 1.10377]
    assert len(chart.trade_lines["SELL"].getData()[0]) == 0  # B-2 is still open


def test_open_positions_draw_their_levels(chart):
    # Arrange
    buy = PositionView(9_000_000_001, "EURUSD", "BUY", 0.3, 1.10012, 1.1003, 0.0, 5.4, 1, "B",
                       "C")
    other = PositionView(9_000_000_002, "GBPUSD", "SELL", 0.2, 1.29, 1.29, 0.0, 0.0, 1, "B",
                         "C")
    # Act
    chart.set_positions([buy, other])
    # Assert
    assert chart.position_levels() == [("#9000000001 buy 0.3", 1.10012)]
    chart.set_positions([])
    assert chart.position_levels() == []


def test_the_crosshair_reads_the_bar_under_the_mouse(chart, qtbot):
    # Arrange
    box = chart.plot.getViewBox()
    low, _high = chart.visible_range()
    index = int(low) + 40
    bar = chart.candles.ohlc()
    price = float(bar[3][index])
    scene = box.mapViewToScene(QPointF(index, price))
    # Act
    chart._on_mouse(scene)
    # Assert
    assert chart.cross_x.isVisible() and chart.cross_x.value() == index
    text = chart.readout_text()
    assert f"O <b>{bar[0][index]:.5f}</b>" in text and f"C <b>{bar[3][index]:.5f}</b>" in text
    when = datetime.fromtimestamp(chart.times_ms()[index] / 1000, UTC)
    assert f"{when:%Y-%m-%d %H:%M}" in text
    assert "cursor" in text


def test_the_mouse_wheel_zooms_and_a_pan_back_stops_following(chart, qtbot):
    # Arrange
    low, high = chart.visible_range()
    viewport = chart.plot_widget.viewport()
    centre = QPointF(viewport.width() / 2, viewport.height() / 2)
    wheel = QWheelEvent(centre, viewport.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    # Act
    QApplication.sendEvent(viewport, wheel)
    # Assert: zoomed in about the mouse
    zoomed = chart.visible_range()
    assert zoomed[1] - zoomed[0] < (high - low) * 0.9
    # Act: pan back in time
    chart.plot.setXRange(zoomed[0] - 500, zoomed[1] - 500, padding=0)
    # Assert
    assert not chart._follow
