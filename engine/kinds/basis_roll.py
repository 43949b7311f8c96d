"""The roll: a basis cluster moves from its expiring contract to the next one.

A roll is an explicit action, never a silent change of symbol: the trader's
``RollContract`` command (the console's Roll button), or the engine's own when the
cluster's ``[cluster.basis]`` says ``roll = true`` and the contract entered its
close-before-expiry window.  Either way it goes through the command queue, so the journal
holds the command with its result, and the orders it sends (the open basket closed with
``EX``) as every exit's.  Then the cluster's signal is rebuilt on ``[cash, next]`` with the
next contract's broker figures (``BasisMarket.next_market``, read at start), so its
diagnostics, the console and every later basket are the new contract's.  The rebuilt
signal warms up as any cluster does (the basket ATR's bars) before it opens a basket.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from engine.kinds.base import KindPoint
from engine.model import ExitCode

#: (done, message): a command's answer (``engine.manual.Outcome``).
Outcome = tuple[bool, str]


def roll_target(spec: Any) -> tuple[str, Any] | str:
    """(the next contract, the spec that trades it), or why the cluster cannot roll."""
    if spec.kind != "basis":
        return f"{spec.name} is a {spec.kind} cluster: only a basis cluster rolls"
    market = spec.params.market
    nxt = market.next_market if market is not None else None
    if nxt is None:
        return (f"{spec.name}: the broker lists no contract after "
                f"{spec.symbols[1]} on {spec.symbols[0]}")
    params = dataclasses.replace(spec.params, market=nxt, expiry="")
    return nxt.future, dataclasses.replace(spec, symbols=(spec.symbols[0], nxt.future),
                                           params=params)


def roll_cluster(host: Any, cluster: str, who: str) -> Outcome:
    """Close the cluster's basket (EX) and move it to the next contract (module docstring).

    ``host`` is the engine (``close_basket``, ``baskets``, ``replace_cluster``)."""
    sig = host.signals[cluster]
    target = roll_target(sig.spec)
    if isinstance(target, str):
        return False, target
    future, spec = target
    old = sig.spec.symbols[1]
    if future not in host.market.index:  # a replay of files without the next contract
        return False, f"{cluster}: the market has no data for {future}; the roll needs it"
    if cluster in host.baskets:
        done = host.close_basket(cluster, ExitCode.EX, math.nan,
                                 f"roll from {old} to {future} by {who}")
        if not done:
            return False, (f"{cluster}: closing the {old} basket is pending (a leg failed); "
                           f"the roll waits for it")
    host.replace_cluster(spec)
    host.log("INFO", f"{cluster} rolled from {old} to {future} by {who}")
    return True, f"{cluster} rolled from {old} to {future}"


def auto_roll_due(sig: Any, point: KindPoint, has_basket: bool) -> bool:
    """The engine rolls by itself: ``roll = true``, the contract is inside its
    close-before-expiry window, no basket is open any more (its EX closed it first) and a
    next contract is listed."""
    params = sig.spec.params
    if sig.spec.kind != "basis" or not params.roll or has_basket:
        return False
    market = params.market
    return (point.lock_code == "EXPIRY" and market is not None
            and market.next_market is not None)


#: MT5's ``SYMBOL_TRADE_MODE_*`` as the console names them.
TRADE_MODE_NAMES = {0: "disabled", 1: "long only", 2: "short only", 3: "close only",
                    4: "full"}


def note_trade_mode(terminal: Any, sig: Any, modes: dict[str, str]) -> None:
    """Record the broker's trade mode of a basis cluster's contract, as read on the
    engine's thread at each of its bars (the console's Basis panel reads the copy)."""
    if sig.spec.kind != "basis":
        return
    future = sig.spec.symbols[1]
    info = terminal.symbol_info(future)
    mode = int(getattr(info, "trade_mode", -1)) if info is not None else -1
    modes[future] = TRADE_MODE_NAMES.get(mode, "unknown")

