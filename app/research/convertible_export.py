"""The hedge simulator's files: the daily rows and the summary, through the one CSV writer.

``hedge_daily.csv`` has one row per close; its P&L columns (``gamma_trading``, ``rest``,
``coupon``, ``bond_financing``, ``stock_financing``, ``hedge_cost``) add up to ``total``
on every row, ``cumulative_total`` is the running sum of ``total``, and each column's sum
is the summary's figure for it (``hedge_summary.csv``).  Numbers are written at full
precision so that the sums recompute to the cent.
"""

from __future__ import annotations

from pathlib import Path

from app.research.convertible_hedge import HedgeResult
from app.staged import staged_folder
from engine.convertible.hedge import PARTS
from storage.csv_export import write_csv

DAILY = "hedge_daily.csv"
SUMMARY = "hedge_summary.csv"
DAILY_COLUMNS = ["date", "close", "years_left", "bond_price", "bond_delta", "bond_gamma",
                 "short_held", "traded", "short_after", "coupon_paid", *PARTS, "total",
                 "cumulative_total"]
SUMMARY_COLUMNS = ["figure", "value", "basis"]


def daily_rows(result: HedgeResult) -> list[list[object]]:
    rows = []
    running = 0.0
    for d in result.days:
        running += d.total
        rows.append([d.date.strftime("%Y-%m-%d"), d.close, d.years_left, d.bond_price,
                     d.bond_delta, d.bond_gamma, d.short_held, d.traded, d.short_after,
                     d.coupon_paid, *(getattr(d, name) for name in PARTS), d.total,
                     running])
    return rows


def summary_rows(result: HedgeResult) -> list[list[object]]:
    terms, setup = result.terms, result.setup
    rows: list[list[object]] = [
        ["ticker", result.ticker, "real daily closes"],
        ["bond", "synthetic", "no convertible price data: marked by the tree every day"],
        ["first_close", result.days[0].date.strftime("%Y-%m-%d"), ""],
        ["last_close", result.days[-1].date.strftime("%Y-%m-%d"), ""],
        ["closes", len(result.days), ""],
        ["bonds", setup.bonds, "held long"],
        ["face", terms.face, "per bond"],
        ["ratio", terms.ratio, "shares per bond"],
        ["coupon_rate", terms.coupon, f"annual, {terms.frequency} a year"],
        ["maturity", terms.maturity, "years at the first close"],
        ["volatility", setup.volatility, "the bond's marking input"],
        ["realised_volatility", result.realised_volatility,
         "std of daily log returns x sqrt(252)"],
        ["rate", setup.rate, "pricing"],
        ["financing_rate", setup.bond_rate, "the bond's financing"],
        ["credit_spread", setup.credit_spread, ""],
        ["dividend_yield", setup.dividend_yield, ""],
        ["band", setup.band, "fraction of the conversion shares"],
        ["borrow", setup.borrow, "short CFD financing, annual, positive a cost"],
        ["cost", setup.cost, "per share traded, fraction of the price"],
        ["rehedges", result.rehedges, "after the first day's hedge"],
    ]
    totals = result.totals()
    rows += [[name, totals[name], f"sum of {DAILY}'s {name} column"] for name in PARTS]
    rows.append(["total", totals["total"], "sum of the parts above"])
    return rows


def write_hedge(out: Path, result: HedgeResult) -> list[Path]:
    """Write both files into ``out`` (created), both or neither (``app.staged``); their
    paths."""
    with staged_folder(out) as folder:
        write_csv(folder / DAILY, DAILY_COLUMNS, daily_rows(result))
        write_csv(folder / SUMMARY, SUMMARY_COLUMNS, summary_rows(result))
    return [out / DAILY, out / SUMMARY]
