"""The basis kind's model: hand-computed figures, batch = streaming, truncation, the
break-even and its refusal, the EX exit and the equal-notional basket."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from engine import ranges
from engine.cluster import clusters_from_toml
from engine.errors import ConfigError
from engine.kinds.basis import BasisModel, basis_batch, break_even_bp, threshold_refusal
from engine.kinds.basis_params import DIAGNOSTICS, BasisMarket, BasisParams
from engine.kinds.basis_roll import roll_target
from engine.model import Direction, ExitCode

H1 = 3600
DAY = 86_400
#: 2019-12-20 00:00 UTC: the contract's expiry in these tests.
EXPIRY = 1_576_800_000
MARKET = BasisMarket("XAUUSD_Z19", EXPIRY, cash_spread=0.30, future_spread=0.45,
                     swap_day_long=-0.0001, swap_day_short=0.00005)
PARAMS = BasisParams(rate=0.03, carry_yield=0.01, close_days=2.0, holding_days=4.0,
                     commission_bp=0.5, market=MARKET)


def _bars(n: int, start_days_before: float = 10.0) -> np.ndarray:
    return (EXPIRY - int(start_days_before * DAY) + H1 * np.arange(n)).astype(np.int64)


def _path(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cash = 1500.0 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    future = cash * np.exp(0.0003 + rng.normal(0, 0.0004, n))
    return np.column_stack([cash, future])


def test_one_bar_by_hand() -> None:
    # Arrange: a bar that closes exactly 10 days before expiry (opens one hour earlier)
    model = BasisModel(("XAUUSD", "XAUUSD_Z19"), PARAMS, H1, entry=10.0)
    bar_s = EXPIRY - 10 * DAY - H1
    # Act
    point = model.update(np.array([1500.0, 1501.5]), bar_s)
    # Assert: ln(1501.5/1500) = 9.995003e-4; fair = 0.02 x 10/365 = 5.479452e-4
    d = dict(zip(DIAGNOSTICS, point.diagnostics, strict=True))
    assert d["days"] == 10.0
    assert d["log_basis"] == pytest.approx(9.995003331667e-4 * 1e4, abs=1e-9)
    assert d["fair"] == pytest.approx(0.02 * 10 / 365 * 1e4, abs=1e-12)
    assert point.score == pytest.approx(9.995003331667 - 5.479452054795, abs=1e-9)
    # spread 0.30/1500 + 0.45/1501.5 = 2e-4 + 2.997003e-4; commission 4 x 0.5; swap 4 x 1e-4
    assert d["be_spread"] == pytest.approx(2.0 + 2.997002997003, abs=1e-9)
    assert d["be_commission"] == 2.0
    assert d["be_swap"] == pytest.approx(4.0, abs=1e-12)
    assert d["break_even"] == pytest.approx(10.997002997003, abs=1e-9)
    assert point.valid
    assert point.lock_code == "BREAK_EVEN"  # E 10 is below 11.0 bp


def test_lock_and_ex_inside_close_days() -> None:
    model = BasisModel(("XAUUSD", "XAUUSD_Z19"), PARAMS, H1, entry=20.0)
    far = model.update(np.array([1500.0, 1501.0]), EXPIRY - 3 * DAY)
    near = model.update(np.array([1500.0, 1501.0]), EXPIRY - 2 * DAY - H1)
    assert far.lock == "" and model.forced_exit(far) is None
    assert near.lock_code == "EXPIRY"
    code, detail = model.forced_exit(near)
    assert code is ExitCode.EX
    assert "2.0 days to XAUUSD_Z19's expiry <= close_days 2" in detail


def test_expired_contract_has_no_score() -> None:
    model = BasisModel(("XAUUSD", "XAUUSD_Z19"), PARAMS, H1, entry=20.0)
    point = model.update(np.array([1500.0, 1500.0]), EXPIRY)
    assert not point.valid and point.lock == "EXPIRY: XAUUSD_Z19 expired"
    assert model.forced_exit(point)[0] is ExitCode.EX


def test_batch_equals_streaming_and_truncation() -> None:
    # Arrange
    n = 260  # 10.8 days of H1 bars from 10 days before expiry
    t, closes = _bars(n), _path(n)
    model = BasisModel(("C", "F"), PARAMS, H1, entry=15.0)
    # Act
    points = [model.update(closes[i], int(t[i])) for i in range(n)]
    batch = basis_batch(t, closes, PARAMS, H1, entry=15.0)
    cut = basis_batch(t[57:], closes[57:], PARAMS, H1, entry=15.0)
    # Assert
    for j, name in enumerate(DIAGNOSTICS):
        stream = np.array([p.diagnostics[j] for p in points])
        np.testing.assert_allclose(stream, batch[name], rtol=0, atol=1e-9, equal_nan=True)
    np.testing.assert_allclose([p.score for p in points], batch["score"], atol=1e-9,
                               equal_nan=True)
    assert [p.lock_code for p in points] == list(batch["lock"])
    np.testing.assert_array_equal(cut["score"], batch["score"][57:])
    # the contract expires inside the path: the last bars are locked, the final ones invalid
    assert batch["lock"][-1] == "EXPIRY" and np.isnan(batch["score"][-1])


def test_provisional_is_next_update_at_the_same_prices() -> None:
    model = BasisModel(("C", "F"), PARAMS, H1, entry=15.0)
    t = EXPIRY - 8 * DAY
    model.update(np.array([1500.0, 1502.0]), t)
    prov = model.provisional(np.array([1490.0, 1493.0]))
    # the provisional keeps the last bar's tau: recompute by hand
    tau = (EXPIRY - t - H1) / DAY / 365
    assert prov == pytest.approx(1e4 * (math.log(1493 / 1490) - 0.02 * tau), abs=1e-9)


def test_exposures_long_the_cheap_leg_equal_notional() -> None:
    model = BasisModel(("XAUUSD", "XAUUSD_Z19"), PARAMS, H1, entry=15.0)
    point = model.update(np.array([1500.0, 1497.0]), EXPIRY - 9 * DAY)
    assert point.score < -15.0  # the future is cheap
    assert model.exposures(point, Direction.LONG) == {"XAUUSD": -0.5, "XAUUSD_Z19": 0.5}
    assert model.exposures(point, Direction.SHORT) == {"XAUUSD": 0.5, "XAUUSD_Z19": -0.5}


def test_threshold_refusal_names_cluster_e_and_parts() -> None:
    message = threshold_refusal("GOLDB", 8.0, PARAMS, 1500.0, 1501.5)
    assert message == ("cluster GOLDB: entry 8 bp is not above the break-even 11.00 bp "
                       "(spread 5.00 + commission 2.00 + swap 4.00 over 4 days): every "
                       "entry would pay more than the move it trades")
    assert threshold_refusal("GOLDB", 12.0, PARAMS, 1500.0, 1501.5) == ""
    model = BasisModel(("XAUUSD", "XAUUSD_Z19"), PARAMS, H1, entry=15.0, cluster="GOLDB")
    assert model.refuse_thresholds(5.0, 1.0) == ""  # no bar yet: nothing to compare with
    model.update(np.array([1500.0, 1501.5]), EXPIRY - 9 * DAY)
    assert model.refuse_thresholds(8.0, 2.0).startswith("cluster GOLDB: entry 8 bp")


def test_break_even_without_market_is_commission_only() -> None:
    params = BasisParams(commission_bp=1.0, expiry="2019-12-20")
    assert break_even_bp(params, 100.0, 101.0) == (4.0, 0.0, 4.0, 0.0)
    assert params.expiry_s == EXPIRY


def test_carry_from_swap() -> None:
    market = BasisMarket("F", EXPIRY, carry_swap=0.025)
    assert BasisParams(carry="swap", market=market).annual_carry == 0.025
    with_yield = BasisParams(carry="swap", carry_yield=0.01, market=market)
    assert with_yield.annual_carry == pytest.approx(0.015, abs=1e-15)
    assert math.isnan(BasisParams(carry="swap").annual_carry)


@pytest.mark.parametrize(("table", "key"), [
    ({"carry": "implied"}, "carry"), ({"rate": 5}, "rate"), ({"close_days": -1}, "close_days"),
    ({"expiry": "20-12-2019"}, "expiry"), ({"commission_bp": 200}, "commission_bp"),
    ({"market": {"future": "X"}}, "market"), ({"windw": 3}, "windw"),
])
def test_bad_table_is_one_line_naming_the_key(table: dict, key: str) -> None:
    raw = {"cluster": [{"name": "GB", "kind": "basis", "symbols": ["XAUUSD", "auto"],
                        "magic": 7, "basis": table}]}
    with pytest.raises(ConfigError) as err:
        clusters_from_toml(raw, Path("b.toml"))
    assert f"cluster[0].basis.{key}" in str(err.value)
    assert "\n" not in str(err.value)


def test_cash_cannot_be_auto() -> None:
    with pytest.raises(ranges.FieldError, match="only the second"):
        BasisParams().check_symbols(("auto", "XAUUSD_Z19"))


def test_toml_defaults_and_roll_target() -> None:
    raw = {"cluster": [{"name": "GB", "kind": "basis", "symbols": ["XAUUSD", "XAUUSD_Z19"],
                        "magic": 7, "timeframe": "H1"}]}
    spec = clusters_from_toml(raw, Path("b.toml"))[0]
    assert (spec.entry, spec.exit_band, spec.stops.tdi_stop) == (10.0, 2.0, 60.0)
    assert "no contract after XAUUSD_Z19" in roll_target(spec)
    nxt = BasisMarket("XAUUSD_H20", EXPIRY + 90 * DAY)
    rolled = roll_target(spec.__class__(**{**spec.__dict__, "params": BasisParams(
        market=BasisMarket("XAUUSD_Z19", EXPIRY, next_market=nxt))}))
    assert rolled[0] == "XAUUSD_H20"
    assert rolled[1].symbols == ("XAUUSD", "XAUUSD_H20")
    assert rolled[1].params.expiry_s == EXPIRY + 90 * DAY
