"""Which account the simulated terminal presents: one of its own per seed or market.

A journal belongs to one account (``engine.records.AccountIdentity``), so the simulator must
not present every market as the same account: the demo market of seed 1 is not that of seed
0, and a replay of 2019 EURUSD files is neither.  Each kind of market has its server
(``FxCluster-Demo``, ``FxCluster-Replay``, ``FxCluster-Backtest``) and each market a login
derived from what the market is: the demo's seed (seed N is login 52 700 001 + N, so the
default demo keeps the simulator's default login), the files or the store a replay or a
backtest reads.  The login is stable from one run to the next, so repeating a run adds a run
to the same journal instead of asking for a new one; the period is not part of it (a replay of
other days of the same files is the same recorded market).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Iterable
from pathlib import Path

from mt5bridge.sim.config import SimConfig

__all__ = ["SERVERS", "demo_account", "market_account", "market_key"]

#: The simulated broker's server per kind of market.
SERVERS = {"demo": "FxCluster-Demo", "replay": "FxCluster-Replay",
           "backtest": "FxCluster-Backtest"}
#: The login of the demo market of seed 0 (``SimConfig``'s default).
_DEMO_LOGIN = SimConfig.login
#: Seeds below this map to ``_DEMO_LOGIN + seed``; larger ones to a hash (logins stay < 2**63).
_DIRECT_SEEDS = 10**9
#: Hashed logins: eight digits.
_HASHED_BASE, _HASHED_SPAN = 10_000_000, 90_000_000


def _hashed_login(text: str) -> int:
    return _HASHED_BASE + zlib.crc32(text.encode("utf-8")) % _HASHED_SPAN


def demo_account(seed: int, base: SimConfig | None = None) -> SimConfig:
    """``base`` (default: the default broker) as the demo account of market seed ``seed``."""
    login = _DEMO_LOGIN + seed if 0 <= seed < _DIRECT_SEEDS else _hashed_login(f"seed {seed}")
    return dataclasses.replace(base or SimConfig(), server=SERVERS["demo"], login=login)


def market_key(paths: Iterable[Path | str] = (), store: Path | str | None = None,
               seed: int | None = None) -> str:
    """What a recorded (or synthetic) market is: its store, its files, or its seed."""
    if store is not None:
        return f"store {Path(store).resolve()}"
    files = sorted(str(Path(p).resolve()) for p in paths)
    if files:
        return "files " + "|".join(files)
    return f"synthetic seed {seed or 0}"


def market_account(kind: str, key: str, base: SimConfig | None = None) -> SimConfig:
    """``base`` as the ``kind`` (replay, backtest) account of the market ``key``."""
    if kind not in SERVERS:
        raise ValueError(f"unknown kind of simulated market {kind!r}: one of {sorted(SERVERS)}")
    return dataclasses.replace(base or SimConfig(), server=SERVERS[kind],
                               login=_hashed_login(f"{kind} {key}"))
