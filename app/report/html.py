"""The backtest report: one self-contained HTML page a trader judges the engine by.

``write_report`` turns a run's results (the metrics of :mod:`engine.metrics`, the baskets, the
daily equity, each cluster's TDI, the parameters and the data ranges) into ``report.html``:
headline figures, every metric with its definition, equity and drawdown, monthly returns,
exit codes, per-cluster figures and TDI charts, the trades and the run's settings.

Honesty rules the page follows:

- every metric is shown with its ``*_basis`` definition; an undefined value (``null`` in the
  metrics) is shown as "n/a" next to the reason from the section's ``notes``, never as 0;
- a run that did not finish (``complete=False``) says so in the page title, in a banner at
  the top, in the header's status and in the navigation bar that stays on screen while the
  trader scrolls; the notes given explain why. A complete report whose metrics lack a section
  is refused (:class:`ReportInputError`): it would be a partial report that looks finished;
- cross-checks between the inputs (basket counts, net P&L, symbols without data, baskets
  outside the equity period) are shown in a box near the top rather than silently ignored;
- the file is written to a temporary name and renamed into place, so a crash while writing
  never leaves a truncated page under the report's name.

The page is self-contained: inline CSS, inline SVG charts (:mod:`storage.report_svg`) and a
few lines of inline script to sort the trades table; no fonts, images or links to other
files. Every piece of text that comes from the inputs is escaped.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from app.report import svg as report_svg
from engine.errors import DataError, UserError
from engine.model import ExitCode

#: Columns of the ``trades`` table, one row per basket.
TRADE_COLUMNS: tuple[str, ...] = (
    "basket_id",
    "cluster",
    "direction",
    "entry_time",
    "exit_time",
    "entry_tdi",
    "exit_tdi",
    "exit_code",
    "pnl",
    "costs",
)

#: Metric sections a complete report must have (``PerformanceReport.to_dict`` keys).
METRIC_SECTIONS: tuple[str, ...] = (
    "returns",
    "significance",
    "baskets",
    "clusters",
    "diversification",
)

#: TDI stop used for the chart band when the parameters do not give one (DESIGN section 4).
DEFAULT_TDI_STOP = 2.5

EXIT_RULES: dict[str, str] = {
    "MR": "mean reversion: |TDI| back below X",
    "OS": "overshoot: TDI through the band to the other side",
    "TP": "take profit: basket P&L reached its target",
    "HS": "hard stop: basket loss reached its risk budget",
    "TS": "TDI stop: TDI beyond the stop against the position",
    "TO": "time stop: open longer than the bar limit",
    "NEWS": "flattened before a high-impact event",
    "MANUAL": "closed by the trader",
    "RISK": "closed by a portfolio or account limit",
}

_EXIT_CODES: tuple[str, ...] = tuple(code.value for code in ExitCode)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NA = "n/a"
#: A basket count or net P&L that differs by more than this between metrics and trades is
#: shown as a failed cross-check (P&L is rounded to cents in the journal).
_PNL_TOLERANCE = 0.005


class ReportInputError(DataError):
    """Results the report cannot be drawn from as given; the message names the input and key."""


class ReportWriteError(UserError):
    """The report file could not be written (a missing drive, no permission, a full disk)."""


# --------------------------------------------------------------------------- entry point


def write_report(
    path: Path,
    *,
    title: str,
    metrics: Mapping[str, Any],
    trades: pd.DataFrame,
    equity: pd.DataFrame,
    tdi: Mapping[str, pd.DataFrame],
    params: Mapping[str, Any],
    data_ranges: Mapping[str, Mapping[str, Any]],
    complete: bool = True,
    notes: Sequence[str] = (),
) -> Path:
    """Write the report page to ``path`` (parent folders created) and return the path.

    Raises :class:`ReportInputError` for inputs that cannot be reported honestly and
    :class:`ReportWriteError` when the file cannot be written; in both cases nothing is left
    at ``path``. See :func:`render_report` for the inputs.
    """
    page = render_report(
        title=title,
        metrics=metrics,
        trades=trades,
        equity=equity,
        tdi=tdi,
        params=params,
        data_ranges=data_ranges,
        complete=complete,
        notes=notes,
    )
    return _write_atomically(Path(path), page)


def render_report(
    *,
    title: str,
    metrics: Mapping[str, Any],
    trades: pd.DataFrame,
    equity: pd.DataFrame,
    tdi: Mapping[str, pd.DataFrame],
    params: Mapping[str, Any],
    data_ranges: Mapping[str, Mapping[str, Any]],
    complete: bool = True,
    notes: Sequence[str] = (),
    generated_at: datetime | None = None,
) -> str:
    """The report page as HTML text.

    - ``metrics``: ``PerformanceReport.to_dict()``; with ``complete=False`` missing sections
      are shown as missing instead of refused;
    - ``trades``: the :data:`TRADE_COLUMNS`, times tz-aware; a basket still open at the end
      has no ``exit_time`` (NaT) and no ``exit_code``;
    - ``equity``: columns ``balance`` and ``equity``, indexed by UTC date (a naive date is
      taken as UTC; a time of day is dropped, the value is that day's mark);
    - ``tdi``: per cluster a frame with a ``tdi`` column indexed by tz-aware bar time (NaN
      during the warm-up is drawn as a gap);
    - ``params``: the run's settings as a nested dict; ``params["clusters"]`` (name -> dict,
      or a list of dicts with ``name``) gives each cluster's ``entry`` / ``exit`` (or
      ``exit_band``) / ``tdi_stop`` (or ``stops.tdi_stop``) bands;
    - ``data_ranges``: per symbol ``first``, ``last``, ``rows``, ``source``;
    - ``generated_at``: the time printed in the header (default: now, UTC).
    """
    for name, value in (("params", params), ("data_ranges", data_ranges)):
        if not isinstance(value, Mapping):
            raise ReportInputError(f"{name} must be a mapping, got {type(value).__name__}")
    checked_metrics = _checked_metrics(metrics, complete)
    checked_trades = checked_trades_frame(trades)
    checked_equity = _checked_equity(equity)
    checked_tdi = _checked_tdi(tdi)
    start_capital = _start_capital(checked_metrics, checked_equity)
    clusters = _cluster_settings(params)
    names = _cluster_names(clusters, checked_tdi, checked_trades, checked_metrics)
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    shown_title = title if complete else f"INCOMPLETE: {title}"

    body = [
        _nav(complete),
        '<main>',
        _header(shown_title, params, data_ranges, checked_equity, names, complete, stamp),
        _incomplete_banner(notes, checked_equity) if not complete else _run_notes(notes),
        _checks(checked_metrics, checked_trades, checked_equity, data_ranges),
        _summary_section(checked_metrics),
        _metrics_section(checked_metrics),
        _equity_section(checked_equity, start_capital, checked_metrics),
        _monthly_section(checked_equity, start_capital),
        _exits_section(checked_trades, checked_metrics),
        _tdi_section(names, checked_tdi, checked_trades, clusters),
        _trades_section(checked_trades),
        _params_section(params, clusters, data_ranges),
        _footer(complete, stamp),
        "</main>",
        f"<script>{_SORT_SCRIPT}</script>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(shown_title)}</title><style>{_CSS}</style></head>"
        f'<body class="{"complete" if complete else "incomplete"}">'
        + "\n".join(part for part in body if part)
        + "</body></html>\n"
    )


def _write_atomically(path: Path, page: str) -> Path:
    """Write under a temporary name in the same folder, then rename over ``path``."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        reason = exc.strerror or str(exc)
        raise ReportWriteError(f"cannot write the report to {path}: {reason}") from exc
    return path


# --------------------------------------------------------------------------- inputs


def checked_trades_frame(trades: pd.DataFrame) -> pd.DataFrame:
    """The trades with UTC times, float numbers and upper-case codes, in entry order.

    Refuses (naming the basket) what would draw a wrong chart: a missing column, a naive or
    missing entry time, an exit before its entry, an unknown direction or exit code, a closed
    basket without a finite P&L.
    """
    if not isinstance(trades, pd.DataFrame):
        raise ReportInputError(f"trades must be a pandas DataFrame, got {type(trades).__name__}")
    missing = [column for column in TRADE_COLUMNS if column not in trades.columns]
    if missing:
        raise ReportInputError(f"trades lack column(s) {', '.join(missing)}")
    frame = trades.loc[:, list(TRADE_COLUMNS)].copy().reset_index(drop=True)
    frame["basket_id"] = frame["basket_id"].map(_plain_text)
    frame["cluster"] = frame["cluster"].map(_plain_text)
    frame["entry_time"] = _utc_times(frame["entry_time"], "trades.entry_time")
    frame["exit_time"] = _utc_times(frame["exit_time"], "trades.exit_time")
    for column in ("entry_tdi", "exit_tdi", "pnl", "costs"):
        try:
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ReportInputError(f"trades.{column} must be numbers: {exc}") from exc
    frame["direction"] = frame["direction"].map(lambda v: _plain_text(v).upper())
    frame["exit_code"] = frame["exit_code"].map(lambda v: _plain_text(v).upper())
    for row in frame.itertuples(index=False):
        _check_trade_row(row)
    return frame.sort_values("entry_time", kind="stable").reset_index(drop=True)


def _check_trade_row(row: Any) -> None:
    basket = f"trades: basket {row.basket_id or '(no id)'}"
    if not row.cluster:
        raise ReportInputError(f"{basket} has no cluster")
    if row.direction not in ("LONG", "SHORT"):
        raise ReportInputError(f"{basket}: direction {row.direction!r} is not LONG or SHORT")
    if pd.isna(row.entry_time):
        raise ReportInputError(f"{basket} has no entry_time")
    if pd.isna(row.exit_time):
        if row.exit_code:
            raise ReportInputError(
                f"{basket} has exit code {row.exit_code} but no exit_time"
            )
        return
    if row.exit_time < row.entry_time:
        raise ReportInputError(
            f"{basket} exits at {row.exit_time.isoformat()}, before its entry at "
            f"{row.entry_time.isoformat()}"
        )
    if row.exit_code not in _EXIT_CODES:
        raise ReportInputError(
            f"{basket}: exit code {row.exit_code!r} is not one of {', '.join(_EXIT_CODES)}"
        )
    for column in ("pnl", "costs"):
        if not math.isfinite(getattr(row, column)):
            raise ReportInputError(f"{basket} is closed but its {column} is not a number")


def _plain_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def _utc_times(values: pd.Series, what: str) -> pd.Series:
    """Tz-aware times converted to UTC; naive times are refused (their zone is unknown)."""
    try:
        stamps = pd.to_datetime(values)
    except (TypeError, ValueError) as exc:
        raise ReportInputError(f"{what} must be times: {exc}") from exc
    if stamps.dt.tz is None:
        if stamps.notna().any():
            raise ReportInputError(f"{what} has times without a time zone: give UTC-aware times")
        return stamps.dt.tz_localize("UTC")
    return stamps.dt.tz_convert("UTC")


def _checked_equity(equity: pd.DataFrame) -> pd.DataFrame:
    """Balance and equity on UTC dates, in order, every value a finite number (equity > 0)."""
    if not isinstance(equity, pd.DataFrame):
        raise ReportInputError(f"equity must be a pandas DataFrame, got {type(equity).__name__}")
    missing = [column for column in ("balance", "equity") if column not in equity.columns]
    if missing:
        raise ReportInputError(f"equity lacks column(s) {', '.join(missing)}")
    if equity.empty:
        raise ReportInputError("equity is empty: the run has no day to report")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(equity.index, utc=True))
    except (TypeError, ValueError) as exc:
        raise ReportInputError(f"equity index must be UTC dates: {exc}") from exc
    if index.hasnans:
        raise ReportInputError("equity index has a missing date (NaT)")
    days = index.normalize()
    if days.duplicated().any():
        raise ReportInputError(f"equity has two rows for {days[days.duplicated()][0].date()}")
    if not days.is_monotonic_increasing:
        position = int(np.flatnonzero(np.diff(days.asi8) < 0)[0]) + 1
        raise ReportInputError(
            f"equity dates are not in order: {days[position].date()} follows "
            f"{days[position - 1].date()}"
        )
    frame = pd.DataFrame(index=days)
    for column in ("balance", "equity"):
        try:
            values = pd.to_numeric(equity[column], errors="raise").to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ReportInputError(f"equity.{column} must be numbers: {exc}") from exc
        bad = ~np.isfinite(values)
        if column == "equity":
            bad |= values <= 0.0
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise ReportInputError(
                f"equity.{column} on {days[position].date()} is {values[position]}"
            )
        frame[column] = values
    return frame


def _checked_tdi(tdi: Mapping[str, pd.DataFrame]) -> dict[str, pd.Series]:
    if not isinstance(tdi, Mapping):
        raise ReportInputError(f"tdi must map cluster names to frames, got {type(tdi).__name__}")
    out: dict[str, pd.Series] = {}
    for name, frame in tdi.items():
        label = f"tdi[{name!r}]"
        if not isinstance(frame, pd.DataFrame) or "tdi" not in frame.columns:
            raise ReportInputError(f"{label} must be a DataFrame with a 'tdi' column")
        try:
            index = pd.DatetimeIndex(frame.index)
        except (TypeError, ValueError) as exc:
            raise ReportInputError(f"{label} index must be bar times: {exc}") from exc
        if len(index) and index.tz is None:
            raise ReportInputError(f"{label} bar times have no time zone: give UTC-aware times")
        index = index.tz_convert("UTC") if index.tz is not None else index.tz_localize("UTC")
        if index.hasnans or not index.is_monotonic_increasing or index.has_duplicates:
            raise ReportInputError(f"{label} bar times must be unique and in order")
        try:
            values = pd.to_numeric(frame["tdi"], errors="raise").to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ReportInputError(f"{label}.tdi must be numbers: {exc}") from exc
        if np.isinf(values).any():
            raise ReportInputError(f"{label}.tdi has an infinite value")
        out[str(name)] = pd.Series(values, index=index, name="tdi")
    return out


def _checked_metrics(metrics: Mapping[str, Any], complete: bool) -> Mapping[str, Any]:
    if not isinstance(metrics, Mapping):
        raise ReportInputError(f"metrics must be a mapping, got {type(metrics).__name__}")
    if complete:
        missing = [name for name in METRIC_SECTIONS if not isinstance(metrics.get(name), Mapping)]
        if missing:
            raise ReportInputError(
                f"metrics lack section(s) {', '.join(missing)}: a complete report needs every "
                "section (pass complete=False for a run that stopped early)"
            )
    return metrics


def _start_capital(metrics: Mapping[str, Any], equity: pd.DataFrame) -> float:
    """E_0 from the metrics, else the first daily mark (then the first month starts there)."""
    value = _section(metrics, "returns").get("start_capital")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and math.isfinite(value) and value > 0:
        return float(value)
    return float(equity["equity"].iloc[0])


def _section(metrics: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = metrics.get(name)
    return section if isinstance(section, Mapping) else {}


def _cluster_settings(params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each cluster's settings flattened to dotted keys (``stops.tdi_stop``)."""
    raw = params.get("clusters")
    items: Iterable[tuple[Any, Any]]
    if isinstance(raw, Mapping):
        items = raw.items()
    elif isinstance(raw, list | tuple):
        items = ((c.get("name"), c) for c in raw if isinstance(c, Mapping) and c.get("name"))
    else:
        items = ()
    out: dict[str, dict[str, Any]] = {}
    for name, settings in items:
        if isinstance(settings, Mapping):
            flat = _flatten(settings)
            flat.pop("name", None)
            out[str(name)] = flat
    return out


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _cluster_names(
    clusters: Mapping[str, Any],
    tdi: Mapping[str, pd.Series],
    trades: pd.DataFrame,
    metrics: Mapping[str, Any],
) -> list[str]:
    by_cluster = _section(_section(metrics, "clusters"), "by_cluster")
    seen: dict[str, None] = {}
    for group in (clusters, tdi, trades["cluster"].tolist(), by_cluster):
        for name in group:
            seen.setdefault(str(name), None)
    return list(seen)


def _bands(settings: Mapping[str, Any]) -> report_svg.Bands:
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


# --------------------------------------------------------------------------- computations


def monthly_returns(equity: pd.Series, start_capital: float) -> pd.DataFrame:
    """Calendar-month returns: month-end equity / previous month-end equity - 1.

    The first month is measured against ``start_capital``; a month without a mark is NaN and
    the next month is measured against the last month-end before it. Rows are years,
    columns 1..12 and ``"year"`` (year-end equity / previous year-end equity - 1).
    """
    marks = pd.Series(np.asarray(equity, dtype=np.float64), index=pd.DatetimeIndex(equity.index))
    if marks.empty:
        return pd.DataFrame(columns=[*range(1, 13), "year"], dtype=np.float64)
    month_end = marks.groupby([marks.index.year, marks.index.month]).last()
    previous = np.concatenate(([start_capital], month_end.to_numpy()[:-1]))
    by_month = month_end.to_numpy() / previous - 1.0
    year_end = marks.groupby(marks.index.year).last()
    previous_year = np.concatenate(([start_capital], year_end.to_numpy()[:-1]))
    table = pd.DataFrame(
        np.nan, index=pd.Index(year_end.index, name="year"), columns=[*range(1, 13), "year"]
    )
    for (year, month), value in zip(month_end.index, by_month, strict=True):
        table.loc[year, month] = value
    table["year"] = year_end.to_numpy() / previous_year - 1.0
    return table


# --------------------------------------------------------------------------- formatting


_PERCENT_SIGNED = {"total_return", "cagr", "return_contribution"}
_PERCENT_FINE_SIGNED = {"mean_daily_return"}
_PERCENT = {"annualised_volatility", "max_drawdown", "win_rate", "exposure"}
_PERCENT_FINE = {"daily_volatility"}
_MONEY = {"start_capital", "final_equity", "gross_profit", "gross_loss"}
_MONEY_SIGNED = {"net_pnl", "average_pnl", "total_costs", "pnl"}
_PROBABILITY = {"psr", "dsr", "z_p_value"}
_RATIO = {"sharpe", "sortino", "calmar", "profit_factor", "z_score", "diversification_ratio"}
_RATIO_FINE = {"skewness", "kurtosis", "max_abs_correlation"}
_SIGNIFICANT = {
    "sharpe_per_period",
    "psr_benchmark_per_period",
    "expected_max_sharpe",
    "trials_sharpe_variance",
}

_LABELS: dict[str, str] = {
    "cagr": "CAGR",
    "psr": "PSR (probabilistic Sharpe)",
    "dsr": "DSR (deflated Sharpe)",
    "z_score": "z-score of mean return",
    "z_p_value": "z-test p-value",
    "sharpe_per_period": "Sharpe per day",
    "psr_benchmark_per_period": "PSR benchmark SR* per day",
    "expected_max_sharpe": "Expected max Sharpe SR0 per day",
    "trials_sharpe_variance": "Trials' Sharpe variance V",
    "trials": "Trials N",
    "observations": "Observations T",
    "max_abs_correlation": "Largest |correlation|",
    "max_abs_correlation_pair": "Most correlated pair",
    "average_holding_hours": "Average holding time",
    "pnl": "P&L",
    "net_pnl": "Net P&L",
    "average_pnl": "Average P&L",
    "start_capital": "Start capital E0",
    "final_equity": "Final equity ET",
    "exits_by_code": "Exits by code",
    "max_drawdown_peak_date": "Max drawdown: peak date",
    "max_drawdown_trough_date": "Max drawdown: trough date",
    "max_drawdown_recovery_date": "Max drawdown: recovery date",
    "max_drawdown_decline_days": "Max drawdown: decline days",
    "max_drawdown_duration_days": "Max drawdown: duration days",
    "max_drawdown_recovered": "Max drawdown: recovered",
    "open_baskets": "Open baskets at end",
    "psr_benchmark_sharpe": "PSR benchmark Sharpe (annualised)",
    "risk_free_rate": "Risk-free rate (annual)",
    "sortino_target": "Sortino target (annual)",
}


def label_of(key: str) -> str:
    """The reader's name of a metric key (``max_drawdown`` -> "Max drawdown")."""
    return _LABELS.get(key) or key.replace("_", " ").capitalize()


def _signed_css(value: float) -> str:
    if value > 0:
        return "pos"
    if value < 0:
        return "neg"
    return ""


def format_metric(key: str, value: Any) -> tuple[str, str]:
    """(text, css class) of one metric value; ``None`` gives "n/a"."""
    if value is None:
        return _NA, "na"
    if isinstance(value, bool):
        return ("yes" if value else "no"), ""
    if isinstance(value, Mapping):
        return _format_by_code(key, value), "text"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value), "text"
    if isinstance(value, str):
        return value, ""
    if isinstance(value, int) and key not in _MONEY | _MONEY_SIGNED:
        return f"{value:,d}", ""
    number = float(value)
    return _format_number(key, number), (
        _signed_css(number) if key in _PERCENT_SIGNED | _PERCENT_FINE_SIGNED | _MONEY_SIGNED
        or key in {"sharpe", "sortino", "calmar", "z_score"} else ""
    )


def _format_number(key: str, number: float) -> str:
    if key in _PERCENT_SIGNED:
        return f"{number * 100:+,.2f}%"
    if key in _PERCENT_FINE_SIGNED:
        return f"{number * 100:+,.3f}%"
    if key in _PERCENT:
        return f"{number * 100:,.2f}%"
    if key in _PERCENT_FINE:
        return f"{number * 100:,.3f}%"
    if key in _MONEY:
        return f"{number:,.2f}"
    if key in _MONEY_SIGNED:
        return f"{number:+,.2f}"
    if key in _PROBABILITY:
        return f"{number:.4f}" if key == "z_p_value" else f"{number:.3f}"
    if key in _RATIO:
        return f"{number:,.2f}"
    if key in _RATIO_FINE:
        return f"{number:,.3f}"
    if key in _SIGNIFICANT:
        return f"{number:.4g}"
    if key == "average_holding_hours":
        return f"{number:,.1f} h"
    if key == "years":
        return f"{number:,.2f}"
    return f"{number:,.4g}"


def _format_by_code(key: str, values: Mapping[str, Any]) -> str:
    shown = []
    for code, value in values.items():
        if value is None:
            continue
        if key == "exit_shares":
            if value:
                shown.append(f"{code}\u00a0{float(value):.0%}")
        elif isinstance(value, int | float) and value:
            number = f"{value:,}" if isinstance(value, int) else f"{value:.3g}"
            shown.append(f"{code}\u00a0{number}")
    if not shown:
        return "none" if any(v is not None for v in values.values()) else _NA
    return " · ".join(shown)


def _money(value: float, signed: bool = False) -> str:
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?")


def _time_text(value: Any) -> str:
    """A UTC time as "YYYY-MM-DD HH:MM" (date only at midnight); other values as given.

    ISO 8601 strings (as JSON-ready parameters carry times) are read as times too.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str) and _ISO_TIME.fullmatch(value.strip()):
        try:
            value = pd.Timestamp(value.strip())
        except ValueError:
            return value
    if isinstance(value, datetime | pd.Timestamp):
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return ""
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC")
        if stamp == stamp.normalize():
            return stamp.strftime("%Y-%m-%d")
        return stamp.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _title(text: str) -> str:
    """A ``title`` attribute (a tooltip) when there is something to say."""
    return f' title="{_attr(text)}"' if text else ""


def _tdi_text(value: float) -> str:
    return f"{value:+.2f}" if math.isfinite(value) else "n/a"


# --------------------------------------------------------------------------- page parts


_SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("metrics", "Metrics"),
    ("equity", "Equity"),
    ("monthly", "Monthly"),
    ("exits", "Exits & clusters"),
    ("tdi", "TDI"),
    ("trades", "Trades"),
    ("params", "Parameters"),
)


def _nav(complete: bool) -> str:
    links = "".join(f'<a href="#{key}">{escape(name)}</a>' for key, name in _SECTIONS)
    status = (
        '<span class="chip ok">Complete</span>'
        if complete
        else '<span class="chip bad">INCOMPLETE: partial results</span>'
    )
    return f'<nav class="top"><div class="inner">{status}{links}</div></nav>'


def _period_text(params: Mapping[str, Any], equity: pd.DataFrame) -> str:
    """The requested period and, when they differ, the days the equity marks cover."""
    first, last = equity.index[0].date(), equity.index[-1].date()
    marks = f"{first} to {last}"
    count = f"({len(equity):,} daily mark{'' if len(equity) == 1 else 's'})"
    period = params.get("period") if isinstance(params, Mapping) else None
    if isinstance(period, Mapping):
        start = period.get("start", period.get("from", period.get("first")))
        end = period.get("end", period.get("to", period.get("last")))
        requested = f"{_time_text(start)} to {_time_text(end)}"
    elif isinstance(period, list | tuple) and len(period) == 2:
        requested = f"{_time_text(period[0])} to {_time_text(period[1])}"
    elif period:
        requested = _time_text(period)
    else:
        return f"{marks} {count}"
    if requested == marks:
        return f"{marks} {count}"
    return f"{requested}; equity marks {marks} {count}"


def _data_source_text(params: Mapping[str, Any], data_ranges: Mapping[str, Any]) -> str:
    for key in ("data_source", "source"):
        value = params.get(key)
        if value and not isinstance(value, Mapping):
            return str(value)
    data = params.get("data")
    if isinstance(data, Mapping) and data.get("source"):
        return str(data["source"])
    sources = sorted(
        {str(r.get("source")) for r in data_ranges.values() if isinstance(r, Mapping)}
        - {"None", ""}
    )
    return ", ".join(sources) if sources else "not given"


def _header(
    title: str,
    params: Mapping[str, Any],
    data_ranges: Mapping[str, Any],
    equity: pd.DataFrame,
    names: Sequence[str],
    complete: bool,
    generated: datetime,
) -> str:
    rows: list[tuple[str, str, str]] = [
        ("Period", _period_text(params, equity), ""),
        ("Clusters", f"{len(names)}: {', '.join(names)}" if names else "none", ""),
        ("Data source", _data_source_text(params, data_ranges), ""),
    ]
    for key, name in (("tick_mode", "Tick mode"), ("seed", "Seed"), ("config_hash", "Config")):
        if isinstance(params, Mapping) and params.get(key) not in (None, ""):
            rows.append((name, str(params[key]), ""))
    rows.append(
        ("Status", "Complete" if complete else "INCOMPLETE: stopped before the end of its period",
         "pos" if complete else "neg strong")
    )
    rows.append(("Generated", generated.strftime("%Y-%m-%d %H:%M:%S UTC"), ""))
    items = "".join(
        f'<div><dt>{escape(name)}</dt><dd class="{css}">{escape(value)}</dd></div>'
        for name, value, css in rows
    )
    return (
        f'<header id="top"><p class="kicker">Backtest report</p><h1>{escape(title)}</h1>'
        f'<dl class="meta">{items}</dl></header>'
    )


def _notes_list(notes: Sequence[str]) -> str:
    items = "".join(f"<li>{escape(str(note))}</li>" for note in notes if str(note).strip())
    return f"<ul>{items}</ul>" if items else ""


def _incomplete_banner(notes: Sequence[str], equity: pd.DataFrame) -> str:
    last = equity.index[-1].date()
    reasons = _notes_list(notes) or "<p>No reason was recorded.</p>"
    return (
        '<div class="banner" role="alert"><p><strong>INCOMPLETE:</strong> this run stopped '
        f"before the end of its period. Every figure below covers only the part that ran (up "
        f"to {last}); it is not the result of the run as configured.</p>{reasons}</div>"
    )


def _run_notes(notes: Sequence[str]) -> str:
    listed = _notes_list(notes)
    return f'<div class="note-box"><h3>Run notes</h3>{listed}</div>' if listed else ""


def _checks(
    metrics: Mapping[str, Any],
    trades: pd.DataFrame,
    equity: pd.DataFrame,
    data_ranges: Mapping[str, Any],
) -> str:
    """Cross-checks of the inputs against each other; failures are listed, never hidden,
    and a pass names only the checks that could be made."""
    problems: list[str] = []
    passed: list[str] = []
    closed = trades[trades["exit_time"].notna()]
    baskets = _section(metrics, "baskets")
    counted = baskets.get("baskets")
    if isinstance(counted, int):
        if counted != len(closed):
            problems.append(
                f"the metrics count {counted:,} closed baskets but the trades table has "
                f"{len(closed):,}"
            )
        passed.append("the closed-basket count")
    net = baskets.get("net_pnl")
    if isinstance(net, int | float):
        summed = float(closed["pnl"].sum())
        if abs(net - summed) > _PNL_TOLERANCE:
            problems.append(
                f"the metrics' net P&L is {_money(net, True)} but the trades sum to "
                f"{_money(summed, True)}"
            )
        passed.append("the net P&L")
    start = equity.index[0]
    end = equity.index[-1] + pd.Timedelta(days=1)
    outside = closed[(closed["exit_time"] < start) | (closed["exit_time"] >= end)]
    if len(outside):
        problems.append(
            f"{len(outside):,} basket(s) closed outside the equity period {start.date()} to "
            f"{equity.index[-1].date()} (first: {outside['basket_id'].iloc[0] or '(no id)'})"
        )
    for symbol, info in data_ranges.items():
        if isinstance(info, Mapping) and info.get("rows") == 0:
            problems.append(f"symbol {symbol} has no data in the period (0 rows)")
    if problems:
        return (
            '<div class="checks bad"><h3>Cross-checks failed</h3>'
            f"{_notes_list(problems)}</div>"
        )
    agree = f"{' and '.join(passed)} agree between the metrics and the trades; " if passed else ""
    symbols = f"no data range of the {len(data_ranges):,} listed is empty" if data_ranges else (
        "no data range was given"
    )
    return (
        f'<p class="checks ok">Cross-checks passed: {escape(agree)}every basket closed inside '
        f"the equity period; {symbols}.</p>"
    )


_GLYPHS = {"long": "&#9650;", "short": "&#9660;", "win": "&#9679;", "loss": "&#9679;"}


def _legend(*items: tuple[str, str]) -> str:
    """A chart legend: (swatch class, label); ``glyph <kind>`` draws a marker character."""
    spans = []
    for css, label in items:
        if css.startswith("glyph"):
            swatch = f'<b class="{css}">{_GLYPHS[css.split()[1]]}</b> '
        else:
            swatch = f'<i class="{css}"></i>'
        spans.append(f"<span>{swatch}{escape(label)}</span>")
    return f'<div class="legend">{"".join(spans)}</div>'


def _section_open(key: str, title: str, lead: str = "") -> str:
    intro = f'<p class="lead">{lead}</p>' if lead else ""
    return f'<section id="{key}"><h2>{escape(title)}</h2>{intro}'


# --- summary and metrics ----------------------------------------------------------------

_HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("returns", "total_return", "Total return"),
    ("returns", "cagr", "CAGR"),
    ("returns", "sharpe", "Sharpe"),
    ("returns", "sortino", "Sortino"),
    ("returns", "max_drawdown", "Max drawdown"),
    ("returns", "calmar", "Calmar"),
    ("baskets", "profit_factor", "Profit factor"),
    ("baskets", "win_rate", "Win rate"),
    ("baskets", "baskets", "Baskets"),
    ("significance", "dsr", "DSR"),
)


def _headline_context(metrics: Mapping[str, Any], key: str) -> str:
    returns, baskets = _section(metrics, "returns"), _section(metrics, "baskets")
    significance = _section(metrics, "significance")
    if key == "total_return" and returns.get("final_equity") is not None:
        start = returns.get("start_capital")
        start_text = _money(start) if isinstance(start, int | float) else _NA
        return f"{start_text} to {_money(returns['final_equity'])}"
    if key == "max_drawdown" and returns.get("max_drawdown_trough_date"):
        return (
            f"peak {returns.get('max_drawdown_peak_date')}, trough "
            f"{returns.get('max_drawdown_trough_date')}"
        )
    if key == "baskets":
        return (
            f"{baskets.get('wins', 0):,} won, {baskets.get('losses', 0):,} lost, "
            f"{baskets.get('open_baskets', 0):,} open"
        )
    if key == "dsr" and significance.get("trials") is not None:
        psr, _ = format_metric("psr", significance.get("psr"))
        return f"N = {significance['trials']} trial(s); PSR {psr}"
    if key in ("sharpe", "sortino"):
        return "annualised, daily returns"
    if key == "profit_factor" and baskets.get("gross_profit") is not None:
        gross_loss = baskets.get("gross_loss")
        loss_text = _money(gross_loss) if isinstance(gross_loss, int | float) else _NA
        return f"gross profit {_money(baskets['gross_profit'])} / loss {loss_text}"
    if key == "calmar":
        return "CAGR / max drawdown"
    if key == "win_rate" and isinstance(baskets.get("average_pnl"), int | float):
        return f"average P&L {_money(baskets['average_pnl'], True)}"
    return ""


def _summary_section(metrics: Mapping[str, Any]) -> str:
    cards = []
    for section_name, key, name in _HEADLINE:
        section = _section(metrics, section_name)
        value = section.get(key)
        text, css = format_metric(key, value) if key in section else ("missing", "na")
        basis = str(section.get(f"{key}_basis", ""))
        note = _notes_of(section).get(key, "")
        if key not in section:
            note = f"the metrics have no {section_name}.{key}"
        context = note or _headline_context(metrics, key)
        context_css = "note" if note else "context"
        cards.append(
            f'<div class="card" data-metric="{_attr(key)}" title="{_attr(basis)}">'
            f'<div class="name">{escape(name)}</div>'
            f'<div class="value {css}">{escape(text)}</div>'
            f'<div class="{context_css}">{escape(context)}</div></div>'
        )
    return (
        _section_open("summary", "Summary", "Hover a figure for its definition; every figure "
                      "is listed with its definition under Metrics.")
        + f'<div class="cards">{"".join(cards)}</div></section>'
    )


def _notes_of(section: Mapping[str, Any]) -> dict[str, str]:
    notes = section.get("notes")
    return {str(k): str(v) for k, v in notes.items()} if isinstance(notes, Mapping) else {}


def _metric_keys(section: Mapping[str, Any]) -> list[str]:
    return [k for k in section if k != "notes" and not str(k).endswith("_basis")]


def _metric_rows(section: Mapping[str, Any], skip: Iterable[str] = ()) -> str:
    notes = _notes_of(section)
    skipped = set(skip)
    rows = []
    for key in _metric_keys(section):
        if key in skipped:
            continue
        text, css = format_metric(key, section[key])
        basis = str(section.get(f"{key}_basis", ""))
        note = notes.get(key, "")
        note_html = f'<div class="note">{escape(note)}</div>' if note else ""
        rows.append(
            f'<tr data-metric="{_attr(key)}"><th scope="row">{escape(label_of(key))}'
            f'<code>{escape(key)}</code></th>'
            f'<td class="num {css}"{_title(note)}>{escape(text)}</td>'
            f'<td class="basis">{escape(basis)}{note_html}</td></tr>'
        )
    for key, note in notes.items():
        if key not in section and key not in skipped:
            rows.append(
                f'<tr data-metric="{_attr(key)}"><th scope="row">{escape(label_of(key))}'
                f'<code>{escape(key)}</code></th><td class="num na">{_NA}</td>'
                f'<td class="basis"><div class="note">{escape(note)}</div></td></tr>'
            )
    return "".join(rows)


def _metric_table(
    title: str, section_name: str, section: Mapping[str, Any], skip: Iterable[str] = ()
) -> str:
    """One metrics section as Metric / Value / Definition rows (``skip``: drawn elsewhere)."""
    if not section:
        return (
            f'<div class="metric-group" data-section="{section_name}"><h3>{escape(title)}</h3>'
            f'<p class="note">Not available: the metrics have no "{section_name}" section.</p>'
            "</div>"
        )
    return (
        f'<div class="metric-group" data-section="{section_name}"><h3>{escape(title)}</h3>'
        '<table class="metrics"><thead><tr><th>Metric</th><th class="num">Value</th>'
        f"<th>Definition</th></tr></thead><tbody>{_metric_rows(section, skip)}</tbody></table>"
        "</div>"
    )


def _correlation_matrix(section: Mapping[str, Any]) -> str:
    matrix = section.get("correlation")
    if not isinstance(matrix, Mapping) or not matrix:
        return ""
    names = list(matrix)
    head = "".join(f"<th>{escape(str(n))}</th>" for n in names)
    rows = []
    for row in names:
        cells = []
        values = matrix[row] if isinstance(matrix[row], Mapping) else {}
        for col in names:
            value = values.get(col)
            if value is None:
                cells.append(f'<td class="num na">{_NA}</td>')
                continue
            strength = min(abs(float(value)), 1.0)
            colour = "207,34,46" if value > 0 else "9,105,218"
            style = f"background:rgba({colour},{0.45 * strength:.2f})" if row != col else ""
            text = f"{float(value):+.2f}" if abs(float(value)) >= 0.005 else "0.00"
            cells.append(f'<td class="num" style="{style}">{text}</td>')
        rows.append(f'<tr><th scope="row">{escape(str(row))}</th>{"".join(cells)}</tr>')
    note = _notes_of(section).get("correlation", "")
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    basis = escape(str(section.get("correlation_basis", "")))
    return (
        '<h3 data-metric="correlation">Correlation of cluster daily returns</h3>'
        f'<p class="basis">{basis}</p><div class="scroll"><table class="matrix"><thead><tr>'
        f"<th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{note_html}"
    )


def _metrics_section(metrics: Mapping[str, Any]) -> str:
    diversification = _section(metrics, "diversification")
    config = _section(metrics, "config")
    config_rows = "".join(
        f'<tr data-metric="config.{_attr(str(k))}"><th scope="row">{escape(label_of(str(k)))}'
        f'<code>{escape(str(k))}</code></th><td class="num">'
        f"{escape(format_metric(str(k), v)[0] if v is not None else 'not given')}</td></tr>"
        for k, v in config.items()
    )
    config_html = (
        '<div class="metric-group" data-section="config"><h3>How the metrics were computed</h3>'
        f'<table class="metrics"><tbody>{config_rows}</tbody></table></div>'
        if config_rows
        else ""
    )
    groups = [
        _metric_table("Returns", "returns", _section(metrics, "returns")),
        _metric_table("Significance", "significance", _section(metrics, "significance")),
        _metric_table("Baskets", "baskets", _section(metrics, "baskets")),
        _metric_table(
            "Diversification", "diversification", diversification, skip=("correlation",),
        ),
        config_html,
    ]
    return (
        _section_open(
            "metrics", "Metrics",
            "Every figure of the run with its definition. n/a marks a figure that is undefined "
            "for this run, with the reason. Per-cluster figures are under Exits &amp; clusters.",
        )
        + f'<div class="metric-grid">{"".join(groups)}</div>'
        + _correlation_matrix(diversification)
        + "</section>"
    )


# --- equity and monthly ---------------------------------------------------------------------


def _drawdown_window(
    metrics: Mapping[str, Any], equity: pd.DataFrame
) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    returns = _section(metrics, "returns")
    peak = returns.get("max_drawdown_peak_date")
    if not peak or not returns.get("max_drawdown_trough_date"):
        return None
    end = returns.get("max_drawdown_recovery_date") or equity.index[-1].date().isoformat()
    try:
        return pd.Timestamp(peak, tz="UTC"), pd.Timestamp(end, tz="UTC")
    except (TypeError, ValueError):
        return None


def _equity_section(
    equity: pd.DataFrame, start_capital: float, metrics: Mapping[str, Any]
) -> str:
    chart = report_svg.equity_chart(
        pd.DatetimeIndex(equity.index),
        equity["equity"].to_numpy(),
        equity["balance"].to_numpy(),
        start_capital,
        _drawdown_window(metrics, equity),
    )
    final_equity = float(equity["equity"].iloc[-1])
    final_balance = float(equity["balance"].iloc[-1])
    open_pnl = _money(final_equity - final_balance, True)
    facts = (
        f"Start capital {_money(start_capital)}; last mark: equity {_money(final_equity)}, "
        f"balance {_money(final_balance)} (open P&amp;L {open_pnl})."
    )
    legend = _legend(
        ("sw equity", "Equity (mark-to-market, end of each UTC day)"),
        ("sw balance", "Balance (realised)"),
        ("sw capital", "Start capital"),
        ("sw dd", "Drawdown: equity / running peak - 1, the start capital counting as a peak"),
        ("sw shade", "Maximum drawdown, peak to recovery (or the last day)"),
    )
    return (
        _section_open("equity", "Equity and drawdown", facts)
        + legend + f'<figure class="wide">{chart}</figure></section>'
    )


def _month_cell(value: float, scale: float, key: str, partial: str) -> str:
    if not math.isfinite(value):
        return f'<td class="num empty" data-month="{key}"></td>'
    strength = min(abs(value) / scale, 1.0) if scale > 0 else 0.0
    colour = "26,127,55" if value > 0 else "207,34,46"
    style = f"background:rgba({colour},{0.08 + 0.42 * strength:.2f})" if value else ""
    mark = '<sup title="partial month">*</sup>' if partial else ""
    return (
        f'<td class="num" data-month="{key}" style="{style}"{_title(partial)}>'
        f"{value * 100:+.2f}%{mark}</td>"
    )


def _partial_months(days: pd.DatetimeIndex) -> dict[str, str]:
    """The first and last months when the marks do not cover them (3 days of slack for a
    weekend or holiday): their return is not a full month's."""
    out: dict[str, str] = {}
    first, last = days[0], days[-1]
    if first.day > 3:
        out[first.strftime("%Y-%m")] = f"partial month: from {first.date()}"
    month_end = last + pd.offsets.MonthEnd(0)
    if (month_end - last).days > 3:
        key = last.strftime("%Y-%m")
        out[key] = (out[key] + f" to {last.date()}") if key in out else (
            f"partial month: to {last.date()}"
        )
    return out


def _monthly_section(equity: pd.DataFrame, start_capital: float) -> str:
    table = monthly_returns(equity["equity"], start_capital)
    values = table[list(range(1, 13))].to_numpy(dtype=np.float64)
    finite = np.abs(values[np.isfinite(values)])
    scale = float(np.quantile(finite, 0.9)) if finite.size else 0.0
    partial = _partial_months(pd.DatetimeIndex(equity.index))
    year_scale = max(scale * 3.0, 1e-9)
    rows = []
    for year, row in table.iterrows():
        cells = [
            _month_cell(float(row[m]), scale, f"{year}-{m:02d}", partial.get(f"{year}-{m:02d}", ""))
            for m in range(1, 13)
        ]
        cells.append(_month_cell(float(row["year"]), year_scale, f"{year}", "").replace(
            'class="num"', 'class="num total"'))
        rows.append(f'<tr><th scope="row">{year}</th>{"".join(cells)}</tr>')
    head = "".join(f'<th class="num">{m}</th>' for m in _MONTHS)
    footnote = (
        '<p class="note">* partial month: the marks start or end inside it.</p>' if partial else ""
    )
    lead = (
        "Month-end equity / previous month-end equity - 1 on the daily mark-to-market equity; "
        f"the first month against the start capital ({_money(start_capital)}). Year: year-end "
        "equity / previous year-end equity - 1."
    )
    return (
        _section_open("monthly", "Monthly returns", lead)
        + f'<div class="scroll"><table class="monthly"><thead><tr><th>Year</th>{head}'
        f'<th class="num">Year</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        f"{footnote}</section>"
    )


# --- exits and clusters -------------------------------------------------------------------


def _exit_table(trades: pd.DataFrame) -> tuple[str, str]:
    closed = trades[trades["exit_time"].notna()]
    total = len(closed)
    rows, labels, counts = [], [], []
    for code in _EXIT_CODES:
        subset = closed[closed["exit_code"] == code]
        count = len(subset)
        labels.append(code)
        counts.append(count)
        share = f"{count / total:.1%}" if total else _NA
        if count:
            net = float(subset["pnl"].sum())
            average = net / count
            wins = f"{(subset['pnl'] > 0).mean():.0%}"
            money_cells = (
                f'<td class="num {_signed_css(net)}">{_money(net, True)}</td>'
                f'<td class="num {_signed_css(average)}">{_money(average, True)}</td>'
                f'<td class="num">{wins}</td>'
            )
        else:
            money_cells = '<td class="num muted">-</td>' * 3
        rows.append(
            f'<tr class="{"" if count else "zero"}" data-code="{code}"><th scope="row">{code}</th>'
            f"<td>{escape(EXIT_RULES.get(code, ''))}</td><td class=\"num\">{count:,}</td>"
            f'<td class="num">{share}</td>{money_cells}</tr>'
        )
    still_open = len(trades) - total
    if still_open:
        rows.append(
            f'<tr class="open"><th scope="row">open</th><td>still open at the end (not in the '
            f'shares)</td><td class="num">{still_open:,}</td><td class="num">-</td>'
            '<td class="num muted">-</td><td class="num muted">-</td><td class="num muted">-</td>'
            "</tr>"
        )
    table = (
        '<table class="exits"><thead><tr><th>Code</th><th>Rule</th><th class="num">Baskets</th>'
        '<th class="num">Share</th><th class="num">Net P&amp;L</th><th class="num">Avg P&amp;L'
        f'</th><th class="num">Won</th></tr></thead><tbody>{"".join(rows)}</tbody>'
        f'<tfoot><tr><th>All</th><td></td><td class="num">{total:,}</td>'
        f'<td class="num">{"100.0%" if total else _NA}</td>'
        f'<td class="num {_signed_css(float(closed["pnl"].sum()))}">'
        f'{_money(float(closed["pnl"].sum()), True)}</td><td></td><td></td></tr></tfoot></table>'
    )
    return table, report_svg.bar_chart(labels, counts, total)


def _cluster_table(metrics: Mapping[str, Any]) -> str:
    clusters = _section(metrics, "clusters")
    by_cluster = _section(clusters, "by_cluster")
    if not by_cluster:
        if clusters:
            return '<p class="note">The metrics list no cluster.</p>'
        return '<p class="note">Not available: the metrics have no "clusters" section.</p>'
    bases = _section(clusters, "basis")
    names = list(by_cluster)
    keys: dict[str, None] = dict.fromkeys(bases)
    for figures in by_cluster.values():
        if isinstance(figures, Mapping):
            keys.update(dict.fromkeys(k for k in figures if k != "notes"))
    head = "".join(f'<th class="num">{escape(str(n))}</th>' for n in names)
    rows, footnotes = [], []
    for key in keys:
        cells = []
        for name in names:
            figures = by_cluster[name] if isinstance(by_cluster[name], Mapping) else {}
            note = _notes_of(figures).get(key, "")
            text, css = format_metric(key, figures.get(key)) if key in figures else (_NA, "na")
            if note:
                footnotes.append(f"{name}, {label_of(key).lower()}: {note}")
            cells.append(f'<td class="num {css}"{_title(note)}>{escape(text)}</td>')
        basis = escape(str(bases.get(key, "")))
        rows.append(
            f'<tr data-metric="{_attr(key)}"><th scope="row">{escape(label_of(key))}'
            f'<span class="basis">{basis}</span></th>{"".join(cells)}</tr>'
        )
    notes_html = (
        f'<div class="note-list"><h4>Notes</h4>{_notes_list(footnotes)}</div>' if footnotes else ""
    )
    return (
        '<div class="scroll"><table class="clusters"><thead><tr><th>Metric</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{notes_html}"
    )


def _exits_section(trades: pd.DataFrame, metrics: Mapping[str, Any]) -> str:
    table, chart = _exit_table(trades)
    return (
        _section_open(
            "exits", "Exit codes and clusters",
            "Closed baskets by the rule that closed them (first matching rule wins).",
        )
        + f'<div class="split"><div>{table}</div><figure class="bars">{chart}</figure></div>'
        + "<h3>Per-cluster figures</h3>"
        + '<p class="lead">Each cluster\'s baskets and its daily returns on the unified capital '
        "pool; the grey line under each name is its definition.</p>"
        + _cluster_table(metrics)
        + "</section>"
    )


# --- TDI charts -----------------------------------------------------------------------------


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
        entry_y = _value_at(series, entry, row.entry_tdi)
        exit_x = exit_y = None
        exit_label = ""
        if pd.notna(row.exit_time):
            exit_x = _bar_position(times, row.exit_time, step)
            if exit_x is not None:
                exit_y = _value_at(series, exit_x, row.exit_tdi)
            exit_label = (
                f"{row.basket_id} exit {row.exit_code} {_time_text(row.exit_time)} UTC, "
                f"TDI {_tdi_text(row.exit_tdi)}, P&L {_money(row.pnl, True)}"
            )
        marks.append(
            report_svg.TradeMark(
                entry_x=entry,
                entry_y=entry_y,
                exit_x=exit_x,
                exit_y=exit_y,
                long=row.direction == "LONG",
                pnl=float(row.pnl) if math.isfinite(row.pnl) else 0.0,
                entry_label=(
                    f"{row.basket_id} {row.direction} entry {_time_text(row.entry_time)} UTC, "
                    f"TDI {_tdi_text(row.entry_tdi)}"
                ),
                exit_label=exit_label,
            )
        )
    return marks, skipped


def _cluster_summary(trades: pd.DataFrame) -> str:
    closed = trades[trades["exit_time"].notna()]
    longs = int((trades["direction"] == "LONG").sum())
    net = float(closed["pnl"].sum())
    return (
        f"{len(trades):,} basket(s): {longs:,} long, {len(trades) - longs:,} short; "
        f'net P&amp;L <span class="{_signed_css(net)}">{_money(net, True)}</span>'
    )


def _tdi_section(
    names: Sequence[str],
    tdi: Mapping[str, pd.Series],
    trades: pd.DataFrame,
    clusters: Mapping[str, Mapping[str, Any]],
) -> str:
    legend = _legend(
        ("sw tdi", "TDI"),
        ("sw entry", "\u00b1E entry band"),
        ("sw exitband", "\u00b1X exit band"),
        ("sw stop", "\u00b1TDI stop"),
        ("glyph long", "LONG entry"),
        ("glyph short", "SHORT entry"),
        ("glyph win", "exit, profit"),
        ("glyph loss", "exit, loss"),
    )
    panels = []
    for position, name in enumerate(names, start=1):
        settings = clusters.get(name, {})
        bands = _bands(settings)
        own = trades[trades["cluster"] == name]
        symbols = settings.get("symbols")
        symbols_text = (
            ", ".join(str(s) for s in symbols) if isinstance(symbols, list | tuple) else ""
        )
        band_text = (
            f"E {bands.entry:g}" if bands.entry is not None else "E not given"
        ) + (f", X {bands.exit:g}" if bands.exit is not None else ", X not given") + (
            f", stop {bands.stop:g}"
        )
        facts = " · ".join(
            part for part in (escape(symbols_text), escape(band_text), _cluster_summary(own))
            if part
        )
        series = tdi.get(name)
        if series is None or series.empty:
            body = '<p class="note">No TDI series was given for this cluster.</p>'
        else:
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
                f"{len(series):,} bars, {_time_text(series.index[0])} to "
                f"{_time_text(series.index[-1])} UTC; x axis: bar number (weekends skipped)."
            )
            warning = f' <span class="note">{escape(" ".join(extra))}</span>' if extra else ""
            body = (
                f'<figure class="wide">{chart}</figure>'
                f'<p class="caption">{escape(span)}{warning}</p>'
            )
        panels.append(
            f'<div class="tdi-panel" id="tdi-{position}"><h3>{escape(name)}</h3>'
            f'<p class="facts">{facts}</p>{body}</div>'
        )
    if not panels:
        panels.append('<p class="note">No cluster to chart.</p>')
    return (
        _section_open("tdi", "TDI per cluster", "Hover a marker for the basket.")
        + legend + "".join(panels) + "</section>"
    )


# --- trades and parameters -------------------------------------------------------------------


def _trade_row(number: int, row: Any) -> str:
    entry = row.entry_time
    is_open = pd.isna(row.exit_time)
    hours = (
        (row.exit_time - entry).total_seconds() / 3600.0 if not is_open else float("nan")
    )

    def number_cell(value: float, text: str, css: str = "") -> str:
        sort_key = f"{value:.10g}" if math.isfinite(value) else ""
        return f'<td class="num {css}" data-v="{sort_key}">{escape(text)}</td>'

    def tdi_text(value: float) -> str:
        return f"{value:+.2f}" if math.isfinite(value) else ""

    pnl_text = _money(row.pnl, True) if math.isfinite(row.pnl) else ("open" if is_open else "")
    costs_text = _money(row.costs, True) if math.isfinite(row.costs) else ""
    return (
        f'<tr class="{"open" if is_open else ""}">'
        + number_cell(number, str(number))
        + f"<td>{escape(row.basket_id)}</td><td>{escape(row.cluster)}</td>"
        + f'<td class="{row.direction.lower()}">{escape(row.direction)}</td>'
        + f'<td data-v="{entry.value}">{escape(_time_text(entry))}</td>'
        + (
            '<td data-v="">open</td>'
            if is_open
            else f'<td data-v="{row.exit_time.value}">{escape(_time_text(row.exit_time))}</td>'
        )
        + number_cell(hours, f"{hours:,.1f}" if math.isfinite(hours) else "")
        + number_cell(row.entry_tdi, tdi_text(row.entry_tdi))
        + number_cell(row.exit_tdi, tdi_text(row.exit_tdi))
        + f"<td>{escape(row.exit_code)}</td>"
        + number_cell(row.pnl, pnl_text, _signed_css(row.pnl) if math.isfinite(row.pnl) else "")
        + number_cell(row.costs, costs_text)
        + "</tr>"
    )


def _trades_section(trades: pd.DataFrame) -> str:
    if trades.empty:
        return (
            _section_open("trades", "Trades")
            + '<p class="note">No basket was opened in this run.</p></section>'
        )
    rows = "".join(
        _trade_row(number, row)
        for number, row in enumerate(trades.itertuples(index=False), start=1)
    )
    closed = trades[trades["exit_time"].notna()]
    net, costs = float(closed["pnl"].sum()), float(closed["costs"].sum())
    headers = (
        ("#", True), ("Basket", False), ("Cluster", False), ("Side", False),
        ("Entry (UTC)", False), ("Exit (UTC)", False), ("Hours", True), ("Entry TDI", True),
        ("Exit TDI", True), ("Exit", False), ("P&L", True), ("Costs", True),
    )
    head = "".join(
        f'<th class="{"num" if numeric else ""}" title="click to sort">{escape(name)}</th>'
        for name, numeric in headers
    )
    foot = (
        f'<tr><th colspan="10">{len(closed):,} closed basket(s), total</th>'
        f'<td class="num {_signed_css(net)}">{_money(net, True)}</td>'
        f'<td class="num">{_money(costs, True)}</td></tr>'
    )
    return (
        _section_open(
            "trades", "Trades",
            "One row per basket; P&amp;L is net of costs in the account currency, costs are "
            "negative when paid. Click a column heading to sort.",
        )
        + f'<div class="scroll tall"><table class="trades sortable"><thead><tr>{head}</tr>'
        f"</thead><tbody>{rows}</tbody><tfoot>{foot}</tfoot></table></div></section>"
    )


def _value_text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(item) for item in value) if value else "(empty)"
    if isinstance(value, datetime | date | pd.Timestamp):
        return _time_text(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _kv_table(title: str, mapping: Mapping[str, Any]) -> str:
    rows = "".join(
        f"<tr><th scope=\"row\">{escape(key)}</th><td>{escape(_value_text(value))}</td></tr>"
        for key, value in _flatten(mapping).items()
    )
    return f'<div class="kv"><h4>{escape(title)}</h4><table><tbody>{rows}</tbody></table></div>'


def _cluster_params_table(clusters: Mapping[str, Mapping[str, Any]]) -> str:
    if not clusters:
        return ""
    keys: dict[str, None] = {}
    for settings in clusters.values():
        keys.update(dict.fromkeys(settings))
    long_text = [k for k in keys if k == "why"]
    columns = [k for k in keys if k not in long_text] + long_text
    head = "".join(f"<th>{escape(k)}</th>" for k in columns)
    rows = "".join(
        f'<tr><th scope="row">{escape(name)}</th>'
        + "".join(
            f'<td class="{"why" if k == "why" else ""}">'
            f"{escape(_value_text(settings.get(k)) if k in settings else '')}</td>"
            for k in columns
        )
        + "</tr>"
        for name, settings in clusters.items()
    )
    return (
        '<h3>Clusters</h3><div class="scroll"><table class="params"><thead><tr><th>Cluster</th>'
        f"{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _ranges_table(data_ranges: Mapping[str, Mapping[str, Any]]) -> str:
    if not data_ranges:
        return '<h3>Data ranges</h3><p class="note">No data range was given.</p>'
    extra: dict[str, None] = {}
    for info in data_ranges.values():
        if isinstance(info, Mapping):
            extra.update(dict.fromkeys(k for k in info if k not in ("first", "last", "rows",
                                                                      "source")))
    head = "".join(f"<th>{escape(str(k))}</th>" for k in extra)
    rows = []
    for symbol, info in data_ranges.items():
        info = info if isinstance(info, Mapping) else {}
        count = info.get("rows")
        empty = count == 0
        count_text = f"{count:,}" if isinstance(count, int) else "unknown"
        rows.append(
            f'<tr class="{"missing" if empty else ""}"><th scope="row">{escape(str(symbol))}</th>'
            f"<td>{escape(_time_text(info.get('first')) or 'unknown')}</td>"
            f"<td>{escape(_time_text(info.get('last')) or 'unknown')}</td>"
            f'<td class="num">{escape(count_text)}</td>'
            f"<td>{escape(_value_text(info.get('source')))}</td>"
            + "".join(f"<td>{escape(_value_text(info.get(k)))}</td>" for k in extra)
            + "</tr>"
        )
    return (
        '<h3>Data ranges</h3><div class="scroll"><table class="params"><thead><tr>'
        '<th>Symbol</th><th>First</th><th>Last</th><th class="num">Rows</th><th>Source</th>'
        f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )


def _params_section(
    params: Mapping[str, Any],
    clusters: Mapping[str, Mapping[str, Any]],
    data_ranges: Mapping[str, Mapping[str, Any]],
) -> str:
    scalars = {
        k: v for k, v in params.items() if k != "clusters" and not isinstance(v, Mapping)
    }
    tables = [_kv_table("Run", scalars)] if scalars else []
    tables += [
        _kv_table(str(k), v) for k, v in params.items() if k != "clusters" and isinstance(
            v, Mapping)
    ]
    unreadable = params.get("clusters") if not clusters else None
    if unreadable:
        tables.append(_kv_table("clusters", {"clusters": unreadable}))
    return (
        _section_open("params", "Parameters and data", "The run's settings as given.")
        + _cluster_params_table(clusters)
        + (f'<h3>Settings</h3><div class="kv-grid">{"".join(tables)}</div>' if tables else "")
        + _ranges_table(data_ranges)
        + "</section>"
    )


def _footer(complete: bool, generated: datetime) -> str:
    status = "Complete run." if complete else "INCOMPLETE run: partial results."
    return (
        f'<footer><p>{status} Generated {generated.strftime("%Y-%m-%d %H:%M:%S")} UTC. '
        "Times are UTC. Amounts are in the account currency.</p></footer>"
    )


# --------------------------------------------------------------------------- assets


_SORT_SCRIPT = """
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-v');
    if (v === null) { return cell.textContent.trim().toLowerCase(); }
    return v === '' ? -Infinity : parseFloat(v);
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('thead th').forEach(function (th, column) {
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var up = th.getAttribute('data-order') !== 'up';
        table.querySelectorAll('thead th').forEach(function (h) {
          h.removeAttribute('data-order');
        });
        th.setAttribute('data-order', up ? 'up' : 'down');
        rows.sort(function (a, b) {
          var x = key(a.cells[column]), y = key(b.cells[column]);
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
})();
"""

_CSS = """
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--soft:#f6f8fa;--pos:#1a7f37;--neg:#cf222e;
--warn:#9a6700;--blue:#0969da;--accent:#8250df}
*{box-sizing:border-box}
html{scroll-padding-top:52px}
body{margin:0;color:var(--fg);background:#fff;font:14px/1.5 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1480px;margin:0 auto;padding:8px 32px 48px}
nav.top{position:sticky;top:0;z-index:10;background:rgba(255,255,255,.96);
border-bottom:1px solid var(--line)}
nav.top .inner{max-width:1480px;margin:0 auto;padding:8px 32px;display:flex;gap:18px;
align-items:center;flex-wrap:wrap}
nav.top a{color:var(--muted);text-decoration:none;font-weight:500}
nav.top a:hover{color:var(--blue)}
.chip{padding:2px 10px;border-radius:12px;font-weight:600;font-size:13px}
.chip.ok{background:#dafbe1;color:var(--pos)}
.chip.bad{background:var(--neg);color:#fff}
body.incomplete h2::after{content:"partial results";margin-left:12px;padding:1px 8px;
border-radius:10px;background:var(--neg);color:#fff;font-size:12px;font-weight:600;
vertical-align:middle}
body.incomplete .card{border:1px dashed var(--neg)}
header h1{margin:2px 0 12px;font-size:28px;line-height:1.25}
.kicker{margin:18px 0 0;color:var(--muted);text-transform:uppercase;letter-spacing:.08em;
font-size:12px;font-weight:600}
dl.meta{display:flex;flex-wrap:wrap;gap:4px 36px;margin:0 0 14px}
dl.meta div{display:flex;gap:10px;padding:3px 0;max-width:100%}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0;font-weight:500}
.banner{border:2px solid var(--neg);background:#ffebe9;color:#82071e;padding:12px 18px;
border-radius:8px;margin:8px 0 16px;font-size:15px}
.banner p{margin:0 0 4px}
.banner ul{margin:4px 0 0;padding-left:22px}
.note-box,.checks{border:1px solid var(--line);background:var(--soft);border-radius:8px;
padding:10px 16px;margin:8px 0 16px}
.note-box h3,.checks h3{margin:0 0 4px;font-size:15px}
.note-box ul,.checks ul{margin:0;padding-left:22px}
.checks.ok{color:var(--muted);font-size:13px;border:none;background:none;padding:0}
.checks.bad{border-color:#d4a72c;background:#fff8c5;color:#4d2d00}
section{margin:34px 0 0}
h2{font-size:21px;margin:0 0 4px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:20px 0 6px}
h4{font-size:14px;margin:14px 0 4px}
.lead{color:var(--muted);margin:4px 0 12px}
.cards{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fff;
cursor:help}
.card .name{color:var(--muted);font-size:13px;font-weight:500}
.card .value{font-size:26px;font-weight:600;line-height:1.3}
.card .context{color:var(--muted);font-size:12px}
.card .note{font-size:12px}
.pos{color:var(--pos)} .neg{color:var(--neg)} .strong{font-weight:700}
.na{color:var(--warn);font-style:italic}
.muted{color:var(--muted)}
.note{color:var(--warn);font-size:12.5px}
table{border-collapse:collapse;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid var(--line);font-size:12.5px;color:var(--muted);
font-weight:600;white-space:nowrap}
.num{text-align:right;white-space:nowrap}
td.num.text{white-space:normal;min-width:170px}
.metric-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:8px 36px}
table.metrics th[scope=row]{font-weight:500;width:34%}
table.metrics th code{display:block;color:var(--muted);font-size:11px;font-weight:400}
table.metrics td.num{width:18%}
td.basis,span.basis,p.basis{color:var(--muted);font-size:12px}
span.basis{display:block;font-weight:400;max-width:420px}
table.matrix{width:auto}
table.matrix td{min-width:64px}
.scroll{overflow-x:auto}
.scroll.tall{max-height:760px;overflow-y:auto;border:1px solid #eaeef2;border-radius:6px}
.scroll.tall thead th{position:sticky;top:0;background:#fff}
figure{margin:6px 0}
figure.wide svg{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:6px 20px;font-size:12.5px;color:var(--muted);
margin:4px 0}
.legend .sw{display:inline-block;width:22px;height:0;border-top:2.5px solid;
vertical-align:middle;margin-right:6px}
.sw.equity{border-color:var(--blue)} .sw.balance{border-color:#6e7781}
.sw.capital{border-top:2px dotted #8c959f} .sw.dd{border-color:var(--neg)}
.sw.shade{height:10px;border:none;background:#fff1e5}
.sw.tdi{border-color:#424a53} .sw.entry{border-top:2px dashed #bc4c00}
.sw.exitband{border-top:2px dashed var(--pos)} .sw.stop{border-top:2px dotted var(--neg)}
.glyph{font-size:13px} .glyph.long{color:var(--blue)} .glyph.short{color:var(--accent)}
.glyph.win{color:var(--pos)} .glyph.loss{color:var(--neg)}
table.monthly{width:auto;min-width:900px}
table.monthly td{min-width:70px}
table.monthly td.total{font-weight:600;border-left:2px solid var(--line)}
table.monthly sup{color:var(--muted)}
.split{display:grid;grid-template-columns:minmax(0,1.6fr) minmax(300px,1fr);gap:24px;
align-items:start}
figure.bars svg{width:100%;max-width:460px;height:auto}
table.exits tr.zero td,table.exits tr.zero th{color:#8c959f}
table.exits tfoot th,table.exits tfoot td{border-top:2px solid var(--line);font-weight:600}
table.clusters{width:auto;min-width:60%}
table.clusters th[scope=row]{min-width:300px;font-weight:500}
table.clusters td{min-width:120px}
.note-list ul{margin:0;padding-left:22px;font-size:12.5px;color:var(--warn)}
.tdi-panel{margin-top:18px}
.tdi-panel h3{margin-bottom:0}
.tdi-panel .facts{margin:0;color:var(--muted);font-size:13px}
.caption{margin:0;color:var(--muted);font-size:12px}
table.trades{font-size:13px}
table.trades thead th{cursor:pointer}
table.trades thead th[data-order=up]::after{content:" \\25B2"}
table.trades thead th[data-order=down]::after{content:" \\25BC"}
table.trades td.long{color:var(--blue)} table.trades td.short{color:var(--accent)}
table.trades tfoot th,table.trades tfoot td{border-top:2px solid var(--line);font-weight:600;
position:sticky;bottom:0;background:#fff}
tr.open td{background:#fff8c5}
.kv-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:4px 28px}
.kv table th{font-weight:500;color:var(--muted);width:55%;font-size:13px}
.kv table td{font-size:13px}
table.params{font-size:13px}
table.params td.why{min-width:320px;color:var(--muted)}
table.params tr.missing td,table.params tr.missing th{background:#ffebe9;color:#82071e}
footer{margin-top:40px;border-top:1px solid var(--line);color:var(--muted);font-size:12.5px}
svg text{font-family:inherit}
svg .tick{font-size:12px;fill:#57606a}
svg .panel{font-size:12.5px;fill:#57606a;font-weight:600}
svg .grid{stroke:#eaeef2;stroke-width:1}
svg .tickmark{stroke:#8c959f}
svg .frame{fill:none;stroke:#d0d7de}
svg .zero{stroke:#8c959f;stroke-width:1}
svg .capital{stroke:#8c959f;stroke-width:1.2;stroke-dasharray:2 3}
svg .equity{fill:none;stroke:#0969da;stroke-width:1.8;stroke-linejoin:round}
svg .balance{fill:none;stroke:#6e7781;stroke-width:1.2}
svg .ddfill{fill:#ffebe9;stroke:none}
svg .ddline{fill:none;stroke:#cf222e;stroke-width:1.2}
svg .shade{fill:#fff1e5}
svg .tdi{fill:none;stroke:#424a53;stroke-width:1;stroke-linejoin:round}
svg .zone-exit{fill:#dafbe1;opacity:.6}
svg .band-entry{stroke:#bc4c00;stroke-dasharray:6 4;stroke-width:1.2}
svg .band-exit{stroke:#1a7f37;stroke-dasharray:6 4;stroke-width:1.2}
svg .band-stop{stroke:#cf222e;stroke-dasharray:2 3;stroke-width:1.2}
svg .band-entry-label{font-size:11.5px;fill:#bc4c00}
svg .band-exit-label{font-size:11.5px;fill:#1a7f37}
svg .band-stop-label{font-size:11.5px;fill:#cf222e}
svg .entry{stroke:#fff;stroke-width:.8}
svg .entry.long{fill:#0969da} svg .entry.short{fill:#8250df}
svg .exit{stroke:#fff;stroke-width:.8}
svg .exit.win{fill:#1a7f37} svg .exit.loss{fill:#cf222e} svg .exit.flat{fill:#8c959f}
svg .trade{stroke-width:1;stroke-dasharray:3 2;opacity:.7}
svg .trade.win{stroke:#1a7f37} svg .trade.loss{stroke:#cf222e} svg .trade.flat{stroke:#8c959f}
svg .bar{fill:#0969da} svg .bar.empty{fill:#d0d7de}
svg .barlabel{font-size:13px;fill:#1f2328;font-weight:600}
svg .barvalue{font-size:12.5px;fill:#57606a}
@media (max-width:1100px){.split{grid-template-columns:1fr} main{padding:8px 16px 40px}}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}}
@media print{nav.top{position:static} .scroll.tall{max-height:none}}
"""
