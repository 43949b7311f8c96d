"""The report page: the checked inputs, the sections in order, the page's CSS and script.

``write_report`` turns a run's results (the metrics of :mod:`engine.metrics`, the baskets, the
daily equity, each cluster's TDI, the parameters and the data ranges) into ``report.html``:
read top-down: the headline figures and the equity curve first, then monthly returns, where
the P&L came from (the costs split, long against short, the P&L histogram, each basket's
excursions), exit codes and per-cluster figures, the TDI charts, the trades, every leg, the
run's settings, and last an appendix with every metric and its definition.

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

The page is self-contained: inline CSS, inline SVG charts (:mod:`app.report.svg`) and a few
lines of inline script to sort the trades table; no fonts, images or links to other files.
Every piece of text that comes from the inputs is escaped. The CSS and the script are kept as
``report.css`` and ``report.js`` next to this module (package data) and copied into the page.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from app.report import inputs
from app.report.errors import ReportWriteError
from app.report.markup import EMPTY_ICON
from app.report.sections.breakdown import breakdown_section
from app.report.sections.checks import checks
from app.report.sections.equity import equity_section
from app.report.sections.exits import exits_section
from app.report.sections.header import header, incomplete_banner, nav, run_notes
from app.report.sections.legs import legs_section
from app.report.sections.metrics import metrics_section
from app.report.sections.monthly import monthly_section
from app.report.sections.params import params_section
from app.report.sections.summary import summary_section
from app.report.sections.tdi import tdi_section
from app.report.sections.trades import trades_section


@cache
def _asset(name: str) -> str:
    """A file shipped with this package (``report.css``, ``report.js``), read once."""
    return resources.files("app.report").joinpath(name).read_text(encoding="utf-8")


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
    legs: pd.DataFrame | None = None,
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
        legs=legs,
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
    legs: pd.DataFrame | None = None,
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
    - ``generated_at``: the time printed in the header (default: now, UTC);
    - ``legs``: one row per leg (``legs.csv``'s columns), for the Legs table; None: none.
    """
    inputs.check_mappings(params=params, data_ranges=data_ranges)
    checked_metrics = inputs.checked_metrics(metrics, complete)
    checked_trades = inputs.checked_trades_frame(trades)
    checked_equity = inputs.checked_equity(equity)
    checked_tdi = inputs.checked_tdi(tdi)
    start_capital = inputs.start_capital_of(checked_metrics, checked_equity)
    clusters = inputs.cluster_settings(params)
    names = inputs.cluster_names(clusters, checked_tdi, checked_trades, checked_metrics)
    stamp = (generated_at or datetime.now(UTC)).astimezone(UTC)
    shown_title = title if complete else f"INCOMPLETE: {title}"

    body = [
        nav(complete),
        '<main>',
        header(shown_title, params, data_ranges, checked_equity, names, complete, stamp),
        incomplete_banner(notes, checked_equity) if not complete else run_notes(notes),
        summary_section(checked_metrics),
        equity_section(checked_equity, start_capital, checked_metrics),
        checks(checked_metrics, checked_trades, checked_equity, data_ranges),
        monthly_section(checked_equity, start_capital),
        breakdown_section(checked_trades),
        exits_section(checked_trades, checked_metrics),
        tdi_section(names, checked_tdi, checked_trades, clusters),
        trades_section(checked_trades),
        legs_section(legs),
        params_section(params, clusters, data_ranges),
        metrics_section(checked_metrics),
        _footer(complete, stamp),
        "</main>",
        # each asset starts on a line of its own inside its tag
        f"<script>\n{_asset('report.js')}</script>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{EMPTY_ICON}"
        f"<title>{escape(shown_title)}</title><style>\n{_asset('report.css')}</style></head>"
        f'<body class="{"complete" if complete else "incomplete"}">'
        + "\n".join(part for part in body if part)
        + "</body></html>\n"
    )


def _footer(complete: bool, generated: datetime) -> str:
    status = "Complete run." if complete else "INCOMPLETE run: partial results."
    return (
        f'<footer><p>{status} Generated {generated.strftime("%Y-%m-%d %H:%M:%S")} UTC. '
        "Times are UTC. Amounts are in the account currency.</p></footer>"
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
