"""The ``correlation`` kind on real 2019 prices: SPXUSD against XAUUSD and BCOUSD against
USDCAD in H1, the pinned regime history of June-August (``tests/data/correlation``, runs on
a fresh clone) and the whole year from ``../shared/data`` when it is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.paths import TEST_DATA

from engine.bars import align_closes
from engine.kinds.correlation import CorrelationModel, correlation_batch
from engine.kinds.correlation_params import CorrelationParams
from engine.timeframes import resample_to
from storage.histdata import read_histdata_m1

PAIRS = (("SPXUSD", "XAUUSD"), ("BCOUSD", "USDCAD"))
SLICE = "{0}_{1}_H1_2019-06_2019-08.csv"
FILES = {"SPXUSD": "cfd_m1", "BCOUSD": "cfd_m1", "XAUUSD": "fx_m1", "USDCAD": "fx_m1"}


def slice_closes(pair: tuple[str, str]) -> pd.DataFrame:
    path = TEST_DATA / "correlation" / SLICE.format(*pair)
    return pd.read_csv(path, index_col="time_utc", parse_dates=["time_utc"])


def params(rule: str) -> CorrelationParams:
    """The kind's defaults: 24 and 240 H1 returns (a trading day, two weeks)."""
    return CorrelationParams(rule=rule, targets=("USD_MAJORS",))


def transitions(batch: pd.DataFrame) -> list[str]:
    """Each bar where the regime changed (not where it began), as "MM-DD HH regime"."""
    regime = batch["regime"]
    turned = regime.ne(regime.shift()) & regime.ne("") & regime.shift().ne("")
    return [f"{t:%m-%d %H} {r}" for t, r in zip(batch.index[turned], regime[turned],
                                                strict=True)]


#: June-August 2019, H1, E = 2, X = 0.5 (the regime begins normal at the first warm bar,
#: 2019-06-17 10:00 UTC for SPXUSD/XAUUSD, 2019-06-18 10:00 for BCOUSD/USDCAD).
PINNED = {
    ("SPXUSD", "XAUUSD", "crossing"): (
        ["06-19 15 broken", "06-20 20 normal", "06-24 16 broken", "06-25 06 normal",
         "07-01 02 broken", "07-02 00 normal", "07-04 03 broken", "07-08 18 normal",
         "07-10 13 broken", "07-11 15 normal", "07-11 20 broken", "07-12 19 normal",
         "07-15 18 broken", "07-16 19 normal", "07-17 15 broken", "07-19 15 normal",
         "07-25 13 broken", "07-29 17 normal", "07-31 19 broken", "08-07 05 normal",
         "08-12 05 broken", "08-14 16 normal", "08-19 16 broken", "08-25 23 normal",
         "08-26 16 broken", "08-27 10 normal"], 689, 559),
    ("SPXUSD", "XAUUSD", "sign_flip"): (
        ["06-19 15 broken", "06-20 09 normal", "07-04 05 broken", "07-05 00 normal",
         "07-05 13 broken", "07-08 18 normal", "07-18 11 broken", "07-18 19 normal",
         "08-01 20 broken", "08-02 02 normal", "08-02 03 broken", "08-02 06 normal"],
        1173, 75),
    ("BCOUSD", "USDCAD", "crossing"): (
        ["06-18 14 broken", "06-18 15 normal", "06-21 01 broken", "06-25 01 normal",
         "07-02 04 broken", "07-04 05 normal", "07-05 16 broken", "07-09 15 normal",
         "07-16 18 broken", "07-17 21 normal", "07-18 06 broken", "07-18 14 normal",
         "07-26 08 broken", "07-26 17 normal", "07-30 12 broken", "07-30 19 normal",
         "07-31 19 broken", "08-01 18 normal", "08-05 09 broken", "08-06 02 normal",
         "08-13 14 broken", "08-15 15 normal", "08-19 18 broken", "08-22 15 normal",
         "08-23 21 broken", "08-26 18 normal", "08-27 04 broken", "08-27 21 normal"],
        769, 347),
    ("BCOUSD", "USDCAD", "sign_flip"): (
        ["07-08 11 broken", "07-08 19 normal", "07-18 12 broken", "07-18 14 normal"],
        1106, 10),
}


@pytest.mark.parametrize(("first", "second", "rule"), list(PINNED))
def test_pinned_regime_history(first: str, second: str, rule: str) -> None:
    # Arrange
    closes = slice_closes((first, second))
    expected, normal_bars, broken_bars = PINNED[(first, second, rule)]
    # Act
    batch = correlation_batch(closes, params(rule))
    # Assert
    assert transitions(batch) == expected
    counts = batch["regime"].value_counts()
    assert (counts["normal"], counts["broken"], counts[""]) == (normal_bars, broken_bars, 240)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("rule", ["crossing", "sign_flip"])
def test_batch_equals_streaming_on_real_prices(pair: tuple[str, str], rule: str) -> None:
    # Arrange
    closes = slice_closes(pair)
    model = CorrelationModel(pair, params(rule))
    # Act
    batch = correlation_batch(closes, params(rule))
    points = [model.update(row, i) for i, row in enumerate(closes.to_numpy())]
    # Assert
    np.testing.assert_allclose([p.score for p in points], batch["score"], rtol=0, atol=1e-9)
    assert [p.regime for p in points] == batch["regime"].tolist()


@pytest.mark.parametrize("pair", PAIRS)
def test_rho_equals_pandas_rolling_correlation_on_real_prices(pair: tuple[str, str]) -> None:
    closes = slice_closes(pair)
    returns = np.log(closes).diff()
    batch = correlation_batch(closes, params("crossing")).iloc[240:]
    for window, column in ((24, "rho_fast"), (240, "rho_slow")):
        expected = returns.iloc[:, 0].rolling(window).corr(returns.iloc[:, 1]).iloc[240:]
        np.testing.assert_allclose(batch[column], expected, rtol=0, atol=1e-12)


def test_the_regimes_of_the_summer_of_2019() -> None:
    """What the figures say: gold and the S&P 500 were negatively correlated over the slow
    window on more than two thirds of the summer's bars (69%); Brent and USDCAD on every bar
    (oil up, the Canadian dollar up, USDCAD down)."""
    spx_gold = correlation_batch(slice_closes(PAIRS[0]), params("crossing")).iloc[240:]
    oil_cad = correlation_batch(slice_closes(PAIRS[1]), params("crossing")).iloc[240:]
    assert (spx_gold["rho_slow"] < 0).mean() > 2 / 3
    assert (oil_cad["rho_slow"] < 0).all()


# --------------------------------------------------------------- the whole of 2019
def full_year_h1(shared: Path, pair: tuple[str, str]) -> pd.DataFrame:
    bars = {s: resample_to(read_histdata_m1(
        shared / FILES[s] / f"DAT_ASCII_{s}_M1_2019.csv.gz").to_bar_array(0.0), "H1")
        for s in pair}
    return align_closes(bars, pair).closes


#: 2019, H1, E = 2, X = 0.5: regime changes, normal bars, broken bars.
FULL_YEAR = {
    ("SPXUSD", "XAUUSD", "crossing"): (128, 3502, 2145),
    ("SPXUSD", "XAUUSD", "sign_flip"): (34, 5373, 274),
    ("BCOUSD", "USDCAD", "crossing"): (118, 3612, 1509),
    ("BCOUSD", "USDCAD", "sign_flip"): (18, 5017, 104),
}


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("pair", PAIRS)
def test_full_year_from_the_m1_files(shared_data: Path, pair: tuple[str, str]) -> None:
    # Arrange
    closes = full_year_h1(shared_data, pair)
    stored = slice_closes(pair)
    # Act
    batches = {rule: correlation_batch(closes, params(rule)) for rule in ("crossing", "sign_flip")}
    model = CorrelationModel(pair, params("crossing"))
    points = [model.update(row, i) for i, row in enumerate(closes.to_numpy())]
    # Assert: the stored slice is these closes, to the last digit
    pd.testing.assert_frame_equal(closes.loc[stored.index], stored, check_freq=False,
                                  check_exact=True)
    for rule, batch in batches.items():
        counts = batch["regime"].value_counts()
        assert (len(transitions(batch)), counts["normal"], counts["broken"]) == \
            FULL_YEAR[(*pair, rule)]
    np.testing.assert_allclose([p.score for p in points], batches["crossing"]["score"],
                               rtol=0, atol=1e-9)
