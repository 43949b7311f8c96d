"""TDI per cluster: each cluster's TDI with its bands and its baskets' entries and exits."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from app.report import svg as report_svg
from app.report.format import format_instant, format_tdi, sign_class
from app.report.markup import legend, section_open
from engine.cluster import DEFAULT_TDI_STOP
from engine.formatting import format_money


def _bands(settings: Mapping[str, Any]) -> report_svg.Bands:
    """The cluster's E, X and stop from its settings (the first positive key found)."""
    def first(*keys: str) -> float | None:
        for key in keys:
            value = settings.get(key)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and math.isfinite(value) and value > 0:
                return float(value)
        return None

    return report_svg.Bands(
        entry=first("entry", "E"),
        exit=first("exit", "exit_band", "X"),
        stop=first("tdi_stop", "stops.tdi_stop") or DEFAULT_TDI_STOP,
    )


def _bar_position(times: pd.DatetimeIndex, stamp: pd.Timestamp, step: pd.Timedelta) -> float | None:
    """Fractional bar number of a time; None when it lies outside the series."""
    if stamp < times[0] or stamp > times[-1] + step:
        return None
    position = int(times.searchsorted(stamp, side="right")) - 1
    offset = (stamp - times[position]) / step
    return position + min(max(offset, 0.0), 1.0)


def _value_at(series: pd.Series, position: float, given: float) -> float:
    if math.isfinite(given):
        return given
    value = float(series.iloc[min(int(position), len(series) - 1)])
    return value if math.isfinite(value) else 0.0


def _trade_mark(
    series: pd.Series, times: pd.DatetimeIndex, step: pd.Timedelta, row: Any, entry: float
) -> report_svg.TradeMark:
    """One basket, entering at bar position ``entry``, in chart coordinates."""
    entry_y = _value_at(series, entry, row.entry_tdi)
    exit_x = exit_y = None
    exit_label = ""
    if pd.notna(row.exit_time):
        exit_x = _bar_position(times, row.exit_time, step)
        if exit_x is not None:
            exit_y = _value_at(series, exit_x, row.exit_tdi)
        exit_label = (
            f"{row.basket_id} exit {row.exit_code} {format_instant(row.exit_time)} UTC, "
            f"TDI {format_tdi(row.exit_tdi)}, P&L {format_money(row.pnl, signed=True)}"
        )
    return report_svg.TradeMark(
        entry_x=entry,
        entry_y=entry_y,
        exit_x=exit_x,
        exit_y=exit_y,
        long=row.direction == "LONG",
        pnl=float(row.pnl) if math.isfinite(row.pnl) else 0.0,
        entry_label=(
            f"{row.basket_id} {row.direction} entry {format_instant(row.entry_time)} UTC, "
            f"TDI {format_tdi(row.entry_tdi)}"
        ),
        exit_label=exit_label,
    )


def _trade_marks(
    series: pd.Series, trades: pd.DataFrame
) -> tuple[list[report_svg.TradeMark], int]:
    """The cluster's baskets in chart coordinates, and how many lie outside the series.

    A basket's given entry/exit TDI is used where finite, else the TDI of its bar.
    """
    times = pd.DatetimeIndex(series.index)
    if len(times) == 0:
        return [], len(trades)
    step = pd.Timedelta(minutes=30)  # the M30 bar, for a series of one bar
    if len(times) > 1:
        step = pd.Timedelta((times[1:] - times[:-1]).median())
    marks, skipped = [], 0
    for row in trades.itertuples(index=False):
        entry = _bar_position(times, row.entry_time, step)
        if entry is None:
            skipped += 1
            continue
        marks.append(_trade_mark(series, times, step, row, entry))
    return marks, skipped


def _cluster_summary(trades: pd.DataFrame) -> str:
    closed = trades[trades["exit_time"].notna()]
    longs = int((trades["direction"] == "LONG").sum())
    net = float(closed["pnl"].sum())
    return (
        f"{len(trades):,} basket(s): {longs:,} long, {len(trades) - longs:,} short; "
        f'net P&amp;L <span class="{sign_class(net)}">{format_money(net, signed=True)}</span>'
    )


def _facts(settings: Mapping[str, Any], bands: report_svg.Bands, own: pd.DataFrame) -> str:
    """The panel's facts line: symbols, bands and the cluster's baskets."""
    symbols = settings.get("symbols")
    symbols_text = (
        ", ".join(str(s) for s in symbols) if isinstance(symbols, list | tuple) else ""
    )
    band_text = (
        f"E {bands.entry:g}" if bands.entry is not None else "E not given"
    ) + (f", X {bands.exit:g}" if bands.exit is not None else ", X not given") + (
        f", stop {bands.stop:g}"
    )
    return " · ".join(
        part for part in (escape(symbols_text), escape(band_text), _cluster_summary(own))
        if part
    )


def _chart_body(
    name: str, series: pd.Series, bands: report_svg.Bands, own: pd.DataFrame
) -> str:
    """The chart of one cluster's TDI and its caption (span, clipped bars, baskets not drawn)."""
    marks, skipped = _trade_marks(series, own)
    chart = report_svg.tdi_chart(
        pd.DatetimeIndex(series.index), series.to_numpy(), bands, marks,
        f"TDI of {name}",
    )
    limit = report_svg.tdi_limit(series.to_numpy(), bands.stop)
    clipped = int((np.abs(series.to_numpy()) > limit).sum())
    extra = []
    if clipped:
        extra.append(f"{clipped:,} bar(s) beyond \u00b1{limit:g} are drawn at the edge.")
    if skipped:
        extra.append(f"{skipped:,} basket(s) outside the TDI series are not drawn.")
    span = (
        f"{len(series):,} bars, {format_instant(series.index[0])} to "
        f"{format_instant(series.index[-1])} UTC; x axis: bar number (weekends skipped)."
    )
    warning = f' <span class="note">{escape(" ".join(extra))}</span>' if extra else ""
    return (
        f'<figure class="wide">{chart}</figure>'
        f'<p class="caption">{escape(span)}{warning}</p>'
    )


def _tdi_panel(
    position: int,
    name: str,
    series: pd.Series | None,
    trades: pd.DataFrame,
    settings: Mapping[str, Any],
) -> str:
    bands = _bands(settings)
    own = trades[trades["cluster"] == name]
    facts = _facts(settings, bands, own)
    if series is None or series.empty:
        body = '<p class="note">No TDI series was given for this cluster.</p>'
    else:
        body = _chart_body(name, series, bands, own)
    return (
        f'<div class="tdi-panel" id="tdi-{position}"><h3>{escape(name)}</h3>'
        f'<p class="facts">{facts}</p>{body}</div>'
    )


def tdi_section(
    names: Sequence[str],
    tdi: Mapping[str, pd.Series],
    trades: pd.DataFrame,
    clusters: Mapping[str, Mapping[str, Any]],
) -> str:
    """One panel per cluster: its settings, its baskets and its TDI chart."""
    chart_legend = legend(
        ("sw tdi", "TDI"),
        ("sw entry", "\u00b1E entry band"),
        ("sw exitband", "\u00b1X exit band"),
        ("sw stop", "\u00b1TDI stop"),
        ("glyph long", "LONG entry"),
        ("glyph short", "SHORT entry"),
        ("glyph win", "exit, profit"),
        ("glyph loss", "exit, loss"),
    )
    panels = [
        _tdi_panel(position, name, tdi.get(name), trades, clusters.get(name, {}))
        for position, name in enumerate(names, start=1)
    ]
    if not panels:
        panels.append('<p class="note">No cluster to chart.</p>')
    return (
        section_open("tdi", "TDI per cluster", "Hover a marker for the basket.")
        + chart_legend + "".join(panels) + "</section>"
    )
