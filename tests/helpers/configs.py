"""Engine config files the integration tests write.

Short TDI windows, so that the three weeks of real M1 data in ``tests/data/histdata`` warm
the TDI up in a few days, and the two clusters those seven symbols feed best.
"""

from __future__ import annotations

SHORT_WINDOWS = """
[defaults]
tau_f = 4
tau_s = 24
tau_q = 96
atr_bars = 14
"""

CLUSTER_TABLES = {
    "USD_MAJORS": """
[[cluster]]
name = "USD_MAJORS"
symbols = ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF"]
magic = 710001
""",
    "GOLD_HAVENS": """
[[cluster]]
name = "GOLD_HAVENS"
symbols = ["XAUUSD", "EURUSD", "USDCHF", "USDJPY"]
magic = 710003
""",
}


def short_window_config(*clusters: str) -> str:
    """The TOML text of a config with the short windows and the named clusters."""
    return SHORT_WINDOWS + "".join(CLUSTER_TABLES[name] for name in clusters)

#: A ``pair`` cluster on EURUSD/GBPUSD with windows the three weeks of the slice warm up.
PAIR_EUGB = """
[[cluster]]
name = "EUGB_PAIR"
kind = "pair"
symbols = ["EURUSD", "GBPUSD"]
magic = 720001
time_stop_bars = 48

[cluster.pair]
hedge_window = 96
z_window = 48
test_every = 12
"""
