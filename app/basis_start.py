"""Starting a basis cluster: its contract, expiry and costs from the broker, and the
break-even check of its entry threshold.

A ``basis`` cluster (``engine.kinds.basis``) needs what only the terminal knows: which
futures CFD is the front contract on its cash symbol (``symbols = [cash, "auto"]``: the
unexpired contract, not yet inside ``close_days``, with the nearest ``expiration_time``
among those whose ``symbol_info().basis`` is the cash symbol), its expiry, the two legs'
spreads and swaps, the next contract (the roll's target).  This module reads them once
when the engine is built (every mode: live, demo, replay, backtest) into
``BasisParams.market``, and refuses the start when a cluster's entry threshold E is not
above the round trip's break-even: a cluster that would pay more on every trade than the
move it trades is a configuration error, said in one line with the figures (the article's
"chasing small dislocations" mistake), not a lock found later in a journal.  The
per-bar ``BREAK_EVEN`` lock still guards a price or a threshold that moves later.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from engine.cluster import ClusterSpec
from engine.config import EngineConfig
from engine.errors import UserError
from engine.kinds.basis import threshold_refusal
from engine.kinds.basis_params import AUTO, BasisMarket
from mt5bridge import constants as c
from mt5bridge.live import TerminalConnectionError

#: A year of days in each swap mode's convention: MT5's interest modes charge an annual
#: percentage on a 360-day year; a swap in points is a day's charge, 365 days a year.
_INTEREST_MODES = (c.SYMBOL_SWAP_MODE_INTEREST_CURRENT, c.SYMBOL_SWAP_MODE_INTEREST_OPEN)


def swap_fraction_per_day(info: Any, price: float) -> tuple[float, float]:
    """(long, short) swap per day as a fraction of the position's notional (MT5's sign:
    negative is paid) from ``symbol_info``; modes other than points and interest are
    charged in money the notional does not say: they count as 0 (the module says so in
    the start log)."""
    mode = int(getattr(info, "swap_mode", c.SYMBOL_SWAP_MODE_DISABLED))
    long_, short = float(info.swap_long), float(info.swap_short)
    if mode == c.SYMBOL_SWAP_MODE_POINTS and price > 0:
        return long_ * float(info.point) / price, short * float(info.point) / price
    if mode in _INTEREST_MODES:
        return long_ / 100.0 / 360.0, short / 100.0 / 360.0
    return 0.0, 0.0


def implied_carry(info: Any, price: float) -> float:
    """The annual carry the cash CFD's swaps imply: the mid of what a short earns and a
    long pays per day (the broker's markup cancels), as a year's rate."""
    long_, short = swap_fraction_per_day(info, price)
    year = 360.0 if int(info.swap_mode) in _INTEREST_MODES else 365.0
    return (short - long_) / 2.0 * year


def _price(terminal: Any, info: Any) -> float:
    bid, ask = float(getattr(info, "bid", 0.0) or 0.0), float(getattr(info, "ask", 0.0) or 0.0)
    if bid > 0 and ask > 0:
        return (bid + ask) / 2.0
    tick = terminal.symbol_info_tick(info.name)
    if tick is not None and float(tick.bid) > 0 and float(tick.ask) > 0:
        return (float(tick.bid) + float(tick.ask)) / 2.0
    return 0.0


def _utc_s(terminal: Any, server_s: int) -> int:
    """MT5 states ``expiration_time`` in the broker's server time, as every datetime: the
    adapter's offset makes it UTC (0 stays 0: no expiry)."""
    convert = getattr(terminal, "utc_ms_from_server_s", None)
    if not server_s or convert is None:
        return server_s
    return int(convert(server_s)) // 1000


class Contract(NamedTuple):
    """A dated contract on the broker's list: its name as the engine names it (a live
    terminal's suffix taken off) and its ``expiration_time`` (server time)."""

    name: str
    expiration_time: int


def contracts_on(terminal: Any, cash: str) -> list[Contract]:
    """The dated contracts whose ``basis`` is ``cash``, nearest expiry first.  The broker's
    list names both with its own suffix (``XAUUSD_H24.a`` on ``XAUUSD.a``): a live
    terminal's ``canonical_name`` takes it off."""
    canonical = getattr(terminal, "canonical_name", None) or str
    found = [Contract(canonical(str(s.name)), int(s.expiration_time))
             for s in terminal.symbols_get() or ()
             if canonical(str(getattr(s, "basis", ""))) == cash
             and int(getattr(s, "expiration_time", 0))]
    return sorted(found, key=lambda s: s.expiration_time)


def _addressable(terminal: Any, *symbols: str) -> None:
    """A live terminal maps and selects contracts found after it connected (the others
    know every name already)."""
    add = getattr(terminal, "add_symbols", None)
    if add is not None:
        try:
            add(symbols)
        except TerminalConnectionError as exc:
            raise UserError(str(exc)) from None


def _front(spec: ClusterSpec, terminal: Any, now_s: int) -> tuple[str, str]:
    """(the contract to trade, how it was chosen)."""
    cash, future = spec.symbols
    if future != AUTO:
        return future, f"{future} as configured"
    floor = now_s + spec.params.close_days * 86_400
    live = [s for s in contracts_on(terminal, cash)
            if _utc_s(terminal, int(s.expiration_time)) > floor]
    if not live:
        raise UserError(f"cluster {spec.name}: the broker lists no futures contract on {cash} "
                        f"that expires after close_days {spec.params.close_days:g}")
    return str(live[0].name), (f"{live[0].name}, the front contract on {cash} "
                               f"(symbols = [\"{cash}\", \"auto\"])")


def _market(spec: ClusterSpec, terminal: Any, future: str) -> BasisMarket:
    cash = spec.symbols[0]
    _addressable(terminal, future)
    cash_info, fut_info = terminal.symbol_info(cash), terminal.symbol_info(future)
    if cash_info is None or fut_info is None:
        raise UserError(f"cluster {spec.name}: the terminal does not know "
                        f"{cash if cash_info is None else future}")
    expiry = _utc_s(terminal, int(getattr(fut_info, "expiration_time", 0) or 0))
    if not expiry and not spec.params.expiry:
        raise UserError(f"cluster {spec.name}: {future} has no expiration_time; set expiry "
                        f"in its [cluster.basis] table")
    s, f = _price(terminal, cash_info), _price(terminal, fut_info)
    cash_long, cash_short = swap_fraction_per_day(cash_info, s)
    fut_long, fut_short = swap_fraction_per_day(fut_info, f)
    later = [x for x in contracts_on(terminal, cash)
             if _utc_s(terminal, int(x.expiration_time)) > max(expiry, spec.params.expiry_s)]
    nxt = _market(dataclasses.replace(spec, symbols=(cash, str(later[0].name)),
                                      params=dataclasses.replace(spec.params, expiry="")),
                  terminal, str(later[0].name)) if later else None
    return BasisMarket(
        future, expiry or spec.params.expiry_s,
        cash_spread=float(cash_info.spread) * float(cash_info.point),
        future_spread=float(fut_info.spread) * float(fut_info.point),
        swap_day_long=fut_long + cash_short, swap_day_short=fut_short + cash_long,
        carry_swap=implied_carry(cash_info, s) if s > 0 else 0.0, next_market=nxt)


def resolve_basis(config: EngineConfig, terminal: Any, now_s: int,
                  log: Callable[[str], None] = lambda _line: None) -> EngineConfig:
    """``config`` with every basis cluster's contract and broker figures filled in; a
    UserError (one line) when a contract cannot be found or E is not above break-even."""
    if not any(spec.kind == "basis" for spec in config.clusters):
        return config
    clusters = []
    for spec in config.clusters:
        if spec.kind != "basis":
            clusters.append(spec)
            continue
        future, how = _front(spec, terminal, now_s)
        market = _market(spec, terminal, future)
        params = dataclasses.replace(spec.params, market=market)
        resolved = dataclasses.replace(spec, symbols=(spec.symbols[0], future), params=params)
        _check_break_even(resolved, terminal)
        nxt = market.next_market.future if market.next_market else "none listed"
        expiry = datetime.fromtimestamp(params.expiry_s, UTC)
        log(f"basis {spec.name}: trades {how}, expiry {expiry:%Y-%m-%d %H:%M} UTC, next {nxt}")
        clusters.append(resolved)
    return dataclasses.replace(config, clusters=tuple(clusters))


def _check_break_even(spec: ClusterSpec, terminal: Any) -> None:
    cash = _price(terminal, terminal.symbol_info(spec.symbols[0]))
    future = _price(terminal, terminal.symbol_info(spec.symbols[1]))
    if cash <= 0 or future <= 0:
        return  # no quote yet: the per-bar BREAK_EVEN lock guards the first bars
    refusal = threshold_refusal(spec.name, spec.entry, spec.params, cash, future)
    if refusal:
        raise UserError(f"{refusal}; raise entry above it or trade a cheaper contract")


def simulated_futures(config: EngineConfig, from_msc: int, to_msc: int) -> tuple[str, ...]:
    """The simulated broker's contracts a synthetic market must quote for the config's
    basis clusters over [from, to): every quarterly contract on each basis cluster's cash
    symbol that trades in the period (the front one, and the next ones a roll goes to),
    plus any contract a cluster names.  Empty without basis clusters: such a market is
    generated exactly as before."""
    from mt5bridge.sim.futures_catalogue import contracts_of, futures_spec

    names: dict[str, None] = {}
    for spec in config.clusters:
        if spec.kind != "basis":
            continue
        cash, future = spec.symbols
        if future != AUTO and futures_spec(future) is not None:
            names.setdefault(future, None)
        for contract in contracts_of(cash, from_msc, to_msc):
            names.setdefault(contract.name, None)
    return tuple(names)


def without_auto(symbols: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``symbols`` less the ``"auto"`` placeholder of a basis cluster's future (resolved by
    the terminal at start, not a symbol a market feeds)."""
    return tuple(s for s in symbols if s != AUTO)
