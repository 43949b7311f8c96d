"""The simulated MetaTrader 5 terminal and its market feeds.

The public names are loaded on first use, so importing a light submodule such as
``mt5bridge.sim.symbols`` does not pull in the terminal (and numpy-heavy bar building).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mt5bridge.sim.config import SimConfig
    from mt5bridge.sim.faults import FaultConfig
    from mt5bridge.sim.feeds import ArrayFeed
    from mt5bridge.sim.terminal import SimTerminal

__all__ = ["ArrayFeed", "FaultConfig", "SimConfig", "SimTerminal"]

_HOMES = {
    "ArrayFeed": "mt5bridge.sim.feeds",
    "FaultConfig": "mt5bridge.sim.faults",
    "SimConfig": "mt5bridge.sim.config",
    "SimTerminal": "mt5bridge.sim.terminal",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mt5bridge.sim' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
