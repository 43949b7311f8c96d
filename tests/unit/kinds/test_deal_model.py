"""The ``deal`` kind's arithmetic: an invented stock deal on real KO/PEP closes recomputed by
hand, batch = streaming, truncation, the events, the long-only rule and the break sizing.

The deal is invented: Coca-Cola (KO) and PepsiCo (PEP) stand in for a target and an
acquirer (0.42 PEP shares per KO share, announced 2021-03-01, expected to close
2021-09-30, break price 42) so that the stock-deal arithmetic runs on real prices
(``tests/data/equity_daily``, a slice of ``shared/data/equity_daily``; its README says how).
"""

from __future__ import annotations

import math
from datetime import date
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers.deal_series import deal_closes, trading_days
from helpers.paths import TEST_DATA

from engine import ranges
from engine.kinds.deal import DealModel, deal_spec, swap_financing, trading_day
from engine.kinds.deal_history import deal_batch
from engine.kinds.deal_params import DIAGNOSTICS, DealParams
from engine.model import Direction, ExitCode

SLICE = TEST_DATA / "equity_daily" / "sp500_KO_PEP_RRC_adjclose_2019-10_2022.csv.gz"
DEAL = DealParams(terms="stock", ratio=0.42, break_price=42.0, announced="2021-03-01",
                  expected_close=date(2021, 9, 30), financing="rate", long_rate=4.5,
                  short_rate=2.5)


def bar_label(day: str) -> int:
    """The D1 bar label of a trading day: 17:00 New York the evening before."""
    start = pd.Timestamp(day).tz_localize("America/New_York") - pd.Timedelta(hours=7)
    return int(start.timestamp())


@pytest.fixture(scope="module")
def closes() -> pd.DataFrame:
    frame = pd.read_csv(SLICE, usecols=["Date", "KO", "PEP"])
    frame = frame[(frame["Date"] >= "2021-01-04") & (frame["Date"] <= "2021-12-30")]
    return frame.set_index(frame["Date"].map(bar_label))[["KO", "PEP"]]


def stream(closes: pd.DataFrame, params: DealParams = DEAL) -> list:
    model = DealModel(("KO", "PEP"), params)
    return [model.update(row, int(t)) for t, row in zip(closes.index, closes.to_numpy(),
                                                         strict=True)]


def test_a_bar_label_is_its_trading_day() -> None:
    assert trading_day(bar_label("2021-03-01")) == date(2021, 3, 1)
    assert trading_day(bar_label("2021-07-06")) == date(2021, 7, 6)  # summer time


def test_the_stock_deal_figures_recomputed_by_hand(closes) -> None:
    # Act
    points = stream(closes)
    # Assert: every open bar's figures from the closes and the dates alone
    checked = 0
    for (label, row), point in zip(closes.iterrows(), points, strict=True):
        day = date.fromisoformat(pd.Timestamp(label, unit="s", tz="UTC")
                                 .tz_convert("America/New_York")
                                 .strftime("%Y-%m-%d"))  # 17:00 the evening before
        day = date.fromordinal(day.toordinal() + 1)
        ko, pep = float(row["KO"]), float(row["PEP"])
        figures = dict(zip(DIAGNOSTICS, point.diagnostics, strict=True))
        if day < date(2021, 3, 1):
            assert point.regime == "pending" and not point.valid
            continue
        offer = 0.42 * pep
        days = (date(2021, 9, 30) - day).days
        spread_pct = (offer - ko) / ko * 100
        financing = 4.5 + 0.42 * pep / ko * 2.5
        ann_net = spread_pct * 365 / max(days, 1) - financing
        assert figures["offer"] == pytest.approx(offer, rel=1e-12)
        assert figures["spread"] == pytest.approx(offer - ko, rel=1e-9, abs=1e-12)
        assert figures["days"] == days
        assert figures["financing"] == pytest.approx(financing, rel=1e-12)
        assert figures["ann_net"] == pytest.approx(ann_net, rel=1e-9, abs=1e-9)
        assert figures["p"] == pytest.approx((ko - 42.0) / (offer - 42.0), rel=1e-12)
        assert point.score == pytest.approx(-ann_net, rel=1e-9, abs=1e-9)
        checked += 1
    assert checked == 213  # the trading days from 2021-03-01 to 2021-12-30
    # pinned: the announcement day's reading
    first = dict(zip(DIAGNOSTICS, points[38].diagnostics, strict=True))
    assert (round(first["price"], 3), round(first["offer"], 4), first["days"]) == \
        (46.275, 51.2081, 213.0)
    assert round(first["ann_net"], 4) == 11.0012 and round(first["p"], 4) == 0.4643


def test_batch_equals_streaming_and_truncation_changes_nothing(closes) -> None:
    # Arrange
    points = stream(closes)
    # Act
    batch = deal_batch(closes, DEAL)
    cut = deal_batch(closes.iloc[100:], DEAL)
    cut_stream = stream(closes.iloc[100:])
    # Assert
    np.testing.assert_allclose(batch["score"], [p.score for p in points], rtol=0, atol=1e-9)
    assert list(batch["regime"]) == [p.regime for p in points]
    for i, name in enumerate(DIAGNOSTICS):
        np.testing.assert_allclose(batch[name], [p.diagnostics[i] for p in points],
                                   rtol=0, atol=1e-9, equal_nan=True)
    pd.testing.assert_frame_equal(cut, batch.iloc[100:])
    assert [p.score for p in cut_stream] == [p.score for p in points[100:]]


def test_the_basket_is_long_the_target_and_short_ratio_acquirer(closes) -> None:
    # Arrange
    point = stream(closes)[40]
    model = DealModel(("KO", "PEP"), DEAL)
    ko, pep = point.state.price, point.state.acquirer
    # Act
    unit = model.exposures(point, Direction.LONG)
    # Assert: dollar legs of one KO share against 0.42 PEP shares, gross 1
    assert unit["KO"] == pytest.approx(ko / (ko + 0.42 * pep))
    assert unit["PEP"] == pytest.approx(-0.42 * pep / (ko + 0.42 * pep))
    with pytest.raises(ValueError, match="SHORT is refused"):
        model.exposures(point, Direction.SHORT)


def test_the_size_loses_the_budget_at_the_break(closes) -> None:
    # Arrange: a 300 USD budget, at the prices of some later day
    model = DealModel(("KO", "PEP"), DEAL)
    point = stream(closes)[60]
    prices = {"KO": 50.0, "PEP": 140.0}
    # Act
    unit, loss_per_gross = model.own_sizing(point, Direction.LONG, prices)
    gross = 300.0 / loss_per_gross
    ko_shares = unit["KO"] * gross / prices["KO"]
    pep_shares = -unit["PEP"] * gross / prices["PEP"]
    # Assert: KO to 42 with PEP unchanged loses exactly the budget; the hedge is the ratio
    assert ko_shares * (50.0 - 42.0) == pytest.approx(300.0, rel=1e-12)
    assert pep_shares == pytest.approx(0.42 * ko_shares, rel=1e-12)
    assert model.rounding_problem({"KO": 38.0, "PEP": -16.0}) == ""
    assert "not the ratio" in model.rounding_problem({"KO": 38.0, "PEP": -12.0})
    with pytest.raises(ValueError, match="break price"):
        model.own_sizing(point, Direction.LONG, {"KO": 41.0, "PEP": 140.0})


def test_events_close_with_their_codes_and_lock_the_deal(closes) -> None:
    # Arrange: the TOML's completion date, and a trader's break on another model
    completed = stream(closes, DealParams(**{**DEAL.__dict__, "completed": "2021-06-01"}))
    model = DealModel(("KO", "PEP"), DEAL)
    rows = list(zip(closes.index, closes.to_numpy(), strict=True))
    for t, row in rows[:80]:
        model.update(row, int(t))
    # Act
    model.record_event("broken", trading_day(int(rows[80][0])))
    broken = model.update(rows[80][1], int(rows[80][0]))
    # Assert
    first = next(p for p in completed if p.regime == "completed")
    assert model.event_exit(first) == (ExitCode.DC, "deal completed")
    assert not first.valid and first.lock.startswith("DEAL_CLOSED")
    assert model.event_exit(broken) == (ExitCode.DB, "deal broken")
    assert math.isnan(model.provisional(rows[81][1]))
    with pytest.raises(ValueError, match="already broken"):
        model.record_event("completed", trading_day(int(rows[81][0])))


def test_locks_long_only_overdue_and_a_blown_out_spread() -> None:
    model = DealModel(("T",), DealParams(cash=50.0, break_price=40.0, announced="2021-01-04",
                                         expected_close="2021-06-30", financing="rate"),
                      score_stop=100.0)
    above = model.update(np.array([51.0]), bar_label("2021-03-01"))
    wide = model.update(np.array([40.5]), bar_label("2021-06-25"))
    late = model.update(np.array([49.0]), bar_label("2021-07-01"))
    assert above.lock_code == "LONG_ONLY" and above.score > 0
    assert wide.lock_code == "WIDE_SPREAD"
    assert late.lock_code == "DEAL_OVERDUE"
    assert model.exposures(late, Direction.LONG) == {"T": 1.0}  # a cash deal: one leg


def test_financing_from_the_cfd_swaps() -> None:
    infos = {"KO": SimpleNamespace(swap_mode=5, swap_long=-4.5, swap_short=-2.5),
             "PEP": SimpleNamespace(swap_mode=5, swap_long=-4.5, swap_short=-2.5),
             "FX": SimpleNamespace(swap_mode=1, swap_long=-3.0, swap_short=1.0)}
    assert swap_financing(infos, "KO", "PEP") == (4.5, 2.5)
    assert swap_financing(infos, "KO", None) == (4.5, 0.0)
    assert math.isnan(swap_financing(infos, "FX", None)[0])


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"terms": "stock", "break_price": 1.0}, "ratio"),
    ({"cash": 50.0, "break_price": 0.0}, "break_price"),
    ({"cash": 50.0, "break_price": 40.0, "expected_close": "2020-12-01"}, "expected_close"),
    ({"cash": 50.0, "break_price": 40.0, "announced": "2021-13-01"}, "announced"),
    ({"cash": 50.0, "break_price": 40.0, "completed": "2021-05-01", "broken": "2021-05-02"},
     "broken"),
    ({"cash": 50.0, "ratio": 0.5, "break_price": 40.0}, "ratio"),
])
def test_a_bad_deal_names_its_field(kwargs, field) -> None:
    base = {"announced": "2021-01-04", "expected_close": "2021-06-30"}
    with pytest.raises(ranges.FieldError) as info:
        DealParams(**{**base, **kwargs})
    assert info.value.field == field


def test_a_deal_entered_in_the_console_is_a_cluster_spec() -> None:
    spec = deal_spec("KO_DEAL", ("KO", "PEP"), 740009, {
        "terms": "stock", "ratio": 0.42, "break_price": 42, "announced": "2021-03-01",
        "expected_close": "2021-09-30"})
    assert (spec.kind, spec.entry, spec.exit_band, spec.stops.tdi_stop) == \
        ("deal", 10.0, 2.0, 100.0)
    with pytest.raises(ranges.FieldError, match="unknown key"):
        deal_spec("X", ("KO",), 1, {"cash": 1, "brake_price": 2})
    with pytest.raises(ranges.FieldError, match="symbol"):
        deal_spec("X", ("KO",), 1, {"terms": "stock", "ratio": 0.5, "break_price": 2,
                                    "announced": "2021-01-04",
                                    "expected_close": "2021-06-30"})


def test_batch_equals_streaming_on_the_synthetic_deal_with_its_events() -> None:
    # Arrange: the synthetic break (helpers.deal_series), the file's date and a trader's
    days = trading_days()
    frame = deal_closes(days, announce=20, close=120, end="break", end_day=70)
    frame.index = [bar_label(d) for d in frame.index]
    params = DealParams(terms="stock", ratio=0.5, break_price=24.0,
                        announced=days[20].date(), expected_close=days[120].date(),
                        broken=days[90].date(), financing="rate")
    trader = ("broken", days[70].date())
    model = DealModel(tuple(frame.columns), params)
    points = []
    for i, (t, row) in enumerate(zip(frame.index, frame.to_numpy(), strict=True)):
        if i == 70:
            model.record_event(*trader)
        points.append(model.update(row, int(t)))
    # Act
    batch = deal_batch(frame, params, event=trader)
    # Assert
    assert list(batch["regime"]) == [p.regime for p in points]
    assert list(batch["regime"].iloc[[19, 20, 69, 70, 90]]) == ["pending", "open", "open",
                                                           "broken", "broken"]
    np.testing.assert_allclose(batch["score"], [p.score for p in points], atol=1e-9)
    for i, name in enumerate(DIAGNOSTICS):
        np.testing.assert_allclose(batch[name], [p.diagnostics[i] for p in points],
                                   atol=1e-9, equal_nan=True)
