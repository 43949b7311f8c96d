"""Connecting as a live session does, and finding out which symbols stopped it.

``LiveTerminal.connect`` is the live path's own door: login, the broker's suffix, Market
Watch, the server clock.  It refuses the whole connection when one configured symbol is
missing, which is right for trading and wrong for a rehearsal that should name every
problem at once: so when the first attempt fails, the check logs in without symbols, reads
the broker's list, names the missing ones and connects again with the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from mt5bridge.live import LiveConfig, LiveTerminal, TerminalConnectionError
from mt5bridge.servertime import ServerTimeZone

__all__ = ["Connection", "connect", "terminal_clock"]

log = logging.getLogger(__name__)

#: How many characters a broker's suffix may add to a symbol's name (the adapter's rule).
_MAX_SUFFIX = 4


@dataclass
class Connection:
    """The connected adapter (None when even the login failed), the symbols the broker
    lacks, and the refusal the live path gave (``""`` when it connected at once)."""

    adapter: LiveTerminal | None
    missing: tuple[str, ...] = ()
    refusal: str = ""


def terminal_clock(module: Any) -> tuple[Callable[[], float], str]:
    """What "now" is for this terminal, and how to say so.

    A simulated terminal (in this process or served by another) keeps its own virtual
    clock, which its ticks follow; a real terminal's ticks follow the wall clock.  Asking a
    served real module for the simulator's clock is refused, by whatever error the link
    raises, so any failure here means: a real terminal, this machine's clock.
    """
    try:
        probe = getattr(module, "sim_now_msc", None)
        if callable(probe):
            probe()
            return (lambda: probe() / 1000), "the simulated terminal's clock"
    except Exception:  # a real module behind a link: no virtual clock to read
        log.debug("no simulated clock behind the terminal: using this machine's")
    return time.time, "this machine's clock"


def format_utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _adapter(module: Any, config: LiveConfig, clock: Callable[[], float]) -> LiveTerminal:
    return LiveTerminal(module=module, config=config, utc_now=clock)


def connect(module: Any, config: LiveConfig, clock: Callable[[], float]) -> Connection:
    """Connect with every configured symbol; failing that, with those the broker has."""
    try:
        adapter = _adapter(module, config, clock)
        adapter.connect()
        return Connection(adapter)
    except TerminalConnectionError as exc:
        refusal = str(exc)
    try:  # only to list the broker's symbols: its clock is not read (no symbol to read it by)
        probe = _adapter(module, replace(config, symbols=(), server_tz=ServerTimeZone()), clock)
        probe.connect()
    except TerminalConnectionError as exc:
        return Connection(None, refusal=str(exc))
    offered = {str(s.name) for s in probe.symbols_get() or ()}
    probe.close()
    missing = tuple(s for s in config.symbols if not _offered(s, offered))
    if not missing:  # something else stopped it (an ambiguous suffix, Market Watch)
        return Connection(None, refusal=refusal)
    present = tuple(s for s in config.symbols if s not in missing)
    try:
        adapter = _adapter(module, replace(config, symbols=present), clock)
        adapter.connect()
    except TerminalConnectionError as exc:
        return Connection(None, missing, str(exc))
    return Connection(adapter, missing, refusal)


def _offered(symbol: str, offered: set[str]) -> bool:
    return symbol in offered or any(
        n.startswith(symbol) and 0 < len(n) - len(symbol) <= _MAX_SUFFIX for n in offered)
