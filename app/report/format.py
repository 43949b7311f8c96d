"""How the report writes numbers, amounts, times and metric values.

One place for the page's formatting so every section writes the same figure the same way,
and so that the command-line summaries and the console can later share it (they have their
own money formatters today).

- amounts are in the account currency with two decimals and thousands separators; a P&L is
  signed (``+1,234.50``) so that a gain and a loss read differently without colour;
- return fractions are shown as percentages, ratios with two or three decimals, the per-day
  Sharpe figures of the significance tests with four significant digits;
- a metric that is undefined (``None``, ``null`` in ``metrics.json``) is shown as "n/a",
  never as 0;
- times are UTC, as "YYYY-MM-DD HH:MM"; a period's bounds and a data range's ends show
  only the date at midnight (:func:`format_time`), an event's time (an entry, an exit, a
  fill) always keeps its time of day (:func:`format_instant`): a basket closed at 00:00 did
  not close "on a day".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from engine.formatting import NOT_AVAILABLE

#: How an undefined value is shown.
NA = NOT_AVAILABLE

_PERCENT_SIGNED = frozenset({"total_return", "cagr", "return_contribution"})
_PERCENT_FINE_SIGNED = frozenset({"mean_daily_return"})
_PERCENT = frozenset({"annualised_volatility", "max_drawdown", "win_rate", "exposure"})
_PERCENT_FINE = frozenset({"daily_volatility"})
_MONEY = frozenset({"start_capital", "final_equity", "gross_profit", "gross_loss"})
_MONEY_SIGNED = frozenset({"net_pnl", "average_pnl", "total_costs", "pnl", "commission", "swap",
                           "spread_cost", "booked_costs"})
_PROBABILITY = frozenset({"psr", "dsr"})
_RATIO = frozenset({"sharpe", "sortino", "calmar", "profit_factor", "z_score",
                    "diversification_ratio"})
_RATIO_FINE = frozenset({"skewness", "kurtosis", "max_abs_correlation"})
_SIGNIFICANT = frozenset({
    "sharpe_per_period",
    "psr_benchmark_per_period",
    "expected_max_sharpe",
    "trials_sharpe_variance",
})

#: How one number is written: (shown as a percentage, format spec, suffix).
_NumberFormat = tuple[bool, str, str]


def _number_formats() -> dict[str, _NumberFormat]:
    """Metric key -> its number format; the first group naming a key wins."""
    groups: tuple[tuple[frozenset[str], _NumberFormat], ...] = (
        (_PERCENT_SIGNED, (True, "+,.2f", "%")),
        (_PERCENT_FINE_SIGNED, (True, "+,.3f", "%")),
        (_PERCENT, (True, ",.2f", "%")),
        (_PERCENT_FINE, (True, ",.3f", "%")),
        (_MONEY, (False, ",.2f", "")),
        (_MONEY_SIGNED, (False, "+,.2f", "")),
        (frozenset({"z_p_value"}), (False, ".4f", "")),
        (_PROBABILITY, (False, ".3f", "")),
        (_RATIO, (False, ",.2f", "")),
        (_RATIO_FINE, (False, ",.3f", "")),
        (_SIGNIFICANT, (False, ".4g", "")),
        (frozenset({"average_holding_hours"}), (False, ",.1f", " h")),
        (frozenset({"years"}), (False, ",.2f", "")),
    )
    formats: dict[str, _NumberFormat] = {}
    for keys, number_format in groups:
        for key in keys:
            formats.setdefault(key, number_format)
    return formats


_NUMBER_FORMATS = _number_formats()
#: Keys not listed: four significant digits.
_DEFAULT_NUMBER_FORMAT: _NumberFormat = (False, ",.4g", "")

#: Keys whose value is coloured by its sign (a gain green, a loss red).
_SIGNED_KEYS = _PERCENT_SIGNED | _PERCENT_FINE_SIGNED | _MONEY_SIGNED | {
    "sharpe", "sortino", "calmar", "z_score"
}
#: Keys that are amounts even when the value happens to be an int.
_MONEY_KEYS = _MONEY | _MONEY_SIGNED

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


# --------------------------------------------------------------------------- metrics


def label_of(key: str) -> str:
    """The reader's name of a metric key (``max_drawdown`` -> "Max drawdown")."""
    return _LABELS.get(key) or key.replace("_", " ").capitalize()


def sign_class(value: float) -> str:
    """The CSS class of a signed figure: "pos", "neg", or none for zero."""
    if value > 0:
        return "pos"
    if value < 0:
        return "neg"
    return ""


def format_metric(key: str, value: Any) -> tuple[str, str]:
    """(text, css class) of one metric value; ``None`` gives "n/a"."""
    if value is None:
        return NA, "na"
    if isinstance(value, bool):
        return ("yes" if value else "no"), ""
    if isinstance(value, Mapping):
        return _format_by_code(key, value), "text"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value), "text"
    if isinstance(value, str):
        return value, ""
    if isinstance(value, int) and key not in _MONEY_KEYS:
        return f"{value:,d}", ""
    number = float(value)
    return format_number(key, number), (sign_class(number) if key in _SIGNED_KEYS else "")


def format_number(key: str, number: float) -> str:
    """A metric's number in the unit its key implies (percent, amount, ratio, hours...)."""
    percent, spec, suffix = _NUMBER_FORMATS.get(key, _DEFAULT_NUMBER_FORMAT)
    shown = number * 100 if percent else number
    return f"{shown:{spec}}{suffix}"


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
        return "none" if any(v is not None for v in values.values()) else NA
    return " · ".join(shown)


# --------------------------------------------------------------------------- plain values


def format_tdi(value: float) -> str:
    """A TDI reading with its sign and two decimals; "n/a" when undefined."""
    return f"{value:+.2f}" if math.isfinite(value) else NA


_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?")


def format_time(value: Any) -> str:
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
        return _timestamp_text(pd.Timestamp(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def format_instant(value: Any) -> str:
    """The UTC time of an event as "YYYY-MM-DD HH:MM", midnight included; "" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return ""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    return stamp.strftime("%Y-%m-%d %H:%M")


def _timestamp_text(stamp: pd.Timestamp) -> str:
    if pd.isna(stamp):
        return ""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC")
    if stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%d %H:%M")


def format_value(value: Any) -> str:
    """A setting of the run as the parameters table shows it (lists joined, times as UTC)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item) for item in value) if value else "(empty)"
    if isinstance(value, datetime | date | pd.Timestamp):
        return format_time(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
