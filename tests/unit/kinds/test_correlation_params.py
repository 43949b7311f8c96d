"""``CorrelationParams``: the ``[cluster.correlation]`` table's defaults and refusals."""

from __future__ import annotations

import pytest

from engine.kinds.correlation_params import CorrelationParams
from engine.ranges import FieldError


def test_defaults_with_a_target() -> None:
    params = CorrelationParams(targets=["USD_MAJORS"])  # type: ignore[arg-type]
    assert (params.fast_window, params.slow_window, params.rule, params.action) == \
        (24, 240, "crossing", "lock")
    assert params.targets == ("USD_MAJORS",)      # a TOML list becomes a tuple
    assert params.weights == (1.0, -1.0) and params.confidence == 0.95


def test_a_trade_cluster_needs_no_target() -> None:
    params = CorrelationParams(action="trade", weights=[2, -1])  # type: ignore[arg-type]
    assert params.weights == (2.0, -1.0) and params.targets == ()


@pytest.mark.parametrize(("kw", "field", "words"), [
    ({}, "targets", "at least one"),
    ({"targets": ("A", "A")}, "targets", "twice"),
    ({"targets": "USD_MAJORS"}, "targets", "list"),
    ({"targets": ("TOO_LONG_NAME",)}, "targets", "characters"),
    ({"targets": ("A",), "fast_window": 4}, "fast_window", "5.."),
    ({"targets": ("A",), "fast_window": 24.0}, "fast_window", "integer"),
    ({"targets": ("A",), "slow_window": 24}, "slow_window", "25.."),
    ({"targets": ("A",), "rule": "cross"}, "rule", "crossing, sign_flip"),
    ({"targets": ("A",), "action": "hedge"}, "action", "lock, trade"),
    ({"action": "trade", "weights": (1.0,)}, "weights", "two numbers"),
    ({"action": "trade", "weights": (0.0, 0.0)}, "weights", "non-zero"),
    ({"action": "trade", "weights": (1.0, float("nan"))}, "weights", "finite"),
    ({"targets": ("A",), "confidence": 1.0}, "confidence", "0.999"),
])
def test_refusals_name_the_field(kw: dict, field: str, words: str) -> None:
    with pytest.raises(FieldError) as caught:
        CorrelationParams(**kw)
    assert caught.value.field == field
    assert words in caught.value.reason
