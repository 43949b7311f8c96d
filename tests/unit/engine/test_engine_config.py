"""The engine config file: sections, types and errors that name file, key and reason."""

from __future__ import annotations

import pytest

from engine.config import load_engine_config
from engine.errors import ConfigError
from engine.model import Impact

CLUSTER = """
[[cluster]]
name = "A"
symbols = ["EURUSD", "GBPUSD", "AUDUSD"]
magic = 1
"""


def write(tmp_path, text: str):
    path = tmp_path / "engine.toml"
    path.write_text(text)
    return path


def test_default_config_loads_with_every_section():
    cfg = load_engine_config()
    assert len(cfg.clusters) == 8
    assert cfg.risk.risk_per_trade == 0.003
    assert cfg.news.min_impact is Impact.HIGH
    assert cfg.execution.max_retries == 3
    assert len(cfg.config_hash()) == 16


def test_sections_override_defaults(tmp_path):
    cfg = load_engine_config(write(tmp_path, CLUSTER + """
[risk]
risk_per_trade = 0.005
max_drawdown = 0.1
[news]
min_impact = "medium"
stale_policy = "allow"
[execution]
deviation_points = 5
"""))
    assert (cfg.risk.risk_per_trade, cfg.risk.max_drawdown) == (0.005, 0.1)
    assert cfg.news.min_impact is Impact.MEDIUM
    assert cfg.execution.deviation_points == 5
    assert cfg.config_hash() != load_engine_config().config_hash()


@pytest.mark.parametrize(
    ("extra", "key", "reason"),
    [
        ("[risk]\nrisk_per_trad = 0.1\n", "risk.risk_per_trad", "unknown key"),
        ("[risk]\nrisk_per_trade = 'lots'\n", "risk.risk_per_trade", "expected float"),
        ("[news]\nmin_impact = 'huge'\n", "news.min_impact", "expected one of"),
        ("[execution]\nmax_retries = true\n", "execution.max_retries", "expected int"),
        ("[riskk]\n", "riskk", "unknown section"),
        ("[risk]\nmax_drawdown = -1.0\n", "risk.max_drawdown", "max_drawdown"),
    ],
)
def test_errors_name_the_file_the_key_and_the_reason(tmp_path, extra, key, reason):
    path = write(tmp_path, CLUSTER + extra)
    with pytest.raises(ConfigError) as info:
        load_engine_config(path)
    assert info.value.path == str(path)
    assert info.value.key == key
    assert reason in str(info.value)
