"""Walk-forward folds: anchored and rolling, in-sample always before its out-of-sample window."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from app.walkforward import explicit_fold, make_folds
from engine.errors import UserError


def _d(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def _spans(folds):
    return [(f"{f.is_start:%m-%d}", f"{f.is_end:%m-%d}", f"{f.oos_start:%m-%d}",
             f"{f.oos_end:%m-%d}") for f in folds]


def test_anchored_folds_grow_from_the_start_and_tile_the_out_of_sample_part():
    # Arrange: 2019-01-01 .. 2019-12-31 inclusive is 365 days; 0.5 of it is 182 (round half
    # to even of 182.5) out-of-sample days, 183 in-sample
    # Act
    folds = make_folds(_d("2019-01-01"), _d("2020-01-01"), 2, "anchored", 0.5)

    # Assert
    assert _spans(folds) == [("01-01", "07-03", "07-03", "10-02"),
                             ("01-01", "10-02", "10-02", "01-01")]
    assert [f.as_dict()["oos_days"] for f in folds] == ["2019-07-03..2019-10-01",
                                                        "2019-10-02..2019-12-31"]


def test_rolling_folds_keep_the_first_in_sample_length():
    # Arrange: 100 days, 40 out-of-sample in four windows of 10, in-sample 60 days each
    start = _d("2024-01-01")

    # Act
    folds = make_folds(start, _d("2024-04-10"), 4, "rolling", 0.4)

    # Assert
    assert _spans(folds) == [("01-01", "03-01", "03-01", "03-11"),
                             ("01-11", "03-11", "03-11", "03-21"),
                             ("01-21", "03-21", "03-21", "03-31"),
                             ("01-31", "03-31", "03-31", "04-10")]
    assert {(f.is_end - f.is_start).days for f in folds} == {60}


@pytest.mark.parametrize("scheme", ["anchored", "rolling"])
def test_out_of_sample_windows_never_overlap_and_in_sample_is_always_before(scheme):
    folds = make_folds(_d("2019-01-01"), _d("2019-12-31"), 5, scheme, 0.37)
    for fold in folds:
        assert fold.is_start < fold.is_end <= fold.oos_start < fold.oos_end
    for a, b in itertools.pairwise(folds):
        assert a.oos_end == b.oos_start  # consecutive, no gap, no overlap
    assert folds[-1].oos_end == _d("2019-12-31")
    assert [f.number for f in folds] == [1, 2, 3, 4, 5]


def test_one_fold_at_one_half_is_the_half_and_half_split():
    (fold,) = make_folds(_d("2019-01-01"), _d("2019-01-11"), 1)
    assert _spans([fold]) == [("01-01", "01-06", "01-06", "01-11")]


@pytest.mark.parametrize(
    ("folds", "scheme", "fraction", "fragment"),
    [
        (0, "anchored", 0.5, "--folds: expected a whole number of folds in 1..52"),
        (53, "anchored", 0.5, "--folds"),
        (2, "sideways", 0.5, "--scheme: 'sideways' is not one of anchored, rolling"),
        (2, "anchored", 1.0, "--oos-fraction: expected a fraction strictly between 0 and 1"),
        (2, "anchored", float("nan"), "--oos-fraction"),
        (8, "anchored", 0.5, "too few for 8 fold(s)"),
    ],
)
def test_a_split_that_cannot_be_made_is_refused_naming_the_option(folds, scheme, fraction,
                                                                   fragment):
    with pytest.raises(UserError) as caught:
        make_folds(_d("2024-01-01"), _d("2024-01-11"), folds, scheme, fraction)
    assert fragment in str(caught.value)


def test_an_explicit_fold_must_put_in_sample_first():
    with pytest.raises(UserError, match="must start after the in-sample span ends"):
        explicit_fold((_d("2024-01-01"), _d("2024-01-10")), (_d("2024-01-09"), _d("2024-01-20")))
    (fold,) = explicit_fold((_d("2024-01-01"), _d("2024-01-10")),
                            (_d("2024-01-10"), _d("2024-01-20")))
    assert fold.number == 1 and fold.oos_start == _d("2024-01-10")
