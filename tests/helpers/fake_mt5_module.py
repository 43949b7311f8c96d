"""A module with the ``MetaTrader5`` package's surface whose functions are a simulated terminal's.

Importing it builds one ``SimTerminal`` on the synthetic market (``build_terminal``) and
binds the module's functions to it: ``initialize``, ``order_send``, ``copy_rates_from`` ...
are the terminal's real methods, and the module's constants are the package's.  It stands in
for the real package wherever a test must serve "a module" the way a Windows Python serves
``MetaTrader5``: ``main.py terminal-server --module tests.helpers.fake_mt5_module``, the
one-file server (``--write-zipapp``), an RPyC classic server whose ``MetaTrader5`` it is.

The market is the crash test's (seed 5, Monday 2024-01-08, six symbols, latency on) unless
``FXCLUSTER_FAKE_MT5`` holds JSON options (``seed``, ``start``, ``symbols``,
``symbol_suffix``, ``latency_strength``, ``algo_trading``); ``build_terminal`` with the same
options builds an identical terminal in the test's own process, to compare with.

The simulator's ``sim_*`` controls (its clock above all) are module attributes too, read
through the module's ``__getattr__``: a terminal server passes them on only when started
with ``--simulator-controls``.

Run from the one-file server, whose ``mt5bridge`` and ``engine`` packages hold only the
server's modules, the simulator's packages are found in this repository: their folders are
added to those packages' search paths (after the server's own, which keep precedence).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_REPO = Path(__file__).resolve().parents[2]


def _reach_the_simulator() -> None:
    import engine
    import mt5bridge

    for package, folder in ((mt5bridge, _REPO / "mt5bridge"), (engine, _REPO / "engine")):
        if str(folder) not in [str(Path(p)) for p in package.__path__]:
            package.__path__.append(str(folder))


_reach_the_simulator()

from mt5bridge import constants as _c  # noqa: E402
from mt5bridge.remote.wire import MT5_FUNCTIONS as _FUNCTIONS  # noqa: E402

#: The crash test's market: one trading week of six symbols.
DEFAULT_OPTIONS: dict[str, Any] = {
    "seed": 5,
    "start": "2024-01-08T00:00:00+00:00",
    "symbols": ["EURUSD", "GBPUSD", "AUDUSD", "USDCHF", "USDJPY", "XAUUSD"],
    "symbol_suffix": "",
    "latency_strength": 2.0,
    "algo_trading": True,
}
ENV = "FXCLUSTER_FAKE_MT5"


def options_from_env() -> dict[str, Any]:
    text = os.environ.get(ENV)
    return {**DEFAULT_OPTIONS, **(json.loads(text) if text else {})}


def build_terminal(options: dict[str, Any] | None = None) -> Any:
    """The simulated terminal of ``options`` (the defaults above), initialized."""
    from mt5bridge.sim import SimConfig, SimTerminal
    from mt5bridge.sim.market import MarketConfig, SyntheticMarket

    o = {**DEFAULT_OPTIONS, **(options or {})}
    start = datetime.fromisoformat(o["start"])
    market = SyntheticMarket(MarketConfig(
        seed=int(o["seed"]), start=start if start.tzinfo else start.replace(tzinfo=UTC),
        symbols=tuple(o["symbols"]), latency=True,
        latency_strength=float(o["latency_strength"])))
    # A fixed account epoch: two terminals built from the same options are the same account.
    sim = SimTerminal(feed=market, config=SimConfig(symbol_suffix=o["symbol_suffix"],
                                                    account_epoch=f"fake-mt5-{o['seed']}"))
    assert sim.initialize()
    if not o["algo_trading"]:
        sim.sim_set_algo_trading(False)
    return sim


TERMINAL = build_terminal(options_from_env())

__version__ = TERMINAL.__version__
__author__ = TERMINAL.__author__

for _name in _FUNCTIONS:
    globals()[_name] = getattr(TERMINAL, _name)
for _name, _value in _c.MT5_CONSTANTS.items():
    globals()[_name] = _value
del _name, _value


def __getattr__(name: str) -> Any:
    """The simulator's controls (``sim_advance_to``, ``sim_config`` ...), read fresh."""
    if name.startswith("sim_"):
        return getattr(TERMINAL, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
