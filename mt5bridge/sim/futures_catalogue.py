"""Finding the simulated broker's futures CFDs: by name, by cash symbol, by time.

The broker's listed catalogue is ``symbols.FUTURES_SPECS`` (the quarterly contracts of
2019 and early 2020 on ``SPXUSD``, ``NSXUSD``, ``BCOUSD`` and ``XAUUSD``).  The same rules
give a contract of any other year by its name (``futures_spec("XAUUSD_H24")``), so a
synthetic market in 2024 or a recording of another year finds its contract's expiry and
underlying without a file beside it.

Public names (stable):

- ``futures_spec(name)``: the ``SymbolSpec`` of a contract name, or None;
- ``contracts_of(cash, from_msc, to_msc)``: the quarterly contracts of a cash symbol that
  trade at some time in [from, to), by expiry;
- ``front_contract(cash, t_msc)`` / ``next_contract(cash, t_msc)``: the quarterly contract
  with the nearest expiry still trading at ``t_msc`` and the one after it (what a roll goes
  to); a contract close-only at ``t_msc`` still counts as the front.
"""

from __future__ import annotations

from datetime import UTC, datetime

from mt5bridge.sim.futures import (
    EXPIRY_RULES,
    QUARTERLY_CODES,
    contract_spec,
    parse_contract,
)
from mt5bridge.sim.symbols import BROKER_SPECS, FUTURES_SPECS, SymbolSpec

__all__ = ["contracts_of", "front_contract", "futures_spec", "next_contract"]


def futures_spec(name: str) -> SymbolSpec | None:
    """The contract ``name`` (``SPXUSD_Z19``): the broker's listed spec, else the same
    family's rules for that month; None for a name that is no futures CFD here."""
    listed = FUTURES_SPECS.get(name)
    if listed is not None:
        return listed
    parsed = parse_contract(name)
    if parsed is None or parsed[0] not in EXPIRY_RULES:
        return None
    cash, year, month = parsed
    return contract_spec(BROKER_SPECS[cash], year, month)


def _quarterly(cash: str, year: int) -> list[SymbolSpec]:
    out = []
    for code in QUARTERLY_CODES:
        spec = futures_spec(f"{cash}_{code}{year % 100:02d}")
        assert spec is not None
        out.append(spec)
    return out


def _year(t_msc: int) -> int:
    return datetime.fromtimestamp(t_msc / 1000, tz=UTC).year


def contracts_of(cash: str, from_msc: int, to_msc: int) -> list[SymbolSpec]:
    """The quarterly contracts of ``cash`` trading at some time in [from, to), by expiry
    (none for a cash symbol without futures)."""
    if cash not in EXPIRY_RULES or to_msc <= from_msc:
        return []
    specs = [s for year in range(_year(from_msc) - 1, _year(to_msc) + 2)
             for s in _quarterly(cash, year)]
    return [s for s in specs
            if s.start_time * 1000 < to_msc and s.expiration_time * 1000 > from_msc]


def _live(cash: str, t_msc: int) -> list[SymbolSpec]:
    return contracts_of(cash, t_msc, t_msc + 1)


def front_contract(cash: str, t_msc: int) -> SymbolSpec | None:
    """The live quarterly contract of ``cash`` nearest to expiry at UTC ``t_msc``."""
    live = _live(cash, t_msc)
    return live[0] if live else None


def next_contract(cash: str, t_msc: int) -> SymbolSpec | None:
    """The live quarterly contract after the front one at ``t_msc`` (the roll's target)."""
    live = _live(cash, t_msc)
    return live[1] if len(live) > 1 else None
