"""The report reads top-down and prints exactly: the headline figures and the equity first,
the metric definitions last; axis labels that are the ticks' values; an exit at midnight
that keeps its time; the P&L histogram's bins counted by hand."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from test_report import render, run_inputs

from app.report.sections.header import SECTIONS
from app.report.svg import money_tick_labels, percent_tick_labels
from app.report.svg.histogram import histogram_counts, histogram_edges, pnl_histogram


@pytest.fixture(scope="module")
def small_run():
    return run_inputs(["ALPHA", "BETA"], "2024-01-01", 91)


def test_drawdown_labels_on_a_two_and_a_half_percent_step_are_exact():
    labels = percent_tick_labels([-0.075, -0.05, -0.025, 0.0])

    assert labels == ["-7.5%", "-5.0%", "-2.5%", "0.0%"]


def test_labels_use_no_more_decimals_than_the_ticks_need():
    assert percent_tick_labels([-0.02, -0.01, 0.0]) == ["-2%", "-1%", "0%"]
    assert percent_tick_labels([-0.0025, 0.0]) == ["-0.25%", "0.00%"]
    assert money_tick_labels([99_997.5, 100_000.0, 100_002.5]) == \
        ["99,997.5", "100,000.0", "100,002.5"]
    assert money_tick_labels([99_000.0, 100_000.0]) == ["99,000", "100,000"]


def test_an_exit_at_midnight_keeps_its_time(small_run):
    trades = small_run["trades"].copy()
    closed = trades.index[trades["exit_time"].notna()][0]
    midnight = (trades.loc[closed, "entry_time"] + pd.Timedelta(days=1)).normalize()
    trades.loc[closed, "exit_time"] = midnight

    page = render(small_run, trades=trades)

    shown = f"{midnight:%Y-%m-%d} 00:00"
    assert f'data-v="{midnight.value}">{shown}</td>' in page


def test_headline_figures_and_equity_come_first_and_definitions_last(small_run):
    page = render(small_run)

    order = [page.index(f'<section id="{key}"') for key, _ in SECTIONS]
    assert order == sorted(order)
    assert [key for key, _ in SECTIONS][:2] == ["summary", "equity"]
    assert SECTIONS[-1] == ("metrics", "Appendix: metrics")
    assert "Appendix: every metric and its definition</h2>" in page


def test_histogram_bins_are_round_and_count_by_hand():
    pnl = np.array([-257.0, -40.2, -3.0, 0.0, 0.5, 12.0, 99.9, 150.0])

    edges = histogram_edges(pnl)
    counts = histogram_counts(pnl, edges)

    assert np.diff(edges).tolist() == [25.0] * (len(edges) - 1) and 0.0 in edges
    by_bin = dict(zip(edges[:-1].tolist(), counts.tolist(), strict=True))
    # [-275,-250): -257; [-50,-25): -40.2; [-25,0): -3; [0,25): 0, 0.5, 12; [75,100): 99.9;
    # [150,175): 150 (an edge counts in the bin above it)
    assert {k: v for k, v in by_bin.items() if v} == \
        {-275.0: 1, -50.0: 1, -25.0: 1, 0.0: 3, 75.0: 1, 150.0: 1}
    assert counts.sum() == len(pnl)


def test_histogram_bars_carry_their_bin_and_count():
    svg = pnl_histogram([-10.0, -10.0, 5.0])

    bars = re.findall(r'data-lo="([^"]+)" data-hi="([^"]+)" data-count="(\d+)"', svg)
    assert sum(int(c) for _, _, c in bars) == 3
    assert all(float(lo) < float(hi) for lo, hi, _ in bars)
