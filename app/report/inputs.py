"""Reading and checking the report's inputs: the metrics, trades, daily equity, TDI and settings.

The inputs are what ``metrics.json``, ``trades.csv`` and ``equity.csv`` hold (and the run's
TDI and parameters). They are checked before anything is drawn because a wrong input draws a
plausible but wrong chart: each refusal is a :class:`ReportInputError` that names the input,
the key and, for trades, the basket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from app.report.errors import ReportInputError
from engine.metrics.inputs import utc_dates
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

#: Columns a trades table may add: each basket's costs split (``app.backtest.legs``) and its
#: excursions while open (``app.backtest.excursions``).
OPTIONAL_TRADE_COLUMNS: tuple[str, ...] = ("commission", "swap", "spread_cost", "total_costs",
                                           "mae", "mfe")

#: Metric sections a complete report must have (``PerformanceReport.to_dict`` keys).
METRIC_SECTIONS: tuple[str, ...] = (
    "returns",
    "significance",
    "baskets",
    "clusters",
    "diversification",
)

#: Every exit code, in the engine's order (the exits table lists them in this order).
EXIT_CODES: tuple[str, ...] = tuple(code.value for code in ExitCode)


def check_mappings(**inputs: Any) -> None:
    """Refuse an input that should be a mapping (``params``, ``data_ranges``) and is not."""
    for name, value in inputs.items():
        if not isinstance(value, Mapping):
            raise ReportInputError(f"{name} must be a mapping, got {type(value).__name__}")


# --------------------------------------------------------------------------- trades


def checked_trades_frame(trades: pd.DataFrame) -> pd.DataFrame:
    """The trades with UTC times, float numbers and upper-case codes, in entry order; the
    costs split (:data:`OPTIONAL_TRADE_COLUMNS`) is kept when the trades have it.

    Refuses (naming the basket) what would draw a wrong chart: a missing column, a naive or
    missing entry time, an exit before its entry, an unknown direction or exit code, a closed
    basket without a finite P&L.
    """
    if not isinstance(trades, pd.DataFrame):
        raise ReportInputError(f"trades must be a pandas DataFrame, got {type(trades).__name__}")
    missing = [column for column in TRADE_COLUMNS if column not in trades.columns]
    if missing:
        raise ReportInputError(f"trades lack column(s) {', '.join(missing)}")
    optional = [column for column in OPTIONAL_TRADE_COLUMNS if column in trades.columns]
    frame = trades.loc[:, [*TRADE_COLUMNS, *optional]].copy().reset_index(drop=True)
    frame["basket_id"] = frame["basket_id"].map(_plain_text)
    frame["cluster"] = frame["cluster"].map(_plain_text)
    frame["entry_time"] = _utc_times(frame["entry_time"], "trades.entry_time")
    frame["exit_time"] = _utc_times(frame["exit_time"], "trades.exit_time")
    for column in ("entry_tdi", "exit_tdi", "pnl", "costs", *optional):
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
    if row.exit_code not in EXIT_CODES:
        raise ReportInputError(
            f"{basket}: exit code {row.exit_code!r} is not one of {', '.join(EXIT_CODES)}"
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


# --------------------------------------------------------------------------- equity


def checked_equity(equity: pd.DataFrame) -> pd.DataFrame:
    """Balance and equity on UTC dates, in order, every value a finite number (equity > 0)."""
    if not isinstance(equity, pd.DataFrame):
        raise ReportInputError(f"equity must be a pandas DataFrame, got {type(equity).__name__}")
    missing = [column for column in ("balance", "equity") if column not in equity.columns]
    if missing:
        raise ReportInputError(f"equity lacks column(s) {', '.join(missing)}")
    if equity.empty:
        raise ReportInputError("equity is empty: the run has no day to report")
    days = utc_dates(equity.index, "equity", ReportInputError)
    frame = pd.DataFrame(index=days)
    for column in ("balance", "equity"):
        frame[column] = _equity_values(equity[column], column, days)
    return frame


def _equity_values(column: pd.Series, name: str, days: pd.DatetimeIndex) -> np.ndarray:
    """One equity column as finite floats (the equity itself also > 0)."""
    try:
        values = pd.to_numeric(column, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ReportInputError(f"equity.{name} must be numbers: {exc}") from exc
    bad = ~np.isfinite(values)
    if name == "equity":
        bad |= values <= 0.0
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ReportInputError(f"equity.{name} on {days[position].date()} is {values[position]}")
    return values


# --------------------------------------------------------------------------- TDI


def checked_tdi(tdi: Mapping[str, pd.DataFrame]) -> dict[str, pd.Series]:
    """Each cluster's TDI as a float series on unique, ordered UTC bar times."""
    if not isinstance(tdi, Mapping):
        raise ReportInputError(f"tdi must map cluster names to frames, got {type(tdi).__name__}")
    return {str(name): _checked_tdi_series(f"tdi[{name!r}]", frame) for name, frame in tdi.items()}


def _checked_tdi_series(label: str, frame: pd.DataFrame) -> pd.Series:
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
    return pd.Series(values, index=index, name="tdi")


# --------------------------------------------------------------------------- metrics


def checked_metrics(metrics: Mapping[str, Any], complete: bool) -> Mapping[str, Any]:
    """The metrics as given; a complete report refuses them when a section is missing,
    unless there are none at all (a whole run inside one UTC day has no daily returns: its
    notes say so)."""
    if not isinstance(metrics, Mapping):
        raise ReportInputError(f"metrics must be a mapping, got {type(metrics).__name__}")
    if complete and metrics:
        missing = [name for name in METRIC_SECTIONS if not isinstance(metrics.get(name), Mapping)]
        if missing:
            raise ReportInputError(
                f"metrics lack section(s) {', '.join(missing)}: a complete report needs every "
                "section (pass complete=False for a run that stopped early)"
            )
    return metrics


def section_of(metrics: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The mapping under ``name``, or an empty one when it is missing or not a mapping."""
    section = metrics.get(name)
    return section if isinstance(section, Mapping) else {}


def basis_label_of(metrics: Mapping[str, Any]) -> str:
    """The returns' basis as printed beside a figure ("daily, 5-day FX weeks, sqrt 252"),
    or what is known of it when the metrics do not state one."""
    label = section_of(metrics, "basis").get("label")
    return str(label) if label else "daily returns, basis not stated"


def basis_definition_of(metrics: Mapping[str, Any]) -> str:
    """Which days the returns are measured on and how they are annualised, as stated."""
    definition = section_of(metrics, "basis").get("definition")
    return str(definition) if definition else "not stated by these metrics"


def notes_of(section: Mapping[str, Any]) -> dict[str, str]:
    """A metrics section's ``notes``: why a figure is undefined, by metric key."""
    notes = section.get("notes")
    return {str(k): str(v) for k, v in notes.items()} if isinstance(notes, Mapping) else {}


def start_capital_of(metrics: Mapping[str, Any], equity: pd.DataFrame) -> float:
    """E_0 from the metrics, else the first daily mark (then the first month starts there)."""
    value = section_of(metrics, "returns").get("start_capital")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and math.isfinite(value) and value > 0:
        return float(value)
    return float(equity["equity"].iloc[0])


# --------------------------------------------------------------------------- settings


def cluster_settings(params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
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
            flat = flatten(settings)
            flat.pop("name", None)
            out[str(name)] = flat
    return out


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level of dotted keys (an empty mapping stays a value)."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def cluster_names(
    clusters: Mapping[str, Any],
    tdi: Mapping[str, pd.Series],
    trades: pd.DataFrame,
    metrics: Mapping[str, Any],
) -> list[str]:
    """Every cluster any input names, in order of first mention (settings first)."""
    by_cluster = section_of(section_of(metrics, "clusters"), "by_cluster")
    seen: dict[str, None] = {}
    for group in (clusters, tdi, trades["cluster"].tolist(), by_cluster):
        for name in group:
            seen.setdefault(str(name), None)
    return list(seen)
