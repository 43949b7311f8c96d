"""The pair kind's points as tables, and a synthetic cointegrated history, for its tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.kinds.base import KindPoint
from engine.kinds.pair import PairModel
from engine.kinds.pair_params import DIAGNOSTICS, PairParams

LEGS = ["AAA", "BBB", "CCC"]


def cointegrated(n: int, seed: int, legs: int = 2) -> pd.DataFrame:
    """Leg 1 = 1.2 x leg 2 (- 0.5 x leg 3) + an AR(1) spread with b = -0.1, in log prices."""
    rng = np.random.default_rng(seed)
    others = np.cumsum(rng.normal(0, 0.01, (n, legs - 1)), axis=0) + np.log([50.0, 30.0][
        : legs - 1])
    spread = np.zeros(n)
    for t in range(1, n):
        spread[t] = 0.9 * spread[t - 1] + rng.normal(0, 0.004)
    lead = others @ np.array([1.2, -0.5][: legs - 1]) + spread + 1.0
    logs = np.column_stack([lead, others])
    index = pd.date_range("2021-01-04", periods=n, freq="D", tz="UTC")
    return pd.DataFrame(np.exp(logs), index=index, columns=LEGS[:legs])


def stream(closes: pd.DataFrame, params: PairParams, **factor: object) -> list[KindPoint]:
    model = PairModel(list(closes.columns[: model_legs(closes, factor)]), params, **factor)
    return [model.update(row, int(t.timestamp()))
            for t, row in zip(closes.index, closes.to_numpy(), strict=True)]


def model_legs(closes: pd.DataFrame, factor: dict) -> int:
    series = factor.get("factor_series")
    extra = [s for s in series.symbols if s in closes.columns] if series else []
    return len(closes.columns) - len(extra)


def as_table(points: list[KindPoint], index: pd.Index) -> pd.DataFrame:
    table = pd.DataFrame([p.diagnostics for p in points], index=index, columns=DIAGNOSTICS)
    table.insert(0, "lock", [p.lock for p in points])
    table.insert(0, "valid", [p.valid for p in points])
    table.insert(0, "score", [p.score for p in points])
    return table


def assert_same(streamed: pd.DataFrame, batch: pd.DataFrame, tol: float = 1e-9) -> None:
    assert list(streamed["valid"]) == list(batch["valid"])
    assert list(streamed["lock"]) == list(batch["lock"])
    for column in ["score", *DIAGNOSTICS]:
        a = streamed[column].to_numpy(float)
        b = batch[column].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), column
        finite = np.isfinite(a)
        assert np.allclose(a[finite], b[finite], rtol=0, atol=tol), column
