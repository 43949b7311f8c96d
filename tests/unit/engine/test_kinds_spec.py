"""A cluster's kind: which symbols each kind takes, the kind's table and defaults, and that
a TDI cluster reads, hashes and trades exactly as before kinds existed."""

from __future__ import annotations

import pytest

from engine import ranges
from engine.cluster import ClusterSpec, load_clusters
from engine.config import load_engine_config
from engine.errors import ConfigError
from engine.kinds import KIND_DEFAULTS
from engine.kinds.correlation_params import CorrelationParams
from engine.kinds.pair_params import PairParams


def test_the_default_config_hashes_as_before_kinds_existed():
    # Act
    digest = load_engine_config().config_hash()
    # Assert: the digest the journal holds for every run made with the shipped file
    assert digest == "ddd6094b32d951f3"


def test_a_pair_takes_any_broker_name_and_trades_its_legs_as_quoted():
    # Act
    spec = ClusterSpec("KOPEP", ("KO", "PEP"), 1, kind="pair", entry=2.0, exit_band=0.5)
    # Assert
    assert spec.params == PairParams()
    assert spec.orientation == {"KO": 1, "PEP": 1}
    assert spec.numeraire == ""
    assert spec.currencies == frozenset()  # the engine adds the broker's quote currencies


@pytest.mark.parametrize(("kind", "symbols", "reason"), [
    ("tdi", ("EURUSD", "GBPUSD"), "a tdi cluster needs 3 to 6 symbols"),
    ("tdi", ("KO", "PEP", "XOMUSD"), "KO"),
    ("correlation", ("EURUSD", "USDCHF", "GBPUSD"), "exactly 2"),
    ("pair", ("KO",), "2 to 6"),
    ("pairs", ("KO", "PEP"), "kind"),
])
def test_each_kind_takes_its_own_number_of_symbols(kind, symbols, reason):
    # Act / Assert
    with pytest.raises(ranges.FieldError, match=reason):
        ClusterSpec("X", symbols, 1, kind=kind,
                    params=CorrelationParams(targets=("Y",)) if kind == "correlation" else None)


def test_a_kind_table_and_the_kind_defaults_are_read_from_the_file(tmp_path):
    # Arrange: [defaults] thresholds are the TDI's units and do not reach the pair
    path = tmp_path / "c.toml"
    path.write_text("""
[defaults]
entry = 1.5
exit = 0.3
time_stop_bars = 40

[[cluster]]
name = "MAJ"
symbols = ["EURUSD", "GBPUSD", "AUDUSD"]
magic = 1

[[cluster]]
name = "KOPEP"
kind = "pair"
symbols = ["KO", "PEP"]
magic = 2
timeframe = "D1"
time_stop_bars = 30

[cluster.pair]
hedge = "tls"
hedge_window = 120
""")
    # Act
    tdi, pair = load_clusters(path)
    # Assert
    assert (tdi.kind, tdi.entry, tdi.exit_band) == ("tdi", 1.5, 0.3)
    defaults = KIND_DEFAULTS["pair"]
    assert (pair.kind, pair.entry, pair.exit_band, pair.stops.tdi_stop) == (
        "pair", defaults.entry, defaults.exit_band, defaults.score_stop)
    assert pair.stops.time_stop_bars == 30
    assert (pair.params.hedge, pair.params.hedge_window) == ("tls", 120)


def test_a_correlation_lock_without_targets_is_refused_naming_the_table(tmp_path):
    # Arrange
    path = tmp_path / "c.toml"
    path.write_text("""
[[cluster]]
name = "RG"
kind = "correlation"
symbols = ["EURUSD", "USDCHF"]
magic = 2
""")
    # Act / Assert
    with pytest.raises(ConfigError, match=r"cluster\[0\]"):
        load_clusters(path)


def test_a_factor_on_a_price_space_pair_is_refused_when_the_spec_is_built():
    # Act / Assert: the factor stage works on log prices; the file says so, not the first bar
    with pytest.raises(ranges.FieldError, match="factor"):
        ClusterSpec("KOPEP", ("KO", "PEP"), 1, kind="pair", params=PairParams(space="price"),
                    factor="pc1", entry=2.0, exit_band=0.5)
