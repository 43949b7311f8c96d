"""The report's new figures survive recomputation from the run's own files: the costs split,
long against short, the MAE/MFE table and the P&L histogram from trades.csv, the legs table
from legs.csv, each with plain pandas; and every basket's MAE and MFE bracket its exit."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pandas as pd
import pytest
from helpers.configs import short_window_config
from helpers.paths import TEST_DATA

from engine.formatting import format_money
from main import main


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report-figures")
    config = folder / "small.toml"
    config.write_text(short_window_config("USD_MAJORS", "GOLD_HAVENS"))
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["backtest", "--data", str(TEST_DATA / "histdata"), "--config", str(config),
                     "--report", str(folder / "report")])
    assert code == 0
    return folder / "report"


@pytest.fixture(scope="module")
def closed(report):
    trades = pd.read_csv(report / "trades.csv")
    return trades[trades["exit_time"].notna()]


@pytest.fixture(scope="module")
def page(report):
    return (report / "report.html").read_text(encoding="utf-8")


def _table(page: str, css: str) -> str:
    match = re.search(rf'<table class="{css}[^"]*">(.*?)</table>', page, re.S)
    assert match, f"no table.{css}"
    return match.group(1)


def _cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)]


def _row(table: str, attribute: str, value: str) -> list[str]:
    match = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', table, re.S)
    assert match, f"no row {attribute}={value}"
    return _cells(match.group(1))


def _signed(value: float) -> str:
    return format_money(float(value), signed=True)


def test_costs_split_recomputes_from_trades_csv(page, closed):
    table = _table(page, "costs")
    names = ["All", *sorted(closed["cluster"].unique())]
    groups = [closed, *(closed[closed["cluster"] == n] for n in names[1:])]
    split = ["commission", "swap", "spread_cost"]
    expected = [
        [g["pnl"].sum() - g[split].sum().sum() for g in groups],
        [g["spread_cost"].sum() for g in groups],
        [g["commission"].sum() for g in groups],
        [g["swap"].sum() for g in groups],
        [g[split].sum().sum() for g in groups],
        [g["pnl"].sum() for g in groups],
    ]

    for index, figures in enumerate(expected):
        assert _row(table, "data-row", str(index)) == [_signed(v) for v in figures]
    assert re.findall(r'<th class="num">([^<]+)</th>', table) == names


def test_long_and_short_recompute_from_trades_csv(page, closed):
    table = _table(page, "sides")
    hours = (pd.to_datetime(closed["exit_time"]) - pd.to_datetime(closed["entry_time"])) \
        .dt.total_seconds() / 3600

    for side in ("LONG", "SHORT", "All"):
        group = closed if side == "All" else closed[closed["direction"] == side]
        h = hours[group.index]
        assert _row(table, "data-side", side) == [
            f"{len(group):,}", f"{(group['pnl'] > 0).mean():.1%}", _signed(group["pnl"].sum()),
            _signed(group["pnl"].sum() / len(group)), f"{h.mean():,.1f}"]


def test_excursions_recompute_from_trades_csv_and_bracket_each_exit(page, closed):
    table = _table(page, "excursions")
    price = closed["pnl"] - closed["costs"]

    assert (closed["mae"] <= 0).all() and (closed["mfe"] >= 0).all()
    assert (closed["mae"] <= price + 0.005).all() and (price <= closed["mfe"] + 0.005).all()
    for code in [*closed["exit_code"].unique(), "All"]:
        group = closed if code == "All" else closed[closed["exit_code"] == code]
        p = group["pnl"] - group["costs"]
        assert _row(table, "data-code", code) == [
            f"{len(group):,}", _signed(group["mae"].mean()), _signed(group["mfe"].mean()),
            _signed(p.mean()), _signed(group["mae"].min()), _signed(group["mfe"].max())]


def test_histogram_counts_recompute_from_trades_csv(page, closed):
    bars = [(float(lo), float(hi), int(n)) for lo, hi, n in re.findall(
        r'data-lo="([^"]+)" data-hi="([^"]+)" data-count="(\d+)"', page)]
    pnl = closed["pnl"].to_numpy()

    assert sum(n for _, _, n in bars) == len(pnl)
    for lo, hi, count in bars:
        assert count == int(((pnl >= lo) & (pnl < hi)).sum()), (lo, hi)
    widths = {round(hi - lo, 9) for lo, hi, _ in bars}
    assert len(widths) == 1
    if pnl.min() < 0 < pnl.max():  # no bin mixes gains and losses
        assert any(lo == 0.0 for lo, _, _ in bars)


def test_legs_table_is_legs_csv(page, report):
    legs = pd.read_csv(report / "legs.csv")
    body = _table(page, "legs sortable")
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S)

    assert len(rows) == len(legs)
    shown = [_cells(r) for r in rows]
    assert [r[0] for r in shown] == legs["basket_id"].tolist()
    assert [r[-1] for r in shown] == [_signed(v) if np.isfinite(v) else "" for v in legs["pnl"]]
